//! A list's archive (`/listes/<address>/archives`, issue 22): the page the
//! `List-Archive` field of an archiving list names. The posts, newest first,
//! by pages of [`PAGE`] (« Messages plus anciens » carries the last id
//! shown), and one post (`/listes/<address>/archives/<id>`) read as the
//! moderation page reads a held post: plain text escaped, HTML cleaned by
//! [`super::sanitize`] in the reading page's sandboxed frame with its own
//! CSP (`…/<id>/contenu`), remote images blocked, attachments named only.
//!
//! Who may read is the lists domain's answer (`Lists::archive_page`,
//! `Lists::archived_for`): a signed-in account the list reaches now, or one
//! of its active moderators. Anyone else, and any unknown list, address or
//! post, gets the same 404 page, so list names cannot be probed.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mailstore::{MessageView, display_addresses};
use model::Address;
use serde::Deserialize;

use super::folders::{FolderView, sidebar};
use super::list_post::{ShownPost, failed, service, shown_post, subject_or_none};
use super::read::{framed, with_frame_headers};
use super::sanitize::shown;
use super::{M, Reader, common, not_found};
use crate::App;
use crate::base::i18n::Lang;
use crate::base::{Common, WebError, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("larch.title", "Archives de la liste", "List archive"),
    ("larch.open", "Archives de la liste", "List archive"),
    (
        "larch.intro",
        "Les messages diffusés sur cette liste, du plus récent au plus ancien, tels que ses membres les ont reçus.",
        "The messages this list distributed, newest first, as its members received them.",
    ),
    ("larch.none", "Aucun message archivé.", "No archived message."),
    (
        "larch.off",
        "Cette liste n'archive pas (ou plus) ses messages : seuls ceux déjà archivés sont ici.",
        "This list does not (or no longer) archive its messages: only those archived before are here.",
    ),
    ("larch.count", "message(s) archivé(s)", "archived message(s)"),
    ("larch.received", "Diffusé le", "Distributed on"),
    ("larch.older", "Messages plus anciens", "Older messages"),
    ("larch.newest", "Messages les plus récents", "Newest messages"),
    ("larch.back", "Retour aux archives de la liste", "Back to the list archive"),
    (
        "larch.unavailable",
        "Les archives des listes sont indisponibles pour le moment.",
        "List archives are unavailable right now.",
    ),
];

/// Posts per page.
pub const PAGE: usize = 50;

/// A post in the archive's table.
struct Row {
    id: i64,
    from: String,
    subject: String,
    received: String,
}

#[derive(Template)]
#[template(path = "mail/list_archive.html")]
struct ArchivePage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    /// `/listes/<address>/archives`, the address encoded as in `List-Archive`.
    base: String,
    address: String,
    name: String,
    archiving: bool,
    total: i64,
    rows: Vec<Row>,
    /// The next page's link, when older posts remain.
    older: Option<String>,
    /// Whether this is a later page (a link back to the newest).
    later: bool,
}

#[derive(Template)]
#[template(path = "mail/list_archive_post.html")]
struct PostPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    base: String,
    address: String,
    list: String,
    from: String,
    subject: String,
    date: String,
    received: String,
    text: Option<String>,
    frame: Option<String>,
    files: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// The last id of the previous page: posts older than it.
    avant: Option<i64>,
}

/// The list's address from the path; one that does not parse is a list
/// that does not exist.
fn list_address(raw: &str, lang: Lang) -> Result<Address, WebError> {
    Address::parse(raw).map_err(|_| not_found(lang))
}

/// The path of one of our list archives that a message names in its
/// `List-Archive` field (RFC 2369: `<URL>`), for the reader's link: only an
/// address under our public one (`public_url`), of the form
/// `/listes/<one segment>/archives`. Anything else is no link.
pub(super) fn link_in(raw: &[u8], public_url: &str) -> Option<String> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len()).min(64 << 10);
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let line = head.lines().find(|l| l.get(..13).is_some_and(|n| n.eq_ignore_ascii_case("list-archive:")))?;
    let url = line[13..].trim().strip_prefix('<')?.split('>').next()?;
    let path = url.strip_prefix(public_url.trim_end_matches('/'))?;
    let segment = path.strip_prefix("/listes/")?.strip_suffix("/archives")?;
    let plain = |c: char| c.is_ascii_alphanumeric() || "-._~@+!$&'*=,;%".contains(c);
    (!segment.is_empty() && segment.chars().all(plain)).then(|| path.to_owned())
}

