//! Content-addressed storage of message bodies, on the local disk or in an
//! S3-compatible bucket.
//!
//! A message is stored once, under the BLAKE3 hash of its bytes, however many
//! mailboxes hold a copy: a circular sent to 40,000 people costs one object.
//! The metadata store counts the references; this crate only keeps bytes safe.
//!
//! [`BlobStore`] is the one type callers hold; it is opened on one of two
//! backends, chosen by `[blob] url`:
//!
//! - local files ([`Files`], `local.rs`): `objects/ab/<hash>` under a folder,
//!   temp file, fsync, rename, fsync of the folder;
//! - a bucket ([`Remote`], `remote.rs`): `objects/<hash>` keys through the
//!   `object_store` crate, so that several nodes share the messages.
//!
//! The contract is the same on both: a put returns only once the content is
//! durable (fsync'd, or the PUT acknowledged); the same bytes always get the
//! same identifier; storing existing content again succeeds and refreshes the
//! object's time, which [`BlobStore::list`] and [`BlobStore::modified`] report
//! and the mail garbage collector reads as a grace period; reads of a range
//! ([`BlobStore::get_range`]) do not fetch the whole object. Callers never see
//! a path: what must stay on one disk (large-file sharing) uses [`Files`].
//!
//! [`BlobStore::put`] takes the bytes as [`Bytes`], shared with the caller
//! rather than copied, and hashes them while they are written (locally) or
//! before the upload (bucket); the work starts when `put` is called, not when
//! the future is first polled, so the caller can do other work (parse, look up
//! recipients) meanwhile. [`BlobStore::put_hashed`] writes content hashed
//! beforehand ([`Hashed`]), for a caller that needs the identifier at once.

mod local;
mod remote;

use std::future::Future;
use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

pub use bytes::Bytes;
use futures_util::future::Either;
pub use local::Files;
use model::BlobId;
pub use remote::{Credentials, RETRY_TIMEOUT, Remote};

/// Message contents, on the local disk or in a bucket. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Local(Files),
    Bucket(remote::Bucket),
}

/// The identifier of some content: its BLAKE3 hash in lower-case hex.
pub fn id_of(bytes: &[u8]) -> BlobId {
    id_of_hash(blake3::hash(bytes))
}

