//! Reading a message: the page (headers, body, attachments, actions), the
//! frame that shows a cleaned HTML body (cut beyond
//! [`super::sanitize::DISPLAY_LIMIT`]), attachment and whole-message downloads.
//!
//! The message is read through [`mailstore::MessageView`]: the analysis
//! stored at delivery says which part is the body and which are files (the
//! same MIME model as IMAP, no second parse); only the part shown or
//! downloaded is decoded. Files are numbered in the message's order, by the
//! page and the download alike.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailstore::{Account, Body, FlagOp, Mailbox, MessageRow, MessageView, display_addresses};
use model::Flag;
use serde::Deserialize;

use super::attached::file_name;
use super::folders::{FolderView, display_name, sidebar, targets};
use super::links::Mismatch;
use super::reading::{EventView, Origin, calendar_events, origin, preview_type};
use super::sanitize::{clean_html, content_disposition, shown, shown_part, text_to_html};
use super::{M, Reader, common, not_found, reached};
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
    /// Where an attached message reads inline (« Lire »).
    pub read: Option<String>,
}

#[derive(Template)]
#[template(path = "mail/read.html")]
struct ReadPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    /// The message itself ([`Article`], rendered).
    article: String,
}

/// A message as read, on its own page or in the list's reading pane.
#[derive(Template)]
#[template(path = "mail/read_article.html")]
pub(super) struct Article {
    m: M,
    csrf: String,
    /// Shown in the list's reading pane (no link back to the list).
    in_pane: bool,
    mailbox_id: i64,
    mailbox_name: String,
    uid: i64,
    subject: String,
    from: String,
    to: String,
    cc: String,
    date: String,
    /// The date to the second, with its offset from UTC.
    exact_date: String,
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
    /// The MX's spam verdict on this message, when it judged it: whether
    /// it counted as spam, its score, and why (in the reader's language).
    spam: Option<(bool, String, Vec<String>)>,
    /// « Signaler un hameçonnage » is offered (a security address is set).
    can_report: bool,
    events: Vec<EventView>,
    attachments: Vec<AttachmentView>,
    seen: bool,
    flagged: bool,
    targets: Vec<FolderView>,
    /// Another account's message (a shared folder): no junk, trust or
    /// invitation answers, and only the actions the reader's rights allow.
    shared: bool,
    /// Our archive of the list this message came through (its `List-Archive`).
    list_archive: Option<String>,
    may_seen: bool,
    may_flag: bool,
    may_delete: bool,
}

/// The message `uid` of `mailbox` of the signed-in account, with its bytes.
pub(super) struct Found {
    pub v: Visitor,
    pub account: Account,
    /// The folder and the reader's rights on it (all when it is theirs).
    pub at: mailstore::Reached,
    pub mailbox: Mailbox,
    pub row: MessageRow,
    pub msg: MessageView,
}

pub(super) async fn find(app: &App, reader: Reader, mailbox: i64, uid: i64) -> Result<Found, WebError> {
    let Reader { v, account } = reader;
    let at = reached(app, &account, mailbox, v.lang).await?;
    let mailbox = at.mailbox.clone();
    let row = app.ms.message_by_uid(mailbox.id, uid).await?.ok_or_else(|| not_found(v.lang))?;
    let msg = app.ms.view(&row.blob_hash).await?;
    Ok(Found { v, account, at, mailbox, row, msg })
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
    let Found { mut v, account, at, mailbox, row, msg } = find(&app, reader, mailbox, uid).await?;
    let m = M(v.lang);
    let folders = sidebar(&app, &account, Some(mailbox.id), m).await?;
    let targets = if at.rights.contains(mailstore::MOVE_AWAY) { targets(&folders, &mailbox) } else { Vec::new() };
    let csrf = v.csrf(&app);
    let article = article(&app, &v, &account, &at, &row, &msg, Shown { images: q.images(), targets, csrf }).await?;
    let c = common(&app, &mut v, &article.subject);
    let article = article.render().map_err(|e| {
        tracing::error!(error = %e, "template failed");
        WebError::Internal
    })?;
    Ok(render(&v, StatusCode::OK, &ReadPage { c, m, folders, article }))
}

/// What the page around a message passes to it.
pub(super) struct Shown {
    /// Remote images asked for (`?images=1`).
    pub images: bool,
    /// The folders a message may move to.
    pub targets: Vec<FolderView>,
    pub csrf: String,
}

