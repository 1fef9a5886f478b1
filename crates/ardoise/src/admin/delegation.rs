//! `ardoise admin mailbox members|journal` and `ardoise admin delegate`:
//! the members of a functional mailbox and personal delegation (issue 22).
//!
//! A functional mailbox (an account of role `fonctionnel`, such as
//! `secretariat.0541234a@…`) is run by its members, who open it under
//! `Partages/` in IMAP and send from its address, each with their own
//! login: no shared password. A member is an account-wide grant of RFC 4314
//! rights (`lrswipte`, read and write, by default) with the sending rights
//! asked for. `delegate` gives the same on a person's mailbox, or on one
//! folder (`--folder`). Both are checked and applied by `mailstore`'s
//! delegation, within the administrator's scope (the owner's unit), and
//! audited; `journal` shows who did what with the mailbox.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use identity::lifecycle::Action;
use mailstore::Mailstore;
use model::{Rights, Role, SendRights};

use identity::admin::functional::sending;

use super::{Ctx, parse_address};

#[derive(Subcommand)]
pub enum MailboxCommand {
    /// Membres d'une boîte fonctionnelle / members of a functional mailbox.
    Members {
        /// L'adresse de la boîte fonctionnelle / the functional mailbox's address.
        address: String,
        #[command(subcommand)]
        command: MembersCommand,
    },
    /// Qui a fait quoi dans la boîte (lu, déplacé, supprimé, envoyé) / who did what with it.
    Journal { address: String },
}

#[derive(Subcommand)]
pub enum MembersCommand {
    /// Ajoute un membre ou change ses droits / add a member or change their rights.
    Add {
        member: String,
        #[command(flatten)]
        grant: GrantArgs,
    },
    /// Retire un membre / remove a member.
    Remove { member: String },
    /// Liste les membres et leurs droits / list the members and their rights.
    Show,
}

/// The rights given by `members add` and `delegate grant`.
#[derive(Args)]
pub struct GrantArgs {
    /// Droits RFC 4314 (lrswipkxtea) ; défaut lrswipte (lecture et écriture) / RFC 4314 rights.
    #[arg(long, default_value = "lrswipte")]
    rights: String,
    /// Peut envoyer avec l'adresse de la boîte dans From: / may send as the mailbox.
    #[arg(long)]
    send_as: bool,
    /// Peut envoyer de la part de la boîte (son adresse dans Sender:) / may send on behalf of it.
    #[arg(long)]
    on_behalf: bool,
}

#[derive(Subcommand)]
pub enum DelegateCommand {
    /// Donne à GRANTEE des droits sur la boîte (ou un dossier) de OWNER / give rights on OWNER's mail.
    Grant {
        owner: String,
        grantee: String,
        /// Un seul dossier de OWNER (les droits d'envoi portent sur la boîte entière) / one folder only.
        #[arg(long)]
        folder: Option<String>,
        #[command(flatten)]
        grant: GrantArgs,
    },
    /// Retire les droits de GRANTEE / take GRANTEE's rights away.
    Revoke {
        owner: String,
        grantee: String,
        #[arg(long)]
        folder: Option<String>,
    },
    /// Les délégations données par OWNER et reçues par OWNER / what OWNER gave and holds.
    Show { owner: String },
}

fn rights_of(text: &str) -> anyhow::Result<Rights> {
    Rights::parse(text).map_err(|u| {
        anyhow::anyhow!("droit inconnu « {} » (droits : lrswipkxtea) / unknown right", u.0.escape_default())
    })
}

pub(crate) async fn mailbox(ctx: &Ctx<'_>, ms: &Mailstore, command: MailboxCommand) -> anyhow::Result<()> {
    match command {
        MailboxCommand::Members { address, command } => {
            let owner = ctx.find(&address).await?;
            if owner.role != Role::Functional {
                bail!("{address} n'est pas une boîte fonctionnelle / is not a functional mailbox");
            }
            match command {
                MembersCommand::Add { member, grant } => {
                    let rights = rights_of(&grant.rights)?;
                    let send = SendRights { send_as: grant.send_as, on_behalf: grant.on_behalf };
                    let member = parse_address(&member)?;
                    let member = ctx.identity.admin_functional_set(&ctx.admin, owner.id, &member, rights, send).await?;
                    println!("{} : membre de {address} ({rights}{})", member.address, sending(send));
                }
                MembersCommand::Remove { member } => {
                    let member = ctx.find(&member).await?;
                    ctx.identity.admin_functional_remove(&ctx.admin, owner.id, member.id).await?;
                    println!("{} : n'est plus membre de {address} / no longer a member", member.address);
                }
                MembersCommand::Show => {
                    ctx.check(Action::Read, owner.org_unit)?;
                    show_given(ms, &owner).await?;
                }
            }
        }
        MailboxCommand::Journal { address } => {
            let owner = ctx.find(&address).await?;
            ctx.check(Action::Read, owner.org_unit)?;
            for e in ms.delegation_journal(owner.id).await? {
                println!("{}\t{}\t{}\t{}", e.at, e.actor_address, e.action, e.detail);
            }
            ctx.audit("mailbox.journal", &address, "").await?;
        }
    }
    Ok(())
}

