//! Reminders (migration 37): when calendar objects' alarms fire, and the
//! fired ones their owners see until they dismiss them.
//!
//! `dav_objects.next_alarm` holds each object's next firing time, written
//! with the object (the groupware domain computes it) or later by the
//! runner (`0`: not computed yet). [`Store::fire_alarm`] claims a due
//! object by compare and set on that column and records what fired in the
//! same transaction, so each alarm fires once whatever the number of nodes
//! and restarts. A reminder to mail is claimed again before it is sent
//! ([`Store::claim_reminder_mail`]).

use model::AccountId;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::Result;
use crate::{Store, now};

/// A calendar object whose next alarm is due, with what the runner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAlarm {
    pub collection_id: i64,
    pub account_id: AccountId,
    pub name: String,
    pub etag: String,
    pub content: String,
    /// The `next_alarm` it was found with (`0`: not computed yet).
    pub next_alarm: i64,
    /// The calendar's default reminder and mail choice.
    pub reminder_minutes: Option<i64>,
    pub reminder_mail: bool,
}

/// A fired alarm to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReminder {
    pub title: String,
    pub location: String,
    /// The occurrence it is for (UTC seconds).
    pub starts_at: i64,
    /// When it fired (UTC seconds).
    pub fire_at: i64,
    /// It is to be mailed to the owner too.
    pub mail: bool,
}

/// A fired alarm, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub id: i64,
    pub account_id: AccountId,
    pub collection_id: i64,
    pub object_name: String,
    pub title: String,
    pub location: String,
    pub starts_at: i64,
    pub fire_at: i64,
    pub dismissed_at: Option<i64>,
}

/// Most reminders one call hands back.
pub const MAX_REMINDER_ROWS: i64 = 500;

const REMINDER_COLUMNS: &str =
    "id, account_id, collection_id, object_name, title, location, starts_at, fire_at, dismissed_at";

fn reminder_of(r: &AnyRow) -> Result<Reminder> {
    Ok(Reminder {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        collection_id: r.try_get("collection_id")?,
        object_name: r.try_get("object_name")?,
        title: r.try_get("title")?,
        location: r.try_get("location")?,
        starts_at: r.try_get("starts_at")?,
        fire_at: r.try_get("fire_at")?,
        dismissed_at: r.try_get("dismissed_at")?,
    })
}