/// The message `row` of `mailbox`, read (and marked read) by `v`.
pub(super) async fn article(
    app: &App,
    v: &Visitor,
    account: &Account,
    at: &mailstore::Reached,
    row: &MessageRow,
    msg: &MessageView,
    shown_as: Shown,
) -> Result<Article, WebError> {
    let m = M(v.lang);
    let mailbox = &at.mailbox;
    let shared = !at.owned_by(account.id);
    let may_seen = at.rights.contains(model::Rights::SEEN);
    // A reader without `s` reads without marking (RFC 4314: \Seen is not kept).
    if row.flags & Flag::Seen.bit() == 0 && may_seen {
        let seen = Flag::Seen.bit();
        if let Err(e) = app.ms.flags_as(account.id, at, &[row.uid], FlagOp::Add, seen, &[]).await {
            tracing::warn!(error = %e, "marking as read failed");
        }
    }
    if shared {
        app.ms.journal_read(account.id, at, row.uid).await;
    }
    let base = format!("/courrier/{}/{}", mailbox.id, row.uid);
    let (mut text, mut frame, mut blocked_images, mut truncated) = (None, None, false, None);
    let mut cut = |body: &'_ str, html: bool| {
        let (shown, was_cut) = shown_part(body, html);
        if was_cut {
            truncated = Some((human_size(shown.len(), m), human_size(body.len(), m)));
        }
        shown.to_owned()
    };
    let mut subject = shown(msg.subject().trim());
    let (from, to, cc) = (
        shown(&display_addresses(msg.from())),
        shown(&display_addresses(msg.to())),
        shown(&display_addresses(msg.cc())),
    );
    let date = msg.sent_date().unwrap_or(row.internal_date);
    let sender = msg.sender();
    let trusted = match &sender {
        Some(s) => app.ms.is_trusted_sender(account.id, s).await.unwrap_or(false),
        None => false,
    };
    let images = shown_as.images || trusted;
    let mut suspicious = Vec::new();
    match msg.body() {
        Some(Body::Html(html)) => {
            let clean = clean_html(&cut(&html, true), images);
            blocked_images = clean.blocked_images;
            suspicious = clean.suspicious;
            frame = Some(if images { format!("{base}/contenu?images=1") } else { format!("{base}/contenu") });
        }
        Some(Body::Text(t)) => text = Some(text_to_html(&cut(&t, false))),
        None => {}
    }
    let mut events = calendar_events(msg, m, &v.chrome.clock);
    if shared {
        // Answering is the owner's: the invitation route is theirs alone.
        events.iter_mut().for_each(|e| e.answerable = false);
    } else {
        super::invitation::fill_answers(app, account, &mut events).await;
    }
    let mut attachments = Vec::new();
    for (n, file) in msg.files().into_iter().enumerate() {
        // The first bytes tell whether a preview is safe: only they are decoded.
        let inline = msg.file_head(n).and_then(|head| preview_type(&file.content_type, &head));
        let read = file.readable_message().then(|| format!("{base}/joint/{n}"));
        attachments.push(AttachmentView {
            href: format!("{base}/pj/{n}"),
            name: file_name(&file),
            size: human_size(file.size, m),
            content_type: file.content_type,
            preview: inline.map(|_| format!("{base}/apercu/{n}")),
            image: inline.is_some_and(|t| t.starts_with("image/")),
            read,
        });
    }
    if subject.is_empty() {
        subject = m.get("mail.nosubject").to_owned();
    }
    let origin = origin(app, sender.as_deref(), msg.raw()).await?;
    let spam = spam_verdict(msg.raw(), m.0 == crate::base::i18n::Lang::En);
    let name = display_name(mailbox, m);
    Ok(Article {
        m,
        csrf: shown_as.csrf,
        in_pane: false,
        mailbox_id: mailbox.id,
        mailbox_name: name,
        uid: row.uid,
        subject,
        from,
        to,
        cc,
        date: v.chrome.clock.relative(date, crate::base::session::unix_now(), v.lang),
        exact_date: v.chrome.clock.exact(date),
        text,
        frame,
        blocked_images: blocked_images && !shown_as.images && !trusted,
        truncated,
        source_link: format!("{base}/source"),
        images_link: format!("{base}?images=1"),
        sender,
        trusted,
        external: origin == Origin::External,
        spoofed: origin == Origin::Spoofed,
        suspicious,
        spam,
        can_report: app.cfg.security_address.is_some() && app.outbox.is_some(),
        events,
        attachments,
        seen: may_seen || row.flags & Flag::Seen.bit() != 0,
        flagged: row.flags & Flag::Flagged.bit() != 0,
        targets: shown_as.targets,
        shared,
        list_archive: super::list_archive::link_in(msg.raw(), &app.cfg.public_url),
        may_seen,
        may_flag: at.rights.contains(model::Rights::WRITE),
        may_delete: at.rights.contains(mailstore::MOVE_AWAY),
    })
}

