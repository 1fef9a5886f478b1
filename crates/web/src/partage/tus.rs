//! Resumable uploads: the tus 1.0.0 core protocol with the `creation` and
//! `termination` extensions (<https://tus.io/protocols/resumable-upload>),
//! for signed-in webmail users. docs/partage.md describes it for clients.
//!
//! Every request but OPTIONS needs the session cookie; those that change
//! something (POST, PATCH, DELETE) also need the page's CSRF token in an
//! `X-CSRF-Token` header, since a cross-site form could otherwise send them.
//! Another account's upload is answered exactly like one that does not
//! exist (404). Errors are short plain-text sentences, French then English.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use mailstore::Account;
use sharing::Error;

use crate::App;
use crate::base::session::Visitor;

const VERSION: &str = "1.0.0";
/// Where uploads live: the creation's `Location` is this plus the id.
pub const BASE: &str = "/partage/televersement/";

/// A signed-in user of the upload API (401 otherwise), with whether the
/// request carried the session's CSRF token.
pub struct Uploader {
    account: Account,
    csrf_ok: bool,
}

impl FromRequestParts<Arc<App>> for Uploader {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let v = Visitor::from_request_parts(parts, app).await.map_err(IntoResponse::into_response)?;
        let Some(account) = v.account().cloned() else {
            return Err(reply(StatusCode::UNAUTHORIZED, "Connexion requise / Login required"));
        };
        let token = parts.headers.get("x-csrf-token").and_then(|h| h.to_str().ok()).unwrap_or_default();
        let csrf_ok = v.csrf_ok(app, token);
        Ok(Uploader { account, csrf_ok })
    }
}

/// A tus answer: the status, `Tus-Resumable`, no caching, a sentence.
fn reply(status: StatusCode, text: &'static str) -> Response {
    let mut resp = (status, text).into_response();
    tus_headers(resp.headers_mut());
    resp
}

fn tus_headers(h: &mut HeaderMap) {
    h.insert("tus-resumable", HeaderValue::from_static(VERSION));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The checks every tus request shares: the protocol version, then the
/// CSRF token when the request changes something.
fn precheck(headers: &HeaderMap, who: &Uploader, changes: bool) -> Result<(), Box<Response>> {
    if headers.get("tus-resumable").is_none_or(|v| v != VERSION) {
        let mut resp = reply(StatusCode::PRECONDITION_FAILED, "Tus-Resumable: 1.0.0 attendu / expected");
        resp.headers_mut().insert("tus-version", HeaderValue::from_static(VERSION));
        return Err(Box::new(resp));
    }
    if changes && !who.csrf_ok {
        return Err(Box::new(reply(
            StatusCode::FORBIDDEN,
            "Jeton CSRF manquant ou invalide / Missing or invalid CSRF token",
        )));
    }
    Ok(())
}

/// A domain error as a tus answer.
fn refusal(e: Error) -> Response {
    match e {
        Error::NotFound => reply(StatusCode::NOT_FOUND, "Téléversement introuvable / Upload not found"),
        Error::Gone => reply(StatusCode::GONE, "Partage expiré ou révoqué / Share expired or revoked"),
        Error::TooLarge { .. } => reply(StatusCode::PAYLOAD_TOO_LARGE, "Fichier trop volumineux / File too large"),
        Error::TooLargeToScan { .. } => reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Fichier trop volumineux pour l'analyse antivirale / File too large for the virus scan",
        ),
        Error::Infected { .. } => reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            "L'antivirus a trouvé un virus dans ce fichier : il a été supprimé et ne sera pas partagé. / \
             The antivirus found a virus in this file: it was deleted and will not be shared.",
        ),
        Error::AwaitingScan(_) => {
            let mut resp = reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "Fichier reçu, en attente d'analyse antivirale (antivirus indisponible) : réessayez plus tard. / \
                 File received, awaiting the virus scan (antivirus unavailable): try again later.",
            );
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            resp
        }
        Error::OverQuota { .. } => {
            reply(StatusCode::PAYLOAD_TOO_LARGE, "Espace de partage insuffisant / Not enough sharing space left")
        }
        Error::BadOffset { .. } => {
            reply(StatusCode::CONFLICT, "Upload-Offset ne correspond pas / Upload-Offset does not match")
        }
        Error::TooLong { .. } => reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Plus d'octets que la longueur annoncée / More bytes than the announced length",
        ),
        Error::Busy => reply(StatusCode::LOCKED, "Téléversement déjà en cours / Upload already being written"),
        Error::Invalid(_) | Error::Password => reply(StatusCode::BAD_REQUEST, "Requête invalide / Invalid request"),
        Error::Throttled => reply(StatusCode::TOO_MANY_REQUESTS, "Trop d'essais / Too many attempts"),
        e @ (Error::Store(_) | Error::Io(_)) => {
            tracing::warn!(error = %e, "upload failed");
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "Erreur temporaire, reprenez plus tard / Temporary error, resume later",
            )
        }
    }
}

