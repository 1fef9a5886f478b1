//! Ardoise as an identity provider, the web side: OpenID Connect in
//! [`oidc`] (discovery, authorization with the consent page, token,
//! userinfo, JWKS, RP-initiated logout) and CAS 3.0 in [`cas`]. Everything
//! goes through the `sso` domain; the login is the webmail's own session:
//! a visitor not signed in is sent through the usual login (and TOTP
//! step), which comes back to the application's request afterwards
//! (`Visitor::set_resume`). Built on `base` and `pages` only.

mod cas;
mod oidc;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::App;
use crate::base::WebError;
use crate::base::i18n::{Lang, Tr};

/// The provider's routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/oidc/authorize", get(oidc::authorize))
        .route("/oidc/autoriser", post(oidc::consent_post))
        .route("/oidc/token", post(oidc::token))
        .route("/oidc/userinfo", get(oidc::userinfo).post(oidc::userinfo))
        .route("/oidc/jwks", get(oidc::jwks))
        .route("/oidc/logout", get(oidc::logout))
        .route("/cas/login", get(cas::login))
        .route("/cas/logout", get(cas::logout))
        .route("/cas/serviceValidate", get(cas::service_validate))
        .route("/cas/p3/serviceValidate", get(cas::p3_service_validate))
}

/// The provider, or the 404 page when single sign-on is not set up.
fn provider(app: &App, lang: Lang) -> Result<&sso::Sso, WebError> {
    app.sso.as_deref().ok_or_else(|| WebError::not_found(lang))
}

/// A refusal shown to the visitor (never redirected).
fn refusal(lang: Lang, status: StatusCode, fr: &str, en: &str) -> WebError {
    let t = Tr(lang);
    WebError::Message {
        status,
        title: t.get("sso.refused").to_owned(),
        text: t.pick(fr, en).to_owned(),
        link: "/".into(),
        link_text: "Ardoise".into(),
    }
}

/// Percent-encodes a query value (everything but RFC 3986's unreserved).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `base` with `params` added to its query.
fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    let mut out = base.to_owned();
    let mut sep = if base.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        out.push(sep);
        out.push_str(k);
        out.push('=');
        out.push_str(&enc(v));
        sep = '&';
    }
    out
}

/// A raw query without its `connexion` parameter (the time a fresh login
/// was asked, which the login's return adds again).
fn without_fresh(raw: &str) -> String {
    raw.split('&').filter(|kv| !kv.is_empty() && !kv.starts_with("connexion=")).collect::<Vec<_>>().join("&")
}

fn now() -> i64 {
    crate::base::session::unix_now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_added_encoded() {
        assert_eq!(
            with_params("https://a.fr/cb", &[("code", "x y"), ("state", "é&=")]),
            "https://a.fr/cb?code=x%20y&state=%C3%A9%26%3D"
        );
        assert_eq!(with_params("https://a.fr/cb?a=1", &[("code", "c")]), "https://a.fr/cb?a=1&code=c");
        assert_eq!(without_fresh("a=1&connexion=5&b=2"), "a=1&b=2");
    }
}
