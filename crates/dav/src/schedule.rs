//! The scheduling outbox (RFC 6638 section 5): a VFREEBUSY REQUEST POSTed to
//! `/dav/calendars/<address>/outbox/` is answered with one `<c:response>`
//! per attendee: the busy periods of the académie's accounts (never a
//! title), `3.7` for anyone else. Invitations themselves need no POST: they
//! are scheduled when an event is stored (`groupware::scheduling`).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use groupware::CollectionKind;
use groupware::scheduling::freebusy;

use crate::error::DavError;
use crate::path::Target;
use crate::xml::write::{href, text};
use crate::{MAX_XML_BODY, Req, read_body};

/// The outbox's segment under the calendar home (`crate::mailbox`).
pub const OUTBOX: &str = "outbox";

/// The Schedule-Tag of a calendar object's text, if it is a scheduling object.
pub(crate) fn tag_of(content: &str) -> Option<String> {
    groupware::scheduling::schedule_tag(content)
}

/// Adds `Schedule-Tag` to a GET or PUT answer when `content` is a scheduling object.
pub(crate) fn tag_header(resp: &mut Response, content: &str) {
    if let Some(v) = tag_of(content).and_then(|t| HeaderValue::from_str(&format!("\"{t}\"")).ok()) {
        resp.headers_mut().insert("Schedule-Tag", v);
    }
}

/// `If-Schedule-Tag-Match` (RFC 6638 section 8.3): when given, the object
/// `name` must exist and carry that tag, or 412. Gives the object's etag
/// then, so that the write can be made on that very version.
pub(crate) async fn check_tag(
    req: &Req<'_>,
    c: &groupware::Collection,
    name: &str,
) -> Result<Option<String>, DavError> {
    let Some(v) = req.headers.get("If-Schedule-Tag-Match") else { return Ok(None) };
    let wanted = v.to_str().map_err(|_| DavError::BadRequest("en-tête If-Schedule-Tag-Match invalide".into()))?;
    let wanted = wanted.trim().trim_matches('"');
    let failed = || DavError::Status(StatusCode::PRECONDITION_FAILED);
    let current = req.dav.groupware.get(c, name).await.map_err(|_| failed())?;
    if tag_of(&current.content).as_deref() != Some(wanted) {
        return Err(failed());
    }
    Ok(Some(current.etag))
}

pub(crate) async fn post(req: &Req<'_>, body: Body) -> Result<Response, DavError> {
    match &req.target {
        Target::Collection(CollectionKind::Calendar, _, segment) if segment == OUTBOX => {}
        _ => return Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED)),
    }
    let domain = |e| DavError::Domain(e, CollectionKind::Calendar);
    let bytes = read_body(body, MAX_XML_BODY).await?.ok_or_else(|| DavError::BadRequest("corps vide".into()))?;
    let request_text = std::str::from_utf8(&bytes).map_err(|_| DavError::BadRequest("texte UTF-8 attendu".into()))?;
    let request = freebusy::read_request(request_text).map_err(domain)?;
    let who = crate::methods::principal(req);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <c:schedule-response xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">",
    );
    for attendee in &request.attendees {
        out.push_str("<c:response><c:recipient>");
        out.push_str(&href(&format!("mailto:{attendee}")));
        out.push_str("</c:recipient>");
        match req.dav.groupware.free_busy(&who, attendee, request.start, request.end).await {
            Ok(Some(busy)) => {
                out.push_str("<c:request-status>2.0;Success</c:request-status><c:calendar-data>");
                out.push_str(&text(&freebusy::reply(&request, attendee, &busy)));
                out.push_str("</c:calendar-data>");
            }
            Ok(None) => out.push_str("<c:request-status>3.7;Invalid calendar user</c:request-status>"),
            Err(e) => {
                tracing::warn!(error = %e, "free/busy look-up failed");
                out.push_str("<c:request-status>5.1;Service unavailable</c:request-status>");
            }
        }
        out.push_str("</c:response>");
    }
    out.push_str("</c:schedule-response>");
    let mut resp = (StatusCode::OK, out).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"));
    Ok(resp)
}
