//! `ardoise admin`: domains, accounts, quotas, role grants, the audit log, a
//! look at stored messages, deleted messages put back (`admin/deleted.rs`)
//! and the housekeeping run now. Works directly on the store, so it also runs
//! while the server is up (SQLite in WAL mode and PostgreSQL both allow it);
//! a running server notices a suspension within a second (see
//! `identity::lifecycle::watcher`).
//!
//! `--as ADDRESS` acts with that administrator's scope (their role grants),
//! to test scopes: nothing authenticates it, and the audit log labels it so;
//! without it the operator of the machine is the académie-level superuser.
//! Every change is written to the hash-chained audit log. The account
//! operations an administrator also has in the web console (suspend,
//! reactivate, quota, provisional password, 2FA reset, unlock) go through
//! the same service, `identity::admin`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use identity::admin::{AdminError, Administrator};
use identity::lifecycle::Action;
use model::{AccountStatus, Address, Domain, Role};

use crate::{password, serve};

mod archiving;
mod banner;
mod delegation;
mod deleted;
mod forwarding;
mod governance;
mod lists;
mod notice;
pub(crate) mod passwords;
mod quarantine;
mod resources;
mod sieve;
mod spam;
mod sso_cli;
mod upstream_cli;

pub use governance::{AuditCommand, GrantCommand, UnitCommand};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Domaines servis / served domains.
    Domain {
        #[command(subcommand)]
        command: DomainCommand,
    },
    /// Comptes / accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Messages stockés (diagnostic) / stored messages (diagnostics).
    Message {
        #[command(subcommand)]
        command: MessageCommand,
    },
    /// Stockage des contenus / blob storage.
    Blob {
        #[command(subcommand)]
        command: BlobCommand,
    },
    /// Rôles d'administration et périmètres / administrative roles and scopes.
    Grant {
        #[command(subcommand)]
        command: GrantCommand,
    },
    /// Unités (académie, DSDEN, établissements) / organisational units.
    Unit {
        #[command(subcommand)]
        command: UnitCommand,
    },
    /// Journal d'audit chaîné / hash-chained audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Annonces de maintenance programmées (page de connexion, webmail, IMAP) / scheduled maintenance notices.
    Notice {
        #[command(subcommand)]
        command: notice::NoticeCommand,
    },
    /// Bandeau d'annonce immédiat (une annonce qui remplace celles en cours) / the immediate banner.
    Banner {
        #[command(subcommand)]
        command: banner::BannerCommand,
    },
    /// Fournisseur OpenID Connect : applications et clé de signature / OpenID Connect provider.
    Oidc {
        #[command(subcommand)]
        command: sso_cli::OidcCommand,
    },
    /// Serveur CAS : services / CAS server: services.
    Cas {
        #[command(subcommand)]
        command: sso_cli::CasCommand,
    },
    /// Fournisseurs d'identité de l'académie pour la connexion web / upstream identity providers.
    Upstream {
        #[command(subcommand)]
        command: upstream_cli::UpstreamCommand,
    },
    /// Archivage automatique par unité / automatic archiving per unit.
    Archiving {
        #[command(subcommand)]
        command: archiving::ArchivingCommand,
    },
    /// Transfert automatique hors de l'académie, par unité / automatic forwarding outside, per unit.
    Forwarding {
        #[command(subcommand)]
        command: forwarding::ForwardingCommand,
    },
    /// Script Sieve d'une unité, exécuté avant celui de chaque compte / a unit's Sieve script, run before each account's own.
    Sieve {
        #[command(subcommand)]
        command: sieve::SieveCommand,
    },
    /// Listes de diffusion et modération / distribution lists and moderation.
    List {
        #[command(subcommand)]
        command: lists::ListCommand,
    },
    /// Ménage : purge des supprimés, Corbeille, Indésirables, archivage, alertes de quota
    /// / housekeeping: purge, retention, archiving, quota warnings.
    Housekeeping {
        #[command(subcommand)]
        command: deleted::HousekeepingCommand,
    },
    /// Messages refusés gardés en quarantaine (virus, indésirables) / refused messages kept in quarantine.
    Quarantine {
        #[command(subcommand)]
        command: quarantine::QuarantineCommand,
    },
    /// Salles et matériel réservables d'un établissement / bookable rooms and equipment.
    Resource {
        #[command(subcommand)]
        command: resources::ResourceCommand,
    },
    /// Boîtes fonctionnelles : membres et journal / functional mailboxes: members and journal.
    Mailbox {
        #[command(subcommand)]
        command: delegation::MailboxCommand,
    },
    /// Délégation d'une boîte ou d'un dossier à un collègue / delegating a mailbox or folder.
    Delegate {
        #[command(subcommand)]
        command: delegation::DelegateCommand,
    },
    /// Classifieur anti-spam statistique / the statistical spam classifier.
    Spam {
        #[command(subcommand)]
        command: spam::SpamCommand,
    },
    /// Envoie maintenant les rappels d'expiration des mots de passe (tâche quotidienne du serveur)
    /// / send the password expiry reminders now (the server's daily task).
    PasswordReminders {
        /// Heure de référence (secondes Unix), pour les tests ; défaut : maintenant.
        #[arg(long)]
        at: Option<i64>,
    },
}

