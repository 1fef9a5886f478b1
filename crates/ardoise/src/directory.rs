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
use identity::admin::{AdminError, HrError, HrSync};
use identity::lifecycle::{NumenKey, Stage, SyncError};

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
        /// Jours pendant lesquels l'adresse d'un agent muté dans une autre académie reste un alias /
        /// days the address of an agent moved to another académie still delivers, as an alias.
        #[arg(long, default_value_t = 365)]
        transfer_alias_days: i64,
    },
    /// Reprend les hachages de mots de passe d'un autre serveur (passwd-file de Dovecot :
    /// « utilisateur:{SCHÉMA}hachage ») ; chacun devient argon2id à la première connexion /
    /// import password hashes from another server, re-hashed to argon2id at the first login.
    ImportPasswords {
        file: PathBuf,
        /// Vérifie le fichier et les comptes sans rien écrire / check everything, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Remplace aussi un mot de passe déjà choisi dans Ardoise / also replace a password set in Ardoise.
        #[arg(long)]
        overwrite: bool,
    },
}

pub async fn run(cfg: &config::Config, command: DirectoryCommand) -> anyhow::Result<ExitCode> {
    match command {
        DirectoryCommand::Sync { file, dry_run, report, domain, retention_days, transfer_alias_days } => {
            sync(cfg, file, dry_run, report, domain, (retention_days, transfer_alias_days)).await
        }
        DirectoryCommand::ImportPasswords { file, dry_run, overwrite } => {
            import_passwords(cfg, &file, dry_run, overwrite).await
        }
    }
}

/// `ardoise directory import-passwords`: every line checked, the accounts
/// found, then the hashes written (unless `dry_run`). An account whose
/// password was already set in Ardoise (an argon2id hash) is left alone
/// unless `overwrite`, so a catch-up run after the cut-over reverts nobody.
async fn import_passwords(
    cfg: &config::Config,
    file: &std::path::Path,
    dry_run: bool,
    overwrite: bool,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("lecture de {}", file.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{} : pas en UTF-8", file.display()))?;
    let (lines, mut errors) = identity::credentials::foreign::parse_passwd_file(&text);
    let store = serve::open(cfg).await?.store;
    // A bare user name is a login, or a local part of the one domain served.
    let only_domain = match store.list_domains().await?.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    };
    let (mut written, mut kept) = (0, 0);
    for l in &lines {
        let found = match model::Address::parse(&l.user) {
            Ok(address) => store.account_by_address(&address).await?,
            Err(_) => match store.account_by_login(&l.user.to_lowercase()).await? {
                Some(a) => Some(a),
                None => match only_domain.as_ref().and_then(|d| model::Address::parse(&format!("{}@{d}", l.user)).ok())
                {
                    Some(address) => store.account_by_address(&address).await?,
                    None => None,
                },
            },
        };
        let Some(account) = found else {
            errors.push(format!("ligne {} : {} : pas de compte / no such account", l.line, l.user));
            continue;
        };
        let ours = account.password_hash.as_deref().is_some_and(|h| !identity::credentials::foreign::is_foreign(h));
        if ours && !overwrite {
            println!("ligne {} : {} a déjà un mot de passe Ardoise, laissé tel quel (--overwrite)", l.line, l.user);
            kept += 1;
            continue;
        }
        if !dry_run {
            store.set_password_hash(account.id, &l.hash).await?;
        }
        written += 1;
    }
    errors.sort_by_key(|e| e.split_whitespace().nth(1).and_then(|n| n.parse::<usize>().ok()).unwrap_or(0));
    for e in &errors {
        eprintln!("{}: {e}", file.display());
    }
    let verb = if dry_run { "à importer (simulation, rien n'a été écrit)" } else { "importé(s)" };
    println!("{written} hachage(s) {verb}, {kept} laissé(s), {} erreur(s) / imported, kept, errors", errors.len());
    Ok(if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn sync(
    cfg: &config::Config,
    file: PathBuf,
    dry_run: bool,
    report: Option<PathBuf>,
    domain: Option<String>,
    (retention_days, transfer_alias_days): (i64, i64),
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&file).with_context(|| format!("lecture de {}", file.display()))?;
    let (_opened, identity) = serve::open_with_identity(cfg).await?;
    let key = NumenKey::load_or_create(&cfg.server.data_dir).context("clé de hachage des NUMEN")?;
    // The same door as the console's upload, as the operator (every académie).
    let operator = identity.operator().await?;
    let run = HrSync {
        domain: domain.as_deref(),
        dry_run,
        retention_days,
        transfer_alias_days,
        quota_bytes: cfg.quota.default_bytes.map(|b| b as i64),
        ..HrSync::new(&bytes)
    };
    let bar = Progress::new();
    let outcome =
        identity.admin_hr_sync(&operator, &key, &run, &|stage, done, total| bar.update(stage, done, total)).await;
    bar.finish();
    let report_data = match outcome {
        Ok(r) => r,
        Err(HrError::Sync(SyncError::Lines(errors))) => {
            for e in &errors {
                eprintln!("{}: {e}", file.display());
            }
            eprintln!("{} erreur(s) ; rien n'a été appliqué / nothing applied", errors.len());
            return Ok(ExitCode::from(2));
        }
        Err(HrError::Admin(AdminError::Refused { fr, en })) => bail!("{fr} / {en}"),
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