impl Store {
    /// Calendar objects whose next alarm is due at `now` (or not computed
    /// yet), earliest first, at most `limit`.
    pub async fn due_alarms(&self, now: i64, limit: i64) -> Result<Vec<DueAlarm>> {
        let rows = sqlx::query(
            "SELECT o.collection_id, c.account_id, o.name, o.etag, o.content, o.next_alarm, c.reminder_minutes, \
             c.reminder_mail FROM dav_objects o JOIN dav_collections c ON c.id = o.collection_id \
             WHERE o.next_alarm IS NOT NULL AND o.next_alarm <= $1 ORDER BY o.next_alarm LIMIT $2",
        )
        .bind(now)
        .bind(limit.clamp(1, MAX_REMINDER_ROWS))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DueAlarm {
                    collection_id: r.try_get("collection_id")?,
                    account_id: r.try_get("account_id")?,
                    name: r.try_get("name")?,
                    etag: r.try_get("etag")?,
                    content: r.try_get("content")?,
                    next_alarm: r.try_get("next_alarm")?,
                    reminder_minutes: r.try_get("reminder_minutes")?,
                    reminder_mail: r.try_get::<i64, _>("reminder_mail")? != 0,
                })
            })
            .collect()
    }

    /// Moves the due object's next alarm from `due.next_alarm` to `next`
    /// and records `fired`, if nobody did it first (and the object did not
    /// change meanwhile): `true` when this call did it. The ids of the
    /// reminders recorded are not needed: the owner's list reads them.
    pub async fn fire_alarm(&self, due: &DueAlarm, next: Option<i64>, fired: &[NewReminder]) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let claimed = sqlx::query(
            "UPDATE dav_objects SET next_alarm = $4 WHERE collection_id = $1 AND name = $2 AND etag = $3 \
             AND next_alarm = $5",
        )
        .bind(due.collection_id)
        .bind(&due.name)
        .bind(&due.etag)
        .bind(next)
        .bind(due.next_alarm)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for r in fired {
            sqlx::query(
                "INSERT INTO reminders (account_id, collection_id, object_name, title, location, starts_at, fire_at, \
                 created_at, mail_state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (collection_id, object_name, starts_at, fire_at) DO NOTHING",
            )
            .bind(due.account_id)
            .bind(due.collection_id)
            .bind(&due.name)
            .bind(&r.title)
            .bind(&r.location)
            .bind(r.starts_at)
            .bind(r.fire_at)
            .bind(now())
            .bind(if r.mail { 1_i64 } else { 0 })
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Changes a calendar's default reminder and mail choice; its objects'
    /// next alarms are to be computed again (`0`). `false` when it is gone.
    pub async fn set_collection_reminders(&self, collection: i64, minutes: Option<i64>, mail: bool) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE dav_collections SET reminder_minutes = $2, reminder_mail = $3 WHERE id = $1")
            .bind(collection)
            .bind(minutes)
            .bind(i64::from(mail))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE dav_objects SET next_alarm = 0 WHERE collection_id = $1 AND component IN ('VEVENT', 'VTODO')",
        )
        .bind(collection)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The reminders of `account` fired after `since` and not dismissed,
    /// latest first.
    pub async fn pending_reminders(&self, account: AccountId, since: i64) -> Result<Vec<Reminder>> {
        let sql = format!(
            "SELECT {REMINDER_COLUMNS} FROM reminders WHERE account_id = $1 AND fire_at > $2 \
             AND dismissed_at IS NULL ORDER BY fire_at DESC, id DESC LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .bind(since)
            .bind(MAX_REMINDER_ROWS)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(reminder_of).collect()
    }

    /// Dismisses the reminder `id` of `account` (`false`: none such, or
    /// dismissed already).
    pub async fn dismiss_reminder(&self, account: AccountId, id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE reminders SET dismissed_at = $3 WHERE id = $1 AND account_id = $2 AND dismissed_at IS NULL",
        )
        .bind(id)
        .bind(account)
        .bind(now())
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Dismisses every pending reminder of `account`; how many.
    pub async fn dismiss_all_reminders(&self, account: AccountId) -> Result<u64> {
        let done = sqlx::query("UPDATE reminders SET dismissed_at = $2 WHERE account_id = $1 AND dismissed_at IS NULL")
            .bind(account)
            .bind(now())
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected())
    }

    /// Reminders still to be mailed, oldest first.
    pub async fn reminders_to_mail(&self, limit: i64) -> Result<Vec<Reminder>> {
        let sql = format!("SELECT {REMINDER_COLUMNS} FROM reminders WHERE mail_state = 1 ORDER BY id LIMIT $1");
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit.clamp(1, MAX_REMINDER_ROWS)).fetch_all(&self.pool).await?;
        rows.iter().map(reminder_of).collect()
    }

    /// Claims the reminder `id` for mailing (`true` once, to one caller);
    /// [`Store::unclaim_reminder_mail`] gives it back after a failure.
    pub async fn claim_reminder_mail(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE reminders SET mail_state = 2 WHERE id = $1 AND mail_state = 1")
            .bind(id)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a claimed reminder back among those to mail.
    pub async fn unclaim_reminder_mail(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE reminders SET mail_state = 1 WHERE id = $1 AND mail_state = 2")
            .bind(id)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(())
    }

    /// Deletes reminders fired before `before` (dismissed or not); how many.
    pub async fn purge_reminders(&self, before: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM reminders WHERE fire_at < $1 AND mail_state <> 1")
            .bind(before)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected())
    }
}
