//! Managing folders from the webmail: create (at the top or inside a
//! parent), rename and delete (each behind a confirmation page), and
//! "Vider la corbeille". Special-use folders (Inbox, Drafts, Sent, Trash,
//! Junk, Archive) can be neither renamed nor deleted: IMAP clients and the
//! webmail find them by that role.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailstore::{Account, Mailbox};
use model::SpecialUse;
use serde::Deserialize;

use super::folders::{FolderView, display_name, sidebar, valid_new_name};
use super::{M, Reader, ReaderForm, common, not_found, owned, refused};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::session::Visitor;
use crate::base::{Common, TokenOnly, WebError, redirect, render};

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

has_csrf!(FolderForm);

/// `POST /courrier/dossiers`: a new folder, at the top or inside a parent.
pub async fn create_folder(
    State(app): State<Arc<App>>,
    ReaderForm { v, account, form }: ReaderForm<FolderForm>,
) -> Result<Response, WebError> {
    let back = form.depuis.map_or_else(|| "/courrier".to_owned(), |id| format!("/courrier/{id}"));
    let m = M(v.lang);
    let Some(name) = valid_new_name(&form.nom) else {
        return Err(refused(v.lang, m.get("mail.err.foldername"), &back));
    };
    let full = match form.parent.trim().parse::<i64>() {
        Ok(id) => match owned(&app, &account, id, v.lang).await? {
            // Nothing goes below the Inbox: its name is special in IMAP.
            p if p.name != "INBOX" => format!("{}/{name}", p.name),
            _ => name.to_owned(),
        },
        Err(_) => name.to_owned(),
    };
    match app.ms.create_subscribed_mailbox(account.id, &full, None).await {
        Ok(created) => Ok(redirect(&v, &format!("/courrier/{}?info=created", created.id))),
        Err(mailstore::Error::Conflict(_)) => Err(refused(v.lang, m.get("mail.err.folderexists"), &back)),
        Err(mailstore::Error::Invalid(_)) => Err(refused(v.lang, m.get("mail.err.foldername"), &back)),
        Err(e) => Err(e.into()),
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

async fn ask(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    mailbox: &Mailbox,
    what: Ask,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let folders = sidebar(app, account, Some(mailbox.id), m).await?;
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
    Ok(render(v, StatusCode::OK, &page))
}

/// Refuses special-use folders.
fn refuse_special(v: &Visitor, mailbox: &Mailbox) -> Result<(), WebError> {
    if mailbox.special_use.is_some() || mailbox.name == "INBOX" {
        let text = M(v.lang).get("mail.folder.err.special");
        return Err(refused(v.lang, text, &format!("/courrier/{}", mailbox.id)));
    }
    Ok(())
}

/// `GET /courrier/<mailbox>/renommer`.
pub async fn rename_page(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let mailbox = owned(&app, &account, id, v.lang).await?;
    refuse_special(&v, &mailbox)?;
    ask(&app, &mut v, &account, &mailbox, Ask::Rename).await
}

/// `POST /courrier/<mailbox>/renommer`: a new name at the same level.
pub async fn rename(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    ReaderForm { v, account, form }: ReaderForm<FolderForm>,
) -> Result<Response, WebError> {
    let mailbox = owned(&app, &account, id, v.lang).await?;
    refuse_special(&v, &mailbox)?;
    let m = M(v.lang);
    let back = format!("/courrier/{}", mailbox.id);
    let Some(name) = valid_new_name(&form.nom) else {
        return Err(refused(v.lang, m.get("mail.err.foldername"), &back));
    };
    let full = match mailbox.name.rsplit_once('/') {
        Some((parent, _)) => format!("{parent}/{name}"),
        None => name.to_owned(),
    };
    match app.ms.rename_mailbox(account.id, mailbox.id, &full).await {
        Ok(_) => Ok(redirect(&v, &format!("{back}?info=renamed"))),
        Err(mailstore::Error::Conflict(_)) => Err(refused(v.lang, m.get("mail.err.folderexists"), &back)),
        Err(mailstore::Error::Invalid(_)) => Err(refused(v.lang, m.get("mail.err.foldername"), &back)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /courrier/<mailbox>/supprimer`.
pub async fn delete_page(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let mailbox = owned(&app, &account, id, v.lang).await?;
    refuse_special(&v, &mailbox)?;
    ask(&app, &mut v, &account, &mailbox, Ask::Delete).await
}

/// `POST /courrier/<mailbox>/supprimer`: the folder and its messages.
pub async fn delete(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    ReaderForm { v, account, .. }: ReaderForm<TokenOnly>,
) -> Result<Response, WebError> {
    let mailbox = owned(&app, &account, id, v.lang).await?;
    refuse_special(&v, &mailbox)?;
    match app.ms.delete_mailbox(account.id, mailbox.id).await {
        Ok(()) => Ok(redirect(&v, "/courrier?info=folderdeleted")),
        Err(mailstore::Error::Conflict(_)) => {
            let text = M(v.lang).get("mail.folder.err.children");
            Err(refused(v.lang, text, &format!("/courrier/{}", mailbox.id)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The Corbeille `id` of `account` (404 for any other folder).
async fn trash_of(app: &App, account: &Account, id: i64, v: &Visitor) -> Result<Mailbox, WebError> {
    let mailbox = owned(app, account, id, v.lang).await?;
    if mailbox.special_use != Some(SpecialUse::Trash) {
        return Err(not_found(v.lang));
    }
    Ok(mailbox)
}

/// `GET /courrier/<trash>/vider`.
pub async fn empty_page(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let mailbox = trash_of(&app, &account, id, &v).await?;
    ask(&app, &mut v, &account, &mailbox, Ask::Empty).await
}

/// `POST /courrier/<trash>/vider`: deletes every message of the Corbeille for good.
pub async fn empty(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    ReaderForm { v, account, .. }: ReaderForm<TokenOnly>,
) -> Result<Response, WebError> {
    let mailbox = trash_of(&app, &account, id, &v).await?;
    let uids: Vec<i64> = app.ms.messages(mailbox.id).await?.iter().map(|r| r.uid).collect();
    for chunk in uids.chunks(EXPUNGE_CHUNK) {
        app.ms.expunge(account.id, mailbox.id, chunk).await?;
    }
    super::undo::forget(&v);
    Ok(redirect(&v, &format!("/courrier/{}?info=emptied", mailbox.id)))
}
