//! CalDAV (RFC 4791) and CardDAV (RFC 6352) over WebDAV (RFC 4918), with
//! collection sync (RFC 6578) and discovery by `/.well-known/` (RFC 6764).
//!
//! [`router`] is an axum `Router` the binary serves next to the web's, but
//! outside its layers: DAV clients log in with HTTP Basic on every request
//! ([`auth`], through `Identity::login` with the `dav` protocol), no cookie,
//! no CSRF token. Paths are described in [`path`]; a path naming another
//! account is a 404 on every method, whatever exists there. Request bodies
//! are read whole up to a cap, then parsed by the bounded reader of
//! [`xml::read`] (no DOCTYPE, depth and element caps). The methods live in
//! `methods`, the reports in `report`, the properties in `props`, and
//! `error` is the one place where errors become statuses and `<d:error>`
//! bodies. `annuaire` serves the académie directory (from `identity`) as a
//! read-only address book; `mailbox` the scheduling inbox and outbox, and
//! `schedule` the outbox's free/busy POST and the Schedule-Tag. Everything else is the `groupware` domain's.

mod annuaire;
pub mod auth;
mod error;
mod mailbox;
mod methods;
pub mod path;
mod props;
mod report;
mod schedule;
mod sharing;
pub mod xml;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use groupware::Groupware;
use identity::{Account, Identity};

pub use auth::ClientAddr;
use error::DavError;
use path::Target;

/// Largest PROPFIND, PROPPATCH, MKCOL or REPORT body read.
pub const MAX_XML_BODY: usize = 1 << 20;
/// The methods of `Allow`.
const ALLOW: &str = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, MKCALENDAR, REPORT, POST";
/// The compliance classes of `DAV` (RFC 4918 section 18, RFC 4791, RFC 6352, RFC 5689).
const COMPLIANCE: &str = "1, 3, calendar-access, calendar-auto-schedule, addressbook, extended-mkcol";

/// What the DAV service is wired to.
pub struct Dav {
    pub groupware: Arc<Groupware>,
    pub identity: Arc<Identity>,
    wide: Turns,
}

impl Dav {
    /// At most two reports or listings (REPORT, PROPFIND Depth 1) per core
    /// are worked on at once: see [`Turns`].
    pub fn new(groupware: Arc<Groupware>, identity: Arc<Identity>) -> Dav {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Dav { groupware, identity, wide: Turns::new(2 * cores) }
    }

    /// Waits for a turn when `wide` (a report, a listing of a collection).
    pub(crate) async fn turn(&self, wide: bool) -> Turn<'_> {
        self.wide.take(wide).await
    }
}

/// Turns for the requests that read and answer many objects at once. Each
/// reads its objects and builds its answer in memory: R10's 20 clients asking
/// for a month of 5,000 events each held about 80 MiB together on two cores,
/// which work on no more than two at a time anyway. The others wait for a
/// turn with their request already read (a client trickling its body holds
/// none).
pub(crate) struct Turns(tokio::sync::Semaphore);

/// A turn; given back when dropped. `None` for a narrow request.
pub(crate) type Turn<'a> = Option<tokio::sync::SemaphorePermit<'a>>;

impl Turns {
    pub(crate) fn new(at_once: usize) -> Turns {
        Turns(tokio::sync::Semaphore::new(at_once.max(1)))
    }

    pub(crate) async fn take(&self, wide: bool) -> Turn<'_> {
        if !wide {
            return None;
        }
        // The semaphore is never closed: `acquire` cannot fail.
        self.0.acquire().await.ok()
    }
}

/// The routes: `/dav/...` and the two well-known redirections.
pub fn router(dav: Arc<Dav>) -> Router {
    Router::new()
        .route("/.well-known/caldav", any(well_known))
        .route("/.well-known/carddav", any(well_known))
        .route("/dav", any(handle))
        .route("/dav/", any(handle))
        .route("/dav/{*rest}", any(handle))
        .with_state(dav)
}

/// RFC 6764 section 5: the context path, by a permanent redirection that
/// keeps the method (PROPFIND stays PROPFIND).
async fn well_known() -> Response {
    let mut resp = StatusCode::MOVED_PERMANENTLY.into_response();
    resp.headers_mut().insert(header::LOCATION, HeaderValue::from_static(path::ROOT));
    resp
}

