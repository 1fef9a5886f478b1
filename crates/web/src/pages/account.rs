//! The signed-in pages: "Accueil" (until the webmail exists) and "Sécurité"
//! (password, TOTP, app passwords, sessions, the connection journal).

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use identity::Account;
use model::SpecialUse;
use serde::Deserialize;

use super::login::{CsrfForm, PasswordForm, PasswordPage, change, rules};
use super::{Common, LangQuery, csrf_refused, fail, redirect, render, totp_required, visitor, when};
use crate::App;
use crate::i18n::Tr;
use crate::server::Peer;
use crate::session::Visitor;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Common,
    name: String,
    address: String,
    unread: i64,
    quota: String,
}

pub struct AppRow {
    id: i64,
    name: String,
    scopes: String,
    last_used: String,
}

pub struct SessionRow {
    id: String,
    since: String,
    ip: String,
    client: String,
    current: bool,
}

pub struct JournalRow {
    at: String,
    protocol: String,
    ip: String,
    client: String,
    result: String,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    c: Common,
    totp_on: bool,
    totp_required: bool,
    codes_left: i64,
    new_app: Option<String>,
    apps: Vec<AppRow>,
    sessions: Vec<SessionRow>,
    journal: Vec<JournalRow>,
}

fn megabytes(bytes: i64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
}

pub async fn home(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let mut v = visitor(&app, &headers, peer, &q).await;
    let Some(account) = v.account().cloned() else { return redirect(&v, "/") };
    let unread = match app.ms.mailbox_with_use(account.id, SpecialUse::Inbox).await {
        Ok(Some(inbox)) => app.ms.unseen_count(inbox.id).await.unwrap_or(0),
        _ => 0,
    };
    let c = Common::new(&app, &mut v, "home.title");
    let quota = match account.quota_bytes {
        Some(q) => format!("{} Mo / {} Mo", megabytes(account.used_bytes), megabytes(q)),
        None => format!("{} Mo", megabytes(account.used_bytes)),
    };
    let page = HomePage { c, name: account.display_name.clone(), address: account.address.to_string(), unread, quota };
    render(&v, StatusCode::OK, &page)
}

/// The Sécurité page, with an optional message and a just-created app password.
async fn security_page(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    info: Option<String>,
    new_app: Option<String>,
) -> Response {
    let id = &app.identity;
    let data = async {
        let state = id.credential_state(account.id).await?;
        let codes_left = id.recovery_codes_left(account.id).await?;
        let apps = id.app_passwords(account.id).await?;
        let sessions = id.web_sessions(account.id).await?;
        let journal = id.login_journal(account.id, 50).await?;
        Ok::<_, identity::StoreError>((state, codes_left, apps, sessions, journal))
    };
    let (state, codes_left, apps, sessions, journal) = match data.await {
        Ok(d) => d,
        Err(e) => return fail(app, v, &e),
    };
    let current = v.session.as_ref().map(|(s, _)| s.token_hash.clone()).unwrap_or_default();
    let mut c = Common::new(app, v, "security");
    c.info = info;
    let t = c.t;
    let page = SecurityPage {
        totp_on: state.totp_enabled_at.is_some(),
        totp_required: totp_required(app, account).await,
        codes_left,
        new_app,
        apps: apps
            .into_iter()
            .map(|a| AppRow {
                id: a.id,
                name: a.name,
                scopes: a.scopes.join(", ").to_uppercase(),
                last_used: a.last_used_at.map_or_else(|| t.get("never").to_owned(), when),
            })
            .collect(),
        sessions: sessions
            .into_iter()
            .map(|s| SessionRow {
                current: s.token_hash == current,
                id: s.token_hash,
                since: when(s.created_at),
                ip: s.ip,
                client: s.client.chars().take(80).collect(),
            })
            .collect(),
        journal: journal
            .into_iter()
            .map(|j| JournalRow {
                at: when(j.at),
                protocol: j.protocol.to_uppercase(),
                ip: j.ip,
                client: j.client,
                result: result_text(t, &j.result).to_owned(),
            })
            .collect(),
        c,
    };
    render(v, StatusCode::OK, &page)
}

