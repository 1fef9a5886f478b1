//! The pages: shared pieces (the layout's data, rendering, redirects, the
//! request preamble) here; the login journey in `login`, the signed-in
//! pages in `account`. Domain errors become an error page in [`fail`] only.

pub mod account;
pub mod login;
pub mod reset;

use std::sync::Arc;

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use identity::Account;
use model::Role;
use serde::Deserialize;

use crate::App;
use crate::i18n::Tr;
use crate::server::Peer;
use crate::session::Visitor;

/// What the layout shows on every page.
pub struct Common {
    pub t: Tr,
    pub title: String,
    pub csrf: String,
    pub user: Option<String>,
    pub error: Option<String>,
    pub info: Option<String>,
    pub host: String,
    /// The webmail's theme, density and banner (empty elsewhere).
    pub chrome: crate::mail::Chrome,
}

impl Common {
    pub fn new(app: &App, v: &mut Visitor, title_key: &str) -> Common {
        let t = Tr(v.lang);
        Common {
            t,
            title: t.get(title_key).to_owned(),
            csrf: v.csrf(app),
            user: v.account().map(|a| a.display_name.clone()),
            error: None,
            info: None,
            host: app.cfg.hostname.clone(),
            chrome: v.chrome.clone(),
        }
    }
}

/// The `?lang=` query every page accepts.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// Reads who is asking.
pub async fn visitor(app: &Arc<App>, headers: &HeaderMap, peer: Peer, q: &LangQuery) -> Visitor {
    Visitor::read(app, headers, peer.0.ip(), q.lang.as_deref()).await
}

/// Renders a template with the visitor's cookies.
pub fn render(v: &Visitor, status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            with_cookies(v, (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne / internal error").into_response()
        }
    }
}

/// A 303 to `to` with the visitor's cookies.
pub fn redirect(v: &Visitor, to: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(loc) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    with_cookies(v, resp)
}

fn with_cookies(v: &Visitor, mut resp: Response) -> Response {
    for c in &v.cookies {
        if let Ok(value) = HeaderValue::from_str(c) {
            resp.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    resp
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub c: Common,
    pub heading: String,
    pub text: String,
    pub link: String,
    pub link_text: String,
}

/// A page for a failure: the log gets the detail, the visitor a sentence.
pub fn fail(app: &App, v: &mut Visitor, error: &dyn std::fmt::Display) -> Response {
    tracing::warn!(%error, "web request failed");
    let c = Common::new(app, v, "error");
    let text = c.t.get("error").to_owned();
    let page = MessagePage { heading: c.title.clone(), text, link: "/".into(), link_text: "Ardoise".into(), c };
    render(v, StatusCode::INTERNAL_SERVER_ERROR, &page)
}

/// A POST whose CSRF token is missing or wrong.
pub fn csrf_refused(app: &App, v: &mut Visitor) -> Response {
    let c = Common::new(app, v, "error");
    let text = c.t.get("csrf").to_owned();
    let page = MessagePage { heading: c.title.clone(), text, link: "/".into(), link_text: "Ardoise".into(), c };
    render(v, StatusCode::FORBIDDEN, &page)
}

/// Whether this account must use TOTP: every account when so configured,
/// otherwise administrators (the `admin` role or any administrative grant).
pub async fn totp_required(app: &App, account: &Account) -> bool {
    if app.cfg.require_2fa_for_all {
        return true;
    }
    if !app.cfg.require_2fa_for_admins {
        return false;
    }
    if account.role == Role::Admin {
        return true;
    }
    app.identity.has_admin_role(account.id).await.unwrap_or(true)
}

/// `2026-11-23 17:40` (UTC).
pub fn when(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| t.format(&format).ok()).unwrap_or_default()
}
