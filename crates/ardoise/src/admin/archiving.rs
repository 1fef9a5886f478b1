//! `ardoise admin archiving`: the automatic archiving delay of an académie, a
//! DSDEN or an établissement (issue 20): Inbox messages older than that many
//! days move to `Archives/AAAA` at the housekeeping, for the accounts of the
//! unit and below that did not choose their own delay (Réglages →
//! Archivage); without any, `[mail] archive_days` applies. Audited.

use anyhow::bail;
use clap::Subcommand;
use identity::lifecycle::Action;

use super::Ctx;
use super::lists::pick_unit;

#[derive(Subcommand)]
pub enum ArchivingCommand {
    /// Fixe le délai d'une unité, en jours (0 = jamais) / set a unit's delay in days (0 = never).
    Set {
        days: i64,
        /// Établissement (UAI) / school.
        #[arg(long)]
        unit: Option<String>,
        /// DSDEN (nom ou numéro d'unité) / a DSDEN.
        #[arg(long)]
        dsden: Option<String>,
        /// L'académie / the académie.
        #[arg(long, num_args = 0..=1, default_missing_value = "")]
        academie: Option<String>,
    },
    /// Retire le délai d'une unité (celui du dessus s'applique) / remove a unit's delay.
    Remove {
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        dsden: Option<String>,
        #[arg(long, num_args = 0..=1, default_missing_value = "")]
        academie: Option<String>,
    },
    /// Liste les délais par unité / list the delays.
    List,
}

pub(crate) async fn run(ctx: &Ctx<'_>, command: ArchivingCommand) -> anyhow::Result<()> {
    match command {
        ArchivingCommand::Set { days, unit, dsden, academie } => {
            if !(0..=36_500).contains(&days) {
                bail!("délai invalide : {days} jours (0 à 36500) / invalid delay");
            }
            let chosen = pick_unit(ctx, unit, dsden, academie).await?;
            ctx.check(Action::Govern, Some(chosen.id))?;
            ctx.store.set_archive_policy(chosen.id, days).await?;
            ctx.audit("archiving.set", &chosen.name, &format!("{days} jours")).await?;
            println!("{} : archivage après {days} jours / archiving after {days} days", chosen.name);
        }
        ArchivingCommand::Remove { unit, dsden, academie } => {
            let chosen = pick_unit(ctx, unit, dsden, academie).await?;
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
