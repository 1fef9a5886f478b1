//! `ardoise admin forwarding`: where automatic forwarding (Sieve `redirect`,
//! the webmail's « transférer » rule) may go, per académie, DSDEN or
//! établissement (issue 20). A unit's policy covers the units below it unless
//! they have their own; without any, the installation's `[forwarding]`
//! applies. Scripts already stored are checked again at every delivery, so a
//! stricter policy takes effect at once. Checked, changed and audited by
//! `identity::admin::policies`, as the console's « Politiques » page is.

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use identity::lifecycle::Action;

use super::Ctx;
use super::lists::UnitArgs;

/// The three policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Policy {
    /// Jamais hors des domaines de l'installation / never outside.
    Internal,
    /// Vers les domaines listés (--domain) / to the listed domains.
    Domains,
    /// Partout / anywhere.
    Anywhere,
}

impl Policy {
    fn as_str(self) -> &'static str {
        match self {
            Policy::Internal => "internal",
            Policy::Domains => "domains",
            Policy::Anywhere => "anywhere",
        }
    }
}

#[derive(Subcommand)]
pub enum ForwardingCommand {
    /// Fixe la politique d'une unité / set a unit's policy.
    Set {
        policy: Policy,
        #[command(flatten)]
        at: UnitArgs,
        /// Domaine permis, avec la politique « domains » (répétable) / allowed domain (repeatable).
        #[arg(long = "domain")]
        domains: Vec<String>,
    },
    /// Retire la politique d'une unité (celle du dessus s'applique) / remove a unit's policy.
    Remove {
        #[command(flatten)]
        at: UnitArgs,
    },
    /// Liste les politiques par unité / list the policies.
    List,
}

pub(crate) async fn run(ctx: &Ctx<'_>, command: ForwardingCommand) -> anyhow::Result<()> {
    match command {
        ForwardingCommand::Set { policy, at, domains } => {
            let chosen = at.pick(ctx).await?;
            ctx.identity.admin_set_forwarding(&ctx.admin, chosen.id, policy.as_str(), &domains).await?;
            println!("{} : {} {}", chosen.name, policy.as_str(), domains.join(" "));
        }
        ForwardingCommand::Remove { at } => {
            let chosen = at.pick(ctx).await?;
            if !ctx.identity.admin_remove_forwarding(&ctx.admin, chosen.id).await? {
                bail!("{} n'a pas de politique propre / has no policy of its own", chosen.name);
            }
            println!("{} : politique retirée / policy removed", chosen.name);
        }
        ForwardingCommand::List => {
            let units = ctx.store.list_org_units().await?;
            for p in ctx.store.forwarding_policies().await? {
                if ctx.check(Action::Read, Some(p.org_unit)).is_err() {
                    continue;
                }
                let name = units.iter().find(|u| u.id == p.org_unit).map_or("?", |u| u.name.as_str());
                println!("{name}\t{}\t{}", p.policy, p.domains.join(" "));
            }
        }
    }
    Ok(())
}
