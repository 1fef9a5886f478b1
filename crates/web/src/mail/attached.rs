//! Reading a message attached to another (`message/rfc822`, a forwarded
//! `.eml`) inline, in the reading page's layout: its headers, its body
//! (plain text escaped, or HTML cleaned by [`super::sanitize`] and shown in
//! the same sandboxed frame with its own CSP, remote images always blocked)
//! and its own files, downloadable, attached messages readable in turn.
//!
//! An attached message is addressed by the chain of file numbers that leads
//! to it from the message read: `/courrier/<mailbox>/<uid>/joint/2` is the
//! file 2 of the message, `.../joint/2.0` the file 0 of that one, down to
//! [`mailstore::ATTACHED_DEPTH`]. The domain analyses it only when it is
//! opened ([`mailstore::MessageView::attached_at`]); the outer message is
//! read through its stored analysis like on the reading page. Another
//! account's message, a file that is not a message, or a chain too deep is
//! the 404 page.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mailstore::{ATTACHED_DEPTH, Body, File, MessageView, display_addresses};

use super::folders::{FolderView, sidebar};
use super::links::Mismatch;
use super::read::{AttachmentView, Found, download, find, framed, human_size, with_frame_headers};
use super::sanitize::{clean_filename, clean_html, shown, shown_part, text_to_html};
use super::{M, Reader, common, not_found};
use crate::App;
use crate::base::{Common, WebError, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("att.read", "Lire", "Read"),
    ("att.title", "Message joint", "Attached message"),
    ("att.back", "Retour au message", "Back to the message"),
    ("att.download", "Télécharger ce message (.eml)", "Download this message (.eml)"),
    (
        "att.images",
        "Les images distantes d'un message joint ne sont pas affichées.",
        "Remote images of an attached message are not shown.",
    ),
];

#[derive(Template)]
#[template(path = "mail/attached.html")]
struct AttachedPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    /// The page of the message (or attached message) this one is attached to.
    back: String,
    subject: String,
    from: String,
    to: String,
    cc: String,
    date: String,
    exact_date: String,
    text: Option<String>,
    frame: Option<String>,
    blocked_images: bool,
    truncated: Option<(String, String)>,
    /// This attached message as a download (`.eml`).
    source_link: String,
    suspicious: Vec<Mismatch>,
    attachments: Vec<AttachmentView>,
}

/// A chain of file numbers as written in the path (`2`, `2.0`); `None` when
/// it is not one or is deeper than the domain opens.
fn parse_chain(text: &str) -> Option<Vec<usize>> {
    let chain: Vec<usize> = text.split('.').map(|n| n.parse().ok()).collect::<Option<_>>()?;
    (!chain.is_empty() && chain.len() <= ATTACHED_DEPTH).then_some(chain)
}

fn chain_text(chain: &[usize]) -> String {
    chain.iter().map(usize::to_string).collect::<Vec<_>>().join(".")
}

/// The name a file is shown and downloaded under; a nameless attached
/// message is `message.eml`.
pub fn file_name(file: &File) -> String {
    match file.name.as_deref() {
        None if file.message => "message.eml".to_owned(),
        name => clean_filename(name.unwrap_or("")),
    }
}

/// The attached message at `chain` of the message `uid` of `mailbox`, with
/// the reading page's base address and the signed-in visitor.
async fn open(
    app: &App,
    reader: Reader,
    mailbox: i64,
    uid: i64,
    chain: &str,
) -> Result<(Found, Vec<usize>, MessageView), WebError> {
    let lang = reader.v.lang;
    let chain = parse_chain(chain).ok_or_else(|| not_found(lang))?;
    let found = find(app, reader, mailbox, uid).await?;
    let inner = found.msg.attached_at(&chain).ok_or_else(|| not_found(lang))?;
    Ok((found, chain, inner))
}

