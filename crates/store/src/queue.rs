//! The outbound queue: messages waiting to leave for remote domains.
//!
//! One entry per message, with one row per recipient carrying its own status
//! ('pending', 'sent', 'failed') and last error, so that a message to fifty
//! domains is one entry whose recipients finish at their own pace. The entry
//! holds one reference on its blob: the body stays on disk while anything is
//! queued, and is released for the garbage collector when the entry goes.
//!
//! Runners lease due entries: on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so
//! several nodes share the queue without waiting on each other; on SQLite the
//! single write lock serialises the claim. A lease is a time: an entry whose
//! runner died becomes due again once its lease has expired.

use model::BlobId;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Error, Result};
use crate::{Backend, Store, Urgency, now};

/// A message to put in the queue.
#[derive(Debug, Clone)]
pub struct NewQueued {
    pub blob: BlobId,
    pub size: i64,
    /// The envelope sender; empty for the null sender `<>` (bounces).
    pub sender: String,
    /// The local account that sent it, whose Inbox receives bounces.
    pub account: Option<i64>,
    /// Recipient addresses (normalised), each with its domain.
    pub recipients: Vec<(String, String)>,
    /// When the queue gives up and bounces what is still pending.
    pub expires_at: i64,
}

/// A queue entry as the runner and the administration see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub blob: BlobId,
    pub size: i64,
    pub sender: String,
    pub account: Option<i64>,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub expires_at: i64,
    pub attempts: i64,
    /// Whether the sender was already told that delivery is delayed.
    pub warned: bool,
    pub lease_until: i64,
}

/// Where one recipient of a queue entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RcptStatus {
    Pending,
    Sent,
    Failed,
}

impl RcptStatus {
    fn as_str(self) -> &'static str {
        match self {
            RcptStatus::Pending => "pending",
            RcptStatus::Sent => "sent",
            RcptStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<RcptStatus> {
        match s {
            "pending" => Ok(RcptStatus::Pending),
            "sent" => Ok(RcptStatus::Sent),
            "failed" => Ok(RcptStatus::Failed),
            other => Err(Error::Corrupt(format!("unknown recipient status {other:?}"))),
        }
    }
}

/// One recipient of a queue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRcpt {
    pub rcpt: String,
    pub domain: String,
    pub status: RcptStatus,
    pub last_error: String,
    pub updated_at: i64,
}

const QUEUE_COLS: &str =
    "id, blob, size, sender, account_id, created_at, next_attempt_at, expires_at, attempts, warned, lease_until";

fn queued_of(row: &AnyRow) -> Result<Queued> {
    let blob: String = row.try_get("blob")?;
    Ok(Queued {
        id: row.try_get("id")?,
        blob: BlobId::from_hex(&blob).ok_or_else(|| Error::Corrupt(format!("bad blob id {blob:?}")))?,
        size: row.try_get("size")?,
        sender: row.try_get("sender")?,
        account: row.try_get("account_id")?,
        created_at: row.try_get("created_at")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        expires_at: row.try_get("expires_at")?,
        attempts: row.try_get("attempts")?,
        warned: row.try_get::<i64, _>("warned")? != 0,
        lease_until: row.try_get("lease_until")?,
    })
}

