//! What the periodic housekeeping asks and changes (issue 20, schema 24):
//! messages past the Corbeille's or Indésirables' retention, automatic
//! archiving (each account's choice in `archive_settings`, else its nearest
//! unit's in `archive_policies` (migration 29), the Inbox's old
//! messages, and [`Store::move_messages`], a move in one transaction), and
//! the quota warnings already mailed (`accounts.quota_warned`).

use std::collections::BTreeMap;

use model::{AccountId, MailboxId, SpecialUse};
use sqlx::Row;

use crate::deliver::batch;
use crate::error::{Error, Result};
use crate::folders::Copied;
use crate::messages::bump_modseq;
use crate::sql::{CHUNK_ROWS, Locked, placeholders, tuples};
use crate::types::{ChangeKind, MESSAGE_COLS, MessageRow};
use crate::{Store, Urgency, now};

/// A message found by a housekeeping question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aged {
    pub account: AccountId,
    pub mailbox: MailboxId,
    pub uid: i64,
    pub internal_date: i64,
}

/// An account's quota and the warning last mailed about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaState {
    pub account: AccountId,
    pub used_bytes: i64,
    pub quota_bytes: i64,
    /// 0, or the per cent threshold last warned of.
    pub warned: i64,
}

impl Store {
    /// Up to `limit` messages of the folders of special use `special` (of
    /// every account) put there before `saved_before` (unix seconds): the
    /// date a message was filed in that folder, not its internal date, so
    /// an old message just thrown away gets the whole delay.
    pub async fn aged_in_special(&self, special: SpecialUse, saved_before: i64, limit: i64) -> Result<Vec<Aged>> {
        let rows = sqlx::query(
            "SELECT m.account_id, m.mailbox_id, m.uid, m.internal_date FROM mailboxes b \
             JOIN messages m ON m.mailbox_id = b.id \
             WHERE b.special_use = $1 AND m.saved_date < $2 ORDER BY m.mailbox_id, m.uid LIMIT $3",
        )
        .bind(special.as_str())
        .bind(saved_before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(aged).collect()
    }

    /// Up to `limit` messages of `mailbox` with an internal date before
    /// `before`, oldest first.
    pub async fn older_than(&self, mailbox: MailboxId, before: i64, limit: i64) -> Result<Vec<Aged>> {
        let rows = sqlx::query(
            "SELECT account_id, mailbox_id, uid, internal_date FROM messages \
             WHERE mailbox_id = $1 AND internal_date < $2 ORDER BY internal_date, uid LIMIT $3",
        )
        .bind(mailbox)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(aged).collect()
    }

    /// The account's own archiving delay in days (0: never), `None` when it
    /// never chose (the installation's default applies).
    pub async fn archive_days(&self, account: AccountId) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT days FROM archive_settings WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Sets the archiving delay of the accounts of `unit` and below that
    /// did not choose their own (0: never).
    pub async fn set_archive_policy(&self, unit: model::OrgUnitId, days: i64) -> Result<()> {
        if days < 0 {
            return Err(Error::Invalid("an archiving delay cannot be negative".into()));
        }
        sqlx::query(
            "INSERT INTO archive_policies (org_unit_id, days, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_unit_id) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at",
        )
        .bind(unit)
        .bind(days)
        .bind(now())
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(())
    }

    /// Removes the policy of `unit`; `false` when it had none.
    pub async fn remove_archive_policy(&self, unit: model::OrgUnitId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM archive_policies WHERE org_unit_id = $1")
            .bind(unit)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every unit's archiving delay, by unit.
    pub async fn archive_policies(&self) -> Result<Vec<(model::OrgUnitId, i64)>> {
        let rows = sqlx::query("SELECT org_unit_id, days FROM archive_policies ORDER BY org_unit_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("org_unit_id")?, r.try_get("days")?))).collect()
    }

    /// Sets the account's archiving delay (`None`: back to the default).
    pub async fn set_archive_days(&self, account: AccountId, days: Option<i64>) -> Result<()> {
        let mut conn = self.write_conn().await?;
        match days {
            Some(d) if d < 0 => return Err(Error::Invalid("an archiving delay cannot be negative".into())),
            Some(d) => {
                sqlx::query(
                    "INSERT INTO archive_settings (account_id, days, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (account_id) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at",
                )
                .bind(account)
                .bind(d)
                .bind(now())
                .execute(&mut *conn)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM archive_settings WHERE account_id = $1")
                    .bind(account)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// Every account whose messages are archived, with its delay in days:
    /// those that chose a delay, and with a `default_days` above 0 every
    /// account that did not choose. By increasing account id.
    pub async fn archiving_accounts(&self, default_days: i64) -> Result<Vec<(AccountId, i64)>> {
        // The nearest unit's policy walking up the tree, bounded like the
        // forwarding policies' walk (32 levels).
        let rows = sqlx::query(
            "WITH RECURSIVE up (account_id, id, parent_id, depth) AS ( \
               SELECT a.id, u.id, u.parent_id, CAST(0 AS BIGINT) FROM accounts a \
                 JOIN org_units u ON u.id = a.org_unit_id \
               UNION ALL \
               SELECT up.account_id, p.id, p.parent_id, up.depth + 1 FROM org_units p JOIN up ON p.id = up.parent_id \
                 WHERE up.depth < 32), \
             unit_days AS (SELECT up.account_id, p.days, up.depth FROM up \
                 JOIN archive_policies p ON p.org_unit_id = up.id), \
             nearest AS (SELECT d.account_id, d.days FROM unit_days d WHERE d.depth = \
                 (SELECT MIN(e.depth) FROM unit_days e WHERE e.account_id = d.account_id)) \
             SELECT a.id AS account_id, COALESCE(s.days, n.days, $1) AS days FROM accounts a \
             LEFT JOIN archive_settings s ON s.account_id = a.id \
             LEFT JOIN nearest n ON n.account_id = a.id \
             WHERE COALESCE(s.days, n.days, $1) > 0 ORDER BY a.id",
        )
        .bind(default_days)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("account_id")?, r.try_get("days")?))).collect()
    }

    /// Moves the messages with these UIDs from one mailbox to another of
    /// the same account in one transaction (RFC 6851 semantics): each gets
    /// the target's next UID and keeps flags, keywords, internal date, blob
    /// and usage; the source logs an `expunge`, the target a `new` change.
    /// A crash leaves either both sides or neither. Returns the pairs in
    /// increasing source UID; UIDs not present are ignored. `urgency` says
    /// whether someone waits (IMAP MOVE, the webmail) or not (archiving).
    pub async fn move_messages(
        &self,
        from: MailboxId,
        uids: &[i64],
        to: MailboxId,
        urgency: Urgency,
    ) -> Result<Vec<Copied>> {
        let mut uids = uids.to_vec();
        uids.sort_unstable();
        uids.dedup();
        if uids.is_empty() || from == to {
            return Ok(Vec::new());
        }
        let now = now();
        let mut tx = self.write_tx_grouped(urgency).await?;
        let owners = sqlx::query("SELECT id, account_id FROM mailboxes WHERE id IN ($1, $2)")
            .bind(from)
            .bind(to)
            .fetch_all(&mut *tx)
            .await?;
        let mut accounts = BTreeMap::new();
        for r in &owners {
            accounts.insert(r.try_get::<i64, _>("id")?, r.try_get::<i64, _>("account_id")?);
        }
        let (Some(account), Some(target_account)) = (accounts.get(&from).copied(), accounts.get(&to).copied()) else {
            return Err(Error::NotFound("mailbox"));
        };
        if account != target_account {
            return Err(Error::Invalid("messages can only be moved within one account".into()));
        }
        self.lock_ids(&mut tx, Locked::Accounts, &[account]).await?;
        self.lock_ids(&mut tx, Locked::Mailboxes, &[from, to]).await?;
        let mut moving: Vec<MessageRow> = Vec::new();
        for chunk in uids.chunks(CHUNK_ROWS) {
            let sql = format!(
                "DELETE FROM messages WHERE mailbox_id = $1 AND uid IN ({}) RETURNING {MESSAGE_COLS}",
                placeholders(2, chunk.len())
            );
            let mut q = batch(sql, chunk.len()).bind(from);
            for uid in chunk {
                q = q.bind(*uid);
            }
            for row in q.fetch_all(&mut *tx).await? {
                moving.push(MessageRow::from_row(&row)?);
            }
        }
        if moving.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        moving.sort_by_key(|m| m.uid);
        let count = moving.len() as i64;
        let row = sqlx::query(
            "UPDATE mailboxes SET uid_next = uid_next + $1, highest_modseq = highest_modseq + $1, \
             placeholder = 0 WHERE id = $2 RETURNING uid_next, highest_modseq",
        )
        .bind(count)
        .bind(to)
        .fetch_one(&mut *tx)
        .await?;
        let uid_next: i64 = row.try_get("uid_next")?;
        let highest: i64 = row.try_get("highest_modseq")?;
        if uid_next - 1 > i64::from(u32::MAX) {
            return Err(Error::Invalid(format!("mailbox {to} has run out of UIDs")));
        }
        let (first_uid, first_modseq) = (uid_next - count, highest - count + 1);
        let mut copied = Vec::with_capacity(moving.len());
        for (i, m) in moving.iter().enumerate() {
            let (uid, modseq) = (first_uid + i as i64, first_modseq + i as i64);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO messages (account_id, mailbox_id, uid, modseq, flags, keywords, internal_date, \
                 saved_date, size, thread_id, blob_hash, msgid_header) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(account)
            .bind(to)
            .bind(uid)
            .bind(modseq)
            .bind(m.flags)
            .bind(m.keywords.join(" "))
            .bind(m.internal_date)
            .bind(now)
            .bind(m.size)
            .bind(m.thread_id)
            .bind(m.blob_hash.as_str())
            .bind(m.msgid_header.as_deref())
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO changes (account_id, mailbox_id, modseq, kind, uid, message_id, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(account)
            .bind(to)
            .bind(modseq)
            .bind(ChangeKind::New.as_str())
            .bind(uid)
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            copied.push(Copied { source_uid: m.uid, uid, modseq });
        }
        let source_first = bump_modseq(&mut tx, from, count).await? - count + 1;
        for (c, chunk) in moving.chunks(CHUNK_ROWS).enumerate() {
            let sql = format!(
                "INSERT INTO changes (at, kind, account_id, mailbox_id, modseq, uid, message_id) VALUES {}",
                tuples("$1, $2, $3, $4", 5, chunk.len(), 3)
            );
            let mut q = batch(sql, chunk.len()).bind(now).bind(ChangeKind::Expunge.as_str()).bind(account).bind(from);
            for (i, m) in chunk.iter().enumerate() {
                q = q.bind(source_first + (c * CHUNK_ROWS + i) as i64).bind(m.uid).bind(m.id);
            }
            q.execute(&mut *tx).await?;
        }
        // Usage and blob references are unchanged: the same messages, elsewhere.
        tx.commit().await?;
        Ok(copied)
    }

    /// Accounts with a quota whose usage is at least `min_percent` of it,
    /// or that were warned already (so that a warning is reset once usage
    /// falls), by increasing id.
    pub async fn quota_states(&self, min_percent: i64) -> Result<Vec<QuotaState>> {
        let rows = sqlx::query(
            "SELECT id, used_bytes, quota_bytes, quota_warned FROM accounts \
             WHERE quota_bytes > 0 AND (used_bytes * 100 >= quota_bytes * $1 OR quota_warned > 0) ORDER BY id",
        )
        .bind(min_percent)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(QuotaState {
                    account: r.try_get("id")?,
                    used_bytes: r.try_get("used_bytes")?,
                    quota_bytes: r.try_get("quota_bytes")?,
                    warned: r.try_get("quota_warned")?,
                })
            })
            .collect()
    }

    /// Records the warning level of an account if it is still `from`
    /// (compare and set): of two nodes doing the same, one wins, and only
    /// it mails the warning. Tells whether this call changed it.
    pub async fn set_quota_warned(&self, account: AccountId, from: i64, to: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE accounts SET quota_warned = $1 WHERE id = $2 AND quota_warned = $3")
            .bind(to)
            .bind(account)
            .bind(from)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn aged(r: &sqlx::any::AnyRow) -> Result<Aged> {
    Ok(Aged {
        account: r.try_get("account_id")?,
        mailbox: r.try_get("mailbox_id")?,
        uid: r.try_get("uid")?,
        internal_date: r.try_get("internal_date")?,
    })
}