/// `/courrier/<mailbox>/<uid>/joint/<chain>`: an attached message, read.
/// Reading it changes no flag of the message it is attached to.
pub async fn page(
    State(app): State<Arc<App>>,
    Path((mailbox, uid, chain)): Path<(i64, i64, String)>,
    reader: Reader,
) -> Result<Response, WebError> {
    let (Found { mut v, account, mailbox, row, .. }, chain, msg) = open(&app, reader, mailbox, uid, &chain).await?;
    let m = M(v.lang);
    let message = format!("/courrier/{}/{}", mailbox.id, row.uid);
    let here = format!("{message}/joint/{}", chain_text(&chain));
    let (parent, last) = chain.split_at(chain.len() - 1);
    let back = if parent.is_empty() { message.clone() } else { format!("{message}/joint/{}", chain_text(parent)) };
    // The parent's file `last`: the attached message whole, as received.
    let source_link = format!("{back}/pj/{}", last[0]);
    let (mut text, mut frame, mut blocked_images, mut truncated, mut suspicious) =
        (None, None, false, None, Vec::new());
    let mut cut = |body: &'_ str, html: bool| {
        let (part, was_cut) = shown_part(body, html);
        if was_cut {
            truncated = Some((human_size(part.len(), m), human_size(body.len(), m)));
        }
        part.to_owned()
    };
    match msg.body() {
        Some(Body::Html(html)) => {
            let clean = clean_html(&cut(&html, true), false);
            blocked_images = clean.blocked_images;
            suspicious = clean.suspicious;
            frame = Some(format!("{here}/contenu"));
        }
        Some(Body::Text(t)) => text = Some(text_to_html(&cut(&t, false))),
        None => {}
    }
    let deeper = chain.len() < ATTACHED_DEPTH;
    let attachments = msg
        .files()
        .iter()
        .enumerate()
        .map(|(n, file)| AttachmentView {
            href: format!("{here}/pj/{n}"),
            name: file_name(file),
            size: human_size(file.size, m),
            content_type: file.content_type.clone(),
            preview: None,
            image: false,
            read: (deeper && file.readable_message()).then(|| format!("{here}.{n}")),
        })
        .collect();
    let mut subject = shown(msg.subject().trim());
    if subject.is_empty() {
        subject = m.get("mail.nosubject").to_owned();
    }
    let folders = sidebar(&app, &account, Some(mailbox.id), m).await?;
    let c = common(&app, &mut v, &subject);
    let date = msg.sent_date();
    let page = AttachedPage {
        c,
        m,
        folders,
        back,
        subject,
        from: shown(&display_addresses(msg.from())),
        to: shown(&display_addresses(msg.to())),
        cc: shown(&display_addresses(msg.cc())),
        date: date.map(|d| v.chrome.clock.relative(d, crate::base::session::unix_now(), v.lang)).unwrap_or_default(),
        exact_date: date.map(|d| v.chrome.clock.exact(d)).unwrap_or_default(),
        text,
        frame,
        blocked_images,
        truncated,
        source_link,
        suspicious,
        attachments,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// `/courrier/<mailbox>/<uid>/joint/<chain>/contenu`: the attached
/// message's cleaned HTML body for the sandboxed frame, remote images
/// blocked, with the frame's own headers.
pub async fn frame(
    State(app): State<Arc<App>>,
    Path((mailbox, uid, chain)): Path<(i64, i64, String)>,
    reader: Result<Reader, Response>,
) -> Response {
    let opened = match reader {
        Ok(reader) => open(&app, reader, mailbox, uid, &chain).await,
        Err(login) => return with_frame_headers(login, false),
    };
    match opened {
        Ok((_, _, msg)) => framed(&msg, false),
        Err(e) => with_frame_headers(e.into_response(), false),
    }
}

/// `/courrier/<mailbox>/<uid>/joint/<chain>/pj/<n>`: a file of the attached
/// message, always as a download.
pub async fn attachment(
    State(app): State<Arc<App>>,
    Path((mailbox, uid, chain, n)): Path<(i64, i64, String, usize)>,
    reader: Reader,
) -> Result<Response, WebError> {
    let lang = reader.v.lang;
    let (_, _, msg) = open(&app, reader, mailbox, uid, &chain).await?;
    let (file, bytes) = msg.file(n).ok_or_else(|| not_found(lang))?;
    Ok(download(bytes, &file_name(&file)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_are_file_numbers_down_to_the_depth_cap() {
        assert_eq!(parse_chain("2"), Some(vec![2]));
        assert_eq!(parse_chain("2.0.1"), Some(vec![2, 0, 1]));
        assert_eq!(parse_chain(&["0"; ATTACHED_DEPTH + 1].join(".")), None);
        for bad in ["", ".", "1.", "-1", "a", "1..2", "1/2"] {
            assert_eq!(parse_chain(bad), None, "{bad}");
        }
        assert_eq!(chain_text(&[2, 0]), "2.0");
    }
}
