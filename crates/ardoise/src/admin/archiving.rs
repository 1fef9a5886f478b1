//! `ardoise admin archiving`: the automatic archiving delay of an académie, a
//! DSDEN or an établissement (issue 20): Inbox messages older than that many
//! days move to `Archives/AAAA` at the housekeeping, for the accounts of the
//! unit and below that did not choose their own delay (Réglages →
//! Archivage); without any, `[mail] archive_days` applies. Audited.

use anyhow::bail;
use clap::Subcommand;
use identity::lifecycle::Action;

use super::Ctx;
use super::lists::UnitArgs;

#[derive(Subcommand)]
pub enum ArchivingCommand {
    /// Fixe le délai d'une unité, en jours (0 = jamais) / set a unit's delay in days (0 = never).
    Set {
        days: i64,
        #[command(flatten)]
        at: UnitArgs,
    },
    /// Retire le délai d'une unité (celui du dessus s'applique) / remove a unit's delay.
    Remove {
        #[command(flatten)]
        at: UnitArgs,
    },
    /// Liste les délais par unité / list the delays.
    List,
}

pub(crate) async fn run(ctx: &Ctx<'_>, command: ArchivingCommand) -> anyhow::Result<()> {
    match command {
        ArchivingCommand::Set { days, at } => {
            if !(0..=36_500).contains(&days) {
                bail!("délai invalide : {days} jours (0 à 36500) / invalid delay");
            }
            let chosen = at.pick(ctx).await?;
            ctx.check(Action::Govern, Some(chosen.id))?;
            ctx.store.set_archive_policy(chosen.id, days).await?;
            ctx.audit("archiving.set", &chosen.name, &format!("{days} jours")).await?;
            println!("{} : archivage après {days} jours / archiving after {days} days", chosen.name);
        }
        ArchivingCommand::Remove { at } => {
            let chosen = at.pick(ctx).await?;
            ctx.check(Action::Govern, Some(chosen.id))?;
            if !ctx.store.remove_archive_policy(chosen.id).await? {
                bail!("{} n'a pas de délai propre / has no delay of its own", chosen.name);
            }
            ctx.audit("archiving.remove", &chosen.name, "").await?;
            println!("{} : délai retiré / delay removed", chosen.name);
        }
        ArchivingCommand::List => {
            let units = ctx.store.list_org_units().await?;
            for (unit, days) in ctx.store.archive_policies().await? {
                if ctx.check(Action::Read, Some(unit)).is_err() {
                    continue;
                }
                let name = units.iter().find(|u| u.id == unit).map_or("?", |u| u.name.as_str());
                println!("{name}\t{days}");
            }
        }
    }
    Ok(())
}
