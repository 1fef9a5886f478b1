//! « Mes contacts » (`/contacts`): the personal contacts of the default
//! address book through `groupware::contacts`: list and search (accents
//! ignored), groups (vCard `CATEGORIES`, see that module for why) with
//! « Écrire au groupe », create, edit (only cards this page wrote; another
//! client's card is shown read-only so none of its properties is lost),
//! delete. Every path names an object of the visitor's own book: another
//! account's object name is simply not found there.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use groupware::contacts::{Contact, StoredContact};
use identity::directory::fold;
use serde::Deserialize;

use super::A;
use super::directory::{query_encode, write_link};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::i18n::Lang;
use crate::base::{Common, SignedForm, SignedIn, TokenOnly, WebError, redirect, render};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    groupe: Option<String>,
    info: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub nom: String,
    #[serde(default)]
    pub adresses: String,
    #[serde(default)]
    pub telephone: String,
    #[serde(default)]
    pub organisation: String,
    #[serde(default)]
    pub fonction: String,
    #[serde(default)]
    pub groupes: String,
    #[serde(default)]
    pub note: String,
    /// The version edited (empty for a new contact).
    #[serde(default)]
    pub etag: String,
}

has_csrf!(ContactForm);

impl ContactForm {
    fn contact(&self) -> Contact {
        Contact {
            name: self.nom.clone(),
            emails: self.adresses.lines().map(str::to_owned).take(50).collect(),
            phone: self.telephone.clone(),
            org: self.organisation.clone(),
            title: self.fonction.clone(),
            groups: self.groupes.split(',').map(str::to_owned).take(50).collect(),
            note: self.note.clone(),
        }
    }
}

/// A contact as the list shows it.
struct Row {
    path: String,
    name: String,
    emails: String,
    org: String,
    groups: String,
    write: String,
}

/// A group: its name, its size, its filter link and its « Écrire » link.
struct Group {
    name: String,
    count: usize,
    link: String,
    write: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "annuaire/contacts.html")]
struct ContactsPage {
    c: Common,
    a: A,
    tab: &'static str,
    q: String,
    rows: Vec<Row>,
    groups: Vec<Group>,
    group: String,
}

#[derive(Template)]
#[template(path = "annuaire/contact_form.html")]
struct FormPage {
    c: Common,
    a: A,
    tab: &'static str,
    /// Where the form posts; empty for a card shown read-only.
    action: String,
    /// The delete form's action, for an existing contact.
    delete: String,
    heading: &'static str,
    f: ContactForm,
}

/// Contacts are not wired on this server.
pub(super) fn unavailable(lang: Lang) -> WebError {
    let a = A(lang);
    WebError::Message {
        status: StatusCode::SERVICE_UNAVAILABLE,
        title: a.get("con.title").to_owned(),
        text: a.get("con.unavailable").to_owned(),
        link: "/".into(),
        link_text: "Ardoise".into(),
    }
}

/// A groupware error as the visitor is told it.
pub(super) fn refusal(lang: Lang, e: groupware::Error, back: &str) -> WebError {
    let a = A(lang);
    let message = |status, text: String| WebError::Message {
        status,
        title: a.get("con.title").to_owned(),
        text,
        link: back.to_owned(),
        link_text: a.get("con.cancel").to_owned(),
    };
    match e {
        groupware::Error::NotFound => WebError::not_found(lang),
        groupware::Error::PreconditionFailed => message(StatusCode::CONFLICT, a.get("con.stale").to_owned()),
        groupware::Error::Invalid(why) => message(StatusCode::BAD_REQUEST, format!("{} {why}", a.get("con.invalid"))),
        groupware::Error::UidConflict(_) | groupware::Error::TooLarge(_) => {
            message(StatusCode::BAD_REQUEST, a.get("con.invalid").to_owned())
        }
        other => WebError::internal(&other),
    }
}

fn groupware(app: &App, lang: Lang) -> Result<&groupware::Groupware, WebError> {
    app.groupware.as_deref().ok_or_else(|| unavailable(lang))
}

/// Whether every word of `query` is in the contact (accents ignored).
fn matches(c: &Contact, words: &[String]) -> bool {
    let text = fold(&format!("{} {} {} {} {}", c.name, c.emails.join(" "), c.org, c.title, c.groups.join(" ")));
    words.iter().all(|w| text.contains(w.as_str()))
}

