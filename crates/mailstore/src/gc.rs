//! Blob garbage collection: a blob whose last copy was expunged is deleted after
//! a grace period, and files that no row references (a crash between the blob
//! write and the transaction) are deleted once old enough.

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
                self.blobs.delete(&id).await?;
                report.released_deleted += 1;
            }
        }
        for (id, mtime) in self.blobs.list().await? {
            let old = now.duration_since(mtime).map(|age| age >= grace).unwrap_or(false);
            if old && !self.store.blob_known(&id).await? {
                self.blobs.delete(&id).await?;
                report.orphans_deleted += 1;
            }
        }
        report.temp_files_deleted = self.blobs.clean_tmp(grace).await?;
        Ok(report)
    }
}