impl BlobStore {
    /// Opens (and creates if needed) a store of local files rooted at `root`.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<BlobStore> {
        Ok(BlobStore { backend: Backend::Local(Files::open(root)?) })
    }

    /// Opens a store in a bucket. Nothing is asked of the server yet: an
    /// unreachable bucket shows at the first request (see [`BlobStore::check`]).
    pub fn open_remote(remote: &Remote) -> io::Result<BlobStore> {
        Ok(BlobStore { backend: Backend::Bucket(remote::Bucket::open(remote)?) })
    }

    /// Asks the backend once (lists nothing, reads one absent object), so that
    /// a wrong address, credential or bucket shows at start with its reason.
    pub async fn check(&self) -> io::Result<()> {
        self.modified(&id_of(b"ardoise: verification du stockage")).await.map(|_| ())
    }

    /// Where the contents are, for logs and messages (never a credential).
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Local(files) => files.root().display().to_string(),
            Backend::Bucket(bucket) => bucket.describe().to_owned(),
        }
    }

    /// Whether the contents are in a bucket (shared between nodes).
    pub fn is_remote(&self) -> bool {
        matches!(self.backend, Backend::Bucket(_))
    }

    /// The identifier of some content: [`id_of`].
    pub fn id_of(bytes: &[u8]) -> BlobId {
        id_of(bytes)
    }

    /// Stores `bytes` durably and returns their identifier, [`id_of`] the
    /// bytes. The write starts when this is called; dropping the future does
    /// not stop it (the object is then an unreferenced blob, which garbage
    /// collection removes).
    pub fn put(&self, bytes: impl Into<Bytes>) -> impl Future<Output = io::Result<BlobId>> + Send + 'static {
        let bytes = bytes.into();
        match &self.backend {
            Backend::Local(files) => Either::Left(files.put(bytes)),
            Backend::Bucket(bucket) => {
                let bucket = bucket.clone();
                Either::Right(spawned(async move {
                    let content =
                        tokio::task::spawn_blocking(move || Hashed::new(bytes)).await.map_err(io::Error::other)?;
                    bucket.put(content.id, content.bytes).await
                }))
            }
        }
    }

    /// [`BlobStore::put`] for content already hashed (whose identifier the
    /// caller needed before the write was done): the bytes are not hashed again.
    pub fn put_hashed(&self, content: Hashed) -> impl Future<Output = io::Result<BlobId>> + Send + 'static {
        match &self.backend {
            Backend::Local(files) => Either::Left(files.put_hashed(content)),
            Backend::Bucket(bucket) => {
                let bucket = bucket.clone();
                Either::Right(spawned(async move { bucket.put(content.id, content.bytes).await }))
            }
        }
    }

    /// Reads an object back, checking that its content still matches its hash.
    /// Fails with [`io::ErrorKind::NotFound`] when the object is absent.
    pub async fn get(&self, id: &BlobId) -> io::Result<Vec<u8>> {
        match &self.backend {
            Backend::Local(files) => files.get(id).await,
            Backend::Bucket(bucket) => bucket.get(id).await,
        }
    }

    /// The bytes of `range` of an object (fewer when it ends first), fetched
    /// without the rest and not checked against the hash.
    pub async fn get_range(&self, id: &BlobId, range: Range<u64>) -> io::Result<Vec<u8>> {
        match &self.backend {
            Backend::Local(files) => files.get_range(id, range).await,
            Backend::Bucket(bucket) => bucket.get_range(id, range).await,
        }
    }

    /// Whether the object is present. An error of the backend counts as absent.
    pub async fn exists(&self, id: &BlobId) -> bool {
        matches!(self.modified(id).await, Ok(Some(_)))
    }

    /// When the object was last stored, or `None` when it is absent.
    pub async fn modified(&self, id: &BlobId) -> io::Result<Option<SystemTime>> {
        match &self.backend {
            Backend::Local(files) => files.modified(id).await,
            Backend::Bucket(bucket) => bucket.modified(id).await,
        }
    }

    /// Removes an object. Removing an absent object succeeds.
    pub async fn delete(&self, id: &BlobId) -> io::Result<()> {
        match &self.backend {
            Backend::Local(files) => files.delete(id).await,
            Backend::Bucket(bucket) => bucket.delete(id).await,
        }
    }

    /// Every object with the time of its last put.
    pub async fn list(&self) -> io::Result<Vec<(BlobId, SystemTime)>> {
        match &self.backend {
            Backend::Local(files) => files.list().await,
            Backend::Bucket(bucket) => Ok(bucket.walk().await?.into_iter().map(|(id, at, _)| (id, at)).collect()),
        }
    }

    /// Removes what interrupted puts left behind, older than `older_than`,
    /// and returns how many: temporary files locally; nothing in a bucket,
    /// where a put is one request that stores all or nothing.
    pub async fn clean_tmp(&self, older_than: Duration) -> io::Result<usize> {
        match &self.backend {
            Backend::Local(files) => files.clean_tmp(older_than).await,
            Backend::Bucket(_) => Ok(0),
        }
    }

    /// Number of objects and their total size in bytes.
    pub async fn usage(&self) -> io::Result<(u64, u64)> {
        match &self.backend {
            Backend::Local(files) => files.usage().await,
            Backend::Bucket(bucket) => {
                let all = bucket.walk().await?;
                Ok((all.len() as u64, all.iter().map(|(_, _, size)| size).sum()))
            }
        }
    }
}

/// Starts `work` now on the runtime, so that it runs while the caller does
/// something else, and returns its outcome.
fn spawned(
    work: impl Future<Output = io::Result<BlobId>> + Send + 'static,
) -> impl Future<Output = io::Result<BlobId>> + Send + 'static {
    let task = tokio::spawn(work);
    async move { task.await.map_err(io::Error::other)? }
}

/// Bytes with their identifier, hashed once, when made: for a caller that
/// needs the identifier before the write is done (to prepare the metadata
/// meanwhile). Cheap to clone: the bytes are shared.
#[derive(Debug, Clone)]
pub struct Hashed {
    id: BlobId,
    bytes: Bytes,
}

impl Hashed {
    /// Hashes `bytes` (taken over, not copied).
    pub fn new(bytes: impl Into<Bytes>) -> Hashed {
        let bytes = bytes.into();
        Hashed { id: id_of(&bytes), bytes }
    }

    /// The identifier the content will be stored under.
    pub fn id(&self) -> &BlobId {
        &self.id
    }

    /// The content.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

fn id_of_hash(hash: blake3::Hash) -> BlobId {
    BlobId::from_hex(hash.to_hex().as_str()).expect("BLAKE3 hex digests are 64 lower-case hex digits")
}
