//! « Annuaire » (`/annuaire`): the search, a card (`/annuaire/fiche/<key>`)
//! and « Ajouter à mes contacts ». Everything a visitor sees comes from
//! `identity::directory`, which shows only their own académie's active
//! staff, functional mailboxes and lists: a key naming anyone else is a 404
//! like a key naming no one.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use identity::directory::{self, Entry, EntryKind, vcard};
use serde::Deserialize;

use super::A;
use crate::App;
use crate::base::i18n::Lang;
use crate::base::{Common, SignedForm, SignedIn, TokenOnly, WebError, redirect, render};

/// Most cards one search shows.
const SHOWN: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    info: Option<String>,
}

/// One card as a row or a page shows it.
pub(super) struct CardView {
    pub key: String,
    pub name: String,
    pub function: &'static str,
    pub unit: String,
    pub uai: String,
    pub address: String,
    pub is_list: bool,
    /// `/courrier/ecrire?a=...`.
    pub write: String,
}

impl CardView {
    fn of(e: &Entry, lang: Lang) -> CardView {
        let unit = e.unit.as_ref();
        CardView {
            key: e.key.clone(),
            name: e.name.clone(),
            function: if lang == Lang::En { e.function_en() } else { e.function_fr() },
            unit: unit.map(|u| u.name.clone()).unwrap_or_default(),
            uai: unit.and_then(|u| u.uai.clone()).unwrap_or_default(),
            address: e.address.clone(),
            is_list: e.kind == EntryKind::List,
            write: write_link(&[e.address.as_str()]),
        }
    }
}

/// The composer's link with these addresses as recipients.
pub(super) fn write_link(addresses: &[&str]) -> String {
    format!("/courrier/ecrire?a={}", query_encode(&addresses.join(",")))
}

/// Percent-encodes a query value (unreserved characters and `@` kept).
pub(super) fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "annuaire/directory.html")]
struct DirectoryPage {
    c: Common,
    a: A,
    tab: &'static str,
    q: String,
    searched: bool,
    rows: Vec<CardView>,
    more: bool,
}

#[derive(Template)]
#[template(path = "annuaire/card.html")]
struct CardPage {
    c: Common,
    a: A,
    tab: &'static str,
    card: CardView,
    can_add: bool,
}

/// `GET /annuaire?q=`.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<SearchQuery>,
    SignedIn { mut v, account }: SignedIn,
) -> Result<Response, WebError> {
    let query: String = q.q.chars().take(directory::MAX_QUERY_CHARS).collect();
    let searched = !query.trim().is_empty();
    let mut found =
        if searched { app.identity.directory_search(&account, &query, SHOWN + 1).await? } else { Vec::new() };
    let more = found.len() > SHOWN;
    found.truncate(SHOWN);
    let rows = found.iter().map(|e| CardView::of(e, v.lang)).collect();
    let c = Common::new(&app, &mut v, "nav.directory");
    Ok(render(&v, StatusCode::OK, &DirectoryPage { c, a: A(v.lang), tab: "annuaire", q: query, searched, rows, more }))
}

/// The entry `key` names, if the visitor's directory shows it.
async fn entry(app: &App, account: &identity::Account, key: &str, lang: Lang) -> Result<Entry, WebError> {
    let parsed =
        directory::parse_key(key).filter(|_| !key.ends_with(".vcf")).ok_or_else(|| WebError::not_found(lang))?;
    let found = app.identity.directory_entries(account, &[parsed]).await?;
    found.into_iter().next().ok_or_else(|| WebError::not_found(lang))
}

/// `GET /annuaire/fiche/<key>`.
pub async fn card(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
    Query(q): Query<SearchQuery>,
    SignedIn { mut v, account }: SignedIn,
) -> Result<Response, WebError> {
    let e = entry(&app, &account, &key, v.lang).await?;
    let card = CardView::of(&e, v.lang);
    let mut c = Common::new(&app, &mut v, "nav.directory");
    c.title = format!("{} — {}", card.name, c.title);
    if q.info.as_deref() == Some("ajoute") {
        c.info = Some(A(v.lang).get("ann.added").to_owned());
    }
    let can_add = app.groupware.is_some();
    Ok(render(&v, StatusCode::OK, &CardPage { c, a: A(v.lang), tab: "annuaire", card, can_add }))
}

/// `POST /annuaire/fiche/<key>/ajouter`: the card, as the CardDAV directory
/// gives it, copied into the personal « Contacts » (again: refreshed).
pub async fn add(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
    SignedForm { v, account, .. }: SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let e = entry(&app, &account, &key, v.lang).await?;
    let Some(gw) = &app.groupware else { return Err(super::contacts::unavailable(v.lang)) };
    gw.put_card(account.id, &format!("annuaire-{}.vcf", e.key), &vcard::card(&e))
        .await
        .map_err(|err| super::contacts::refusal(v.lang, err, "/annuaire"))?;
    Ok(redirect(&v, &format!("/annuaire/fiche/{}?info=ajoute", e.key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_links_encode_the_addresses() {
        assert_eq!(write_link(&["a.b@ac-x.fr"]), "/courrier/ecrire?a=a.b@ac-x.fr");
        assert_eq!(write_link(&["a+b@x.fr", "c@x.fr"]), "/courrier/ecrire?a=a%2Bb@x.fr%2Cc@x.fr");
        assert_eq!(query_encode("é&<"), "%C3%A9%26%3C");
    }
}
