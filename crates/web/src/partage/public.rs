//! The link anyone may open, without an account: `/partage/<token>` shows
//! the document (or asks for the link's password) and `/partage/<token>/fichier`
//! sends it, with HTTP range requests (206, so `curl -C -` and browsers
//! resume), a clean file name (RFC 6266 `filename*`), `nosniff`, and
//! `application/octet-stream` unless the type is a safe one.
//!
//! An unknown link is a 404 and counts against the visitor's address (the
//! domain's throttle: 429 past the limit); a revoked or expired one is a 410.
//! A password, once given, yields a download address signed with the web key
//! for a few hours (`?cle=`), which works with any client.

use std::io::{Read, Seek, SeekFrom};
use std::net::IpAddr;
use std::sync::Arc;

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sharing::{Error, Link};

use crate::App;
use crate::base::extract::{CsrfForm, has_csrf};
use crate::base::session::{Visitor, unix_now};
use crate::base::{Common, WebError, render};
use crate::mail::M;

/// How long a download address unlocked by the password works.
const UNLOCKED_SECS: i64 = 6 * 3600;
/// Bytes read from the file per piece sent.
const PIECE: usize = 256 * 1024;

#[derive(Template)]
#[template(path = "partage/public.html")]
struct PublicPage {
    c: Common,
    m: M,
    name: String,
    size: String,
    version: i64,
    until: String,
    /// Empty while the password is needed.
    download: String,
    token: String,
    wrong: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct UnlockForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub password: String,
}

has_csrf!(UnlockForm);

#[derive(Debug, Default, Deserialize)]
pub struct FileQuery {
    /// A version number (default: the latest).
    pub v: Option<i64>,
    pub cle: Option<String>,
    pub exp: Option<i64>,
}

/// The page of one word when a link does not answer.
fn closed(app: &App, v: &mut Visitor, e: Error) -> Result<Response, WebError> {
    let m = M(v.lang);
    let (status, text) = match e {
        // The site's own 404 page: a link that never existed looks like any unknown path.
        Error::NotFound => return Err(WebError::not_found(v.lang)),
        Error::Gone => (StatusCode::GONE, m.get("par.public.gone")),
        Error::Throttled => (StatusCode::TOO_MANY_REQUESTS, m.get("par.public.throttled")),
        other => return Err(WebError::internal(&other)),
    };
    let page = crate::base::page::MessagePage {
        c: Common::new(app, v, "home.title"),
        heading: m.get("par.public.title").to_owned(),
        text: text.to_owned(),
        link: "/".into(),
        link_text: "Ardoise".into(),
    };
    Ok(render(v, status, &page))
}

/// The signature of a download address unlocked until `exp`.
fn key(app: &App, token: &str, exp: i64) -> String {
    let message = format!("partage\0{token}\0{exp}");
    blake3::keyed_hash(&app.cfg.secret, message.as_bytes()).to_hex().to_string()
}

fn key_ok(app: &App, token: &str, q: &FileQuery) -> bool {
    let (Some(given), Some(exp)) = (&q.cle, q.exp) else { return false };
    if exp < unix_now() {
        return false;
    }
    let expected = key(app, token, exp);
    expected.len() == given.len() && bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), given.as_bytes()))
}

