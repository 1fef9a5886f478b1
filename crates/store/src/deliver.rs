//! Delivery: one message, any number of mailboxes, one transaction.
//!
//! A circular to a whole académie arrives as one call with thousands of
//! targets, so every step is a batched statement over chunks of targets
//! rather than a statement per copy: a delivery to 2,000 mailboxes costs a
//! few dozen round trips, not ten thousand.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use model::{AccountId, MailboxId};
use sqlx::AnyConnection;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};

use crate::error::{Error, Result};
use crate::sql::{
    CHUNK_ROWS, Locked, MAX_REFERENCES, check_flags, keywords_text, normalize_msgid, placeholders, tuples,
};
use crate::types::{ChangeKind, Delivered, NewMessage, Target};
use crate::{Store, Urgency, now};

/// A batched statement. Statements of the usual shapes (one row, a full
/// chunk) are kept prepared; odd-sized remainders are not, so that they do
/// not crowd the statement cache.
pub(crate) fn batch<'q>(sql: String, rows: usize) -> Query<'q, Any, AnyArguments> {
    sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(rows == 1 || rows == CHUNK_ROWS)
}

impl Store {
    /// Stores one message in every target mailbox, atomically.
    ///
    /// The blob row is created or gains `targets.len()` references. Each copy
    /// takes its mailbox's next UID and a new modseq (several copies in one
    /// mailbox take consecutive ones), joins the thread of an earlier message
    /// of the same account that shares a message id with it (its own or one it
    /// references, in either direction) or starts a thread named by its own id,
    /// adds its size to the account's usage, and is logged as a `new` change.
    /// Results come back in the order of `targets`. An interactive write;
    /// see [`Store::deliver_with`].
    pub async fn deliver(&self, msg: &NewMessage, targets: &[Target]) -> Result<Vec<Delivered>> {
        self.deliver_with(msg, targets, Urgency::Interactive).await
    }

    /// [`Store::deliver`] with its place among the waiting writers: mail
    /// from other servers is [`Urgency::Bulk`], a user's APPEND interactive.
    pub async fn deliver_with(&self, msg: &NewMessage, targets: &[Target], urgency: Urgency) -> Result<Vec<Delivered>> {
        self.deliver_once(msg, targets, urgency, std::future::ready(Ok(()))).await
    }

