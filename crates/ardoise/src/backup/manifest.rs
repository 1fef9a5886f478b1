//! `manifest.json`: what a snapshot holds and the hash of each piece.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

pub const MANIFEST: &str = "manifest.json";
pub const FORMAT: u32 = 1;

/// The metadata file's name for each engine.
pub const SQLITE_FILE: &str = "metadata.sqlite";
pub const PGDUMP_FILE: &str = "metadata.pgdump";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// UTC, RFC 3339.
    pub created: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub metadata: FileEntry,
    /// Keys and certificates of the data folder, below `keys/`.
    pub files: Vec<FileEntry>,
    /// Message files the metadata references (named by their BLAKE3 hash).
    pub blobs: Vec<BlobEntry>,
    /// Message files referenced but unreadable when the snapshot was taken.
    #[serde(default)]
    pub missing: Vec<String>,
}

/// A file of the snapshot, by its path relative to the snapshot folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub blake3: String,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlobEntry {
    pub id: String,
    pub size: u64,
}

impl Manifest {
    pub fn read(snapshot: &Path) -> anyhow::Result<Manifest> {
        let path = snapshot.join(MANIFEST);
        let text = std::fs::read(&path).with_context(|| format!("lecture de {}", path.display()))?;
        let m: Manifest = serde_json::from_slice(&text).with_context(|| format!("{} illisible", path.display()))?;
        anyhow::ensure!(m.format == FORMAT, "{} : format {} inconnu", path.display(), m.format);
        Ok(m)
    }
}

/// The backup folder's layout.
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn new(root: &Path) -> Layout {
        Layout { root: root.to_owned() }
    }

    pub fn objects(&self) -> PathBuf {
        self.root.join("objects")
    }

    pub fn snapshots(&self) -> PathBuf {
        self.root.join("snapshots")
    }

    /// Where a message file is kept: `objects/ab/<hash>`, as in the data folder.
    pub fn blob(&self, id: &str) -> PathBuf {
        self.objects().join(&id[..2]).join(id)
    }

    /// The finished snapshots' names, oldest first (names are UTC times).
    pub fn snapshot_names(&self) -> anyhow::Result<Vec<String>> {
        let dir = self.snapshots();
        let mut names = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
            Err(e) => return Err(e).with_context(|| format!("lecture de {}", dir.display())),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && entry.file_type()?.is_dir() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// The snapshot named, or the latest one.
    pub fn pick(&self, name: Option<&str>) -> anyhow::Result<(String, PathBuf)> {
        let names = self.snapshot_names()?;
        let name = match name {
            Some(n) => names
                .iter()
                .find(|x| x.as_str() == n)
                .cloned()
                .with_context(|| format!("instantané {n} introuvable (présents : {})", names.join(", ")))?,
            None => names.last().cloned().with_context(|| format!("aucun instantané dans {}", self.root.display()))?,
        };
        let path = self.snapshots().join(&name);
        Ok((name, path))
    }
}
