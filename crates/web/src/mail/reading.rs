//! Reading safely and comfortably, beside [`super::read`]: who the sender
//! is (outside the académie or not, trusted for images or not), attachment
//! previews served inline only for a few harmless types, invitations read
//! from `text/calendar` parts, and the "always show this sender's images"
//! action.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use mailstore::{Account, MessageView};
use serde::Deserialize;

use super::ics;
use super::sanitize::{clean_filename, content_disposition};
use super::{M, Reader, ReaderForm, not_found};
use crate::App;
use crate::base::clock::Clock;
use crate::base::extract::has_csrf;
use crate::base::{WebError, redirect};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    (
        "read.external",
        "Expéditeur externe : ce message vient de l'extérieur de l'académie. Méfiez-vous des liens, des pièces jointes et des demandes inhabituelles.",
        "External sender: this message comes from outside the academy. Be wary of links, attachments and unusual requests.",
    ),
    (
        "read.links",
        "Attention : des liens de ce message ne mènent pas où leur texte l'indique.",
        "Warning: links in this message do not lead where their text says.",
    ),
    (
        "read.spoofed",
        "Prudence : ce message se présente comme venant d'une adresse de l'académie, mais il est arrivé de l'extérieur. L'adresse de l'expéditeur est peut-être usurpée.",
        "Caution: this message claims to come from an academy address, but it arrived from outside. The sender's address may be forged.",
    ),
    (
        "read.spam.yes",
        "Ce message a été classé comme indésirable ou frauduleux par l'analyse de l'académie :",
        "This message was classified as spam or fraud by the academy's checks:",
    ),
    (
        "read.spam.signs",
        "L'analyse de l'académie a relevé des signes suspects dans ce message :",
        "The academy's checks found suspicious signs in this message:",
    ),
    ("read.spam.score", "score", "score"),
    ("read.links.shows", "affiche", "shows"),
    ("read.links.leads", "mais mène vers", "but leads to"),
    ("read.images.trust", "Toujours afficher les images de cet expéditeur", "Always show images from this sender"),
    (
        "read.images.trusted",
        "Les images de cet expéditeur sont toujours affichées.",
        "Images from this sender are always shown.",
    ),
    ("read.preview", "Aperçu", "Preview"),
    (
        "read.truncated",
        "Ce message est trop long pour être affiché en entier : seul son début est montré.",
        "This message is too long to be shown in full: only its beginning is shown.",
    ),
    ("read.source", "Télécharger le message complet", "Download the whole message"),
    ("read.previews", "Aperçu des images jointes", "Attached images"),
    ("read.invite", "Invitation", "Invitation"),
    ("read.invite.cancel", "Événement annulé", "Event cancelled"),
    ("read.invite.when", "Quand", "When"),
    ("read.invite.start", "Début", "Start"),
    ("read.invite.end", "Fin", "End"),
    ("read.invite.allday", "(journée entière)", "(all day)"),
    ("read.invite.where", "Lieu", "Where"),
    ("read.invite.organizer", "Organisateur", "Organiser"),
    ("read.invite.details", "Détails", "Details"),
    ("read.invite.untitled", "(événement sans titre)", "(untitled event)"),
];

/// The media types an attachment may be previewed as, with their signature.
/// SVG is never one (it can hold scripts), nor is anything else.
pub fn preview_type(declared: &str, bytes: &[u8]) -> Option<&'static str> {
    let sniffed = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "image/gif"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if bytes.starts_with(b"%PDF-") {
        "application/pdf"
    } else {
        return None;
    };
    let declared = declared.trim().to_ascii_lowercase();
    let agrees = declared == sniffed || (sniffed == "image/jpeg" && declared == "image/jpg");
    agrees.then_some(sniffed)
}

/// Where a message comes from, as far as the reader should know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A sender of one of the installation's domains, delivered from inside.
    Local,
    /// A sender of another domain (or none readable).
    External,
    /// A sender of one of our domains, but the message came in through the
    /// MX from outside without authentication: the address is likely forged.
    Spoofed,
}

/// Whether the topmost `Received:` header (the one our own server wrote
/// last) records an unauthenticated SMTP reception, i.e. mail that came in
/// through the MX. Submission writes `ESMTPSA`, the webmail and local
/// replies write none; a header further down cannot pretend otherwise.
pub fn came_through_mx(raw: &[u8]) -> bool {
    let head = raw.split(|b| *b == b'\n').take_while(|l| !l.is_empty() && *l != b"\r");
    let mut received: Option<String> = None;
    for line in head.take(500) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        match &mut received {
            Some(r) if text.starts_with([' ', '\t']) => r.push_str(text),
            Some(_) => break,
            None if text.len() > 9 && text[..9].eq_ignore_ascii_case("received:") => received = Some(text.to_owned()),
            None => {}
        }
    }
    let Some(r) = received else { return false };
    let mut words = r.split_whitespace();
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case("with") {
            let proto = words.next().unwrap_or("").trim_end_matches(';').to_ascii_uppercase();
            return matches!(proto.as_str(), "SMTP" | "ESMTP" | "ESMTPS" | "UTF8SMTP" | "UTF8SMTPS" | "LMTP");
        }
    }
    false
}