#[derive(Subcommand)]
pub enum DomainCommand {
    Add { domain: String },
    List,
}

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Crée un compte actif (le mot de passe est lu sur l'entrée standard avec --password-stdin).
    Create {
        address: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "enseignant")]
        role: Role,
        /// Quota (ex. 500M, 2G, 0 = illimité) ; défaut : quota.default.
        #[arg(long)]
        quota: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    Show {
        address: String,
    },
    /// Suspend : connexion refusée, courrier toujours accepté.
    Suspend {
        address: String,
    },
    Activate {
        address: String,
    },
    /// Assistance : nouveau mot de passe provisoire, affiché une fois, à changer à la prochaine connexion
    /// / helpdesk reset: a new provisional password, shown once, to change at the next login.
    ResetPassword {
        address: String,
    },
    /// Débloque un compte ralenti par des échecs de connexion (assistance) / unlock a throttled account.
    Unlock {
        address: String,
    },
    /// Désactive la validation en deux étapes (téléphone perdu) / turn two-step verification off.
    #[command(name = "reset-2fa")]
    Reset2fa {
        address: String,
    },
    /// Réinitialise les clés d'accès (appareil perdu ou volé) / remove every passkey of the account.
    #[command(name = "reset-passkeys")]
    ResetPasskeys {
        address: String,
    },
    /// Nouveau mot de passe lu sur l'entrée standard (assistance) / set a password from stdin.
    Password {
        address: String,
        #[arg(long)]
        password_stdin: bool,
        /// Garde les mots de passe d'application (révoqués par défaut) / keep the app passwords
        /// (revoked by default).
        #[arg(long)]
        keep_app_passwords: bool,
    },
    /// Fixe le quota (ex. 500M, 2G, 0 = illimité).
    Quota {
        address: String,
        size: String,
    },
    /// Ajoute une adresse supplémentaire à un compte.
    Alias {
        alias: String,
        address: String,
    },
    /// Export des données du compte (RGPD) : dossiers en mbox et .eml, contacts (vCard), agendas
    /// (iCalendar), journal de connexion (CSV), dans un .zip / the account's own data as a .zip.
    Export {
        address: String,
        #[arg(long, value_name = "FICHIER.zip")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum MessageCommand {
    /// Liste les messages de chaque dossier d'un compte.
    List {
        address: String,
        #[arg(long)]
        json: bool,
    },
    /// Écrit le message brut sur la sortie standard.
    Get {
        address: String,
        uid: i64,
        #[arg(long, default_value = "INBOX")]
        mailbox: String,
    },
    /// Messages supprimés récemment : liste et restauration (assistance)
    /// / recently deleted messages: list and restore (helpdesk).
    Deleted {
        #[command(subcommand)]
        command: deleted::DeletedCommand,
    },
}

#[derive(Subcommand)]
pub enum BlobCommand {
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Supprime les contenus qui ne sont plus référencés depuis --grace secondes.
    Gc {
        #[arg(long, default_value_t = 3600)]
        grace: u64,
    },
}

/// Who acts and what they may reach.
pub(crate) struct Ctx<'a> {
    store: &'a store::Store,
    identity: &'a identity::Identity,
    admin: Administrator,
}

impl Ctx<'_> {
    /// Refuses (with a clear message) an action outside the scope.
    pub(crate) fn check(&self, action: Action, unit: Option<model::OrgUnitId>) -> anyhow::Result<()> {
        self.admin.check(action, unit).map_err(|refusal| anyhow::anyhow!(refusal))
    }

    /// Writes one action to the audit log.
    pub(crate) async fn audit(&self, action: &str, target: &str, detail: &str) -> anyhow::Result<()> {
        self.identity.admin_audit(&self.admin, action, target, detail).await?;
        Ok(())
    }

    /// The account at `address`, when within sight. The operator's tool may
    /// say that an account exists outside a tested scope (`--as`).
    async fn find(&self, address: &str) -> anyhow::Result<store::Account> {
        match self.identity.admin_find(&self.admin, &parse_address(address)?).await {
            Err(AdminError::NotFound) if find(self.store, address).await.is_ok() => {
                bail!("refusé : {address} est hors du périmètre de {} / denied: outside your scope", self.admin.actor())
            }
            Err(AdminError::NotFound) => bail!("compte inconnu : {address}"),
            found => Ok(found?),
        }
    }
}

