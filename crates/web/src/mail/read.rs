//! Reading a message: the page (headers, body, attachments, actions), the
//! frame that shows a cleaned HTML body (cut beyond
//! [`super::sanitize::DISPLAY_LIMIT`]), attachment and whole-message downloads.
//!
//! The blob is parsed with mail-parser when read (one message at a time,
//! charsets and transfer encodings decoded); attachments are numbered in the
//! order mail-parser lists them, by the page and the download alike.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mail_parser::{Message, MessageParser, MimeHeaders};
use mailstore::{Account, FlagOp, Mailbox, MessageRow};
use model::Flag;
use serde::Deserialize;

use super::folders::{FolderView, display_name, sidebar};
use super::links::Mismatch;
use super::reading::{EventView, Origin, calendar_events, origin, part_type, preview_type, sender_address};
use super::sanitize::{clean_filename, clean_html, content_disposition, shown_part, text_to_html};
use super::{M, Reader, common, full_date, not_found, owned};
use crate::App;
use crate::base::session::Visitor;
use crate::base::{Common, WebError, render};

#[derive(Debug, Default, Deserialize)]
pub struct ReadQuery {
    /// `1` shows remote images of this message.
    pub images: Option<String>,
}

impl ReadQuery {
    fn images(&self) -> bool {
        self.images.as_deref() == Some("1")
    }
}

pub struct AttachmentView {
    pub href: String,
    pub name: String,
    pub size: String,
    pub content_type: String,
    /// The inline preview's address (images and PDFs only).
    pub preview: Option<String>,
    /// A previewable image, shown as a thumbnail.
    pub image: bool,
}

#[derive(Template)]
#[template(path = "mail/read.html")]
struct ReadPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    mailbox_id: i64,
    mailbox_name: String,
    uid: i64,
    subject: String,
    from: String,
    to: String,
    cc: String,
    date: String,
    /// Plain text already escaped and linked ([`text_to_html`]).
    text: Option<String>,
    /// The frame's address when the body is HTML.
    frame: Option<String>,
    blocked_images: bool,
    /// The body was cut for display: its shown and whole sizes.
    truncated: Option<(String, String)>,
    /// Where the whole message downloads (`.eml`).
    source_link: String,
    images_link: String,
    /// The sender's address, when readable (for "always show images").
    sender: Option<String>,
    /// The sender's images are always shown.
    trusted: bool,
    /// The sender is outside the installation's domains.
    external: bool,
    /// The sender claims one of our domains but the message came from outside.
    spoofed: bool,
    /// Links whose text names another domain than their target.
    suspicious: Vec<Mismatch>,
    events: Vec<EventView>,
    attachments: Vec<AttachmentView>,
    seen: bool,
    flagged: bool,
    targets: Vec<FolderView>,
}

/// The message `uid` of `mailbox` of the signed-in account, with its bytes.
struct Found {
    v: Visitor,
    account: Account,
    mailbox: Mailbox,
    row: MessageRow,
    raw: Vec<u8>,
}

async fn find(app: &App, reader: Reader, mailbox: i64, uid: i64) -> Result<Found, WebError> {
    let Reader { v, account } = reader;
    let mailbox = owned(app, &account, mailbox, v.lang).await?;
    let row = app.ms.message_by_uid(mailbox.id, uid).await?.ok_or_else(|| not_found(v.lang))?;
    let raw = app.ms.message_bytes(&row.blob_hash).await?;
    Ok(Found { v, account, mailbox, row, raw })
}

/// "Name <address>, ..." of an address header.
fn addresses(a: Option<&mail_parser::Address<'_>>) -> String {
    let Some(a) = a else { return String::new() };
    a.iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(n), Some(x)) if !n.trim().is_empty() => format!("{} <{x}>", n.trim()),
            (_, Some(x)) => x.to_owned(),
            (Some(n), None) => n.to_owned(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The HTML body, when the message has a real one.
fn html_body<'a>(msg: &'a Message<'a>) -> Option<&'a str> {
    let part = msg.html_part(0)?;
    if part.is_text_html() { part.text_contents() } else { None }
}

/// The plain text body, when the message has one (not converted from HTML).
fn text_body<'a>(msg: &'a Message<'a>) -> Option<&'a str> {
    let part = msg.text_part(0)?;
    if part.is_text() && !part.is_text_html() { part.text_contents() } else { None }
}

/// A size for people: "12 octets", "3,4 Ko", "1,2 Mo".
pub fn human_size(bytes: usize, m: M) -> String {
    let en = m.0 == crate::base::i18n::Lang::En;
    let (b, k, mo) = if en { ("bytes", "KB", "MB") } else { ("octets", "Ko", "Mo") };
    let text = if bytes < 1024 {
        format!("{bytes} {b}")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} {k}", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} {mo}", bytes as f64 / (1024.0 * 1024.0))
    };
    if en { text } else { text.replace('.', ",") }
}

