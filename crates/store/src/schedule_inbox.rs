//! The scheduling inbox (migration 39): the iTIP messages delivered to an
//! account (`schedule_inbox`), newest kept, deleted by their owner. Rows
//! only: what goes in and how many stay is `groupware`'s business.

use model::AccountId;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::Result;
use crate::{Store, now};

/// A message to place in an inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInboxItem<'a> {
    pub name: &'a str,
    pub uid: &'a str,
    /// REQUEST, REPLY or CANCEL.
    pub method: &'a str,
    pub etag: &'a str,
    pub content: &'a str,
}

/// A message of an inbox (`content` empty when only the list was read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    pub id: i64,
    pub name: String,
    pub uid: String,
    pub method: String,
    pub etag: String,
    pub content: String,
    pub created_at: i64,
}

fn item_of(r: &AnyRow, with_content: bool) -> Result<InboxItem> {
    Ok(InboxItem {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        uid: r.try_get("uid")?,
        method: r.try_get("method")?,
        etag: r.try_get("etag")?,
        content: if with_content { r.try_get("content")? } else { String::new() },
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Places `item` in `account`'s inbox, then drops its oldest messages
    /// beyond the newest `keep`. A name already there is replaced.
    pub async fn inbox_put(&self, account: AccountId, item: &NewInboxItem<'_>, keep: i64) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM schedule_inbox WHERE account_id = $1 AND name = $2")
            .bind(account)
            .bind(item.name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO schedule_inbox (account_id, name, uid, method, etag, content, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(account)
        .bind(item.name)
        .bind(item.uid)
        .bind(item.method)
        .bind(item.etag)
        .bind(item.content)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM schedule_inbox WHERE account_id = $1 AND id NOT IN \
             (SELECT id FROM schedule_inbox WHERE account_id = $1 ORDER BY id DESC LIMIT $2)",
        )
        .bind(account)
        .bind(keep.max(0))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The messages of `account`'s inbox, oldest first, without their text.
    pub async fn inbox_items(&self, account: AccountId) -> Result<Vec<InboxItem>> {
        let rows = sqlx::query(
            "SELECT id, name, uid, method, etag, created_at FROM schedule_inbox WHERE account_id = $1 ORDER BY id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| item_of(r, false)).collect()
    }

    /// The message `name` of `account`'s inbox, with its text.
    pub async fn inbox_item(&self, account: AccountId, name: &str) -> Result<Option<InboxItem>> {
        let row = sqlx::query(
            "SELECT id, name, uid, method, etag, content, created_at FROM schedule_inbox \
             WHERE account_id = $1 AND name = $2",
        )
        .bind(account)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(|r| item_of(r, true)).transpose()
    }

    /// Deletes the message `name` of `account`'s inbox if its etag is
    /// `if_match` when given: `Ok(false)` when no such message (or another etag).
    pub async fn inbox_delete(&self, account: AccountId, name: &str, if_match: Option<&str>) -> Result<bool> {
        let mut conn = self.write_conn().await?;
        let done = match if_match {
            Some(etag) => {
                sqlx::query("DELETE FROM schedule_inbox WHERE account_id = $1 AND name = $2 AND etag = $3")
                    .bind(account)
                    .bind(name)
                    .bind(etag)
                    .execute(&mut *conn)
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM schedule_inbox WHERE account_id = $1 AND name = $2")
                    .bind(account)
                    .bind(name)
                    .execute(&mut *conn)
                    .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }
}