    /// [`Store::deliver_with`] for a message whose blob is still being
    /// written: the transaction runs meanwhile and commits only once
    /// `blob_durable` says the file is on disk (its error rolls everything
    /// back), so no committed row ever names a blob that a crash could lose.
    /// The blob write should have started before: this holds the write lock
    /// while it waits.
    pub async fn deliver_once(
        &self,
        msg: &NewMessage,
        targets: &[Target],
        urgency: Urgency,
        blob_durable: impl Future<Output = std::io::Result<()>>,
    ) -> Result<Vec<Delivered>> {
        let one = Prepared::new(msg, targets)?;
        let mut tx = self.write_tx_grouped(urgency).await?;
        let conn: &mut AnyConnection = &mut tx;
        // Lock order: accounts, then mailboxes, then the blob (see lib.rs).
        self.lock_ids(conn, Locked::Accounts, &one.accounts()).await?;
        self.lock_ids(conn, Locked::Mailboxes, &one.mailboxes()).await?;
        let rows = one.file(conn, now()).await?;
        blob_durable.await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Several messages in one transaction, each as [`Store::deliver`] files
    /// it (in order: a later one may join an earlier one's thread), then
    /// `also` with what was filed, in the same transaction. All or nothing:
    /// one invalid message or a failing `also` files none of them. For bulk
    /// copies (a migration's batch of a hundred messages costs one commit
    /// rather than two hundred); the blobs must be durable before the call.
    pub async fn deliver_many(
        &self,
        messages: &[(NewMessage, Vec<Target>)],
        urgency: Urgency,
    ) -> Result<Vec<Vec<Delivered>>> {
        let refs: Vec<(&NewMessage, &[Target])> = messages.iter().map(|(m, t)| (m, t.as_slice())).collect();
        self.deliver_batch(&refs, urgency, async |_, _| Ok(())).await
    }

    /// [`Store::deliver_many`] with more statements in the same transaction.
    pub(crate) async fn deliver_batch<F>(
        &self,
        messages: &[(&NewMessage, &[Target])],
        urgency: Urgency,
        also: F,
    ) -> Result<Vec<Vec<Delivered>>>
    where
        F: AsyncFnOnce(&mut AnyConnection, &[Vec<Delivered>]) -> Result<()>,
    {
        let prepared = messages.iter().map(|(m, t)| Prepared::new(m, t)).collect::<Result<Vec<_>>>()?;
        let mut accounts: Vec<AccountId> = prepared.iter().flat_map(Prepared::accounts).collect();
        let mut mailboxes: Vec<MailboxId> = prepared.iter().flat_map(Prepared::mailboxes).collect();
        accounts.sort_unstable();
        accounts.dedup();
        mailboxes.sort_unstable();
        mailboxes.dedup();
        let mut tx = self.write_tx_grouped(urgency).await?;
        let conn: &mut AnyConnection = &mut tx;
        // Every lock first, in the one order (see lib.rs), so that batches
        // never wait on each other in a cycle.
        self.lock_ids(conn, Locked::Accounts, &accounts).await?;
        self.lock_ids(conn, Locked::Mailboxes, &mailboxes).await?;
        let now = now();
        let mut filed = Vec::with_capacity(prepared.len());
        for one in &prepared {
            filed.push(one.file(conn, now).await?);
        }
        also(conn, &filed).await?;
        tx.commit().await?;
        Ok(filed)
    }
}

/// One message's delivery, checked before any lock is taken.
struct Prepared<'a> {
    msg: &'a NewMessage,
    targets: &'a [Target],
    keywords: Vec<String>,
    msgid: Option<String>,
    keys: Vec<String>,
    per_account: BTreeMap<AccountId, i64>,
    per_mailbox: BTreeMap<MailboxId, i64>,
}

impl<'a> Prepared<'a> {
    fn new(msg: &'a NewMessage, targets: &'a [Target]) -> Result<Prepared<'a>> {
        if targets.is_empty() {
            return Err(Error::Invalid("a delivery needs at least one target".into()));
        }
        if msg.size < 0 {
            return Err(Error::Invalid("a message size cannot be negative".into()));
        }
        let mut keywords = Vec::with_capacity(targets.len());
        for t in targets {
            check_flags(t.flags)?;
            keywords.push(keywords_text(&t.keywords)?);
        }
        let msgid = msg.msgid_header.as_deref().and_then(normalize_msgid);
        let keys = thread_keys(msgid.as_deref(), &msg.references);
        let mut per_account: BTreeMap<AccountId, i64> = BTreeMap::new();
        let mut per_mailbox: BTreeMap<MailboxId, i64> = BTreeMap::new();
        for t in targets {
            *per_account.entry(t.account).or_default() += 1;
            *per_mailbox.entry(t.mailbox).or_default() += 1;
        }
        Ok(Prepared { msg, targets, keywords, msgid, keys, per_account, per_mailbox })
    }

    fn accounts(&self) -> Vec<AccountId> {
        self.per_account.keys().copied().collect()
    }

    fn mailboxes(&self) -> Vec<MailboxId> {
        self.per_mailbox.keys().copied().collect()
    }

    /// The statements of one delivery, its locks already held.
    async fn file(&self, conn: &mut AnyConnection, now: i64) -> Result<Vec<Delivered>> {
        let (msg, targets) = (self.msg, self.targets);
        let counters = bump_mailboxes(conn, &self.per_mailbox).await?;
        let mut next: HashMap<MailboxId, (i64, i64)> = HashMap::with_capacity(counters.len());
        for t in targets {
            let Some(c) = counters.get(&t.mailbox) else {
                return Err(Error::NotFound("mailbox"));
            };
            if c.account != t.account {
                return Err(Error::Invalid(format!("mailbox {} does not belong to account {}", t.mailbox, t.account)));
            }
            next.insert(t.mailbox, (c.first_uid, c.first_modseq));
        }
        let usage: Vec<(i64, i64)> = self.per_account.iter().map(|(a, n)| (*a, n * msg.size)).collect();
        add_to_accounts(conn, &usage).await?;
        upsert_blob(conn, msg, targets.len() as i64, now).await?;
        let accounts = self.accounts();
        let threads = find_threads(conn, &accounts, &self.keys).await?;

        let mut rows: Vec<Delivered> = targets
            .iter()
            .map(|t| {
                let slot = next.get_mut(&t.mailbox).expect("every target mailbox has counters");
                let (uid, modseq) = *slot;
                *slot = (uid + 1, modseq + 1);
                Delivered {
                    account: t.account,
                    mailbox: t.mailbox,
                    message: 0,
                    uid,
                    modseq,
                    thread_id: threads.get(&t.account).copied().unwrap_or(0),
                }
            })
            .collect();
        insert_messages(conn, msg, self.msgid.as_deref(), &self.keywords, targets, &mut rows, now).await?;

        // Accounts with no earlier thread start one named by their first copy.
        let mut started: HashMap<AccountId, i64> = HashMap::new();
        let mut renamed = Vec::new();
        for r in rows.iter_mut().filter(|r| r.thread_id == 0) {
            r.thread_id = *started.entry(r.account).or_insert(r.message);
            renamed.push((r.message, r.thread_id));
        }
        set_thread_ids(conn, &renamed).await?;
        remember_thread_keys(conn, &rows, &self.keys).await?;
        log_new_messages(conn, &rows, now).await?;
        Ok(rows)
    }
}

