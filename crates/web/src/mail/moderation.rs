//! « Listes » → « À modérer » (`/courrier/moderation`, issue 22): the posts
//! held on the lists the reader moderates, each opened with a safe preview
//! (plain text escaped, HTML cleaned by [`super::sanitize`] and shown in the
//! reading page's sandboxed frame, remote images blocked), then approved or
//! refused with an optional reason. Everything goes through the lists
//! domain's `*_as` functions, the CLI's own approval and refusal after the
//! check that the reader is a moderator of that list who may act now: the
//! sender is told either way. A post of another list, or any post for a
//! reader who moderates nothing, is the 404 page.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mailstore::{MessageView, display_addresses};
use serde::Deserialize;

use super::folders::{FolderView, sidebar};
use super::list_post::{ShownPost, failed, service, shown_post, subject_or_none};
use super::read::{framed, with_frame_headers};
use super::sanitize::shown;
use super::{M, Reader, ReaderForm, common, refused};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::{Common, WebError, redirect, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("mod.link", "Listes · À modérer", "Lists · To moderate"),
    ("mod.waiting", "en attente", "waiting"),
    ("mod.title", "Listes : messages à modérer", "Lists: messages to moderate"),
    (
        "mod.intro",
        "Ces messages attendent votre décision. Diffusé, un message part vers les membres de la liste ; refusé, il est supprimé. L'expéditeur est prévenu dans les deux cas.",
        "These messages await your decision. Approved, a message goes to the list's members; refused, it is deleted. The sender is told either way.",
    ),
    ("mod.none", "Aucun message en attente.", "No message waiting."),
    ("mod.list", "Liste", "List"),
    ("mod.sender", "Expéditeur", "Sender"),
    ("mod.received", "Reçu le", "Received on"),
    ("mod.open", "Examiner", "Review"),
    ("mod.back", "Retour aux messages à modérer", "Back to the messages to moderate"),
    ("mod.approve", "Diffuser sur la liste", "Approve and distribute"),
    ("mod.refuse", "Refuser", "Refuse"),
    ("mod.reason", "Motif du refus (facultatif, envoyé à l'expéditeur)", "Reason (optional, sent to the sender)"),
    ("mod.approved", "Message diffusé ; l'expéditeur est prévenu.", "Message distributed; the sender was told."),
    ("mod.refused", "Message refusé ; l'expéditeur est prévenu.", "Message refused; the sender was told."),
    (
        "mod.gone",
        "Ce message n'attend plus de décision : un autre modérateur l'a déjà traité, ou il a expiré.",
        "This message no longer awaits a decision: another moderator already dealt with it, or it expired.",
    ),
    ("mod.bad", "Choisissez « Diffuser » ou « Refuser ».", "Choose « Approve » or « Refuse »."),
    (
        "mod.unavailable",
        "La modération des listes est indisponible pour le moment.",
        "List moderation is unavailable right now.",
    ),
];

/// Longest reason passed on to the sender.
const MAX_REASON: usize = 1_000;

/// A held post in the queue's table.
struct Row {
    id: i64,
    sender: String,
    subject: String,
    received: String,
}

/// A list and what waits on it.
struct Queue {
    address: String,
    name: String,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "mail/moderation.html")]
struct QueuePage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    queues: Vec<Queue>,
}

#[derive(Template)]
#[template(path = "mail/moderation_post.html")]
struct PostPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    id: i64,
    list: String,
    sender: String,
    from: String,
    subject: String,
    date: String,
    received: String,
    text: Option<String>,
    frame: Option<String>,
    files: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    /// `diffuse` or `refuse`.
    info: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Decision {
    #[serde(default)]
    csrf: String,
    /// `diffuser` or `refuser`.
    #[serde(default)]
    decision: String,
    #[serde(default)]
    motif: String,
}

has_csrf!(Decision);

