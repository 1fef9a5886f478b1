//! The command line: what each subcommand takes, and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{admin, demo, serve};

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
    /// Démarre les services selon le fichier de configuration / start the services.
    Serve {
        #[arg(long, short)]
        config: PathBuf,
    },
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
    /// Administration : domaines, comptes, quotas, messages / administration.
    Admin {
        #[arg(long, short)]
        config: PathBuf,
        #[command(subcommand)]
        command: admin::AdminCommand,
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
        Command::Serve { config } => {
            let cfg = load_config(&config)?;
            serve::init_logging(&cfg.log.level);
            serve::serve(cfg).await?;
        }
        Command::Demo { data } => demo::run(data).await?,
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
        Command::Admin { config, command } => {
            let cfg = load_config(&config)?;
            return admin::run(&cfg, command).await;
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
