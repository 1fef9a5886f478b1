//! « Boîtes fonctionnelles » (`/admin/boites`): the functional mailboxes
//! within the administrator's sight (the account search, with the role),
//! and a mailbox's page (`/admin/boites/<id>`): its members with their
//! RFC 4314 rights and sending rights, added, changed and removed through
//! `identity::admin`'s functional mailboxes service, which checks the scope,
//! gives the rights through the mail domain's delegation and audits.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use identity::admin::{AccountQuery, AdminError, MEMBER_RIGHTS};
use model::{Address, Rights, Role, SendRights};
use serde::Deserialize;

use super::pages::{Done, Nav, common, err, nav, status_text};
use super::{A, gate, path_id, refusal};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::session::Visitor;
use crate::base::{Common, SignedForm, SignedIn, redirect, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("adm.functional", "Boîtes fonctionnelles", "Functional mailboxes"),
    (
        "adm.functional.intro",
        "Les boîtes partagées de votre périmètre (secrétariat, vie scolaire…) : pas de mot de passe commun, \
         chaque membre y accède avec son propre compte, avec les droits donnés ici.",
        "The shared mailboxes within your scope (office, school life…): no shared password, each member \
         reaches it with their own account, with the rights given here.",
    ),
    ("adm.functional.found", "boîte(s) fonctionnelle(s)", "functional mailbox(es)"),
    ("adm.functional.none", "Aucune boîte fonctionnelle ne correspond.", "No functional mailbox matches."),
    ("adm.functional.members", "Membres et droits", "Members and rights"),
    ("adm.functional.no_members", "Aucun membre.", "No member."),
    ("adm.functional.member", "Membre", "Member"),
    ("adm.functional.rights", "Droits (RFC 4314)", "Rights (RFC 4314)"),
    (
        "adm.functional.rights.help",
        "l voir, r lire, s lu/non lu, w drapeaux, i déposer, p poster, k/x dossiers, t/e supprimer, a administrer. \
         Lecture et écriture : lrswipte.",
        "l see, r read, s seen, w flags, i insert, p post, k/x folders, t/e delete, a administer. Read and \
         write: lrswipte.",
    ),
    ("adm.functional.send_as", "Envoyer en tant que la boîte", "Send as the mailbox"),
    ("adm.functional.on_behalf", "Envoyer de la part de la boîte", "Send on behalf of the mailbox"),
    ("adm.functional.change", "Modifier", "Change"),
    ("adm.functional.add", "Ajouter un membre (adresse d'un compte)", "Add a member (an account's address)"),
    ("adm.functional.add.go", "Ajouter", "Add"),
    ("adm.functional.remove", "Retirer", "Remove"),
    ("adm.functional.yes", "oui", "yes"),
    ("adm.functional.no", "non", "no"),
    (
        "adm.functional.bad_rights",
        "Droits inconnus (lettres permises : lrswipkxtea).",
        "Unknown rights (letters allowed: lrswipkxtea).",
    ),
    ("adm.done.functional.set", "Les droits du membre ont été enregistrés.", "The member's rights were saved."),
    ("adm.done.functional.remove", "Le membre a été retiré.", "The member was removed."),
];

#[derive(Debug, Default, Deserialize)]
pub struct BoxesQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

pub struct BoxLine {
    id: i64,
    address: String,
    name: String,
    status: &'static str,
    unit: String,
}

#[derive(Template)]
#[template(path = "admin/functional_list.html")]
struct BoxesPage {
    c: Common,
    a: A,
    nav: Nav,
    q: String,
    rows: Vec<BoxLine>,
    total: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn page(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
    Query(bq): Query<BoxesQuery>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let q = AccountQuery {
        text: bq.q.clone(),
        role: Some(Role::Functional),
        page: bq.page.trim().parse::<usize>().unwrap_or(1).saturating_sub(1),
        ..AccountQuery::default()
    };
    let found = app.identity.admin_search(&who, &q).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let link = |page: usize| format!("/admin/boites?q={}&page={page}", super::pages::form_urlencoded(&bq.q));
    let page = BoxesPage {
        a,
        nav: nav(&who),
        q: bq.q.clone(),
        rows: found
            .rows
            .into_iter()
            .map(|r| BoxLine {
                id: r.id,
                address: r.address,
                name: r.name,
                status: status_text(a, r.status),
                unit: r.unit,
            })
            .collect(),
        total: found.total,
        page: found.page + 1,
        pages: found.pages,
        prev: (found.page > 0).then(|| link(found.page)),
        next: (found.page + 1 < found.pages).then(|| link(found.page + 2)),
        c: common(&app, &mut v, a, "adm.functional"),
    };
    Ok(render(&v, StatusCode::OK, &page))
}

pub struct MemberLine {
    account: i64,
    address: String,
    rights: String,
    send_as: bool,
    on_behalf: bool,
}

#[derive(Template)]
#[template(path = "admin/functional.html")]
struct BoxPage {
    c: Common,
    a: A,
    nav: Nav,
    id: i64,
    address: String,
    name: String,
    unit: String,
    members: Vec<MemberLine>,
    default_rights: &'static str,
    may_manage: bool,
}

pub async fn mailbox(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let id = path_id(&v, &id).map_err(IntoResponse::into_response)?;
    let view = app.identity.admin_functional(&who, id).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let mut c = common(&app, &mut v, a, "adm.functional");
    c.title = format!("{} — {}", view.account.address, c.title);
    c.info = match done.fait() {
        "membre" => Some(a.get("adm.done.functional.set").to_owned()),
        "retire" => Some(a.get("adm.done.functional.remove").to_owned()),
        _ => None,
    };
    let page = BoxPage {
        a,
        nav: nav(&who),
        id,
        address: view.account.address.to_string(),
        name: view.account.display_name.clone(),
        unit: view.unit.unwrap_or_else(|| "—".into()),
        members: view
            .members
            .into_iter()
            .map(|m| MemberLine {
                account: m.account,
                address: m.address,
                rights: m.rights.to_string(),
                send_as: m.send.send_as,
                on_behalf: m.send.on_behalf,
            })
            .collect(),
        default_rights: MEMBER_RIGHTS,
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
    #[serde(default)]
    droits: String,
    #[serde(default)]
    en_tant_que: Option<String>,
    #[serde(default)]
    de_la_part: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    compte: String,
}

has_csrf!(MemberForm, RemoveForm);

fn back(v: &Visitor, id: i64, done: &str) -> Response {
    redirect(v, &format!("/admin/boites/{id}?fait={done}"))
}

pub async fn set_member(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<MemberForm>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let id = path_id(&v, &id).map_err(IntoResponse::into_response)?;
    let a = A(v.lang);
    let done = async {
        let member =
            Address::parse(form.membre.trim()).map_err(|_| AdminError::Domain(a.get("adm.bad_address").into()))?;
        let rights = Rights::parse(form.droits.trim())
            .map_err(|_| AdminError::Domain(a.get("adm.functional.bad_rights").into()))?;
        let send = SendRights { send_as: form.en_tant_que.is_some(), on_behalf: form.de_la_part.is_some() };
        app.identity.admin_functional_set(&who, id, &member, rights, send).await
    };
    done.await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "membre"))
}

pub async fn remove_member(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<RemoveForm>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let id = path_id(&v, &id).map_err(IntoResponse::into_response)?;
    let member = path_id(&v, &form.compte).map_err(IntoResponse::into_response)?;
    app.identity.admin_functional_remove(&who, id, member).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "retire"))
}
