//! `ardoise admin upstream`: the académie's own identity providers, to which
//! the web login may be delegated (OpenID Connect with discovery, or CAS).
//! Kept in the store rather than in `ardoise.toml` because there may be
//! several, each with its secret, added and removed without a restart
//! like the applications of `ardoise admin oidc`; the web's policy
//! (`[upstream] only`) is in the file. Every change is audited; the client
//! secret is never printed (give it as a file, read at each use, or on
//! standard input).

use anyhow::bail;
use clap::Subcommand;
use identity::lifecycle::Action;
use sso::upstream::{Kind, NewUpstream};

use super::Ctx;

#[derive(Subcommand)]
pub enum UpstreamCommand {
    /// Ajoute un fournisseur OpenID Connect (découverte à partir de l'émetteur)
    /// / adds an OpenID Connect provider (discovery from the issuer).
    AddOidc {
        /// Identifiant court, dans l'adresse /connexion/externe/<id> / short id, in the URL.
        id: String,
        /// Émetteur (issuer), ex. https://idp.ac-exemple.fr / the issuer.
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        /// Fichier du secret du client (lu à chaque usage) / file holding the client secret (read at each use).
        #[arg(long, conflicts_with = "client_secret_stdin")]
        client_secret_file: Option<String>,
        /// Secret du client lu sur l'entrée standard (gardé dans la base) / secret read from stdin (kept in the store).
        #[arg(long)]
        client_secret_stdin: bool,
        /// Portées demandées en plus de openid / scopes asked besides openid.
        #[arg(long, num_args = 1.., default_values_t = ["email".to_owned(), "profile".to_owned()])]
        scopes: Vec<String>,
        /// Revendication qui désigne le compte (adresse, alias ou identifiant) / the claim naming the account.
        #[arg(long, default_value = "email")]
        claim: String,
        /// Libellé du bouton « Se connecter avec … » / label of the login button.
        #[arg(long)]
        label: String,
    },
    /// Ajoute un serveur CAS / adds a CAS server.
    AddCas {
        id: String,
        /// Adresse du serveur CAS, ex. https://cas.ac-exemple.fr/cas / the CAS server's base URL.
        #[arg(long)]
        url: String,
        /// Attribut qui désigne le compte ; « user » = l'utilisateur CAS / attribute naming the account.
        #[arg(long, default_value = "user")]
        claim: String,
        #[arg(long)]
        label: String,
    },
    List,
    Remove {
        id: String,
    },
}

fn describe(p: &sso::upstream::UpstreamProvider) -> String {
    let secret = match (&p.secret_file, &p.secret) {
        (Some(f), _) => format!("secret : fichier {f}"),
        (None, Some(_)) => "secret : dans la base".to_owned(),
        (None, None) => String::new(),
    };
    let oidc = if p.kind == "oidc" {
        format!("\n  client_id : {}  portées : {}  {secret}", p.client_id, p.scopes.join(" "))
    } else {
        String::new()
    };
    format!("{}  {}  « {} »\n  {}  attribut : {}{oidc}", p.id, p.kind, p.label, p.url, p.claim)
}

pub(crate) async fn run(ctx: &Ctx<'_>, sso: &sso::Sso, command: UpstreamCommand) -> anyhow::Result<()> {
    let new = match command {
        UpstreamCommand::List => {
            for p in sso.upstream_providers().await? {
                println!("{}", describe(&p));
            }
            return Ok(());
        }
        UpstreamCommand::Remove { id } => {
            ctx.check(Action::Govern, None)?;
            if !sso.remove_upstream(&id).await? {
                bail!("pas de fournisseur {id} / no provider {id}");
            }
            ctx.audit("upstream.remove", &id, "").await?;
            println!("fournisseur {id} retiré / removed");
            return Ok(());
        }
        UpstreamCommand::AddOidc {
            id,
            issuer,
            client_id,
            client_secret_file,
            client_secret_stdin,
            scopes,
            claim,
            label,
        } => {
            let secret = if client_secret_stdin { Some(super::read_password()?) } else { None };
            NewUpstream {
                id,
                kind: Kind::Oidc,
                label,
                url: issuer,
                client_id,
                secret,
                secret_file: client_secret_file,
                scopes,
                claim,
            }
        }
        UpstreamCommand::AddCas { id, url, claim, label } => NewUpstream {
            id,
            kind: Kind::Cas,
            label,
            url,
            client_id: String::new(),
            secret: None,
            secret_file: None,
            scopes: vec![],
            claim,
        },
    };
    ctx.check(Action::Govern, None)?;
    let p = match sso.add_upstream(new).await {
        Ok(p) => p,
        Err(sso::Error::Invalid(why)) => bail!("{why}"),
        Err(sso::Error::Store(store::Error::Conflict(_))) => bail!("identifiant déjà pris / id already taken"),
        Err(e) => return Err(e.into()),
    };
    ctx.audit("upstream.add", &p.id, &p.url).await?;
    println!("{}", describe(&p));
    println!(
        "adresse de retour à déclarer chez le fournisseur / redirect URI to register: <public_url>/connexion/externe/{}/retour",
        p.id
    );
    Ok(())
}
