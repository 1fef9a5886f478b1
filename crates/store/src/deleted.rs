//! Deleted messages kept for undelete (issue 20, schema 24).
//!
//! A deletion ([`Store::delete_messages`], a deleted folder) moves each
//! message row into `deleted_messages` in the same transaction, blob
//! reference included: the blob's refcount keeps counting it, so the
//! garbage collector leaves the file, and backups (`held_blobs`) carry it.
//! The account's usage is freed at deletion. [`Store::restore_deleted`]
//! moves the reference back to a new message row (new UID, in the original
//! folder, the folder of that name if it was recreated, else the Inbox);
//! [`Store::purge_deleted`] drops the rows past the delay and releases their
//! references. Both claim rows with `DELETE ... RETURNING`, so a row is
//! restored or purged once, whatever runs at the same time.

use std::collections::{BTreeMap, HashMap, HashSet};

use model::{AccountId, BlobId, Flag, MailboxId, MessageId};
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::deliver::{add_to_accounts, batch};
use crate::error::{Error, Result};
use crate::sql::{CHUNK_ROWS, Locked, placeholders, tuples};
use crate::types::{ChangeKind, MessageRow, blob_id, split_keywords};
use crate::{Store, Urgency, now};

/// Why a message was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// Expunged by its owner (IMAP EXPUNGE, the webmail's definitive delete
    /// or emptied Corbeille).
    Expunged,
    /// Its folder was deleted.
    Folder,
    /// The Corbeille's or Indésirables' retention emptied it.
    Retention,
}

impl Deletion {
    pub fn as_str(self) -> &'static str {
        match self {
            Deletion::Expunged => "expunge",
            Deletion::Folder => "folder",
            Deletion::Retention => "retention",
        }
    }

    fn parse(text: &str) -> Result<Deletion> {
        match text {
            "expunge" => Ok(Deletion::Expunged),
            "folder" => Ok(Deletion::Folder),
            "retention" => Ok(Deletion::Retention),
            other => Err(Error::Corrupt(format!("deletion cause {other:?}"))),
        }
    }
}

/// A deleted message that can still be restored, with what its owner
/// recognises it by (from the content's shared row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedMessage {
    pub id: i64,
    pub account_id: AccountId,
    /// The folder it was in; it may have been deleted or renamed since.
    pub mailbox_id: MailboxId,
    pub mailbox_name: String,
    pub flags: i64,
    pub keywords: Vec<String>,
    pub internal_date: i64,
    pub size: i64,
    pub blob_hash: BlobId,
    pub deleted_at: i64,
    pub cause: Deletion,
    pub subject: String,
    pub from_addr: String,
    pub sent_date: Option<i64>,
}

/// A message put back by [`Store::restore_deleted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The id it had among deleted messages.
    pub deleted: i64,
    pub account: AccountId,
    pub mailbox: MailboxId,
    pub uid: i64,
    pub modseq: i64,
    pub message: MessageId,
    pub blob: BlobId,
}

const DELETED_COLS: &str = "d.id, d.account_id, d.mailbox_id, d.mailbox_name, d.flags, d.keywords, \
     d.internal_date, d.size, d.thread_id, d.blob_hash, d.msgid_header, d.deleted_at, d.cause";

impl DeletedMessage {
    fn from_row(row: &AnyRow) -> Result<DeletedMessage> {
        let keywords: String = row.try_get("keywords")?;
        let blob: String = row.try_get("blob_hash")?;
        let cause: String = row.try_get("cause")?;
        Ok(DeletedMessage {
            id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            mailbox_id: row.try_get("mailbox_id")?,
            mailbox_name: row.try_get("mailbox_name")?,
            flags: row.try_get("flags")?,
            keywords: split_keywords(&keywords),
            internal_date: row.try_get("internal_date")?,
            size: row.try_get("size")?,
            blob_hash: blob_id(&blob)?,
            deleted_at: row.try_get("deleted_at")?,
            cause: Deletion::parse(&cause)?,
            subject: row.try_get("subject")?,
            from_addr: row.try_get("from_addr")?,
            sent_date: row.try_get("sent_date")?,
        })
    }
}

