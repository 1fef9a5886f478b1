//! The diff between the HR file and the store: who is created, updated,
//! renamed, moved to another académie, suspended, reactivated or closed.
//! Pure: no I/O, so `--dry-run` prints exactly what a real run applies.
//!
//! A move to another académie (the HR file of the new académie places the
//! agent in one of its units) keeps the account, its mail, calendars and
//! contacts: only the unit changes, and when the address is on another
//! domain than the sync's, a new address in that domain becomes primary and
//! the old one stays an alias for `transfer_alias_secs`.
//!
//! Account statuses follow HR statuses only when the HR status changes, so
//! an account suspended by an administrator stays suspended while HR keeps
//! saying "actif", and a second run with the same file changes nothing.

use std::collections::HashMap;
use std::fmt;

use model::{AccountId, AccountStatus, Address, OrgUnitId, Role};
use store::{HrAccountUpdate, HrBatch, HrNewPerson, HrRecord, Person};

use super::format::{HrRow, HrStatus, LineError, unix_day};
use super::names::Names;
use super::numen::NumenKey;

/// What the plan needs to know besides the rows and the store's people.
pub struct Context<'a> {
    pub domain: &'a str,
    /// Organisational units by UAI.
    pub units: &'a HashMap<String, OrgUnitId>,
    /// Where people without a UAI go: the file's académie; `None` when the
    /// tree has none (they stay outside every unit).
    pub root_unit: Option<OrgUnitId>,
    /// The tree has several académies and the file's UAIs do not name one:
    /// a row without a UAI cannot be placed (rather than in another académie).
    pub root_unknown: bool,
    pub now: i64,
    /// Time between a departure and the closing of the account.
    pub retention_secs: i64,
    pub quota_bytes: Option<i64>,
    /// The académie above each unit that has one.
    pub academies: &'a HashMap<OrgUnitId, OrgUnitId>,
    /// How long the address in the académie left still delivers.
    pub transfer_alias_secs: i64,
    /// The one académie an administrator syncs (`None`: every académie, the
    /// operator's and the national administrator's sync). A row placed in
    /// another académie is refused and skipped (the rest still applies), and
    /// the closing of departed people absent from the file stays within it.
    pub within: Option<OrgUnitId>,
}

/// The kind of one change, as printed and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Created,
    Renamed,
    /// Moved to another académie.
    Transferred,
    Updated,
    Suspended,
    Reactivated,
    Closed,
}

impl ChangeKind {
    /// French label, as printed.
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::Created => "créé",
            ChangeKind::Renamed => "renommé",
            ChangeKind::Transferred => "muté",
            ChangeKind::Updated => "modifié",
            ChangeKind::Suspended => "suspendu",
            ChangeKind::Reactivated => "réactivé",
            ChangeKind::Closed => "fermé",
        }
    }
}

/// One line of the diff. Never holds a NUMEN.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// The line of the HR file, 0 when the change comes from the retention period alone.
    pub line: usize,
    pub address: String,
    pub detail: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<11} {}", self.kind.label(), self.address)?;
        if !self.detail.is_empty() {
            write!(f, "  ({})", self.detail)?;
        }
        Ok(())
    }
}

/// The diff and what to write. `numens` lists, in the order of
/// `batch.new`, the provisional passwords still to hash.
pub struct Plan {
    pub changes: Vec<Change>,
    pub batch: HrBatch,
    pub numens: Vec<String>,
    /// Accounts that become suspended or closed (their sessions must end).
    pub revoked: Vec<AccountId>,
    /// Rows outside the administrator's académie ([`Context::within`]),
    /// skipped, with the reason.
    pub refused: Vec<LineError>,
}

