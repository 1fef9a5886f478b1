//! Which messages hold a content: walking every message in row-id order
//! (index catch-up and rebuild), and asking whether an account, or anyone,
//! still holds a content (index removal after expunge).

use model::{AccountId, BlobId};
use sqlx::Row;

use crate::Store;
use crate::error::Result;
use crate::types::{MESSAGE_COLS, MessageRow};

impl Store {
    /// Up to `limit` messages with a row id above `after`, by increasing id.
    pub async fn messages_after(&self, after: i64, limit: i64) -> Result<Vec<MessageRow>> {
        let sql = format!("SELECT {MESSAGE_COLS} FROM messages WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(MessageRow::from_row).collect()
    }

    /// The messages among `ids` that exist (visible to this reader now), by
    /// increasing id; one query per 500 ids.
    pub async fn messages_among(&self, ids: &[i64]) -> Result<Vec<MessageRow>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT {MESSAGE_COLS} FROM messages WHERE id IN ({}) ORDER BY id",
                crate::sql::placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push(MessageRow::from_row(&row)?);
            }
        }
        Ok(out)
    }

    /// Whether some mailbox of `account` still has a message with this content.
    pub async fn account_holds_blob(&self, account: AccountId, blob: &BlobId) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM messages WHERE account_id = $1 AND blob_hash = $2")
            .bind(account)
            .bind(blob.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Message files still referenced and their bytes (a full scan: for
    /// metrics, asked at most once a minute).
    pub async fn blob_totals(&self) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM blobs WHERE refcount > 0",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("n")?, row.try_get("bytes")?))
    }

    /// Whether any message of any account still has this content.
    pub async fn blob_held(&self, blob: &BlobId) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages WHERE blob_hash = $1 LIMIT 1) AS t")
            .bind(blob.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}
