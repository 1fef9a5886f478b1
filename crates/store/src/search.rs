//! What the webmail's search across folders reads: an account's messages
//! from the newest by internal date, a bounded batch at a time (index
//! `messages_account_date`, version 8), and the messages holding a given
//! set of contents (index `messages_blob`). Neither loads every row of the
//! account; the caller decides when to stop.

use model::{AccountId, BlobId, MailboxId, MessageId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Store;
use crate::deliver::batch;
use crate::error::Result;
use crate::sql::{CHUNK_ROWS, placeholders};
use crate::types::blob_id;

/// One message as a search result needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: MessageId,
    pub mailbox_id: MailboxId,
    pub uid: i64,
    pub flags: i64,
    pub internal_date: i64,
    pub blob_hash: BlobId,
    pub has_attachment: bool,
}

impl Found {
    /// Where this message sits in the newest-first order.
    pub fn cursor(&self) -> DateCursor {
        DateCursor { date: self.internal_date, id: self.id }
    }
}

/// A position in the newest-first order: (internal date, row id), both
/// decreasing. [`DateCursor::TOP`] is above every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateCursor {
    pub date: i64,
    pub id: MessageId,
}

impl DateCursor {
    pub const TOP: DateCursor = DateCursor { date: i64::MAX, id: i64::MAX };
}

const FOUND_COLS: &str = "m.id, m.mailbox_id, m.uid, m.flags, m.internal_date, m.blob_hash, b.has_attachment";

fn found(row: &AnyRow) -> Result<Found> {
    let blob: String = row.try_get("blob_hash")?;
    let attachment: i64 = row.try_get("has_attachment")?;
    Ok(Found {
        id: row.try_get("id")?,
        mailbox_id: row.try_get("mailbox_id")?,
        uid: row.try_get("uid")?,
        flags: row.try_get("flags")?,
        internal_date: row.try_get("internal_date")?,
        blob_hash: blob_id(&blob)?,
        has_attachment: attachment != 0,
    })
}

impl Store {
    /// Up to `limit` messages of `account` strictly below `below` in the
    /// newest-first order and received at or after `since` (unix seconds),
    /// newest first.
    pub async fn messages_by_date(
        &self,
        account: AccountId,
        below: DateCursor,
        since: i64,
        limit: usize,
    ) -> Result<Vec<Found>> {
        let sql = format!(
            "SELECT {FOUND_COLS} FROM messages m JOIN blobs b ON b.hash = m.blob_hash \
             WHERE m.account_id = $1 AND m.internal_date <= $2 AND (m.internal_date < $2 OR m.id < $3) \
             AND m.internal_date >= $4 ORDER BY m.internal_date DESC, m.id DESC LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .bind(below.date)
            .bind(below.id)
            .bind(since)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(found).collect()
    }

    /// The messages of `account` holding one of `blobs`, in no particular
    /// order (a few indexed lookups per chunk of contents: the unary `+`
    /// keeps SQLite from scanning the account by `messages_account_date`
    /// instead of looking the contents up by `messages_blob`).
    pub async fn messages_with_blobs(&self, account: AccountId, blobs: &[BlobId]) -> Result<Vec<Found>> {
        let mut out = Vec::with_capacity(blobs.len());
        for chunk in blobs.chunks(CHUNK_ROWS) {
            let sql = format!(
                "SELECT {FOUND_COLS} FROM messages m JOIN blobs b ON b.hash = m.blob_hash \
                 WHERE m.blob_hash IN ({}) AND +m.account_id = ${}",
                placeholders(1, chunk.len()),
                chunk.len() + 1
            );
            let mut q = batch(sql, chunk.len());
            for id in chunk {
                q = q.bind(id.as_str());
            }
            for row in q.bind(account).fetch_all(&self.pool).await? {
                out.push(found(&row)?);
            }
        }
        Ok(out)
    }
}
