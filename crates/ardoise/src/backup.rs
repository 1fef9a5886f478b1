//! `ardoise backup create|verify|restore`: backups of a whole installation
//! taken while it runs, checked, and restored either one mailbox (or one
//! folder) next to the live data, or whole into an empty data folder.
//!
//! This lives in the binary, the composition root, because a backup is the
//! one operation that needs every layer at once and no domain service
//! offers it: a consistent copy of the metadata (`store::Store::snapshot_into`,
//! SQLite's `VACUUM INTO`; a `pg_dump` file on PostgreSQL), the message files
//! (`blob`), the installation's keys, and, for a restore, the mail domain's
//! normal filing path (`mailstore::Mailstore::deliver_to_owned`, which keeps
//! flags and internal dates and feeds the search index).
//!
//! A backup folder holds:
//!
//! ```text
//! DEST/objects/ab/<blake3>              message files, shared by every snapshot
//! DEST/snapshots/<UTC time>/manifest.json
//! DEST/snapshots/<UTC time>/metadata.sqlite (or metadata.pgdump)
//! DEST/snapshots/<UTC time>/keys/...    numen.key, totp.key, web.key, dkim/, tls/, oidc/
//! ```
//!
//! Message files are named by their hash, so a new snapshot copies only the
//! files not already there (incremental), and a file, once written (temp
//! file, fsync, rename), never changes. A snapshot is built in
//! `snapshots/.partiel-<name>` and renamed only once every file in it and
//! every message file it needs is on disk: a crash or `kill -9` in the middle
//! leaves the earlier snapshots whole; the next run removes the remains.

mod account_data;
mod create;
mod files;
mod manifest;
mod restore;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Nouvel instantané (serveur en marche) : base, clés, messages copiés s'ils manquent /
    /// new snapshot while the server runs: metadata, keys, message files copied when missing.
    Create {
        /// Dossier des sauvegardes / backup folder.
        dest: PathBuf,
        /// PostgreSQL : le fichier `pg_dump -Fc` fait juste avant (docs/backup.md) / the dump made just before.
        #[arg(long, value_name = "FICHIER")]
        pg_dump: Option<PathBuf>,
    },
    /// Vérifie chaque empreinte de chaque instantané (code de sortie 1 si quelque chose est abîmé) /
    /// check every hash (exit code 1 on damage).
    Verify {
        dest: PathBuf,
        /// Un seul instantané (par défaut : tous) / one snapshot only (default: all).
        #[arg(long)]
        snapshot: Option<String>,
    },
    /// Restaure un compte (ou un dossier) à côté des données vives, ou toute l'installation
    /// dans un dossier de données vide (--full) / restore one account or folder, or everything (--full).
    Restore(restore::RestoreArgs),
}

pub async fn run(cfg: &config::Config, command: BackupCommand) -> anyhow::Result<ExitCode> {
    match command {
        BackupCommand::Create { dest, pg_dump } => create::create(cfg, &dest, pg_dump.as_deref()).await,
        BackupCommand::Verify { dest, snapshot } => verify::verify(&dest, snapshot.as_deref()),
        BackupCommand::Restore(args) => restore::restore(cfg, args).await,
    }
}