/// The link's page; `token` is the one visited (the share's, or a
/// recipient's own, which the password form keeps).
async fn show(app: &App, mut v: Visitor, link: &Link, token: &str, download: String, wrong: bool) -> Response {
    let m = M(v.lang);
    let latest = link.latest();
    let mut c = Common::new(app, &mut v, "home.title");
    c.title = m.get("par.public.title").to_owned();
    let page = PublicPage {
        c,
        m,
        name: latest.filename.clone(),
        size: super::human(latest.size as u64),
        version: latest.version,
        until: app.cfg.clock.full(link.share.expires_at),
        download,
        token: token.to_owned(),
        wrong,
    };
    let status = if wrong { StatusCode::FORBIDDEN } else { StatusCode::OK };
    let mut resp = render(&v, status, &page);
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn service(app: &App, lang: crate::base::i18n::Lang) -> Result<&sharing::Sharing, WebError> {
    app.sharing.as_deref().ok_or_else(|| WebError::not_found(lang))
}

/// `GET /partage/<token>`.
pub async fn page(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
    mut v: Visitor,
) -> Result<Response, WebError> {
    let sharing = service(&app, v.lang)?;
    let link = match sharing.open_link(&token, v.ip).await {
        Ok(l) => l,
        Err(e) => return closed(&app, &mut v, e),
    };
    let download = if link.needs_password() { String::new() } else { format!("/partage/{token}/fichier") };
    Ok(show(&app, v, &link, &token, download, false).await)
}

/// `POST /partage/<token>`: the password; right, the page with a signed
/// download address; wrong, the form again (403), slowed down per address.
pub async fn unlock(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
    CsrfForm { mut v, form }: CsrfForm<UnlockForm>,
) -> Result<Response, WebError> {
    let sharing = service(&app, v.lang)?;
    let link = match sharing.open_link(&token, v.ip).await {
        Ok(l) => l,
        Err(e) => return closed(&app, &mut v, e),
    };
    match sharing.check_password(&link, &form.password, v.ip).await {
        Ok(()) => {
            let exp = unix_now() + UNLOCKED_SECS;
            let download = format!("/partage/{token}/fichier?cle={}&exp={exp}", key(&app, &token, exp));
            Ok(show(&app, v, &link, &token, download, false).await)
        }
        Err(Error::Password) => Ok(show(&app, v, &link, &token, String::new(), true).await),
        Err(e) => closed(&app, &mut v, e),
    }
}

/// `GET /partage/<token>/fichier` (and HEAD): the file, whole or a range.
pub async fn file(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
    Query(q): Query<FileQuery>,
    method: Method,
    headers: HeaderMap,
    mut v: Visitor,
) -> Result<Response, WebError> {
    let sharing = service(&app, v.lang)?;
    let link = match sharing.open_link(&token, v.ip).await {
        Ok(l) => l,
        Err(e) => return closed(&app, &mut v, e),
    };
    if link.needs_password() && !key_ok(&app, &token, &q) {
        // Without the address the password unlocks: back to the page that asks for it.
        return Ok(crate::base::redirect(&v, &format!("/partage/{token}")));
    }
    let download = match sharing.open_version(&link, q.v).await {
        Ok(d) => d,
        Err(Error::NotFound) => return closed(&app, &mut v, Error::NotFound),
        Err(e) => return Err(WebError::internal(&e)),
    };
    let size = download.version.size as u64;
    let etag = format!("\"{}\"", download.version.blob_id.as_str());
    let range = match requested_range(&headers, size, &etag) {
        Ok(r) => r,
        Err(()) => {
            let mut resp = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(resp);
        }
    };
    let (start, end) = range.unwrap_or((0, size.saturating_sub(1)));
    if method == Method::GET && start == 0 {
        journal(&app, &link, download.version.version, v.ip).await;
    }
    let length = if size == 0 { 0 } else { end - start + 1 };
    let body = if method == Method::HEAD { Body::empty() } else { stream(download.file, start, length) };
    let mut resp = body.into_response();
    if range.is_some() {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")) {
            resp.headers_mut().insert(header::CONTENT_RANGE, value);
        }
    }
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&download.version.filename)));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&disposition(&download.version.filename)) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(resp)
}

/// Writes the download in the journal (naming the recipient when the link
/// is theirs) and, the first time, tells the owner.
async fn journal(app: &App, link: &Link, version: i64, ip: IpAddr) {
    let Some(sharing) = &app.sharing else { return };
    match sharing.record_download(link, version, ip).await {
        Ok(true) => super::owner::tell_first_download(app, link, ip).await,
        Ok(false) => {}
        Err(e) => tracing::warn!(share = link.share.id, error = %e, "download not journaled"),
    }
}

