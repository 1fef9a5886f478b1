//! The console's pages: the organisation tree, the account search, an
//! account's page and the audit log. Each asks the identity service, which
//! decides what this administrator may see.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use identity::admin::{AccountQuery, Administrator, AuditFilter, UnitRow};
use model::AccountStatus;
use serde::Deserialize;

use super::{A, gate, refusal};
use crate::App;
use crate::base::clock::Clock;
use crate::base::i18n::Tr;
use crate::base::session::Visitor;
use crate::base::{Common, SignedIn, WebError, render};
use crate::pages::account::result_text;

/// Audit entries shown at most.
const AUDIT_ROWS: usize = 200;

/// What every console page shows besides its content.
pub struct Nav {
    /// The administrator's roles, as « rôle sur unité ».
    pub roles: Vec<String>,
    pub audit: bool,
    pub quarantine: bool,
}

pub(super) fn nav(who: &Administrator) -> Nav {
    let roles = who.roles().unwrap_or_default().into_iter().map(|(r, u)| format!("{r} — {u}")).collect();
    Nav { roles, audit: who.reads_audit(), quarantine: who.governs_some() }
}

pub(super) fn common(app: &App, v: &mut Visitor, a: A, key: &str) -> Common {
    let mut c = Common::new(app, v, "security");
    c.title = format!("{} — {}", a.get(key), a.get("adm.title"));
    c
}

/// A status as the console words it.
pub fn status_text(a: A, s: AccountStatus) -> &'static str {
    match s {
        AccountStatus::Provisional => a.get("st.provisional"),
        AccountStatus::Active => a.get("st.active"),
        AccountStatus::Suspended => a.get("st.suspended"),
        AccountStatus::Closed => a.get("st.closed"),
    }
}

#[derive(Template)]
#[template(path = "admin/tree.html")]
struct TreePage {
    c: Common,
    a: A,
    nav: Nav,
    units: Vec<UnitRow>,
}

pub async fn tree(State(app): State<Arc<App>>, SignedIn { mut v, account }: SignedIn) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let units = app.identity.admin_units(&who).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let c = common(&app, &mut v, a, "adm.tree");
    Ok(render(&v, StatusCode::OK, &TreePage { c, a, nav: nav(&who), units }))
}

pub(super) fn err(v: &Visitor, e: identity::admin::AdminError) -> Response {
    use axum::response::IntoResponse;
    refusal(v, e).into_response()
}

/// The search form's fields, as typed (anything unexpected is ignored).
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    uai: String,
    #[serde(default)]
    statut: String,
    #[serde(default)]
    page: String,
}

pub struct Row {
    id: i64,
    address: String,
    name: String,
    role: String,
    status: &'static str,
    unit: String,
}

