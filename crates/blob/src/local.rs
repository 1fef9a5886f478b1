//! The local backend: content-addressed files under a root folder.
//!
//! Layout under the root folder:
//!
//! ```text
//! objects/ab/abcd...      one file per blob, named by its full hex hash
//! objects/ab/cd/abcd...   the same, in stores written before the one-level
//!                         fan-out: still read, listed and deleted
//! tmp/                    files being written; leftovers come from crashes
//! ```
//!
//! The 256 fan-out folders are created (and made durable) when the store is
//! opened, so that storing a message never creates a folder: with two levels,
//! nearly every delivery to a young store paid a `mkdir` and two more
//! directory fsyncs.
//!
//! Durability contract of a put: when it returns, the bytes are in a file that
//! was fsync'd, renamed into place, and the directory entries leading to it were
//! fsync'd as well. A crash at any later instant loses nothing. Writing an
//! object that already exists still goes through the rename: the content is
//! identical, so the atomic replace is harmless, and it refreshes the
//! modification time that the garbage collector uses as a grace period.
//!
//! [`Files`] is public on its own for large-file sharing, which keeps its
//! files on the local disk and reads them by ranges through [`Files::open_object`].

use std::collections::HashMap;
use std::fs::{self, File};
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use model::BlobId;

use crate::{Hashed, id_of_hash};
use std::ops::Range;

/// A blob store rooted at a folder. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Files {
    root: PathBuf,
}

/// Bytes hashed and written per step: the piece just hashed is still in the
/// processor's cache when it is written.
const PASS: usize = 64 * 1024;

