//! What an administrator looks over: the organisation tree within their
//! scope, and the audit log with its chain verified.

use model::OrgUnitId;
use store::AuditEntry;

use super::{AdminError, Administrator};
use crate::Identity;
use crate::lifecycle::{Action, audit};

/// A unit of the organisation tree, in tree order.
#[derive(Debug, Clone)]
pub struct UnitRow {
    pub id: OrgUnitId,
    pub name: String,
    pub kind: &'static str,
    pub uai: Option<String>,
    /// Levels below the highest unit shown.
    pub depth: usize,
}

/// Which audit entries to show (empty: all). Matched as parts, case ignored.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: String,
    pub target: String,
}

/// The audit log as shown: the latest entries, and the whole chain's state.
#[derive(Debug, Clone)]
pub struct AuditView {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
    /// Rows in the log.
    pub total: usize,
    /// The rows that do not verify (empty: « chaîne vérifiée »).
    pub broken: Vec<audit::Broken>,
}

impl Identity {
    /// The units `who` may see, in tree order (each under its parent).
    pub async fn admin_units(&self, who: &Administrator) -> Result<Vec<UnitRow>, AdminError> {
        let units = &who.units;
        let visible = |id: OrgUnitId| who.may(Action::Read, Some(id));
        let mut out = Vec::new();
        // The highest visible units: visible, with a parent that is not.
        let mut stack: Vec<(OrgUnitId, usize)> = units
            .iter()
            .filter(|u| visible(u.id) && u.parent.is_none_or(|p| !visible(p)))
            .map(|u| (u.id, 0))
            .rev()
            .collect();
        while let Some((id, depth)) = stack.pop() {
            let Some(u) = who.unit(id) else { continue };
            if out.len() > units.len() {
                break;
            }
            out.push(UnitRow {
                id,
                name: u.name.clone(),
                kind: u.kind.as_str(),
                uai: u.uai.as_ref().map(ToString::to_string),
                depth,
            });
            let mut children: Vec<_> = units.iter().filter(|c| c.parent == Some(id)).collect();
            children.sort_by(|a, b| b.name.cmp(&a.name));
            stack.extend(children.into_iter().map(|c| (c.id, depth + 1)));
        }
        Ok(out)
    }

    /// The latest `limit` entries matching `filter`, and whether the whole
    /// chain verifies. Only for those who may read the audit (académie-wide).
    pub async fn admin_audit_log(
        &self,
        who: &Administrator,
        filter: &AuditFilter,
        limit: usize,
    ) -> Result<AuditView, AdminError> {
        who.check(Action::ReadAudit, None)?;
        let rows = self.store.audit_log().await?;
        let broken = audit::verify(&rows);
        let (actor, target) = (filter.actor.trim().to_lowercase(), filter.target.trim().to_lowercase());
        let total = rows.len();
        let entries = rows
            .into_iter()
            .rev()
            .filter(|e| actor.is_empty() || e.actor.to_lowercase().contains(&actor))
            .filter(|e| target.is_empty() || e.target.to_lowercase().contains(&target))
            .take(limit)
            .collect();
        Ok(AuditView { entries, total, broken })
    }
}