/// `GET /courrier/moderation`: the held posts of every list the reader
/// moderates, oldest first.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<QueueQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let lists = service(&app, v.lang, "mod.unavailable")?;
    let moderated = lists.moderated_by(account.id).await.map_err(|e| failed(v.lang, e))?;
    let queues = moderated
        .into_iter()
        .map(|(list, held)| Queue {
            address: list.address.to_string(),
            name: shown(&list.name),
            rows: held
                .iter()
                .map(|h| Row {
                    id: h.id,
                    sender: shown(if h.sender.is_empty() { "<>" } else { &h.sender }),
                    subject: subject_or_none(&h.subject, m),
                    received: v.chrome.clock.full(h.received_at),
                })
                .collect(),
        })
        .collect();
    let folders = sidebar(&app, &account, None, m).await?;
    let mut c = common(&app, &mut v, m.get("mod.title"));
    c.info = match q.info.as_deref() {
        Some("diffuse") => Some(m.get("mod.approved").to_owned()),
        Some("refuse") => Some(m.get("mod.refused").to_owned()),
        Some("parti") => Some(m.get("mod.gone").to_owned()),
        _ => None,
    };
    Ok(render(&v, StatusCode::OK, &QueuePage { c, m, folders, queues }))
}

/// `GET /courrier/moderation/<id>`: one held post, its headers and a safe
/// preview of its body, with the two decisions.
pub async fn post(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let lists = service(&app, v.lang, "mod.unavailable")?;
    let (held, list, raw) = lists.held_for(account.id, id).await.map_err(|e| failed(v.lang, e))?;
    let msg = MessageView::new(raw, None);
    let ShownPost { text, frame, files } = shown_post(&msg, &format!("/courrier/moderation/{id}/contenu"));
    let folders = sidebar(&app, &account, None, m).await?;
    let subject = subject_or_none(msg.subject(), m);
    let c = common(&app, &mut v, &subject);
    let page = PostPage {
        c,
        m,
        folders,
        id,
        list: list.address.to_string(),
        sender: shown(if held.sender.is_empty() { "<>" } else { &held.sender }),
        from: shown(&display_addresses(msg.from())),
        subject,
        date: msg.sent_date().map(|d| v.chrome.clock.full(d)).unwrap_or_default(),
        received: v.chrome.clock.full(held.received_at),
        text,
        frame,
        files,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// `GET /courrier/moderation/<id>/contenu`: the held post's cleaned HTML
/// body for the sandboxed frame, remote images blocked, with the frame's
/// own headers.
pub async fn frame(State(app): State<Arc<App>>, Path(id): Path<i64>, reader: Result<Reader, Response>) -> Response {
    let reader = match reader {
        Ok(reader) => reader,
        Err(login) => return with_frame_headers(login, false),
    };
    let lang = reader.v.lang;
    let found = match service(&app, lang, "mod.unavailable") {
        Ok(lists) => lists.held_for(reader.account.id, id).await.map_err(|e| failed(lang, e)),
        Err(e) => Err(e),
    };
    match found {
        Ok((_, _, raw)) => framed(&MessageView::new(raw, None), false),
        Err(e) => with_frame_headers(e.into_response(), false),
    }
}

/// `POST /courrier/moderation/<id>`: `decision=diffuser` or `refuser`
/// (with an optional `motif`).
pub async fn decide(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    ReaderForm { v, account, form }: ReaderForm<Decision>,
) -> Result<Response, WebError> {
    let lists = service(&app, v.lang, "mod.unavailable")?;
    let done = match form.decision.as_str() {
        "diffuser" => lists.approve_as(account.id, id).await.map(|_| "diffuse"),
        "refuser" => {
            let reason: String =
                form.motif.chars().filter(|c| !c.is_control() || *c == '\n').take(MAX_REASON).collect();
            lists.refuse_as(account.id, id, Some(&reason)).await.map(|()| "refuse")
        }
        _ => return Err(refused(v.lang, M(v.lang).get("mod.bad"), "/courrier/moderation")),
    };
    match done {
        Ok(info) => Ok(redirect(&v, &format!("/courrier/moderation?info={info}"))),
        // Decided meanwhile by another moderator (or the sweep), or never
        // this reader's to decide: the queue, as it is now, says so (the
        // same answer either way, so it tells a stranger nothing).
        Err(lists::Error::NotFound(_)) => Ok(redirect(&v, "/courrier/moderation?info=parti")),
        Err(e) => Err(failed(v.lang, e)),
    }
}
