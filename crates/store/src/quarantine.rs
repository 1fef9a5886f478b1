//! Quarantined messages (migration 26): what the MX refused for a virus or
//! as spam, kept a number of days for the administrators to look at,
//! release or delete. Each row holds one reference on its blob, like a held
//! list post; what quarantine means is the `hygiene` crate's business.

use model::BlobId;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::Result;
use crate::{Store, now};

/// One quarantined message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub id: i64,
    pub blob: BlobId,
    pub size: i64,
    /// `virus` or `spam`.
    pub reason: String,
    /// The signature's name, or the rules that fired.
    pub detail: String,
    /// The envelope sender (empty for `<>`).
    pub mail_from: String,
    /// The accounts it was for, with the address each was reached at.
    pub recipients: Vec<(i64, String)>,
    pub subject: String,
    pub received_at: i64,
    pub expires_at: i64,
}

/// What [`Store::quarantine`] keeps (the blob written by the caller before).
#[derive(Debug, Clone, Copy)]
pub struct NewQuarantined<'a> {
    pub blob: &'a BlobId,
    pub size: i64,
    pub reason: &'a str,
    pub detail: &'a str,
    pub mail_from: &'a str,
    pub recipients: &'a [(i64, String)],
    pub subject: &'a str,
    pub expires_at: i64,
}

const COLS: &str = "id, blob, size, reason, detail, mail_from, recipients, subject, received_at, expires_at";

fn row_of(r: &AnyRow) -> Result<Quarantined> {
    let blob: String = r.try_get("blob")?;
    let recipients: String = r.try_get("recipients")?;
    let recipients = recipients
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(id, address)| Some((id.parse().ok()?, address.to_owned())))
        .collect();
    Ok(Quarantined {
        id: r.try_get("id")?,
        blob: crate::types::blob_id(&blob)?,
        size: r.try_get("size")?,
        reason: r.try_get("reason")?,
        detail: r.try_get("detail")?,
        mail_from: r.try_get("mail_from")?,
        recipients,
        subject: r.try_get("subject")?,
        received_at: r.try_get("received_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

impl Store {
    /// Keeps a refused message, with one reference on its blob. Returns its id.
    pub async fn quarantine(&self, q: NewQuarantined<'_>) -> Result<i64> {
        let now = now();
        let recipients: String = q.recipients.iter().map(|(id, a)| format!("{id} {a}\n")).collect();
        let mut tx = self.write_tx().await?;
        Store::take_blob_ref(&mut tx, q.blob, q.size, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO quarantine (blob, size, reason, detail, mail_from, recipients, subject, received_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(q.blob.as_str())
        .bind(q.size)
        .bind(q.reason)
        .bind(q.detail)
        .bind(q.mail_from)
        .bind(recipients)
        .bind(q.subject)
        .bind(now)
        .bind(q.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The quarantined messages, newest first, at most `limit`.
    pub async fn quarantined(&self, limit: i64) -> Result<Vec<Quarantined>> {
        let sql = format!("SELECT {COLS} FROM quarantine ORDER BY id DESC LIMIT $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(row_of).collect()
    }

    /// Up to `limit` quarantined messages older than the message `before`
    /// (`None`: from the newest), newest first: the administrators' pages
    /// walk the quarantine so, a batch at a time.
    pub async fn quarantined_before(&self, before: Option<i64>, limit: i64) -> Result<Vec<Quarantined>> {
        let sql = format!("SELECT {COLS} FROM quarantine WHERE id < $1 ORDER BY id DESC LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(row_of).collect()
    }

    /// One quarantined message.
    pub async fn quarantined_one(&self, id: i64) -> Result<Option<Quarantined>> {
        let sql = format!("SELECT {COLS} FROM quarantine WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(row_of).transpose()
    }

    /// Ids of the messages whose time is up at `at`.
    pub async fn quarantine_expired(&self, at: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM quarantine WHERE expires_at <= $1 ORDER BY id")
            .bind(at)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Takes a message out of quarantine (released or deleted), dropping its
    /// blob reference. False when it was no longer there.
    pub async fn unquarantine(&self, id: i64) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let blob: Option<String> = sqlx::query_scalar("DELETE FROM quarantine WHERE id = $1 RETURNING blob")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(blob) = blob else {
            return Ok(false);
        };
        self.release_blob_refs(&mut tx, &[(blob.as_str(), 1)], now()).await?;
        tx.commit().await?;
        Ok(true)
    }
}