pub async fn run(cfg: &config::Config, command: AdminCommand, act_as: Option<&str>) -> anyhow::Result<ExitCode> {
    let (opened, identity) = serve::open_with_identity(cfg).await?;
    let serve::Opened { store, blobs, mailstore: ms } = &opened;
    let admin = match act_as {
        None => identity.operator().await?,
        Some(address) => {
            let acc = find(store, address).await?;
            if acc.status != AccountStatus::Active {
                bail!("refusé : le compte {address} n'est pas actif ({})", acc.status);
            }
            identity.scope_test(&acc).await?
        }
    };
    let ctx = Ctx { store, identity: &identity, admin };
    match command {
        AdminCommand::Domain { command: DomainCommand::Add { domain } } => {
            ctx.check(Action::Govern, None)?;
            let d = Domain::parse(&domain).map_err(|e| anyhow::anyhow!("{domain}: {e}"))?;
            store.add_domain(&d).await?;
            ctx.audit("domain.add", d.as_str(), "").await?;
            println!("domaine {d} ajouté");
        }
        AdminCommand::Domain { command: DomainCommand::List } => {
            for d in store.list_domains().await? {
                println!("{d}");
            }
        }
        AdminCommand::Account { command: AccountCommand::Export { address, out } } => {
            let a = find(store, &address).await?;
            ctx.check(Action::ReadMail, a.org_unit)?;
            let groupware = groupware::Groupware::new(store.clone(), crate::http::groupware_settings(cfg))?;
            let sources =
                export::Sources { mailstore: ms.clone(), groupware: Arc::new(groupware), identity: identity.clone() };
            if out.file_name().is_none() {
                bail!("--out : nom de fichier attendu");
            }
            let done = export::archive::write(&sources, &a, &out, None, &export::Progress::default())
                .await
                .with_context(|| format!("export vers {}", out.display()))?;
            ctx.audit("account.export", &address, &format!("{} message(s)", done.messages)).await?;
            println!(
                "{} : {} dossier(s), {} message(s), {} contact(s), {} objet(s) d'agenda, {} ligne(s) de journal → {}",
                a.address,
                done.folders,
                done.messages,
                done.contacts,
                done.events,
                done.journal,
                out.display()
            );
        }
        AdminCommand::Account { command } => account(cfg, &ctx, &identity, command).await?,
        AdminCommand::PasswordReminders { at } => passwords::reminders(cfg, &ctx, &identity, at).await?,
        AdminCommand::Message { command: MessageCommand::List { address, json } } => {
            let acc = find(store, &address).await?;
            ctx.check(Action::ReadMail, acc.org_unit)?;
            let mut rows = Vec::new();
            for mb in store.list_mailboxes(acc.id).await? {
                for m in store.messages(mb.id).await? {
                    let subject = store.blob_meta(&m.blob_hash).await?.map(|b| b.subject).unwrap_or_default();
                    rows.push(serde_json::json!({
                        "mailbox": mb.name, "uid": m.uid, "modseq": m.modseq, "size": m.size,
                        "flags": m.flags, "blob": m.blob_hash.as_str(), "subject": subject,
                        "thread": m.thread_id, "internal_date": m.internal_date,
                    }));
                }
            }
            ctx.audit("message.list", &address, &format!("{} message(s)", rows.len())).await?;
            if json {
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for r in rows {
                    println!(
                        "{:<14} {:>6} {:>9}  {}",
                        r["mailbox"].as_str().unwrap_or(""),
                        r["uid"],
                        r["size"],
                        r["subject"].as_str().unwrap_or("")
                    );
                }
            }
        }
        AdminCommand::Message { command: MessageCommand::Get { address, uid, mailbox } } => {
            let acc = find(store, &address).await?;
            ctx.check(Action::ReadMail, acc.org_unit)?;
            let mb = store
                .mailbox_by_name(acc.id, &mailbox)
                .await?
                .with_context(|| format!("pas de dossier « {mailbox} »"))?;
            let m = store.message_by_uid(mb.id, uid).await?.with_context(|| format!("pas de message UID {uid}"))?;
            let bytes = ms.message_bytes(&m.blob_hash).await?;
            ctx.audit("message.get", &address, &format!("{mailbox} UID {uid}")).await?;
            std::io::stdout().write_all(&bytes)?;
        }
        AdminCommand::Message { command: MessageCommand::Deleted { command } } => {
            deleted::run(&ctx, ms, command).await?;
        }
        AdminCommand::Housekeeping { command } => deleted::housekeeping(&ctx, cfg, ms, command).await?,
        AdminCommand::Blob { command: BlobCommand::Stats { json } } => {
            let (files, bytes) = blobs.usage().await?;
            let rows = store.blob_count().await?;
            if json {
                println!("{}", serde_json::json!({"files": files, "bytes": bytes, "rows": rows}));
            } else {
                println!("{files} fichiers, {bytes} octets, {rows} contenus référencés");
            }
        }
        AdminCommand::Blob { command: BlobCommand::Gc { grace } } => {
            ctx.check(Action::Govern, None)?;
            let report = ms.collect_garbage(std::time::Duration::from_secs(grace)).await?;
            println!("{report:?}");
        }
        AdminCommand::Grant { command } => governance::grant(&ctx, command).await?,
        AdminCommand::Unit { command } => governance::unit(&ctx, command).await?,
        AdminCommand::Audit { command } => return governance::audit(&ctx, command).await,
        AdminCommand::Banner { command } => banner::run(&ctx, command).await?,
        AdminCommand::Notice { command } => notice::run(&ctx, cfg, command).await?,
        AdminCommand::Oidc { command } => sso_cli::oidc(&ctx, &open_sso(cfg, store)?, command).await?,
        AdminCommand::Cas { command } => sso_cli::cas(&ctx, &open_sso(cfg, store)?, command).await?,
        AdminCommand::Upstream { command } => upstream_cli::run(&ctx, &open_sso(cfg, store)?, command).await?,
        AdminCommand::List { command } => lists::run(cfg, &opened, &ctx, command).await?,
        AdminCommand::Forwarding { command } => forwarding::run(&ctx, command).await?,
        AdminCommand::Archiving { command } => archiving::run(&ctx, command).await?,
        AdminCommand::Sieve { command } => sieve::run(&ctx, cfg.managesieve.max_script_size as usize, command).await?,
        AdminCommand::Quarantine { command } => {
            quarantine::run(&ctx, &crate::screen::quarantine(cfg, &opened), command).await?
        }
        AdminCommand::Spam { command } => spam::run(&ctx, cfg, command).await?,
        AdminCommand::Resource { command } => resources::run(&ctx, command).await?,
        AdminCommand::Mailbox { command } => delegation::mailbox(&ctx, ms, command).await?,
        AdminCommand::Delegate { command } => delegation::delegate(&ctx, ms, command).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The identity provider over the store and the data folder's keys.
fn open_sso(cfg: &config::Config, store: &store::Store) -> anyhow::Result<sso::Sso> {
    let issuer = crate::http::web_config(cfg)?.public_url;
    Ok(sso::Sso::open(store.clone(), &cfg.server.data_dir, &issuer)?)
}

async fn account(
    cfg: &config::Config,
    ctx: &Ctx<'_>,
    identity: &identity::Identity,
    command: AccountCommand,
) -> anyhow::Result<()> {
    let store = ctx.store;
    match command {
        AccountCommand::Export { .. } => bail!("export : traité avant (admin::run)"),
        AccountCommand::Create { address, name, role, quota, password_stdin } => {
            ctx.check(Action::ManageAccount, None)?;
            let addr = parse_address(&address)?;
            let quota_bytes = match quota {
                Some(q) => parse_quota(&q)?,
                None => cfg.quota.default_bytes.map(|b| b as i64),
            };
            let password_hash = if password_stdin { Some(password::hash(&read_password()?)?) } else { None };
            let acc = store
                .create_account(&store::NewAccount {
                    address: addr,
                    login: None,
                    display_name: name,
                    role,
                    status: AccountStatus::Active,
                    quota_bytes,
                    org_unit: None,
                    password_hash,
                })
                .await?;
            ctx.audit("account.create", &acc.address.to_string(), role.as_str()).await?;
            println!("compte {} créé (id {})", acc.address, acc.id);
        }
        AccountCommand::List { json } => {
            let accounts: Vec<_> =
                store.list_accounts().await?.into_iter().filter(|a| ctx.admin.may(Action::Read, a.org_unit)).collect();
            if json {
                let rows: Vec<_> = accounts.iter().map(account_json).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for a in accounts {
                    println!("{:<45} {:<14} {:<12} {}", a.address.to_string(), a.role, a.status, a.display_name);
                }
            }
        }
        AccountCommand::Show { address } => {
            let a = ctx.find(&address).await?;
            let view = identity.admin_account(&ctx.admin, a.id).await?;
            let mut json = account_json(&view.account);
            json["aliases"] = serde_json::json!(view.aliases);
            json["totp"] = serde_json::json!(view.totp);
            json["recent_failures"] = serde_json::json!(view.failures);
            json["slowed_until"] = serde_json::json!(view.slowed_until);
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        AccountCommand::Suspend { address } => {
            let a = ctx.find(&address).await?;
            identity.admin_suspend(&ctx.admin, a.id).await?;
            println!("compte {} suspendu", a.address);
        }
        AccountCommand::Unlock { address } => {
            let a = ctx.find(&address).await?;
            identity.admin_unlock(&ctx.admin, a.id).await?;
            println!("connexions de {} débloquées / logins unlocked", a.address);
        }
        AccountCommand::Reset2fa { address } => {
            let a = ctx.find(&address).await?;
            identity.admin_reset_totp(&ctx.admin, a.id).await?;
            println!("validation en deux étapes de {} désactivée / two-step verification turned off", a.address);
        }
        AccountCommand::ResetPasskeys { address } => {
            let a = ctx.find(&address).await?;
            let n = identity.admin_reset_passkeys(&ctx.admin, a.id).await?;
            println!("{n} clé(s) d'accès de {} supprimée(s) / {n} passkey(s) removed", a.address);
        }
        AccountCommand::Activate { address } => {
            let a = find(store, &address).await?;
            ctx.check(Action::ManageAccount, a.org_unit)?;
            store.set_account_status(a.id, AccountStatus::Active).await?;
            ctx.audit("account.activate", &a.address.to_string(), "").await?;
            println!("compte {} actif", a.address);
        }
        AccountCommand::Password { address, password_stdin, keep_app_passwords } => {
            let a = find(store, &address).await?;
            ctx.check(Action::ResetCredentials, a.org_unit)?;
            if !password_stdin {
                bail!("donnez le mot de passe sur l'entrée standard avec --password-stdin");
            }
            // As a change by the user: the previous hash goes to the history and
            // the password's age starts again (an expired account works again).
            // Sessions opened with the old password end; app passwords too
            // unless kept.
            identity.set_password(&a, &read_password()?, !keep_app_passwords).await?;
            ctx.audit("account.password", &a.address.to_string(), "").await?;
            println!("mot de passe de {} changé", a.address);
        }
        AccountCommand::ResetPassword { address } => passwords::reset(ctx, identity, &address).await?,
        AccountCommand::Quota { address, size } => {
            let a = ctx.find(&address).await?;
            let q = parse_quota(&size)?;
            identity.admin_set_quota(&ctx.admin, a.id, q).await?;
            println!("quota de {} : {}", a.address, q.map(|b| format!("{b} octets")).unwrap_or("illimité".into()));
        }
        AccountCommand::Alias { alias, address } => {
            let a = find(store, &address).await?;
            ctx.check(Action::ManageAccount, a.org_unit)?;
            store.add_alias(&parse_address(&alias)?, a.id).await?;
            ctx.audit("account.alias", &a.address.to_string(), &alias).await?;
            println!("{alias} -> {}", a.address);
        }
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    let mut pw = String::new();
    std::io::stdin().read_to_string(&mut pw)?;
    let pw = pw.trim_end_matches(['\r', '\n']);
    if pw.is_empty() {
        bail!("mot de passe vide");
    }
    Ok(pw.to_owned())
}

fn account_json(a: &store::Account) -> serde_json::Value {
    serde_json::json!({
        "id": a.id, "address": a.address.to_string(), "name": a.display_name,
        "role": a.role.as_str(), "status": a.status.as_str(),
        "quota_bytes": a.quota_bytes, "used_bytes": a.used_bytes,
    })
}

fn parse_address(s: &str) -> anyhow::Result<Address> {
    Address::parse(s).map_err(|e| anyhow::anyhow!("{s}: {e}"))
}

fn parse_quota(s: &str) -> anyhow::Result<Option<i64>> {
    if matches!(s.trim(), "0" | "illimité" | "unlimited") {
        return Ok(None);
    }
    let bytes = config::parse_size(s).with_context(|| format!("quota invalide « {s} » (ex. 500M, 2G, 0)"))?;
    Ok(Some(bytes as i64))
}

pub(crate) async fn find(store: &store::Store, address: &str) -> anyhow::Result<store::Account> {
    store.account_by_address(&parse_address(address)?).await?.with_context(|| format!("compte inconnu : {address}"))
}