/// Where the message `raw` from `sender` comes from.
pub async fn origin(app: &App, sender: Option<&str>, raw: &[u8]) -> Result<Origin, mailstore::Error> {
    let Some(domain) = sender.and_then(|s| s.rsplit_once('@')).map(|(_, d)| d.trim_end_matches('.')) else {
        return Ok(Origin::External);
    };
    let local = app.ms.local_domains().await?;
    Ok(if !local.iter().any(|d| d.as_str().eq_ignore_ascii_case(domain)) {
        Origin::External
    } else if came_through_mx(raw) {
        Origin::Spoofed
    } else {
        Origin::Local
    })
}

/// An event as the reading page shows it.
pub struct EventView {
    pub summary: String,
    pub start: String,
    pub end: String,
    pub location: String,
    pub organizer: String,
    pub description: String,
    pub cancelled: bool,
    pub uid: String,
    /// The attendees' addresses, lower-case.
    pub attendees: Vec<String>,
    /// An iTIP REQUEST: an invitation to answer.
    pub request: bool,
    /// The reader may answer it here (set by `invitation::fill_answers`).
    pub answerable: bool,
    /// The reader's current answer (`ACCEPTED`...), empty when none.
    pub answer: String,
}

/// The events of every `text/calendar` part and `.ics` attachment.
pub fn calendar_events(msg: &MessageView, m: M, clock: &Clock) -> Vec<EventView> {
    let mut out = Vec::new();
    for text in msg.calendars(20) {
        let cal = ics::parse(&text);
        for e in cal.events {
            let show = |w: &Option<ics::When>| match w {
                Some(w) if w.all_day() => format!("{} {}", w.show(clock), m.get("read.invite.allday")),
                Some(w) => w.show(clock),
                None => String::new(),
            };
            let summary =
                if e.summary.is_empty() { m.get("read.invite.untitled").to_owned() } else { e.summary.clone() };
            out.push(EventView {
                summary,
                start: show(&e.start),
                end: show(&e.end),
                location: e.location,
                organizer: e.organizer,
                description: e.description,
                cancelled: cal.method == "CANCEL",
                uid: e.uid,
                attendees: e.attendees,
                request: cal.method == "REQUEST",
                answerable: false,
                answer: String::new(),
            });
        }
        if out.len() >= 20 {
            break;
        }
    }
    out
}

/// The message `uid` of `mailbox` if the account may read it (its own, or shared with `r`).
async fn own_message(
    app: &App,
    account: &Account,
    mailbox: i64,
    uid: i64,
) -> Result<Option<MessageView>, mailstore::Error> {
    let Some(at) = app.ms.reach(account.id, mailbox).await? else { return Ok(None) };
    if !at.rights.contains(model::Rights::READ) {
        return Ok(None);
    }
    let Some(row) = app.ms.message_by_uid(at.mailbox.id, uid).await? else { return Ok(None) };
    Ok(Some(app.ms.view(&row.blob_hash).await?))
}

/// The CSP of previews: nothing runs; an image may be shown, a PDF shown by
/// the browser's own viewer. Images are also sandboxed (a PDF in a
/// sandboxed document is refused by Chromium's viewer).
pub fn preview_csp(pdf: bool) -> &'static str {
    if pdf {
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; object-src 'self'; \
         frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    } else {
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'; \
         base-uri 'none'; form-action 'none'; sandbox"
    }
}

/// `/courrier/<mailbox>/<uid>/apercu/<n>`: the attachment shown in the
/// browser when it is a PNG, JPEG, GIF, WebP image or a PDF (declared and
/// recognised by its first bytes); anything else is a download, as from
/// `pj/<n>`. Served with headers of its own.
pub async fn preview(
    State(app): State<Arc<App>>,
    Path((mailbox, uid, n)): Path<(i64, i64, usize)>,
    reader: Result<Reader, Response>,
) -> Response {
    // Pages (login redirect, 404, error) get the site's usual headers:
    // this route is outside them.
    match previewed(&app, reader, mailbox, uid, n).await {
        Ok(resp) => resp,
        Err(page) => crate::headers::secure(page).await,
    }
}

async fn previewed(
    app: &App,
    reader: Result<Reader, Response>,
    mailbox: i64,
    uid: i64,
    n: usize,
) -> Result<Response, Response> {
    let Reader { v, account } = reader?;
    let msg = own_message(app, &account, mailbox, uid).await.map_err(|e| WebError::from(e).into_response())?;
    let msg = msg.ok_or_else(|| not_found(v.lang).into_response())?;
    let (file, bytes) = msg.file(n).ok_or_else(|| not_found(v.lang).into_response())?;
    let name = clean_filename(file.name.as_deref().unwrap_or(""));
    let inline = preview_type(&file.content_type, &bytes);
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    let disposition = match inline {
        Some(t) => {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(t));
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(preview_csp(t == "application/pdf")));
            content_disposition(&name).replacen("attachment", "inline", 1)
        }
        None => {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(preview_csp(false)));
            content_disposition(&name)
        }
    };
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    Ok(resp)
}

