//! `ardoise admin resource create|list|delete`: rooms and equipment of an
//! établissement (issue 21). A resource is an account that never logs in
//! (no password, no login), addressed `<name>.<uai>@<domain>`
//! (`salle-du-conseil.0541234a@ac-demo.fr`), whose calendar accepts an
//! invitation when free and declines on a conflict (`groupware::scheduling`).
//! Deleting one closes its account. Audited; within the administrator's scope.

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use identity::lifecycle::Action;
use model::{AccountStatus, Address, Role, Uai};
use store::NewAccount;

use super::Ctx;

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    /// Une salle / a room.
    Salle,
    /// Du matériel / equipment.
    Materiel,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Salle => "salle",
            Kind::Materiel => "materiel",
        }
    }
}

#[derive(Subcommand)]
pub enum ResourceCommand {
    /// Crée une ressource d'un établissement / create a resource of a school.
    Create {
        /// Son nom, par exemple « Salle du conseil » / its name.
        #[arg(long)]
        name: String,
        /// L'établissement (UAI) / the school.
        #[arg(long)]
        uai: String,
        #[arg(long, value_enum, default_value = "salle")]
        kind: Kind,
        /// Le domaine de son adresse (par défaut le premier domaine local) / its address's domain.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Liste les ressources / list the resources.
    List,
    /// Supprime une ressource (son compte est fermé) / delete a resource (its account is closed).
    Delete { address: String },
}

pub(crate) async fn run(ctx: &Ctx<'_>, command: ResourceCommand) -> anyhow::Result<()> {
    match command {
        ResourceCommand::Create { name, uai, kind, domain } => {
            let name = name.trim();
            let slug = model::translit::slug(name);
            if slug.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                bail!("nom de ressource invalide : « {name} » / invalid resource name");
            }
            let uai = Uai::parse(&uai).map_err(|e| anyhow::anyhow!("UAI invalide / invalid UAI: {e:?}"))?;
            let unit =
                ctx.store.org_unit_by_uai(&uai).await?.with_context(|| format!("établissement inconnu : {uai}"))?;
            ctx.check(Action::ManageAccount, Some(unit.id))?;
            let domain = match domain {
                Some(d) => d,
                None => {
                    ctx.store.list_domains().await?.first().map(ToString::to_string).context("aucun domaine local")?
                }
            };
            let address = format!("{slug}.{}@{domain}", uai.as_str().to_ascii_lowercase());
            let new = NewAccount {
                address: Address::parse(&address).map_err(|e| anyhow::anyhow!("adresse invalide {address}: {e:?}"))?,
                login: None,
                display_name: name.to_owned(),
                role: Role::Functional,
                status: AccountStatus::Active,
                quota_bytes: None,
                org_unit: Some(unit.id),
                password_hash: None,
            };
            ctx.store.create_resource(&new, kind.as_str()).await?;
            ctx.audit("resource.create", &address, &format!("{} ({})", name, kind.as_str())).await?;
            println!("{address}\t{name}");
        }
        ResourceCommand::List => {
            for r in ctx.store.resources().await? {
                if ctx.check(Action::Read, r.account.org_unit).is_err() {
                    continue;
                }
                println!("{}\t{}\t{}", r.account.address, r.kind, r.account.display_name);
            }
        }
        ResourceCommand::Delete { address } => {
            let account = super::find(ctx.store, &address).await?;
            ctx.check(Action::ManageAccount, account.org_unit)?;
            if !ctx.store.delete_resource(account.id).await? {
                bail!("{address} n'est pas une ressource / is not a resource");
            }
            ctx.audit("resource.delete", &address, "").await?;
            println!("{address} : ressource supprimée / resource deleted");
        }
    }
    Ok(())
}
