//! Content-addressed storage of message bodies on the local file system.
//!
//! A message is stored once, under the BLAKE3 hash of its bytes, however many
//! mailboxes hold a copy: a circular sent to 40,000 people costs one file. The
//! metadata store counts the references; this crate only keeps bytes safe.
//!
//! Layout under the root folder:
//!
//! ```text
//! objects/ab/cd/abcd...   one file per blob, named by its full hex hash
//! tmp/                    files being written; leftovers come from crashes
//! ```
//!
//! Durability contract of [`BlobStore::put`]: when it returns, the bytes are in a
//! file that was fsync'd, renamed into place, and the directory entries leading
//! to it were fsync'd as well. A crash at any later instant loses nothing.
//! Writing an object that already exists still goes through the rename: the
//! content is identical, so the atomic replace is harmless, and it refreshes the
//! modification time that the garbage collector uses as a grace period.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use model::BlobId;

/// A blob store rooted at a folder. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
    /// Fan-out folders (`ab/cd`) whose creation is known to be durable, so that
    /// their parents need not be fsync'd again on every write.
    durable_dirs: Arc<Mutex<HashSet<String>>>,
}

impl BlobStore {
    /// Opens (and creates if needed) a store rooted at `root`.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<BlobStore> {
        let root = root.into();
        fs::create_dir_all(root.join("objects"))?;
        fs::create_dir_all(root.join("tmp"))?;
        sync_dir(&root)?;
        Ok(BlobStore { root, durable_dirs: Arc::new(Mutex::new(HashSet::new())) })
    }

    /// The root folder given to [`BlobStore::open`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The identifier of some content: its BLAKE3 hash in lower-case hex.
    pub fn id_of(bytes: &[u8]) -> BlobId {
        let hex = blake3::hash(bytes).to_hex();
        BlobId::from_hex(hex.as_str()).expect("BLAKE3 hex digests are 64 lower-case hex digits")
    }

    /// Where the object with this identifier lives: `objects/ab/cd/<hash>`.
    pub fn path(&self, id: &BlobId) -> PathBuf {
        let h = id.as_str();
        self.root.join("objects").join(&h[0..2]).join(&h[2..4]).join(h)
    }

    /// Stores `bytes` durably and returns their identifier.
    pub async fn put(&self, bytes: &[u8]) -> io::Result<BlobId> {
        let this = self.clone();
        let bytes = bytes.to_vec();
        run_blocking(move || this.put_blocking(&bytes)).await
    }

    fn put_blocking(&self, bytes: &[u8]) -> io::Result<BlobId> {
        let id = Self::id_of(bytes);
        let dest = self.path(&id);
        let dir = dest.parent().expect("object paths have a parent folder").to_path_buf();
        self.ensure_durable_dir(&id, &dir)?;

        let mut tmp = tempfile::Builder::new()
            .prefix(&format!("{}.", &id.as_str()[..16]))
            .suffix(".tmp")
            .tempfile_in(self.root.join("tmp"))?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&dest).map_err(|e| e.error)?;
        sync_dir(&dir)?;
        Ok(id)
    }

    /// Creates the fan-out folders of an object if needed and makes sure their
    /// directory entries reached the disk before any object inside is trusted.
    fn ensure_durable_dir(&self, id: &BlobId, dir: &Path) -> io::Result<()> {
        let key = id.as_str()[..4].to_owned();
        if self.durable_dirs.lock().expect("durable_dirs lock poisoned").contains(&key) {
            return Ok(());
        }
        fs::create_dir_all(dir)?;
        // The leaf's entry lives in `objects/ab`, whose entry lives in `objects`.
        let mid = dir.parent().expect("fan-out folders have a parent");
        sync_dir(mid)?;
        sync_dir(&self.root.join("objects"))?;
        self.durable_dirs.lock().expect("durable_dirs lock poisoned").insert(key);
        Ok(())
    }

    /// Reads an object back, checking that its content still matches its hash.
    /// Fails with [`io::ErrorKind::NotFound`] when the object is absent.
    pub async fn get(&self, id: &BlobId) -> io::Result<Vec<u8>> {
        let path = self.path(id);
        let id = id.clone();
        run_blocking(move || {
            let bytes = fs::read(&path)?;
            if Self::id_of(&bytes) != id {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("blob {id} is corrupt: its content no longer matches its hash"),
                ));
            }
            Ok(bytes)
        })
        .await
    }

    /// Whether the object is present.
    pub async fn exists(&self, id: &BlobId) -> bool {
        tokio::fs::try_exists(self.path(id)).await.unwrap_or(false)
    }

    /// Removes an object. Removing an absent object succeeds.
    pub async fn delete(&self, id: &BlobId) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(id)).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Every object with its modification time (the time of its last `put`).
    pub async fn list(&self) -> io::Result<Vec<(BlobId, SystemTime)>> {
        let objects = self.root.join("objects");
        run_blocking(move || {
            let mut out = Vec::new();
            walk_objects(&objects, &mut |id, meta| {
                out.push((id, meta.modified()?));
                Ok(())
            })?;
            Ok(out)
        })
        .await
    }

    /// Removes temporary files older than `older_than` (left behind by crashes
    /// in the middle of a `put`) and returns how many were removed.
    pub async fn clean_tmp(&self, older_than: Duration) -> io::Result<usize> {
        let tmp = self.root.join("tmp");
        run_blocking(move || {
            let now = SystemTime::now();
            let mut removed = 0;
            for entry in fs::read_dir(&tmp)? {
                let entry = entry?;
                let meta = entry.metadata()?;
                if !meta.is_file() {
                    continue;
                }
                // A file modified "in the future" (clock change) counts as fresh.
                let age = now.duration_since(meta.modified()?).unwrap_or(Duration::ZERO);
                if age >= older_than {
                    match fs::remove_file(entry.path()) {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Ok(removed)
        })
        .await
    }

    /// Number of objects and their total size in bytes.
    pub async fn usage(&self) -> io::Result<(u64, u64)> {
        let objects = self.root.join("objects");
        run_blocking(move || {
            let (mut count, mut bytes) = (0u64, 0u64);
            walk_objects(&objects, &mut |_, meta| {
                count += 1;
                bytes += meta.len();
                Ok(())
            })?;
            Ok((count, bytes))
        })
        .await
    }
}

/// Runs blocking file work off the async executor.
async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(io::Error::other)?
}

/// Flushes a directory's entries (new, renamed or removed names) to disk.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Calls `visit` for every well-formed object file under `objects/xx/yy/`.
/// Names that are not blob identifiers are ignored rather than reported.
fn walk_objects(objects: &Path, visit: &mut dyn FnMut(BlobId, fs::Metadata) -> io::Result<()>) -> io::Result<()> {
    for first in fs::read_dir(objects)? {
        let first = first?;
        if !first.file_type()?.is_dir() {
            continue;
        }
        for second in fs::read_dir(first.path())? {
            let second = second?;
            if !second.file_type()?.is_dir() {
                continue;
            }
            for object in fs::read_dir(second.path())? {
                let object = object?;
                let Some(id) = object.file_name().to_str().and_then(BlobId::from_hex) else {
                    continue;
                };
                let meta = match object.metadata() {
                    Ok(meta) => meta,
                    // Deleted between listing and reading its metadata.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                if meta.is_file() {
                    visit(id, meta)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, BlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path().join("blobs")).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn round_trip() {
        let (_dir, store) = store();
        let id = store.put(b"Bonjour la classe").await.unwrap();
        assert_eq!(id, BlobStore::id_of(b"Bonjour la classe"));
        assert_eq!(store.get(&id).await.unwrap(), b"Bonjour la classe");
        assert!(store.exists(&id).await);
        let path = store.path(&id);
        let rel = path.strip_prefix(store.root()).unwrap();
        let h = id.as_str();
        assert_eq!(rel, Path::new("objects").join(&h[..2]).join(&h[2..4]).join(h));
    }

    #[tokio::test]
    async fn identical_content_is_stored_once() {
        let (_dir, store) = store();
        let a = store.put(b"circulaire de rentree").await.unwrap();
        let b = store.put(b"circulaire de rentree").await.unwrap();
        assert_eq!(a, b);
        let listed = store.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].0, a);
        // Nothing is left behind in the temporary folder.
        assert_eq!(fs::read_dir(store.root().join("tmp")).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn usage_counts_objects_and_bytes() {
        let (_dir, store) = store();
        assert_eq!(store.usage().await.unwrap(), (0, 0));
        store.put(b"12345").await.unwrap();
        store.put(b"1234567890").await.unwrap();
        store.put(b"12345").await.unwrap();
        assert_eq!(store.usage().await.unwrap(), (2, 15));
    }

    #[tokio::test]
    async fn delete_is_idempotent() {
        let (_dir, store) = store();
        let id = store.put(b"a supprimer").await.unwrap();
        store.delete(&id).await.unwrap();
        assert!(!store.exists(&id).await);
        store.delete(&id).await.unwrap();
        assert_eq!(store.usage().await.unwrap(), (0, 0));
    }

    #[tokio::test]
    async fn missing_blob_is_not_found() {
        let (_dir, store) = store();
        let err = store.get(&BlobStore::id_of(b"never stored")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn corrupt_blob_is_detected() {
        let (_dir, store) = store();
        let id = store.put(b"original").await.unwrap();
        fs::write(store.path(&id), b"tampered").unwrap();
        assert_eq!(store.get(&id).await.unwrap_err().kind(), io::ErrorKind::InvalidData);
    }

    #[tokio::test]
    async fn clean_tmp_removes_only_old_leftovers() {
        let (_dir, store) = store();
        let tmp = store.root().join("tmp");
        fs::write(tmp.join("crashed.tmp"), b"half written").unwrap();
        // Nothing is old enough yet with a one-hour grace period.
        assert_eq!(store.clean_tmp(Duration::from_secs(3600)).await.unwrap(), 0);
        assert_eq!(store.clean_tmp(Duration::ZERO).await.unwrap(), 1);
        assert_eq!(fs::read_dir(&tmp).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn list_ignores_foreign_files() {
        let (_dir, store) = store();
        let id = store.put(b"x").await.unwrap();
        fs::write(store.path(&id).with_file_name("notes.txt"), b"?").unwrap();
        let listed: Vec<_> = store.list().await.unwrap().into_iter().map(|(id, _)| id).collect();
        assert_eq!(listed, vec![id]);
    }

    #[tokio::test]
    async fn reopening_keeps_objects() {
        let (dir, store) = store();
        let id = store.put(b"persistant").await.unwrap();
        drop(store);
        let again = BlobStore::open(dir.path().join("blobs")).unwrap();
        assert_eq!(again.get(&id).await.unwrap(), b"persistant");
    }
}
