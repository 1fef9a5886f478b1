//! Changing mailboxes after their creation: renaming, deleting, and copying
//! messages between them.

use std::collections::{BTreeMap, BTreeSet};

use model::{BlobId, MailboxId};
use sqlx::Row;

use crate::deleted::{Deletion, keep_deleted};
use crate::deliver::{add_to_accounts, batch};
use crate::error::{Error, Result};
use crate::mailboxes::{ensure_mailbox, mailbox_named, normalize_name, prune_placeholders};
use crate::messages::bump_modseq;
use crate::sql::{CHUNK_ROWS, Locked, placeholders};
use crate::subscriptions::rename_subscriptions;
use crate::types::{ChangeKind, MAILBOX_COLS, MESSAGE_COLS, Mailbox, MessageRow, blob_id};
use crate::{Store, Urgency, now};

/// One message copied by [`Store::copy_messages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub source_uid: i64,
    pub uid: i64,
    pub modseq: i64,
}

impl Store {
    /// Claims the messages of a mailbox that no session has seen as recent
    /// yet (IMAP4rev1 `\Recent`, RFC 3501 section 2.3.2: "the message is
    /// considered recent in exactly one session"): returns the UIDs from the
    /// last claim up to the mailbox's UIDNEXT, and no other call returns any
    /// of them. Empty when nothing arrived since the last claim (then no
    /// write is made).
    pub async fn claim_recent(&self, mailbox: MailboxId) -> Result<std::ops::Range<i64>> {
        loop {
            let row = sqlx::query("SELECT recent_uid, uid_next FROM mailboxes WHERE id = $1")
                .bind(mailbox)
                .fetch_optional(&self.pool)
                .await?;
            let Some(row) = row else { return Err(Error::NotFound("mailbox")) };
            let (from, to): (i64, i64) = (row.try_get("recent_uid")?, row.try_get("uid_next")?);
            if from >= to {
                return Ok(to..to);
            }
            // Compare and set: of two sessions claiming at once, one moves
            // the mark and the other reads it again.
            let done = sqlx::query("UPDATE mailboxes SET recent_uid = $1 WHERE id = $2 AND recent_uid = $3")
                .bind(to)
                .bind(mailbox)
                .bind(from)
                .execute(&mut *self.write_conn().await?)
                .await?;
            if done.rows_affected() == 1 {
                return Ok(from..to);
            }
        }
    }

    /// The first UID of a mailbox that no session has claimed as recent
    /// ([`Store::claim_recent`]): STATUS (RECENT) counts the messages from it.
    pub async fn unclaimed_recent(&self, mailbox: MailboxId) -> Result<i64> {
        let from: Option<i64> = sqlx::query_scalar("SELECT recent_uid FROM mailboxes WHERE id = $1")
            .bind(mailbox)
            .fetch_optional(&self.pool)
            .await?;
        from.ok_or(Error::NotFound("mailbox"))
    }

