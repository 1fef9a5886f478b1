//! Sorting a mailbox's messages by sender, subject or size, one page at a
//! time, in the database (the date order is the UID order and needs none).

use crate::Store;
use crate::error::Result;

/// What a message list may be sorted by, besides the date (UID order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    From,
    Subject,
    Size,
}

impl Store {
    /// One page of the UIDs of `mailbox` sorted by `key` (ties newest
    /// first): a single indexed join and sort in the database, never the
    /// messages' bytes.
    pub async fn sorted_uids(
        &self,
        mailbox: model::MailboxId,
        key: SortKey,
        descending: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<i64>> {
        let column = match key {
            SortKey::From => "LOWER(b.from_addr)",
            SortKey::Subject => "LOWER(b.subject)",
            SortKey::Size => "m.size",
        };
        let direction = if descending { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT m.uid FROM messages m JOIN blobs b ON b.hash = m.blob_hash WHERE m.mailbox_id = $1 \
             ORDER BY {column} {direction}, m.uid DESC LIMIT $2 OFFSET $3"
        );
        let uids = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(mailbox)
            .bind(limit as i64)
            .bind(offset as i64)
            .fetch_all(&self.pool)
            .await?;
        Ok(uids)
    }
}
