//! List archives (migration 44): the posts a list distributed, kept while
//! the list exists when its `archive` switch is on. Each row holds one
//! reference on the message's blob (the decorated message its members got),
//! exactly like a held post: one blob however many members, released when
//! the list is deleted ([`Store::delete_list`]). Pages are read newest first
//! by id (keyset: `before` the last id shown), so a long archive costs the
//! same as a short one.

use model::BlobId;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Error, Result};
use crate::{Store, now};

/// A post in a list's archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedPost {
    pub id: i64,
    pub list: i64,
    pub blob: BlobId,
    pub size: i64,
    /// The `From:` field as read (decoded), for the listing.
    pub from: String,
    pub subject: String,
    /// The post's `Message-ID` (empty when it had none).
    pub message_id: String,
    pub received_at: i64,
}

/// A post to archive; its blob is written by the caller before.
#[derive(Debug, Clone, Copy)]
pub struct NewArchived<'a> {
    pub list: i64,
    pub blob: &'a BlobId,
    pub size: i64,
    pub from: &'a str,
    pub subject: &'a str,
    pub message_id: &'a str,
}

const ARCHIVE_COLS: &str = "id, list_id, blob, size, from_addr, subject, message_id, received_at";

fn archived_of(r: &AnyRow) -> Result<ArchivedPost> {
    let blob: String = r.try_get("blob")?;
    Ok(ArchivedPost {
        id: r.try_get("id")?,
        list: r.try_get("list_id")?,
        blob: BlobId::from_hex(&blob).ok_or_else(|| Error::Corrupt(format!("bad blob id {blob:?}")))?,
        size: r.try_get("size")?,
        from: r.try_get("from_addr")?,
        subject: r.try_get("subject")?,
        message_id: r.try_get("message_id")?,
        received_at: r.try_get("received_at")?,
    })
}

impl Store {
    /// Archives a post with one reference on its blob. A post whose
    /// `Message-ID` the list's archive already holds (a posting retried after
    /// a failure, a hold approved twice) is not archived again: the earlier
    /// row's id comes back with `false`, and no reference is taken.
    pub async fn archive_post(&self, new: &NewArchived<'_>) -> Result<(i64, bool)> {
        let now = now();
        let mut tx = self.write_tx().await?;
        if !new.message_id.is_empty() {
            let known: Option<i64> =
                sqlx::query_scalar("SELECT MIN(id) FROM list_archive WHERE list_id = $1 AND message_id = $2")
                    .bind(new.list)
                    .bind(new.message_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if let Some(id) = known {
                tx.rollback().await?;
                return Ok((id, false));
            }
        }
        Store::take_blob_ref(&mut tx, new.blob, new.size, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO list_archive (list_id, blob, size, from_addr, subject, message_id, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(new.list)
        .bind(new.blob.as_str())
        .bind(new.size)
        .bind(new.from)
        .bind(new.subject)
        .bind(new.message_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((id, true))
    }

    /// Up to `limit` posts of a list's archive, newest first, all of them or
    /// only those older than the post `before`.
    pub async fn archived_posts(&self, list: i64, before: Option<i64>, limit: i64) -> Result<Vec<ArchivedPost>> {
        let sql =
            format!("SELECT {ARCHIVE_COLS} FROM list_archive WHERE list_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(list)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit.max(0))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(archived_of).collect()
    }

    /// The post `id` of a list's archive (`None` when it is another list's).
    pub async fn archived_post(&self, list: i64, id: i64) -> Result<Option<ArchivedPost>> {
        let sql = format!("SELECT {ARCHIVE_COLS} FROM list_archive WHERE id = $1 AND list_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(list).fetch_optional(&self.pool).await?;
        row.as_ref().map(archived_of).transpose()
    }

    /// How many posts a list's archive holds.
    pub async fn archived_count(&self, list: i64) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM list_archive WHERE list_id = $1")
            .bind(list)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Turns a list's archive on or off; what it holds stays either way.
    pub async fn set_list_archive(&self, id: i64, on: bool) -> Result<()> {
        let done = sqlx::query("UPDATE lists SET archive = $2 WHERE id = $1")
            .bind(id)
            .bind(i64::from(on))
            .execute(&mut *self.write_conn().await?)
            .await?;
        crate::directory::found(done.rows_affected(), "list")
    }
}
