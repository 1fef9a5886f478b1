//! HR-linked people, administrative role grants and the audit log.
//!
//! The directory sync reads the whole picture in a few queries
//! ([`Store::hr_snapshot`], [`Store::taken_names`]) and applies its plan in
//! one transaction ([`Store::apply_hr_batch`]) made of multi-row statements,
//! so 50,000 people cost a few hundred statements, not 50,000 round trips.
//! A person is keyed by a keyed hash of the NUMEN computed by the caller;
//! the NUMEN itself never reaches this crate.

use std::collections::HashMap;

use model::{AccountId, AccountStatus, Address, OrgUnitId, Role, SpecialUse};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::error::{Error, Result};
use crate::{Store, now};

mod administrators;
mod governance;

pub use governance::{AuditEntry, RoleGrant, Seal};

/// Rows per multi-row statement (well under SQLite's 32,766 parameters).
const CHUNK: usize = 500;
/// The HR side of a person, as stored in `people`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HrRecord {
    pub numen_hash: String,
    pub civilite: String,
    pub nom: String,
    pub prenom: String,
    pub hr_role: String,
    pub hr_status: String,
    pub uai: Option<String>,
    pub secondary_address: Option<String>,
    pub effective_date: Option<String>,
    pub departed_at: Option<i64>,
    /// The account status to restore when an HR suspension ends.
    pub prior_status: Option<String>,
}

/// A person linked to an account: the HR record and the account's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub record: HrRecord,
    pub account_id: AccountId,
    pub address: String,
    pub login: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub status: AccountStatus,
    pub org_unit: Option<OrgUnitId>,
}

/// A person to create, with a new account and its special-use mailboxes.
#[derive(Debug, Clone)]
pub struct HrNewPerson {
    pub record: HrRecord,
    pub address: Address,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub status: AccountStatus,
    pub org_unit: Option<OrgUnitId>,
    pub quota_bytes: Option<i64>,
    pub password_hash: Option<String>,
}

/// New values for an existing account. A rename gives a new address and
/// keeps the old one as an alias.
#[derive(Debug, Clone)]
pub struct HrAccountUpdate {
    pub account_id: AccountId,
    pub address: String,
    pub login: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub status: AccountStatus,
    pub org_unit: Option<OrgUnitId>,
    /// Set on a rename: the previous address, kept as an alias.
    pub old_address: Option<String>,
    /// When that alias ends (unix seconds): a move to another académie's
    /// domain; `None` keeps it for good (a rename).
    pub old_address_until: Option<i64>,
}

/// Everything one sync run writes, applied in one transaction.
#[derive(Debug, Clone, Default)]
pub struct HrBatch {
    pub new: Vec<HrNewPerson>,
    pub accounts: Vec<HrAccountUpdate>,
    pub people: Vec<HrRecord>,
}

impl Store {
    /// Every HR-linked person with the state of their account.
    pub async fn hr_snapshot(&self) -> Result<Vec<Person>> {
        let rows = sqlx::query(
            "SELECT p.numen_hash, p.civilite, p.nom, p.prenom, p.hr_role, p.hr_status, p.uai, \
             p.secondary_address, p.effective_date, p.departed_at, p.prior_status, \
             a.id, a.address, a.login, a.display_name, a.role, a.status, a.org_unit_id \
             FROM people p JOIN accounts a ON a.id = p.account_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(person_from_row).collect()
    }

    /// Every address in use (accounts and aliases, with their owner; lists, owned
    /// by no account: id 0) and every login.
    pub async fn taken_names(&self) -> Result<(HashMap<String, AccountId>, Vec<String>)> {
        let rows = sqlx::query(
            "SELECT address, id FROM accounts UNION ALL SELECT address, account_id FROM aliases \
             UNION ALL SELECT address, CAST(0 AS BIGINT) FROM lists",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut addresses = HashMap::with_capacity(rows.len());
        for r in &rows {
            addresses.insert(r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?);
        }
        let logins: Vec<String> =
            sqlx::query_scalar("SELECT login FROM accounts WHERE login IS NOT NULL").fetch_all(&self.pool).await?;
        Ok((addresses, logins))
    }

    /// Applies a sync plan in one transaction, and appends `audit` (if any)
    /// to the audit log in the same transaction. Returns the new accounts' ids.
    pub async fn apply_hr_batch(&self, batch: &HrBatch, audit: Option<(AuditEntry, Seal)>) -> Result<Vec<AccountId>> {
        let mut tx = self.write_tx().await?;
        let at = now();
        // The batch's status changes share one number, taken first (schema 13).
        let seq = if batch.accounts.is_empty() { 0 } else { crate::credentials::next_status_seq(&mut tx).await? };
        let mut created = Vec::with_capacity(batch.new.len());
        for chunk in batch.new.chunks(CHUNK) {
            created.extend(insert_people(self, &mut tx, chunk, at).await?);
        }
        for chunk in batch.accounts.chunks(CHUNK) {
            update_accounts(&mut tx, chunk, at, seq).await?;
        }
        for chunk in batch.people.chunks(CHUNK) {
            update_records(&mut tx, chunk, at).await?;
        }
        if let Some((entry, seal)) = audit {
            self.append_audit_in(&mut tx, entry, seal).await?;
        }
        tx.commit().await?;
        Ok(created)
    }
}

impl Store {
    /// The number of the newest status change (schema 13). Every change with
    /// a number up to it is committed: the watcher starts from here.
    pub async fn status_sequence(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT seq FROM status_sequence WHERE id = 1").fetch_one(&self.pool).await?)
    }

    /// Accounts whose access was withdrawn by a status change numbered after
    /// `after`: suspended, closed, or sent back to provisional by a password
    /// reset (a new account, provisional from the start, is not one):
    /// `(account, status, number)`, oldest first.
    pub async fn revoked_after(&self, after: i64) -> Result<Vec<(AccountId, AccountStatus, i64)>> {
        let rows = sqlx::query(
            "SELECT a.id, a.status, a.status_seq FROM accounts a \
             LEFT JOIN credential_state c ON c.account_id = a.id \
             WHERE a.status_seq > $1 AND (a.status IN ('suspended', 'closed') \
             OR (a.status = 'provisional' AND c.password_changed_at >= a.status_changed_at)) \
             ORDER BY a.status_seq",
        )
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get(1)?;
                let status = status.parse().map_err(|e: String| Error::Corrupt(e))?;
                Ok((r.try_get(0)?, status, r.try_get(2)?))
            })
            .collect()
    }
}

