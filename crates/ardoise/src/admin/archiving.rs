//! `ardoise admin archiving`: the automatic archiving delay of an académie, a
//! DSDEN or an établissement (issue 20): Inbox messages older than that many
//! days move to `Archives/AAAA` at the housekeeping, for the accounts of the
//! unit and below that did not choose their own delay (Réglages →
//! Archivage); without any, `[mail] archive_days` applies. Checked, changed
//! and audited by `identity::admin::policies`.

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
            let chosen = at.pick(ctx).await?;
            ctx.identity.admin_set_archiving(&ctx.admin, chosen.id, days).await?;
            println!("{} : archivage après {days} jours / archiving after {days} days", chosen.name);
        }
        ArchivingCommand::Remove { at } => {
            let chosen = at.pick(ctx).await?;
            if !ctx.identity.admin_remove_archiving(&ctx.admin, chosen.id).await? {
                bail!("{} n'a pas de délai propre / has no delay of its own", chosen.name);
            }
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
