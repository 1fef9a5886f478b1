//! `ardoise queue` and `ardoise dkim`: the outbound queue and the DKIM keys,
//! read and acted on directly in the store (the server may be running).

use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;
use store::{Queued, RcptStatus};

use crate::{outbound, serve};

#[derive(Subcommand)]
pub enum QueueCommand {
    /// Liste les messages en attente / list queued messages.
    List,
    /// Détaille un message et l'erreur de chaque destinataire / show one entry with each recipient's last error.
    Show { id: i64 },
    /// Relance l'envoi maintenant (et pour une nouvelle durée) / retry now (with a fresh lifetime).
    Retry { id: i64 },
    /// Supprime un message de la file, sans avis de non-remise / delete an entry (no bounce).
    Delete { id: i64 },
}

#[derive(Subcommand)]
pub enum DkimCommand {
    /// Affiche l'enregistrement DNS TXT de chaque domaine / print each domain's TXT record.
    Show {
        /// Un seul domaine / one domain only.
        domain: Option<String>,
    },
}

fn date(unix: i64) -> String {
    mta::dsn::rfc2822(unix)
}

fn status(s: RcptStatus) -> &'static str {
    match s {
        RcptStatus::Pending => "en attente / pending",
        RcptStatus::Sent => "remis / sent",
        RcptStatus::Failed => "échec / failed",
    }
}

fn summary(q: &Queued, pending: usize, total: usize) -> String {
    let sender = if q.sender.is_empty() { "<>" } else { q.sender.as_str() };
    format!(
        "{:>6}  {:<32} {:>8} o  {pending}/{total} en attente  essais {}  prochain {}",
        q.id,
        sender,
        q.size,
        q.attempts,
        date(q.next_attempt_at)
    )
}

pub async fn run(cfg: &config::Config, command: QueueCommand) -> anyhow::Result<ExitCode> {
    let opened = serve::open(cfg).await?;
    let store = &opened.store;
    match command {
        QueueCommand::List => {
            let entries = store.queue_entries().await?;
            if entries.is_empty() {
                println!("File d'envoi vide / queue is empty");
            }
            for q in &entries {
                let rcpts = store.queued_recipients(q.id).await?;
                let pending = rcpts.iter().filter(|r| r.status == RcptStatus::Pending).count();
                println!("{}", summary(q, pending, rcpts.len()));
            }
        }
        QueueCommand::Show { id } => {
            let Some(q) = store.queued(id).await? else {
                bail!("pas d'entrée {id} dans la file / no queue entry {id}");
            };
            let rcpts = store.queued_recipients(id).await?;
            println!("Entrée / entry {}", q.id);
            println!("  expéditeur / sender : {}", if q.sender.is_empty() { "<>" } else { &q.sender });
            println!("  taille / size       : {} o", q.size);
            println!("  reçu / queued       : {}", date(q.created_at));
            println!("  prochain essai      : {}", date(q.next_attempt_at));
            println!("  abandon / expires   : {}", date(q.expires_at));
            println!("  essais / attempts   : {}", q.attempts);
            println!("  contenu / blob      : {}", q.blob);
            for r in rcpts {
                let error = if r.last_error.is_empty() { String::new() } else { format!("  — {}", r.last_error) };
                println!("  {:<36} {}{error}", r.rcpt, status(r.status));
            }
        }
        QueueCommand::Retry { id } => {
            let expires = time::OffsetDateTime::now_utc().unix_timestamp() + cfg.outbound.give_up_after_secs as i64;
            match store.retry_now(id, Some(expires)).await {
                Ok(()) => println!("Entrée {id} relancée / retried"),
                Err(store::Error::NotFound(_)) => bail!("pas d'entrée {id} dans la file / no queue entry {id}"),
                Err(e) => return Err(e.into()),
            }
        }
        QueueCommand::Delete { id } => {
            if !store.dequeue(id).await? {
                bail!("pas d'entrée {id} dans la file / no queue entry {id}");
            }
            println!("Entrée {id} supprimée / deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The TXT value split into quoted strings of at most 255 bytes (RFC 1035).
pub fn quoted_txt(value: &str) -> String {
    value.as_bytes().chunks(255).map(|c| format!("\"{}\"", String::from_utf8_lossy(c))).collect::<Vec<_>>().join(" ")
}

pub async fn dkim(cfg: &config::Config, command: DkimCommand) -> anyhow::Result<ExitCode> {
    let DkimCommand::Show { domain } = command;
    let opened = serve::open(cfg).await?;
    let keys = outbound::dkim_keys(cfg, &opened.store).await?;
    let domains = match domain {
        Some(d) => vec![d.to_ascii_lowercase()],
        None => keys.domains(),
    };
    for d in domains {
        let Some(record) = keys.txt_record(&d) else {
            bail!("pas de clé DKIM pour {d} (domaine inconnu ?) / no DKIM key for {d}");
        };
        println!("{}._domainkey.{d}. IN TXT {}", keys.selector(), quoted_txt(&record));
    }
    Ok(ExitCode::SUCCESS)
}