impl Article {
    /// The same message, for the list's reading pane.
    pub(super) fn in_pane(self) -> Article {
        Article { in_pane: true, ..self }
    }
}

/// Points from which one reason alone is worth a warning (a lookalike
/// domain, a credential request); below, light anomalies (no Date, an
/// incomplete HELO) are said only of a message judged spam, so that
/// ordinary mail from a careless sender carries no alarm.
const WORTH_SAYING: f64 = 2.0;

/// The verdict our MX wrote into the message (`hygiene::stamp::read`: only
/// the fields right below our own `Received:` line are believed), shown
/// when there is something to explain.
fn spam_verdict(raw: &[u8], english: bool) -> Option<(bool, String, Vec<String>)> {
    let stamp = hygiene::stamp::read(raw)?;
    if stamp.reasons.is_empty() || !(stamp.spam || stamp.reasons.iter().any(|r| r.points >= WORTH_SAYING)) {
        return None;
    }
    let reasons = stamp.reasons.iter().map(|r| r.text(english)).collect();
    Some((stamp.spam, format!("{:.1}", stamp.score), reasons))
}

/// The CSP of the frame: nothing may load but images (inline ones always,
/// HTTPS ones when the reader asked) and nothing may run but the one script
/// of ours carrying `nonce` (a fresh random value per response, see
/// [`FRAME_SCRIPT`]); without a nonce (errors, the login page) no script at
/// all. The sandbox never gets `allow-same-origin`: the document has an
/// opaque origin, so even our script reaches no cookie, no storage and
/// nothing of the reading page, and can only post its height.
pub fn frame_csp(images: bool, nonce: Option<&str>) -> String {
    let img = if images { "data: https:" } else { "data:" };
    let (script, sandbox) = match nonce {
        Some(n) => (format!("script-src 'nonce-{n}'; "), "allow-scripts allow-popups allow-popups-to-escape-sandbox"),
        None => (String::new(), "allow-popups allow-popups-to-escape-sandbox"),
    };
    format!(
        "default-src 'none'; {script}img-src {img}; style-src 'unsafe-inline'; frame-ancestors 'self'; \
         base-uri 'none'; form-action 'none'; sandbox {sandbox}"
    )
}

/// Our script in the frame: it tells the reading page the height of the
/// mail (when parsed, loaded, and whenever it changes, e.g. as images
/// arrive) so the frame can take that height instead of a fixed box with
/// a scrollbar of its own. It is placed first in `<head>`, before any mail
/// markup; the mail's own scripts and `on...` attributes, already removed
/// by ammonia, would be refused anyway by the CSP (no `'unsafe-inline'`,
/// and they cannot know the nonce). It asks for nothing and can load
/// nothing (`default-src 'none'`); the page checks that a height comes
/// from this frame and bounds it (`courrier.js`).
pub const FRAME_SCRIPT: &str = r#"(function(){"use strict";var last=-1;
function height(){var d=document.documentElement,b=document.body,h=d.getBoundingClientRect().height;
if(b){h=Math.max(h,b.scrollHeight+16);}if(d.scrollWidth>d.clientWidth){h+=20;}return Math.ceil(h);}
function tell(force){var h=height();if(force===true||h!==last){last=h;parent.postMessage({ardoiseHauteur:h},"*");}}
document.addEventListener("DOMContentLoaded",function(){tell();
if(window.ResizeObserver){new ResizeObserver(function(){tell();}).observe(document.body);}});
window.addEventListener("load",function(){tell();});
window.addEventListener("message",function(e){if(e.source===parent&&e.data==="ardoise-hauteur"){tell(true);}});
}());"#;

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
    framed(&found.msg, q.images())
}