impl Files {
    /// Opens (and creates if needed) a store rooted at `root`, with its 256
    /// fan-out folders, whose creation is made durable here once.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Files> {
        let root = root.into();
        let objects = root.join("objects");
        fs::create_dir_all(&objects)?;
        fs::create_dir_all(root.join("tmp"))?;
        let mut created = false;
        for n in 0..=255u8 {
            let dir = objects.join(format!("{n:02x}"));
            if !dir.is_dir() {
                fs::create_dir_all(&dir)?;
                created = true;
            }
        }
        if created {
            sync_dir(&objects)?;
        }
        sync_dir(&root)?;
        Ok(Files { root })
    }

    /// The root folder given to [`Files::open`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the object with this identifier is written: `objects/ab/<hash>`.
    pub fn path(&self, id: &BlobId) -> PathBuf {
        let h = id.as_str();
        self.root.join("objects").join(&h[0..2]).join(h)
    }

    /// Where a store written before the one-level fan-out kept it:
    /// `objects/ab/cd/<hash>`.
    fn legacy_path(&self, id: &BlobId) -> PathBuf {
        let h = id.as_str();
        self.root.join("objects").join(&h[0..2]).join(&h[2..4]).join(h)
    }

    /// Stores `bytes` durably and returns their identifier, which is
    /// [`crate::id_of`] the bytes. The write starts on the blocking pool
    /// when this is called, not when the future is first polled, so the caller
    /// may work meanwhile; dropping the future does not stop it (the file is
    /// then an unreferenced blob, which garbage collection removes).
    pub fn put(&self, bytes: impl Into<Bytes>) -> impl Future<Output = io::Result<BlobId>> + Send + 'static {
        let this = self.clone();
        let bytes = bytes.into();
        let task = tokio::task::spawn_blocking(move || this.put_blocking(&bytes, None));
        async move { task.await.map_err(io::Error::other)? }
    }

    /// [`Files::put`] for content already hashed (whose identifier the
    /// caller needed before the write was done): the bytes are not hashed again.
    pub fn put_hashed(&self, content: Hashed) -> impl Future<Output = io::Result<BlobId>> + Send + 'static {
        let this = self.clone();
        let task = tokio::task::spawn_blocking(move || this.put_blocking(&content.bytes, Some(content.id)));
        async move { task.await.map_err(io::Error::other)? }
    }

    /// Writes to a temporary file, hashing in the same pass unless the
    /// identifier is `known`, fsyncs it, renames it to its identifier and
    /// fsyncs the folder.
    fn put_blocking(&self, bytes: &[u8], known: Option<BlobId>) -> io::Result<BlobId> {
        let mut tmp = tempfile::Builder::new().suffix(".tmp").tempfile_in(self.root.join("tmp"))?;
        let mut hasher = known.is_none().then(blake3::Hasher::new);
        for piece in bytes.chunks(PASS) {
            if let Some(hasher) = hasher.as_mut() {
                hasher.update(piece);
            }
            tmp.write_all(piece)?;
        }
        let id = match (known, hasher) {
            (Some(id), _) => id,
            (None, Some(hasher)) => id_of_hash(hasher.finalize()),
            (None, None) => unreachable!("a hasher is made whenever the identifier is unknown"),
        };
        tmp.as_file().sync_all()?;
        let dest = self.path(&id);
        let dir = dest.parent().expect("object paths have a parent folder");
        match tmp.persist(&dest) {
            Ok(_) => {}
            // A fan-out folder removed behind our back: make it again, durably.
            Err(e) if e.error.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(dir)?;
                sync_dir(&self.root.join("objects"))?;
                e.file.persist(&dest).map_err(|e| e.error)?;
            }
            Err(e) => return Err(e.error),
        }
        sync_dir(dir)?;
        Ok(id)
    }

    /// Stores the whole file at `path` (on the same file system as the store:
    /// a temporary file of the caller's, such as a finished upload) without
    /// holding it in memory: it is read once to hash it, fsync'd, renamed
    /// into place (it is gone from `path` afterwards) and the folder fsync'd.
    /// For files of any size (large-file sharing); messages use [`Files::put`].
    pub async fn put_file(&self, path: PathBuf) -> io::Result<BlobId> {
        let this = self.clone();
        run_blocking(move || {
            let mut file = File::open(&path)?;
            let mut hasher = blake3::Hasher::new();
            let mut buf = vec![0u8; PASS];
            loop {
                let n = io::Read::read(&mut file, &mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            file.sync_all()?;
            let id = id_of_hash(hasher.finalize());
            let dest = this.path(&id);
            let dir = dest.parent().expect("object paths have a parent folder");
            fs::create_dir_all(dir)?;
            fs::rename(&path, &dest)?;
            sync_dir(dir)?;
            Ok(id)
        })
        .await
    }

    /// Opens an object for reading in pieces (ranges of a large file), in
    /// either layout, without checking its hash (that would read it whole).
    /// Fails with [`io::ErrorKind::NotFound`] when the object is absent.
    pub async fn open_object(&self, id: &BlobId) -> io::Result<File> {
        let (path, legacy) = (self.path(id), self.legacy_path(id));
        run_blocking(move || match File::open(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => File::open(&legacy),
            other => other,
        })
        .await
    }

    /// Reads an object back, checking that its content still matches its hash.
    /// Fails with [`io::ErrorKind::NotFound`] when the object is absent.
    pub async fn get(&self, id: &BlobId) -> io::Result<Vec<u8>> {
        let path = self.path(id);
        let legacy = self.legacy_path(id);
        let id = id.clone();
        run_blocking(move || {
            let bytes = match fs::read(&path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => fs::read(&legacy)?,
                other => other?,
            };
            if crate::id_of(&bytes) != id {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("blob {id} is corrupt: its content no longer matches its hash"),
                ));
            }
            Ok(bytes)
        })
        .await
    }

    /// The bytes of `range` of an object (fewer when the object ends first),
    /// read without the rest and without checking the hash.
    pub async fn get_range(&self, id: &BlobId, range: Range<u64>) -> io::Result<Vec<u8>> {
        let mut file = self.open_object(id).await?;
        run_blocking(move || {
            io::Seek::seek(&mut file, io::SeekFrom::Start(range.start))?;
            let mut out = Vec::with_capacity(range.end.saturating_sub(range.start).min(1 << 24) as usize);
            io::Read::read_to_end(&mut io::Read::take(&mut file, range.end.saturating_sub(range.start)), &mut out)?;
            Ok(out)
        })
        .await
    }

    /// When the object was last stored (the later of both layouts), or `None`
    /// when it is absent.
    pub async fn modified(&self, id: &BlobId) -> io::Result<Option<SystemTime>> {
        let mut latest = None;
        for path in [self.path(id), self.legacy_path(id)] {
            match tokio::fs::metadata(path).await {
                Ok(meta) => latest = latest.max(Some(meta.modified()?)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(latest)
    }

    /// Whether the object is present (in either layout).
    pub async fn exists(&self, id: &BlobId) -> bool {
        tokio::fs::try_exists(self.path(id)).await.unwrap_or(false)
            || tokio::fs::try_exists(self.legacy_path(id)).await.unwrap_or(false)
    }

    /// Removes an object, from both layouts. Removing an absent object succeeds.
    pub async fn delete(&self, id: &BlobId) -> io::Result<()> {
        for path in [self.path(id), self.legacy_path(id)] {
            match tokio::fs::remove_file(path).await {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
        Ok(())
    }

    /// Every object with its modification time (the time of its last `put`;
    /// an object present in both layouts is listed once, with the later time).
    pub async fn list(&self) -> io::Result<Vec<(BlobId, SystemTime)>> {
        let objects = self.root.join("objects");
        run_blocking(move || {
            let mut out: HashMap<BlobId, SystemTime> = HashMap::new();
            walk_objects(&objects, &mut |id, meta| {
                let modified = meta.modified()?;
                let at = out.entry(id).or_insert(modified);
                *at = (*at).max(modified);
                Ok(())
            })?;
            Ok(out.into_iter().collect())
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

/// Calls `visit` for every well-formed object file under `objects/xx/` and,
/// for stores written before the one-level fan-out, `objects/xx/yy/`. Names
/// that are not blob identifiers are ignored rather than reported.
fn walk_objects(objects: &Path, visit: &mut dyn FnMut(BlobId, fs::Metadata) -> io::Result<()>) -> io::Result<()> {
    for first in fs::read_dir(objects)? {
        let first = first?;
        if !first.file_type()?.is_dir() {
            continue;
        }
        for entry in fs::read_dir(first.path())? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                for object in fs::read_dir(entry.path())? {
                    visit_object(object?, visit)?;
                }
            } else {
                visit_object(entry, visit)?;
            }
        }
    }
    Ok(())
}

/// Calls `visit` for one object file, if its name is a blob identifier.
fn visit_object(object: fs::DirEntry, visit: &mut dyn FnMut(BlobId, fs::Metadata) -> io::Result<()>) -> io::Result<()> {
    let Some(id) = object.file_name().to_str().and_then(BlobId::from_hex) else {
        return Ok(());
    };
    match object.metadata() {
        Ok(meta) if meta.is_file() => visit(id, meta),
        Ok(_) => Ok(()),
        // Deleted between listing and reading its metadata.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Files) {
        let dir = tempfile::tempdir().unwrap();
        let store = Files::open(dir.path().join("blobs")).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn round_trip() {
        let (_dir, store) = store();
        let id = store.put(&b"Bonjour la classe"[..]).await.unwrap();
        assert_eq!(id, crate::id_of(b"Bonjour la classe"));
        assert_eq!(store.get(&id).await.unwrap(), b"Bonjour la classe");
        assert!(store.exists(&id).await);
        let path = store.path(&id);
        let rel = path.strip_prefix(store.root()).unwrap();
        let h = id.as_str();
        assert_eq!(rel, Path::new("objects").join(&h[..2]).join(h));
    }

    /// The identifier is BLAKE3 of the whole content, whatever its size
    /// relative to the pieces it is hashed and written in.
    #[tokio::test]
    async fn the_identifier_is_blake3_of_the_content() {
        let (_dir, store) = store();
        for len in [0, 1, PASS - 1, PASS, PASS + 1, 3 * PASS + 17] {
            let content: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let expected = blake3::hash(&content).to_hex();
            let id = store.put(content.clone()).await.unwrap();
            assert_eq!(id.as_str(), expected.as_str(), "{len} bytes");
            assert_eq!(fs::read(store.path(&id)).unwrap(), content, "{len} bytes");
        }
    }

    #[tokio::test]
    async fn hashed_content_is_stored_under_its_hash() {
        let (_dir, store) = store();
        let content = Hashed::new(vec![7u8; 3 * PASS + 5]);
        assert_eq!(content.id().as_str(), blake3::hash(content.bytes()).to_hex().as_str());
        let id = store.put_hashed(content.clone()).await.unwrap();
        assert_eq!(&id, content.id());
        assert_eq!(store.get(&id).await.unwrap(), content.bytes().as_ref());
    }

    /// A finished file is adopted whole, under the hash of its bytes, and read back in pieces.
    #[tokio::test]
    async fn a_file_is_stored_without_being_held_in_memory() {
        let (_dir, store) = store();
        let bytes: Vec<u8> = (0..3 * PASS + 17).map(|n| (n % 251) as u8).collect();
        let upload = store.root().join("tmp").join("televersement");
        fs::write(&upload, &bytes).unwrap();
        let id = store.put_file(upload.clone()).await.unwrap();
        assert_eq!(id, crate::id_of(&bytes));
        assert!(!upload.exists(), "renamed, not copied");
        assert_eq!(store.get(&id).await.unwrap(), bytes);
        let mut file = store.open_object(&id).await.unwrap();
        io::Seek::seek(&mut file, io::SeekFrom::Start(PASS as u64)).unwrap();
        let mut piece = [0u8; 10];
        io::Read::read_exact(&mut file, &mut piece).unwrap();
        assert_eq!(piece, bytes[PASS..PASS + 10]);
        let absent = crate::id_of(b"absent");
        assert_eq!(store.open_object(&absent).await.unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    /// Storing never creates a folder: the fan-out is made when the store opens.
    #[tokio::test]
    async fn writes_create_no_folders() {
        let (_dir, store) = store();
        let folders = || fs::read_dir(store.root().join("objects")).unwrap().count();
        assert_eq!(folders(), 256);
        for n in 0..50 {
            let id = store.put(format!("message {n}").into_bytes()).await.unwrap();
            assert!(store.path(&id).is_file());
        }
        assert_eq!(folders(), 256);
        let nested = fs::read_dir(store.root().join("objects"))
            .unwrap()
            .flat_map(|d| fs::read_dir(d.unwrap().path()).unwrap())
            .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_dir())
            .count();
        assert_eq!(nested, 0);
    }

    /// A store written with the two-level fan-out (`objects/ab/cd/<hash>`)
    /// still reads, lists, counts and deletes its objects.
    #[tokio::test]
    async fn objects_of_the_two_level_layout_are_still_served() {
        let (_dir, store) = store();
        let id = crate::id_of(b"ancienne disposition");
        let legacy = store.legacy_path(&id);
        fs::create_dir_all(legacy.parent().unwrap()).unwrap();
        fs::write(&legacy, b"ancienne disposition").unwrap();
        assert!(store.exists(&id).await);
        assert_eq!(store.get(&id).await.unwrap(), b"ancienne disposition");
        assert_eq!(store.list().await.unwrap().into_iter().map(|(i, _)| i).collect::<Vec<_>>(), vec![id.clone()]);
        assert_eq!(store.usage().await.unwrap(), (1, 20));
        // Stored again, it is listed once.
        assert_eq!(store.put(&b"ancienne disposition"[..]).await.unwrap(), id);
        assert_eq!(store.list().await.unwrap().len(), 1);
        store.delete(&id).await.unwrap();
        assert!(!store.exists(&id).await);
        assert!(!legacy.exists() && !store.path(&id).exists());
        assert_eq!(store.get(&id).await.unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    /// A fan-out folder that disappeared is made again rather than failing.
    #[tokio::test]
    async fn a_missing_fan_out_folder_is_recreated() {
        let (_dir, store) = store();
        let id = crate::id_of(b"reparti");
        fs::remove_dir(store.path(&id).parent().unwrap()).unwrap();
        assert_eq!(store.put(&b"reparti"[..]).await.unwrap(), id);
        assert_eq!(store.get(&id).await.unwrap(), b"reparti");
    }

    #[tokio::test]
    async fn identical_content_is_stored_once() {
        let (_dir, store) = store();
        let a = store.put(&b"circulaire de rentree"[..]).await.unwrap();
        let b = store.put(&b"circulaire de rentree"[..]).await.unwrap();
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
        store.put(&b"12345"[..]).await.unwrap();
        store.put(&b"1234567890"[..]).await.unwrap();
        store.put(&b"12345"[..]).await.unwrap();
        assert_eq!(store.usage().await.unwrap(), (2, 15));
    }

    #[tokio::test]
    async fn delete_is_idempotent() {
        let (_dir, store) = store();
        let id = store.put(&b"a supprimer"[..]).await.unwrap();
        store.delete(&id).await.unwrap();
        assert!(!store.exists(&id).await);
        store.delete(&id).await.unwrap();
        assert_eq!(store.usage().await.unwrap(), (0, 0));
    }

    #[tokio::test]
    async fn missing_blob_is_not_found() {
        let (_dir, store) = store();
        let err = store.get(&crate::id_of(b"never stored")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn corrupt_blob_is_detected() {
        let (_dir, store) = store();
        let id = store.put(&b"original"[..]).await.unwrap();
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
        let id = store.put(&b"x"[..]).await.unwrap();
        fs::write(store.path(&id).with_file_name("notes.txt"), b"?").unwrap();
        fs::create_dir_all(store.root().join("objects/ab/cd")).unwrap();
        fs::write(store.root().join("objects/ab/cd/notes.txt"), b"?").unwrap();
        let listed: Vec<_> = store.list().await.unwrap().into_iter().map(|(id, _)| id).collect();
        assert_eq!(listed, vec![id]);
    }

    #[tokio::test]
    async fn reopening_keeps_objects() {
        let (dir, store) = store();
        let id = store.put(&b"persistant"[..]).await.unwrap();
        drop(store);
        let again = Files::open(dir.path().join("blobs")).unwrap();
        assert_eq!(again.get(&id).await.unwrap(), b"persistant");
    }
}
