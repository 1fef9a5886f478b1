//! Messages waiting to be sent (the webmail's "Annuler l'envoi"): a draft
//! with a send time (schema migration 23).
//!
//! Two parties race for each row and exactly one wins: the sender claims a
//! due row by setting `claimed_at` while it is still NULL, the owner cancels
//! by deleting it while `claimed_at` is still NULL. Both are one statement,
//! so on SQLite and PostgreSQL alike the second one finds nothing to do. A
//! claimed row is deleted once the message is out; one claimed longer ago
//! than the caller's `stale` bound was left by a process that died while
//! sending, and is claimed again (sending is at least once, never lost).

use model::AccountId;
use sqlx::Row;

use crate::error::Result;
use crate::{Store, now};

/// One message waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayedSend {
    pub id: i64,
    pub account: AccountId,
    /// The draft that holds the message (Drafts folder, UID).
    pub mailbox: i64,
    pub uid: i64,
    /// When it goes (unix seconds).
    pub send_at: i64,
}

/// The columns of a [`DelayedSend`], in statements kept static (sqlx
/// audits dynamic SQL).
macro_rules! columns {
    () => {
        "id, account_id, mailbox_id, uid, send_at"
    };
}

fn row(r: &sqlx::any::AnyRow) -> Result<DelayedSend> {
    Ok(DelayedSend {
        id: r.try_get("id")?,
        account: r.try_get("account_id")?,
        mailbox: r.try_get("mailbox_id")?,
        uid: r.try_get("uid")?,
        send_at: r.try_get("send_at")?,
    })
}

impl Store {
    /// Schedules the draft `mailbox`/`uid` of `account` to be sent at `send_at`.
    pub async fn schedule_send(&self, account: AccountId, mailbox: i64, uid: i64, send_at: i64) -> Result<DelayedSend> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO delayed_sends (account_id, mailbox_id, uid, send_at, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(account)
        .bind(mailbox)
        .bind(uid)
        .bind(send_at)
        .bind(now())
        .fetch_one(&mut *self.write_conn().await?)
        .await?;
        Ok(DelayedSend { id, account, mailbox, uid, send_at })
    }

    /// The waiting message `id` of `account`, unclaimed (`None` once sent,
    /// being sent, cancelled, or another account's).
    pub async fn delayed_send(&self, account: AccountId, id: i64) -> Result<Option<DelayedSend>> {
        let r = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM delayed_sends WHERE id = $1 AND account_id = $2 AND claimed_at IS NULL"
        ))
        .bind(id)
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        r.as_ref().map(row).transpose()
    }

    /// The messages of `account` still waiting (unclaimed), the soonest
    /// first, at most `limit` (the webmail's « envoi en attente »).
    pub async fn pending_sends(&self, account: AccountId, limit: i64) -> Result<Vec<DelayedSend>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM delayed_sends WHERE account_id = $1 AND claimed_at IS NULL ORDER BY send_at, id LIMIT $2"
        ))
        .bind(account)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row).collect()
    }

    /// Cancels the waiting message `id` of `account`: its draft when this
    /// call won (the sender had not claimed it), `None` otherwise.
    pub async fn cancel_send(&self, account: AccountId, id: i64) -> Result<Option<DelayedSend>> {
        let r = sqlx::query(concat!(
            "DELETE FROM delayed_sends WHERE id = $1 AND account_id = $2 AND claimed_at IS NULL RETURNING ",
            columns!()
        ))
        .bind(id)
        .bind(account)
        .fetch_optional(&mut *self.write_conn().await?)
        .await?;
        r.as_ref().map(row).transpose()
    }

    /// Claims every message due at `at` (and those claimed before `stale`,
    /// whose sender died): this caller alone sends them.
    pub async fn claim_due_sends(&self, at: i64, stale: i64) -> Result<Vec<DelayedSend>> {
        let rows = sqlx::query(concat!(
            "UPDATE delayed_sends SET claimed_at = $1 \
             WHERE send_at <= $1 AND (claimed_at IS NULL OR claimed_at < $2) RETURNING ",
            columns!()
        ))
        .bind(at)
        .bind(stale)
        .fetch_all(&mut *self.write_conn().await?)
        .await?;
        rows.iter().map(row).collect()
    }

    /// Forgets a claimed message once it is out (or given up).
    pub async fn finish_send(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM delayed_sends WHERE id = $1").bind(id).execute(&mut *self.write_conn().await?).await?;
        Ok(())
    }

    /// When the next waiting message is due, if any.
    pub async fn next_send_at(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(send_at) FROM delayed_sends WHERE claimed_at IS NULL")
            .fetch_one(&self.pool)
            .await?)
    }
}
