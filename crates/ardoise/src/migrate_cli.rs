//! `ardoise migrate imap` and `ardoise import mbox|maildir`: mail brought in
//! from another server or from files, through the `migrate` crate. This is
//! the edge: arguments, the CSV of accounts, addresses resolved to accounts,
//! passwords read, the report written, the exit code.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use migrate::from_imap::{self, AccountJob, Options, Source};
use migrate::import::{self, ImportInto};
use migrate::{Outcome, Report, Security};
use model::Address;

use crate::serve;

#[derive(Subcommand)]
pub enum MigrateCommand {
    /// Copie des comptes depuis un autre serveur IMAP (dossiers, drapeaux, dates, abonnements),
    /// sans doublon à la relance / copy accounts from another IMAP server, rerunnable.
    Imap(Box<ImapArgs>),
}

#[derive(Args)]
pub struct ImapArgs {
    #[arg(long, short)]
    config: PathBuf,
    /// Serveur source / source server.
    #[arg(long)]
    host: String,
    /// Port (993 avec --tls, 143 avec --starttls).
    #[arg(long)]
    port: Option<u16>,
    /// STARTTLS sur le port 143 au lieu de TLS direct / STARTTLS instead of implicit TLS.
    #[arg(long, conflicts_with = "tls")]
    starttls: bool,
    /// TLS dès la connexion (le défaut) / implicit TLS (the default).
    #[arg(long)]
    tls: bool,
    /// POUR LES TESTS SEULEMENT : accepte tout certificat de la source / TESTS ONLY: accept any certificate.
    #[arg(long)]
    insecure_accept_any_cert: bool,
    /// Fichier CSV « identifiant source,adresse cible[,mot de passe] » / CSV of accounts.
    #[arg(long, conflicts_with_all = ["source_user", "target"])]
    csv: Option<PathBuf>,
    /// Identifiant sur la source (un seul compte) / source login (one account).
    #[arg(long, requires = "target")]
    source_user: Option<String>,
    /// Adresse Ardoise de destination / target address.
    #[arg(long, requires = "source_user")]
    target: Option<String>,
    /// Lit le mot de passe du compte source sur l'entrée standard / read the password from stdin.
    #[arg(long)]
    password_stdin: bool,
    /// Utilisateur maître de la source (connexion « user*maître » de Dovecot) / master user.
    #[arg(long, requires = "master_password_file")]
    master_user: Option<String>,
    /// Fichier du mot de passe de l'utilisateur maître / master password file.
    #[arg(long, requires = "master_user")]
    master_password_file: Option<PathBuf>,
    /// SOURCE=DESTINATION : dossier source (nom décodé) vers un dossier Ardoise ; répétable.
    #[arg(long = "folder-map", value_name = "SRC=DEST")]
    folder_map: Vec<String>,
    /// Comptes migrés en parallèle / accounts at once.
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Liste ce qui serait copié sans rien écrire / list what would be copied, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Compare nombres et drapeaux des deux côtés, sans rien copier / compare both sides, copy nothing.
    #[arg(long)]
    verify: bool,
    #[command(flatten)]
    reports: ReportArgs,
}

