//! The signed-in pages: "Accueil" (until the webmail exists) and "Sécurité"
//! (password, TOTP, passkeys, app passwords, sessions, the connection journal).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use identity::Account;
use identity::credentials::reauth::REAUTH;
use model::SpecialUse;
use serde::Deserialize;

use super::login::{PasswordForm, PasswordPage, PasswordRefused, change, password_form, rules};
use super::{confirm, totp_on, totp_required};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::i18n::Tr;
use crate::base::session::Visitor;
use crate::base::{Common, SignedForm, SignedIn, TokenOnly, WebError, redirect, render};

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

pub struct PasskeyRow {
    id: i64,
    name: String,
    created: String,
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
    passkeys: Vec<PasskeyRow>,
    new_app: Option<String>,
    apps: Vec<AppRow>,
    sessions: Vec<SessionRow>,
    journal: Vec<JournalRow>,
}

fn megabytes(bytes: i64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
}

pub async fn home(State(app): State<Arc<App>>, SignedIn { mut v, account }: SignedIn) -> Response {
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
) -> Result<Response, WebError> {
    let shown = Shown { info, new_app, ..Shown::default() };
    security_page_with(app, v, account, shown).await
}

/// The security page with a message (a passkey added).
pub(crate) async fn security_info(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    info: String,
) -> Result<Response, WebError> {
    security_page(app, v, account, Some(info), None).await
}

/// The security page with a refusal and its status.
pub(crate) async fn security_refused(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    refused: (StatusCode, String),
) -> Result<Response, WebError> {
    security_page_with(app, v, account, Shown { error: Some(refused), ..Shown::default() }).await
}

/// What the security page shows besides the account's state.
#[derive(Default)]
struct Shown {
    info: Option<String>,
    new_app: Option<String>,
    /// A refusal (of a re-authentication), with its status.
    error: Option<(StatusCode, String)>,
}

async fn security_page_with(app: &App, v: &mut Visitor, account: &Account, shown: Shown) -> Result<Response, WebError> {
    let id = &app.identity;
    let state = id.credential_state(account.id).await?;
    let codes_left = id.recovery_codes_left(account.id).await?;
    let apps = id.app_passwords(account.id).await?;
    let passkeys = id.passkeys(account.id).await?;
    let sessions = id.web_sessions(account.id).await?;
    let journal = id.login_journal(account.id, 50).await?;
    let current = v.session.as_ref().map(|(s, _)| s.token_hash.clone()).unwrap_or_default();
    let clock = crate::base::chrome::clock(app, account).await;
    let mut c = Common::new(app, v, "security");
    c.info = shown.info;
    let status = shown.error.as_ref().map_or(StatusCode::OK, |(status, _)| *status);
    c.error = shown.error.map(|(_, text)| text);
    let t = c.t;
    let page = SecurityPage {
        totp_on: state.totp_enabled_at.is_some(),
        totp_required: totp_required(app, account).await,
        codes_left,
        passkeys: passkeys
            .into_iter()
            .map(|p| PasskeyRow {
                id: p.id,
                name: p.name,
                created: clock.full(p.created_at),
                last_used: p.last_used_at.map_or_else(|| t.get("never").to_owned(), |at| clock.full(at)),
            })
            .collect(),
        new_app: shown.new_app,
        apps: apps
            .into_iter()
            .map(|a| AppRow {
                id: a.id,
                name: a.name,
                scopes: a.scopes.join(", ").to_uppercase(),
                last_used: a.last_used_at.map_or_else(|| t.get("never").to_owned(), |at| clock.full(at)),
            })
            .collect(),
        sessions: sessions
            .into_iter()
            .map(|s| SessionRow {
                current: s.token_hash == current,
                id: s.token_hash,
                since: clock.full(s.created_at),
                ip: s.ip,
                client: s.client.chars().take(80).collect(),
            })
            .collect(),
        journal: journal
            .into_iter()
            .map(|j| JournalRow {
                at: clock.full(j.at),
                protocol: protocol_text(t, &j.protocol),
                ip: j.ip,
                client: j.client,
                result: result_text(t, &j.result).to_owned(),
            })
            .collect(),
        c,
    };
    Ok(render(v, status, &page))
}

/// The journal's protocol column: the protocol, or what a re-authentication was.
fn protocol_text(t: Tr, protocol: &str) -> String {
    match protocol {
        REAUTH => t.pick("WEB (confirmation du mot de passe)", "WEB (password confirmation)").to_owned(),
        p if super::passkeys::is_passkey_protocol(p) => t.pick("WEB (clé d'accès)", "WEB (passkey)").to_owned(),
        other => other.to_uppercase(),
    }
}