/// `GET /listes/<address>/archives[?avant=ID]`: a page of the archive.
pub async fn page(
    State(app): State<Arc<App>>,
    Path(address): Path<String>,
    Query(q): Query<PageQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let lists = service(&app, v.lang, "larch.unavailable")?;
    let address = list_address(&address, v.lang)?;
    let found = lists.archive_page(account.id, &address, q.avant, PAGE).await.map_err(|e| failed(v.lang, e))?;
    let base = lists::headers::archive_url("", &found.list.address);
    let older = found.older.map(|id| format!("{base}?avant={id}"));
    let rows = found
        .posts
        .iter()
        .map(|p| Row {
            id: p.id,
            from: shown(&p.from),
            subject: subject_or_none(&p.subject, m),
            received: v.chrome.clock.full(p.received_at),
        })
        .collect();
    let folders = sidebar(&app, &account, None, m).await?;
    let c = common(&app, &mut v, m.get("larch.title"));
    let page = ArchivePage {
        c,
        m,
        folders,
        base,
        address: found.list.address.to_string(),
        name: shown(&found.list.name),
        archiving: found.list.archive,
        total: found.total,
        rows,
        older,
        later: q.avant.is_some(),
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// `GET /listes/<address>/archives/<id>`: one archived post, its headers
/// and its body shown safely.
pub async fn post(
    State(app): State<Arc<App>>,
    Path((address, id)): Path<(String, i64)>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let lists = service(&app, v.lang, "larch.unavailable")?;
    let address = list_address(&address, v.lang)?;
    let (list, archived, raw) = lists.archived_for(account.id, &address, id).await.map_err(|e| failed(v.lang, e))?;
    let msg = MessageView::new(raw, None);
    let base = lists::headers::archive_url("", &list.address);
    let ShownPost { text, frame, files } = shown_post(&msg, &format!("{base}/{id}/contenu"));
    let folders = sidebar(&app, &account, None, m).await?;
    let subject = subject_or_none(msg.subject(), m);
    let c = common(&app, &mut v, &subject);
    let page = PostPage {
        c,
        m,
        folders,
        base,
        address: list.address.to_string(),
        list: shown(&list.name),
        from: shown(&display_addresses(msg.from())),
        subject,
        date: msg.sent_date().map(|d| v.chrome.clock.full(d)).unwrap_or_default(),
        received: v.chrome.clock.full(archived.received_at),
        text,
        frame,
        files,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// `GET /listes/<address>/archives/<id>/contenu`: the post's cleaned HTML
/// body for the sandboxed frame, remote images blocked, with the frame's
/// own headers.
pub async fn frame(
    State(app): State<Arc<App>>,
    Path((address, id)): Path<(String, i64)>,
    reader: Result<Reader, Response>,
) -> Response {
    let reader = match reader {
        Ok(reader) => reader,
        Err(login) => return with_frame_headers(login, false),
    };
    let lang = reader.v.lang;
    let found = match (service(&app, lang, "larch.unavailable"), list_address(&address, lang)) {
        (Ok(lists), Ok(address)) => {
            lists.archived_for(reader.account.id, &address, id).await.map_err(|e| failed(lang, e))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match found {
        Ok((_, _, raw)) => framed(&MessageView::new(raw, None), false),
        Err(e) => with_frame_headers(e.into_response(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::link_in;

    #[test]
    fn only_our_own_archive_addresses_become_links() {
        let ours = b"From: a@b.c\r\nList-Archive: <https://mail.ac-demo.fr/listes/cdi@ac-demo.fr/archives>\r\n\r\nx";
        assert_eq!(link_in(ours, "https://mail.ac-demo.fr").as_deref(), Some("/listes/cdi@ac-demo.fr/archives"));
        let folded = b"list-archive:\r\n <https://mail.ac-demo.fr/listes/cdi@ac-demo.fr/archives>\r\n\r\n";
        assert_eq!(link_in(folded, "https://mail.ac-demo.fr"), None, "a folded field is left alone");
        for other in [
            &b"List-Archive: <https://ailleurs.example.org/listes/cdi@ac-demo.fr/archives>\r\n\r\n"[..],
            b"List-Archive: <https://mail.ac-demo.fr/listes/a/b/archives>\r\n\r\n",
            b"List-Archive: <https://mail.ac-demo.fr/listes/x\"onclick=\"y/archives>\r\n\r\n",
            b"List-Archive: <https://mail.ac-demo.fr.example.org/listes/cdi@ac-demo.fr/archives>\r\n\r\n",
            b"Subject: x\r\n\r\nList-Archive: <https://mail.ac-demo.fr/listes/cdi@ac-demo.fr/archives>\r\n",
        ] {
            assert_eq!(link_in(other, "https://mail.ac-demo.fr"), None, "{}", String::from_utf8_lossy(other));
        }
    }
}
