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

/// The outbox's segment under the calendar home.
pub const OUTBOX: &str = "outbox";

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
