//! Keeping the full-text index ([`search::Index`]) in step with the store.
//!
//! The index is derived data and never part of the durability promise: a
//! delivery is acknowledged once blob and rows are durable, and its document
//! is handed to the index writer right after, without waiting for a commit.
//! A background task commits pending documents every [`COMMIT_EVERY`] (a
//! search commits first anyway, so a client always finds what it was told
//! was stored). Each commit records the highest message row id indexed; on
//! start the index catches up from a little below that watermark
//! ([`CATCH_UP_MARGIN`] rows, since concurrent deliveries may reach the
//! index out of row order), re-reading those blobs. Re-adding is idempotent.
//!
//! While the server runs, other processes and other nodes file mail too;
//! the index has one writer, so every [`OUTSIDE_EVERY`] and before every
//! search the server indexes the message rows it did not index itself at
//! delivery ([`outside`], which also copes with PostgreSQL committing rows
//! out of id order).
//!
//! Expunge removes a document only when no message of any account still
//! has that content (copies and circulars share blobs). A stale account in
//! a document is harmless: every search result is intersected with the
//! store's messages.
//!
//! Additions and removals go through one indexing thread ([`queue`]);
//! searches wait for what was queued before them.

mod outside;
mod queue;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use model::{AccountId, BlobId, MailboxId, MessageId};
use search::{Document, Field};

use crate::analyse::{Analysis, EnvelopeAddress};
use crate::{Error, Mailstore, analyse};
pub(crate) use outside::Outside;
pub(crate) use queue::Indexer;
use queue::Job;

/// How often pending index changes are committed.
pub const COMMIT_EVERY: Duration = Duration::from_secs(1);
/// Rows below the watermark re-indexed on start.
pub const CATCH_UP_MARGIN: i64 = 1_000;
/// How often messages filed by another process are looked for.
pub const OUTSIDE_EVERY: Duration = Duration::from_secs(2);
/// Rows read per catch-up query.
const CATCH_UP_BATCH: i64 = 500;
/// The widest run of missing row ids taken for rows still being written
/// (see [`outside`]); a wider one is rows deleted since.
const MAX_GAP: i64 = 10_000;

fn names(list: &[EnvelopeAddress], out: &mut String) {
    for a in list {
        if let Some(n) = &a.name {
            out.push_str(n);
            out.push(' ');
        }
        out.push_str(&a.address());
        out.push(' ');
    }
}

/// The searchable content of an analysed message.
pub fn document_of(a: &Analysis) -> Document {
    let e = &a.envelope;
    let (mut from, mut recipients) = (String::new(), String::new());
    names(&e.from, &mut from);
    names(&e.to, &mut recipients);
    names(&e.cc, &mut recipients);
    let attachments: Vec<&str> = a.attachments.iter().filter_map(|x| x.file_name.as_deref()).collect();
    // The fields above already hold Subject, From, To and Cc; the others
    // (Reply-To, Date, Message-ID, X-*, Received...) go to `headers`, for
    // IMAP's SEARCH TEXT only.
    let mut headers = String::new();
    for (name, value) in &a.headers {
        if ["subject", "from", "to", "cc"].iter().any(|n| name.eq_ignore_ascii_case(n)) {
            continue;
        }
        headers.push_str(name);
        headers.push_str(": ");
        headers.push_str(value);
        headers.push('\n');
    }
    Document {
        subject: a.subject.clone(),
        from,
        recipients,
        body: a.text.clone(),
        attachments: attachments.join(" "),
        headers,
    }
}

impl Mailstore {
    /// Opens the full-text index in `dir`, starts its committer, and catches
    /// up with messages stored since its last commit (in the background).
    pub fn enable_search(self: &Arc<Self>, dir: &Path) -> Result<(), search::Error> {
        let index = Arc::new(search::Index::open(dir)?);
        if self.search.set(index.clone()).is_err() {
            return Ok(());
        }
        self.start_indexer(&index)?;
        tokio::spawn(commit_loop(Arc::downgrade(&index)));
        let me = self.clone();
        tokio::spawn(async move {
            match me.reindex_to(false).await {
                Ok((n, last)) => {
                    if n > 0 {
                        tracing::info!(messages = n, "search index caught up");
                    }
                    if let Ok(mut o) = me.outside.state.lock() {
                        o.mark = Some(last);
                    }
                    let weak = Arc::downgrade(&me);
                    drop(me);
                    outside::outside_loop(weak).await;
                }
                Err(e) => tracing::warn!(error = %e, "search index catch-up failed"),
            }
        });
        Ok(())
    }