impl Store {
    /// Queues a message for its remote recipients, due at once, and takes a
    /// reference on its blob (creating a minimal blob row if the message is
    /// stored nowhere else). Returns the entry's id.
    pub async fn enqueue(&self, msg: &NewQueued) -> Result<i64> {
        if msg.recipients.is_empty() {
            return Err(Error::Invalid("a queue entry needs at least one recipient".into()));
        }
        let now = now();
        let mut tx = self.write_tx_grouped(Urgency::Bulk).await?;
        Store::take_blob_ref(&mut tx, &msg.blob, msg.size, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbound_queue (blob, size, sender, account_id, created_at, next_attempt_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
        )
        .bind(msg.blob.as_str())
        .bind(msg.size)
        .bind(&msg.sender)
        .bind(msg.account)
        .bind(now)
        .bind(msg.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        for (rcpt, domain) in &msg.recipients {
            sqlx::query(
                "INSERT INTO outbound_recipients (queue_id, rcpt, domain, status, last_error, updated_at) \
                 VALUES ($1, $2, $3, 'pending', '', $4) ON CONFLICT (queue_id, rcpt) DO NOTHING",
            )
            .bind(id)
            .bind(rcpt)
            .bind(domain)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Claims up to `limit` entries due at `now` whose lease is free, leasing
    /// them until `now + lease_secs`.
    pub async fn lease_due(&self, now: i64, lease_secs: i64, limit: i64) -> Result<Vec<Queued>> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbound_queue SET lease_until = $1 WHERE id IN (\
             SELECT id FROM outbound_queue WHERE next_attempt_at <= $2 AND lease_until <= $2 \
             ORDER BY next_attempt_at, id LIMIT $3 {lock}) RETURNING {QUEUE_COLS}"
        );
        let mut tx = self.write_tx_relaxed().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now + lease_secs)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut out = rows.iter().map(queued_of).collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|q| (q.next_attempt_at, q.id));
        Ok(out)
    }

    /// Records the outcome of some recipients of entry `id` in one transaction
    /// (done as soon as the remote server answered, to keep the window in which
    /// a crash could send a message twice as small as possible).
    pub async fn record_recipients(&self, id: i64, outcomes: &[(String, RcptStatus, String)]) -> Result<()> {
        let now = now();
        let mut tx = self.write_tx_relaxed().await?;
        for (rcpt, status, error) in outcomes {
            sqlx::query(
                "UPDATE outbound_recipients SET status = $1, last_error = $2, updated_at = $3 \
                 WHERE queue_id = $4 AND rcpt = $5 AND status = 'pending'",
            )
            .bind(status.as_str())
            .bind(error)
            .bind(now)
            .bind(id)
            .bind(rcpt)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets the next attempt of entry `id`, counts the attempt, and frees its lease.
    pub async fn reschedule(&self, id: i64, next_attempt_at: i64, warned: bool) -> Result<()> {
        let done = sqlx::query(
            "UPDATE outbound_queue SET next_attempt_at = $1, attempts = attempts + 1, warned = $2, lease_until = 0 \
             WHERE id = $3",
        )
        .bind(next_attempt_at)
        .bind(i64::from(warned))
        .bind(id)
        .execute(&mut *self.write_conn().await?)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("queue entry"));
        }
        Ok(())
    }

