//! The indexing thread: deliveries hand their document over and go on.
//!
//! Adding a document to the index means a lookup of the accounts already
//! listed for that content and a hand-off to tantivy's writer, which may wait
//! for a commit in progress. Done on the delivering task, it held an async
//! worker thread for the while (`block_in_place`, itself a thread hand-off)
//! on every APPEND and every local delivery. Now a delivery queues the
//! analysed message and returns; one thread turns it into a document and adds
//! it, in arrival order, removals included (an expunge queued after an add
//! of the same content is applied after it).
//!
//! Searches wait for what was queued before them ([`Indexer::settled`]) and
//! then commit, so a client still finds every message it was told was
//! stored. The queue is bounded: when indexing falls behind, deliveries wait
//! for room rather than pile up analysed texts in memory. Jobs lost in a
//! crash are re-indexed by the catch-up on start, as uncommitted ones were.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

use model::{AccountId, BlobId};

use crate::analyse::Analysis;

/// Jobs waiting before a delivery has to wait for room (each holds up to
/// [`crate::analyse::MAX_TEXT`] of text).
pub(crate) const QUEUE: usize = 32;

pub(crate) enum Job {
    /// The document of a just-stored content, for these accounts, covering
    /// message rows up to `highest`.
    Add { analysis: Box<Analysis>, blob: BlobId, accounts: Vec<AccountId>, highest: u64 },
    /// The content is held by no message any more.
    Remove(BlobId),
}

pub(crate) struct Indexer {
    tx: SyncSender<Job>,
    queued: AtomicU64,
    done: tokio::sync::watch::Receiver<u64>,
    /// Held by a test to keep the thread from applying jobs.
    #[cfg(test)]
    pub gate: Arc<std::sync::Mutex<()>>,
}

impl Indexer {
    /// Starts the thread that feeds `index`; it ends when the indexer is dropped.
    pub fn start(index: Arc<search::Index>) -> std::io::Result<Indexer> {
        let (tx, rx) = sync_channel(QUEUE);
        let (done_tx, done) = tokio::sync::watch::channel(0);
        #[cfg(test)]
        let gate = Arc::new(std::sync::Mutex::new(()));
        #[cfg(test)]
        let held = gate.clone();
        std::thread::Builder::new().name("ardoise-index".into()).spawn(move || {
            for job in rx {
                #[cfg(test)]
                let _open = held.lock();
                apply(&index, job);
                done_tx.send_modify(|d| *d += 1);
            }
        })?;
        Ok(Indexer {
            tx,
            queued: AtomicU64::new(0),
            done,
            #[cfg(test)]
            gate,
        })
    }

    /// Queues `job`, waiting for room when the queue is full.
    pub fn send(&self, job: Job) {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let sent = match self.tx.try_send(job) {
            Err(TrySendError::Full(job)) => {
                let send = || self.tx.send(job).is_ok();
                match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
                    Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(send),
                    _ => send(),
                }
            }
            other => other.is_ok(),
        };
        if !sent {
            tracing::error!("the indexing thread is gone; a restart's catch-up will index");
        }
    }

    /// Jobs queued and not yet applied (the index's lag, for metrics).
    pub fn waiting(&self) -> u64 {
        self.queued.load(Ordering::SeqCst).saturating_sub(*self.done.borrow())
    }

    /// Returns once every job queued before the call has been applied.
    pub async fn settled(&self) {
        let target = self.queued.load(Ordering::SeqCst);
        let mut done = self.done.clone();
        // An error means the thread is gone: nothing more will be applied.
        let _ = done.wait_for(|d| *d >= target).await;
    }
}

/// Applies one job to the index.
pub(crate) fn apply(index: &search::Index, job: Job) {
    match job {
        Job::Add { analysis, blob, accounts, highest } => {
            let doc = crate::index::document_of(&analysis);
            if let Err(e) = index.add(&accounts, blob.as_str(), &doc, highest) {
                tracing::warn!(error = %e, "indexing a delivery failed; a reindex will catch up");
            }
        }
        Job::Remove(blob) => index.remove(blob.as_str()),
    }
}
