//! Managing folders from the webmail: create (at the top or inside a
//! parent), rename and delete (each behind a confirmation page), and
//! "Vider la corbeille". Special-use folders (Inbox, Drafts, Sent, Trash,
//! Junk, Archive) can be neither renamed nor deleted: IMAP clients and the
//! webmail find them by that role.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mailstore::{Account, Mailbox};
use model::SpecialUse;
use serde::Deserialize;

use super::actions::CsrfForm;
use super::folders::{FolderView, display_name, sidebar, valid_new_name};
use super::{M, common, error_page, not_found, own_mailbox, signed_in};
use crate::App;
use crate::pages::{Common, LangQuery, csrf_refused, fail, redirect, render};
use crate::server::Peer;
use crate::session::Visitor;

/// Messages expunged per statement when emptying the Corbeille.
const EXPUNGE_CHUNK: usize = 1000;

#[derive(Debug, Default, Deserialize)]
pub struct FolderForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub nom: String,
    /// The folder the form was shown in, to go back to on error.
    pub depuis: Option<i64>,
    /// Create inside this folder (empty: at the top).
    #[serde(default)]
    pub parent: String,
}

/// `POST /courrier/dossiers`: a new folder, at the top or inside a parent.
pub async fn create_folder(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Form(form): Form<FolderForm>,
) -> Response {
    let (mut v, account) = match signed_in(&app, &headers, peer, &LangQuery::default()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !v.csrf_ok(&app, &form.csrf) {
        return csrf_refused(&app, &mut v);
    }
    let back = form.depuis.map_or_else(|| "/courrier".to_owned(), |id| format!("/courrier/{id}"));
    let m = M(v.lang);
    let Some(name) = valid_new_name(&form.nom) else {
        return error_page(&app, &mut v, m.get("mail.err.foldername"), &back);
    };
    let full = match form.parent.trim().parse::<i64>() {
        Ok(id) => match own_mailbox(&app, &account, id).await {
            // Nothing goes below the Inbox: its name is special in IMAP.
            Ok(Some(p)) if p.name != "INBOX" => format!("{}/{name}", p.name),
            Ok(Some(_)) => name.to_owned(),
            Ok(None) => return not_found(&app, &mut v),
            Err(e) => return fail(&app, &mut v, &e),
        },
        Err(_) => name.to_owned(),
    };
    match app.ms.create_mailbox(account.id, &full, None).await {
        Ok(created) => redirect(&v, &format!("/courrier/{}?info=created", created.id)),
        Err(mailstore::Error::Conflict(_)) => error_page(&app, &mut v, m.get("mail.err.folderexists"), &back),
        Err(mailstore::Error::Invalid(_)) => error_page(&app, &mut v, m.get("mail.err.foldername"), &back),
        Err(e) => fail(&app, &mut v, &e),
    }
}

#[derive(Template)]
#[template(path = "mail/confirm.html")]
struct ConfirmPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    heading: String,
    question: String,
    action: String,
    confirm: String,
    back: String,
    rename: bool,
    current_name: String,
}

/// What a confirmation page is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Rename,
    Delete,
    Empty,
}

async fn ask(app: &App, v: &mut Visitor, account: &Account, mailbox: &Mailbox, what: Ask) -> Response {
    let m = M(v.lang);
    let folders = match sidebar(app, account, Some(mailbox.id), m).await {
        Ok(f) => f,
        Err(e) => return fail(app, v, &e),
    };
    let name = display_name(mailbox, m);
    let (title, question, path, confirm) = match what {
        Ask::Rename => ("mail.folder.rename", "mail.folder.rename.help", "renommer", "mail.folder.rename.button"),
        Ask::Delete => ("mail.folder.delete", "mail.folder.delete.question", "supprimer", "mail.folder.delete.button"),
        Ask::Empty => ("mail.trash.empty", "mail.trash.empty.question", "vider", "mail.trash.empty.button"),
    };
    let heading = format!("{} « {name} »", m.get(title));
    let c = common(app, v, &heading);
    let page = ConfirmPage {
        c,
        m,
        folders,
        heading,
        question: m.get(question).to_owned(),
        action: format!("/courrier/{}/{path}", mailbox.id),
        confirm: m.get(confirm).to_owned(),
        back: format!("/courrier/{}", mailbox.id),
        rename: what == Ask::Rename,
        current_name: name,
    };
    render(v, StatusCode::OK, &page)
}

/// The folder of the path when it is the user's, with the visitor.
async fn folder_of(
    app: &Arc<App>,
    headers: &HeaderMap,
    peer: Peer,
    id: i64,
) -> Result<(Visitor, Account, Mailbox), Response> {
    let (mut v, account) = signed_in(app, headers, peer, &LangQuery::default()).await?;
    match own_mailbox(app, &account, id).await {
        Ok(Some(m)) => Ok((v, account, m)),
        Ok(None) => Err(not_found(app, &mut v)),
        Err(e) => Err(fail(app, &mut v, &e)),
    }
}

