//! Forwarding policies per organisational unit (schema 25): where automatic
//! forwarding may go for the accounts of a unit and the units below it. The
//! `filter` crate decides with them; an account without a policy on its
//! path up the tree follows the installation's `[forwarding]` setting.

use sqlx::Row;

use crate::error::Result;
use crate::{Store, now};
use model::{AccountId, OrgUnitId};

/// A unit's policy as stored: `policy` is `internal`, `domains` or
/// `anywhere`; `domains` the listed domains (with `domains`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardingPolicy {
    pub org_unit: OrgUnitId,
    pub policy: String,
    pub domains: Vec<String>,
    pub updated_at: i64,
}

fn policy_of(row: &sqlx::any::AnyRow) -> Result<ForwardingPolicy> {
    let domains: String = row.try_get("domains")?;
    Ok(ForwardingPolicy {
        org_unit: row.try_get("org_unit_id")?,
        policy: row.try_get("policy")?,
        domains: domains.split_whitespace().map(str::to_owned).collect(),
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Sets (or replaces) the policy of `unit`.
    pub async fn set_forwarding_policy(&self, unit: OrgUnitId, policy: &str, domains: &[String]) -> Result<()> {
        sqlx::query(
            "INSERT INTO forwarding_policies (org_unit_id, policy, domains, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_unit_id) DO UPDATE SET policy = excluded.policy, domains = excluded.domains, \
             updated_at = excluded.updated_at",
        )
        .bind(unit)
        .bind(policy)
        .bind(domains.join(" "))
        .bind(now())
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(())
    }

    /// Removes the policy of `unit`; `false` when it had none.
    pub async fn remove_forwarding_policy(&self, unit: OrgUnitId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM forwarding_policies WHERE org_unit_id = $1")
            .bind(unit)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every unit's policy, by unit.
    pub async fn forwarding_policies(&self) -> Result<Vec<ForwardingPolicy>> {
        let rows = sqlx::query(
            "SELECT org_unit_id, policy, domains, updated_at FROM forwarding_policies ORDER BY org_unit_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(policy_of).collect()
    }

    /// The policy of the unit nearest to `account` on its way up the tree
    /// (its own unit first); `None` when no unit above it has one.
    pub async fn forwarding_policy_of(&self, account: AccountId) -> Result<Option<ForwardingPolicy>> {
        // The walk is bounded: a unit tree deeper than 32 levels is not an
        // académie's, and a cycle (which the HR sync never makes) ends there.
        let row = sqlx::query(
            "WITH RECURSIVE up (id, parent_id, depth) AS ( \
               SELECT u.id, u.parent_id, 0 FROM org_units u \
                 JOIN accounts a ON a.org_unit_id = u.id WHERE a.id = $1 \
               UNION ALL \
               SELECT p.id, p.parent_id, up.depth + 1 FROM org_units p JOIN up ON p.id = up.parent_id \
                 WHERE up.depth < 32) \
             SELECT f.org_unit_id, f.policy, f.domains, f.updated_at \
             FROM up JOIN forwarding_policies f ON f.org_unit_id = up.id ORDER BY up.depth LIMIT 1",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(policy_of).transpose()
    }
}
