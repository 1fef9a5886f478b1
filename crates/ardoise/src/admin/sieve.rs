//! `ardoise admin sieve`: the administrators' Sieve script of an académie, a
//! DSDEN or an établissement, run at delivery before each account's own
//! script below it (the nearest unit's only; see `filter::admin`). The text
//! is checked like a user's script (same extensions, French line-numbered
//! errors) before it is stored; every change goes to the audit log (its
//! size and revision, not its text).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use identity::lifecycle::Action;

use super::Ctx;
use super::lists::UnitArgs;

#[derive(Subcommand)]
pub enum SieveCommand {
    /// Fixe le script d'une unité (fichier, ou « - » pour l'entrée standard) / set a unit's script.
    Set {
        /// Le script Sieve / the Sieve script (`-`: standard input).
        file: PathBuf,
        #[command(flatten)]
        at: UnitArgs,
    },
    /// Affiche le script d'une unité / show a unit's script.
    Show {
        #[command(flatten)]
        at: UnitArgs,
    },
    /// Retire le script d'une unité / remove a unit's script.
    Remove {
        #[command(flatten)]
        at: UnitArgs,
    },
    /// Liste les unités qui ont un script / list the units with a script.
    List,
}

pub(crate) async fn run(ctx: &Ctx<'_>, max_size: usize, command: SieveCommand) -> anyhow::Result<()> {
    match command {
        SieveCommand::Set { file, at } => {
            let chosen = at.pick(ctx).await?;
            ctx.check(Action::Govern, Some(chosen.id))?;
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("lecture de l'entrée standard")?
            } else {
                std::fs::read_to_string(&file).with_context(|| format!("lecture de {}", file.display()))?
            };
            if text.len() > max_size {
                bail!("script trop long : {} octets, au plus {max_size} / script too large", text.len());
            }
            if let Err(e) = filter::compile::check(&text, max_size) {
                bail!("script refusé, {e} / script refused");
            }
            let revision = ctx.store.set_admin_sieve_script(chosen.id, &text).await?;
            ctx.audit("sieve.set", &chosen.name, &format!("{} octets, révision {revision}", text.len())).await?;
            println!("{} : script enregistré (révision {revision}) / script stored", chosen.name);
        }
        SieveCommand::Show { at } => {
            let chosen = at.pick(ctx).await?;
            ctx.check(Action::Read, Some(chosen.id))?;
            match ctx.store.admin_sieve_script(chosen.id).await? {
                Some(s) => print!("{}", s.source),
                None => bail!("{} n'a pas de script propre / has no script of its own", chosen.name),
            }
        }
        SieveCommand::Remove { at } => {
            let chosen = at.pick(ctx).await?;
            ctx.check(Action::Govern, Some(chosen.id))?;
            if !ctx.store.remove_admin_sieve_script(chosen.id).await? {
                bail!("{} n'a pas de script propre / has no script of its own", chosen.name);
            }
            ctx.audit("sieve.remove", &chosen.name, "").await?;
            println!("{} : script retiré / script removed", chosen.name);
        }
        SieveCommand::List => {
            let units = ctx.store.list_org_units().await?;
            for s in ctx.store.admin_sieve_scripts().await? {
                if ctx.check(Action::Read, Some(s.org_unit)).is_err() {
                    continue;
                }
                let name = units.iter().find(|u| u.id == s.org_unit).map_or("?", |u| u.name.as_str());
                println!("{name}\trévision {}\t{} octets", s.revision, s.source.len());
            }
        }
    }
    Ok(())
}
