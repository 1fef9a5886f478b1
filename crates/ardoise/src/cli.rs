//! The command line: what each subcommand takes, and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{admin, demo, directory, serve};

#[derive(Parser)]
#[command(
    name = "ardoise",
    version,
    about = "Messagerie et collaboration pour l'Éducation / mail and collaboration for education"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// File d'envoi sortante / outbound queue.
    Queue {
        #[arg(long, short)]
        config: PathBuf,
        #[command(subcommand)]
        command: crate::queue_cli::QueueCommand,
    },
    /// Réponse automatique d'absence / vacation auto-reply.
    Vacation {
        #[arg(long, short)]
        config: PathBuf,
        #[command(subcommand)]
        command: crate::vacation_cli::VacationCommand,
    },
    /// Clés DKIM des domaines / DKIM keys.
    Dkim {
        #[arg(long, short)]
        config: PathBuf,
        #[command(subcommand)]
        command: crate::queue_cli::DkimCommand,
    },
    /// Enregistrements DNS à publier (MX, SPF, DKIM, DMARC, SRV…) / DNS records to publish.
    Dns {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Démarre les services selon le fichier de configuration / start the services.
    Serve {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Le serveur répond-il ? (/healthz, code de sortie 0) / is the server answering (for HEALTHCHECK)?
    Healthcheck {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Première installation : configuration, base, clés, DNS / first installation.
    Quickstart(crate::quickstart::QuickstartArgs),
    /// Démarre la démo (académie fictive, ports fixes) / start the demo.
    Demo {
        /// Dossier des données de la démo, conservé entre deux démarrages.
        #[arg(long, default_value = "ardoise-demo")]
        data: PathBuf,
    },
    /// Vérifie ou produit un fichier de configuration / check or print a configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Index de recherche plein texte / full-text search index.
    Search {
        #[arg(long, short)]
        config: PathBuf,
        #[command(subcommand)]
        command: crate::search_cli::SearchCommand,
    },
    /// Administration : domaines, comptes, quotas, messages / administration.
    Admin {
        #[arg(long, short)]
        config: PathBuf,
        /// Agit avec les droits de ce compte (son périmètre) ; sans --as, l'opérateur de la machine
        /// est superutilisateur au niveau de l'académie / act with this account's scope; without it,
        /// the machine operator is the académie-level superuser.
        #[arg(long = "as", global = true, value_name = "ADRESSE")]
        act_as: Option<String>,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Migration depuis un autre serveur IMAP / migration from another IMAP server.
    Migrate {
        #[command(subcommand)]
        command: crate::migrate_cli::MigrateCommand,
    },
    /// Import de fichiers mbox, Maildir, iCalendar ou vCard / import mbox files, Maildirs, .ics and .vcf files.
    Import {
        #[command(subcommand)]
        command: crate::migrate_cli::ImportCommand,
    },
    /// Sauvegardes : instantanés, vérification, restauration / backups: snapshots, checks, restores.
    Backup {
        #[arg(long, short)]
        config: PathBuf,
        #[command(subcommand)]
        command: crate::backup::BackupCommand,
    },
    /// Annuaire : synchronisation avec le fichier RH / HR directory sync.
    Directory {
        #[arg(long, short)]
        config: PathBuf,
        #[command(subcommand)]
        command: directory::DirectoryCommand,
    },
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Signale chaque problème du fichier avec sa ligne / report every problem with its line.
    Check {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Affiche un fichier d'exemple commenté avec toutes les clés / print the commented sample.
    Sample,
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Queue { config, command } => return crate::queue_cli::run(&load_config(&config)?, command).await,
        Command::Dkim { config, command } => return crate::queue_cli::dkim(&load_config(&config)?, command).await,
        Command::Dns { config } => return crate::dns_cli::run(&load_config(&config)?).await,
        Command::Vacation { config, command } => {
            return crate::vacation_cli::run(&load_config(&config)?, command).await;
        }
        Command::Serve { config } => {
            let cfg = load_config(&config)?;
            serve::init_logging(&cfg.log.level, cfg.log.json);
            serve::serve(cfg).await?;
        }
        Command::Demo { data } => demo::run(data).await?,
        Command::Quickstart(args) => return crate::quickstart::run(args).await,
        Command::Healthcheck { config } => return crate::healthcheck::run(&load_config(&config)?),
        Command::Config { command: ConfigCommand::Sample } => print!("{}", config::sample()),
        Command::Config { command: ConfigCommand::Check { config } } => {
            return Ok(match config::load(&config) {
                Ok(_) => {
                    println!("{} : configuration valide / valid configuration", config.display());
                    ExitCode::SUCCESS
                }
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{}: {p}", config.display());
                    }
                    eprintln!("{} problème(s) / problem(s)", problems.len());
                    ExitCode::from(2)
                }
            });
        }
        Command::Search { config, command } => return crate::search_cli::run(&load_config(&config)?, command).await,
        Command::Admin { config, act_as, command } => {
            let cfg = load_config(&config)?;
            return admin::run(&cfg, command, act_as.as_deref()).await;
        }
        Command::Migrate { command } => {
            let cfg = load_config(crate::migrate_cli::config_of_migrate(&command))?;
            serve::init_logging(&cfg.log.level, cfg.log.json);
            return crate::migrate_cli::migrate(&cfg, command).await;
        }
        Command::Import { command } => {
            let cfg = load_config(crate::migrate_cli::config_of_import(&command))?;
            serve::init_logging(&cfg.log.level, cfg.log.json);
            return crate::migrate_cli::import(&cfg, command).await;
        }
        Command::Backup { config, command } => {
            let cfg = load_config(&config)?;
            serve::init_logging("warn", cfg.log.json);
            return crate::backup::run(&cfg, command).await;
        }
        Command::Directory { config, command } => {
            let cfg = load_config(&config)?;
            return directory::run(&cfg, command).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn load_config(path: &std::path::Path) -> anyhow::Result<config::Config> {
    config::load(path).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {}: {p}", path.display())).collect();
        anyhow::anyhow!("configuration invalide :\n{}", lines.join("\n"))
    })
}
