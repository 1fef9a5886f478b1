//! The one error type of the web handlers, and where it becomes a page.
//!
//! A handler returns `Result<Response, WebError>` and uses `?` on domain
//! errors: the detail goes to the log when the error is made, the visitor
//! gets a sentence. A [`WebError`] cannot render itself (the page needs the
//! visitor's language, session and CSRF token, and the application), so its
//! `IntoResponse` gives a bare answer with the right status and marks it;
//! the [`render_errors`] layer, wrapped around the whole router, replaces
//! every marked answer by the French (or English) error page. Errors never
//! leak internals: the page only ever shows a sentence of ours.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::App;
use crate::base::chrome;
use crate::base::i18n::{Lang, Tr};
use crate::base::page::{Common, LangQuery, MessagePage, render};
use crate::base::proxy::Origin;
use crate::base::session::Visitor;

/// Why a request failed, as the visitor is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebError {
    /// Something failed on our side; the detail was logged (500).
    Internal,
    /// A POST whose CSRF token is missing or wrong (403).
    Csrf,
    /// A page with one sentence and a link back: a 404, or a refused form (400).
    Message { status: StatusCode, title: String, text: String, link: String, link_text: String },
}

impl WebError {
    /// An internal failure: `error` is logged, the visitor sees a sentence.
    pub fn internal(error: &dyn std::fmt::Display) -> WebError {
        tracing::warn!(%error, "web request failed");
        WebError::Internal
    }

    /// The « page introuvable » page (404), in `lang`.
    pub fn not_found(lang: Lang) -> WebError {
        let t = Tr(lang);
        WebError::Message {
            status: StatusCode::NOT_FOUND,
            title: t.get("notfound").to_owned(),
            text: t.get("notfound").to_owned(),
            link: "/".into(),
            link_text: "Ardoise".into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::Message { status, .. } => *status,
        }
    }

    /// The error page for `v`.
    fn page(self, app: &App, v: &mut Visitor) -> Response {
        let status = self.status();
        let (title, text, link, link_text) = match self {
            WebError::Internal | WebError::Csrf => {
                let t = Tr(v.lang);
                let key = if status == StatusCode::FORBIDDEN { "csrf" } else { "error" };
                (t.get("error").to_owned(), t.get(key).to_owned(), "/".to_owned(), "Ardoise".to_owned())
            }
            WebError::Message { title, text, link, link_text, .. } => (title, text, link, link_text),
        };
        let mut c = Common::new(app, v, "error");
        c.title = title.clone();
        render(v, status, &MessagePage { c, heading: title, text, link, link_text })
    }
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebError::Internal => f.write_str("internal error"),
            WebError::Csrf => f.write_str("CSRF token refused"),
            WebError::Message { status, text, .. } => write!(f, "{status}: {text}"),
        }
    }
}

impl From<mailstore::Error> for WebError {
    fn from(e: mailstore::Error) -> Self {
        WebError::internal(&e)
    }
}

impl From<identity::StoreError> for WebError {
    fn from(e: identity::StoreError) -> Self {
        WebError::internal(&e)
    }
}

impl From<identity::credentials::Error> for WebError {
    fn from(e: identity::credentials::Error) -> Self {
        WebError::internal(&e)
    }
}

impl From<filter::Error> for WebError {
    fn from(e: filter::Error) -> Self {
        WebError::internal(&e)
    }
}

impl From<std::io::Error> for WebError {
    fn from(e: std::io::Error) -> Self {
        WebError::internal(&e)
    }
}

impl From<Box<dyn std::error::Error + Send + Sync>> for WebError {
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> Self {
        WebError::internal(&e)
    }
}

/// The mark on an answer the [`render_errors`] layer must turn into a page.
#[derive(Debug, Clone)]
struct Unrendered(WebError);

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        // Seen only if the layer is missing: still a sentence, never a detail.
        let text = match self.status() {
            StatusCode::FORBIDDEN => "Formulaire expiré ou invalide / Invalid form",
            StatusCode::NOT_FOUND => "Page introuvable / Page not found",
            StatusCode::INTERNAL_SERVER_ERROR => "Erreur interne / Internal error",
            _ => "Requête refusée / Request refused",
        };
        let mut resp = (self.status(), [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response();
        resp.extensions_mut().insert(Unrendered(self));
        resp
    }
}

/// The layer that renders marked answers as error pages, in the visitor's
/// language and with their session's layout (re-read: errors are rare).
pub async fn render_errors(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let origin = crate::base::proxy::of_request(&app, req.extensions(), &headers)
        .unwrap_or(Origin { ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED), https: app.cfg.tls });
    let lang = Query::<LangQuery>::try_from_uri(req.uri()).ok().and_then(|Query(q)| q.lang);
    let mut resp = next.run(req).await;
    let Some(Unrendered(error)) = resp.extensions_mut().remove::<Unrendered>() else { return resp };
    let mut v = Visitor::read(&app, &headers, origin, lang.as_deref()).await;
    if let Some(account) = v.account().cloned() {
        chrome::load(&app, &account, &mut v.chrome).await;
    }
    let mut page = error.page(&app, &mut v);
    // Headers set on the way out (security headers, a frame's own CSP) stay.
    for (name, value) in resp.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && !page.headers().contains_key(name) {
            page.headers_mut().insert(name.clone(), value.clone());
        }
    }
    page
}
