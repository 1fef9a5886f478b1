//! The administrators' account search (`/admin/comptes`, `ardoise admin
//! account search`): one page of the accounts of some units that match a
//! text and a status, and how many match in all, counted by the database
//! so that a search among 47,000 accounts reads 50 rows, not 47,000.
//! `identity::admin` decides which units an administrator sees and what
//! the text means; this file only runs it.

use model::{AccountStatus, OrgUnitId, Role};

use crate::Store;
use crate::error::Result;
use crate::identities::like_escape;
use crate::types::{ACCOUNT_COLS, Account};

/// An account search. Empty texts match everything.
#[derive(Debug, Clone, Default)]
pub struct AccountSearch {
    /// Accounts of these units only; `None` for every unit.
    pub units: Option<Vec<OrgUnitId>>,
    /// Whether accounts placed in no unit are included.
    pub unplaced: bool,
    pub status: Option<AccountStatus>,
    /// Accounts of this role only (the console's functional mailboxes).
    pub role: Option<Role>,
    /// Lower-cased as typed: matched inside address, name and login.
    pub lower: String,
    /// Folded (no accents): matched inside address and login too, so that
    /// « hélène » finds `helene.durand@…`.
    pub folded: String,
    pub offset: usize,
    pub limit: usize,
}

impl Store {
    /// One page of the accounts matching `q` by address, and the number of
    /// matching accounts in all.
    pub async fn search_accounts(&self, q: &AccountSearch) -> Result<(Vec<Account>, usize)> {
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        conditions.push(crate::sql::units_condition("org_unit_id", q.units.as_deref(), q.unplaced));
        if let Some(status) = q.status {
            binds.push(status.as_str().to_owned());
            conditions.push(format!("status = ${}", binds.len()));
        }
        if let Some(role) = q.role {
            binds.push(role.as_str().to_owned());
            conditions.push(format!("role = ${}", binds.len()));
        }
        if !q.lower.is_empty() || !q.folded.is_empty() {
            binds.push(format!("%{}%", like_escape(&q.lower)));
            let lower = binds.len();
            binds.push(format!("%{}%", like_escape(&q.folded)));
            let folded = binds.len();
            conditions.push(format!(
                "(LOWER(address) LIKE ${lower} ESCAPE '\\' OR LOWER(display_name) LIKE ${lower} ESCAPE '\\' \
                 OR LOWER(COALESCE(login, '')) LIKE ${lower} ESCAPE '\\' OR LOWER(address) LIKE ${folded} ESCAPE '\\' \
                 OR LOWER(COALESCE(login, '')) LIKE ${folded} ESCAPE '\\')"
            ));
        }
        let filter = conditions.join(" AND ");
        let count_sql = format!("SELECT COUNT(*) FROM accounts WHERE {filter}");
        let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        for b in &binds {
            count = count.bind(b.clone());
        }
        let total = count.fetch_one(&self.pool).await?;
        let page_sql = format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE {filter} ORDER BY address LIMIT {} OFFSET {}",
            q.limit, q.offset
        );
        let mut page = sqlx::query(sqlx::AssertSqlSafe(page_sql));
        for b in binds {
            page = page.bind(b);
        }
        let rows = page.fetch_all(&self.pool).await?;
        let accounts = rows.iter().map(Account::from_row).collect::<Result<Vec<_>>>()?;
        Ok((accounts, usize::try_from(total).unwrap_or(0)))
    }

    /// The unit of each of the accounts `ids` that exists (`None`: placed
    /// in no unit), in no particular order.
    pub async fn account_units(&self, ids: &[model::AccountId]) -> Result<Vec<(model::AccountId, Option<OrgUnitId>)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Account ids are numbers, never text from a request.
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!("SELECT id, org_unit_id FROM accounts WHERE id IN ({list})");
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        Ok(rows)
    }
}
