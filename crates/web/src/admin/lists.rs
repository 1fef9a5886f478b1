//! « Listes » (`/admin/listes`): the distribution lists within the
//! administrator's sight, and a list's page (`/admin/listes/<id>`): its
//! definition, members (added and removed here for a static list; a dynamic
//! list's come from the directory), who may post, and its moderators. Every
//! change goes through `identity::admin`'s lists service, which checks the
//! scope, calls the `lists` domain like `ardoise admin list`, and audits.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use identity::admin::Administrator;
use lists::{Lists, PostPolicy};
use model::Address;
use serde::Deserialize;

use super::pages::{Done, Nav, common, err, nav};
use super::{A, gate, path_id, refusal};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::session::Visitor;
use crate::base::{SignedForm, SignedIn, WebError, redirect, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("adm.lists", "Listes", "Lists"),
    (
        "adm.lists.intro",
        "Les listes de diffusion de votre périmètre. Une liste dynamique reçoit ses membres de l'annuaire à chaque envoi.",
        "The distribution lists within your scope. A dynamic list takes its members from the directory at each posting.",
    ),
    ("adm.lists.none", "Aucune liste dans votre périmètre.", "No list within your scope."),
    (
        "adm.lists.unavailable",
        "Les listes ne sont pas disponibles sur ce serveur.",
        "Lists are not available on this server.",
    ),
    ("adm.lists.kind", "Type", "Kind"),
    ("adm.lists.description", "Description", "Description"),
    ("adm.lists.static", "statique", "static"),
    ("adm.lists.dynamic", "dynamique", "dynamic"),
    ("adm.lists.policy", "Qui peut écrire", "Who may post"),
    ("adm.lists.members", "Membres", "Members"),
    ("adm.lists.moderators", "Modérateurs", "Moderators"),
    ("adm.lists.reach", "Portée actuelle", "Current reach"),
    ("adm.lists.local", "compte(s) local(aux)", "local account(s)"),
    ("adm.lists.remote", "adresse(s) extérieure(s)", "outside address(es)"),
    ("adm.lists.unknown", "Adresses sans boîte", "Addresses without a mailbox"),
    ("adm.lists.held", "Messages en attente de modération", "Posts waiting for moderation"),
    ("adm.lists.directory", "Membres pris dans l'annuaire", "Members taken from the directory"),
    ("adm.lists.everyone", "tous les personnels", "all staff"),
    ("adm.lists.no_members", "Aucun membre.", "No member."),
    ("adm.lists.remove", "Retirer", "Remove"),
    (
        "adm.lists.add",
        "Ajouter un membre (compte, adresse extérieure ou autre liste)",
        "Add a member (account, outside address or another list)",
    ),
    ("adm.lists.add.go", "Ajouter", "Add"),
    ("adm.lists.policy.anyone", "tout le monde", "anyone"),
    ("adm.lists.policy.local", "les comptes de l'académie", "the académie's accounts"),
    ("adm.lists.policy.members", "les membres de la liste", "the list's members"),
    ("adm.lists.policy.senders", "les expéditeurs nommés", "the named senders"),
    (
        "adm.lists.senders",
        "Expéditeurs nommés (un par ligne, pour « les expéditeurs nommés »)",
        "Named senders (one per line, for « the named senders »)",
    ),
    ("adm.lists.policy.save", "Enregistrer", "Save"),
    (
        "adm.lists.no_moderator",
        "Aucun modérateur actif : les administrateurs de l'académie sont prévenus.",
        "No active moderator: the académie's administrators are told.",
    ),
    ("adm.lists.inactive", "suspendu : ignoré", "suspended: skipped"),
    (
        "adm.lists.moderator.add",
        "Ajouter un modérateur (adresse d'un compte)",
        "Add a moderator (an account's address)",
    ),
    (
        "adm.lists.readonly",
        "Votre rôle permet de voir cette liste, pas de la modifier.",
        "Your role may see this list, not change it.",
    ),
    ("adm.done.member.add", "Le membre a été ajouté.", "The member was added."),
    ("adm.done.member.already", "Cette adresse était déjà membre.", "This address was already a member."),
    ("adm.done.member.remove", "Le membre a été retiré.", "The member was removed."),
    ("adm.done.policy", "La politique d'écriture a été enregistrée.", "The posting policy was saved."),
    ("adm.done.moderator", "Les modérateurs ont été modifiés.", "The moderators were changed."),
    ("adm.bad_address", "Adresse invalide.", "Invalid address."),
];

