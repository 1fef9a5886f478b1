//! Calendars shared with the logged-in account, served in its own calendar
//! home as `/dav/calendars/<sharee>/<owner>~<segment>/` (listed there at
//! Depth 1). A `read` share answers every read and refuses every write
//! with 403, and says so in `current-user-privilege-set`; a `write` share
//! takes objects but not changes of the calendar itself (properties,
//! deletion). Calendars shared for free/busy only, and those not shared,
//! stay a 404 like anything else that is not the account's.

use axum::http::StatusCode;
use groupware::Shared;
use groupware::sharing::split_key;

use crate::Req;
use crate::error::DavError;
use crate::path::Target;

/// `s` as the sharee's home lists it: its segment is `<owner>~<segment>`.
pub(crate) fn presented(mut s: Shared) -> Shared {
    s.collection.segment = s.key();
    s
}

/// The shared calendar a target names, if any.
pub(crate) fn shared_of<'a>(req: &'a Req<'_>) -> Option<&'a Shared> {
    let segment = match &req.target {
        Target::Collection(_, _, segment) | Target::Object(_, _, segment, _) => segment,
        _ => return None,
    };
    split_key(segment)?;
    req.shared.iter().find(|s| s.collection.segment == *segment)
}

/// 403 for what a share does not allow; anything else goes on (a name that
/// is not shared is the method's own 404).
pub(crate) fn guard(req: &Req<'_>, method: &str) -> Result<(), DavError> {
    let Some(shared) = shared_of(req) else { return Ok(()) };
    let on_object = matches!(req.target, Target::Object(..));
    let allowed = match method {
        "PROPFIND" | "GET" | "HEAD" | "REPORT" | "OPTIONS" => true,
        "PUT" | "DELETE" if on_object => shared.right.can_write(),
        _ => false,
    };
    if allowed { Ok(()) } else { Err(DavError::Status(StatusCode::FORBIDDEN)) }
}
