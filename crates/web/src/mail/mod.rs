//! The webmail's first slice: folders, the message list, reading, simple
//! actions (read/unread, flag, delete to Corbeille, move, new folder),
//! writing (new message and reply, with attachments) and search in a folder.
//!
//! Everything is a plain link or form: no script is needed. Mail content is
//! never trusted: HTML bodies are cleaned with ammonia ([`sanitize`]) and
//! shown in a sandboxed frame served by a route of its own, outside the
//! site-wide security headers, with a CSP that allows only one script of
//! ours (a fresh nonce; it posts the mail's height) in an opaque-origin
//! sandbox ([`read::frame`]). Message lists are read by UID windows from the newest
//! ([`list`]), so a 100,000-message folder costs the same as a small one.
//!
//! Sending goes through [`Outbox`], which the binary implements with the
//! submission pipeline (the same sender checks and hourly limits as SMTP
//! submission); this crate never sees the transfer service itself.

mod actions;
mod archiving;
mod attached;
mod autocomplete;
mod compose;
mod compose_form;
mod delegation;
mod deleted;
mod drafts;
pub mod events;
mod export;
mod folder_admin;
pub(crate) mod folders;
mod ics;
mod identities;
mod invitation;
mod lecture;
mod links;
mod list;
mod list_archive;
mod list_post;
mod mime;
mod moderation;
mod prefill;
mod read;
mod reading;
mod rules;
pub mod sanitize;
mod search;
mod sending;
mod settings;
mod shortcuts;
mod sorting;
mod space;
mod texts;
mod undo;
mod wtexts;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use mailstore::{Account, Mailbox};
use model::Address;
use serde::de::DeserializeOwned;

use crate::App;
use crate::base::assets::Asset;
use crate::base::i18n::{Lang, Tr};
use crate::base::session::Visitor;
use crate::base::{Common, HasCsrf, SignedForm, SignedIn, WebError, chrome};
pub use sending::send_delayed;
pub use texts::M;

const CSS: &str = concat!(
    include_str!("../../static/courrier.css"),
    include_str!("../../static/courrier-live.css"),
    include_str!("../../static/courrier-writing.css"),
    include_str!("../../static/courrier-reading.css"),
    include_str!("../../static/courrier-volet.css")
);
/// The webmail's script: live updates, shortcuts, drag and drop (`courrier.js`).
const JS: &str = include_str!("../../static/courrier.js");
/// The composer's enhancements (automatic draft saving, recipient
/// suggestions, rich text, signatures): the page works without it.
const COMPOSE_JS: &str = include_str!("../../static/compose.js");
/// Largest request the composer accepts (text and attachments, before encoding).
pub const MAX_UPLOAD: usize = 20 << 20;

/// Why the submission pipeline refused a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendRefusal {
    /// The sender address is not the user's.
    ForgedSender(String),
    /// A local address that does not exist.
    UnknownRecipient(String),
    /// The hourly allowance is used up (the text says which).
    RateLimited(String),
    /// Try again later.
    Temporary,
    /// Refused for good, with the reason.
    Permanent(String),
}

/// A future returned by [`Outbox::send`].
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SendRefusal>> + Send + 'a>>;

/// The submission pipeline, as the webmail sees it.
pub trait Outbox: Send + Sync {
    /// Checks, signs, delivers and queues `message` from `account` (its own
    /// address as envelope sender) to `recipients`; returns once durable.
    fn send<'a>(&'a self, account: &'a Account, recipients: &'a [Address], message: Vec<u8>) -> SendFuture<'a>;
}

