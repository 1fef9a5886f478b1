//! `ardoise backup restore`: one account (or one of its folders) filed again
//! next to the live data (with, for a whole account, its subscriptions, Sieve
//! scripts, contacts and calendars: [`super::account_data`]), or a whole
//! installation into an empty data folder.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use mailstore::DeliveryTarget;
use model::Address;

use super::create::sqlite_file;
use super::files::{copy_durably, empty_or_missing, hash_file, sync_dir};
use super::manifest::{Layout, Manifest, PGDUMP_FILE, SQLITE_FILE};
use super::verify::check_snapshot;
use crate::serve;

#[derive(Args)]
pub struct RestoreArgs {
    /// Dossier des sauvegardes / backup folder.
    dest: PathBuf,
    /// Instantané à utiliser (par défaut le plus récent) / snapshot (default: the latest).
    #[arg(long)]
    snapshot: Option<String>,
    /// Compte à restaurer / account to restore.
    #[arg(long, value_name = "ADRESSE", required_unless_present = "full")]
    account: Option<String>,
    /// Un seul dossier du compte (nom complet, ex. « INBOX » ou « Projets/2026 ») / one folder only.
    #[arg(long, value_name = "NOM", requires = "account")]
    folder: Option<String>,
    /// Dossier sous lequel les messages restaurés sont rangés / folder the restored mail goes under.
    #[arg(long, value_name = "NOM", default_value = "Restauré", requires = "account")]
    into: String,
    /// PostgreSQL : base où le dump de l'instantané a été chargé (pg_restore) pour y lire le compte /
    /// PostgreSQL: a scratch database the snapshot's dump was loaded into.
    #[arg(long, value_name = "URL", requires = "account")]
    from_database: Option<String>,
    /// Restaure toute l'installation dans le dossier de données (vide) de la configuration /
    /// restore everything into the configuration's (empty) data folder.
    #[arg(long, conflicts_with_all = ["account", "folder", "from_database"])]
    full: bool,
}

pub async fn restore(cfg: &config::Config, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let layout = Layout::new(&args.dest);
    let (name, dir) = layout.pick(args.snapshot.as_deref())?;
    let manifest = Manifest::read(&dir)?;
    if args.full {
        return full(cfg, &layout, &name, &dir, &manifest).await;
    }
    let address = args.account.as_deref().expect("clap: --account or --full");
    account(cfg, &layout, &dir, &manifest, address, &args).await
}

/// Counts of an account restore.
#[derive(Default)]
struct Tally {
    restored: u64,
    already: u64,
    failed: u64,
}

