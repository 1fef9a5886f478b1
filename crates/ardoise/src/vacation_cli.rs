//! `ardoise vacation`: an account's automatic vacation reply, set or read in
//! the store (the server may be running; replies follow at once). The
//! webmail's settings page (`/courrier/reglages`) offers the same to the user.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use model::Address;
use store::Vacation;

use crate::serve;

#[derive(Subcommand)]
pub enum VacationCommand {
    /// Active la réponse automatique / turn the vacation reply on.
    Set {
        address: String,
        /// Fichier du texte de la réponse (UTF-8) / file with the reply's text.
        #[arg(long)]
        body_file: PathBuf,
        /// Objet ; par défaut « Réponse automatique : <objet reçu> » / subject.
        #[arg(long, default_value = "")]
        subject: String,
        /// Premier jour, AAAA-MM-JJ (UTC) / first day.
        #[arg(long)]
        from: Option<String>,
        /// Jour de retour, AAAA-MM-JJ (UTC), exclu / day back, excluded.
        #[arg(long)]
        until: Option<String>,
        /// Jours avant de répondre de nouveau au même expéditeur / days between two replies to one sender.
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
    /// Désactive la réponse automatique / turn it off.
    Off { address: String },
    /// Affiche le réglage / show the setting.
    Show { address: String },
}

/// Midnight UTC of an `AAAA-MM-JJ` day, in unix seconds (the HR file's date format).
fn day(text: &str) -> anyhow::Result<i64> {
    identity::lifecycle::format::unix_day(text)
        .with_context(|| format!("date invalide {text:?} : attendu AAAA-MM-JJ / invalid date, expected YYYY-MM-DD"))
}

pub async fn run(cfg: &config::Config, command: VacationCommand) -> anyhow::Result<ExitCode> {
    let opened = serve::open(cfg).await?;
    let store = &opened.store;
    // The reply is also a Sieve script, written by the filter service.
    let filters = serve::filters(cfg, &opened);
    let account = |address: &str| {
        let address = address.to_owned();
        async move {
            let parsed = Address::parse(&address).map_err(|e| anyhow::anyhow!("adresse invalide {address:?} : {e}"))?;
            store
                .account_by_address(&parsed)
                .await?
                .with_context(|| format!("pas de compte {address} / no such account"))
        }
    };
    match command {
        VacationCommand::Set { address, body_file, subject, from, until, days } => {
            let a = account(&address).await?;
            let body = std::fs::read_to_string(&body_file)
                .with_context(|| format!("lecture de {} / reading the text", body_file.display()))?;
            if body.trim().is_empty() {
                bail!("le texte de la réponse est vide / the reply's text is empty");
            }
            if !(1..=365).contains(&days) {
                bail!("--days doit être entre 1 et 365 / must be between 1 and 365");
            }
            let (starts_at, ends_at) = (from.as_deref().map(day).transpose()?, until.as_deref().map(day).transpose()?);
            if let (Some(s), Some(e)) = (starts_at, ends_at)
                && e <= s
            {
                bail!("--until doit suivre --from / --until must come after --from");
            }
            let v = Vacation { enabled: true, subject, body, starts_at, ends_at, interval_days: days };
            filters.set_vacation(a.id, &v).await?;
            println!("Réponse automatique activée pour {address} / vacation reply on");
        }
        VacationCommand::Off { address } => {
            let a = account(&address).await?;
            match store.vacation(a.id).await? {
                Some(v) => filters.set_vacation(a.id, &Vacation { enabled: false, ..v }).await?,
                None => println!("Aucune réponse automatique / none was set"),
            }
            println!("Réponse automatique désactivée pour {address} / vacation reply off");
        }
        VacationCommand::Show { address } => {
            let a = account(&address).await?;
            match store.vacation(a.id).await? {
                None => println!("Aucune réponse automatique / none"),
                Some(v) => {
                    let when = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), mta::dsn::rfc2822);
                    println!("active / on       : {}", if v.enabled { "oui / yes" } else { "non / no" });
                    println!("du / from         : {}", when(v.starts_at));
                    println!("au / until        : {}", when(v.ends_at));
                    println!("intervalle / days : {}", v.interval_days);
                    println!("objet / subject   : {}", if v.subject.is_empty() { "(automatique)" } else { &v.subject });
                    println!("\n{}", v.body);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_parse_strictly() {
        assert_eq!(super::day("2027-01-04").unwrap(), 1_799_020_800);
        for bad in ["2027-13-01", "2027-02-30", "demain", "2027-01", ""] {
            assert!(super::day(bad).is_err(), "{bad}");
        }
    }
}
