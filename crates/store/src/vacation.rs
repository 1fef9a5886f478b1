//! Vacation auto-reply settings, and the memory of whom was answered when, so
//! that each sender gets at most one reply per interval.

use model::AccountId;
use sqlx::Row;

use crate::error::Result;
use crate::{Store, now};

/// An account's vacation reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vacation {
    pub enabled: bool,
    /// Subject of the reply; empty means "Réponse automatique : <original subject>".
    pub subject: String,
    pub body: String,
    /// Unix seconds; the reply is active from `starts_at` (included) to
    /// `ends_at` (excluded), each bound optional.
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    /// Days before the same sender is answered again.
    pub interval_days: i64,
}

impl Vacation {
    /// Whether replies are sent at `now`.
    pub fn active_at(&self, now: i64) -> bool {
        self.enabled && self.starts_at.is_none_or(|s| s <= now) && self.ends_at.is_none_or(|e| now < e)
    }
}

impl Store {
    /// The vacation setting of `account`, if it ever had one.
    pub async fn vacation(&self, account: AccountId) -> Result<Option<Vacation>> {
        let row = sqlx::query(
            "SELECT enabled, subject, body, starts_at, ends_at, interval_days FROM vacation WHERE account_id = $1",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Vacation {
                enabled: r.try_get::<i64, _>("enabled")? != 0,
                subject: r.try_get("subject")?,
                body: r.try_get("body")?,
                starts_at: r.try_get("starts_at")?,
                ends_at: r.try_get("ends_at")?,
                interval_days: r.try_get("interval_days")?,
            })
        })
        .transpose()
    }

    /// Replaces the vacation setting of `account`. A new setting forgets
    /// whom the previous one answered, so everyone gets the new text once.
    pub async fn set_vacation(&self, account: AccountId, v: &Vacation) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM vacation_replies WHERE account_id = $1").bind(account).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO vacation (account_id, enabled, subject, body, starts_at, ends_at, interval_days, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (account_id) DO UPDATE SET enabled = excluded.enabled, subject = excluded.subject, \
             body = excluded.body, starts_at = excluded.starts_at, ends_at = excluded.ends_at, \
             interval_days = excluded.interval_days, updated_at = excluded.updated_at",
        )
        .bind(account)
        .bind(i64::from(v.enabled))
        .bind(&v.subject)
        .bind(&v.body)
        .bind(v.starts_at)
        .bind(v.ends_at)
        .bind(v.interval_days.max(1))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Those of `accounts` whose vacation reply is switched on (dates not
    /// checked): one query per 500 accounts, so a circular to 40,000 staff
    /// costs a few index look-ups, not one per recipient.
    pub async fn vacation_enabled_among(&self, accounts: &[AccountId]) -> Result<Vec<AccountId>> {
        let mut out = Vec::new();
        for chunk in accounts.chunks(500) {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql =
                format!("SELECT account_id FROM vacation WHERE enabled = 1 AND account_id IN ({})", list.join(", "));
            let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
            for a in chunk {
                q = q.bind(*a);
            }
            out.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    /// Records that `account` answers `sender` at `now`, unless it already
    /// did less than `interval_secs` ago. Atomic: of two deliveries racing,
    /// one gets `true`.
    pub async fn claim_vacation_reply(
        &self,
        account: AccountId,
        sender: &str,
        now: i64,
        interval_secs: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO vacation_replies (account_id, sender, replied_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id, sender) DO UPDATE SET replied_at = excluded.replied_at \
             WHERE vacation_replies.replied_at <= $4",
        )
        .bind(account)
        .bind(sender.to_ascii_lowercase())
        .bind(now)
        .bind(now - interval_secs)
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