    /// Makes entry `id` due now (an administrator's retry), with a new lifetime
    /// if `expires_at` is given.
    pub async fn retry_now(&self, id: i64, expires_at: Option<i64>) -> Result<()> {
        let now = now();
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE outbound_queue SET next_attempt_at = $1, expires_at = COALESCE($2, expires_at) WHERE id = $3",
        )
        .bind(now)
        .bind(expires_at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("queue entry"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Extends the lease of entry `id` to `until` (a runner still at work on it).
    pub async fn renew_lease(&self, id: i64, until: i64) -> Result<()> {
        sqlx::query("UPDATE outbound_queue SET lease_until = $1 WHERE id = $2")
            .bind(until)
            .bind(id)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(())
    }

    /// Frees every lease. Only for a single node at start-up (SQLite): the
    /// previous run of this very node held them and is gone.
    pub async fn release_all_leases(&self) -> Result<u64> {
        let done = sqlx::query("UPDATE outbound_queue SET lease_until = 0 WHERE lease_until <> 0")
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected())
    }

    /// Removes entry `id` and its recipients, releasing its blob reference
    /// (an administrator's decision: durable before this returns). Returns
    /// whether it existed.
    pub async fn dequeue(&self, id: i64) -> Result<bool> {
        let tx = self.write_tx().await?;
        self.remove_entry(tx, id).await
    }

    /// Removes entry `id` once the runner has nothing left to do with it.
    /// Relaxed ([`Store::write_tx_relaxed`]): if a power cut loses this, the
    /// entry comes back and its recipients are tried again.
    pub async fn dequeue_finished(&self, id: i64) -> Result<bool> {
        let tx = self.write_tx_relaxed().await?;
        self.remove_entry(tx, id).await
    }

    async fn remove_entry(&self, mut tx: crate::WriteTx, id: i64) -> Result<bool> {
        let now = now();
        let blob: Option<String> = sqlx::query_scalar("DELETE FROM outbound_queue WHERE id = $1 RETURNING blob")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(blob) = blob else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM outbound_recipients WHERE queue_id = $1").bind(id).execute(&mut *tx).await?;
        self.release_blob_refs(&mut tx, &[(blob.as_str(), 1)], now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One entry, if it exists.
    pub async fn queued(&self, id: i64) -> Result<Option<Queued>> {
        let sql = format!("SELECT {QUEUE_COLS} FROM outbound_queue WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(queued_of).transpose()
    }

    /// How many entries wait in the queue and when the oldest was queued.
    pub async fn queue_summary(&self) -> Result<(i64, Option<i64>)> {
        let row = sqlx::query("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbound_queue")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get("n")?, row.try_get("oldest")?))
    }

    /// Every entry, the next due first.
    pub async fn queue_entries(&self) -> Result<Vec<Queued>> {
        let sql = format!("SELECT {QUEUE_COLS} FROM outbound_queue ORDER BY next_attempt_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(queued_of).collect()
    }

    /// The recipients of entry `id`, by domain then address.
    pub async fn queued_recipients(&self, id: i64) -> Result<Vec<QueuedRcpt>> {
        let rows = sqlx::query(
            "SELECT rcpt, domain, status, last_error, updated_at FROM outbound_recipients \
             WHERE queue_id = $1 ORDER BY domain, rcpt",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(QueuedRcpt {
                    rcpt: r.try_get("rcpt")?,
                    domain: r.try_get("domain")?,
                    status: RcptStatus::parse(&r.try_get::<String, _>("status")?)?,
                    last_error: r.try_get("last_error")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// One page of the queue as administrators see it, the oldest first:
    /// the entries whose sending account is in `units` (`None`: any unit),
    /// and with `unplaced` those of no unit (no sending account, or one
    /// placed nowhere), each with its sender's unit and pending recipients;
    /// and how many entries match in all. Counted and paged by the database.
    pub async fn queue_page(
        &self,
        units: Option<&[model::OrgUnitId]>,
        unplaced: bool,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<QueuePageEntry>, usize)> {
        let filter = crate::sql::units_condition("a.org_unit_id", units, unplaced);
        let from = format!("FROM outbound_queue q LEFT JOIN accounts a ON a.id = q.account_id WHERE {filter}");
        let total: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {from}"))).fetch_one(&self.pool).await?;
        let cols: Vec<String> = QUEUE_COLS.split(", ").map(|c| format!("q.{c} AS {c}")).collect();
        let sql = format!(
            "SELECT {}, a.org_unit_id AS unit, (SELECT COUNT(*) FROM outbound_recipients r \
             WHERE r.queue_id = q.id AND r.status = 'pending') AS pending {from} \
             ORDER BY q.created_at, q.id LIMIT {limit} OFFSET {offset}",
            cols.join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        let entries = rows
            .iter()
            .map(|r| {
                Ok(QueuePageEntry { entry: queued_of(r)?, unit: r.try_get("unit")?, pending: r.try_get("pending")? })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((entries, usize::try_from(total).unwrap_or(0)))
    }

    /// The unit of the account that sent entry `id` (`Some(None)`: no
    /// account, or one placed nowhere); `None` when there is no such entry.
    pub async fn queued_unit(&self, id: i64) -> Result<Option<Option<model::OrgUnitId>>> {
        let row = sqlx::query(
            "SELECT a.org_unit_id AS unit FROM outbound_queue q LEFT JOIN accounts a ON a.id = q.account_id \
             WHERE q.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get::<Option<i64>, _>("unit")).transpose()?)
    }
}

/// An entry of [`Store::queue_page`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePageEntry {
    pub entry: Queued,
    /// The sending account's unit.
    pub unit: Option<model::OrgUnitId>,
    /// Recipients still waiting.
    pub pending: i64,
}
