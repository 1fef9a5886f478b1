//! `ardoise admin spam stats`: how much the statistical spam classifier
//! has learnt, for the platform or for one account (counts only: never a
//! word of anyone's mail, which the tables do not hold anyway).

use clap::Subcommand;
use identity::lifecycle::Action;

use super::{Ctx, find};

#[derive(Subcommand)]
pub enum SpamCommand {
    /// Messages appris par le classifieur (toute la plateforme, ou un compte)
    /// / messages the classifier learnt (the platform, or one account).
    Stats {
        /// Un compte ; sinon toute la plateforme / one account; else the platform.
        address: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn run(ctx: &Ctx<'_>, cfg: &config::Config, command: SpamCommand) -> anyhow::Result<()> {
    let SpamCommand::Stats { address, json } = command;
    match address {
        None => {
            let min = cfg.hygiene.bayes_global_min_trained;
            ctx.check(Action::Read, None)?;
            let s = ctx.store.bayes_stats().await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"spam": s.spam, "ham": s.ham, "tokens": s.tokens, "accounts": s.accounts,
                        "active": s.spam >= min as i64 && s.ham >= min as i64})
                );
            } else {
                println!(
                    "plateforme : {} indésirables, {} légitimes appris, {} mots, {} comptes ayant appris{}",
                    s.spam,
                    s.ham,
                    s.tokens,
                    s.accounts,
                    if s.spam >= min as i64 && s.ham >= min as i64 {
                        ""
                    } else {
                        " (pas encore actif / not active yet)"
                    }
                );
            }
        }
        Some(address) => {
            let min = cfg.hygiene.bayes_min_trained;
            let acc = find(ctx.store, &address).await?;
            ctx.check(Action::Read, acc.org_unit)?;
            let totals = ctx.store.bayes_totals(&[acc.id]).await?;
            let (spam, ham) = totals.first().map_or((0, 0), |t| (t.1, t.2));
            let active = spam >= min as i64 && ham >= min as i64;
            if json {
                println!("{}", serde_json::json!({"address": address, "spam": spam, "ham": ham, "active": active}));
            } else {
                println!(
                    "{address} : {spam} indésirables, {ham} légitimes appris{}",
                    if active { "" } else { " (modèle personnel pas encore actif / own model not active yet)" }
                );
            }
        }
    }
    Ok(())
}
