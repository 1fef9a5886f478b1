//! `ardoise admin list`: distribution lists (issue 22): create, members,
//! post policy, moderators, and the moderation queue (approve, refuse).
//! Works on the store like the rest of `admin`, so it runs beside a server;
//! what it distributes goes through the same fan-out as the MX.

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use identity::admin::AdminError;
use identity::lifecycle::Action;
use lists::{Lists, PostPolicy, Query};
use model::{Address, OrgUnitKind, Role};

use super::{Ctx, parse_address};

#[derive(Subcommand)]
pub enum ListCommand {
    /// Crée une liste (statique par défaut) / create a list (static by default).
    Create {
        address: String,
        /// Nom affiché (List-Id) / display name.
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Liste dynamique, calculée à chaque envoi depuis l'annuaire / computed from the directory at each posting.
        #[arg(long)]
        dynamic: bool,
        /// Établissement (UAI) / school.
        #[arg(long, requires = "dynamic")]
        unit: Option<String>,
        /// Seulement ce rôle (enseignant, administratif, direction) / only this role.
        #[arg(long, requires = "dynamic")]
        role: Option<Role>,
        /// Toute une DSDEN (nom, ex. « DSDEN 54 », ou son numéro d'unité) / a whole DSDEN.
        #[arg(long, requires = "dynamic")]
        dsden: Option<String>,
        /// Toute l'académie (son nom s'il y en a plusieurs) / the whole académie.
        #[arg(long, requires = "dynamic", num_args = 0..=1, default_missing_value = "")]
        academie: Option<String>,
        /// Groupe de discussion : les réponses vont à la liste / replies go to the list.
        #[arg(long)]
        discussion: bool,
        /// Étiquette ajoutée à l'objet, « [tag] » (groupes de discussion) / subject tag.
        #[arg(long, requires = "discussion")]
        tag: Option<String>,
    },
    /// Ajoute un membre (compte, adresse extérieure ou autre liste) / add a member.
    Add { address: String, member: String },
    /// Retire un membre / remove a member.
    Remove { address: String, member: String },
    /// Détaille une liste : membres, portée, cycles / show a list.
    Show {
        address: String,
        #[arg(long)]
        json: bool,
    },
    /// Supprime une liste (et ses messages en attente) / delete a list.
    Delete { address: String },
    /// Qui peut écrire : anyone, local, members, senders / who may post.
    PostPolicy {
        address: String,
        policy: String,
        #[arg(long = "sender")]
        senders: Vec<String>,
    },
    /// Archive des messages diffusés, lisible par les membres sur le web : on|off
    /// (groupes de discussion : on à la création) / the list's archive.
    Archive { address: String, state: String },
    /// Modérateurs : add|remove COMPTE / moderators.
    Moderators { address: String, action: String, account: String },
    /// Toutes les listes / every list.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Messages en attente de modération / held posts.
    Moderation {
        address: String,
        #[arg(long)]
        json: bool,
    },
    /// Diffuse un message en attente / release a held post.
    Approve { id: i64 },
    /// Refuse un message en attente (l'expéditeur est prévenu) / refuse a held post.
    Refuse {
        id: i64,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Refuse les messages en attente depuis plus de 14 jours (tâche horaire du serveur) / the server's hourly sweep.
    Sweep {
        /// Heure de référence (secondes Unix), pour les tests / reference time, for tests.
        #[arg(long)]
        at: Option<i64>,
    },
}

/// The lists service over the same store, with the transfer service (and
/// the members' filter rules) that its fan-out needs.
async fn service(cfg: &config::Config, opened: &crate::serve::Opened) -> anyhow::Result<Arc<Lists>> {
    let mta = crate::outbound::service(cfg, opened).await?;
    mta.set_filters(crate::serve::filters(cfg, opened));
    let archive_base = crate::http::list_archive_base(cfg);
    Ok(Lists::new(opened.store.clone(), opened.blobs.clone(), mta, lists::Limits::default(), archive_base))
}

/// The org unit a dynamic list reaches, from the options given.
async fn query(
    ctx: &Ctx<'_>,
    unit: Option<String>,
    role: Option<Role>,
    dsden: Option<String>,
    academie: Option<String>,
) -> anyhow::Result<Query> {
    if (&unit, &dsden, &academie) == (&None, &None, &None) {
        bail!("une liste dynamique demande --unit UAI, --dsden X ou --academie");
    }
    let chosen = pick_unit(ctx, unit, dsden, academie).await?;
    ctx.check(Action::ManageAccount, Some(chosen.id))?;
    Ok(Query { unit: chosen.id, role })
}

/// The unit a per-unit setting is for (`--unit UAI`, `--dsden X` or
/// `--academie [NAME]`): the options the policy commands share.
#[derive(clap::Args, Debug)]
pub struct UnitArgs {
    /// Établissement (UAI) / school.
    #[arg(long)]
    pub unit: Option<String>,
    /// DSDEN (nom ou numéro d'unité) / a DSDEN.
    #[arg(long)]
    pub dsden: Option<String>,
    /// L'académie (son nom s'il y en a plusieurs) / the académie.
    #[arg(long, num_args = 0..=1, default_missing_value = "")]
    pub academie: Option<String>,
}

impl UnitArgs {
    /// The unit named.
    pub(crate) async fn pick(self, ctx: &Ctx<'_>) -> anyhow::Result<store::OrgUnit> {
        pick_unit(ctx, self.unit, self.dsden, self.academie).await
    }
}

/// The one org unit named by `--unit UAI`, `--dsden NAME` or `--academie
/// [NAME]` (the CLI's way of naming a unit, for lists and policies).
pub(crate) async fn pick_unit(
    ctx: &Ctx<'_>,
    unit: Option<String>,
    dsden: Option<String>,
    academie: Option<String>,
) -> anyhow::Result<store::OrgUnit> {
    let units = ctx.store.list_org_units().await?;
    let chosen = match (unit, dsden, academie) {
        (Some(uai), None, None) => {
            let uai = uai.to_ascii_uppercase();
            units.iter().find(|u| u.uai.as_ref().is_some_and(|x| x.as_str() == uai)).with_context(|| {
                format!("établissement inconnu : {uai} (voir ardoise admin unit list) / unknown school")
            })?
        }
        (None, Some(name), None) => {
            let wanted = name.trim().to_lowercase();
            let found: Vec<_> = units
                .iter()
                .filter(|u| u.kind == OrgUnitKind::Dsden)
                .filter(|u| {
                    let n = u.name.to_lowercase();
                    n == wanted || u.id.to_string() == wanted || n.ends_with(&format!(" {wanted}"))
                })
                .collect();
            match found.as_slice() {
                [one] => *one,
                [] => bail!("DSDEN inconnue : {name} (voir ardoise admin unit list) / unknown DSDEN"),
                _ => bail!("plusieurs DSDEN répondent à « {name} » : donnez le nom exact / several match"),
            }
        }
        (None, None, Some(name)) => {
            let academies: Vec<_> = units
                .iter()
                .filter(|u| u.kind == OrgUnitKind::Academie)
                .filter(|u| name.is_empty() || u.name.eq_ignore_ascii_case(name.trim()))
                .collect();
            match academies.as_slice() {
                [one] => *one,
                [] => bail!("académie inconnue : {name} / unknown académie"),
                _ => bail!("plusieurs académies : précisez --academie NOM / several académies, name one"),
            }
        }
        (None, None, None) => bail!("nommez une unité : --unit UAI, --dsden X ou --academie / name a unit"),
        _ => bail!("--unit, --dsden et --academie s'excluent / choose one of --unit, --dsden, --academie"),
    };
    Ok(chosen.clone())
}

pub(crate) async fn run(
    cfg: &config::Config,
    opened: &crate::serve::Opened,
    ctx: &Ctx<'_>,
    command: ListCommand,
) -> anyhow::Result<()> {
    let lists = service(cfg, opened).await?;
    match command {
        ListCommand::Create { address, name, description, dynamic, unit, role, dsden, academie, discussion, tag } => {
            let address = parse_address(&address)?;
            let query = if dynamic {
                Some(query(ctx, unit, role, dsden, academie).await?)
            } else {
                ctx.check(Action::ManageAccount, None)?;
                None
            };
            let list = lists
                .create(lists::NewList { address, name, description, query, discussion, tag })
                .await
                .map_err(refusal)?;
            ctx.audit("list.create", &list.address.to_string(), &list.kind).await?;
            println!("liste {} créée ({})", list.address, list.kind);
        }
        ListCommand::Add { address, member } => {
            let (id, member) = (list_id(ctx, &address).await?, parse_address(&member)?);
            let added = ctx.identity.admin_list_add(&ctx.admin, &lists, id, &member).await?;
            println!("{member} {} {address}", if added { "ajouté à" } else { "est déjà membre de" });
        }
        ListCommand::Remove { address, member } => {
            let (id, member) = (list_id(ctx, &address).await?, parse_address(&member)?);
            ctx.identity.admin_list_remove(&ctx.admin, &lists, id, &member).await?;
            println!("{member} retiré de {address}");
        }
        ListCommand::Show { address, json } => {
            let list = parse_address(&address)?;
            let report = lists.report(&list).await.map_err(refusal)?;
            ctx.check(Action::Read, report.list.unit)?;
            show(&report, json);
        }
        ListCommand::Delete { address } => {
            let list = managed(ctx, &lists, &address).await?;
            lists.delete(&list).await.map_err(refusal)?;
            ctx.audit("list.delete", &list.to_string(), "").await?;
            println!("liste {list} supprimée");
        }
        ListCommand::PostPolicy { address, policy, senders } => {
            let id = list_id(ctx, &address).await?;
            let policy: PostPolicy = policy.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let senders = senders.iter().map(|s| parse_address(s)).collect::<anyhow::Result<Vec<Address>>>()?;
            ctx.identity.admin_list_policy(&ctx.admin, &lists, id, policy, &senders).await?;
            println!("{address} : politique {policy}");
        }
        ListCommand::Archive { address, state } => {
            let on = match state.as_str() {
                "on" | "oui" => true,
                "off" | "non" => false,
                other => bail!("état inconnu « {other} » (attendu : on, off)"),
            };
            let list = managed(ctx, &lists, &address).await?;
            lists.set_archive(&list, on).await.map_err(refusal)?;
            ctx.audit("list.archive", &list.to_string(), if on { "on" } else { "off" }).await?;
            if on {
                println!("{list} : messages archivés désormais / posts archived from now on");
            } else {
                println!("{list} : plus d'archivage (l'archive existante est gardée) / archive off, kept");
            }
        }
        ListCommand::Moderators { address, action, account } => {
            let id = list_id(ctx, &address).await?;
            let add = match action.as_str() {
                "add" | "ajouter" => true,
                "remove" | "retirer" => false,
                other => bail!("action inconnue « {other} » (attendu : add, remove)"),
            };
            let account = parse_address(&account)?;
            let changed = ctx.identity.admin_list_moderator(&ctx.admin, &lists, id, &account, add).await?;
            match (add, changed) {
                (true, true) => println!("{account} modère {address}"),
                (true, false) => println!("{account} modérait déjà {address}"),
                (false, true) => println!("{account} ne modère plus {address}"),
                (false, false) => bail!("{account} ne modérait pas {address}"),
            }
        }
        ListCommand::List { json } => {
            let all = lists.all().await?;
            if json {
                let rows: Vec<_> = all.iter().map(list_json).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if all.is_empty() {
                println!("aucune liste / no list");
            } else {
                for l in all {
                    println!("{:<45} {:<8} {:<8} {}", l.address.to_string(), l.kind, l.post_policy, l.name);
                }
            }
        }
        ListCommand::Moderation { address, json } => {
            let list = managed(ctx, &lists, &address).await?;
            let held = lists.held(&list).await.map_err(refusal)?;
            if json {
                let rows: Vec<_> = held
                    .iter()
                    .map(|h| {
                        serde_json::json!({"id": h.id, "sender": h.sender, "subject": h.subject,
                            "received_at": h.received_at, "size": h.size})
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if held.is_empty() {
                println!("aucun message en attente / nothing held");
            } else {
                for h in held {
                    let sender = if h.sender.is_empty() { "<>" } else { h.sender.as_str() };
                    println!("{:>6}  {}  {:<35} {}", h.id, mta::dsn::rfc2822(h.received_at), sender, h.subject);
                }
            }
        }
        ListCommand::Approve { id } => {
            let (_, list) = lists.held_post(id).await.map_err(refusal)?;
            ctx.check(Action::ManageAccount, list.unit)?;
            let outcome = lists.approve(id).await.map_err(refusal)?;
            ctx.audit("list.approve", &list.address.to_string(), &id.to_string()).await?;
            match outcome {
                lists::Outcome::Distributed { local, remote } => {
                    println!("message {id} diffusé sur {} : {local} local(aux), {remote} extérieur(s)", list.address)
                }
                other => println!("message {id} : {other:?}"),
            }
        }
        ListCommand::Refuse { id, reason } => {
            let (_, list) = lists.held_post(id).await.map_err(refusal)?;
            ctx.check(Action::ManageAccount, list.unit)?;
            lists.refuse(id, reason.as_deref()).await.map_err(refusal)?;
            ctx.audit("list.refuse", &list.address.to_string(), &id.to_string()).await?;
            println!("message {id} refusé ; l'expéditeur est prévenu");
        }
        ListCommand::Sweep { at } => {
            ctx.check(Action::ManageAccount, None)?;
            let at = at.unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
            let n = lists.sweep(at).await?;
            println!("{n} message(s) expiré(s) refusé(s)");
        }
    }
    Ok(())
}

/// The id of the list at `address`, when within sight (the operator's tool
/// may say that it exists outside a tested scope, `--as`); what may be done
/// with it is `identity::admin`'s to check.
async fn list_id(ctx: &Ctx<'_>, address: &str) -> anyhow::Result<i64> {
    let parsed = parse_address(address)?;
    match ctx.identity.admin_list_id(&ctx.admin, &parsed).await {
        Err(AdminError::NotFound) if ctx.store.list_by_address(&parsed).await?.is_some() => {
            bail!("refusé : {address} est hors du périmètre de {} / denied: outside your scope", ctx.admin.actor())
        }
        Err(AdminError::NotFound) => bail!("liste inconnue : {address}"),
        found => Ok(found?),
    }
}

/// The list at `address`, once the scope allows managing it.
async fn managed(ctx: &Ctx<'_>, lists: &Lists, address: &str) -> anyhow::Result<Address> {
    let address = parse_address(address)?;
    let list = lists.get(&address).await.map_err(refusal)?;
    ctx.check(Action::ManageAccount, list.unit)?;
    Ok(address)
}

/// A domain refusal as the CLI says it (French first).
fn refusal(e: lists::Error) -> anyhow::Error {
    match e {
        lists::Error::Conflict(what) => anyhow::anyhow!("adresse déjà utilisée (compte, alias ou liste) / {what}"),
        lists::Error::Invalid(what) if what.ends_with("is not a local domain") => {
            anyhow::anyhow!("domaine non local / {what}")
        }
        other => anyhow::anyhow!(other),
    }
}

fn list_json(l: &store::ListRow) -> serde_json::Value {
    serde_json::json!({
        "id": l.id, "address": l.address.to_string(), "name": l.name, "description": l.description,
        "kind": l.kind, "unit": l.unit, "role": l.role, "post_policy": l.post_policy,
        "discussion": l.discussion, "tag": l.tag, "archive": l.archive,
    })
}

fn show(r: &lists::Report, json: bool) {
    let cycles: Vec<Vec<String>> = r.cycles.iter().map(|c| c.iter().map(Address::to_string).collect()).collect();
    if json {
        let mut v = list_json(&r.list);
        v["members"] = serde_json::json!(r.members);
        v["senders"] = serde_json::json!(r.senders);
        v["moderators"] = r
            .moderators
            .iter()
            .map(|(a, active)| serde_json::json!({"address": a.to_string(), "active": active}))
            .collect();
        v["cycles"] = serde_json::json!(cycles);
        v["held"] = serde_json::json!(r.held);
        v["archived"] = serde_json::json!(r.archived);
        match &r.expansion {
            Ok(e) => {
                v["reach"] = serde_json::json!({"local": e.local.len(), "remote": e.remote.len(),
                    "unknown": e.unknown, "lists": e.lists.len()})
            }
            Err(why) => v["error"] = serde_json::json!(why),
        }
        println!("{v}");
        return;
    }
    let l = &r.list;
    println!("liste        {}", l.address);
    println!("nom          {}", l.name);
    if !l.description.is_empty() {
        println!("description  {}", l.description);
    }
    println!("type         {}{}", l.kind, if l.discussion { ", discussion" } else { "" });
    if let Some(tag) = &l.tag {
        println!("étiquette    [{tag}]");
    }
    if let Some(unit) = l.unit {
        println!("annuaire     unité {unit}, rôle {}", l.role.as_deref().unwrap_or("tous les personnels"));
    }
    println!(
        "écriture     {}{}",
        l.post_policy,
        if r.senders.is_empty() { String::new() } else { format!(" ({})", r.senders.join(", ")) }
    );
    for (m, active) in &r.moderators {
        println!("modérateur   {m}{}", if *active { "" } else { " (suspendu : ignoré)" });
    }
    if r.moderators.iter().all(|(_, active)| !active) {
        println!("modérateur   aucun actif : les administrateurs de l'académie sont prévenus");
    }
    for m in &r.members {
        println!("membre       {m}");
    }
    match &r.expansion {
        Ok(e) => {
            println!(
                "portée       {} local(aux), {} extérieur(s), {} liste(s)",
                e.local.len(),
                e.remote.len(),
                e.lists.len()
            );
            for u in &e.unknown {
                println!("sans boîte   {u}");
            }
        }
        Err(why) => println!("ERREUR       {why}"),
    }
    for c in &cycles {
        let mut path = c.clone();
        path.push(c[0].clone());
        println!("CYCLE        {} (la diffusion s'arrête : chacun reçoit une copie)", path.join(" -> "));
    }
    println!("en attente   {}", r.held);
    println!("archive      {}, {} message(s)", if l.archive { "oui" } else { "non" }, r.archived);
}
