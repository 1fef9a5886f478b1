//! Reading messages, changing their flags, expunging them, the change log,
//! and the blob bookkeeping the garbage collector relies on.

use std::collections::BTreeMap;

use model::{AccountId, BlobId, MailboxId, MessageId};
use sqlx::AnyConnection;
use sqlx::Row;

use crate::deleted::{Deletion, keep_deleted};
use crate::deliver::{add_to_accounts, batch};
use crate::error::{Error, Result};
use crate::sql::{CHUNK_ROWS, Locked, check_flags, keywords_text, placeholders, tuples};
use crate::types::{
    BLOB_COLS, BlobRow, CHANGE_COLS, Change, ChangeKind, FlagOp, FlagOutcome, MESSAGE_COLS, MessageRow, blob_id,
};
use crate::{Backend, Store, Urgency, now};

impl Store {
    // ----- reading -----

    /// The messages of a mailbox, by increasing UID.
    pub async fn messages(&self, mailbox: MailboxId) -> Result<Vec<MessageRow>> {
        if let Some(rows) = self.rows_aggregated(mailbox, None).await? {
            return Ok(rows);
        }
        let sql = format!("SELECT {MESSAGE_COLS} FROM messages WHERE mailbox_id = $1 ORDER BY uid");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(mailbox).fetch_all(&self.pool).await?;
        rows.iter().map(MessageRow::from_row).collect()
    }

    /// The messages of a mailbox with a UID in `first..=last`, by increasing UID.
    pub async fn messages_between(&self, mailbox: MailboxId, first: i64, last: i64) -> Result<Vec<MessageRow>> {
        if let Some(rows) = self.rows_aggregated(mailbox, Some((first, last))).await? {
            return Ok(rows);
        }
        let sql = format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE mailbox_id = $1 AND uid >= $2 AND uid <= $3 ORDER BY uid"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(mailbox).bind(first).bind(last).fetch_all(&self.pool).await?;
        rows.iter().map(MessageRow::from_row).collect()
    }

