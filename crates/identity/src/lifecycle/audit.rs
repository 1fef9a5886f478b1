//! The append-only audit log of administrative actions. Each row stores the
//! hash of the previous row and a BLAKE3 hash of its own content including
//! that link, so editing or deleting a row breaks the chain at that row and
//! [`verify`] names it. (Removing the newest rows leaves a valid, shorter
//! chain: export the last hash elsewhere to detect that too.)

use store::{AuditEntry, Store};

/// The hash of a row: its content and the previous row's hash.
pub fn seal(e: &AuditEntry) -> String {
    let content = serde_json::json!([e.prev_hash, e.at, e.actor, e.scope, e.action, e.target, e.detail]);
    blake3::hash(content.to_string().as_bytes()).to_hex().to_string()
}

/// A broken link of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub id: i64,
    pub reason: &'static str,
}

/// Checks the whole chain; returns every row that does not fit.
pub fn verify(rows: &[AuditEntry]) -> Vec<Broken> {
    let mut broken = Vec::new();
    let mut prev = String::new();
    for r in rows {
        if r.prev_hash != prev {
            broken
                .push(Broken {
                    id: r.id, reason: "lien rompu avec la ligne précédente (ligne supprimée ou modifiée)"
                });
        } else if seal(r) != r.hash {
            broken.push(Broken { id: r.id, reason: "contenu modifié" });
        }
        prev = r.hash.clone();
    }
    broken
}

/// Appends one action to the log.
pub async fn record(
    store: &Store,
    actor: &str,
    scope: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> store::Result<i64> {
    let entry = AuditEntry {
        actor: actor.into(),
        scope: scope.into(),
        action: action.into(),
        target: target.into(),
        detail: detail.into(),
        ..AuditEntry::default()
    };
    store.append_audit(entry, seal).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut rows: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let mut e = AuditEntry {
                id: i as i64 + 1,
                at: 1000 + i as i64,
                actor: "admin@ac-demo.fr".into(),
                action: "account.suspend".into(),
                target: format!("u{i}@ac-demo.fr"),
                ..AuditEntry::default()
            };
            e.prev_hash = rows.last().map(|r| r.hash.clone()).unwrap_or_default();
            e.hash = seal(&e);
            rows.push(e);
        }
        rows
    }

    #[test]
    fn edits_and_deletions_are_found() {
        let rows = chain(5);
        assert!(verify(&rows).is_empty());
        let mut edited = rows.clone();
        edited[2].target = "autre@ac-demo.fr".into();
        assert_eq!(verify(&edited), [Broken { id: 3, reason: "contenu modifié" }]);
        let mut deleted = rows.clone();
        deleted.remove(1);
        assert_eq!(verify(&deleted).iter().map(|b| b.id).collect::<Vec<_>>(), [3]);
        let mut resealed = rows;
        resealed[1].detail = "x".into();
        resealed[1].hash = seal(&resealed[1]);
        assert_eq!(verify(&resealed).iter().map(|b| b.id).collect::<Vec<_>>(), [3]);
    }
}