/// The message ids that link a message to its thread: its own, then those it
/// references, de-duplicated and capped.
fn thread_keys(own: Option<&str>, references: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let candidates = own.map(str::to_owned).into_iter().chain(references.iter().filter_map(|r| normalize_msgid(r)));
    for key in candidates {
        if keys.len() > MAX_REFERENCES {
            break;
        }
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// What a mailbox hands to the copies delivered into it.
struct Counters {
    account: AccountId,
    first_uid: i64,
    first_modseq: i64,
}

/// Reserves `count` UIDs and modseqs in each mailbox. A placeholder parent
/// that receives mail becomes a real mailbox in the same statement.
async fn bump_mailboxes(
    conn: &mut AnyConnection,
    per_mailbox: &BTreeMap<MailboxId, i64>,
) -> Result<HashMap<MailboxId, Counters>> {
    let entries: Vec<(MailboxId, i64)> = per_mailbox.iter().map(|(m, n)| (*m, *n)).collect();
    let mut out = HashMap::with_capacity(entries.len());
    for chunk in entries.chunks(CHUNK_ROWS) {
        let sql = format!(
            "WITH v(mbx, k) AS (VALUES {}) \
             UPDATE mailboxes SET uid_next = mailboxes.uid_next + v.k, \
             highest_modseq = mailboxes.highest_modseq + v.k, placeholder = 0 \
             FROM v WHERE mailboxes.id = v.mbx \
             RETURNING id, account_id, uid_next, highest_modseq",
            tuples("", 1, chunk.len(), 2)
        );
        let mut q = batch(sql, chunk.len());
        for (mailbox, count) in chunk {
            q = q.bind(*mailbox).bind(*count);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let id: i64 = row.try_get("id")?;
            let uid_next: i64 = row.try_get("uid_next")?;
            let highest: i64 = row.try_get("highest_modseq")?;
            if uid_next - 1 > i64::from(u32::MAX) {
                return Err(Error::Invalid(format!("mailbox {id} has run out of UIDs")));
            }
            let count = per_mailbox[&id];
            out.insert(
                id,
                Counters {
                    account: row.try_get("account_id")?,
                    first_uid: uid_next - count,
                    first_modseq: highest - count + 1,
                },
            );
        }
    }
    Ok(out)
}

/// Adds byte counts to accounts' usage (negative counts remove, never below 0).
pub(crate) async fn add_to_accounts(conn: &mut AnyConnection, usage: &[(AccountId, i64)]) -> Result<()> {
    for chunk in usage.chunks(CHUNK_ROWS) {
        let sql = format!(
            "WITH v(acc, n) AS (VALUES {}) \
             UPDATE accounts SET used_bytes = CASE WHEN accounts.used_bytes + v.n > 0 \
             THEN accounts.used_bytes + v.n ELSE 0 END \
             FROM v WHERE accounts.id = v.acc",
            tuples("", 1, chunk.len(), 2)
        );
        let mut q = batch(sql, chunk.len());
        for (account, bytes) in chunk {
            q = q.bind(*account).bind(*bytes);
        }
        let done = q.execute(&mut *conn).await?;
        if done.rows_affected() != chunk.len() as u64 {
            return Err(Error::NotFound("account"));
        }
    }
    Ok(())
}

/// Creates the blob row or adds references to it, un-releasing it.
async fn upsert_blob(conn: &mut AnyConnection, msg: &NewMessage, refs: i64, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO blobs (hash, size, refcount, released_at, meta, subject, from_addr, sent_date, \
         has_attachment, preview, created_at, imap_envelope, imap_envelope_utf8) \
         VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (hash) DO UPDATE SET refcount = blobs.refcount + excluded.refcount, released_at = NULL",
    )
    .bind(msg.blob.as_str())
    .bind(msg.size)
    .bind(refs)
    .bind(&msg.meta_json)
    .bind(&msg.subject)
    .bind(&msg.from_addr)
    .bind(msg.sent_date)
    .bind(i64::from(msg.has_attachment))
    .bind(&msg.preview)
    .bind(now)
    .bind(&msg.imap_envelope)
    .bind(&msg.imap_envelope_utf8)
    .execute(conn)
    .await?;
    Ok(())
}

/// The thread each account already files any of these message ids under.
async fn find_threads(
    conn: &mut AnyConnection,
    accounts: &[AccountId],
    keys: &[String],
) -> Result<HashMap<AccountId, i64>> {
    let mut out = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    for chunk in accounts.chunks(CHUNK_ROWS) {
        let sql = format!(
            "SELECT account_id, MIN(thread_id) AS thread_id FROM thread_refs \
             WHERE account_id IN ({}) AND msgid IN ({}) GROUP BY account_id",
            placeholders(1, chunk.len()),
            placeholders(chunk.len() + 1, keys.len())
        );
        // The text varies with the number of ids too: not worth keeping prepared.
        let mut q = batch(sql, 0);
        for account in chunk {
            q = q.bind(*account);
        }
        for key in keys {
            q = q.bind(key.as_str());
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.insert(row.try_get("account_id")?, row.try_get("thread_id")?);
        }
    }
    Ok(out)
}

/// Inserts the message rows and fills in their ids.
async fn insert_messages(
    conn: &mut AnyConnection,
    msg: &NewMessage,
    msgid: Option<&str>,
    keywords: &[String],
    targets: &[Target],
    rows: &mut [Delivered],
    now: i64,
) -> Result<()> {
    const SHARED: &str = "$1, $2, $3, $4, $5";
    let mut index: HashMap<(MailboxId, i64), usize> =
        rows.iter().enumerate().map(|(i, r)| ((r.mailbox, r.uid), i)).collect();
    for start in (0..rows.len()).step_by(CHUNK_ROWS) {
        let chunk = &rows[start..(start + CHUNK_ROWS).min(rows.len())];
        let sql = format!(
            "INSERT INTO messages (internal_date, saved_date, size, blob_hash, msgid_header, account_id, \
             mailbox_id, uid, modseq, flags, keywords, thread_id) VALUES {} RETURNING id, mailbox_id, uid",
            tuples(SHARED, 6, chunk.len(), 7)
        );
        let mut q = batch(sql, chunk.len())
            .bind(msg.internal_date)
            .bind(now)
            .bind(msg.size)
            .bind(msg.blob.as_str())
            .bind(msgid);
        for (i, r) in chunk.iter().enumerate() {
            q = q
                .bind(r.account)
                .bind(r.mailbox)
                .bind(r.uid)
                .bind(r.modseq)
                .bind(targets[start + i].flags)
                .bind(keywords[start + i].as_str())
                .bind(r.thread_id);
        }
        let inserted = q.fetch_all(&mut *conn).await?;
        for row in inserted {
            let key = (row.try_get("mailbox_id")?, row.try_get("uid")?);
            let i = index.remove(&key).ok_or_else(|| Error::Corrupt(format!("unexpected inserted message {key:?}")))?;
            rows[i].message = row.try_get("id")?;
        }
    }
    if !index.is_empty() {
        return Err(Error::Corrupt(format!("{} message rows were not inserted", index.len())));
    }
    Ok(())
}

/// Sets the thread of freshly inserted messages: `(message, thread)` pairs.
async fn set_thread_ids(conn: &mut AnyConnection, pairs: &[(i64, i64)]) -> Result<()> {
    for chunk in pairs.chunks(CHUNK_ROWS) {
        let sql = format!(
            "WITH v(mid, tid) AS (VALUES {}) \
             UPDATE messages SET thread_id = v.tid FROM v WHERE messages.id = v.mid",
            tuples("", 1, chunk.len(), 2)
        );
        let mut q = batch(sql, chunk.len());
        for (message, thread) in chunk {
            q = q.bind(*message).bind(*thread);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Files every message id of this delivery under each account's thread, so
/// that later messages naming any of them join it. Ids already filed keep
/// their thread (threads are never merged).
async fn remember_thread_keys(conn: &mut AnyConnection, rows: &[Delivered], keys: &[String]) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut thread_of: BTreeMap<AccountId, i64> = BTreeMap::new();
    for r in rows {
        thread_of.entry(r.account).or_insert(r.thread_id);
    }
    let entries: Vec<(AccountId, &str, i64)> = thread_of
        .iter()
        .flat_map(|(account, thread)| keys.iter().map(move |k| (*account, k.as_str(), *thread)))
        .collect();
    for chunk in entries.chunks(CHUNK_ROWS) {
        let sql = format!(
            "INSERT INTO thread_refs (account_id, msgid, thread_id) VALUES {} \
             ON CONFLICT (account_id, msgid) DO NOTHING",
            tuples("", 1, chunk.len(), 3)
        );
        let mut q = batch(sql, chunk.len());
        for (account, key, thread) in chunk {
            q = q.bind(*account).bind(*key).bind(*thread);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn log_new_messages(conn: &mut AnyConnection, rows: &[Delivered], now: i64) -> Result<()> {
    for chunk in rows.chunks(CHUNK_ROWS) {
        let sql = format!(
            "INSERT INTO changes (at, kind, account_id, mailbox_id, modseq, uid, message_id) VALUES {}",
            tuples("$1, $2", 3, chunk.len(), 5)
        );
        let mut q = batch(sql, chunk.len()).bind(now).bind(ChangeKind::New.as_str());
        for r in chunk {
            q = q.bind(r.account).bind(r.mailbox).bind(r.modseq).bind(r.uid).bind(r.message);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_keys_are_normalised_and_deduplicated() {
        let refs = vec!["<a@x>".to_owned(), "b@x".to_owned(), "<a@x>".to_owned(), "".to_owned()];
        assert_eq!(thread_keys(Some("m@x"), &refs), vec!["m@x", "a@x", "b@x"]);
        assert!(thread_keys(None, &[]).is_empty());
        let many: Vec<String> = (0..500).map(|i| format!("r{i}@x")).collect();
        assert!(thread_keys(None, &many).len() <= MAX_REFERENCES + 1);
    }
}