    /// The shared rows of several blobs at once (those that exist), in no
    /// particular order: FETCH ENVELOPE over a whole mailbox reads its
    /// metadata in a few queries rather than one per message.
    pub async fn blob_metas(&self, ids: &[BlobId]) -> Result<Vec<BlobRow>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK_ROWS) {
            let sql = format!("SELECT {BLOB_COLS} FROM blobs WHERE hash IN ({})", placeholders(1, chunk.len()));
            let mut q = batch(sql, chunk.len());
            for id in chunk {
                q = q.bind(id.as_str());
            }
            for row in q.fetch_all(&self.pool).await? {
                out.push(BlobRow::from_row(&row)?);
            }
        }
        Ok(out)
    }

    pub async fn message_by_uid(&self, mailbox: MailboxId, uid: i64) -> Result<Option<MessageRow>> {
        let sql = format!("SELECT {MESSAGE_COLS} FROM messages WHERE mailbox_id = $1 AND uid = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(mailbox).bind(uid).fetch_optional(&self.pool).await?;
        row.as_ref().map(MessageRow::from_row).transpose()
    }

    pub async fn message(&self, id: MessageId) -> Result<Option<MessageRow>> {
        let sql = format!("SELECT {MESSAGE_COLS} FROM messages WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(MessageRow::from_row).transpose()
    }

    /// The shared row of a blob: reference count and message analysis.
    pub async fn blob_meta(&self, id: &BlobId) -> Result<Option<BlobRow>> {
        let sql = format!("SELECT {BLOB_COLS} FROM blobs WHERE hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(BlobRow::from_row).transpose()
    }

    /// Changes of a mailbox with a modseq above `modseq`, oldest first
    /// (IMAP CONDSTORE and QRESYNC). Includes the mailbox's own `mailbox`
    /// entries (its creation has modseq 1).
    pub async fn changes_since(&self, mailbox: MailboxId, modseq: i64) -> Result<Vec<Change>> {
        let sql =
            format!("SELECT {CHANGE_COLS} FROM changes WHERE mailbox_id = $1 AND modseq > $2 ORDER BY modseq, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(mailbox).bind(modseq).fetch_all(&self.pool).await?;
        rows.iter().map(Change::from_row).collect()
    }

    /// Changes of an account with an id above `after`, oldest first (JMAP
    /// states). Within an account, ids follow commit order.
    pub async fn account_changes_since(&self, account: AccountId, after: i64) -> Result<Vec<Change>> {
        let sql = format!("SELECT {CHANGE_COLS} FROM changes WHERE account_id = $1 AND id > $2 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).bind(after).fetch_all(&self.pool).await?;
        rows.iter().map(Change::from_row).collect()
    }

    // ----- flags and expunge -----

    /// Replaces a message's flags and keywords, gives it a new modseq (the
    /// mailbox's next) and logs a `flags` change. Returns the new modseq.
    pub async fn set_flags(&self, message: MessageId, flags: i64, keywords: &[String]) -> Result<i64> {
        check_flags(flags)?;
        let keywords = keywords_text(keywords)?;
        let mut tx = self.write_tx_grouped(Urgency::Interactive).await?;
        let row = sqlx::query("SELECT account_id, mailbox_id FROM messages WHERE id = $1")
            .bind(message)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("message"))?;
        let account: AccountId = row.try_get("account_id")?;
        let mailbox: MailboxId = row.try_get("mailbox_id")?;
        self.lock_ids(&mut tx, Locked::Accounts, &[account]).await?;
        self.lock_ids(&mut tx, Locked::Mailboxes, &[mailbox]).await?;
        let modseq = bump_modseq(&mut tx, mailbox, 1).await?;
        // The message may have been expunged while this transaction waited.
        let uid: Option<i64> = sqlx::query_scalar(
            "UPDATE messages SET flags = $1, keywords = $2, modseq = $3 WHERE id = $4 RETURNING uid",
        )
        .bind(flags)
        .bind(&keywords)
        .bind(modseq)
        .bind(message)
        .fetch_optional(&mut *tx)
        .await?;
        let uid = uid.ok_or(Error::NotFound("message"))?;
        sqlx::query(
            "INSERT INTO changes (account_id, mailbox_id, modseq, kind, uid, message_id, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(account)
        .bind(mailbox)
        .bind(modseq)
        .bind(ChangeKind::Flags.as_str())
        .bind(uid)
        .bind(message)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(modseq)
    }

    /// Changes the flags of the messages with these UIDs in one transaction:
    /// each message's current flags are read and combined with `flags` and
    /// `keywords` (per `op`) under the write lock, so concurrent `+FLAGS` and
    /// `-FLAGS` from several sessions never lose one another's changes. Each
    /// changed message gets a modseq of its own (in UID order) and a `flags`
    /// change; with `unchanged_since`, messages whose modseq is above it are
    /// left alone (CONDSTORE). Returns one outcome per requested UID, in
    /// increasing UID order; UIDs not in the mailbox are reported missing.
    pub async fn update_flags(
        &self,
        mailbox: MailboxId,
        uids: &[i64],
        op: FlagOp,
        flags: i64,
        keywords: &[String],
        unchanged_since: Option<i64>,
    ) -> Result<Vec<FlagOutcome>> {
        check_flags(flags)?;
        let given: Vec<String> = {
            let text = keywords_text(keywords)?;
            text.split_whitespace().map(str::to_owned).collect()
        };
        let mut uids = uids.to_vec();
        uids.sort_unstable();
        uids.dedup();
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx_grouped(Urgency::Interactive).await?;
        let account: AccountId = sqlx::query_scalar("SELECT account_id FROM mailboxes WHERE id = $1")
            .bind(mailbox)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("mailbox"))?;
        self.lock_ids(&mut tx, Locked::Accounts, &[account]).await?;
        self.lock_ids(&mut tx, Locked::Mailboxes, &[mailbox]).await?;

        let mut rows: BTreeMap<i64, MessageRow> = BTreeMap::new();
        for chunk in uids.chunks(CHUNK_ROWS) {
            let sql = format!(
                "SELECT {MESSAGE_COLS} FROM messages WHERE mailbox_id = $1 AND uid IN ({})",
                placeholders(2, chunk.len())
            );
            let mut q = batch(sql, chunk.len()).bind(mailbox);
            for uid in chunk {
                q = q.bind(*uid);
            }
            for row in q.fetch_all(&mut *tx).await? {
                let m = MessageRow::from_row(&row)?;
                rows.insert(m.uid, m);
            }
        }

        // Work out every outcome first, then allocate the modseqs at once.
        let mut out = Vec::with_capacity(uids.len());
        let mut changed: Vec<(MessageId, i64, i64, String)> = Vec::new();
        for uid in &uids {
            let Some(row) = rows.get(uid) else {
                out.push(FlagOutcome::Missing { uid: *uid });
                continue;
            };
            if unchanged_since.is_some_and(|n| row.modseq > n) {
                out.push(FlagOutcome::Modified { uid: *uid });
                continue;
            }
            let (new_flags, mut new_keywords) = match op {
                FlagOp::Replace => (flags, given.clone()),
                FlagOp::Add => {
                    let mut k = row.keywords.clone();
                    k.extend(given.iter().filter(|w| !row.keywords.contains(w)).cloned());
                    (row.flags | flags, k)
                }
                FlagOp::Remove => {
                    (row.flags & !flags, row.keywords.iter().filter(|w| !given.contains(w)).cloned().collect())
                }
            };
            new_keywords.sort();
            new_keywords.dedup();
            let mut old_keywords = row.keywords.clone();
            old_keywords.sort();
            if new_flags == row.flags && new_keywords == old_keywords {
                out.push(FlagOutcome::Unchanged {
                    uid: *uid,
                    flags: row.flags,
                    keywords: old_keywords,
                    modseq: row.modseq,
                });
                continue;
            }
            changed.push((row.id, *uid, new_flags, new_keywords.join(" ")));
            out.push(FlagOutcome::Changed { uid: *uid, flags: new_flags, keywords: new_keywords, modseq: 0 });
        }
        if changed.is_empty() {
            tx.rollback().await?;
            return Ok(out);
        }

        let count = changed.len() as i64;
        let first_modseq = bump_modseq(&mut tx, mailbox, count).await? - count + 1;
        for (i, (id, _, new_flags, new_keywords)) in changed.iter().enumerate() {
            sqlx::query("UPDATE messages SET flags = $1, keywords = $2, modseq = $3 WHERE id = $4")
                .bind(*new_flags)
                .bind(new_keywords)
                .bind(first_modseq + i as i64)
                .bind(*id)
                .execute(&mut *tx)
                .await?;
        }
        let now = now();
        for (c, chunk) in changed.chunks(CHUNK_ROWS).enumerate() {
            let sql = format!(
                "INSERT INTO changes (at, kind, account_id, mailbox_id, modseq, uid, message_id) VALUES {}",
                tuples("$1, $2, $3, $4", 5, chunk.len(), 3)
            );
            let mut q = batch(sql, chunk.len()).bind(now).bind(ChangeKind::Flags.as_str()).bind(account).bind(mailbox);
            for (i, (id, uid, _, _)) in chunk.iter().enumerate() {
                q = q.bind(first_modseq + (c * CHUNK_ROWS + i) as i64).bind(*uid).bind(*id);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;

        let mut next = first_modseq;
        for o in &mut out {
            if let FlagOutcome::Changed { modseq, .. } = o {
                *modseq = next;
                next += 1;
            }
        }
        Ok(out)
    }

    /// Removes the messages with these UIDs from a mailbox and returns the
    /// UIDs actually removed, in increasing order (UIDs not present are
    /// ignored). Each removal drops a blob reference (releasing the blob when
    /// it was the last), frees the account's usage, and is logged as an
    /// `expunge` change with a modseq of its own. Nothing is kept: this is
    /// the source side of a move, or the undoing of what was just added; a
    /// user's deletion is [`Store::delete_messages`].
    pub async fn expunge(&self, mailbox: MailboxId, uids: &[i64]) -> Result<Vec<i64>> {
        self.remove_messages(mailbox, uids, None).await
    }

    /// [`Store::expunge`] for a deletion: each removed message is kept in
    /// `deleted_messages` (see `deleted.rs`) with its blob reference, folder,
    /// flags and dates, so that it can be restored until purged. The
    /// account's usage is freed all the same.
    pub async fn delete_messages(&self, mailbox: MailboxId, uids: &[i64], cause: Deletion) -> Result<Vec<i64>> {
        self.remove_messages(mailbox, uids, Some(cause)).await
    }

    async fn remove_messages(&self, mailbox: MailboxId, uids: &[i64], keep: Option<Deletion>) -> Result<Vec<i64>> {
        let mut uids = uids.to_vec();
        uids.sort_unstable();
        uids.dedup();
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let now = now();
        let mut tx = self.write_tx_grouped(Urgency::Interactive).await?;
        let row = sqlx::query("SELECT account_id, name FROM mailboxes WHERE id = $1")
            .bind(mailbox)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound("mailbox"))?;
        let account: AccountId = row.try_get("account_id")?;
        let name: String = row.try_get("name")?;
        self.lock_ids(&mut tx, Locked::Accounts, &[account]).await?;
        self.lock_ids(&mut tx, Locked::Mailboxes, &[mailbox]).await?;

        let mut gone: Vec<MessageRow> = Vec::new();
        for chunk in uids.chunks(CHUNK_ROWS) {
            let sql = format!(
                "DELETE FROM messages WHERE mailbox_id = $1 AND uid IN ({}) RETURNING {MESSAGE_COLS}",
                placeholders(2, chunk.len())
            );
            let mut q = batch(sql, chunk.len()).bind(mailbox);
            for uid in chunk {
                q = q.bind(*uid);
            }
            for row in q.fetch_all(&mut *tx).await? {
                gone.push(MessageRow::from_row(&row)?);
            }
        }
        if gone.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        gone.sort_by_key(|g| g.uid);

        match keep {
            Some(cause) => keep_deleted(&mut tx, &gone, &name, cause, now).await?,
            None => {
                let mut per_blob: BTreeMap<&str, i64> = BTreeMap::new();
                for g in &gone {
                    *per_blob.entry(g.blob_hash.as_str()).or_default() += 1;
                }
                let per_blob: Vec<(&str, i64)> = per_blob.into_iter().collect();
                self.release_blob_refs(&mut tx, &per_blob, now).await?;
            }
        }
        let freed: i64 = gone.iter().map(|g| g.size).sum();
        add_to_accounts(&mut tx, &[(account, -freed)]).await?;

        let count = gone.len() as i64;
        let first_modseq = bump_modseq(&mut tx, mailbox, count).await? - count + 1;
        for (c, chunk) in gone.chunks(CHUNK_ROWS).enumerate() {
            let sql = format!(
                "INSERT INTO changes (at, kind, account_id, mailbox_id, modseq, uid, message_id) VALUES {}",
                tuples("$1, $2, $3, $4", 5, chunk.len(), 3)
            );
            let mut q =
                batch(sql, chunk.len()).bind(now).bind(ChangeKind::Expunge.as_str()).bind(account).bind(mailbox);
            for (i, g) in chunk.iter().enumerate() {
                q = q.bind(first_modseq + (c * CHUNK_ROWS + i) as i64).bind(g.uid).bind(g.id);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(gone.into_iter().map(|g| g.uid).collect())
    }

    /// Takes one reference on `blob` for a row that is not a message (a
    /// queued, held, quarantined or archived copy): the blob row is made,
    /// bare, when no message has it yet; a released one is kept again.
    pub(crate) async fn take_blob_ref(conn: &mut AnyConnection, blob: &BlobId, size: i64, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO blobs (hash, size, refcount, released_at, meta, subject, from_addr, sent_date, \
             has_attachment, preview, created_at) VALUES ($1, $2, 1, NULL, '{}', '', '', NULL, 0, '', $3) \
             ON CONFLICT (hash) DO UPDATE SET refcount = blobs.refcount + 1, released_at = NULL",
        )
        .bind(blob.as_str())
        .bind(size)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Drops references from blobs: `(hash, count)` pairs sorted by hash.
    /// On PostgreSQL the rows are locked in hash order first, so that two
    /// expunges sharing blobs cannot deadlock.
    pub(crate) async fn release_blob_refs(
        &self,
        conn: &mut AnyConnection,
        per_blob: &[(&str, i64)],
        now: i64,
    ) -> Result<()> {
        for chunk in per_blob.chunks(CHUNK_ROWS) {
            if self.backend == Backend::Postgres {
                let sql = format!(
                    "SELECT hash FROM blobs WHERE hash IN ({}) ORDER BY hash FOR NO KEY UPDATE",
                    placeholders(1, chunk.len())
                );
                let mut q = batch(sql, chunk.len());
                for (hash, _) in chunk {
                    q = q.bind(*hash);
                }
                q.fetch_all(&mut *conn).await?;
            }
            let now_param = chunk.len() * 2 + 1;
            let sql = format!(
                "WITH v(h, n) AS (VALUES {}) \
                 UPDATE blobs SET refcount = blobs.refcount - v.n, \
                 released_at = CASE WHEN blobs.refcount - v.n <= 0 THEN ${now_param} ELSE blobs.released_at END \
                 FROM v WHERE blobs.hash = v.h",
                tuples("", 1, chunk.len(), 2)
            );
            let mut q = batch(sql, chunk.len());
            for (hash, n) in chunk {
                q = q.bind(*hash).bind(*n);
            }
            q.bind(now).execute(&mut *conn).await?;
        }
        Ok(())
    }

    // ----- blob garbage collection -----

    /// Blobs without any reference, released at or before `older_than_unix`.
    pub async fn released_blobs(&self, older_than_unix: i64) -> Result<Vec<BlobId>> {
        let hashes: Vec<String> = sqlx::query_scalar(
            "SELECT hash FROM blobs WHERE refcount = 0 AND released_at <= $1 ORDER BY released_at, hash",
        )
        .bind(older_than_unix)
        .fetch_all(&self.pool)
        .await?;
        hashes.iter().map(|h| blob_id(h)).collect()
    }

    /// Deletes a blob's row if it still has no reference, and tells whether
    /// it did. Only then may the collector delete the file; a delivery racing
    /// with the collector either comes first (the row survives) or recreates
    /// the row after it (and has rewritten the file before).
    pub async fn forget_blob(&self, id: &BlobId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM blobs WHERE hash = $1 AND refcount = 0")
            .bind(id.as_str())
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether the store has a row for this blob (referenced or not).
    pub async fn blob_known(&self, id: &BlobId) -> Result<bool> {
        let found: Option<String> = sqlx::query_scalar("SELECT hash FROM blobs WHERE hash = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    pub async fn blob_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM blobs").fetch_one(&self.pool).await?)
    }
}

/// Raises a mailbox's highest modseq by `by` and returns the new value.
pub(crate) async fn bump_modseq(conn: &mut AnyConnection, mailbox: MailboxId, by: i64) -> Result<i64> {
    let modseq: Option<i64> = sqlx::query_scalar(
        "UPDATE mailboxes SET highest_modseq = highest_modseq + $1 WHERE id = $2 RETURNING highest_modseq",
    )
    .bind(by)
    .bind(mailbox)
    .fetch_optional(conn)
    .await?;
    modseq.ok_or(Error::NotFound("mailbox"))
}