/// The frame's answer: `msg`'s HTML body cleaned (empty when its body is
/// not HTML), remote images kept only when `images`, with our height
/// script under a fresh nonce and the frame's own headers.
pub(super) fn framed(msg: &MessageView, images: bool) -> Response {
    let body = match msg.body() {
        Some(Body::Html(h)) => clean_html(shown_part(&h, true).0, images).html,
        _ => String::new(),
    };
    let nonce = format!("{:032x}", rand::random::<u128>());
    let doc = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><script nonce=\"{nonce}\">{FRAME_SCRIPT}</script>\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <style>body{{font-family:Marianne,Arial,sans-serif;font-size:15px;line-height:1.45;color:#161616;\
         margin:8px;overflow-wrap:anywhere}}img{{max-width:100%;height:auto}}\
         a.ardoise-trompeur{{background:#fee9e9;color:#ce0500;outline:2px solid #ce0500}}</style></head><body>{body}</body></html>"
    );
    let resp = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], doc).into_response();
    headers(resp, &frame_csp(images, Some(&nonce)))
}

/// The frame's headers on an answer that is not the mail (the login page,
/// an error): no script at all.
pub(super) fn with_frame_headers(resp: Response, images: bool) -> Response {
    headers(resp, &frame_csp(images, None))
}

fn headers(mut resp: Response, csp: &str) -> Response {
    let h = resp.headers_mut();
    if let Ok(value) = HeaderValue::from_str(csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, value);
    }
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
    let Found { v, msg, .. } = find(&app, reader, mailbox, uid).await?;
    let (file, bytes) = msg.file(n).ok_or_else(|| not_found(v.lang))?;
    Ok(download(bytes, &file_name(&file)))
}

/// `bytes` as a download named `name` (never shown inline, never sniffed).
pub(super) fn download(bytes: Vec<u8>, name: &str) -> Response {
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
    let Found { msg, .. } = find(&app, reader, mailbox, uid).await?;
    Ok(download(msg.into_raw(), &format!("message-{uid}.eml")))
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
    fn the_frame_runs_only_our_nonced_script_and_never_gets_its_origin() {
        for images in [false, true] {
            let csp = frame_csp(images, Some("0123abcd"));
            assert!(csp.starts_with("default-src 'none'; script-src 'nonce-0123abcd'; img-src"), "{csp}");
            assert!(!csp.contains("script-src 'unsafe") && !csp.contains("strict-dynamic"), "{csp}");
            assert!(csp.ends_with("sandbox allow-scripts allow-popups allow-popups-to-escape-sandbox"), "{csp}");
            assert!(!csp.contains("allow-same-origin") && !csp.contains("allow-forms") && !csp.contains("allow-top"));
            assert_eq!(csp.contains("https:"), images);
            let bare = frame_csp(images, None);
            assert!(!bare.contains("script-src") && !bare.contains("allow-scripts"), "{bare}");
            assert!(!bare.contains("allow-same-origin"));
        }
        // The script asks for nothing and only posts a number to the page.
        for word in ["fetch", "XMLHttpRequest", "cookie", "localStorage", "eval", "innerHTML", "location", "top."] {
            assert!(!FRAME_SCRIPT.contains(word), "{word}");
        }
    }

    #[test]
    fn each_frame_gets_a_fresh_nonce_on_its_one_script() {
        let raw = b"Content-Type: text/html\r\n\r\n<p onclick=\"x()\">Bonjour</p><script>alert(1)</script>";
        let msg = MessageView::new(raw.to_vec(), None);
        let nonce_of = |resp: &Response| {
            let csp = resp.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
            csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned()
        };
        let (a, b) = (framed(&msg, false), framed(&msg, false));
        let (na, nb) = (nonce_of(&a), nonce_of(&b));
        assert_eq!(na.len(), 32);
        assert_ne!(na, nb, "a nonce is never reused");
        let body = futures_body(a);
        assert_eq!(body.matches("<script").count(), 1, "{body}");
        assert!(body.contains(&format!("<script nonce=\"{na}\">")), "{body}");
        assert!(body.contains("Bonjour") && !body.contains("onclick") && !body.contains("alert(1)"), "{body}");
    }

    fn futures_body(resp: Response) -> String {
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(axum::body::to_bytes(resp.into_body(), usize::MAX))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
