//! « Messages supprimés récemment » (`/courrier/supprimes`, issue 20): the
//! messages the account deleted for good (EXPUNGE from a mail client, the
//! Corbeille emptied or its messages deleted, a folder deleted, the
//! Corbeille's retention) that can still be restored, newest deletion
//! first, a page at a time; ticking some and « Restaurer » puts them back
//! (their folder, else the Inbox) through `Mailstore::restore_deleted`,
//! which only ever touches the signed-in account's own messages.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::folders::{FolderView, sidebar};
use super::list::sender_name;
use super::sanitize::shown;
use super::{M, Reader, ReaderForm, common};
use crate::App;
use crate::base::{Common, WebError, redirect, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("del.title", "Messages supprimés récemment", "Recently deleted messages"),
    (
        "del.intro",
        "Les messages supprimés définitivement (corbeille vidée, suppression depuis un logiciel de messagerie, dossier supprimé) restent restaurables pendant",
        "Messages deleted for good (emptied trash, deleted from a mail client, deleted folder) can be restored for",
    ),
    ("del.days", "jours", "days"),
    (
        "del.where",
        "Un message restauré retourne dans son dossier d'origine, ou dans la boîte de réception si ce dossier n'existe plus.",
        "A restored message goes back to its folder, or to the Inbox if that folder no longer exists.",
    ),
    ("del.none", "Aucun message supprimé à restaurer.", "No deleted message to restore."),
    ("del.restore", "Restaurer la sélection", "Restore the selection"),
    ("del.select", "Choisir", "Select"),
    ("del.deleted", "Supprimé le", "Deleted on"),
    ("del.folder", "Dossier", "Folder"),
    ("del.older", "Messages supprimés plus anciens", "Older deleted messages"),
    ("del.first", "Retour aux plus récents", "Back to the newest"),
    ("del.restored", "message(s) restauré(s).", "message(s) restored."),
    ("del.noselection", "Aucun message choisi.", "No message selected."),
    ("del.gone", "Ces messages ne sont plus restaurables.", "These messages can no longer be restored."),
    ("del.link", "Messages supprimés récemment", "Recently deleted messages"),
];

/// Messages per page.
const PAGE: i64 = 50;
/// Most ids one restore takes.
const MAX_RESTORE: usize = 1_000;

#[derive(Debug, Default, Deserialize)]
pub struct DeletedQuery {
    /// The next page: deleted ids below this one.
    avant: Option<i64>,
    /// `restaures` (with `n`), `aucun`, `perdus`.
    info: Option<String>,
    n: Option<usize>,
}

/// One line of the page.
struct Row {
    id: i64,
    deleted: String,
    date: String,
    folder: String,
    from: String,
    subject: String,
}

#[derive(Template)]
#[template(path = "mail/deleted.html")]
struct DeletedPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    rows: Vec<Row>,
    days: u64,
    older: Option<i64>,
    paged: bool,
}

/// `GET /courrier/supprimes`.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<DeletedQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let folders = sidebar(&app, &account, None, m).await?;
    let found = app.ms.deleted_messages(account.id, q.avant, PAGE + 1).await?;
    let more = found.len() as i64 > PAGE;
    let rows: Vec<Row> = found
        .iter()
        .take(PAGE as usize)
        .map(|d| {
            let subject = shown(d.subject.trim());
            Row {
                id: d.id,
                deleted: v.chrome.clock.full(d.deleted_at),
                date: v.chrome.clock.full(d.sent_date.unwrap_or(d.internal_date)),
                folder: shown(&folder_name(&d.mailbox_name, m)),
                from: sender_name(&d.from_addr),
                subject: if subject.is_empty() { m.get("mail.nosubject").to_owned() } else { subject },
            }
        })
        .collect();
    let older = if more { rows.last().map(|r| r.id) } else { None };
    let mut c = common(&app, &mut v, m.get("del.title"));
    c.info = match (q.info.as_deref(), q.n) {
        (Some("restaures"), Some(n)) => Some(format!("{n} {}", m.get("del.restored"))),
        (Some("aucun"), _) => Some(m.get("del.noselection").to_owned()),
        (Some("perdus"), _) => Some(m.get("del.gone").to_owned()),
        _ => None,
    };
    let page = DeletedPage { c, m, folders, rows, days: app.cfg.undelete_days, older, paged: q.avant.is_some() };
    Ok(render(&v, StatusCode::OK, &page))
}

/// `POST /courrier/supprimes`: restores the ticked messages (`id` repeated).
pub async fn restore(
    State(app): State<Arc<App>>,
    ReaderForm { v, account, form: fields }: ReaderForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let mut ids: Vec<i64> =
        fields.iter().filter(|(k, _)| k == "id").filter_map(|(_, v)| v.parse().ok()).take(MAX_RESTORE).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(redirect(&v, "/courrier/supprimes?info=aucun"));
    }
    let back = app.ms.restore_deleted(account.id, &ids).await?;
    if back.is_empty() {
        return Ok(redirect(&v, "/courrier/supprimes?info=perdus"));
    }
    Ok(redirect(&v, &format!("/courrier/supprimes?info=restaures&n={}", back.len())))
}

/// The name a reader knows a folder by: the special folders' French names
/// are kept as they are, the Inbox is named in the reader's language.
fn folder_name(name: &str, m: M) -> String {
    if name == "INBOX" {
        if m.0 == crate::base::i18n::Lang::En { "Inbox".into() } else { "Boîte de réception".into() }
    } else {
        name.to_owned()
    }
}