fn service(app: &App) -> Result<&sharing::Sharing, Box<Response>> {
    app.sharing
        .as_deref()
        .ok_or_else(|| Box::new(reply(StatusCode::SERVICE_UNAVAILABLE, "Partage indisponible / Sharing unavailable")))
}

/// A header read as a decimal number of bytes (digits only).
fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    let text = headers.get(name)?.to_str().ok()?;
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs; the keys we
/// read are `filename` and `partage` (the id of the share a new version is for).
fn metadata(headers: &HeaderMap) -> Option<(String, Option<i64>)> {
    let text = headers.get("upload-metadata")?.to_str().ok()?;
    let (mut name, mut share) = (None, None);
    for pair in text.split(',') {
        let mut parts = pair.trim().splitn(2, ' ');
        let key = parts.next()?;
        let value = parts.next().unwrap_or_default().trim();
        let decoded = base64::engine::general_purpose::STANDARD.decode(value).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        match key {
            "filename" => name = Some(decoded),
            "partage" => share = Some(decoded.parse().ok()?),
            _ => {}
        }
    }
    Some((name?, share))
}

/// `OPTIONS`: what this server supports.
pub async fn options(State(app): State<Arc<App>>) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    tus_headers(h);
    h.insert("tus-version", HeaderValue::from_static(VERSION));
    h.insert("tus-extension", HeaderValue::from_static("creation,termination"));
    if let Some(s) = &app.sharing {
        h.insert("tus-max-size", HeaderValue::from(s.settings().largest_file()));
    }
    resp
}

/// `POST`: creates an upload of `Upload-Length` bytes (201, `Location`).
pub async fn create(State(app): State<Arc<App>>, who: Uploader, headers: HeaderMap) -> Response {
    if let Err(r) = precheck(&headers, &who, true) {
        return *r;
    }
    let sharing = match service(&app) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if headers.contains_key("upload-defer-length") {
        return reply(StatusCode::BAD_REQUEST, "Upload-Defer-Length non pris en charge / not supported");
    }
    let Some(length) = number(&headers, "upload-length") else {
        return reply(StatusCode::BAD_REQUEST, "Upload-Length manquant ou invalide / missing or invalid");
    };
    let Some((name, share)) = metadata(&headers) else {
        return reply(StatusCode::BAD_REQUEST, "Upload-Metadata filename manquant / missing");
    };
    match sharing.create_upload(who.account.id, length, &name, share).await {
        Ok(id) => {
            let mut resp = StatusCode::CREATED.into_response();
            tus_headers(resp.headers_mut());
            if let Ok(loc) = HeaderValue::from_str(&format!("{BASE}{id}")) {
                resp.headers_mut().insert(header::LOCATION, loc);
            }
            resp.headers_mut().insert("upload-offset", HeaderValue::from(0u64));
            resp
        }
        Err(e) => refusal(e),
    }
}

/// `HEAD`: where the upload stands (`Upload-Offset`, `Upload-Length`).
pub async fn head(State(app): State<Arc<App>>, Path(id): Path<String>, who: Uploader, headers: HeaderMap) -> Response {
    if let Err(r) = precheck(&headers, &who, false) {
        return *r;
    }
    let sharing = match service(&app) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match sharing.upload_state(who.account.id, &id).await {
        Ok(state) => offsets(StatusCode::OK, &state),
        Err(e) => refusal(e),
    }
}

fn offsets(status: StatusCode, state: &sharing::UploadState) -> Response {
    let mut resp = status.into_response();
    let h = resp.headers_mut();
    tus_headers(h);
    h.insert("upload-offset", HeaderValue::from(state.offset));
    h.insert("upload-length", HeaderValue::from(state.length));
    resp
}

/// `PATCH`: appends the body at `Upload-Offset` (204 with the new offset).
/// The last byte has the antivirus scan the file when there is one: a virus
/// is a 422 (the upload is gone), an antivirus that cannot answer a 503 with
/// `Retry-After` (every byte is kept: an empty PATCH at the end, or sharing
/// the upload, asks again).
pub async fn patch(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    who: Uploader,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(r) = precheck(&headers, &who, true) {
        return *r;
    }
    let sharing = match service(&app) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if headers.get(header::CONTENT_TYPE).is_none_or(|t| t != "application/offset+octet-stream") {
        return reply(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type: application/offset+octet-stream attendu / expected",
        );
    }
    let Some(offset) = number(&headers, "upload-offset") else {
        return reply(StatusCode::BAD_REQUEST, "Upload-Offset manquant ou invalide / missing or invalid");
    };
    match sharing.append(who.account.id, &id, offset, body.into_data_stream()).await {
        Ok(state) => offsets(StatusCode::NO_CONTENT, &state),
        Err(e) => refusal(e),
    }
}

/// `DELETE`: abandons the upload (termination).
pub async fn delete(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    who: Uploader,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = precheck(&headers, &who, true) {
        return *r;
    }
    let sharing = match service(&app) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match sharing.cancel_upload(who.account.id, &id).await {
        Ok(()) => reply(StatusCode::NO_CONTENT, ""),
        Err(e) => refusal(e),
    }
}