/// Refuses special-use folders; `None` when the folder may be changed.
fn refuse_special(app: &App, v: &mut Visitor, mailbox: &Mailbox) -> Option<Response> {
    if mailbox.special_use.is_some() || mailbox.name == "INBOX" {
        let m = M(v.lang);
        return Some(error_page(app, v, m.get("mail.folder.err.special"), &format!("/courrier/{}", mailbox.id)));
    }
    None
}

/// `GET /courrier/<mailbox>/renommer`.
pub async fn rename_page(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    confirmation(&app, &headers, peer, id, Ask::Rename).await
}

/// The page asking to confirm `what` on a folder that is not special-use.
async fn confirmation(app: &Arc<App>, headers: &HeaderMap, peer: Peer, id: i64, what: Ask) -> Response {
    let (mut v, account, mailbox) = match folder_of(app, headers, peer, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Some(r) = refuse_special(app, &mut v, &mailbox) {
        return r;
    }
    ask(app, &mut v, &account, &mailbox, what).await
}

/// `POST /courrier/<mailbox>/renommer`: a new name at the same level.
pub async fn rename(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<FolderForm>,
) -> Response {
    let (mut v, account, mailbox) = match folder_of(&app, &headers, peer, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !v.csrf_ok(&app, &form.csrf) {
        return csrf_refused(&app, &mut v);
    }
    if let Some(r) = refuse_special(&app, &mut v, &mailbox) {
        return r;
    }
    let m = M(v.lang);
    let back = format!("/courrier/{}", mailbox.id);
    let Some(name) = valid_new_name(&form.nom) else {
        return error_page(&app, &mut v, m.get("mail.err.foldername"), &back);
    };
    let full = match mailbox.name.rsplit_once('/') {
        Some((parent, _)) => format!("{parent}/{name}"),
        None => name.to_owned(),
    };
    match app.ms.rename_mailbox(account.id, mailbox.id, &full).await {
        Ok(_) => redirect(&v, &format!("{back}?info=renamed")),
        Err(mailstore::Error::Conflict(_)) => error_page(&app, &mut v, m.get("mail.err.folderexists"), &back),
        Err(mailstore::Error::Invalid(_)) => error_page(&app, &mut v, m.get("mail.err.foldername"), &back),
        Err(e) => fail(&app, &mut v, &e),
    }
}

/// `GET /courrier/<mailbox>/supprimer`.
pub async fn delete_page(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    confirmation(&app, &headers, peer, id, Ask::Delete).await
}

/// `POST /courrier/<mailbox>/supprimer`: the folder and its messages.
pub async fn delete(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (mut v, account, mailbox) = match folder_of(&app, &headers, peer, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !v.csrf_ok(&app, &form.csrf) {
        return csrf_refused(&app, &mut v);
    }
    if let Some(r) = refuse_special(&app, &mut v, &mailbox) {
        return r;
    }
    let m = M(v.lang);
    match app.ms.delete_mailbox(account.id, mailbox.id).await {
        Ok(()) => redirect(&v, "/courrier?info=folderdeleted"),
        Err(mailstore::Error::Conflict(_)) => {
            error_page(&app, &mut v, m.get("mail.folder.err.children"), &format!("/courrier/{}", mailbox.id))
        }
        Err(e) => fail(&app, &mut v, &e),
    }
}

async fn trash_of(
    app: &Arc<App>,
    headers: &HeaderMap,
    peer: Peer,
    id: i64,
) -> Result<(Visitor, Account, Mailbox), Response> {
    let (mut v, account, mailbox) = folder_of(app, headers, peer, id).await?;
    if mailbox.special_use != Some(SpecialUse::Trash) {
        return Err(not_found(app, &mut v));
    }
    Ok((v, account, mailbox))
}

/// `GET /courrier/<trash>/vider`.
pub async fn empty_page(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    match trash_of(&app, &headers, peer, id).await {
        Ok((mut v, account, mailbox)) => ask(&app, &mut v, &account, &mailbox, Ask::Empty).await,
        Err(r) => r,
    }
}

/// `POST /courrier/<trash>/vider`: deletes every message of the Corbeille for good.
pub async fn empty(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (mut v, account, mailbox) = match trash_of(&app, &headers, peer, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !v.csrf_ok(&app, &form.csrf) {
        return csrf_refused(&app, &mut v);
    }
    let uids: Vec<i64> = match app.ms.messages(mailbox.id).await {
        Ok(rows) => rows.iter().map(|r| r.uid).collect(),
        Err(e) => return fail(&app, &mut v, &e),
    };
    for chunk in uids.chunks(EXPUNGE_CHUNK) {
        if let Err(e) = app.ms.expunge(account.id, mailbox.id, chunk).await {
            return fail(&app, &mut v, &e);
        }
    }
    super::undo::forget(&v);
    redirect(&v, &format!("/courrier/{}?info=emptied", mailbox.id))
}
