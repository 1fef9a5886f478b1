//! Blob garbage collection: a blob whose last copy was expunged is deleted after
//! a grace period, and files that no row references (a crash between the blob
//! write and the transaction) are deleted once old enough.
//!
//! `gc_lock` keeps this process's deliveries out of a collection; other nodes
//! sharing the bucket (docs/cluster.md) are kept out by time: every put
//! refreshes the object's time, and no object stored less than `grace` ago is
//! deleted, even when its row was just released. What remains is a window of
//! one request: a node storing the very same bytes again between this node's
//! look at the object's time and its delete (an identical message re-delivered
//! at that instant, after its last copy had been gone for `grace`).

use std::time::{Duration, SystemTime};

use crate::{Error, Mailstore};

/// What one collection did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GcReport {
    pub released_deleted: usize,
    pub orphans_deleted: usize,
    pub temp_files_deleted: usize,
}

impl Mailstore {
    /// Deletes unreferenced blobs older than `grace`.
    pub async fn collect_garbage(&self, grace: Duration) -> Result<GcReport, Error> {
        let _exclusive = self.gc_lock.write().await;
        let mut report = GcReport::default();
        let now = SystemTime::now();
        let cutoff = now.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
            - grace.as_secs() as i64;
        for id in self.store.released_blobs(cutoff).await? {
            if self.store.forget_blob(&id).await? {
                // Stored again lately (by another node, for a delivery not
                // committed yet): left to the orphan pass of a later run.
                if self.blobs.modified(&id).await?.is_some_and(|at| !older_than(now, at, grace)) {
                    continue;
                }
                self.blobs.delete(&id).await?;
                report.released_deleted += 1;
            }
        }
        for (id, mtime) in self.blobs.list().await? {
            if older_than(now, mtime, grace) && !self.store.blob_known(&id).await? {
                self.blobs.delete(&id).await?;
                report.orphans_deleted += 1;
            }
        }
        report.temp_files_deleted = self.blobs.clean_tmp(grace).await?;
        Ok(report)
    }
}

/// Whether something stored `at` is at least `grace` old; a time in the
/// future (clocks of two nodes apart) counts as fresh.
fn older_than(now: SystemTime, at: SystemTime, grace: Duration) -> bool {
    now.duration_since(at).map(|age| age >= grace).unwrap_or(false)
}