#[derive(Debug, Default, Deserialize)]
pub struct TrustForm {
    #[serde(default)]
    pub csrf: String,
}

has_csrf!(TrustForm);

/// `POST /courrier/<mailbox>/<uid>/confiance`: the sender of this message
/// joins the account's trusted senders (their remote images are shown).
/// The address comes from the message, never from the form.
pub async fn trust(
    State(app): State<Arc<App>>,
    Path((mailbox, uid)): Path<(i64, i64)>,
    ReaderForm { v, account, .. }: ReaderForm<TrustForm>,
) -> Result<Response, WebError> {
    let msg = own_message(&app, &account, mailbox, uid).await?.ok_or_else(|| not_found(v.lang))?;
    if let Some(s) = msg.sender() {
        app.ms.trust_sender(account.id, &s).await?;
    }
    Ok(redirect(&v, &format!("/courrier/{mailbox}/{uid}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_recognised_harmless_types_preview() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(preview_type("image/png", png), Some("image/png"));
        assert_eq!(preview_type("IMAGE/JPG", b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
        assert_eq!(preview_type("application/pdf", b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(preview_type("image/webp", b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(preview_type("image/gif", b"GIF89a"), Some("image/gif"));
        // Never SVG or HTML, whatever they claim; a type must match its bytes.
        assert_eq!(preview_type("image/svg+xml", b"<svg onload=alert(1)>"), None);
        assert_eq!(preview_type("image/png", b"<svg onload=alert(1)>"), None);
        assert_eq!(preview_type("text/html", png), None);
        assert_eq!(preview_type("image/svg+xml", png), None);
        assert_eq!(preview_type("image/gif", b"%PDF-1.4"), None);
    }

    #[test]
    fn only_our_topmost_trace_tells_how_mail_came_in() {
        let mx = b"Received: from mail.example.org ([192.0.2.1])\r\n\tby mx.ac-demo.fr with ESMTPS id A1;\r\n\tMon, 23 Nov 2026\r\n\
                   Received: from poste by x with ESMTPSA id 0;\r\nFrom: a@ac-demo.fr\r\n\r\nReceived: with SMTP\r\n";
        assert!(came_through_mx(mx));
        let submitted = b"Received: from poste ([192.0.2.7])\r\n\tby mx with ESMTPSA id 1;\r\n\tMon\r\n\
                          Received: from evil by evil with ESMTP id 2;\r\nFrom: a@ac-demo.fr\r\n\r\nx";
        assert!(!came_through_mx(submitted), "a forged trace below ours does not count");
        assert!(!came_through_mx(b"From: a@ac-demo.fr\r\nSubject: webmail\r\n\r\nReceived: from x with SMTP\r\n"));
        assert!(came_through_mx(b"received: from x (y) by z WITH smtp id 3; date\nFrom: a@b\n\nx"));
        assert!(!came_through_mx(b""));
    }

    #[test]
    fn previews_never_allow_scripts() {
        for pdf in [false, true] {
            let csp = preview_csp(pdf);
            assert!(csp.starts_with("default-src 'none'") && !csp.contains("script"));
            assert_eq!(csp.ends_with("sandbox"), !pdf);
        }
    }

    #[test]
    fn invitations_are_found_in_parts_and_attachments() {
        let raw = "From: a@x.fr\r\nSubject: Invitation\r\nMIME-Version: 1.0\r\n\
                   Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nVoir.\r\n\
                   --b\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n\
                   BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nBEGIN:VEVENT\r\nSUMMARY:Réunion\r\nDTSTART;VALUE=DATE:20270105\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n\
                   --b\r\nContent-Type: application/octet-stream; name=\"rdv.ics\"\r\nContent-Disposition: attachment; filename=\"rdv.ics\"\r\n\r\n\
                   BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nLOCATION:CDI\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--b--\r\n";
        let msg = MessageView::new(raw.as_bytes().to_vec(), None);
        let events = calendar_events(&msg, M(crate::base::i18n::Lang::Fr), &Clock::default());
        assert_eq!(events.len(), 2);
        assert_eq!((events[0].summary.as_str(), events[0].start.as_str()), ("Réunion", "05/01/2027 (journée entière)"));
        assert!(events[0].cancelled);
        assert_eq!((events[1].summary.as_str(), events[1].location.as_str()), ("(événement sans titre)", "CDI"));
        assert_eq!(msg.sender().as_deref(), Some("a@x.fr"));
    }
}
