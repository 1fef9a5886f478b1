//! Thunderbird's autoconfig: `GET /.well-known/autoconfig/mail/config-v1.1.xml`
//! and `/mail/config-v1.1.xml` (the latter at `autoconfig.<domain>`), with
//! `?emailaddress=` when the client gives it. The format is Thunderbird's
//! `clientConfig` version 1.1: one `emailProvider` naming the domains it
//! serves, an `incomingServer` per IMAP port and an `outgoingServer` per
//! submission port, best first; the user name is the address
//! (`%EMAILADDRESS%`, which the client fills in).

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
}

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
    };
    let xml = page.render().map_err(|e| WebError::internal(&e))?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response())
}
