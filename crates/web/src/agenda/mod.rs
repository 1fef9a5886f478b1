//! The Agenda (issue 21): the reader's calendars in day, week, month and
//! list views, in the reader's own time zone (Réglages → Lecture), and
//! events created, edited, moved and deleted through a form, with a simple
//! recurrence editor and the deletion of one occurrence.
//!
//! Everything goes through the `groupware` domain, which writes iCalendar
//! with calcard's checks: what the web writes, CalDAV clients read, and
//! the other way round. Recurrences are expanded by the same code that
//! answers CalDAV time-range queries. Server-rendered like the webmail:
//! plain links and forms, no script needed; colours are classes (the CSP
//! allows no inline style).
//!
//! Only the reader's own calendars are reachable: another account's
//! calendar or event is answered exactly like one that does not exist.

mod form;
pub mod reminders;
mod share;
mod texts;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use groupware::{Collection, CollectionKind, Groupware, Right, sharing};
use mailstore::Account;

use crate::App;
use crate::base::WebError;
use crate::base::assets::Asset;
use crate::base::i18n::Lang;
pub use texts::A;

const CSS: &str = include_str!("../../static/agenda.css");

/// The Agenda's routes (with the site-wide security headers).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/agenda", get(views::page))
        .route("/agenda/nouveau", get(form::new_page).post(form::create))
        .route("/agenda/partager", get(share::page).post(share::act))
        .route("/agenda/rappels", get(reminders::page).post(reminders::act))
        .route("/agenda/{calendar}/{name}", get(form::edit_page).post(form::save))
        .route("/agenda/{calendar}/{name}/supprimer", get(form::delete_page).post(form::delete))
        .route("/static/agenda.css", get(css))
}

static CSS_ASSET: Asset = Asset::new(CSS, "text/css; charset=utf-8");

async fn css(headers: HeaderMap) -> Response {
    CSS_ASSET.respond(&headers)
}

/// The groupware service, or the page saying the Agenda is unavailable.
fn service(app: &App, lang: Lang) -> Result<&Arc<Groupware>, WebError> {
    app.groupware.as_ref().ok_or_else(|| WebError::Message {
        status: StatusCode::SERVICE_UNAVAILABLE,
        title: A(lang).get("ag.title").to_owned(),
        text: A(lang).get("ag.unavailable").to_owned(),
        link: "/courrier".into(),
        link_text: crate::base::i18n::Tr(lang).get("nav.mail").to_owned(),
    })
}

/// The reader's calendars (made on first use), in their order.
async fn calendars(gw: &Groupware, account: &Account) -> Result<Vec<Collection>, WebError> {
    let all = gw.collections(account.id).await.map_err(|e| internal(&e))?;
    Ok(all.into_iter().filter(|c| c.kind == CollectionKind::Calendar && c.components.contains("VEVENT")).collect())
}

/// A calendar the reader sees: one of their own, or one shared with them.
pub struct Visible {
    /// How links name it: the segment, or `<owner>~<segment>` when shared.
    pub key: String,
    /// Its name, with its owner's when shared.
    pub name: String,
    pub collection: Collection,
    /// `Write` for the reader's own.
    pub right: Right,
}

/// The reader's own calendars, then those shared with them.
async fn visible(gw: &Groupware, account: &Account) -> Result<Vec<Visible>, WebError> {
    let mut out: Vec<Visible> = calendars(gw, account)
        .await?
        .into_iter()
        .map(|c| Visible { key: c.segment.clone(), name: c.display_name.clone(), collection: c, right: Right::Write })
        .collect();
    for s in gw.shared_with(account.id, account.org_unit).await.map_err(|e| internal(&e))? {
        out.push(Visible {
            key: s.key(),
            name: format!("{} — {}", s.collection.display_name, s.owner_name),
            collection: s.collection,
            right: s.right,
        });
    }
    Ok(out)
}

/// The calendar a link names (`segment` or `<owner>~<segment>`), if the
/// reader may at least see its busy times; the 404 page otherwise.
async fn calendar(gw: &Groupware, account: &Account, key: &str, lang: Lang) -> Result<Visible, WebError> {
    let found = match sharing::split_key(key) {
        Some((owner, segment)) => {
            gw.shared_calendar(account.id, account.org_unit, owner, segment).await.map(|s| Visible {
                key: s.key(),
                name: format!("{} — {}", s.collection.display_name, s.owner_name),
                collection: s.collection,
                right: s.right,
            })
        }
        None => gw.collection(account.id, CollectionKind::Calendar, key).await.map(|c| Visible {
            key: c.segment.clone(),
            name: c.display_name.clone(),
            collection: c,
            right: Right::Write,
        }),
    };
    match found {
        Ok(v) => Ok(v),
        Err(groupware::Error::NotFound) => Err(not_found(lang)),
        Err(e) => Err(internal(&e)),
    }
}

/// The 403 page: a calendar shared read-only is not written to.
fn read_only(lang: Lang, back: &str) -> WebError {
    let a = A(lang);
    WebError::Message {
        status: StatusCode::FORBIDDEN,
        title: a.get("ag.title").to_owned(),
        text: a.get("ag.err.readonly").to_owned(),
        link: back.to_owned(),
        link_text: a.get("ag.back").to_owned(),
    }
}

fn internal(e: &groupware::Error) -> WebError {
    WebError::internal(e)
}

/// The Agenda's 404 page.
fn not_found(lang: Lang) -> WebError {
    let a = A(lang);
    WebError::Message {
        status: StatusCode::NOT_FOUND,
        title: crate::base::i18n::Tr(lang).get("notfound").to_owned(),
        text: a.get("ag.notfound").to_owned(),
        link: "/agenda".into(),
        link_text: a.get("ag.back").to_owned(),
    }
}

/// A refused form (400) with the domain's reason, and a link back.
fn refused(lang: Lang, text: &str, back: &str) -> WebError {
    let a = A(lang);
    WebError::Message {
        status: StatusCode::BAD_REQUEST,
        title: a.get("ag.title").to_owned(),
        text: text.to_owned(),
        link: back.to_owned(),
        link_text: a.get("ag.back").to_owned(),
    }
}

/// A domain error on an event as the reader is told it.
fn event_error(lang: Lang, e: groupware::Error, back: &str) -> WebError {
    let a = A(lang);
    match e {
        groupware::Error::NotFound => not_found(lang),
        groupware::Error::Invalid(why) => refused(lang, &format!("{} {why}", a.get("ag.err.invalid")), back),
        groupware::Error::PreconditionFailed => WebError::Message {
            status: StatusCode::CONFLICT,
            title: a.get("ag.title").to_owned(),
            text: a.get("ag.err.changed").to_owned(),
            link: back.to_owned(),
            link_text: a.get("ag.back").to_owned(),
        },
        groupware::Error::TooLarge(_) => refused(lang, a.get("ag.err.toolarge"), back),
        other => internal(&other),
    }
}

/// `s` percent-encoded for one path segment or query value.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn segments_are_encoded_whole() {
        assert_eq!(super::enc("a b/c?d&e=é.ics"), "a%20b%2Fc%3Fd%26e%3D%C3%A9.ics");
        assert_eq!(super::enc("1f2e-3c.ics"), "1f2e-3c.ics");
    }
}
