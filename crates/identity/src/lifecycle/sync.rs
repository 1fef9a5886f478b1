//! Running a sync: read the file, compute the plan against the store, hash
//! the provisional passwords, apply everything in one transaction (with its
//! audit row), and tell the running servers which sessions to end (they
//! learn it from the store, see [`super::watcher`]).

use std::collections::HashMap;

use model::{Domain, OrgUnitId, OrgUnitKind};
use store::{AuditEntry, Store};

use super::audit;
use super::format::{self, LineError};
use super::names::Names;
use super::numen::{NumenKey, provisional_hashes};
use super::plan::{Change, ChangeKind, Context, plan};

/// How a sync runs.
pub struct SyncOptions {
    pub domain: Domain,
    /// Days between a departure and the closing of the account.
    pub retention_days: i64,
    /// Days the address of an agent moved to another académie still
    /// delivers, as an alias (see `plan`).
    pub transfer_alias_days: i64,
    pub quota_bytes: Option<i64>,
    pub dry_run: bool,
    /// Who runs it, for the audit log.
    pub actor: String,
    pub scope: String,
    /// The one académie synced (rows elsewhere refused, see
    /// `plan::Context::within`); `None`: every académie.
    pub within: Option<OrgUnitId>,
    /// The [`SyncReport::fingerprint`] of the dry run the administrator
    /// confirmed: when the plan computed now differs (the directory changed
    /// meanwhile), nothing is applied and [`SyncError::Changed`] carries the
    /// new diff to show again.
    pub expect: Option<String>,
}

/// The stages reported to a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Provisional passwords hashed so far, out of the total.
    Hashing,
    /// Writing to the store.
    Applying,
}

/// What a sync did (or, on a dry run, would do).
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub rows: usize,
    pub changes: Vec<Change>,
    /// Rows skipped because they lie outside the académie synced.
    pub refused: Vec<LineError>,
    pub applied: bool,
}

impl SyncReport {
    /// How many changes of each kind.
    pub fn counts(&self) -> Vec<(ChangeKind, usize)> {
        let mut counts: HashMap<ChangeKind, usize> = HashMap::new();
        for c in &self.changes {
            *counts.entry(c.kind).or_default() += 1;
        }
        let mut out: Vec<_> = counts.into_iter().collect();
        out.sort();
        out
    }

    /// The summary line: `3 créé(s), 1 suspendu(s)` or `aucun changement`,
    /// and the rows refused, if any.
    pub fn summary(&self) -> String {
        let mut out = if self.changes.is_empty() {
            "aucun changement / no change".to_owned()
        } else {
            self.counts().iter().map(|(k, n)| format!("{n} {}(s)", k.label())).collect::<Vec<_>>().join(", ")
        };
        if !self.refused.is_empty() {
            out.push_str(&format!(", {} ligne(s) refusée(s)", self.refused.len()));
        }
        out
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        let refused: Vec<String> = self.refused.iter().map(ToString::to_string).collect();
        let mut value = serde_json::json!({ "rows": self.rows, "applied": self.applied, "changes": self.changes });
        if !refused.is_empty() {
            value["refused"] = refused.into();
        }
        value.to_string()
    }

    /// What the diff is, as a short hash: a confirmation carries the
    /// fingerprint of the dry run it confirms ([`SyncOptions::expect`]).
    pub fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&self.rows.to_le_bytes());
        for c in &self.changes {
            for part in [c.kind.label(), &c.line.to_string(), &c.address, &c.detail] {
                h.update(part.as_bytes());
                h.update(b"\0");
            }
        }
        for r in &self.refused {
            h.update(r.to_string().as_bytes());
            h.update(b"\0");
        }
        h.finalize().to_hex()[..32].to_owned()
    }

    /// The report as CSV (`;` separated, like the HR file).
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(Vec::new());
        let _ = w.write_record(["changement", "ligne", "adresse", "detail"]);
        for c in &self.changes {
            let _ = w.write_record([c.kind.label(), &c.line.to_string(), &c.address, &c.detail]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

/// Why a sync did not apply.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{} erreur(s) dans le fichier ; rien n'a été appliqué", .0.len())]
    Lines(Vec<LineError>),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("hachage des mots de passe provisoires : {0}")]
    Hash(String),
    /// The plan is no longer the one confirmed ([`SyncOptions::expect`]):
    /// nothing applied; here is the new one.
    #[error("l'annuaire a changé depuis la simulation ; rien n'a été appliqué")]
    Changed(Box<SyncReport>),
}

impl model::ErrorKind for SyncError {
    fn transience(&self) -> model::Transience {
        match self {
            SyncError::Store(e) => e.transience(),
            SyncError::Lines(_) | SyncError::Hash(_) | SyncError::Changed(_) => model::Transience::Permanent,
        }
    }
}

