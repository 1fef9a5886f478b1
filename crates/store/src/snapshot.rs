//! What a backup asks of the metadata: a consistent copy of the SQLite
//! database taken while the server runs, and the list of contents the
//! metadata holds (the message files a backup must carry along).

use std::path::Path;

use model::BlobId;

use crate::error::{Error, Result};
use crate::types::blob_id;
use crate::{Backend, Store};

/// A content the metadata references, with its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBlob {
    pub id: BlobId,
    pub size: i64,
}

impl Store {
    /// Writes a consistent copy of the whole SQLite database to `dest`
    /// (which must not exist) with `VACUUM INTO`: it reads one snapshot of
    /// the database, as any reader, so deliveries and other writers go on
    /// meanwhile. The copy is a plain database (not WAL), fsync'd by SQLite.
    /// PostgreSQL has its own tools (`pg_dump`): [`Error::Invalid`] there.
    pub async fn snapshot_into(&self, dest: &Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(Error::Invalid("PostgreSQL: use pg_dump for the metadata (docs/backup.md)".into()));
        }
        let dest = dest.to_str().ok_or_else(|| Error::Invalid("snapshot path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1").bind(dest).execute(&self.pool).await?;
        Ok(())
    }

    /// Every content some message, queue entry or held list post still
    /// references (reference count above zero), by hash.
    pub async fn held_blobs(&self) -> Result<Vec<HeldBlob>> {
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT hash, size FROM blobs WHERE refcount > 0 ORDER BY hash")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(|(h, size)| Ok(HeldBlob { id: blob_id(&h)?, size })).collect()
    }
}
