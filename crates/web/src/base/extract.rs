//! The axum extractors every handler starts from.
//!
//! - [`Visitor`]: who is asking (session cookie, language, address), never failing
//!   once the connection's address is known;
//! - [`SignedIn`]: a visitor with a full session and its account; signed out, the
//!   answer is a redirect to the login page;
//! - [`Lang`]: the language alone (`?lang=`, the cookie, `Accept-Language`; French
//!   by default), with no session read;
//! - [`CsrfForm`] and [`SignedForm`]: a POSTed form whose CSRF token is checked
//!   before the handler runs (a wrong or missing token is a 403 page), the latter
//!   for signed-in visitors only. The form type says where its token is ([`HasCsrf`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use identity::Account;
use serde::de::DeserializeOwned;

use crate::App;
use crate::base::error::WebError;
use crate::base::i18n::Lang;
use crate::base::page::{LangQuery, redirect};
use crate::base::session::{Visitor, lang_cookie};

/// The client's address, as the handlers see it (plain or TLS alike), through
/// `ConnectInfo<Peer>`.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The `?lang=` of the request, if any.
fn lang_param(parts: &Parts) -> Option<String> {
    Query::<LangQuery>::try_from_uri(&parts.uri).ok().and_then(|Query(q)| q.lang)
}

impl FromRequestParts<Arc<App>> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let Some(origin) = crate::base::proxy::of_request(app, &parts.extensions, &parts.headers) else {
            return Err(WebError::internal(&"request without the connection's address"));
        };
        let mut v = Visitor::read(app, &parts.headers, origin, lang_param(parts).as_deref()).await;
        v.chrome.notices = crate::base::chrome::notices(app, v.lang).await;
        Ok(v)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(requested_lang(&parts.headers, lang_param(parts).as_deref()))
    }
}

/// The language a request asks for: `?lang=`, then the cookie, then
/// `Accept-Language`, French when none says.
pub fn requested_lang(headers: &HeaderMap, param: Option<&str>) -> Lang {
    param
        .and_then(Lang::parse)
        .or_else(|| lang_cookie(headers))
        .unwrap_or_else(|| Lang::from_accept(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())))
}

/// A visitor with a full session, and its account.
pub struct SignedIn {
    pub v: Visitor,
    pub account: Account,
}

impl FromRequestParts<Arc<App>> for SignedIn {
    /// The login page (or the error page when the visitor cannot be read).
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let v = Visitor::from_request_parts(parts, app).await.map_err(IntoResponse::into_response)?;
        match v.account().cloned() {
            Some(account) => Ok(SignedIn { v, account }),
            None => Err(redirect(&v, "/")),
        }
    }
}

/// A form that carries a CSRF token.
pub trait HasCsrf {
    /// The token as posted (empty when missing).
    fn csrf(&self) -> &str;
}

/// The fields of a form read as pairs (repeated fields kept): the token is
/// the `csrf` field.
impl HasCsrf for Vec<(String, String)> {
    fn csrf(&self) -> &str {
        self.iter().find(|(k, _)| k == "csrf").map_or("", |(_, v)| v.as_str())
    }
}

/// Implements [`HasCsrf`] for form structs with a `csrf: String` field.
macro_rules! has_csrf {
    ($($form:ty),* $(,)?) => {
        $(impl $crate::base::extract::HasCsrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })*
    };
}
pub(crate) use has_csrf;

/// A form with nothing but its CSRF token (logout, undo, revoking...).
#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenOnly {
    #[serde(default)]
    pub csrf: String,
}

has_csrf!(TokenOnly);

/// Reads the form of `req` after the visitor: the visitor, the form.
async fn visitor_and_form<T>(req: Request, app: &Arc<App>) -> Result<(Visitor, T), Response>
where
    T: DeserializeOwned + HasCsrf + Send,
{
    let (mut parts, body) = req.into_parts();
    let v = Visitor::from_request_parts(&mut parts, app).await.map_err(IntoResponse::into_response)?;
    let Form(form) =
        Form::<T>::from_request(Request::from_parts(parts, body), app).await.map_err(IntoResponse::into_response)?;
    Ok((v, form))
}

/// A POSTed form with a valid CSRF token (of the session, or of the
/// pre-session cookie on the login pages), and the visitor.
pub struct CsrfForm<T> {
    pub v: Visitor,
    pub form: T,
}

impl<T> FromRequest<Arc<App>> for CsrfForm<T>
where
    T: DeserializeOwned + HasCsrf + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let (v, form) = visitor_and_form::<T>(req, app).await?;
        v.check_csrf(app, form.csrf()).map_err(IntoResponse::into_response)?;
        Ok(CsrfForm { v, form })
    }
}

/// A POSTed form of a signed-in visitor with a valid CSRF token. Signed out,
/// the answer is the login page; a wrong token is a 403.
pub struct SignedForm<T> {
    pub v: Visitor,
    pub account: Account,
    pub form: T,
}

impl<T> FromRequest<Arc<App>> for SignedForm<T>
where
    T: DeserializeOwned + HasCsrf + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let (v, form) = visitor_and_form::<T>(req, app).await?;
        let Some(account) = v.account().cloned() else { return Err(redirect(&v, "/")) };
        v.check_csrf(app, form.csrf()).map_err(IntoResponse::into_response)?;
        Ok(SignedForm { v, account, form })
    }
}