/// `/courrier/<mailbox>/<uid>`: the reading page. Opening marks as read.
pub async fn page(
    State(app): State<Arc<App>>,
    Path((mailbox, uid)): Path<(i64, i64)>,
    Query(q): Query<ReadQuery>,
    reader: Reader,
) -> Result<Response, WebError> {
    let Found { mut v, account, mailbox, row, raw } = find(&app, reader, mailbox, uid).await?;
    let m = M(v.lang);
    if row.flags & Flag::Seen.bit() == 0 {
        let seen = Flag::Seen.bit();
        if let Err(e) = app.ms.update_flags(account.id, mailbox.id, &[row.uid], FlagOp::Add, seen, &[], None).await {
            tracing::warn!(error = %e, "marking as read failed");
        }
    }
    let folders = sidebar(&app, &account, Some(mailbox.id), m).await?;
    let parsed = MessageParser::default().parse(&raw);
    let base = format!("/courrier/{}/{}", mailbox.id, row.uid);
    let (mut text, mut frame, mut blocked_images, mut truncated) = (None, None, false, None);
    let mut cut = |body: &'_ str, html: bool| {
        let (shown, was_cut) = shown_part(body, html);
        if was_cut {
            truncated = Some((human_size(shown.len(), m), human_size(body.len(), m)));
        }
        shown.to_owned()
    };
    let (mut sender, mut trusted, mut suspicious, mut events) = (None, false, Vec::new(), Vec::new());
    let mut attachments = Vec::new();
    let (mut subject, mut from, mut to, mut cc, mut date) = Default::default();
    if let Some(msg) = &parsed {
        subject = msg.subject().unwrap_or("").trim().to_owned();
        from = addresses(msg.from());
        to = addresses(msg.to());
        cc = addresses(msg.cc());
        date = msg.date().map(|d| d.to_timestamp()).unwrap_or(row.internal_date);
        sender = sender_address(msg);
        if let Some(s) = &sender {
            trusted = app.ms.is_trusted_sender(account.id, s).await.unwrap_or(false);
        }
        let images = q.images() || trusted;
        if let Some(html) = html_body(msg) {
            let clean = clean_html(&cut(html, true), images);
            blocked_images = clean.blocked_images;
            suspicious = clean.suspicious;
            frame = Some(if images { format!("{base}/contenu?images=1") } else { format!("{base}/contenu") });
        } else if let Some(t) = text_body(msg) {
            text = Some(text_to_html(&cut(t, false)));
        }
        events = calendar_events(msg, m);
        for (n, part) in msg.attachments().enumerate() {
            let name = clean_filename(part.attachment_name().unwrap_or(""));
            let content_type = part_type(part);
            let inline = preview_type(&content_type, part.contents());
            attachments.push(AttachmentView {
                href: format!("{base}/pj/{n}"),
                name,
                size: human_size(part.len(), m),
                content_type,
                preview: inline.map(|_| format!("{base}/apercu/{n}")),
                image: inline.is_some_and(|t| t.starts_with("image/")),
            });
        }
    }
    if subject.is_empty() {
        subject = m.get("mail.nosubject").to_owned();
    }
    let origin = origin(&app, sender.as_deref(), &raw).await?;
    let name = display_name(&mailbox, m);
    let c = common(&app, &mut v, &subject);
    let targets = folders.iter().filter(|f| f.id != mailbox.id).cloned().collect();
    let page = ReadPage {
        c,
        m,
        folders,
        mailbox_id: mailbox.id,
        mailbox_name: name,
        uid: row.uid,
        subject,
        from,
        to,
        cc,
        date: full_date(date),
        text,
        frame,
        blocked_images: blocked_images && !q.images() && !trusted,
        truncated,
        source_link: format!("{base}/source"),
        images_link: format!("{base}?images=1"),
        sender,
        trusted,
        external: origin == Origin::External,
        spoofed: origin == Origin::Spoofed,
        suspicious,
        events,
        attachments,
        seen: true,
        flagged: row.flags & Flag::Flagged.bit() != 0,
        targets,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// The CSP of the frame: nothing may run, nothing may load but images
/// (inline ones always, HTTPS ones when the reader asked).
pub fn frame_csp(images: bool) -> &'static str {
    if images {
        "default-src 'none'; img-src data: https:; style-src 'unsafe-inline'; frame-ancestors 'self'; \
         base-uri 'none'; form-action 'none'; sandbox allow-popups allow-popups-to-escape-sandbox"
    } else {
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'; \
         base-uri 'none'; form-action 'none'; sandbox allow-popups allow-popups-to-escape-sandbox"
    }
}