fn person_from_row(r: &AnyRow) -> Result<Person> {
    let role: String = r.try_get(15)?;
    let status: String = r.try_get(16)?;
    Ok(Person {
        record: HrRecord {
            numen_hash: r.try_get(0)?,
            civilite: r.try_get(1)?,
            nom: r.try_get(2)?,
            prenom: r.try_get(3)?,
            hr_role: r.try_get(4)?,
            hr_status: r.try_get(5)?,
            uai: r.try_get(6)?,
            secondary_address: r.try_get(7)?,
            effective_date: r.try_get(8)?,
            departed_at: r.try_get(9)?,
            prior_status: r.try_get(10)?,
        },
        account_id: r.try_get(11)?,
        address: r.try_get(12)?,
        login: r.try_get(13)?,
        display_name: r.try_get(14)?,
        role: role.parse().map_err(|e: String| Error::Corrupt(e))?,
        status: status.parse().map_err(|e: String| Error::Corrupt(e))?,
        org_unit: r.try_get(17)?,
    })
}

/// `($s, $s+1, ...), (...)`: `rows` groups of `cols` numbered placeholders.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("${}", r * cols + c + 1));
        }
        out.push(')');
    }
    out
}

/// Inserts accounts, their mailboxes (and the change-log rows for them) and
/// their HR records. Returns the new account ids in input order.
async fn insert_people(
    store: &Store,
    tx: &mut AnyConnection,
    chunk: &[HrNewPerson],
    at: i64,
) -> Result<Vec<AccountId>> {
    let mut domains: Vec<&str> = chunk.iter().map(|p| p.address.domain().as_str()).collect();
    domains.sort_unstable();
    domains.dedup();
    for domain in domains {
        if !store.claim_domain(tx, domain).await? {
            return Err(Error::Invalid(format!("{domain} is not a local domain")));
        }
    }
    let sql = format!(
        "INSERT INTO accounts (address, domain, login, display_name, role, status, quota_bytes, used_bytes, \
         org_unit_id, password_hash, created_at, status_changed_at, uid_validity_floor) VALUES {} \
         RETURNING id, address",
        placeholders(chunk.len(), 13)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for p in chunk {
        q = q
            .bind(p.address.to_string())
            .bind(p.address.domain().as_str().to_owned())
            .bind(p.login.clone())
            .bind(p.display_name.clone())
            .bind(p.role.as_str())
            .bind(p.status.as_str())
            .bind(p.quota_bytes)
            .bind(0_i64)
            .bind(p.org_unit)
            .bind(p.password_hash.clone())
            .bind(at)
            .bind(at)
            .bind(at);
    }
    let rows = q.fetch_all(&mut *tx).await?;
    let mut ids = HashMap::with_capacity(rows.len());
    for r in &rows {
        ids.insert(r.try_get::<String, _>(1)?, r.try_get::<i64, _>(0)?);
    }
    let ordered: Vec<AccountId> = chunk
        .iter()
        .map(|p| ids.get(&p.address.to_string()).copied().ok_or(Error::NotFound("new account")))
        .collect::<Result<_>>()?;

    let id_list = ordered.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let folders = SpecialUse::ALL
        .iter()
        .map(|s| format!("('{}', '{}')", s.default_name().replace('\'', "''"), s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO mailboxes (account_id, parent_id, name, special_use, uid_validity, uid_next, \
         highest_modseq, created_at) \
         SELECT a.id, NULL, f.column1, f.column2, $1, 1, 1, $1 FROM accounts a CROSS JOIN (VALUES {folders}) f \
         WHERE a.id IN ({id_list})"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at).execute(&mut *tx).await?;
    // The default folders are subscribed, as clients that show subscribed
    // folders only (Thunderbird's default) must see them.
    let sql = format!(
        "INSERT INTO subscriptions (account_id, name) SELECT account_id, name FROM mailboxes WHERE account_id IN ({id_list})"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
    let sql = format!(
        "INSERT INTO changes (account_id, mailbox_id, modseq, kind, uid, at) \
         SELECT account_id, id, 1, 'mailbox', 0, $1 FROM mailboxes WHERE account_id IN ({id_list})"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at).execute(&mut *tx).await?;

    let sql = format!(
        "INSERT INTO people (numen_hash, account_id, civilite, nom, prenom, hr_role, hr_status, uai, \
         secondary_address, effective_date, departed_at, prior_status, updated_at) VALUES {}",
        placeholders(chunk.len(), 13)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (p, id) in chunk.iter().zip(&ordered) {
        q = bind_record(q.bind(p.record.numen_hash.clone()).bind(*id), &p.record).bind(at);
    }
    q.execute(&mut *tx).await?;
    Ok(ordered)
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds the HR fields after `numen_hash` (10 values).
fn bind_record<'q>(q: AnyQuery<'q>, r: &HrRecord) -> AnyQuery<'q> {
    q.bind(r.civilite.clone())
        .bind(r.nom.clone())
        .bind(r.prenom.clone())
        .bind(r.hr_role.clone())
        .bind(r.hr_status.clone())
        .bind(r.uai.clone())
        .bind(r.secondary_address.clone())
        .bind(r.effective_date.clone())
        .bind(r.departed_at)
        .bind(r.prior_status.clone())
}

async fn update_accounts(tx: &mut AnyConnection, chunk: &[HrAccountUpdate], at: i64, seq: i64) -> Result<()> {
    // A renamed person may take back an address they had before: drop that alias first.
    let renamed: Vec<&HrAccountUpdate> = chunk.iter().filter(|u| u.old_address.is_some()).collect();
    if !renamed.is_empty() {
        let sql =
            format!("DELETE FROM aliases WHERE (account_id, address) IN (VALUES {})", placeholders(renamed.len(), 2));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for u in &renamed {
            q = q.bind(u.account_id).bind(u.address.clone());
        }
        q.execute(&mut *tx).await?;
    }
    let sql = format!(
        "UPDATE accounts SET address = v.column2, login = v.column3, display_name = v.column4, role = v.column5, \
         status_changed_at = CASE WHEN accounts.status = v.column6 THEN accounts.status_changed_at ELSE v.column8 END, \
         status_seq = CASE WHEN accounts.status = v.column6 THEN accounts.status_seq ELSE v.column9 END, \
         status = v.column6, org_unit_id = v.column7 \
         FROM (VALUES {}) AS v WHERE accounts.id = v.column1",
        placeholders(chunk.len(), 9)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for u in chunk {
        q = q
            .bind(u.account_id)
            .bind(u.address.clone())
            .bind(u.login.clone())
            .bind(u.display_name.clone())
            .bind(u.role.as_str())
            .bind(u.status.as_str())
            .bind(u.org_unit)
            .bind(at)
            .bind(seq);
    }
    q.execute(&mut *tx).await?;
    if !renamed.is_empty() {
        let sql = format!(
            "INSERT INTO aliases (address, account_id, created_at, expires_at) VALUES {}",
            placeholders(renamed.len(), 4)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for u in &renamed {
            q = q.bind(u.old_address.clone()).bind(u.account_id).bind(at).bind(u.old_address_until);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

async fn update_records(tx: &mut AnyConnection, chunk: &[HrRecord], at: i64) -> Result<()> {
    let sql = format!(
        "UPDATE people SET civilite = v.column2, nom = v.column3, prenom = v.column4, hr_role = v.column5, \
         hr_status = v.column6, uai = v.column7, secondary_address = v.column8, effective_date = v.column9, \
         departed_at = v.column10, prior_status = v.column11, updated_at = v.column12 \
         FROM (VALUES {}) AS v WHERE people.numen_hash = v.column1",
        placeholders(chunk.len(), 12)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for r in chunk {
        q = bind_record(q.bind(r.numen_hash.clone()), r).bind(at);
    }
    q.execute(&mut *tx).await?;
    Ok(())
}