/// The file from `start`, `length` bytes, read in pieces off the executor.
/// A read error or a file shorter than recorded ends the body early (the
/// client sees a truncated response and resumes).
fn stream(file: std::fs::File, start: u64, length: u64) -> Body {
    let pieces = futures_util::stream::unfold((Some(file), start, length), |(file, at, left)| async move {
        let mut file = file.filter(|_| left > 0)?;
        let want = (left as usize).min(PIECE);
        let read = tokio::task::spawn_blocking(move || {
            file.seek(SeekFrom::Start(at))?;
            let mut buf = vec![0u8; want];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await
        .map_err(std::io::Error::other);
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => {
                Some((Err(std::io::Error::other("file shorter than recorded")), (None, at, 0)))
            }
            Ok(Ok((file, buf))) => {
                let n = buf.len() as u64;
                Some((Ok(Bytes::from(buf)), (Some(file), at + n, left - n)))
            }
            Ok(Err(e)) | Err(e) => Some((Err(e), (None, at, 0))),
        }
    });
    Body::from_stream(pieces)
}

/// The single byte range asked for: `Ok(None)` for the whole file (no
/// `Range`, one we ignore: several ranges, another unit, bad syntax, or an
/// `If-Range` that no longer matches), `Err` when it cannot be satisfied.
pub fn requested_range(headers: &HeaderMap, size: u64, etag: &str) -> Result<Option<(u64, u64)>, ()> {
    let Some(text) = headers.get(header::RANGE).and_then(|h| h.to_str().ok()) else { return Ok(None) };
    if let Some(if_range) = headers.get(header::IF_RANGE).and_then(|h| h.to_str().ok())
        && if_range != etag
    {
        return Ok(None);
    }
    let Some(spec) = text.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Ok(None) };
    let digits = |s: &str| !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit());
    let range = match (first, last) {
        (f, "") if digits(f) => {
            let start: u64 = f.parse().map_err(|_| ())?;
            (start, size.saturating_sub(1))
        }
        ("", l) if digits(l) => {
            let n: u64 = l.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (f, l) if digits(f) && digits(l) => {
            let (start, end): (u64, u64) = (f.parse().map_err(|_| ())?, l.parse().map_err(|_| ())?);
            if end < start {
                return Ok(None);
            }
            (start, end.min(size.saturating_sub(1)))
        }
        _ => return Ok(None),
    };
    if size == 0 || range.0 >= size {
        return Err(());
    }
    Ok(Some(range))
}

/// `application/octet-stream` unless the extension names a type a browser
/// opens safely (never HTML, SVG or scripts).
pub fn content_type(filename: &str) -> &'static str {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "zip" => "application/zip",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

/// `Content-Disposition: attachment` with an ASCII `filename` for old
/// clients and the exact name in `filename*` (RFC 6266, RFC 8187).
pub fn disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(value).unwrap());
        requested_range(&h, size, "\"e\"")
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(range("bytes=0-", 10), Ok(Some((0, 9))));
        assert_eq!(range("bytes=4-", 10), Ok(Some((4, 9))));
        assert_eq!(range("bytes=2-5", 10), Ok(Some((2, 5))));
        assert_eq!(range("bytes=2-500", 10), Ok(Some((2, 9))));
        assert_eq!(range("bytes=-3", 10), Ok(Some((7, 9))));
        assert_eq!(range("bytes=-30", 10), Ok(Some((0, 9))));
        assert_eq!(range("bytes=10-", 10), Err(()));
        assert_eq!(range("bytes=-0", 10), Err(()));
        assert_eq!(range("bytes=0-", 0), Err(()));
        // Ignored: the whole file is sent.
        for ignored in [
            "bytes=5-2",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=a-",
            "bytes=",
            "bytes=--1",
            "bytes=99999999999999999999-",
        ] {
            assert_eq!(range(ignored, 10), Ok(None), "{ignored}");
        }
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_static("bytes=4-"));
        h.insert(header::IF_RANGE, HeaderValue::from_static("\"old\""));
        assert_eq!(requested_range(&h, 10, "\"e\""), Ok(None), "a changed file is sent whole");
    }

    #[test]
    fn file_names_are_given_as_rfc_6266_says() {
        assert_eq!(disposition("bilan.pdf"), "attachment; filename=\"bilan.pdf\"; filename*=UTF-8''bilan.pdf");
        assert_eq!(
            disposition("Réunion \"parents\".odt"),
            "attachment; filename=\"R_union _parents_.odt\"; filename*=UTF-8''R%C3%A9union%20%22parents%22.odt"
        );
        assert!(!disposition("a\r\nSet-Cookie: x").contains('\n'));
    }

    #[test]
    fn only_safe_types_are_named() {
        assert_eq!(content_type("x.PDF"), "application/pdf");
        for risky in ["page.html", "image.svg", "script.js", "noext", "a.htm", "x.xhtml"] {
            assert_eq!(content_type(risky), "application/octet-stream", "{risky}");
        }
    }
}