    /// Rebuilds the index in `dir` from the store and the blobs, in the
    /// foreground (the server must be stopped: the index has one writer).
    /// Returns the number of messages read.
    pub async fn rebuild_search(&self, dir: &Path) -> Result<u64, search::Error> {
        let index = Arc::new(search::Index::open(dir)?);
        if self.search.set(index).is_err() {
            return Err(search::Error::Query("search index already open".into()));
        }
        self.reindex(true).await.map_err(|e| search::Error::Query(e.to_string()))
    }

    /// The full-text index in memory (tests).
    pub fn enable_search_in_memory(&self) -> Result<(), search::Error> {
        let index = Arc::new(search::Index::in_memory()?);
        if self.search.set(index.clone()).is_ok() {
            self.start_indexer(&index)?;
        }
        Ok(())
    }

    fn start_indexer(&self, index: &Arc<search::Index>) -> Result<(), search::Error> {
        let indexer = Indexer::start(index.clone()).map_err(|e| search::Error::Query(e.to_string()))?;
        let _ = self.indexer.set(indexer);
        Ok(())
    }

    /// Returns once every addition and removal queued for the index before
    /// the call is applied (what a search must see).
    pub async fn index_settled(&self) {
        if let Some(indexer) = self.indexer.get() {
            indexer.settled().await;
        }
    }

    /// The index, when enabled.
    pub fn search_index(&self) -> Option<&Arc<search::Index>> {
        self.search.get()
    }

    /// Index changes queued and not yet applied; `None` without an index.
    pub fn index_lag(&self) -> Option<u64> {
        self.indexer.get().map(|i| i.waiting())
    }

    /// Contents of `account` whose `fields` contain the words of `text`
    /// (ask [`search::Hits::contains`] with a message's blob id): `Ok(None)`
    /// when no index is enabled, `Ok(Some(None))` when the text has no word
    /// (matches everything).
    pub async fn search_text(
        &self,
        account: AccountId,
        fields: &[Field],
        text: &str,
    ) -> Result<Option<Option<search::Hits>>, search::Error> {
        let Some(index) = self.search.get().cloned() else { return Ok(None) };
        self.index_outside().await;
        self.index_settled().await;
        let (fields, text) = (fields.to_vec(), text.to_owned());
        let found = tokio::task::spawn_blocking(move || index.search(account, &fields, &text))
            .await
            .map_err(|e| search::Error::Query(e.to_string()))??;
        Ok(Some(found))
    }

    /// Hands a just-stored message to the index: one document for the
    /// content, listing every account that received it (queued, see [`queue`]).
    pub(crate) fn index_delivered(&self, analysis: Analysis, blob: &BlobId, rows: &[(AccountId, MessageId)]) {
        let Some(index) = self.search.get() else { return };
        let Some(highest) = rows.iter().map(|(_, m)| *m).max() else { return };
        let mut accounts: Vec<AccountId> = rows.iter().map(|(a, _)| *a).collect();
        accounts.sort_unstable();
        accounts.dedup();
        if let Ok(mut o) = self.outside.state.lock()
            && o.mark.is_some()
        {
            o.ours.extend(rows.iter().map(|(_, m)| *m));
        }
        let job = Job::Add { analysis: Box::new(analysis), blob: blob.clone(), accounts, highest: highest as u64 };
        self.index_job(index, job);
    }

    /// Indexes a restored message again: its document may have gone when
    /// its last copy was deleted. The bytes are read and analysed again
    /// (a restore is rare; the stored analysis lacks the text).
    pub(crate) async fn index_restored(&self, account: AccountId, message: MessageId, blob: &BlobId) {
        if self.search.get().is_none() {
            return;
        }
        match self.blobs.get(blob).await {
            Ok(raw) => self.index_delivered(analyse::analyse(&raw), blob, &[(account, message)]),
            Err(e) => tracing::warn!(error = %e, "a restored message could not be indexed"),
        }
    }

    /// Queues `job` for the indexing thread, or applies it in place when
    /// there is none (an index opened for a rebuild).
    fn index_job(&self, index: &search::Index, job: Job) {
        match self.indexer.get() {
            Some(indexer) => indexer.send(job),
            None => queue::apply(index, job),
        }
    }

