//! Administrative role grants and the hash-chained audit log.

use model::{AccountId, OrgUnitId};
use sqlx::{AnyConnection, Row};

use crate::error::Result;
use crate::{Backend, Store, now};

/// Arbitrary key of the PostgreSQL advisory lock held while appending to the audit log.
const PG_AUDIT_LOCK: i64 = 0x0041_7564_6974_4c67;

/// An administrative role held on a subtree of organisational units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    pub account_id: AccountId,
    pub role: String,
    pub org_unit: OrgUnitId,
}

/// One row of the audit log. `prev_hash` and `hash` chain the rows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub scope: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Computes a row's hash from its content and `prev_hash` (the caller's
/// choice of function; the store only keeps the chain in order).
pub type Seal = fn(&AuditEntry) -> String;

impl Store {
    // ----- role grants -----

    /// Grants `role` on the subtree under `org_unit`. Granting it again changes nothing.
    pub async fn grant_role(&self, account: AccountId, role: &str, org_unit: OrgUnitId) -> Result<()> {
        sqlx::query(
            "INSERT INTO role_grants (account_id, role, org_unit_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, role, org_unit_id) DO NOTHING",
        )
        .bind(account)
        .bind(role)
        .bind(org_unit)
        .bind(now())
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(())
    }

    /// Removes a grant; returns whether there was one.
    pub async fn revoke_role(&self, account: AccountId, role: &str, org_unit: OrgUnitId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM role_grants WHERE account_id = $1 AND role = $2 AND org_unit_id = $3")
            .bind(account)
            .bind(role)
            .bind(org_unit)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The grants of one account.
    pub async fn role_grants(&self, account: AccountId) -> Result<Vec<RoleGrant>> {
        let rows = sqlx::query(
            "SELECT account_id, role, org_unit_id FROM role_grants WHERE account_id = $1 ORDER BY role, org_unit_id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(RoleGrant { account_id: r.try_get(0)?, role: r.try_get(1)?, org_unit: r.try_get(2)? }))
            .collect()
    }

    // ----- audit log -----

    /// Appends a row to the audit log: `prev_hash` is set to the last row's
    /// hash (empty for the first row), then `seal` computes the row's own.
    pub async fn append_audit(&self, entry: AuditEntry, seal: Seal) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let id = self.append_audit_in(&mut tx, entry, seal).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The whole audit log, oldest first.
    pub async fn audit_log(&self) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, scope, action, target, detail, prev_hash, hash FROM audit_log ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    scope: r.try_get(3)?,
                    action: r.try_get(4)?,
                    target: r.try_get(5)?,
                    detail: r.try_get(6)?,
                    prev_hash: r.try_get(7)?,
                    hash: r.try_get(8)?,
                })
            })
            .collect()
    }

    pub(super) async fn append_audit_in(
        &self,
        conn: &mut AnyConnection,
        mut entry: AuditEntry,
        seal: Seal,
    ) -> Result<i64> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PG_AUDIT_LOCK).execute(&mut *conn).await?;
        }
        let last: Option<String> = sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
        entry.prev_hash = last.unwrap_or_default();
        if entry.at == 0 {
            entry.at = now();
        }
        entry.hash = seal(&entry);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_log (at, actor, scope, action, target, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.scope)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.detail)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .fetch_one(&mut *conn)
        .await?;
        Ok(id)
    }
}