    /// Deletes a mailbox that has no child, with its messages: they are kept
    /// as deleted messages ([`Store::delete_messages`]), restorable until
    /// purged, and the account's usage is freed.
    /// Placeholder parents left without children go with it. The name stays
    /// subscribed if it was (RFC 9051 section 6.3.7).
    /// The Inbox cannot be deleted. The mailbox's change log goes with it;
    /// its UIDVALIDITY stays reserved so a recreated mailbox gets a new one.
    /// Returns the contents (blobs) the deleted messages held, once each,
    /// so that the caller can keep the search index true.
    pub async fn delete_mailbox(&self, mailbox: MailboxId) -> Result<Vec<BlobId>> {
        let now = now();
        let mut tx = self.write_tx().await?;
        let sql = format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(mailbox).fetch_optional(&mut *tx).await?;
        let mbx = row.as_ref().map(Mailbox::from_row).transpose()?.ok_or(Error::NotFound("mailbox"))?;
        if mbx.name == "INBOX" {
            return Err(Error::Invalid("the Inbox cannot be deleted".into()));
        }
        self.lock_ids(&mut tx, Locked::Accounts, &[mbx.account_id]).await?;
        self.lock_ids(&mut tx, Locked::Mailboxes, &[mailbox]).await?;
        let children: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mailboxes WHERE parent_id = $1")
            .bind(mailbox)
            .fetch_one(&mut *tx)
            .await?;
        if children > 0 {
            return Err(Error::Conflict(format!("mailbox {} has children", mbx.name)));
        }
        let sql = format!("DELETE FROM messages WHERE mailbox_id = $1 RETURNING {MESSAGE_COLS}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(mailbox).fetch_all(&mut *tx).await?;
        let gone: Vec<MessageRow> = rows.iter().map(MessageRow::from_row).collect::<Result<_>>()?;
        let mut blobs: BTreeSet<&str> = BTreeSet::new();
        let mut freed = 0i64;
        for m in &gone {
            freed += m.size;
            blobs.insert(m.blob_hash.as_str());
        }
        keep_deleted(&mut tx, &gone, &mbx.name, Deletion::Folder, now).await?;
        add_to_accounts(&mut tx, &[(mbx.account_id, -freed)]).await?;
        sqlx::query(
            "UPDATE accounts SET uid_validity_floor = CASE WHEN uid_validity_floor > $1 \
             THEN uid_validity_floor ELSE $1 END WHERE id = $2",
        )
        .bind(mbx.uid_validity)
        .bind(mbx.account_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM changes WHERE mailbox_id = $1").bind(mailbox).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM mailboxes WHERE id = $1").bind(mailbox).execute(&mut *tx).await?;
        prune_placeholders(&mut tx, mbx.parent_id).await?;
        tx.commit().await?;
        blobs.iter().map(|hash| blob_id(hash)).collect()
    }

    /// Renames a mailbox and every mailbox below it, with their
    /// subscriptions. Missing parents of the new name are made as
    /// placeholders, placeholders the old name leaves without children go;
    /// the new name must be free; UIDs and UIDVALIDITY are kept. Renaming
    /// the Inbox is not supported.
    pub async fn rename_mailbox(&self, mailbox: MailboxId, new_name: &str) -> Result<Mailbox> {
        let new_name = normalize_name(new_name)?;
        let mut tx = self.write_tx().await?;
        let sql = format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(mailbox).fetch_optional(&mut *tx).await?;
        let mbx = row.as_ref().map(Mailbox::from_row).transpose()?.ok_or(Error::NotFound("mailbox"))?;
        if mbx.name == "INBOX" || new_name == "INBOX" {
            return Err(Error::Invalid("renaming to or from the Inbox is not supported".into()));
        }
        let account = mbx.account_id;
        self.lock_ids(&mut tx, Locked::Accounts, &[account]).await?;
        if mailbox_named(&mut tx, account, &new_name).await?.is_some() {
            return Err(Error::Conflict(format!("mailbox {new_name} already exists")));
        }
        if new_name.starts_with(&format!("{}/", mbx.name)) {
            return Err(Error::Invalid("a mailbox cannot move below itself".into()));
        }
        // RFC 9051 section 6.3.6: the superior names the new name needs are
        // made, as placeholders.
        let parent = match new_name.rsplit_once('/') {
            None => None,
            Some((parent_name, _)) => Some(ensure_mailbox(&mut tx, account, parent_name).await?),
        };
        let sql = format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE account_id = $1 ORDER BY name");
        let all = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).fetch_all(&mut *tx).await?;
        let prefix = format!("{}/", mbx.name);
        for row in &all {
            let m = Mailbox::from_row(row)?;
            let renamed = if m.id == mailbox {
                new_name.clone()
            } else if let Some(rest) = m.name.strip_prefix(&prefix) {
                format!("{new_name}/{rest}")
            } else {
                continue;
            };
            sqlx::query("UPDATE mailboxes SET name = $1 WHERE id = $2")
                .bind(&renamed)
                .bind(m.id)
                .execute(&mut *tx)
                .await?;
            let modseq = bump_modseq(&mut tx, m.id, 1).await?;
            sqlx::query(
                "INSERT INTO changes (account_id, mailbox_id, modseq, kind, uid, message_id, at) \
                 VALUES ($1, $2, $3, $4, 0, NULL, $5)",
            )
            .bind(account)
            .bind(m.id)
            .bind(modseq)
            .bind(ChangeKind::Mailbox.as_str())
            .bind(now())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE mailboxes SET parent_id = $1 WHERE id = $2")
            .bind(parent)
            .bind(mailbox)
            .execute(&mut *tx)
            .await?;
        rename_subscriptions(&mut tx, account, &mbx.name, &new_name).await?;
        prune_placeholders(&mut tx, mbx.parent_id).await?;
        let renamed = mailbox_named(&mut tx, account, &new_name).await?.ok_or(Error::NotFound("mailbox"))?;
        tx.commit().await?;
        Ok(renamed)
    }

    /// Copies the messages with these UIDs from one mailbox into another of
    /// the same account, in one transaction: each copy takes the target's
    /// next UID and modseq, keeps flags, keywords and internal date, and adds
    /// a reference to the same blob (no byte is copied). Returns the pairs in
    /// increasing source UID; UIDs not present are ignored.
    pub async fn copy_messages(&self, from: MailboxId, uids: &[i64], to: MailboxId) -> Result<Vec<Copied>> {
        let mut uids = uids.to_vec();
        uids.sort_unstable();
        uids.dedup();
        let now = now();
        let mut tx = self.write_tx_grouped(Urgency::Interactive).await?;
        let owners: Vec<(i64, i64)> = sqlx::query("SELECT id, account_id FROM mailboxes WHERE id IN ($1, $2)")
            .bind(from)
            .bind(to)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("account_id")?)))
            .collect::<Result<_>>()?;
        let owner = |id: MailboxId| owners.iter().find(|(m, _)| *m == id).map(|(_, a)| *a);
        let (Some(account), Some(target_account)) = (owner(from), owner(to)) else {
            return Err(Error::NotFound("mailbox"));
        };
        if account != target_account {
            return Err(Error::Invalid("messages can only be copied within one account".into()));
        }
        self.lock_ids(&mut tx, Locked::Accounts, &[account]).await?;
        self.lock_ids(&mut tx, Locked::Mailboxes, &[from, to]).await?;
        let mut sources: Vec<MessageRow> = Vec::new();
        for chunk in uids.chunks(CHUNK_ROWS) {
            let sql = format!(
                "SELECT {MESSAGE_COLS} FROM messages WHERE mailbox_id = $1 AND uid IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = batch(sql, chunk.len()).bind(from);
            for uid in chunk {
                q = q.bind(*uid);
            }
            for row in q.fetch_all(&mut *tx).await? {
                sources.push(MessageRow::from_row(&row)?);
            }
        }
        if sources.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        sources.sort_by_key(|m| m.uid);
        let count = sources.len() as i64;
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

        let mut copied = Vec::with_capacity(sources.len());
        let mut per_blob: BTreeMap<&str, i64> = BTreeMap::new();
        let mut bytes = 0i64;
        for (i, m) in sources.iter().enumerate() {
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
            *per_blob.entry(m.blob_hash.as_str()).or_default() += 1;
            bytes += m.size;
            copied.push(Copied { source_uid: m.uid, uid, modseq });
        }
        // Blobs are locked last and in hash order, as deliveries do.
        for (hash, n) in &per_blob {
            sqlx::query("UPDATE blobs SET refcount = refcount + $1, released_at = NULL WHERE hash = $2")
                .bind(*n)
                .bind(*hash)
                .execute(&mut *tx)
                .await?;
        }
        add_to_accounts(&mut tx, &[(account, bytes)]).await?;
        tx.commit().await?;
        Ok(copied)
    }
}
