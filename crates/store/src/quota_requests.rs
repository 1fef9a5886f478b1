//! Users' requests for more space (migration 42, issue 24: quotas
//! « augmentée sur demande »). A request is opened by its account with a
//! reason, and closed once, approved with the quota then set (in the same
//! transaction) or refused with an answer. At most one request per account
//! is open: the partial unique index makes a second one a
//! [`Error::Conflict`], and closing is a compare and set on the status, so
//! two administrators deciding at once cannot both win. Who may see or
//! decide which request is `identity::admin`'s business.

use model::{AccountId, OrgUnitId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Error, Result};
use crate::{Store, now};

/// A request's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaRequestStatus {
    Open,
    Approved,
    Refused,
}

impl QuotaRequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaRequestStatus::Open => "open",
            QuotaRequestStatus::Approved => "approved",
            QuotaRequestStatus::Refused => "refused",
        }
    }

    fn parse(s: &str) -> Result<QuotaRequestStatus> {
        match s {
            "open" => Ok(QuotaRequestStatus::Open),
            "approved" => Ok(QuotaRequestStatus::Approved),
            "refused" => Ok(QuotaRequestStatus::Refused),
            other => Err(Error::Corrupt(format!("quota request status {other:?}"))),
        }
    }
}

/// One request, with the account it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaRequest {
    pub id: i64,
    pub account_id: AccountId,
    /// The account's address, name and unit now.
    pub address: String,
    pub display_name: String,
    pub org_unit: Option<OrgUnitId>,
    pub reason: String,
    /// The quota (`None`: unlimited) and the usage when asked.
    pub quota_bytes: Option<i64>,
    pub used_bytes: i64,
    pub requested_at: i64,
    pub status: QuotaRequestStatus,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    /// The quota set by an approval (`None`: unlimited).
    pub granted_bytes: Option<i64>,
    /// A refusal's reason.
    pub answer: String,
}

const COLS: &str = "r.id, r.account_id, a.address, a.display_name, a.org_unit_id, r.reason, r.quota_bytes, \
                    r.used_bytes, r.requested_at, r.status, r.decided_at, r.decided_by, r.granted_bytes, r.answer";
const FROM: &str = "quota_requests r JOIN accounts a ON a.id = r.account_id";

fn row_of(r: &AnyRow) -> Result<QuotaRequest> {
    let status: String = r.try_get("status")?;
    Ok(QuotaRequest {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        address: r.try_get("address")?,
        display_name: r.try_get("display_name")?,
        org_unit: r.try_get("org_unit_id")?,
        reason: r.try_get("reason")?,
        quota_bytes: r.try_get("quota_bytes")?,
        used_bytes: r.try_get("used_bytes")?,
        requested_at: r.try_get("requested_at")?,
        status: QuotaRequestStatus::parse(&status)?,
        decided_at: r.try_get("decided_at")?,
        decided_by: r.try_get("decided_by")?,
        granted_bytes: r.try_get("granted_bytes")?,
        answer: r.try_get("answer")?,
    })
}

impl Store {
    /// Opens a request for `account` with its current quota and usage.
    /// A request already open for it is a [`Error::Conflict`].
    pub async fn open_quota_request(&self, account: AccountId, reason: &str) -> Result<i64> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO quota_requests (account_id, reason, quota_bytes, used_bytes, requested_at, status) \
             SELECT id, $1, quota_bytes, used_bytes, $2, 'open' FROM accounts WHERE id = $3 RETURNING id",
        )
        .bind(reason)
        .bind(now())
        .bind(account)
        .fetch_optional(&mut *self.write_conn().await?)
        .await?;
        id.ok_or(Error::NotFound("account"))
    }

    /// The request `id`.
    pub async fn quota_request(&self, id: i64) -> Result<Option<QuotaRequest>> {
        let sql = format!("SELECT {COLS} FROM {FROM} WHERE r.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(row_of).transpose()
    }

    /// The account's latest request, open or decided (what Réglages shows).
    pub async fn latest_quota_request(&self, account: AccountId) -> Result<Option<QuotaRequest>> {
        let sql = format!("SELECT {COLS} FROM {FROM} WHERE r.account_id = $1 ORDER BY r.id DESC LIMIT 1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).fetch_optional(&self.pool).await?;
        row.as_ref().map(row_of).transpose()
    }

    /// The open requests of accounts in `units` (`None`: every unit) and,
    /// with `unplaced`, of accounts in no unit; the oldest first, at most
    /// `limit`, and how many there are in all.
    pub async fn open_quota_requests(
        &self,
        units: Option<&[OrgUnitId]>,
        unplaced: bool,
        limit: usize,
    ) -> Result<(Vec<QuotaRequest>, usize)> {
        let filter = crate::sql::units_condition("a.org_unit_id", units, unplaced);
        let filter = format!("r.status = 'open' AND {filter}");
        let count_sql = format!("SELECT COUNT(*) FROM {FROM} WHERE {filter}");
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)).fetch_one(&self.pool).await?;
        let sql = format!("SELECT {COLS} FROM {FROM} WHERE {filter} ORDER BY r.id LIMIT {limit}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        let requests = rows.iter().map(row_of).collect::<Result<Vec<_>>>()?;
        Ok((requests, usize::try_from(total).unwrap_or(0)))
    }

    /// Approves the open request `id`: its account's quota becomes
    /// `granted` (`None`: unlimited) in the same transaction. `false` when
    /// it is no longer open (someone decided first).
    pub async fn approve_quota_request(&self, id: i64, by: &str, granted: Option<i64>) -> Result<bool> {
        if granted.is_some_and(|q| q < 0) {
            return Err(Error::Invalid("a quota cannot be negative".into()));
        }
        let mut tx = self.write_tx().await?;
        let account: Option<i64> = sqlx::query_scalar(
            "UPDATE quota_requests SET status = 'approved', decided_at = $1, decided_by = $2, granted_bytes = $3 \
             WHERE id = $4 AND status = 'open' RETURNING account_id",
        )
        .bind(now())
        .bind(by)
        .bind(granted)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(account) = account else { return Ok(false) };
        sqlx::query("UPDATE accounts SET quota_bytes = $1 WHERE id = $2")
            .bind(granted)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Refuses the open request `id` with `answer`. `false` when it is no
    /// longer open.
    pub async fn refuse_quota_request(&self, id: i64, by: &str, answer: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE quota_requests SET status = 'refused', decided_at = $1, decided_by = $2, answer = $3 \
             WHERE id = $4 AND status = 'open'",
        )
        .bind(now())
        .bind(by)
        .bind(answer)
        .bind(id)
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