/// Keeps removed message rows of the mailbox `mailbox_name` as deleted
/// messages; their blob references pass to the new rows unchanged.
pub(crate) async fn keep_deleted(
    conn: &mut AnyConnection,
    gone: &[MessageRow],
    mailbox_name: &str,
    cause: Deletion,
    now: i64,
) -> Result<()> {
    for chunk in gone.chunks(CHUNK_ROWS) {
        let sql = format!(
            "INSERT INTO deleted_messages (mailbox_name, deleted_at, cause, account_id, mailbox_id, flags, \
             keywords, internal_date, size, thread_id, blob_hash, msgid_header) VALUES {}",
            tuples("$1, $2, $3", 4, chunk.len(), 9)
        );
        let mut q = batch(sql, chunk.len()).bind(mailbox_name).bind(now).bind(cause.as_str());
        for m in chunk {
            q = q
                .bind(m.account_id)
                .bind(m.mailbox_id)
                .bind(m.flags)
                .bind(m.keywords.join(" "))
                .bind(m.internal_date)
                .bind(m.size)
                .bind(m.thread_id)
                .bind(m.blob_hash.as_str())
                .bind(m.msgid_header.as_deref());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A claimed deleted row, as restoring needs it.
struct Claimed {
    id: i64,
    mailbox_id: MailboxId,
    mailbox_name: String,
    flags: i64,
    keywords: String,
    internal_date: i64,
    size: i64,
    thread_id: i64,
    blob: String,
    msgid: Option<String>,
}

impl Store {
    /// The account's deleted messages still restorable, newest deletion
    /// first, `limit` at most, with an id below `before` when given (the
    /// next page starts below the last id seen).
    pub async fn deleted_messages(
        &self,
        account: AccountId,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeletedMessage>> {
        let sql = format!(
            "SELECT {DELETED_COLS}, b.subject, b.from_addr, b.sent_date FROM deleted_messages d \
             JOIN blobs b ON b.hash = d.blob_hash \
             WHERE d.account_id = $1 AND d.id < $2 ORDER BY d.id DESC LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit.clamp(0, 10_000))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(DeletedMessage::from_row).collect()
    }

    /// How many deleted messages of the account are still restorable.
    pub async fn deleted_count(&self, account: AccountId) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM deleted_messages WHERE account_id = $1")
            .bind(account)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Puts the account's deleted messages `ids` back, in one transaction:
    /// each goes to its original folder if it still exists, else to a
    /// folder of the same name, else to the Inbox, with a new UID, its
    /// flags (less `\Deleted`, or the next EXPUNGE would take it again),
    /// keywords and internal date; its size counts in the account's usage
    /// again, even beyond the quota (it is the owner's own mail coming
    /// back: new mail is then refused until there is room, as usual).
    /// Ids that are not the account's, or no longer restorable, are
    /// ignored. Results come in increasing deleted id.
    pub async fn restore_deleted(&self, account: AccountId, ids: &[i64]) -> Result<Vec<Restored>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let now = now();
        let mut tx = self.write_tx_grouped(Urgency::Interactive).await?;
        self.lock_ids(&mut tx, Locked::Accounts, &[account]).await?;
        let mut claimed: Vec<Claimed> = Vec::new();
        for chunk in ids.chunks(CHUNK_ROWS) {
            let sql = format!(
                "DELETE FROM deleted_messages WHERE account_id = $1 AND id IN ({}) RETURNING id, mailbox_id, \
                 mailbox_name, flags, keywords, internal_date, size, thread_id, blob_hash, msgid_header",
                placeholders(2, chunk.len())
            );
            let mut q = batch(sql, chunk.len()).bind(account);
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&mut *tx).await? {
                claimed.push(Claimed {
                    id: row.try_get("id")?,
                    mailbox_id: row.try_get("mailbox_id")?,
                    mailbox_name: row.try_get("mailbox_name")?,
                    flags: row.try_get("flags")?,
                    keywords: row.try_get("keywords")?,
                    internal_date: row.try_get("internal_date")?,
                    size: row.try_get("size")?,
                    thread_id: row.try_get("thread_id")?,
                    blob: row.try_get("blob_hash")?,
                    msgid: row.try_get("msgid_header")?,
                });
            }
        }
        if claimed.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        claimed.sort_by_key(|c| c.id);

        // Where each goes: the folder itself, one of that name, the Inbox.
        let folders = sqlx::query("SELECT id, name, special_use FROM mailboxes WHERE account_id = $1")
            .bind(account)
            .fetch_all(&mut *tx)
            .await?;
        let mut by_id: HashSet<i64> = HashSet::new();
        let mut by_name: HashMap<String, i64> = HashMap::new();
        let mut inbox = None;
        for row in &folders {
            let id: i64 = row.try_get("id")?;
            let special: Option<String> = row.try_get("special_use")?;
            if special.as_deref() == Some("inbox") {
                inbox = Some(id);
            }
            by_id.insert(id);
            by_name.insert(row.try_get("name")?, id);
        }
        let mut targets = Vec::with_capacity(claimed.len());
        for c in &claimed {
            let target = if by_id.contains(&c.mailbox_id) {
                Some(c.mailbox_id)
            } else {
                by_name.get(&c.mailbox_name).copied().or(inbox)
            };
            targets.push(target.ok_or(Error::NotFound("mailbox"))?);
        }
        let mut per_mailbox: BTreeMap<MailboxId, i64> = BTreeMap::new();
        for t in &targets {
            *per_mailbox.entry(*t).or_default() += 1;
        }
        let mailboxes: Vec<MailboxId> = per_mailbox.keys().copied().collect();
        self.lock_ids(&mut tx, Locked::Mailboxes, &mailboxes).await?;
        let mut next: HashMap<MailboxId, (i64, i64)> = HashMap::new();
        for (mailbox, count) in &per_mailbox {
            let row = sqlx::query(
                "UPDATE mailboxes SET uid_next = uid_next + $1, highest_modseq = highest_modseq + $1, \
                 placeholder = 0 WHERE id = $2 RETURNING uid_next, highest_modseq",
            )
            .bind(*count)
            .bind(*mailbox)
            .fetch_one(&mut *tx)
            .await?;
            let uid_next: i64 = row.try_get("uid_next")?;
            let highest: i64 = row.try_get("highest_modseq")?;
            if uid_next - 1 > i64::from(u32::MAX) {
                return Err(Error::Invalid(format!("mailbox {mailbox} has run out of UIDs")));
            }
            next.insert(*mailbox, (uid_next - count, highest - count + 1));
        }

        let mut out = Vec::with_capacity(claimed.len());
        let mut bytes = 0i64;
        for (c, mailbox) in claimed.iter().zip(targets) {
            let slot = next.get_mut(&mailbox).expect("every target mailbox was counted");
            let (uid, modseq) = *slot;
            *slot = (uid + 1, modseq + 1);
            let message: i64 = sqlx::query_scalar(
                "INSERT INTO messages (account_id, mailbox_id, uid, modseq, flags, keywords, internal_date, \
                 saved_date, size, thread_id, blob_hash, msgid_header) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(account)
            .bind(mailbox)
            .bind(uid)
            .bind(modseq)
            .bind(c.flags & !Flag::Deleted.bit())
            .bind(&c.keywords)
            .bind(c.internal_date)
            .bind(now)
            .bind(c.size)
            .bind(c.thread_id)
            .bind(&c.blob)
            .bind(c.msgid.as_deref())
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO changes (account_id, mailbox_id, modseq, kind, uid, message_id, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(account)
            .bind(mailbox)
            .bind(modseq)
            .bind(ChangeKind::New.as_str())
            .bind(uid)
            .bind(message)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            bytes += c.size;
            out.push(Restored { deleted: c.id, account, mailbox, uid, modseq, message, blob: blob_id(&c.blob)? });
        }
        add_to_accounts(&mut tx, &[(account, bytes)]).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Forgets up to `limit` deleted messages deleted before
    /// `deleted_before` (unix seconds), oldest first, releasing their blob
    /// references for the garbage collector. Returns how many went; the
    /// caller repeats while it gets `limit`. Writes give way to
    /// interactive ones.
    pub async fn purge_deleted(&self, deleted_before: i64, limit: i64) -> Result<usize> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM deleted_messages WHERE deleted_at < $1 ORDER BY deleted_at, id LIMIT $2",
        )
        .bind(deleted_before)
        .bind(limit.clamp(0, CHUNK_ROWS as i64 * 8))
        .fetch_all(&self.pool)
        .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let now = now();
        let mut tx = self.write_tx_grouped(Urgency::Bulk).await?;
        let mut per_blob: BTreeMap<String, i64> = BTreeMap::new();
        let mut purged = 0;
        for chunk in ids.chunks(CHUNK_ROWS) {
            let sql = format!(
                "DELETE FROM deleted_messages WHERE id IN ({}) RETURNING blob_hash",
                placeholders(1, chunk.len())
            );
            let mut q = batch(sql, chunk.len());
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&mut *tx).await? {
                *per_blob.entry(row.try_get("blob_hash")?).or_default() += 1;
                purged += 1;
            }
        }
        let per_blob: Vec<(&str, i64)> = per_blob.iter().map(|(h, n)| (h.as_str(), *n)).collect();
        self.release_blob_refs(&mut tx, &per_blob, now).await?;
        tx.commit().await?;
        Ok(purged)
    }
}