/// The journal's result column (the console shows it too).
pub(crate) fn result_text(t: Tr, result: &str) -> &'static str {
    match result {
        "ok" => t.pick("réussie", "success"),
        "bad" => t.pick("échec (identifiants)", "failed (credentials)"),
        "throttled" => t.pick("ralentie (trop d'essais)", "throttled (too many attempts)"),
        "app-password-required" => {
            t.pick("refusée : mot de passe d'application requis", "refused: app password required")
        }
        "provisional" => t.pick("refusée : première connexion à terminer", "refused: first login not completed"),
        "unlock" => t.pick("débloqué par l'assistance", "unlocked by the helpdesk"),
        "passkey-cloned" => t.pick("refusée : clé d'accès copiée", "refused: copied passkey"),
        "passkey-origin" => t.pick("refusée : autre site que la messagerie", "refused: not our site"),
        "passkey-replayed" => t.pick("refusée : demande expirée ou rejouée", "refused: expired or replayed request"),
        "passkey-unknown" => t.pick("refusée : clé d'accès inconnue", "refused: unknown passkey"),
        _ => t.pick("refusée", "refused"),
    }
}

/// What the security page's forms answer for an app password or a session
/// that is not the account's (or no longer exists): 404, like anything else
/// of another account.
pub(crate) fn not_found(v: &Visitor) -> WebError {
    let t = Tr(v.lang);
    WebError::Message {
        status: StatusCode::NOT_FOUND,
        title: t.get("notfound").to_owned(),
        text: t.get("notfound").to_owned(),
        link: "/securite".into(),
        link_text: t.get("security").to_owned(),
    }
}

pub async fn security(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
) -> Result<Response, WebError> {
    security_page(&app, &mut v, &account, None, None).await
}

const PASSWORD_ACTION: &str = "/securite/mot-de-passe";

pub async fn password_page(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
) -> Result<Response, WebError> {
    let totp_on = totp_on(&app, &account).await?;
    let c = Common::new(&app, &mut v, "pw.title");
    let rules = rules(&app, c.t);
    let page = PasswordPage { c, first: false, action: PASSWORD_ACTION.into(), rules, problems: vec![], totp_on };
    Ok(render(&v, StatusCode::OK, &page))
}

/// The change of password from the security page: the current password
/// (and code) are a re-authentication, slowed down and journaled.
pub async fn password_post(
    State(app): State<Arc<App>>,
    SignedForm { mut v, account, form }: SignedForm<PasswordForm>,
) -> Result<Response, WebError> {
    let totp_on = totp_on(&app, &account).await?;
    if let Err((status, text)) = confirm(&app, &v, &account, &form.current, &form.code).await {
        let refused = PasswordRefused { first: false, action: PASSWORD_ACTION, problems: vec![text], status, totp_on };
        return Ok(password_form(&app, &mut v, refused));
    }
    if let Err(resp) = change(&app, &mut v, &account, &form, false, PASSWORD_ACTION, totp_on).await? {
        return Ok(resp);
    }
    // Every other session ends with the old password.
    let keep = v.session.as_ref().map(|(s, _)| s.token_hash.clone());
    app.identity.delete_web_sessions(account.id, keep.as_deref()).await?;
    let info = Tr(v.lang).get("pw.done").to_owned();
    security_page(&app, &mut v, &account, Some(info), None).await
}

#[derive(Debug, Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

pub async fn totp_off(
    State(app): State<Arc<App>>,
    SignedForm { mut v, account, form }: SignedForm<DisableForm>,
) -> Result<Response, WebError> {
    let t = Tr(v.lang);
    if totp_required(&app, &account).await {
        return security_page(&app, &mut v, &account, Some(t.get("enrol.required").to_owned()), None).await;
    }
    if let Err(refused) = confirm(&app, &v, &account, &form.password, &form.code).await {
        return security_page_with(&app, &mut v, &account, Shown { error: Some(refused), ..Shown::default() }).await;
    }
    app.identity.disable_totp(&account).await?;
    security_page(&app, &mut v, &account, Some(t.get("sec.2fa.none").to_owned()), None).await
}

#[derive(Debug, Deserialize)]
pub struct AppForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    /// The current password and code: creating lasting access is a sensitive action.
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    imap: Option<String>,
    smtp: Option<String>,
    dav: Option<String>,
}

pub async fn app_create(
    State(app): State<Arc<App>>,
    SignedForm { mut v, account, form }: SignedForm<AppForm>,
) -> Result<Response, WebError> {
    if let Err(refused) = confirm(&app, &v, &account, &form.password, &form.code).await {
        return security_page_with(&app, &mut v, &account, Shown { error: Some(refused), ..Shown::default() }).await;
    }
    let scopes: Vec<&str> = [("imap", &form.imap), ("smtp", &form.smtp), ("dav", &form.dav)]
        .into_iter()
        .filter(|(_, on)| on.is_some())
        .map(|(s, _)| s)
        .collect();
    let token = app.identity.create_app_password(&account, &form.name, &scopes).await?;
    security_page(&app, &mut v, &account, None, Some(token)).await
}

pub async fn app_revoke(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    SignedForm { v, account, .. }: SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    if !app.identity.revoke_app_password(&account, id).await? {
        return Err(not_found(&v));
    }
    Ok(redirect(&v, "/securite"))
}

#[derive(Debug, Deserialize)]
pub struct EndForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
}

has_csrf!(DisableForm, AppForm, EndForm);

pub async fn session_end(
    State(app): State<Arc<App>>,
    SignedForm { v, account, form }: SignedForm<EndForm>,
) -> Result<Response, WebError> {
    if !app.identity.delete_web_session(account.id, &form.id).await? {
        return Err(not_found(&v));
    }
    Ok(redirect(&v, "/securite"))
}