/// Computes the diff of `rows` against the people in the store.
pub fn plan(
    rows: &[HrRow],
    key: &NumenKey,
    people: Vec<Person>,
    names: &mut Names,
    ctx: &Context<'_>,
) -> Result<Plan, Vec<LineError>> {
    let mut known: HashMap<String, Person> = people.into_iter().map(|p| (p.record.numen_hash.clone(), p)).collect();
    let mut plan = Plan {
        changes: Vec::new(),
        batch: HrBatch::default(),
        numens: Vec::new(),
        revoked: Vec::new(),
        refused: Vec::new(),
    };
    let academie = |u: Option<OrgUnitId>| u.and_then(|u| ctx.academies.get(&u).copied());
    let mut errors = Vec::new();
    for row in rows {
        let unit = match &row.uai {
            None if ctx.root_unknown => {
                errors.push(LineError::new(
                    row.line,
                    Some("uai"),
                    "UAI manquant : l'annuaire a plusieurs académies et les UAI du fichier n'en désignent pas \
                     une seule / missing UAI: several académies, and the file's UAIs do not name one",
                ));
                continue;
            }
            None => ctx.root_unit,
            Some(uai) => match ctx.units.get(uai.as_str()) {
                Some(id) => Some(*id),
                None => {
                    errors.push(LineError::new(row.line, Some("uai"), format!("UAI {uai} inconnu de l'annuaire")));
                    continue;
                }
            },
        };
        if let Some(within) = ctx.within
            && academie(unit) != Some(within)
        {
            plan.refused.push(LineError::new(
                row.line,
                Some("uai"),
                "hors de votre académie : ligne ignorée / outside your académie: row skipped",
            ));
            continue;
        }
        let hash = key.hash(&row.numen);
        match known.remove(&hash) {
            Some(person) => update(&mut plan, row, hash, person, unit, names, ctx),
            None => create(&mut plan, row, hash, unit, names, ctx),
        }
    }
    // People absent from the file keep their state, but a departure still
    // closes the account once the retention period is over.
    for person in known.into_values() {
        if let Some(left) = person.record.departed_at
            && left + ctx.retention_secs <= ctx.now
            && person.status != AccountStatus::Closed
            && ctx.within.is_none_or(|w| academie(person.org_unit) == Some(w))
        {
            let mut update = account_update(&person);
            update.status = AccountStatus::Closed;
            plan.changes.push(Change {
                kind: ChangeKind::Closed,
                line: 0,
                address: person.address.clone(),
                detail: "fin de la période de conservation".into(),
            });
            plan.revoked.push(person.account_id);
            plan.batch.accounts.push(update);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    plan.changes.sort_by(|a, b| (a.kind, a.line, &a.address).cmp(&(b.kind, b.line, &b.address)));
    Ok(plan)
}

fn record(row: &HrRow, hash: String, departed_at: Option<i64>, prior: Option<AccountStatus>) -> HrRecord {
    HrRecord {
        numen_hash: hash,
        civilite: row.civilite.clone(),
        nom: row.nom.clone(),
        prenom: row.prenom.clone(),
        hr_role: role_text(row.role).to_owned(),
        hr_status: row.statut.as_str().to_owned(),
        uai: row.uai.as_ref().map(|u| u.as_str().to_owned()),
        secondary_address: row.adresse_secondaire.as_ref().map(ToString::to_string),
        effective_date: row.date_effet.clone(),
        departed_at,
        prior_status: prior.map(|s| s.as_str().to_owned()),
    }
}

fn role_text(role: Role) -> &'static str {
    role.as_str()
}

fn display_name(row: &HrRow) -> String {
    format!("{} {}", row.prenom, row.nom)
}

fn departure(row: &HrRow, ctx: &Context<'_>) -> i64 {
    row.date_effet.as_deref().and_then(unix_day).unwrap_or(ctx.now)
}

fn create(plan: &mut Plan, row: &HrRow, hash: String, unit: Option<OrgUnitId>, names: &mut Names, ctx: &Context<'_>) {
    if row.statut == HrStatus::Parti {
        return; // Nobody opens an account for a person who has left.
    }
    let address = names.address(&row.prenom, &row.nom, None);
    let login = names.login(&row.prenom, &row.nom);
    let (status, prior) = match row.statut {
        HrStatus::Suspendu => (AccountStatus::Suspended, Some(AccountStatus::Provisional)),
        _ => (AccountStatus::Provisional, None),
    };
    let Ok(parsed) = Address::parse(&address) else { return };
    plan.changes.push(Change {
        kind: ChangeKind::Created,
        line: row.line,
        address: address.clone(),
        detail: format!(
            "{}, {}, identifiant {login}{}",
            row.role,
            row.uai.as_ref().map_or("académie", |u| u.as_str()),
            if status == AccountStatus::Suspended { ", suspendu" } else { "" }
        ),
    });
    plan.numens.push(row.numen.clone());
    plan.batch.new.push(HrNewPerson {
        record: record(row, hash, None, prior),
        address: parsed,
        login,
        display_name: display_name(row),
        role: row.role,
        status,
        org_unit: unit,
        quota_bytes: ctx.quota_bytes,
        password_hash: None,
    });
}

fn account_update(p: &Person) -> HrAccountUpdate {
    HrAccountUpdate {
        account_id: p.account_id,
        address: p.address.clone(),
        login: p.login.clone(),
        display_name: p.display_name.clone(),
        role: p.role,
        status: p.status,
        org_unit: p.org_unit,
        old_address: None,
        old_address_until: None,
    }
}

fn update(
    plan: &mut Plan,
    row: &HrRow,
    hash: String,
    person: Person,
    unit: Option<OrgUnitId>,
    names: &mut Names,
    ctx: &Context<'_>,
) {
    let old = &person.record;
    let mut acc = account_update(&person);
    let mut departed_at = old.departed_at;
    let mut prior = old.prior_status.as_deref().and_then(|s| s.parse::<AccountStatus>().ok());
    let was = HrStatus::parse(&old.hr_status).unwrap_or(HrStatus::Actif);
    let line = row.line;
    let mut push = |kind, address: &str, detail: String| {
        plan.changes.push(Change { kind, line, address: address.to_owned(), detail });
    };

    // Another académie: the same account, in the new unit; its address
    // moves to the sync's domain when it is on another, the old one kept a while.
    let academie = |u: Option<OrgUnitId>| u.and_then(|u| ctx.academies.get(&u).copied());
    let moved =
        academie(person.org_unit).is_some() && academie(unit).is_some() && academie(person.org_unit) != academie(unit);
    let elsewhere = !person.address.rsplit_once('@').is_some_and(|(_, d)| d.eq_ignore_ascii_case(ctx.domain));
    if moved {
        let mut detail = "nouvelle académie".to_owned();
        if elsewhere {
            let address = names.address(&row.prenom, &row.nom, Some(person.account_id));
            let days = ctx.transfer_alias_secs / 86_400;
            detail = format!("nouvelle académie, ancienne adresse {} gardée en alias {days} jours", person.address);
            acc.old_address = Some(person.address.clone());
            acc.old_address_until = Some(ctx.now + ctx.transfer_alias_secs);
            acc.address = address;
        }
        push(ChangeKind::Transferred, &acc.address.clone(), detail);
    }
    // Name: a new address when the transliterated name changes, the old one kept as an alias.
    if acc.old_address.is_none() && Names::base(&row.prenom, &row.nom) != Names::base(&old.prenom, &old.nom) {
        let address = names.address(&row.prenom, &row.nom, Some(person.account_id));
        push(ChangeKind::Renamed, &address, format!("ancienne adresse {} gardée en alias", person.address));
        acc.old_address = Some(person.address.clone());
        acc.address = address;
    }
    acc.display_name = display_name(row);
    acc.role = row.role;
    acc.org_unit = unit;
    let mut fields = Vec::new();
    if old.civilite != row.civilite {
        fields.push("civilité");
    }
    if acc.old_address.is_none() && (old.nom != row.nom || old.prenom != row.prenom) {
        fields.push("nom");
    }
    if old.hr_role != role_text(row.role) {
        fields.push("rôle");
    }
    if !moved && (old.uai.as_deref() != row.uai.as_ref().map(|u| u.as_str()) || person.org_unit != unit) {
        fields.push("établissement");
    }
    if old.secondary_address != row.adresse_secondaire.as_ref().map(ToString::to_string) {
        fields.push("adresse secondaire");
    }
    if old.effective_date != row.date_effet {
        fields.push("date d'effet");
    }

    // Status: follows HR only when the HR status changes.
    let revocable = |s: AccountStatus| matches!(s, AccountStatus::Active | AccountStatus::Provisional);
    if row.statut != was {
        match row.statut {
            HrStatus::Actif => {
                departed_at = None;
                if !revocable(person.status) {
                    acc.status = prior.take().unwrap_or(AccountStatus::Active);
                    push(ChangeKind::Reactivated, &acc.address, format!("statut RH {} -> actif", was.as_str()));
                }
            }
            HrStatus::Suspendu | HrStatus::Parti => {
                if row.statut == HrStatus::Parti {
                    departed_at = Some(departure(row, ctx));
                } else {
                    departed_at = None;
                }
                if revocable(person.status) {
                    prior = Some(person.status);
                    acc.status = AccountStatus::Suspended;
                    plan.revoked.push(person.account_id);
                    push(
                        ChangeKind::Suspended,
                        &acc.address,
                        format!("statut RH {} -> {}", was.as_str(), row.statut.as_str()),
                    );
                }
            }
        }
    }
    if let Some(left) = departed_at
        && left + ctx.retention_secs <= ctx.now
        && acc.status != AccountStatus::Closed
    {
        acc.status = AccountStatus::Closed;
        if !plan.revoked.contains(&person.account_id) {
            plan.revoked.push(person.account_id);
        }
        push(ChangeKind::Closed, &acc.address, "fin de la période de conservation".into());
    }
    if !fields.is_empty() {
        push(ChangeKind::Updated, &acc.address, fields.join(", "));
    }

    let new_record = record(row, hash, departed_at, prior);
    if new_record != *old {
        plan.batch.people.push(new_record);
    }
    let unchanged = acc.old_address.is_none()
        && acc.display_name == person.display_name
        && acc.role == person.role
        && acc.status == person.status
        && acc.org_unit == person.org_unit;
    if !unchanged {
        plan.batch.accounts.push(acc);
    }
}
