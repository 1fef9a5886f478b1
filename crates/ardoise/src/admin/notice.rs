//! `ardoise admin notice`: maintenance notices scheduled ahead (issue 24,
//! item 2), each with its window in the installation's zone (`[web]
//! time_zone`), a French text (English optional) and a severity; shown on the
//! login page, every webmail page and to IMAP clients at login. Every change
//! goes to the audit log.

use anyhow::{Context, bail};
use clap::Subcommand;
use identity::lifecycle::Action;
use store::{NewNotice, Severity};

use super::Ctx;

#[derive(Subcommand)]
pub enum NoticeCommand {
    /// Programme une annonce / schedule a notice.
    Add {
        /// Texte en français / French text.
        #[arg(long)]
        text: String,
        /// Texte en anglais (facultatif) / English text (optional).
        #[arg(long, default_value = "")]
        text_en: String,
        /// info, maintenance ou incident.
        #[arg(long, default_value = "maintenance")]
        severity: String,
        /// Début, « AAAA-MM-JJ HH:MM » dans le fuseau de l'installation (maintenant par défaut) / start.
        #[arg(long)]
        from: Option<String>,
        /// Fin (exclue), même format ; sans fin : jusqu'au retrait / end (excluded).
        #[arg(long)]
        until: Option<String>,
    },
    /// Les annonces en cours et à venir / notices showing and to come.
    List,
    /// Retire une annonce / remove a notice.
    Remove { id: i64 },
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// `YYYY-MM-DD HH:MM` (or `YYYY-MM-DD`, midnight) in `zone`, as unix seconds.
fn parse_local(text: &str, zone: &jiff::tz::TimeZone) -> anyhow::Result<i64> {
    let text = text.trim();
    let civil: jiff::civil::DateTime = if text.len() == 10 {
        text.parse::<jiff::civil::Date>().map(|d| d.at(0, 0, 0, 0))
    } else {
        text.replacen(' ', "T", 1).parse()
    }
    .with_context(|| format!("date invalide « {text} » : attendu AAAA-MM-JJ HH:MM / expected YYYY-MM-DD HH:MM"))?;
    let at = civil.to_zoned(zone.clone()).with_context(|| format!("« {text} » n'existe pas dans ce fuseau"))?;
    Ok(at.timestamp().as_second())
}

fn show(at: i64, zone: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_second(at)
        .map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| at.to_string())
}

pub(crate) async fn run(ctx: &Ctx<'_>, cfg: &config::Config, command: NoticeCommand) -> anyhow::Result<()> {
    let zone = jiff::tz::TimeZone::get(&cfg.web.time_zone)
        .map_err(|e| anyhow::anyhow!("[web] time_zone « {} » : {e}", cfg.web.time_zone))?;
    let store = ctx.store;
    match command {
        NoticeCommand::Add { text, text_en, severity, from, until } => {
            ctx.check(Action::Govern, None)?;
            let Some(severity) = Severity::parse(&severity) else {
                bail!("gravité inconnue « {severity} » : info, maintenance ou incident");
            };
            let starts_at = from.as_deref().map(|f| parse_local(f, &zone)).transpose()?.unwrap_or_else(now);
            let ends_at = until.as_deref().map(|u| parse_local(u, &zone)).transpose()?;
            if ends_at.is_some_and(|end| end <= now()) {
                bail!("--until est déjà passé / --until is already over");
            }
            if ends_at.is_some_and(|end| end <= starts_at) {
                bail!("--until doit suivre --from / --until must come after --from");
            }
            let notice = NewNotice { text_fr: &text, text_en: &text_en, severity, starts_at, ends_at };
            let id = store.add_notice(&notice).await?;
            let window = format!(
                "{} → {}",
                show(starts_at, &zone),
                ends_at.map_or_else(|| "retrait".to_owned(), |e| show(e, &zone))
            );
            ctx.audit("notice.add", text.trim(), &format!("{} {window}", severity.as_str())).await?;
            println!("annonce {id} programmée / notice {id} scheduled: {window}");
        }
        NoticeCommand::List => {
            let notices = store.notices_pending(now()).await?;
            if notices.is_empty() {
                println!("aucune annonce / no notice");
            }
            for n in notices {
                let end = n.ends_at.map_or_else(|| "…".to_owned(), |e| show(e, &zone));
                let state = if n.shows_at(now()) { "en cours" } else { "à venir" };
                println!(
                    "{:>4}  {:<11} {} → {}  ({state})  {}",
                    n.id,
                    n.severity.as_str(),
                    show(n.starts_at, &zone),
                    end,
                    n.text_fr
                );
            }
        }
        NoticeCommand::Remove { id } => {
            ctx.check(Action::Govern, None)?;
            if !store.remove_notice(id).await? {
                bail!("aucune annonce {id} / no notice {id}");
            }
            ctx.audit("notice.remove", &id.to_string(), "").await?;
            println!("annonce {id} retirée / notice {id} removed");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_times_are_read_in_the_installation_zone() {
        let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        // 12 December 2026, 08:00 in Paris (UTC+1) is 07:00 UTC.
        assert_eq!(super::parse_local("2026-12-12 08:00", &paris).unwrap(), 1_797_058_800);
        assert_eq!(super::parse_local("2026-12-12", &paris).unwrap(), 1_797_058_800 - 8 * 3600);
        assert_eq!(super::show(1_797_058_800, &paris), "2026-12-12 08:00");
        assert!(super::parse_local("12/12/2026 08:00", &paris).is_err());
    }
}