fn result_text(t: Tr, result: &str) -> &'static str {
    match result {
        "ok" => t.pick("réussie", "success"),
        "bad" => t.pick("échec (identifiants)", "failed (credentials)"),
        "throttled" => t.pick("ralentie (trop d'essais)", "throttled (too many attempts)"),
        "app-password-required" => {
            t.pick("refusée : mot de passe d'application requis", "refused: app password required")
        }
        "provisional" => t.pick("refusée : première connexion à terminer", "refused: first login not completed"),
        _ => t.pick("refusée", "refused"),
    }
}

pub async fn security(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let mut v = visitor(&app, &headers, peer, &q).await;
    let Some(account) = v.account().cloned() else { return redirect(&v, "/") };
    security_page(&app, &mut v, &account, None, None).await
}

/// The signed-in account of a POST with a valid CSRF token, or the response.
async fn signed_post(
    app: &Arc<App>,
    headers: &HeaderMap,
    peer: Peer,
    csrf: &str,
) -> Result<(Visitor, Account), Response> {
    let mut v = visitor(app, headers, peer, &LangQuery::default()).await;
    if !v.csrf_ok(app, csrf) {
        return Err(csrf_refused(app, &mut v));
    }
    match v.account().cloned() {
        Some(a) => Ok((v, a)),
        None => Err(redirect(&v, "/")),
    }
}

pub async fn password_page(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let mut v = visitor(&app, &headers, peer, &q).await;
    if v.account().is_none() {
        return redirect(&v, "/");
    }
    let c = Common::new(&app, &mut v, "pw.title");
    let rules = rules(&app, c.t);
    let page = PasswordPage { c, first: false, action: "/securite/mot-de-passe".into(), rules, problems: vec![] };
    render(&v, StatusCode::OK, &page)
}

pub async fn password_post(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let (mut v, account) = match signed_post(&app, &headers, peer, &form.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(resp) = change(&app, &mut v, &account, &form, false, "/securite/mot-de-passe").await {
        return resp;
    }
    // Every other session ends with the old password.
    let keep = v.session.as_ref().map(|(s, _)| s.token_hash.clone());
    if let Err(e) = app.identity.delete_web_sessions(account.id, keep.as_deref()).await {
        return fail(&app, &mut v, &e);
    }
    let info = Tr(v.lang).get("pw.done").to_owned();
    security_page(&app, &mut v, &account, Some(info), None).await
}

#[derive(Debug, Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

pub async fn totp_off(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(form): Form<DisableForm>,
) -> Response {
    let (mut v, account) = match signed_post(&app, &headers, peer, &form.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let t = Tr(v.lang);
    if totp_required(&app, &account).await {
        return security_page(&app, &mut v, &account, Some(t.get("enrol.required").to_owned()), None).await;
    }
    if !app.identity.check_password(account.id, &form.password).await {
        return security_page(&app, &mut v, &account, Some(t.get("pw.wrong").to_owned()), None).await;
    }
    if let Err(e) = app.identity.disable_totp(&account).await {
        return fail(&app, &mut v, &e);
    }
    security_page(&app, &mut v, &account, Some(t.get("sec.2fa.none").to_owned()), None).await
}

#[derive(Debug, Deserialize)]
pub struct AppForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    imap: Option<String>,
    smtp: Option<String>,
    dav: Option<String>,
}

pub async fn app_create(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(form): Form<AppForm>,
) -> Response {
    let (mut v, account) = match signed_post(&app, &headers, peer, &form.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let scopes: Vec<&str> = [("imap", &form.imap), ("smtp", &form.smtp), ("dav", &form.dav)]
        .into_iter()
        .filter(|(_, on)| on.is_some())
        .map(|(s, _)| s)
        .collect();
    match app.identity.create_app_password(&account, &form.name, &scopes).await {
        Ok(token) => security_page(&app, &mut v, &account, None, Some(token)).await,
        Err(e) => fail(&app, &mut v, &e),
    }
}

pub async fn app_revoke(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (mut v, account) = match signed_post(&app, &headers, peer, &form.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(e) = app.identity.revoke_app_password(&account, id).await {
        return fail(&app, &mut v, &e);
    }
    redirect(&v, "/securite")
}

#[derive(Debug, Deserialize)]
pub struct EndForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
}

pub async fn session_end(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(form): Form<EndForm>,
) -> Response {
    let (mut v, account) = match signed_post(&app, &headers, peer, &form.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(e) = app.identity.delete_web_session(account.id, &form.id).await {
        return fail(&app, &mut v, &e);
    }
    redirect(&v, "/securite")
}
