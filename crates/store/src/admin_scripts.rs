//! Administrators' Sieve scripts per organisational unit (schema 27): the
//! script of an account's nearest unit runs before the account's own (the
//! `filter` crate compiles and runs it; this module only keeps it).

use std::collections::HashMap;

use sqlx::Row;

use crate::error::Result;
use crate::{Store, now};
use model::{AccountId, OrgUnitId};

/// A unit's script as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminScript {
    pub org_unit: OrgUnitId,
    pub source: String,
    /// Grows at every change of the text.
    pub revision: i64,
    pub updated_at: i64,
}

fn script_of(row: &sqlx::any::AnyRow) -> Result<AdminScript> {
    Ok(AdminScript {
        org_unit: row.try_get("org_unit_id")?,
        source: row.try_get("source")?,
        revision: row.try_get("revision")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The walk up the unit tree from a set of accounts, bounded: a tree deeper
/// than 32 levels is not an académie's, and a cycle (which the HR sync
/// never makes) ends there. `{accounts}` is replaced by the bind list.
const WALK_UP: &str = "WITH RECURSIVE up (account_id, id, parent_id, depth) AS ( \
       SELECT a.id, u.id, u.parent_id, CAST(0 AS BIGINT) FROM org_units u \
         JOIN accounts a ON a.org_unit_id = u.id WHERE a.id IN ({accounts}) \
       UNION ALL \
       SELECT up.account_id, p.id, p.parent_id, up.depth + 1 FROM org_units p JOIN up ON p.id = up.parent_id \
         WHERE up.depth < 32) ";

impl Store {
    /// Sets (or replaces) the script of `unit`; returns its new revision.
    pub async fn set_admin_sieve_script(&self, unit: OrgUnitId, source: &str) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO admin_sieve_scripts (org_unit_id, source, revision, updated_at) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (org_unit_id) DO UPDATE SET source = excluded.source, \
             revision = admin_sieve_scripts.revision + 1, updated_at = excluded.updated_at \
             RETURNING revision",
        )
        .bind(unit)
        .bind(source)
        .bind(now())
        .fetch_one(&mut *self.write_conn().await?)
        .await?;
        Ok(row.try_get("revision")?)
    }

    /// Removes the script of `unit`; `false` when it had none.
    pub async fn remove_admin_sieve_script(&self, unit: OrgUnitId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM admin_sieve_scripts WHERE org_unit_id = $1")
            .bind(unit)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every unit's script, by unit.
    pub async fn admin_sieve_scripts(&self) -> Result<Vec<AdminScript>> {
        let rows = sqlx::query(
            "SELECT org_unit_id, source, revision, updated_at FROM admin_sieve_scripts ORDER BY org_unit_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(script_of).collect()
    }

    /// The script of one unit.
    pub async fn admin_sieve_script(&self, unit: OrgUnitId) -> Result<Option<AdminScript>> {
        let row = sqlx::query(
            "SELECT org_unit_id, source, revision, updated_at FROM admin_sieve_scripts WHERE org_unit_id = $1",
        )
        .bind(unit)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(script_of).transpose()
    }

    /// For each of `accounts` that has one, the unit and revision of the
    /// administrators' script nearest to it on its way up the tree (its own
    /// unit first): one query per 500 accounts, so that a circular to the
    /// whole académie asks little.
    pub async fn admin_sieve_scripts_among(
        &self,
        accounts: &[AccountId],
    ) -> Result<HashMap<AccountId, (OrgUnitId, i64)>> {
        let mut nearest: HashMap<AccountId, (i64, OrgUnitId, i64)> = HashMap::new();
        for chunk in accounts.chunks(500) {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "{}SELECT up.account_id, up.depth, s.org_unit_id, s.revision \
                 FROM up JOIN admin_sieve_scripts s ON s.org_unit_id = up.id",
                WALK_UP.replace("{accounts}", &list.join(", "))
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in chunk {
                q = q.bind(*a);
            }
            for r in q.fetch_all(&self.pool).await? {
                let account: AccountId = r.try_get("account_id")?;
                let depth: i64 = r.try_get::<i64, _>("depth")?;
                let found = (depth, r.try_get("org_unit_id")?, r.try_get("revision")?);
                match nearest.get(&account) {
                    Some((d, _, _)) if *d <= depth => {}
                    _ => {
                        nearest.insert(account, found);
                    }
                }
            }
        }
        Ok(nearest.into_iter().map(|(a, (_, unit, rev))| (a, (unit, rev))).collect())
    }
}
