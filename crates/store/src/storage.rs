//! Storage figures for the administrators' console (`/admin/stockage`):
//! usage per unit, the largest mailboxes and the deduplication ratio of the
//! accounts of some units, all computed by the database (an académie has
//! 47,000 accounts: none of them is loaded to be counted).
//! `identity::admin` decides which units an administrator sees.

use model::OrgUnitId;

use crate::Store;
use crate::error::Result;
use crate::types::{ACCOUNT_COLS, Account};

/// Which accounts are counted.
#[derive(Debug, Clone, Copy)]
pub struct StorageScope<'a> {
    /// Accounts of these units only; `None` for every unit.
    pub units: Option<&'a [OrgUnitId]>,
    /// Whether accounts placed in no unit are counted.
    pub unplaced: bool,
}

/// One unit's usage (its own accounts, not those of the units below).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitUsage {
    pub unit: Option<OrgUnitId>,
    pub accounts: i64,
    /// The accounts' `used_bytes`.
    pub used: i64,
}

/// What the messages of the accounts in scope take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dedup {
    pub messages: i64,
    /// Every copy counted (what the mailboxes would take without sharing).
    pub logical: i64,
    /// Each stored content counted once.
    pub physical: i64,
}

impl StorageScope<'_> {
    /// The condition on `a` (the accounts table) for this scope.
    fn filter(&self) -> String {
        crate::sql::units_condition("a.org_unit_id", self.units, self.unplaced)
    }
}

impl Store {
    /// Accounts and bytes used per unit, for the units in scope that have accounts.
    pub async fn usage_by_unit(&self, scope: StorageScope<'_>) -> Result<Vec<UnitUsage>> {
        let sql = format!(
            "SELECT a.org_unit_id, COUNT(*), CAST(COALESCE(SUM(a.used_bytes), 0) AS BIGINT) FROM accounts a WHERE {} \
             GROUP BY a.org_unit_id",
            scope.filter()
        );
        let rows: Vec<(Option<i64>, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(unit, accounts, used)| UnitUsage { unit, accounts, used }).collect())
    }

    /// The `limit` accounts in scope that use the most bytes, largest first.
    pub async fn largest_accounts(&self, scope: StorageScope<'_>, limit: usize) -> Result<Vec<Account>> {
        let cols: Vec<String> = ACCOUNT_COLS.split(',').map(|c| format!("a.{0} AS {0}", c.trim())).collect();
        let sql = format!(
            "SELECT {} FROM accounts a WHERE {} ORDER BY a.used_bytes DESC, a.id LIMIT {limit}",
            cols.join(", "),
            scope.filter()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(Account::from_row).collect()
    }

    /// The messages of the accounts in scope: how many, their bytes with
    /// every copy counted, and the bytes of their distinct contents.
    pub async fn dedup(&self, scope: StorageScope<'_>) -> Result<Dedup> {
        let from = format!("FROM messages m JOIN accounts a ON a.id = m.account_id WHERE {}", scope.filter());
        let (messages, logical): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*), CAST(COALESCE(SUM(m.size), 0) AS BIGINT) {from}"
        )))
        .fetch_one(&self.pool)
        .await?;
        let physical: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(COALESCE(SUM(b.size), 0) AS BIGINT) FROM blobs b WHERE b.hash IN (SELECT m.blob_hash {from})"
        )))
        .fetch_one(&self.pool)
        .await?;
        Ok(Dedup { messages, logical, physical })
    }
}
