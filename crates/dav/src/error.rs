//! Where errors become DAV answers, and nowhere else: a status, and for a
//! failed precondition the `<d:error>` body naming it (RFC 4918 section 16)
//! with a short French reason.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use groupware::CollectionKind;
use model::{ErrorKind, Transience};

use crate::xml::write::text;
use crate::xml::{CALDAV, CARDDAV, DAV, XmlError};

/// Our namespace, for the reason added to error bodies.
const ARDOISE: &str = "urn:ardoise:dav";

/// What a request ends with when it fails.
#[derive(Debug)]
pub enum DavError {
    /// A bare status (404, 405, 415...).
    Status(StatusCode),
    /// A failed precondition or postcondition: `{ns}name` in the body.
    Condition { status: StatusCode, ns: &'static str, name: &'static str, reason: Option<String> },
    /// The request body is not acceptable.
    BadRequest(String),
    /// A groupware error, for a collection of that kind.
    Domain(groupware::Error, CollectionKind),
}

impl DavError {
    pub fn not_found() -> DavError {
        DavError::Status(StatusCode::NOT_FOUND)
    }

    pub fn forbidden(ns: &'static str, name: &'static str) -> DavError {
        DavError::Condition { status: StatusCode::FORBIDDEN, ns, name, reason: None }
    }
}

impl From<XmlError> for DavError {
    fn from(e: XmlError) -> DavError {
        DavError::BadRequest(e.to_string())
    }
}

impl IntoResponse for DavError {
    fn into_response(self) -> Response {
        match self {
            DavError::Status(status) => status.into_response(),
            DavError::BadRequest(why) => (StatusCode::BAD_REQUEST, why).into_response(),
            DavError::Condition { status, ns, name, reason } => condition(status, ns, name, reason.as_deref()),
            DavError::Domain(e, kind) => domain(e, kind),
        }
    }
}

fn domain(e: groupware::Error, kind: CollectionKind) -> Response {
    use groupware::Error as E;
    let (data_ns, valid_data) = match kind {
        CollectionKind::Calendar => (CALDAV, "valid-calendar-data"),
        CollectionKind::AddressBook => (CARDDAV, "valid-address-data"),
    };
    match e {
        E::NotFound => StatusCode::NOT_FOUND.into_response(),
        E::Exists => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        E::PreconditionFailed => StatusCode::PRECONDITION_FAILED.into_response(),
        E::Invalid(why) => condition(StatusCode::FORBIDDEN, data_ns, valid_data, Some(&why)),
        E::UidConflict(other) => {
            condition(StatusCode::CONFLICT, data_ns, "no-uid-conflict", Some(&format!("UID déjà utilisé par {other}")))
        }
        E::UnsupportedComponent(c) => condition(
            StatusCode::FORBIDDEN,
            CALDAV,
            "supported-calendar-component",
            Some(&format!("composant {c} non accepté par cet agenda")),
        ),
        E::TooLarge(max) => condition(
            StatusCode::PAYLOAD_TOO_LARGE,
            data_ns,
            "max-resource-size",
            Some(&format!("plus de {max} octets")),
        ),
        E::TooManyCollections => condition(
            StatusCode::INSUFFICIENT_STORAGE,
            DAV,
            "quota-not-exceeded",
            Some("nombre maximal de collections atteint"),
        ),
        E::InvalidSyncToken => condition(StatusCode::FORBIDDEN, DAV, "valid-sync-token", None),
        E::Store(ref inner) => {
            tracing::warn!(error = %inner, "dav: store error");
            let status = match e.transience() {
                Transience::Temporary => StatusCode::SERVICE_UNAVAILABLE,
                Transience::Permanent => StatusCode::INTERNAL_SERVER_ERROR,
            };
            status.into_response()
        }
    }
}

/// A `<d:error>` body naming the condition.
fn condition(status: StatusCode, ns: &str, name: &str, reason: Option<&str>) -> Response {
    let prefix = match ns {
        CALDAV => "c",
        CARDDAV => "card",
        _ => "d",
    };
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"{DAV}\" xmlns:c=\"{CALDAV}\" \
         xmlns:card=\"{CARDDAV}\" xmlns:a=\"{ARDOISE}\"><{prefix}:{name}/>"
    );
    if let Some(reason) = reason {
        body.push_str(&format!("<a:reason>{}</a:reason>", text(reason)));
    }
    body.push_str("</d:error>\n");
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"));
    resp
}