/// A post policy as the console words it.
fn policy_text(a: A, policy: &str) -> &'static str {
    match policy {
        "anyone" => a.get("adm.lists.policy.anyone"),
        "local" => a.get("adm.lists.policy.local"),
        "members" => a.get("adm.lists.policy.members"),
        _ => a.get("adm.lists.policy.senders"),
    }
}

fn kind_text(a: A, kind: &str) -> &'static str {
    if kind == lists::ListKind::Dynamic.as_str() { a.get("adm.lists.dynamic") } else { a.get("adm.lists.static") }
}

/// The lists service of the server, or the page saying there is none.
#[allow(
    clippy::result_large_err,
    reason = "the page's answer, returned with `?` by handlers that answer a Response either way"
)]
fn service<'a>(app: &'a App, v: &Visitor) -> Result<&'a Lists, Response> {
    app.lists.as_deref().ok_or_else(|| {
        let a = A(v.lang);
        WebError::Message {
            status: StatusCode::SERVICE_UNAVAILABLE,
            title: a.get("adm.lists").into(),
            text: a.get("adm.lists.unavailable").into(),
            link: "/admin".into(),
            link_text: a.get("adm.back").into(),
        }
        .into_response()
    })
}

/// An address typed in a form, or the refusal saying it is not one.
#[allow(
    clippy::result_large_err,
    reason = "the page's answer, returned with `?` by handlers that answer a Response either way"
)]
fn typed_address(v: &Visitor, typed: &str) -> Result<Address, Response> {
    Address::parse(typed.trim()).map_err(|_| {
        let a = A(v.lang);
        WebError::Message {
            status: StatusCode::BAD_REQUEST,
            title: a.get("adm.refused").into(),
            text: a.get("adm.bad_address").into(),
            link: "/admin/listes".into(),
            link_text: a.get("adm.back").into(),
        }
        .into_response()
    })
}

pub struct ListLine {
    id: i64,
    address: String,
    name: String,
    kind: &'static str,
    unit: String,
    policy: &'static str,
    members: usize,
    moderators: usize,
}

#[derive(Template)]
#[template(path = "admin/lists.html")]
struct ListsPage {
    c: crate::base::Common,
    a: A,
    nav: Nav,
    lists: Vec<ListLine>,
}

pub async fn page(State(app): State<Arc<App>>, SignedIn { mut v, account }: SignedIn) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let lists = service(&app, &v)?;
    let found = app.identity.admin_lists(&who, lists).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let lines = found
        .into_iter()
        .map(|s| ListLine {
            id: s.list.id,
            address: s.list.address.to_string(),
            kind: kind_text(a, &s.list.kind),
            policy: policy_text(a, &s.list.post_policy),
            name: s.list.name,
            unit: s.unit.unwrap_or_else(|| "—".into()),
            members: s.members,
            moderators: s.moderators,
        })
        .collect();
    let c = common(&app, &mut v, a, "adm.lists");
    Ok(render(&v, StatusCode::OK, &ListsPage { c, a, nav: nav(&who), lists: lines }))
}

