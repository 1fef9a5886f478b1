//! `ardoise admin oidc` and `ardoise admin cas`: the applications that sign
//! their users in through Ardoise (OpenID Connect clients, CAS services),
//! and the rotation of the provider's signing key. Every change is written
//! to the audit log; a client's secret is printed once and kept as a hash.

use anyhow::bail;
use clap::Subcommand;
use identity::lifecycle::Action;

use super::Ctx;

#[derive(Subcommand)]
pub enum OidcCommand {
    /// Applications clientes OpenID Connect / OpenID Connect clients.
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Nouvelle clé de signature (la précédente reste publiée) / new signing key (the previous one stays published).
    RotateKey,
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Enregistre une application ; affiche son identifiant et, une seule fois, son secret
    /// / registers an application; prints its id and, once, its secret.
    Add {
        name: String,
        /// URI de retour exacte (plusieurs possibles) / exact redirect URI (repeatable).
        #[arg(long = "redirect-uri", required = true, num_args = 1..)]
        redirect_uris: Vec<String>,
        /// Client public (sans secret, PKCE obligatoire) / public client (no secret, PKCE required).
        #[arg(long)]
        public: bool,
        /// Application académique : pas de page de consentement / no consent page.
        #[arg(long)]
        academie_app: bool,
        /// Exige la validation en deux étapes / requires the second factor.
        #[arg(long = "require-2fa")]
        require_2fa: bool,
        /// Portées permises (profile email academie mail) ; défaut : toutes sauf mail / allowed scopes; default: all but mail.
        #[arg(long, num_args = 1..)]
        scopes: Vec<String>,
    },
    List,
    Show {
        id: String,
    },
    Remove {
        id: String,
    },
}

#[derive(Subcommand)]
pub enum CasCommand {
    /// Services CAS / CAS services.
    Service {
        #[command(subcommand)]
        command: ServiceCommand,
    },
}

#[derive(Subcommand)]
pub enum ServiceCommand {
    /// Enregistre un service : les URL commençant par ce préfixe reçoivent des tickets
    /// / registers a service: URLs starting with this prefix receive tickets.
    Add {
        url_prefix: String,
        name: String,
    },
    List,
    /// Retire un service (par identifiant ou préfixe) / removes a service (by id or prefix).
    Remove {
        service: String,
    },
}

fn describe(c: &sso::SsoClient) -> String {
    let mut flags = Vec::new();
    if c.secret_hash.is_none() && c.kind == "oidc" {
        flags.push("public");
    }
    if c.academie_app && c.kind == "oidc" {
        flags.push("application académique");
    }
    if c.require_2fa {
        flags.push("2FA exigée");
    }
    format!(
        "{}  {}\n  URI : {}\n  portées : {}{}",
        c.id,
        c.name,
        c.redirect_uris.join(" "),
        c.scopes.join(" "),
        if flags.is_empty() { String::new() } else { format!("\n  {}", flags.join(", ")) }
    )
}

pub(crate) async fn oidc(ctx: &Ctx<'_>, sso: &sso::Sso, command: OidcCommand) -> anyhow::Result<()> {
    match command {
        OidcCommand::RotateKey => {
            ctx.check(Action::Govern, None)?;
            let kid = sso.rotate_key()?;
            ctx.audit("oidc.rotate-key", &kid, "").await?;
            println!("nouvelle clé de signature / new signing key: {kid}");
        }
        OidcCommand::Client {
            command: ClientCommand::Add { name, redirect_uris, public, academie_app, require_2fa, scopes },
        } => {
            ctx.check(Action::Govern, None)?;
            let new = sso::NewClient { name, redirect_uris, public, academie_app, require_2fa, scopes };
            let (client, secret) = match sso.add_client(new).await {
                Ok(c) => c,
                Err(sso::Error::Invalid(why)) => bail!("{why}"),
                Err(e) => return Err(e.into()),
            };
            ctx.audit("oidc.client.add", &client.id, &client.name).await?;
            println!("client_id: {}", client.id);
            match secret {
                Some(s) => println!("client_secret: {s}\n(affiché une seule fois / shown once)"),
                None => println!("client public : PKCE (S256) obligatoire / public client: PKCE (S256) required"),
            }
        }
        OidcCommand::Client { command: ClientCommand::List } => {
            for c in sso.clients(sso::ClientKind::Oidc).await? {
                println!("{}", describe(&c));
            }
        }
        OidcCommand::Client { command: ClientCommand::Show { id } } => match sso.client(&id).await? {
            Some(c) if c.kind == "oidc" => println!("{}", describe(&c)),
            _ => bail!("pas de client {id} / no client {id}"),
        },
        OidcCommand::Client { command: ClientCommand::Remove { id } } => {
            ctx.check(Action::Govern, None)?;
            if !matches!(sso.client(&id).await?, Some(c) if c.kind == "oidc") || !sso.remove_client(&id).await? {
                bail!("pas de client {id} / no client {id}");
            }
            ctx.audit("oidc.client.remove", &id, "").await?;
            println!("client {id} retiré / removed");
        }
    }
    Ok(())
}

pub(crate) async fn cas(ctx: &Ctx<'_>, sso: &sso::Sso, command: CasCommand) -> anyhow::Result<()> {
    let CasCommand::Service { command } = command;
    match command {
        ServiceCommand::Add { url_prefix, name } => {
            ctx.check(Action::Govern, None)?;
            let s = match sso.add_cas_service(&url_prefix, &name).await {
                Ok(s) => s,
                Err(sso::Error::Invalid(why)) => bail!("{why}"),
                Err(e) => return Err(e.into()),
            };
            ctx.audit("cas.service.add", &s.id, &url_prefix).await?;
            println!("service {} : {} ({})", s.id, url_prefix, s.name);
        }
        ServiceCommand::List => {
            for s in sso.clients(sso::ClientKind::Cas).await? {
                println!("{}  {}  {}", s.id, s.redirect_uris.join(" "), s.name);
            }
        }
        ServiceCommand::Remove { service } => {
            ctx.check(Action::Govern, None)?;
            let all = sso.clients(sso::ClientKind::Cas).await?;
            let Some(s) = all.iter().find(|s| s.id == service || s.redirect_uris.contains(&service)) else {
                bail!("pas de service {service} / no service {service}");
            };
            sso.remove_client(&s.id).await?;
            ctx.audit("cas.service.remove", &s.id, &s.redirect_uris.join(" ")).await?;
            println!("service {} retiré / removed", s.id);
        }
    }
    Ok(())
}