/// `GET /contacts?q=&groupe=`.
pub async fn list(
    State(app): State<Arc<App>>,
    Query(q): Query<ListQuery>,
    SignedIn { mut v, account }: SignedIn,
) -> Result<Response, WebError> {
    let gw = groupware(&app, v.lang)?;
    let all = gw.contacts(account.id).await.map_err(|e| refusal(v.lang, e, "/contacts"))?;
    let query: String = q.q.chars().take(100).collect();
    let words: Vec<String> = fold(&query).split_whitespace().take(4).map(str::to_owned).collect();
    let group = q.groupe.unwrap_or_default();
    let mut counts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &all {
        for g in &s.contact.groups {
            counts.entry(g.clone()).or_default().extend(s.contact.emails.first().cloned());
        }
    }
    let groups = counts
        .iter()
        .map(|(name, emails)| Group {
            name: name.clone(),
            count: all.iter().filter(|s| s.contact.groups.contains(name)).count(),
            link: format!("/contacts?groupe={}", query_encode(name)),
            write: write_link(&emails.iter().map(String::as_str).take(100).collect::<Vec<_>>()),
            current: *name == group,
        })
        .collect();
    let rows = all
        .iter()
        .filter(|s| group.is_empty() || s.contact.groups.contains(&group))
        .filter(|s| matches(&s.contact, &words))
        .map(row)
        .collect();
    let mut c = Common::new(&app, &mut v, "nav.directory");
    c.title = A(v.lang).get("con.title").to_owned();
    c.info = match q.info.as_deref() {
        Some("enregistre") => Some(A(v.lang).get("con.saved").to_owned()),
        Some("supprime") => Some(A(v.lang).get("con.deleted").to_owned()),
        _ => None,
    };
    Ok(render(&v, StatusCode::OK, &ContactsPage { c, a: A(v.lang), tab: "contacts", q: query, rows, groups, group }))
}

fn row(s: &StoredContact) -> Row {
    let emails: Vec<&str> = s.contact.emails.iter().map(String::as_str).collect();
    Row {
        path: format!("/contacts/fiche/{}", path_encode(&s.object)),
        name: s.contact.name.clone(),
        emails: emails.join(", "),
        org: s.contact.org.clone(),
        groups: s.contact.groups.join(", "),
        write: if emails.is_empty() { String::new() } else { write_link(&emails) },
    }
}

/// Percent-encodes a path segment.
fn path_encode(s: &str) -> String {
    query_encode(s)
}

/// `GET /contacts/nouveau`.
pub async fn new_page(State(app): State<Arc<App>>, SignedIn { mut v, .. }: SignedIn) -> Result<Response, WebError> {
    groupware(&app, v.lang)?;
    let mut c = Common::new(&app, &mut v, "nav.directory");
    c.title = A(v.lang).get("con.new").to_owned();
    let page = FormPage {
        c,
        a: A(v.lang),
        tab: "contacts",
        action: "/contacts/nouveau".into(),
        delete: String::new(),
        heading: "con.new",
        f: ContactForm::default(),
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// `POST /contacts/nouveau`.
pub async fn create(
    State(app): State<Arc<App>>,
    SignedForm { v, account, form }: SignedForm<ContactForm>,
) -> Result<Response, WebError> {
    let gw = groupware(&app, v.lang)?;
    gw.save_contact(account.id, None, form.contact()).await.map_err(|e| refusal(v.lang, e, "/contacts/nouveau"))?;
    Ok(redirect(&v, "/contacts?info=enregistre"))
}

/// `GET /contacts/fiche/<name>`.
pub async fn edit_page(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    SignedIn { mut v, account }: SignedIn,
) -> Result<Response, WebError> {
    let gw = groupware(&app, v.lang)?;
    let s = gw.contact(account.id, &name).await.map_err(|e| refusal(v.lang, e, "/contacts"))?;
    let path = format!("/contacts/fiche/{}", path_encode(&s.object));
    let mut c = Common::new(&app, &mut v, "nav.directory");
    c.title = s.contact.name.clone();
    if !s.ours {
        c.info = Some(A(v.lang).get("con.foreign").to_owned());
    }
    let f = ContactForm {
        csrf: String::new(),
        nom: s.contact.name.clone(),
        adresses: s.contact.emails.join("\n"),
        telephone: s.contact.phone.clone(),
        organisation: s.contact.org.clone(),
        fonction: s.contact.title.clone(),
        groupes: s.contact.groups.join(", "),
        note: s.contact.note.clone(),
        etag: s.etag.clone(),
    };
    let page = FormPage {
        c,
        a: A(v.lang),
        tab: "contacts",
        action: if s.ours { path.clone() } else { String::new() },
        delete: format!("{path}/supprimer"),
        heading: "con.edit",
        f,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// `POST /contacts/fiche/<name>`.
pub async fn save(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    SignedForm { v, account, form }: SignedForm<ContactForm>,
) -> Result<Response, WebError> {
    let gw = groupware(&app, v.lang)?;
    let back = format!("/contacts/fiche/{}", path_encode(&name));
    gw.save_contact(account.id, Some((&name, form.etag.trim())), form.contact())
        .await
        .map_err(|e| refusal(v.lang, e, &back))?;
    Ok(redirect(&v, "/contacts?info=enregistre"))
}

/// `POST /contacts/fiche/<name>/supprimer`.
pub async fn delete(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    SignedForm { v, account, .. }: SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let gw = groupware(&app, v.lang)?;
    gw.delete_contact(account.id, &name).await.map_err(|e| refusal(v.lang, e, "/contacts"))?;
    Ok(redirect(&v, "/contacts?info=supprime"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_ignore_accents_and_case() {
        let c = Contact { name: "Hélène Lefèvre".into(), groups: vec!["Conseil".into()], ..Contact::default() };
        let words = |q: &str| fold(q).split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert!(matches(&c, &words("helene")));
        assert!(matches(&c, &words("HÉLÈNE conseil")));
        assert!(!matches(&c, &words("hélène paul")));
        assert!(matches(&c, &words("")));
        assert!(!matches(&c, &words("%")));
    }
}