pub struct Moderator {
    address: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin/list.html")]
struct ListPage {
    c: crate::base::Common,
    a: A,
    nav: Nav,
    id: i64,
    address: String,
    name: String,
    description: String,
    kind: &'static str,
    dynamic: bool,
    /// A dynamic list's unit and role.
    directory: Option<String>,
    policy: String,
    policies: Vec<(&'static str, &'static str)>,
    senders: String,
    members: Vec<String>,
    moderators: Vec<Moderator>,
    any_active: bool,
    local: usize,
    remote: usize,
    unknown: Vec<String>,
    error: Option<String>,
    held: usize,
    may_manage: bool,
}

pub async fn list(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, Response> {
    let (who, lists, id) = start(&app, &v, &account, &id).await?;
    let view = app.identity.admin_list(&who, lists, id).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let r = view.report;
    let dynamic = r.list.kind == lists::ListKind::Dynamic.as_str();
    let directory = dynamic.then(|| {
        let role = r.list.role.clone().unwrap_or_else(|| a.get("adm.lists.everyone").to_owned());
        format!("{} — {role}", view.unit.clone().unwrap_or_else(|| "—".into()))
    });
    let (local, remote, unknown, error) = match &r.expansion {
        Ok(e) => (e.local.len(), e.remote.len(), e.unknown.clone(), None),
        Err(why) => (0, 0, Vec::new(), Some(why.clone())),
    };
    let mut c = common(&app, &mut v, a, "adm.lists");
    c.title = format!("{} — {}", r.list.address, c.title);
    c.info = match done.fait() {
        "ajoute" => Some(a.get("adm.done.member.add").to_owned()),
        "deja" => Some(a.get("adm.done.member.already").to_owned()),
        "retire" => Some(a.get("adm.done.member.remove").to_owned()),
        "politique" => Some(a.get("adm.done.policy").to_owned()),
        "moderateurs" => Some(a.get("adm.done.moderator").to_owned()),
        _ => None,
    };
    let page = ListPage {
        a,
        nav: nav(&who),
        id,
        address: r.list.address.to_string(),
        name: r.list.name.clone(),
        description: r.list.description.clone(),
        kind: kind_text(a, &r.list.kind),
        dynamic,
        directory,
        policy: r.list.post_policy.clone(),
        policies: ["anyone", "local", "members", "senders"].into_iter().map(|p| (p, policy_text(a, p))).collect(),
        senders: r.senders.join("\n"),
        members: r.members,
        any_active: r.moderators.iter().any(|(_, active)| *active),
        moderators: r.moderators.into_iter().map(|(m, active)| Moderator { address: m.to_string(), active }).collect(),
        local,
        remote,
        unknown,
        error,
        held: r.held,
        may_manage: view.may_manage,
        c,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    membre: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    politique: String,
    #[serde(default)]
    expediteurs: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ModeratorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    compte: String,
    /// `ajouter` or `retirer`.
    #[serde(default)]
    action: String,
}

has_csrf!(MemberForm, PolicyForm, ModeratorForm);

/// The administrator, the lists service and the list id of the path.
async fn start<'a>(
    app: &'a App,
    v: &Visitor,
    account: &identity::Account,
    id: &str,
) -> Result<(Administrator, &'a Lists, i64), Response> {
    let who = gate(app, v, account).await?;
    let lists = service(app, v)?;
    let id = path_id(v, id).map_err(IntoResponse::into_response)?;
    Ok((who, lists, id))
}

fn back(v: &Visitor, id: i64, done: &str) -> Response {
    redirect(v, &format!("/admin/listes/{id}?fait={done}"))
}

pub async fn add_member(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<MemberForm>,
) -> Result<Response, Response> {
    let (who, lists, id) = start(&app, &v, &account, &id).await?;
    let member = typed_address(&v, &form.membre)?;
    let added =
        app.identity.admin_list_add(&who, lists, id, &member).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, if added { "ajoute" } else { "deja" }))
}

pub async fn remove_member(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<MemberForm>,
) -> Result<Response, Response> {
    let (who, lists, id) = start(&app, &v, &account, &id).await?;
    let member = typed_address(&v, &form.membre)?;
    app.identity.admin_list_remove(&who, lists, id, &member).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "retire"))
}

pub async fn policy(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<PolicyForm>,
) -> Result<Response, Response> {
    let (who, lists, id) = start(&app, &v, &account, &id).await?;
    let policy = form.politique.parse::<PostPolicy>().map_err(|_| WebError::not_found(v.lang).into_response())?;
    let mut senders = Vec::new();
    for line in form.expediteurs.lines().map(str::trim).filter(|l| !l.is_empty()).take(200) {
        senders.push(typed_address(&v, line)?);
    }
    // The named senders only go with the policy that names them.
    if policy != PostPolicy::Senders {
        senders.clear();
    }
    app.identity
        .admin_list_policy(&who, lists, id, policy, &senders)
        .await
        .map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "politique"))
}

pub async fn moderator(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<ModeratorForm>,
) -> Result<Response, Response> {
    let (who, lists, id) = start(&app, &v, &account, &id).await?;
    let moderator = typed_address(&v, &form.compte)?;
    let add = match form.action.as_str() {
        "ajouter" => true,
        "retirer" => false,
        _ => return Err(WebError::not_found(v.lang).into_response()),
    };
    app.identity
        .admin_list_moderator(&who, lists, id, &moderator, add)
        .await
        .map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "moderateurs"))
}
