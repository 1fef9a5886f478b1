//! `ardoise directory sync FILE`: provisions accounts from the HR file (see
//! docs/hr-sync.md). Prints the diff; `--dry-run` prints it and changes
//! nothing; `--report` writes it as CSV or JSON. A progress bar appears on
//! long runs when stderr is a terminal.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, bail};
use clap::Subcommand;
use identity::lifecycle::{NumenKey, Stage, SyncError, SyncOptions};
use model::Domain;

use crate::serve;

#[derive(Subcommand)]
pub enum DirectoryCommand {
    /// Synchronise les comptes avec le fichier RH (CSV UTF-8) / sync accounts with the HR file.
    Sync {
        file: PathBuf,
        /// Affiche les changements sans rien appliquer / print the diff, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Écrit le rapport (FICHIER.json ou FICHIER.csv) / write the report (JSON or CSV).
        #[arg(long, value_name = "FICHIER")]
        report: Option<PathBuf>,
        /// Domaine des adresses créées (défaut : le seul domaine servi) / domain of new addresses.
        #[arg(long)]
        domain: Option<String>,
        /// Jours entre un départ et la fermeture du compte / days from departure to closing.
        #[arg(long, default_value_t = 90)]
        retention_days: i64,
    },
}

pub async fn run(cfg: &config::Config, command: DirectoryCommand) -> anyhow::Result<ExitCode> {
    let DirectoryCommand::Sync { file, dry_run, report, domain, retention_days } = command;
    let bytes = std::fs::read(&file).with_context(|| format!("lecture de {}", file.display()))?;
    let opened = serve::open(cfg).await?;
    let store = &opened.store;
    let domain = match domain {
        Some(d) => Domain::parse(&d).map_err(|e| anyhow::anyhow!("{d}: {e}"))?,
        None => match store.list_domains().await?.as_slice() {
            [only] => only.clone(),
            [] => bail!("aucun domaine servi : ajoutez-en un (ardoise admin domain add)"),
            _ => bail!("plusieurs domaines servis : précisez --domain"),
        },
    };
    let key = NumenKey::load_or_create(&cfg.server.data_dir).context("clé de hachage des NUMEN")?;
    let opts = SyncOptions {
        domain,
        retention_days,
        quota_bytes: cfg.quota.default_bytes.map(|b| b as i64),
        dry_run,
        actor: "opérateur".into(),
        scope: "superutilisateur (CLI)".into(),
    };
    let bar = Progress::new();
    let outcome =
        identity::lifecycle::sync(store, &key, &bytes, &opts, &|stage, done, total| bar.update(stage, done, total))
            .await;
    bar.finish();
    let report_data = match outcome {
        Ok(r) => r,
        Err(SyncError::Lines(errors)) => {
            for e in &errors {
                eprintln!("{}: {e}", file.display());
            }
            eprintln!("{} erreur(s) ; rien n'a été appliqué / nothing applied", errors.len());
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    };
    for change in &report_data.changes {
        println!("{change}");
    }
    let verb = match (dry_run, report_data.applied) {
        (true, _) => "simulation, rien n'a été appliqué / dry run, nothing applied",
        (false, true) => "appliqué / applied",
        (false, false) => "rien à faire / nothing to do",
    };
    println!("{} ligne(s) : {} — {verb}", report_data.rows, report_data.summary());
    if let Some(path) = report {
        let text = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            report_data.to_csv()
        } else {
            report_data.to_json()
        };
        std::fs::write(&path, text).with_context(|| format!("écriture du rapport {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// An indicatif bar, shown only on a terminal and only past a few hundred accounts.
struct Progress(Mutex<Option<indicatif::ProgressBar>>);

impl Progress {
    fn new() -> Progress {
        Progress(Mutex::new(None))
    }

    fn update(&self, stage: Stage, done: u64, total: u64) {
        if !std::io::stderr().is_terminal() || total < 500 {
            return;
        }
        let Ok(mut slot) = self.0.lock() else { return };
        let bar = slot.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})") {
                bar.set_style(style);
            }
            bar
        });
        bar.set_message(match stage {
            Stage::Hashing => "mots de passe provisoires",
            Stage::Applying => "écriture",
        });
        bar.set_length(total);
        bar.set_position(done);
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.0.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}