/// `/courrier/<mailbox>/<uid>/contenu`: the cleaned HTML body, for the
/// sandboxed frame of the reading page. Served outside the site-wide
/// headers: it sets its own.
pub async fn frame(
    State(app): State<Arc<App>>,
    Path((mailbox, uid)): Path<(i64, i64)>,
    Query(q): Query<ReadQuery>,
    reader: Result<Reader, Response>,
) -> Response {
    let found = match reader {
        Ok(reader) => find(&app, reader, mailbox, uid).await,
        Err(login) => return with_frame_headers(login, false),
    };
    let found = match found {
        Ok(f) => f,
        Err(e) => return with_frame_headers(e.into_response(), false),
    };
    let parsed = MessageParser::default().parse(&found.raw);
    let body = parsed
        .as_ref()
        .and_then(|m| html_body(m))
        .map(|h| clean_html(shown_part(h, true).0, q.images()).html)
        .unwrap_or_default();
    let doc = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <style>body{{font-family:Marianne,Arial,sans-serif;font-size:15px;line-height:1.45;color:#161616;\
         margin:8px;overflow-wrap:anywhere}}img{{max-width:100%;height:auto}}\
         a.ardoise-trompeur{{background:#fee9e9;color:#ce0500;outline:2px solid #ce0500}}</style></head><body>{body}</body></html>"
    );
    let resp = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], doc).into_response();
    with_frame_headers(resp, q.images())
}

fn with_frame_headers(mut resp: Response, images: bool) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(frame_csp(images)));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `/courrier/<mailbox>/<uid>/pj/<n>`: an attachment, always as a download.
pub async fn attachment(
    State(app): State<Arc<App>>,
    Path((mailbox, uid, n)): Path<(i64, i64, usize)>,
    reader: Reader,
) -> Result<Response, WebError> {
    let Found { v, raw, .. } = find(&app, reader, mailbox, uid).await?;
    let parsed = MessageParser::default().parse(&raw);
    let part = parsed.as_ref().and_then(|m| m.attachments().nth(n)).ok_or_else(|| not_found(v.lang))?;
    Ok(download(part.contents().to_vec(), &clean_filename(part.attachment_name().unwrap_or(""))))
}

/// `bytes` as a download named `name` (never shown inline, never sniffed).
fn download(bytes: Vec<u8>, name: &str) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    if let Ok(value) = HeaderValue::from_str(&content_disposition(name)) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

/// `/courrier/<mailbox>/<uid>/source`: the whole message as it was
/// received, as a download (`.eml`, never shown inline).
pub async fn source(
    State(app): State<Arc<App>>,
    Path((mailbox, uid)): Path<(i64, i64)>,
    reader: Reader,
) -> Result<Response, WebError> {
    let Found { raw, .. } = find(&app, reader, mailbox, uid).await?;
    Ok(download(raw, &format!("message-{uid}.eml")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        let fr = M(crate::base::i18n::Lang::Fr);
        assert_eq!(human_size(12, fr), "12 octets");
        assert_eq!(human_size(3 * 1024 + 400, fr), "3,4 Ko");
        assert_eq!(human_size(5 << 20, M(crate::base::i18n::Lang::En)), "5.0 MB");
    }

    #[test]
    fn the_frame_never_allows_scripts() {
        for images in [false, true] {
            let csp = frame_csp(images);
            assert!(csp.starts_with("default-src 'none'"));
            assert!(!csp.contains("script-src") && !csp.contains("allow-scripts"));
            assert_eq!(csp.contains("https:"), images);
        }
    }
}