/// The webmail's routes that get the site-wide security headers.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/courrier", get(list::inbox))
        .route("/courrier/ecrire", get(compose::page))
        .route("/courrier/envoyer", post(compose::send).layer(DefaultBodyLimit::max(MAX_UPLOAD + (1 << 20))))
        .route("/courrier/dossiers", post(folder_admin::create_folder))
        .route("/courrier/recherche", get(search::page))
        .route("/courrier/evenements", get(events::stream))
        .route("/courrier/raccourcis", get(shortcuts::page))
        .route("/courrier/supprimes", get(deleted::page).post(deleted::restore))
        .route("/courrier/annuler", post(actions::undo_last))
        .route("/courrier/envoi/{id}", get(sending::pending))
        .route("/courrier/envoi/{id}/annuler", post(sending::cancel))
        .route("/courrier/destinataires", get(autocomplete::suggest))
        .route("/courrier/moderation", get(moderation::page))
        .route("/courrier/moderation/{id}", get(moderation::post).post(moderation::decide))
        .route("/listes/{address}/archives", get(list_archive::page))
        .route("/listes/{address}/archives/{id}", get(list_archive::post))
        .route("/courrier/reglages/identites", get(identities::page).post(identities::save))
        .route("/courrier/reglages/archivage", get(archiving::page).post(archiving::save))
        .route("/courrier/reglages/delegations", get(delegation::page).post(delegation::save))
        .route("/courrier/reglages/lecture", get(lecture::page).post(lecture::save))
        .route("/courrier/reglages/export", get(export::page).post(export::start))
        .route("/courrier/reglages/export/{token}", get(export::download))
        .route("/courrier/reglages", get(settings::page).post(settings::save))
        .route("/courrier/reglages/espace", post(space::ask))
        .route("/courrier/reglages/filtres", get(rules::page).post(rules::act))
        .route("/courrier/reglages/filtres/regle", get(rules::edit).post(rules::save))
        .route("/courrier/{mailbox}", get(list::folder))
        .route("/courrier/{mailbox}/lot", post(actions::bulk))
        .route("/courrier/{mailbox}/renommer", get(folder_admin::rename_page).post(folder_admin::rename))
        .route("/courrier/{mailbox}/supprimer", get(folder_admin::delete_page).post(folder_admin::delete))
        .route("/courrier/{mailbox}/vider", get(folder_admin::empty_page).post(folder_admin::empty))
        .route("/courrier/{mailbox}/{uid}", get(read::page).post(actions::act))
        .route("/courrier/{mailbox}/{uid}/pj/{n}", get(read::attachment))
        .route("/courrier/{mailbox}/{uid}/joint/{chain}", get(attached::page))
        .route("/courrier/{mailbox}/{uid}/joint/{chain}/pj/{n}", get(attached::attachment))
        .route("/courrier/{mailbox}/{uid}/source", get(read::source))
        .route("/courrier/{mailbox}/{uid}/confiance", post(reading::trust))
        .route("/courrier/{mailbox}/{uid}/invitation", post(invitation::answer))
        .route("/static/courrier.css", get(css))
        .route("/static/courrier.js", get(js))
        .route("/static/compose.js", get(compose_js))
}

/// The routes that set their own headers: the frame showing an HTML body
/// needs a CSP of its own and may be framed by our pages.
pub fn framed_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/courrier/{mailbox}/{uid}/contenu", get(read::frame))
        .route("/courrier/{mailbox}/{uid}/apercu/{n}", get(reading::preview))
        .route("/courrier/{mailbox}/{uid}/joint/{chain}/contenu", get(attached::frame))
        .route("/courrier/moderation/{id}/contenu", get(moderation::frame))
        .route("/listes/{address}/archives/{id}/contenu", get(list_archive::frame))
}

static CSS_ASSET: Asset = Asset::new(CSS, "text/css; charset=utf-8");
static JS_ASSET: Asset = Asset::new(JS, "text/javascript; charset=utf-8");
static COMPOSE_JS_ASSET: Asset = Asset::new(COMPOSE_JS, "text/javascript; charset=utf-8");

async fn css(headers: HeaderMap) -> Response {
    CSS_ASSET.respond(&headers)
}

async fn js(headers: HeaderMap) -> Response {
    JS_ASSET.respond(&headers)
}

async fn compose_js(headers: HeaderMap) -> Response {
    COMPOSE_JS_ASSET.respond(&headers)
}