async fn account(
    cfg: &config::Config,
    layout: &Layout,
    dir: &Path,
    manifest: &Manifest,
    address: &str,
    args: &RestoreArgs,
) -> anyhow::Result<ExitCode> {
    let parsed = Address::parse(address).map_err(|e| anyhow::anyhow!("adresse invalide {address:?} : {e}"))?;
    let into = args.into.trim_matches('/');
    anyhow::ensure!(!into.is_empty(), "--into : nom de dossier vide / empty folder name");

    // The snapshot's metadata, read from a copy (the snapshot stays as hashed).
    let scratch = tempfile::tempdir().context("dossier temporaire")?;
    let snap = match (&args.from_database, manifest.backend.as_str()) {
        (Some(url), _) => store::Store::open(url).await.context("base indiquée par --from-database")?,
        (None, "sqlite") => {
            let file = dir.join(SQLITE_FILE);
            let (hash, _) = hash_file(&file).with_context(|| format!("lecture de {}", file.display()))?;
            anyhow::ensure!(
                hash == manifest.metadata.blake3,
                "{} abîmé : lancez `ardoise backup verify` / damaged snapshot",
                file.display()
            );
            let copy = scratch.path().join(SQLITE_FILE);
            fs::copy(&file, &copy)?;
            store::Store::open(&format!("sqlite://{}", copy.display())).await?
        }
        (None, _) => bail!(
            "instantané PostgreSQL : chargez {PGDUMP_FILE} dans une base temporaire (pg_restore) et passez-la avec \
             --from-database (docs/backup.md)"
        ),
    };
    snap.migrate().await.context("mise à niveau de la copie de la base")?;
    let source = snap
        .account_by_address(&parsed)
        .await?
        .with_context(|| format!("pas de compte {address} dans l'instantané / not in the snapshot"))?;
    let mut folders = snap.list_mailboxes(source.id).await?;
    folders.retain(|m| !m.placeholder);
    if let Some(wanted) = &args.folder {
        let same = |name: &str| name == wanted || (name == "INBOX" && wanted.eq_ignore_ascii_case("inbox"));
        let names: Vec<String> = folders.iter().map(|m| m.name.clone()).collect();
        folders.retain(|m| same(&m.name));
        anyhow::ensure!(
            !folders.is_empty(),
            "pas de dossier « {wanted} » dans l'instantané pour {address} (dossiers : {})",
            names.join(", ")
        );
    }

    // The live side: the normal filing path, the search index when free.
    let live = serve::open(cfg).await?;
    let target = live
        .store
        .account_by_address(&parsed)
        .await?
        .with_context(|| format!("pas de compte {address} sur ce serveur / no such live account"))?;
    let indexed = live.mailstore.enable_search(&cfg.server.data_dir.join("search")).is_ok();
    let ms = &live.mailstore;
    if ms.mailbox_named(target.id, into).await?.is_none() {
        ms.create_subscribed_mailbox(target.id, into, None).await.with_context(|| format!("création de « {into} »"))?;
    }

    let mut tally = Tally::default();
    // The quota holds for a restore too: a message that does not fit is a
    // per-message error, the rest goes on.
    let mut usage = ms.usage(target.id).await?;
    for folder in &folders {
        let rows = snap.messages(folder.id).await?;
        // An empty folder is made again only when asked for by name.
        if rows.is_empty() && args.folder.is_none() {
            continue;
        }
        let name = format!("{into}/{}", folder.name);
        let mailbox = match ms.mailbox_named(target.id, &name).await? {
            Some(m) => m,
            None => ms
                .create_subscribed_mailbox(target.id, &name, None)
                .await
                .with_context(|| format!("création de « {name} »"))?,
        };
        // Already restored (a rerun): same content and same internal date.
        let present: HashSet<(String, i64)> = ms
            .messages(mailbox.id)
            .await?
            .into_iter()
            .map(|r| (r.blob_hash.as_str().to_owned(), r.internal_date))
            .collect();
        let mut done = 0u64;
        for row in rows {
            let id = row.blob_hash.as_str();
            if present.contains(&(id.to_owned(), row.internal_date)) {
                tally.already += 1;
                continue;
            }
            let bytes = match fs::read(layout.blob(id)) {
                Ok(b) if blob::BlobStore::id_of(&b).as_str() == id => b,
                Ok(_) => {
                    eprintln!(
                        "{} UID {} : fichier abîmé dans la sauvegarde / damaged in the backup",
                        folder.name, row.uid
                    );
                    tally.failed += 1;
                    continue;
                }
                Err(e) => {
                    eprintln!("{} UID {} : fichier absent de la sauvegarde ({e})", folder.name, row.uid);
                    tally.failed += 1;
                    continue;
                }
            };
            if usage.would_exceed(bytes.len() as i64) {
                eprintln!(
                    "{} UID {} : quota du compte atteint, message non restauré ({} octets) / over quota",
                    folder.name,
                    row.uid,
                    bytes.len()
                );
                tally.failed += 1;
                continue;
            }
            let size = bytes.len() as i64;
            let to = DeliveryTarget {
                account: target.id,
                mailbox: Some(mailbox.id),
                flags: row.flags,
                keywords: row.keywords.clone(),
            };
            match ms.deliver_to_owned(bytes, &[to], row.internal_date).await {
                Ok(_) => {
                    tally.restored += 1;
                    usage.used_bytes += size;
                    done += 1;
                }
                Err(e) => {
                    eprintln!("{} UID {} : {e}", folder.name, row.uid);
                    tally.failed += 1;
                }
            }
        }
        println!("« {} » → « {name} » : {} message(s) restauré(s)", folder.name, done);
    }
    // The rest of the account, unless one folder only was asked for.
    let mut others_failed = 0;
    if args.folder.is_none() {
        let data = super::account_data::restore(cfg, &snap, source.id, &live, target.id).await?;
        println!("abonnements : {}", data.subscriptions);
        println!("scripts Sieve : {}", data.scripts);
        println!("contacts et agendas : {}", data.objects);
        others_failed = data.failed();
    }
    snap.close().await;
    if indexed {
        ms.index_settled().await;
        if let Some(index) = ms.search_index().cloned() {
            tokio::task::spawn_blocking(move || index.commit()).await?.context("index de recherche")?;
        }
    } else {
        eprintln!(
            "index de recherche tenu par le serveur en marche : il y ajoute lui-même les messages restaurés \
             dans les secondes qui viennent / the running server indexes the restored mail itself"
        );
    }
    println!(
        "{address} : {} restauré(s), {} déjà présent(s), {} en échec / restored, already there, failed",
        tally.restored, tally.already, tally.failed
    );
    Ok(if tally.failed + others_failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The whole installation, into an empty data folder: checked first, then
/// copied (database, keys, message files through the blob store's durable
/// writes). The search index is rebuilt by the server at its first start.
async fn full(
    cfg: &config::Config,
    layout: &Layout,
    name: &str,
    dir: &Path,
    manifest: &Manifest,
) -> anyhow::Result<ExitCode> {
    let data = &cfg.server.data_dir;
    let folders = if cfg.blob.url.is_some() { vec![data.clone()] } else { vec![data.clone(), cfg.blob_path()] };
    for folder in folders {
        anyhow::ensure!(
            empty_or_missing(&folder)?,
            "{} n'est pas vide : la restauration complète ne s'écrit que dans un dossier vide / not empty",
            folder.display()
        );
    }
    let problems = check_snapshot(layout, dir, &mut HashMap::new());
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("  - {p}");
        }
        bail!(
            "instantané {name} abîmé ({} problème(s)) : rien n'a été écrit / damaged, nothing written",
            problems.len()
        );
    }
    fs::create_dir_all(data)?;

    let url = cfg.store_url();
    let pg_note = match (manifest.backend.as_str(), sqlite_file(&url)) {
        ("sqlite", Some(db)) => {
            anyhow::ensure!(!db.exists(), "{} existe déjà", db.display());
            if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent)?;
            }
            copy_durably(&dir.join(SQLITE_FILE), &db)?;
            None
        }
        ("postgres", None) => Some(dir.join(PGDUMP_FILE)),
        (backend, _) => bail!(
            "l'instantané vient de {backend} et la configuration vise une autre base : restaurez avec le même moteur"
        ),
    };

    for file in &manifest.files {
        let rel = Path::new(&file.path).strip_prefix("keys").context("clé hors de keys/")?;
        let to = data.join(rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        copy_durably(&dir.join(&file.path), &to)?;
    }

    // Into the configured place, a bucket too (content-addressed: what is
    // there already is the same bytes).
    let blobs = crate::serve::open_blobs(cfg).await?;
    for entry in &manifest.blobs {
        let bytes = fs::read(layout.blob(&entry.id))?;
        let id = blobs.put(bytes).await?;
        anyhow::ensure!(id.as_str() == entry.id, "message {} : empreinte différente à la copie", entry.id);
    }
    sync_dir(data)?;
    println!(
        "instantané {name} restauré dans {} : {} fichier(s) de message, {} fichier(s) de clés",
        data.display(),
        manifest.blobs.len(),
        manifest.files.len()
    );
    if let Some(dump) = pg_note {
        println!(
            "PostgreSQL : chargez maintenant la base dans la base VIDE de la configuration : \
             pg_restore --no-owner -d <URL> {}",
            dump.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
