//! Thunderbird's autoconfig: `GET /.well-known/autoconfig/mail/config-v1.1.xml`
//! and `/mail/config-v1.1.xml` (the latter at `autoconfig.<domain>`), with
//! `?emailaddress=` when the client gives it. The format is Thunderbird's
//! `clientConfig` version 1.1: one `emailProvider` naming the domains it
//! serves, an `incomingServer` per IMAP port and an `outgoingServer` per
//! submission port, best first; the user name is the address
//! (`%EMAILADDRESS%`, which the client fills in).
//!
//! When our identity provider is on, every server also lists `OAuth2`
//! (after `password-cleartext`, which stays the default that every client
//! can use) and the file ends with the format's `<oAuth2>` element: the
//! issuer (our host), the scopes a mail token needs (`openid mail`), and
//! the authorization and token endpoints. A client that knows how to use
//! them (Thunderbird 140 and later through its OAuth provider API, with
//! the client id an administrator registered: docs/sso.md) signs in
//! through the browser and presents the token to IMAP and SMTP.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Endpoint, hosted};
use crate::App;
use crate::base::WebError;
use crate::base::i18n::Lang;

#[derive(Debug, Deserialize)]
pub struct Asked {
    emailaddress: Option<String>,
}

#[derive(Template)]
#[template(path = "setup/config-v1.1.xml")]
struct ClientConfig<'a> {
    id: &'a str,
    domains: Vec<String>,
    host: &'a str,
    imap: &'a [Endpoint],
    submission: &'a [Endpoint],
    help_url: String,
    oauth: Option<OAuth>,
}

/// The `<oAuth2>` element of the autoconfig format.
struct OAuth {
    issuer: String,
    scope: &'static str,
    auth_url: String,
    token_url: String,
}

/// The scopes a mail client's token needs (docs/sso.md).
pub(crate) const MAIL_SCOPES: &str = "openid mail";

pub async fn config(State(app): State<Arc<App>>, lang: Lang, Query(asked): Query<Asked>) -> Result<Response, WebError> {
    let setup = &app.cfg.mail_setup;
    let domains = match asked.emailaddress.as_deref() {
        Some(address) => match hosted(&app, address).await {
            Some(address) => vec![address.domain().as_str().to_owned()],
            None => return Err(WebError::not_found(lang)),
        },
        None => app.ms.local_domains().await?.iter().map(|d| d.as_str().to_owned()).collect(),
    };
    if domains.is_empty() || !setup.usable() {
        return Err(WebError::not_found(lang));
    }
    let page = ClientConfig {
        id: &domains[0],
        domains: domains.clone(),
        host: &setup.host,
        imap: &setup.imap,
        submission: &setup.submission,
        help_url: format!("{}/aide/configuration", app.cfg.public_url),
        oauth: app.sso.as_ref().map(|_| oauth(&app.cfg.public_url)),
    };
    let xml = page.render().map_err(|e| WebError::internal(&e))?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response())
}

fn oauth(public_url: &str) -> OAuth {
    let base = public_url.trim_end_matches('/');
    let issuer = base.split_once("://").map_or(base, |(_, rest)| rest);
    let issuer = issuer.split(['/', ':']).next().unwrap_or(issuer).to_owned();
    OAuth {
        issuer,
        scope: MAIL_SCOPES,
        auth_url: format!("{base}/oidc/authorize"),
        token_url: format!("{base}/oidc/token"),
    }
}

#[cfg(test)]
mod tests {
    use super::oauth;

    #[test]
    fn the_oauth_element_names_our_host_and_endpoints() {
        let o = oauth("https://webmail.ac-demo.fr/");
        assert_eq!(o.issuer, "webmail.ac-demo.fr");
        assert_eq!(o.auth_url, "https://webmail.ac-demo.fr/oidc/authorize");
        assert_eq!(o.token_url, "https://webmail.ac-demo.fr/oidc/token");
        assert_eq!(oauth("http://127.0.0.1:8080").issuer, "127.0.0.1");
    }
}
