//! `ardoise admin banner`: the announcement (maintenance, incident, news)
//! shown at the top of every webmail page, set or cleared by the académie's
//! administrators and written to the audit log.

use anyhow::{Context, bail};
use clap::Subcommand;
use identity::lifecycle::Action;

use super::Ctx;

#[derive(Subcommand)]
pub enum BannerCommand {
    /// Affiche ce texte sur toutes les pages du webmail / show this text on every webmail page.
    Set {
        text: String,
        /// Dernier jour d'affichage, AAAA-MM-JJ (UTC), inclus / last day shown, included.
        #[arg(long)]
        until: Option<String>,
    },
    /// Retire le bandeau / remove the banner.
    Clear,
    /// Affiche le bandeau en cours / show the current banner.
    Show,
}

/// The end (excluded) of the last day `text` names, in unix seconds.
fn end_of_day(text: &str) -> anyhow::Result<i64> {
    identity::lifecycle::format::unix_day(text)
        .map(|d| d + 86_400)
        .with_context(|| format!("date invalide {text:?} : attendu AAAA-MM-JJ / invalid date, expected YYYY-MM-DD"))
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

pub(crate) async fn run(ctx: &Ctx<'_>, command: BannerCommand) -> anyhow::Result<()> {
    let store = ctx.store;
    match command {
        BannerCommand::Set { text, until } => {
            ctx.check(Action::Govern, None)?;
            let text = text.trim();
            if text.is_empty() {
                bail!("le texte du bandeau est vide / the banner's text is empty");
            }
            if text.chars().count() > store::MAX_BANNER {
                bail!("le texte dépasse {} caractères / too long", store::MAX_BANNER);
            }
            let until_at = until.as_deref().map(end_of_day).transpose()?;
            if until_at.is_some_and(|u| u <= now()) {
                bail!("--until est déjà passé / --until is already over");
            }
            store.set_banner(text, until_at).await?;
            let detail = until.as_deref().map(|u| format!("jusqu'au {u} inclus")).unwrap_or_default();
            ctx.audit("banner.set", text, &detail).await?;
            println!("bandeau affiché / banner set{}", until.map(|u| format!(" (jusqu'au {u})")).unwrap_or_default());
        }
        BannerCommand::Clear => {
            ctx.check(Action::Govern, None)?;
            if store.clear_banner().await? {
                ctx.audit("banner.clear", "", "").await?;
                println!("bandeau retiré / banner cleared");
            } else {
                println!("aucun bandeau / no banner");
            }
        }
        BannerCommand::Show => match store.banner(now()).await? {
            Some(b) => println!("{}", b.text),
            None => println!("aucun bandeau / no banner"),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_last_day_is_included() {
        assert_eq!(super::end_of_day("2027-01-04").unwrap(), 1_799_020_800 + 86_400);
        assert!(super::end_of_day("04/01/2027").is_err());
    }
}
