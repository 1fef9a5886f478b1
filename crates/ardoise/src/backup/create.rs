//! `ardoise backup create DEST`: one new snapshot, taken while the server runs.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::files::{copy_durably, hash_file, sync_dir, sync_tree, write_durably};
use super::manifest::{BlobEntry, FORMAT, FileEntry, Layout, MANIFEST, Manifest, PGDUMP_FILE, SQLITE_FILE};
use crate::serve;

/// What the data folder holds that is not keys: the database, the message
/// files, derived or transient data.
const NOT_KEYS: &[&str] = &["search", "tmp", "listeners.json", "listeners.json.tmp"];

pub async fn create(cfg: &config::Config, dest: &Path, pg_dump: Option<&Path>) -> anyhow::Result<ExitCode> {
    let layout = Layout::new(dest);
    fs::create_dir_all(layout.objects()).with_context(|| format!("création de {}", layout.objects().display()))?;
    fs::create_dir_all(layout.snapshots())?;
    // One backup at a time in a folder; the lock goes with the process (kill -9 included).
    let lock = fs::File::create(dest.join("verrou")).context("fichier verrou")?;
    if lock.try_lock().is_err() {
        bail!("une autre sauvegarde est en cours dans {} / another backup is running", dest.display());
    }
    clean_remains(&layout)?;

    let opened = serve::open(cfg).await?;
    let name = unused_name(&layout);
    let partial = layout.snapshots().join(format!(".partiel-{name}"));
    fs::create_dir_all(&partial)?;

    // 1. The metadata, at one instant.
    let (backend, metadata, held) = match opened.store.backend() {
        store::Backend::Sqlite => {
            anyhow::ensure!(
                pg_dump.is_none(),
                "--pg-dump ne sert qu'avec PostgreSQL / --pg-dump is for PostgreSQL only"
            );
            let path = partial.join(SQLITE_FILE);
            opened.store.snapshot_into(&path).await.context("copie de la base (VACUUM INTO)")?;
            // What that copy references, read from the copy itself.
            let snap = store::Store::open(&format!("sqlite://{}", path.display())).await?;
            let held = snap.held_blobs().await;
            snap.close().await;
            for extra in ["-wal", "-shm"] {
                let side = PathBuf::from(format!("{}{extra}", path.display()));
                if side.exists() {
                    fs::remove_file(&side)?;
                }
            }
            ("sqlite", SQLITE_FILE, held?)
        }
        store::Backend::Postgres => {
            let Some(dump) = pg_dump else {
                bail!(
                    "PostgreSQL : faites d'abord `pg_dump -Fc` de la base, puis passez le fichier avec --pg-dump \
                     (docs/backup.md) / run pg_dump -Fc first and pass it with --pg-dump"
                );
            };
            copy_durably(dump, &partial.join(PGDUMP_FILE)).with_context(|| format!("copie de {}", dump.display()))?;
            // Asked after the dump: every content the dump references is
            // either still held now or released since, and released files
            // stay on disk for the collector's grace period, so the copy
            // below still finds it (missing ones are listed).
            ("postgres", PGDUMP_FILE, opened.store.held_blobs().await?)
        }
    };
    let (blake3, size) = hash_file(&partial.join(metadata))?;
    let metadata = FileEntry { path: metadata.to_owned(), blake3, size };

    // 2. The keys of the data folder.
    let files = copy_keys(cfg, &partial).context("copie des clés du dossier de données")?;

    // 3. The message files, those missing only.
    let mut copied = (0u64, 0u64);
    let mut missing = Vec::new();
    let mut touched = BTreeSet::new();
    for blob in &held {
        let id = blob.id.as_str();
        let target = layout.blob(id);
        if fs::metadata(&target).map(|m| m.len() == blob.size as u64).unwrap_or(false) {
            continue;
        }
        let bytes = match opened.blobs.get(&blob.id).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("message {id} illisible dans les données vives / unreadable: {e}");
                missing.push(id.to_owned());
                continue;
            }
        };
        if blob::BlobStore::id_of(&bytes).as_str() != id {
            eprintln!("message {id} abîmé dans les données vives (empreinte différente) / damaged in the live data");
            missing.push(id.to_owned());
            continue;
        }
        let dir = target.parent().expect("objects/ab").to_owned();
        fs::create_dir_all(&dir)?;
        write_durably(&target, &bytes).with_context(|| format!("écriture de {}", target.display()))?;
        touched.insert(dir);
        copied.0 += 1;
        copied.1 += bytes.len() as u64;
    }
    for dir in &touched {
        sync_dir(dir)?;
    }
    sync_dir(&layout.objects())?;

    // 4. The manifest, then the snapshot made visible in one rename.
    let blobs: Vec<BlobEntry> = held
        .iter()
        .filter(|b| !missing.iter().any(|m| m == b.id.as_str()))
        .map(|b| BlobEntry { id: b.id.as_str().to_owned(), size: b.size as u64 })
        .collect();
    let manifest = Manifest {
        format: FORMAT,
        created: jiff::Timestamp::now().to_string(),
        backend: backend.to_owned(),
        metadata,
        files,
        blobs,
        missing: missing.clone(),
    };
    write_durably(&partial.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)?;
    sync_tree(&partial)?;
    let done = layout.snapshots().join(&name);
    fs::rename(&partial, &done)?;
    sync_dir(&layout.snapshots())?;
    drop(lock);

    println!(
        "instantané {name} : {} fichier(s) de message, {} copié(s) ({} octets), {} fichier(s) de clés / snapshot written",
        manifest.blobs.len(),
        copied.0,
        copied.1,
        manifest.files.len()
    );
    if !missing.is_empty() {
        eprintln!(
            "ATTENTION : {} message(s) manquant(s) dans cet instantané (listés dans {MANIFEST}) / missing messages",
            missing.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// A name for the new snapshot: its UTC time, made unique.
fn unused_name(layout: &Layout) -> String {
    let base = jiff::Timestamp::now().strftime("%Y-%m-%dT%H%M%SZ").to_string();
    let mut name = base.clone();
    let mut n = 2;
    while layout.snapshots().join(&name).exists() {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// Removes what an interrupted run left: unfinished snapshots and
/// temporary message files (finished message files stay: they are whole).
fn clean_remains(layout: &Layout) -> anyhow::Result<()> {
    for entry in fs::read_dir(layout.snapshots())? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(".partiel-") {
            fs::remove_dir_all(entry.path())?;
        }
    }
    for dir in fs::read_dir(layout.objects())? {
        let dir = dir?;
        if !dir.file_type()?.is_dir() {
            continue;
        }
        for file in fs::read_dir(dir.path())? {
            let file = file?;
            if file.file_name().to_string_lossy().starts_with(".tmp-") {
                fs::remove_file(file.path())?;
            }
        }
    }
    Ok(())
}

/// The SQLite database file of a `sqlite://` URL, if it is one.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    Some(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
}

/// Copies every file of the data folder but the database, the message
/// files and derived data into `keys/`; returns them with their hashes.
fn copy_keys(cfg: &config::Config, snapshot: &Path) -> anyhow::Result<Vec<FileEntry>> {
    let data = &cfg.server.data_dir;
    let mut skip: Vec<PathBuf> = NOT_KEYS.iter().map(|n| data.join(n)).collect();
    skip.push(cfg.blob_path());
    if let Some(db) = sqlite_file(&cfg.store_url()) {
        for extra in ["", "-wal", "-shm", "-journal"] {
            skip.push(PathBuf::from(format!("{}{extra}", db.display())));
        }
    }
    let mut out = Vec::new();
    copy_tree(data, &snapshot.join("keys"), Path::new("keys"), &skip, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn copy_tree(from: &Path, to: &Path, rel: &Path, skip: &[PathBuf], out: &mut Vec<FileEntry>) -> anyhow::Result<()> {
    let entries = match fs::read_dir(from) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("lecture de {}", from.display())),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if skip.iter().any(|s| s == &path) {
            continue;
        }
        let kind = entry.file_type()?;
        let name = entry.file_name();
        if kind.is_dir() {
            copy_tree(&path, &to.join(&name), &rel.join(&name), skip, out)?;
        } else if kind.is_file() {
            fs::create_dir_all(to)?;
            copy_durably(&path, &to.join(&name)).with_context(|| format!("copie de {}", path.display()))?;
            let (blake3, size) = hash_file(&to.join(&name))?;
            out.push(FileEntry { path: rel.join(&name).to_string_lossy().into_owned(), blake3, size });
        }
    }
    Ok(())
}