    /// The contents of the messages `uids` of `mailbox`, when indexing.
    pub(crate) async fn blobs_for_index(&self, mailbox: MailboxId, uids: &[i64]) -> Vec<BlobId> {
        let (Some(_), Some(first), Some(last)) = (self.search.get(), uids.iter().min(), uids.iter().max()) else {
            return Vec::new();
        };
        let wanted: HashSet<i64> = uids.iter().copied().collect();
        match self.store.messages_between(mailbox, *first, *last).await {
            Ok(rows) => rows.into_iter().filter(|r| wanted.contains(&r.uid)).map(|r| r.blob_hash).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Removes from the index the contents no message holds any more. An
    /// account that expunged its copy stays listed in the document of a
    /// content others still hold: harmless, since every search result is
    /// intersected with the account's own messages.
    pub(crate) async fn index_expunged(&self, _account: AccountId, blobs: Vec<BlobId>) {
        let Some(index) = self.search.get() else { return };
        for blob in blobs {
            match self.store.blob_held(&blob).await {
                Ok(false) => self.index_job(index, Job::Remove(blob)),
                Ok(true) => {}
                Err(e) => tracing::warn!(error = %e, "index removal skipped"),
            }
        }
    }

    /// Indexes messages above the watermark (less the margin), or every
    /// message after clearing the index when `from_scratch`. Returns the
    /// number of messages read.
    pub async fn reindex(&self, from_scratch: bool) -> Result<u64, Error> {
        Ok(self.reindex_to(from_scratch).await?.0)
    }

    /// [`Mailstore::reindex`], also telling the highest message row read.
    async fn reindex_to(&self, from_scratch: bool) -> Result<(u64, i64), Error> {
        let Some(index) = self.search.get().cloned() else { return Ok((0, 0)) };
        let after = if from_scratch {
            index.clear().map_err(|e| Error::Blob(std::io::Error::other(e.to_string())))?;
            0
        } else {
            (index.watermark() as i64 - CATCH_UP_MARGIN).max(0)
        };
        let found = self.index_after(&index, after, &|_| false).await?;
        if let Ok(mut o) = self.outside.state.lock() {
            o.missing(&found.missing, std::time::Instant::now());
        }
        let ix = index.clone();
        let _ = tokio::task::spawn_blocking(move || ix.commit()).await;
        Ok((found.indexed, found.last))
    }

    /// Indexes every message row after `after` but those `skip` names.
    /// Commits after each batch that added something.
    async fn index_after(
        &self,
        index: &Arc<search::Index>,
        mut after: i64,
        skip: &(dyn Fn(MessageId) -> bool + Sync),
    ) -> Result<Found, Error> {
        let mut found = Found { indexed: 0, last: after, missing: Vec::new() };
        loop {
            let rows = self.store.messages_after(after, CATCH_UP_BATCH).await?;
            let Some(last) = rows.last() else { break };
            let last = last.id;
            for row in &rows {
                if row.id - after > 1 && row.id - after - 1 <= MAX_GAP {
                    found.missing.extend(after + 1..row.id);
                }
                after = row.id;
            }
            found.last = last;
            let n = self.index_rows(index, rows, skip).await;
            if n > 0 {
                found.indexed += n;
                let ix = index.clone();
                let _ = tokio::task::spawn_blocking(move || ix.commit()).await;
            }
        }
        Ok(found)
    }

    /// Indexes `rows` but those `skip` names (not committed); returns how
    /// many were indexed.
    async fn index_rows(
        &self,
        index: &search::Index,
        rows: Vec<store::MessageRow>,
        skip: &(dyn Fn(MessageId) -> bool + Sync),
    ) -> u64 {
        let mut count = 0;
        for row in rows {
            if skip(row.id) {
                continue;
            }
            let raw = match self.blobs.get(&row.blob_hash).await {
                Ok(raw) => raw,
                Err(e) => {
                    tracing::warn!(error = %e, blob = %row.blob_hash, "blob unreadable, not indexed");
                    continue;
                }
            };
            let doc = document_of(&analyse::analyse(&raw));
            if let Err(e) = index.add(&[row.account_id], row.blob_hash.as_str(), &doc, row.id as u64) {
                tracing::warn!(error = %e, "indexing failed");
            }
            count += 1;
        }
        count
    }
}

/// What [`Mailstore::index_after`] did: rows indexed, the highest row id
/// read (`after` when none), and the ids missing between the rows read
/// (runs of at most [`MAX_GAP`]).
struct Found {
    indexed: u64,
    last: i64,
    missing: Vec<MessageId>,
}

/// Commits pending changes regularly while the index is alive.
async fn commit_loop(index: std::sync::Weak<search::Index>) {
    let mut tick = tokio::time::interval(COMMIT_EVERY);
    loop {
        tick.tick().await;
        let Some(ix) = index.upgrade() else { return };
        if ix.pending() == search::Pending::Nothing {
            continue;
        }
        match tokio::task::spawn_blocking(move || ix.commit()).await {
            Ok(Err(e)) => tracing::warn!(error = %e, "search index commit failed"),
            Err(e) => tracing::warn!(error = %e, "search index commit panicked"),
            Ok(Ok(())) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use model::{AccountStatus, Address, Domain, Role};
    use search::Field;
    use store::{NewAccount, Store};

    use crate::Mailstore;

    const MAIL: &[u8] = b"From: =?UTF-8?Q?H=C3=A9l=C3=A8ne?= <helene@ac-test.fr>\r\nTo: a@ac-test.fr\r\n\
Subject: =?UTF-8?Q?R=C3=A9union?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nOrdre du jour\r\n--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"budget-2026.pdf\"\r\n\r\nxx\r\n--b--\r\n";

    /// A store in `dir` with one account, and its mail service.
    async fn fixture(dir: &std::path::Path) -> (std::sync::Arc<Mailstore>, model::AccountId) {
        let store = Store::open(&format!("sqlite://{}", dir.join("meta.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        store.add_domain(&Domain::parse("ac-test.fr").unwrap()).await.unwrap();
        let account = store
            .create_account(&NewAccount {
                address: Address::parse("a@ac-test.fr").unwrap(),
                login: None,
                display_name: "A".into(),
                role: Role::Teacher,
                status: AccountStatus::Active,
                quota_bytes: None,
                org_unit: None,
                password_hash: None,
            })
            .await
            .unwrap();
        (Mailstore::new(store, blob::BlobStore::open(dir.join("blobs")).unwrap()), account.id)
    }

    #[tokio::test]
    async fn catch_up_indexes_what_was_stored_before_and_expunge_removes() {
        let dir = tempfile::tempdir().unwrap();
        let (ms, account) = fixture(dir.path()).await;
        // Stored while no index existed (or before a crash).
        let stored = ms.deliver(MAIL, &[account], 0).await.unwrap();
        ms.enable_search_in_memory().unwrap();
        let find = |text: &'static str| {
            let ms = ms.clone();
            async move { ms.search_text(account, &Field::ALL, text).await.unwrap().unwrap().unwrap().len() }
        };
        assert_eq!(find("reunion").await, 0);
        assert_eq!(ms.reindex(false).await.unwrap(), 1);
        assert_eq!(find("reunion").await, 1);
        assert_eq!(find("helene").await, 1);
        assert_eq!(find("budget").await, 1);
        assert_eq!(find("ordre jour").await, 1);
        assert_eq!(find("absent").await, 0);
        assert_eq!(ms.search_index().unwrap().watermark(), 1);
        ms.expunge(account, stored[0].mailbox, &[stored[0].uid]).await.unwrap();
        assert_eq!(find("reunion").await, 0);
        assert!(ms.search_index().unwrap().is_empty());
    }

    /// Mail filed by another process (a restore or an import while the
    /// server runs) is indexed by the next look; this process's own
    /// deliveries, indexed at delivery, are not read again.
    #[tokio::test]
    async fn messages_filed_by_another_process_are_indexed_by_the_next_look() {
        let dir = tempfile::tempdir().unwrap();
        let (ms, account) = fixture(dir.path()).await;
        ms.enable_search_in_memory().unwrap();
        ms.outside.state.lock().unwrap().mark = Some(0);
        let find = |text: &'static str| {
            let ms = ms.clone();
            async move { ms.search_text(account, &Field::ALL, text).await.unwrap().unwrap().unwrap().len() }
        };
        ms.deliver(MAIL, &[account], 0).await.unwrap();
        ms.index_settled().await;
        assert_eq!(ms.outside.state.lock().unwrap().ours.len(), 1);
        // Another process: its own handle on the same database and files, no index.
        let other = Mailstore::new(ms.store.clone(), ms.blobs.clone());
        other.deliver(b"Subject: Inventaire\r\n\r\nmateriel de laboratoire\r\n", &[account], 0).await.unwrap();
        assert_eq!(ms.index_outside().await, 1, "only the other process's message is read");
        assert_eq!(find("laboratoire").await, 1);
        assert_eq!(find("reunion").await, 1);
        assert!(ms.outside.state.lock().unwrap().ours.is_empty());
        assert_eq!(ms.index_outside().await, 0, "nothing new");
        // A search looks first: what the other process stored just before is found.
        other.deliver(b"Subject: Sortie\r\n\r\nvisite du planetarium\r\n", &[account], 0).await.unwrap();
        assert_eq!(find("planetarium").await, 1);
    }

    /// On PostgreSQL a row may commit after one with a higher id: the ids
    /// a look finds missing below its mark are asked for again at the next
    /// looks (here a row deleted before the look stands for one not yet
    /// committed, and a row filed below the mark for one committed late).
    #[tokio::test]
    async fn ids_missing_below_the_mark_are_asked_for_again() {
        let dir = tempfile::tempdir().unwrap();
        let (ms, account) = fixture(dir.path()).await;
        ms.enable_search_in_memory().unwrap();
        ms.outside.state.lock().unwrap().mark = Some(0);
        let other = Mailstore::new(ms.store.clone(), ms.blobs.clone());
        for word in ["alpha", "bravo", "charlie"] {
            let mail = format!("Subject: {word}\r\n\r\nmot {word}\r\n");
            other.deliver(mail.as_bytes(), &[account], 0).await.unwrap();
        }
        let rows = ms.store.messages_after(0, 10).await.unwrap();
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), 3);
        ms.store.expunge(rows[1].mailbox_id, &[rows[1].uid]).await.unwrap();
        assert_eq!(ms.index_outside().await, 2);
        {
            let mut s = ms.outside.state.lock().unwrap();
            assert_eq!(s.mark, Some(ids[2]));
            assert_eq!(s.holes_to_ask(std::time::Instant::now()), vec![ids[1]], "bravo's id is a hole");
            // The row that committed late: an unindexed message below the mark.
            s.mark = Some(ids[2] + 1);
        }
        other.deliver(b"Subject: delta\r\n\r\nmot delta\r\n", &[account], 0).await.unwrap();
        let late = ms.store.messages_after(ids[2], 10).await.unwrap()[0].id;
        assert_eq!(late, ids[2] + 1);
        ms.outside.state.lock().unwrap().missing(&[late], std::time::Instant::now());
        let find = |text: &'static str| {
            let ms = ms.clone();
            async move { ms.search_text(account, &Field::ALL, text).await.unwrap().unwrap().unwrap().len() }
        };
        assert_eq!(find("delta").await, 1, "the late row is found through its hole");
        assert_eq!(find("alpha").await + find("charlie").await, 2);
    }

    /// Deliveries queue their documents for the indexing thread; a search
    /// waits for what was queued before it, and the queue's bound makes
    /// deliveries wait, never fail, when indexing lags.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[expect(clippy::await_holding_lock, reason = "the guard holds the indexing thread back, no task waits on it")]
    async fn a_search_sees_every_delivery_queued_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let (ms, account) = fixture(dir.path()).await;
        ms.enable_search_in_memory().unwrap();
        let count = |text: &'static str| {
            let ms = ms.clone();
            async move { ms.search_text(account, &Field::ALL, text).await.unwrap().unwrap().unwrap().len() }
        };
        let deliver = |i: usize| {
            let ms = ms.clone();
            async move {
                let mail = format!("Subject: Sortie {i}\r\n\r\nLa classe de neige partira le {i} janvier.\r\n");
                ms.deliver(mail.as_bytes(), &[account], 0).await.unwrap().pop().unwrap()
            }
        };
        // The indexing thread held: deliveries are queued, not applied.
        let gate = ms.indexer.get().unwrap().gate.clone();
        let held = gate.lock().unwrap();
        for i in 0..10 {
            deliver(i).await;
        }
        let search = tokio::spawn(count("neige"));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!search.is_finished(), "the search waits for the queued documents");
        drop(held);
        assert_eq!(search.await.unwrap(), 10);

        // Three times the queue's bound, then an expunge queued behind them.
        let n = 10 + 3 * super::queue::QUEUE;
        let mut last = None;
        for i in 10..n {
            last = Some(deliver(i).await);
        }
        let last = last.unwrap();
        ms.expunge(account, last.mailbox, &[last.uid]).await.unwrap();
        assert_eq!(count("neige").await, n - 1);
    }
}
