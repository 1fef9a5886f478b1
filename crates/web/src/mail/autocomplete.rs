//! Recipient autocomplete: `GET /courrier/destinataires?q=` answers JSON
//! (at most ten people) from the user's recent correspondents (the
//! recipients of the newest messages of their Envoyés folder, read from the
//! stored envelopes, never from the messages' bytes), their personal
//! contacts (the default address book, `groupware::contacts`) and the académie
//! directory (`identity::directory`, the source of the Annuaire page and of
//! the CardDAV directory). A recent correspondent on one of our domains is
//! offered only if the directory shows them: a student, a suspended or
//! closed account, someone of another académie never is, even if the user
//! wrote to them before. Signed-in users only; two characters at least.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailstore::Account;
use model::SpecialUse;
use serde::Deserialize;

use super::drafts::json;
use crate::App;
use crate::base::session::Visitor;

/// Most suggestions per answer.
pub const MAX_RESULTS: usize = 10;
/// How many of the newest sent messages recent correspondents come from.
const RECENT_SENT: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct Suggest {
    #[serde(default)]
    pub q: String,
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub address: String,
}

/// `GET /courrier/destinataires?q=`.
pub async fn suggest(State(app): State<Arc<App>>, Query(q): Query<Suggest>, v: Visitor) -> Response {
    let Some(account) = v.account().cloned() else {
        return json(StatusCode::UNAUTHORIZED, &serde_json::json!({ "erreur": "connexion requise" }));
    };
    let query: String = q.q.trim().chars().take(100).collect();
    if query.chars().count() < 2 {
        return json(StatusCode::OK, &serde_json::json!([]));
    }
    match people(&app, &account, &query).await {
        Ok(found) => {
            let list: Vec<serde_json::Value> = found
                .iter()
                .map(|p| serde_json::json!({ "nom": p.name, "adresse": p.address, "texte": label(p) }))
                .collect();
            json(StatusCode::OK, &serde_json::Value::Array(list))
        }
        Err(e) => {
            tracing::warn!(error = %e, "autocomplete failed");
            json(StatusCode::SERVICE_UNAVAILABLE, &serde_json::json!([]))
        }
    }
}

/// What goes in the field: `Name <address>`, or the address alone.
pub fn label(p: &Person) -> String {
    let name = p.name.replace(['"', '<', '>', ',', ';'], " ");
    let name = name.trim();
    if name.is_empty() { p.address.clone() } else { format!("{name} <{}>", p.address) }
}

/// Why suggestions could not be made.
#[derive(Debug)]
enum Failure {
    Mail(mailstore::Error),
    Directory(identity::StoreError),
}

impl From<mailstore::Error> for Failure {
    fn from(e: mailstore::Error) -> Failure {
        Failure::Mail(e)
    }
}

impl From<identity::StoreError> for Failure {
    fn from(e: identity::StoreError) -> Failure {
        Failure::Directory(e)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Mail(e) => e.fmt(f),
            Failure::Directory(e) => e.fmt(f),
        }
    }
}

/// Recent correspondents first (they are who the user writes to), then
/// personal contacts, then the directory, without repeats, at most
/// [`MAX_RESULTS`]. Correspondents and contacts on our domains are offered
/// only if the directory shows them.
async fn people(app: &App, account: &Account, query: &str) -> Result<Vec<Person>, Failure> {
    let mut found = recent(app, account, query).await?;
    if let Some(gw) = &app.groupware {
        match gw.contact_addresses_matching(account.id, query, MAX_RESULTS).await {
            Ok(contacts) => found.extend(contacts.into_iter().map(|(name, address)| Person { name, address })),
            // The address book is a comfort here: its failure costs suggestions, not the answer.
            Err(e) => tracing::warn!(error = %e, "personal contacts not read for autocomplete"),
        }
    }
    let mut out = visible(app, account, found).await?;
    for e in app.identity.directory_search(account, query, MAX_RESULTS).await? {
        out.push(Person { name: e.name, address: e.address });
    }
    Ok(merge(out))
}