/// A signed-in visitor of the webmail, with the layout's theme and banner
/// loaded; signed out, the answer is the login page.
pub struct Reader {
    pub v: Visitor,
    pub account: Account,
}

impl FromRequestParts<Arc<App>> for Reader {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let SignedIn { mut v, account } = SignedIn::from_request_parts(parts, app).await?;
        chrome::load(app, &account, &mut v.chrome).await;
        Ok(Reader { v, account })
    }
}

/// A webmail form posted by a signed-in visitor with a valid CSRF token
/// (403 otherwise), the layout loaded as for [`Reader`].
pub struct ReaderForm<T> {
    pub v: Visitor,
    pub account: Account,
    pub form: T,
}

impl<T> FromRequest<Arc<App>> for ReaderForm<T>
where
    T: DeserializeOwned + HasCsrf + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let SignedForm { mut v, account, form } = SignedForm::<T>::from_request(req, app).await?;
        chrome::load(app, &account, &mut v.chrome).await;
        Ok(ReaderForm { v, account, form })
    }
}

/// The mailbox `id` when it belongs to `account`.
async fn own_mailbox(app: &App, account: &Account, id: i64) -> Result<Option<Mailbox>, mailstore::Error> {
    app.ms.mailbox(account.id, id).await
}

/// The mailbox `id` of `account`, or the 404 page: another account's folder
/// is answered exactly like one that does not exist.
async fn owned(app: &App, account: &Account, id: i64, lang: Lang) -> Result<Mailbox, WebError> {
    own_mailbox(app, account, id).await?.ok_or_else(|| not_found(lang))
}

/// The mailbox `id` as the reader reaches it: theirs, or another account's
/// shared with them that they may read (`l` and `r`); otherwise the 404
/// page, the same as for a folder that does not exist. What they may do
/// with it is in [`mailstore::Reached::rights`], and every action asks the
/// domain again ([`mailstore::Mailstore::flags_as`] and the others).
async fn reached(app: &App, account: &Account, id: i64, lang: Lang) -> Result<mailstore::Reached, WebError> {
    match app.ms.reach(account.id, id).await? {
        Some(r) if r.rights.contains(model::Rights::READ) => Ok(r),
        _ => Err(not_found(lang)),
    }
}

/// The page refusing an action the reader's rights on a shared folder do
/// not allow (403): the domain said no, whatever the page offered.
pub(crate) fn denied(lang: Lang, back: &str) -> WebError {
    let m = M(lang);
    WebError::Message {
        status: StatusCode::FORBIDDEN,
        title: m.get("mail.title").to_owned(),
        text: m.get("deleg.denied").to_owned(),
        link: back.to_owned(),
        link_text: m.get("mail.back").to_owned(),
    }
}

/// Whether a failure is the domain refusing for want of a right.
pub(crate) fn is_denied(e: &(dyn std::error::Error + 'static)) -> bool {
    matches!(e.downcast_ref::<mailstore::Error>(), Some(mailstore::Error::Denied(_)))
}

/// The 404 page of the webmail, in the visitor's language.
pub(crate) fn not_found(lang: Lang) -> WebError {
    let m = M(lang);
    WebError::Message {
        status: StatusCode::NOT_FOUND,
        title: Tr(lang).get("notfound").to_owned(),
        text: m.get("mail.notfound").to_owned(),
        link: "/courrier".into(),
        link_text: m.get("mail.title").to_owned(),
    }
}

/// Common data of a webmail page, titled with a webmail text.
pub(crate) fn common(app: &App, v: &mut Visitor, title: &str) -> Common {
    let mut c = Common::new(app, v, "home.title");
    c.title = title.to_owned();
    c
}

/// A page saying what went wrong, with a link back (400).
pub(crate) fn refused(lang: Lang, text: &str, back: &str) -> WebError {
    let m = M(lang);
    WebError::Message {
        status: StatusCode::BAD_REQUEST,
        title: m.get("mail.title").to_owned(),
        text: text.to_owned(),
        link: back.to_owned(),
        link_text: m.get("mail.back").to_owned(),
    }
}