pub(crate) async fn delegate(ctx: &Ctx<'_>, ms: &Mailstore, command: DelegateCommand) -> anyhow::Result<()> {
    match command {
        DelegateCommand::Grant { owner, grantee, folder, grant } => {
            let owner = ctx.find(&owner).await?;
            ctx.check(Action::ManageAccount, owner.org_unit)?;
            let grantee = ctx.find(&grantee).await?;
            let rights = rights_of(&grant.rights)?;
            let send = SendRights { send_as: grant.send_as, on_behalf: grant.on_behalf };
            let detail = match folder {
                Some(name) => {
                    if send.send_as || send.on_behalf {
                        bail!(
                            "les droits d'envoi portent sur la boîte entière, pas sur un dossier / sending rights are per mailbox"
                        );
                    }
                    let m = ms
                        .mailbox_named(owner.id, &name)
                        .await?
                        .with_context(|| format!("pas de dossier « {name} »"))?;
                    ms.set_folder_rights(owner.id, &m, &grantee.address, rights).await?;
                    format!("{} {name} {rights}", grantee.address)
                }
                None => {
                    ms.set_account_rights(owner.id, grantee.id, rights, send).await?;
                    format!("{} {rights}{}", grantee.address, sending(send))
                }
            };
            ctx.audit("delegate.grant", &owner.address.to_string(), &detail).await?;
            println!("{} → {detail}", owner.address);
        }
        DelegateCommand::Revoke { owner, grantee, folder } => {
            let owner = ctx.find(&owner).await?;
            ctx.check(Action::ManageAccount, owner.org_unit)?;
            let grantee = ctx.find(&grantee).await?;
            match &folder {
                Some(name) => {
                    let m = ms
                        .mailbox_named(owner.id, name)
                        .await?
                        .with_context(|| format!("pas de dossier « {name} »"))?;
                    ms.set_folder_rights(owner.id, &m, &grantee.address, Rights::NONE).await?;
                }
                None => ms.set_account_rights(owner.id, grantee.id, Rights::NONE, SendRights::default()).await?,
            }
            let detail = format!("{} {}", grantee.address, folder.unwrap_or_default());
            ctx.audit("delegate.revoke", &owner.address.to_string(), detail.trim()).await?;
            println!("{} : droits retirés / rights removed", grantee.address);
        }
        DelegateCommand::Show { owner } => {
            let owner = ctx.find(&owner).await?;
            ctx.check(Action::Read, owner.org_unit)?;
            show_given(ms, &owner).await?;
            for g in ms.grants_held(owner.id).await? {
                let send = SendRights { send_as: g.send_as, on_behalf: g.on_behalf };
                println!("reçu de {}\t{}\t{}{}", g.owner_address, folder_label(ms, &g).await, g.rights, sending(send));
            }
        }
    }
    Ok(())
}

/// One line per grant `owner` gave: grantee, folder (`*`: every one), rights.
async fn show_given(ms: &Mailstore, owner: &store::Account) -> anyhow::Result<()> {
    for g in ms.grants_given(owner.id).await? {
        let send = SendRights { send_as: g.send_as, on_behalf: g.on_behalf };
        println!("{}\t{}\t{}{}", g.grantee_address, folder_label(ms, &g).await, g.rights, sending(send));
    }
    Ok(())
}

async fn folder_label(ms: &Mailstore, g: &store::Grant) -> String {
    match g.mailbox_id {
        None => "*".to_owned(),
        Some(id) => ms.mailbox(g.owner_id, id).await.ok().flatten().map_or_else(|| id.to_string(), |m| m.name),
    }
}