/// One request, logged in, its path read.
pub(crate) struct Req<'a> {
    pub dav: &'a Dav,
    pub account: &'a Account,
    pub target: Target,
    pub headers: HeaderMap,
    /// Calendars shared with the account that it may read (free/busy-only
    /// shares are not served over DAV), named `<owner>~<segment>`.
    pub shared: Vec<groupware::Shared>,
}

async fn handle(State(dav): State<Arc<Dav>>, req: Request) -> Response {
    let mut resp = answer(&dav, req).await;
    // Objects are the users' texts: never sniffed, never run as a page of this origin.
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    resp
}

async fn answer(dav: &Dav, req: Request) -> Response {
    if req.method() == Method::OPTIONS {
        return options();
    }
    let peer = req.extensions().get::<ClientAddr>().copied();
    let account = match auth::authenticate(&dav.identity, req.headers(), peer).await {
        Ok(account) => account,
        Err(resp) => return resp,
    };
    let (parts, body) = req.into_parts();
    let Some(target) = path::parse(parts.uri.path()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Another account's space: nothing there is ours to show, not even whether it exists.
    if target.user().is_some_and(|u| !u.eq_ignore_ascii_case(&account.address.to_string())) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let shared = match &target {
        Target::Home(groupware::CollectionKind::Calendar, _)
        | Target::Collection(groupware::CollectionKind::Calendar, ..)
        | Target::Object(groupware::CollectionKind::Calendar, ..) => {
            match dav.groupware.shared_with(account.id, account.org_unit).await {
                Ok(all) => all.into_iter().filter(|s| s.right.can_read()).map(sharing::presented).collect(),
                Err(e) => return DavError::Domain(e, groupware::CollectionKind::Calendar).into_response(),
            }
        }
        _ => Vec::new(),
    };
    let req = Req { dav, account: &account, target, headers: parts.headers, shared };
    let result = if annuaire::is_directory(&req.target) {
        annuaire::handle(&req, parts.method.as_str(), body).await
    } else if mailbox::is_mailbox(&req.target) {
        mailbox::handle(&req, parts.method.as_str(), body).await
    } else if let Err(refused) = sharing::guard(&req, parts.method.as_str()) {
        Err(refused)
    } else {
        personal(&req, parts.method.as_str(), body).await
    };
    let mut resp = result.unwrap_or_else(IntoResponse::into_response);
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    }
    resp
}

/// A method on the account's own calendars and address books, or on a
/// calendar shared with it (`sharing::guard` has checked the right).
async fn personal(req: &Req<'_>, method: &str, body: Body) -> Result<Response, DavError> {
    match method {
        "PROPFIND" => methods::propfind(req, body).await,
        "PROPPATCH" => methods::proppatch(req, body).await,
        "MKCALENDAR" => methods::mkcalendar(req, body).await,
        "MKCOL" => methods::mkcol(req, body).await,
        "GET" => methods::get(req).await,
        "HEAD" => methods::get(req).await.map(|mut r| {
            *r.body_mut() = Body::empty();
            r
        }),
        "PUT" => methods::put(req, body).await,
        "DELETE" => methods::delete(req).await,
        "REPORT" => report::report(req, body).await,
        "POST" => schedule::post(req, body).await,
        _ => Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED)),
    }
}

/// OPTIONS needs no login: it says what the server speaks, nothing more.
fn options() -> Response {
    let mut resp = StatusCode::OK.into_response();
    let h = resp.headers_mut();
    h.insert("DAV", HeaderValue::from_static(COMPLIANCE));
    h.insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    resp
}

/// A 207 with its XML body.
pub(crate) fn multistatus(body: String) -> Response {
    let mut resp = (StatusCode::MULTI_STATUS, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"));
    resp
}

/// Reads a body up to `limit` bytes; `None` when it is empty.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Option<bytes::Bytes>, DavError> {
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| DavError::Status(StatusCode::PAYLOAD_TOO_LARGE))?;
    Ok((!bytes.iter().all(u8::is_ascii_whitespace)).then_some(bytes))
}

/// Reads an XML body (`None` when empty).
pub(crate) async fn read_xml(body: Body) -> Result<Option<xml::Element>, DavError> {
    match read_body(body, MAX_XML_BODY).await? {
        Some(bytes) => Ok(Some(xml::parse(&bytes)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests;