#[derive(Args)]
pub struct ReportArgs {
    /// Rapport JSON (totaux et une entrée par message) / JSON report.
    #[arg(long)]
    report_json: Option<PathBuf>,
    /// Rapport CSV : compte, dossier, UID source, résultat, raison / CSV report.
    #[arg(long)]
    report_csv: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Importe un fichier mbox dans un dossier / import an mbox file.
    Mbox {
        #[arg(long, short)]
        config: PathBuf,
        file: PathBuf,
        /// Adresse du compte / the account's address.
        #[arg(long)]
        to: String,
        /// Dossier de destination (la boîte de réception par défaut) / target folder.
        #[arg(long)]
        folder: Option<String>,
        /// Échappement des lignes « From » / how `From ` lines were escaped.
        #[arg(long, value_enum, default_value_t = MboxFormat::Mboxrd)]
        format: MboxFormat,
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        reports: ReportArgs,
    },
    /// Importe une arborescence Maildir (Maildir++ de Dovecot ou dossiers imbriqués) / import a Maildir.
    Maildir {
        #[arg(long, short)]
        config: PathBuf,
        dir: PathBuf,
        #[arg(long)]
        to: String,
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        reports: ReportArgs,
    },
    /// Importe un fichier iCalendar (.ics) dans un agenda, un objet par UID, sans doublon /
    /// import an iCalendar file into a calendar (idempotent by UID).
    Ics {
        #[arg(long, short)]
        config: PathBuf,
        file: PathBuf,
        /// Adresse du compte / the account's address.
        #[arg(long)]
        to: String,
        /// Agenda de destination (nom ou nom affiché ; créé s'il manque ; « agenda » par défaut) / target calendar.
        #[arg(long, value_name = "NOM")]
        calendar: Option<String>,
    },
    /// Importe un fichier vCard (.vcf) dans un carnet d'adresses, sans doublon /
    /// import a vCard file into an address book (idempotent by UID).
    Vcf {
        #[arg(long, short)]
        config: PathBuf,
        file: PathBuf,
        /// Adresse du compte / the account's address.
        #[arg(long)]
        to: String,
        /// Carnet de destination (créé s'il manque ; « contacts » par défaut) / target address book.
        #[arg(long, value_name = "NOM")]
        addressbook: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MboxFormat {
    Mboxrd,
    Mboxo,
}

pub fn config_of_migrate(command: &MigrateCommand) -> &Path {
    match command {
        MigrateCommand::Imap(args) => &args.config,
    }
}

pub fn config_of_import(command: &ImportCommand) -> &Path {
    match command {
        ImportCommand::Mbox { config, .. }
        | ImportCommand::Maildir { config, .. }
        | ImportCommand::Ics { config, .. }
        | ImportCommand::Vcf { config, .. } => config,
    }
}

pub async fn migrate(cfg: &config::Config, command: MigrateCommand) -> anyhow::Result<ExitCode> {
    let MigrateCommand::Imap(args) = command;
    let security = if args.starttls { Security::StartTls } else { Security::Tls };
    let port = args.port.unwrap_or(if args.starttls { 143 } else { 993 });
    let master = match (&args.master_user, &args.master_password_file) {
        (Some(user), Some(file)) => Some((user.clone(), read_secret_file(file)?)),
        _ => None,
    };
    let folder_map = migrate::folders::FolderMap::parse(&args.folder_map).map_err(anyhow::Error::msg)?;
    // Who to copy: (source login, target address, password).
    let wanted: Vec<(String, String, Option<String>)> = match (&args.csv, &args.source_user, &args.target) {
        (Some(file), _, _) => {
            let text = std::fs::read_to_string(file).with_context(|| format!("lecture de {}", file.display()))?;
            read_csv(&text)?
        }
        (None, Some(user), Some(target)) => {
            let password = if args.password_stdin { Some(read_password()?) } else { None };
            if password.is_none() && master.is_none() {
                bail!("--password-stdin ou --master-user requis / a password or a master user is needed");
            }
            vec![(user.clone(), target.clone(), password)]
        }
        _ => bail!("--csv FICHIER ou --source-user U --target ADRESSE requis / which accounts?"),
    };
    let opened = serve::open(cfg).await?;
    let report_early = Report::new();
    let mut jobs = Vec::new();
    for (login, address, password) in wanted {
        match account_of(&opened.store, &address).await {
            Ok(id) => jobs.push(AccountJob { source_login: login, password, target: id, target_address: address }),
            Err(e) => report_early.add(&address, "", "", Outcome::Failed, format!("{e:#}")),
        }
    }
    let tls = migrate::imap::client::tls_config(args.insecure_accept_any_cert).map_err(anyhow::Error::msg)?;
    let source = Source { host: args.host.clone(), port, security, tls, master };
    let options = Options { folder_map, dry_run: args.dry_run, verify: args.verify };
    let report = from_imap::run(opened.mailstore.clone(), source, jobs, options, args.jobs).await;
    for e in report_early.entries() {
        report.add(&e.account, &e.folder, &e.source_uid, e.outcome, e.reason);
    }
    finish(&report, &args.reports, args.dry_run)
}

pub async fn import(cfg: &config::Config, command: ImportCommand) -> anyhow::Result<ExitCode> {
    use crate::dav_import::{DavImport, run};
    use groupware::CollectionKind;
    let (to, dry_run) = match &command {
        ImportCommand::Mbox { to, dry_run, .. } | ImportCommand::Maildir { to, dry_run, .. } => (to.clone(), *dry_run),
        ImportCommand::Ics { file, to, calendar, .. } => {
            let job = DavImport { kind: CollectionKind::Calendar, file, to, collection: calendar.as_deref() };
            return run(cfg, job).await;
        }
        ImportCommand::Vcf { file, to, addressbook, .. } => {
            let job = DavImport { kind: CollectionKind::AddressBook, file, to, collection: addressbook.as_deref() };
            return run(cfg, job).await;
        }
    };
    let opened = serve::open(cfg).await?;
    let account = account_of(&opened.store, &to).await?;
    let into = ImportInto { mailstore: opened.mailstore.clone(), account, address: to, dry_run };
    let (report, reports) = match command {
        ImportCommand::Mbox { file, folder, format, reports, .. } => {
            let format = match format {
                MboxFormat::Mboxrd => migrate::mbox::Format::Mboxrd,
                MboxFormat::Mboxo => migrate::mbox::Format::Mboxo,
            };
            (import::mbox(&into, &file, folder.as_deref(), format).await, reports)
        }
        ImportCommand::Maildir { dir, reports, .. } => (import::maildir(&into, &dir).await, reports),
        ImportCommand::Ics { .. } | ImportCommand::Vcf { .. } => unreachable!("handled above"),
    };
    finish(&Arc::new(report), &reports, dry_run)
}

/// Writes the reports, prints the totals, and says how the run ended.
fn finish(report: &Arc<Report>, args: &ReportArgs, dry_run: bool) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.report_csv {
        let file = std::fs::File::create(path).with_context(|| format!("création de {}", path.display()))?;
        report.write_csv(std::io::BufWriter::new(file))?;
    }
    if let Some(path) = &args.report_json {
        let file = std::fs::File::create(path).with_context(|| format!("création de {}", path.display()))?;
        report.write_json(std::io::BufWriter::new(file))?;
    }
    let t = report.totals();
    if dry_run {
        println!("Simulation : {} à copier, {} déjà là, {} en échec / dry run", t.would_copy, t.skipped, t.failed);
    } else {
        println!(
            "{} copiés, {} déjà là, {} en échec, {} dossiers vérifiés, {} différences / copied, skipped, failed, verified, different",
            t.copied, t.skipped, t.failed, t.verified, t.different
        );
    }
    for e in report.entries().iter().filter(|e| matches!(e.outcome, Outcome::Failed | Outcome::Different)).take(20) {
        eprintln!("{} {} {} : {} — {}", e.account, e.folder, e.source_uid, e.outcome.as_str(), e.reason);
    }
    Ok(if report.has_problems() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

async fn account_of(store: &store::Store, address: &str) -> anyhow::Result<model::AccountId> {
    let parsed = Address::parse(address).map_err(|e| anyhow::anyhow!("adresse invalide {address:?} : {e}"))?;
    Ok(store
        .account_by_address(&parsed)
        .await?
        .with_context(|| format!("pas de compte {address} / no such account"))?
        .id)
}

/// The CSV of accounts: `source login,target address[,password]`; a first
/// line naming the columns, blank lines and `#` comments are skipped.
fn read_csv(text: &str) -> anyhow::Result<Vec<(String, String, Option<String>)>> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).comment(Some(b'#')).from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("ligne {line} : {e}"));
                continue;
            }
        };
        let fields: Vec<&str> = record.iter().map(str::trim).collect();
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        if line == 1 && !fields[0].is_empty() && fields.get(1).is_some_and(|f| !f.contains('@')) {
            continue; // the column names
        }
        match fields.as_slice() {
            [login, target] if !login.is_empty() && !target.is_empty() => {
                out.push((login.to_string(), target.to_string(), None));
            }
            [login, target, password] if !login.is_empty() && !target.is_empty() => {
                out.push((login.to_string(), target.to_string(), (!password.is_empty()).then(|| password.to_string())));
            }
            _ => problems.push(format!("ligne {line} : attendu « identifiant source,adresse cible[,mot de passe] »")),
        }
    }
    if !problems.is_empty() {
        bail!("fichier CSV invalide :\n  {}", problems.join("\n  "));
    }
    if out.is_empty() {
        bail!("le fichier CSV ne nomme aucun compte / no account in the CSV");
    }
    Ok(out)
}

fn read_password() -> anyhow::Result<String> {
    let mut pw = String::new();
    std::io::stdin().read_to_string(&mut pw)?;
    let pw = pw.trim_end_matches(['\r', '\n']);
    if pw.is_empty() {
        bail!("mot de passe vide");
    }
    Ok(pw.to_owned())
}

fn read_secret_file(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("lecture de {}", path.display()))?;
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        bail!("{} est vide", path.display());
    }
    Ok(secret.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_of_accounts() {
        let got = read_csv("source login,target address,password\nclaire,claire.martin@ac-demo.fr\n# commentaire\n\npaul, paul.durand@ac-demo.fr ,s3cret\n").unwrap();
        assert_eq!(got[0], ("claire".into(), "claire.martin@ac-demo.fr".into(), None));
        assert_eq!(got[1], ("paul".into(), "paul.durand@ac-demo.fr".into(), Some("s3cret".into())));
        assert!(read_csv("claire\n").unwrap_err().to_string().contains("ligne 1"));
        assert!(read_csv("").is_err());
    }
}