/// The correspondents and contacts the user may be offered: outside addresses, and those
/// of our domains that the directory shows the user (the first
/// [`MAX_RESULTS`] of them, each checked).
async fn visible(app: &App, account: &Account, found: Vec<Person>) -> Result<Vec<Person>, Failure> {
    let local = app.ms.local_domains().await?;
    let mut out = Vec::new();
    for p in merge(found) {
        let Ok(address) = model::Address::parse(&p.address) else { continue };
        if !local.contains(address.domain()) || app.identity.directory_shows(account, &address).await? {
            out.push(p);
        }
    }
    Ok(out)
}

/// Drops repeated addresses (keeping the first, with a name when one has
/// it) and caps the list.
pub fn merge(list: Vec<Person>) -> Vec<Person> {
    let mut out: Vec<Person> = Vec::new();
    for p in list {
        match out.iter_mut().find(|o| o.address.eq_ignore_ascii_case(&p.address)) {
            Some(o) if o.name.is_empty() => o.name = p.name,
            Some(_) => {}
            None => out.push(p),
        }
    }
    out.truncate(MAX_RESULTS);
    out
}

/// Recipients of the newest sent messages matching `query`.
async fn recent(app: &App, account: &Account, query: &str) -> Result<Vec<Person>, mailstore::Error> {
    let ms = &app.ms;
    let Some(sent) = ms.mailbox_with_use(account.id, SpecialUse::Sent).await? else { return Ok(Vec::new()) };
    let window = super::list::newest(ms, &sent, None, RECENT_SENT, usize::MAX, |_| true).await?;
    let ids: Vec<model::BlobId> = window.rows.iter().map(|r| r.blob_hash.clone()).collect();
    let needle = query.to_lowercase();
    let mut out = Vec::new();
    for meta in ms.summaries(&ids).await? {
        for p in envelope_recipients(&meta.meta_json) {
            if p.address.to_lowercase().contains(&needle) || p.name.to_lowercase().contains(&needle) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// The To and Cc of a stored analysis (its envelope).
pub fn envelope_recipients(meta_json: &str) -> Vec<Person> {
    let Some(analysis) = mailstore::analyse::stored::from_stored(meta_json) else { return Vec::new() };
    let mut out = Vec::new();
    for a in analysis.envelope.to.iter().chain(&analysis.envelope.cc) {
        let (mailbox, host) = (a.mailbox.as_str(), a.host.as_str());
        if mailbox.is_empty() || host.is_empty() || !host.contains('.') {
            continue;
        }
        let name = a.name.as_deref().unwrap_or("");
        // Encoded words are left to the directory's spelling.
        let name = if name.contains("=?") { "" } else { name };
        out.push(Person { name: name.trim().to_owned(), address: format!("{mailbox}@{host}").to_lowercase() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_give_recipients() {
        let meta = r#"{"envelope":{"to":[{"name":"Paul Durand","mailbox":"paul.durand","host":"ac-demo.fr"},
            {"name":null,"mailbox":"groupe","host":""},{"name":null,"mailbox":"","host":""}],
            "cc":[{"name":"=?utf-8?q?H=C3=A9l=C3=A8ne?=","mailbox":"Helene","host":"ac-demo.fr"}]}}"#;
        let got = envelope_recipients(meta);
        assert_eq!(
            got,
            [
                Person { name: "Paul Durand".into(), address: "paul.durand@ac-demo.fr".into() },
                Person { name: String::new(), address: "helene@ac-demo.fr".into() },
            ]
        );
        assert!(envelope_recipients("pas du json").is_empty());
    }

    #[test]
    fn merged_without_repeats_and_capped() {
        let p = |n: &str, a: &str| Person { name: n.into(), address: a.into() };
        let list = vec![p("", "a@x.fr"), p("Anne", "A@x.fr"), p("Bob", "b@x.fr")];
        assert_eq!(merge(list), [p("Anne", "a@x.fr"), p("Bob", "b@x.fr")]);
        let many: Vec<Person> = (0..30).map(|i| p("", &format!("{i}@x.fr"))).collect();
        assert_eq!(merge(many).len(), MAX_RESULTS);
        assert_eq!(label(&p("Durand, Paul", "p@x.fr")), "Durand  Paul <p@x.fr>");
        assert_eq!(label(&p(" ", "p@x.fr")), "p@x.fr");
    }
}