/// Runs a sync of `file` (the bytes of the HR CSV).
pub async fn sync(
    store: &Store,
    key: &NumenKey,
    file: &[u8],
    opts: &SyncOptions,
    progress: &(dyn Fn(Stage, u64, u64) + Sync),
) -> Result<SyncReport, SyncError> {
    let rows = format::parse(file).map_err(SyncError::Lines)?;
    let units = store.list_org_units().await?;
    let by_uai: HashMap<String, i64> =
        units.iter().filter_map(|u| u.uai.as_ref().map(|uai| (uai.as_str().to_owned(), u.id))).collect();
    let academies = academies(&units);
    // An administrator's sync places rows without a UAI in their académie.
    let root = match opts.within {
        Some(academie) => Some(Some(academie)),
        None => file_academie(&rows, &units, &by_uai, &academies),
    };
    let people = store.hr_snapshot().await?;
    let (addresses, logins) = store.taken_names().await?;
    let mut names = Names::new(opts.domain.as_str(), addresses, logins);
    let ctx = Context {
        domain: opts.domain.as_str(),
        units: &by_uai,
        root_unit: root.unwrap_or(None),
        root_unknown: root.is_none(),
        now: now(),
        retention_secs: opts.retention_days.max(0) * 86_400,
        quota_bytes: opts.quota_bytes,
        academies: &academies,
        transfer_alias_secs: opts.transfer_alias_days.max(0) * 86_400,
        within: opts.within,
    };
    let mut plan = plan(&rows, key, people, &mut names, &ctx).map_err(SyncError::Lines)?;
    let mut report = SyncReport {
        rows: rows.len(),
        changes: std::mem::take(&mut plan.changes),
        refused: std::mem::take(&mut plan.refused),
        applied: false,
    };
    if !opts.dry_run
        && let Some(expected) = &opts.expect
        && *expected != report.fingerprint()
    {
        return Err(SyncError::Changed(Box::new(report)));
    }
    if opts.dry_run || report.changes.is_empty() {
        return Ok(report);
    }
    let total = plan.numens.len() as u64;
    let numens = std::mem::take(&mut plan.numens);
    let hash_all = || provisional_hashes(&numens, &|done| progress(Stage::Hashing, done, total));
    // Hashing takes seconds on every core: tell a multi-threaded runtime so
    // it moves other tasks away (a current-thread runtime just waits).
    let multi_threaded = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    let hashes = if multi_threaded { tokio::task::block_in_place(hash_all) } else { hash_all() };
    let hashes = hashes.map_err(SyncError::Hash)?;
    drop(numens);
    for (new, hash) in plan.batch.new.iter_mut().zip(hashes) {
        new.password_hash = Some(hash);
    }
    progress(Stage::Applying, 0, 1);
    let entry = AuditEntry {
        actor: opts.actor.clone(),
        scope: opts.scope.clone(),
        action: "directory.sync".into(),
        target: opts.domain.to_string(),
        detail: report.summary(),
        ..AuditEntry::default()
    };
    store.apply_hr_batch(&plan.batch, Some((entry, audit::seal))).await?;
    progress(Stage::Applying, 1, 1);
    report.applied = true;
    Ok(report)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Where the file's rows without a UAI go: the one académie of the tree;
/// with several, the one académie its UAIs lie in (an HR file is one
/// académie's). `Some(None)`: the tree has no académie (no unit for them);
/// `None`: several académies and the file names none or more than one.
fn file_academie(
    rows: &[format::HrRow],
    units: &[store::OrgUnit],
    by_uai: &HashMap<String, i64>,
    academies: &HashMap<i64, i64>,
) -> Option<Option<i64>> {
    let all: Vec<i64> = units.iter().filter(|u| u.kind == OrgUnitKind::Academie).map(|u| u.id).collect();
    if all.len() <= 1 {
        return Some(all.first().copied());
    }
    let named: std::collections::BTreeSet<i64> = rows
        .iter()
        .filter_map(|r| r.uai.as_ref())
        .filter_map(|uai| by_uai.get(uai.as_str()))
        .filter_map(|unit| academies.get(unit).copied())
        .collect();
    match named.len() {
        1 => named.first().map(|a| Some(*a)),
        _ => None,
    }
}

/// The académie above each unit that has one (a walk up the tree, at most
/// 64 levels, as the store's queries do).
fn academies(units: &[store::OrgUnit]) -> HashMap<i64, i64> {
    let by_id: HashMap<i64, &store::OrgUnit> = units.iter().map(|u| (u.id, u)).collect();
    let mut out = HashMap::new();
    for u in units {
        let mut at: Option<&store::OrgUnit> = Some(u);
        for _ in 0..64 {
            let Some(unit) = at else { break };
            if unit.kind == OrgUnitKind::Academie {
                out.insert(u.id, unit.id);
                break;
            }
            at = unit.parent.and_then(|p| by_id.get(&p).copied());
        }
    }
    out
}