#[derive(Template)]
#[template(path = "admin/search.html")]
struct SearchPage {
    c: Common,
    a: A,
    nav: Nav,
    q: String,
    uai: String,
    statut: String,
    statuses: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    total: usize,
    /// 1-based, for people.
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn search(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
    Query(sq): Query<SearchQuery>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let status = sq.statut.parse::<AccountStatus>().ok();
    let q = AccountQuery {
        text: sq.q.clone(),
        uai: sq.uai.clone(),
        status,
        role: None,
        page: sq.page.trim().parse::<usize>().unwrap_or(1).saturating_sub(1),
    };
    let found = app.identity.admin_search(&who, &q).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let link = |page: usize| {
        let enc = |s: &str| form_urlencoded(s);
        format!("/admin/comptes?q={}&uai={}&statut={}&page={page}", enc(&sq.q), enc(&sq.uai), enc(&sq.statut))
    };
    let page = SearchPage {
        a,
        nav: nav(&who),
        statuses: [AccountStatus::Active, AccountStatus::Provisional, AccountStatus::Suspended, AccountStatus::Closed]
            .into_iter()
            .map(|s| (s.as_str(), status_text(a, s)))
            .collect(),
        rows: found
            .rows
            .into_iter()
            .map(|r| Row {
                id: r.id,
                address: r.address,
                name: r.name,
                role: r.role.as_str().to_owned(),
                status: status_text(a, r.status),
                unit: r.unit,
            })
            .collect(),
        total: found.total,
        page: found.page + 1,
        pages: found.pages,
        prev: (found.page > 0).then(|| link(found.page)),
        next: (found.page + 1 < found.pages).then(|| link(found.page + 2)),
        q: sq.q.chars().take(200).collect(),
        uai: sq.uai.chars().take(20).collect(),
        statut: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        c: common(&app, &mut v, a, "adm.accounts"),
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// Percent-encodes a query value (what a browser's form would send).
pub(super) fn form_urlencoded(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub struct SessionLine {
    key: String,
    stage: String,
    created: String,
    last_seen: String,
    ip: String,
    client: String,
}

pub struct JournalRow {
    at: String,
    protocol: String,
    ip: String,
    result: &'static str,
}

#[derive(Template)]
#[template(path = "admin/account.html")]
struct AccountPage {
    c: Common,
    a: A,
    nav: Nav,
    id: i64,
    address: String,
    name: String,
    role: String,
    status: &'static str,
    suspended: bool,
    unit: String,
    unit_id: String,
    quota: String,
    used: String,
    aliases: Vec<String>,
    totp: bool,
    passkeys: usize,
    failures: i64,
    slowed_until: Option<String>,
    sessions: Vec<SessionLine>,
    grants: Vec<String>,
    journal: Vec<JournalRow>,
    may_manage: bool,
    may_reset: bool,
    may_govern: bool,
    provisional: Option<String>,
    roles: Vec<&'static str>,
}

/// An account's page, with a message, or the provisional password just made.
pub(super) async fn account_page(
    app: &App,
    v: &mut Visitor,
    who: &Administrator,
    id: i64,
    info: Option<String>,
    provisional: Option<String>,
) -> Result<Response, WebError> {
    let view = app.identity.admin_account(who, id).await.map_err(|e| refusal(v, e))?;
    let a = A(v.lang);
    let t = Tr(v.lang);
    let clock: Clock = app.cfg.clock.clone();
    let acc = &view.account;
    let mut c = common(app, v, a, "adm.accounts");
    c.title = format!("{} — {}", acc.address, a.get("adm.title"));
    c.info = info;
    let page = AccountPage {
        a,
        nav: nav(who),
        id,
        address: acc.address.to_string(),
        name: acc.display_name.clone(),
        role: acc.role.as_str().to_owned(),
        status: status_text(a, acc.status),
        suspended: acc.status == AccountStatus::Suspended,
        unit: view.unit.clone().unwrap_or_else(|| "—".into()),
        unit_id: acc.org_unit.map(|u| u.to_string()).unwrap_or_default(),
        quota: acc.quota_bytes.map_or_else(|| a.get("adm.unlimited").to_owned(), super::storage::bytes),
        used: super::storage::bytes(acc.used_bytes),
        aliases: view.aliases.clone(),
        totp: view.totp,
        passkeys: view.passkeys,
        failures: view.failures,
        slowed_until: view.slowed_until.map(|at| clock.full(at)),
        sessions: view
            .sessions
            .iter()
            .map(|s| SessionLine {
                key: s.key.clone(),
                stage: if s.stage == "full" { String::new() } else { format!(" ({})", a.get("adm.session.partial")) },
                created: clock.full(s.created_at),
                last_seen: clock.full(s.last_seen),
                ip: s.ip.clone(),
                client: s.client.clone(),
            })
            .collect(),
        grants: view.grants.iter().map(|(r, u)| format!("{r} — {u}")).collect(),
        journal: view
            .journal
            .iter()
            .map(|j| JournalRow {
                at: clock.full(j.at),
                protocol: j.protocol.to_uppercase(),
                ip: j.ip.clone(),
                result: result_text(t, &j.result),
            })
            .collect(),
        may_manage: view.may_manage,
        may_reset: view.may_reset,
        may_govern: view.may_govern,
        provisional,
        roles: identity::lifecycle::AdminRole::ALL.iter().map(|r| r.as_str()).collect(),
        c,
    };
    Ok(render(v, StatusCode::OK, &page))
}

/// What a finished action left to say (`?fait=`): one of ours, never the URL's text.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

impl Done {
    pub(super) fn fait(&self) -> &str {
        &self.fait
    }
}

pub async fn account(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, Response> {
    use axum::response::IntoResponse;
    let who = gate(&app, &v, &account).await?;
    let Ok(id) = id.parse::<i64>() else { return Err(WebError::not_found(v.lang).into_response()) };
    let a = A(v.lang);
    let info = match done.fait.as_str() {
        "suspendu" => Some(a.get("adm.done.suspend").to_owned()),
        "reactive" => Some(a.get("adm.done.activate").to_owned()),
        "quota" => Some(a.get("adm.done.quota").to_owned()),
        "2fa" => Some(a.get("adm.done.2fa").to_owned()),
        "cles" => Some(a.get("adm.done.passkeys").to_owned()),
        "debloque" => Some(a.get("adm.done.unlock").to_owned()),
        "role" => Some(a.get("adm.done.grant").to_owned()),
        "session" => Some(a.get("adm.done.session").to_owned()),
        "sessions" => Some(a.get("adm.done.sessions").to_owned()),
        _ => None,
    };
    account_page(&app, &mut v, &who, id, info, None).await.map_err(IntoResponse::into_response)
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    acteur: String,
    #[serde(default)]
    cible: String,
}

pub struct AuditRow {
    id: i64,
    at: String,
    actor: String,
    scope: String,
    action: String,
    target: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    c: Common,
    a: A,
    nav: Nav,
    acteur: String,
    cible: String,
    rows: Vec<AuditRow>,
    total: usize,
    broken: Vec<String>,
}

pub async fn audit(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let filter =
        AuditFilter { actor: q.acteur.chars().take(200).collect(), target: q.cible.chars().take(200).collect() };
    let view = app.identity.admin_audit_log(&who, &filter, AUDIT_ROWS).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let clock = app.cfg.clock.clone();
    let page = AuditPage {
        a,
        nav: nav(&who),
        rows: view
            .entries
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                at: clock.full(e.at),
                actor: e.actor,
                scope: e.scope,
                action: e.action,
                target: e.target,
                detail: e.detail,
            })
            .collect(),
        total: view.total,
        broken: view.broken.iter().map(|b| format!("{} : {}", b.id, b.reason)).collect(),
        acteur: filter.actor,
        cible: filter.target,
        c: common(&app, &mut v, a, "adm.audit"),
    };
    Ok(render(&v, StatusCode::OK, &page))
}
