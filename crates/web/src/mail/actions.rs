//! What the reader does to a message (read/unread, flag, delete to the
//! Corbeille, move) and creating a folder. Every action is a POST with the
//! session's CSRF token, answered by a redirect.

use std::sync::Arc;

use axum::Form;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use model::{Flag, SpecialUse};
use serde::Deserialize;
use store::FlagOp;

use super::folders::valid_new_name;
use super::{M, not_found, own_mailbox, signed_in};
use crate::App;
use crate::pages::{LangQuery, csrf_refused, fail, redirect};
use crate::server::Peer;

#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub csrf: String,
    /// `lu`, `non-lu`, `suivre`, `ne-plus-suivre`, `supprimer`, `deplacer`.
    #[serde(default)]
    pub action: String,
    /// The target folder of `deplacer`.
    pub dossier: Option<i64>,
}

/// `POST /courrier/<mailbox>/<uid>`.
pub async fn act(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path((mailbox, uid)): Path<(i64, i64)>,
    headers: HeaderMap,
    Form(form): Form<ActionForm>,
) -> Response {
    let (mut v, account) = match signed_in(&app, &headers, peer, &LangQuery::default()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !v.csrf_ok(&app, &form.csrf) {
        return csrf_refused(&app, &mut v);
    }
    let mailbox = match own_mailbox(&app, &account, mailbox).await {
        Ok(Some(m)) => m,
        Ok(None) => return not_found(&app, &mut v),
        Err(e) => return fail(&app, &mut v, &e),
    };
    let store = app.ms.store();
    let row = match store.message_by_uid(mailbox.id, uid).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(&app, &mut v),
        Err(e) => return fail(&app, &mut v, &e),
    };
    let here = format!("/courrier/{}/{}", mailbox.id, uid);
    let list = format!("/courrier/{}", mailbox.id);
    // Added or removed in the store's transaction, never written back from
    // what was read here: a concurrent IMAP STORE is not undone.
    let flags = match form.action.as_str() {
        "lu" => Some((FlagOp::Add, Flag::Seen, here.clone())),
        // Back to the list: showing the message again would mark it read.
        "non-lu" => Some((FlagOp::Remove, Flag::Seen, format!("{list}?info=marked"))),
        "suivre" => Some((FlagOp::Add, Flag::Flagged, here.clone())),
        "ne-plus-suivre" => Some((FlagOp::Remove, Flag::Flagged, here.clone())),
        _ => None,
    };
    if let Some((op, flag, to)) = flags {
        if let Err(e) = app.ms.update_flags(account.id, mailbox.id, &[row.uid], op, flag.bit(), &[], None).await {
            return fail(&app, &mut v, &e);
        }
        return redirect(&v, &to);
    }
    let (target, info) = match form.action.as_str() {
        "supprimer" => match store.mailbox_by_special_use(account.id, SpecialUse::Trash).await {
            Ok(Some(trash)) if trash.id == mailbox.id => {
                // Already in the Corbeille: deleted for good.
                if let Err(e) = app.ms.expunge(account.id, mailbox.id, &[uid]).await {
                    return fail(&app, &mut v, &e);
                }
                return redirect(&v, &format!("{list}?info=destroyed"));
            }
            Ok(Some(trash)) => (trash, "deleted"),
            Ok(None) => return redirect(&v, &format!("{list}?info=notrash")),
            Err(e) => return fail(&app, &mut v, &e),
        },
        "deplacer" => match own_mailbox(&app, &account, form.dossier.unwrap_or(0)).await {
            Ok(Some(to)) if to.id != mailbox.id => (to, "moved"),
            Ok(Some(_)) => return redirect(&v, &here),
            Ok(None) => return not_found(&app, &mut v),
            Err(e) => return fail(&app, &mut v, &e),
        },
        _ => return redirect(&v, &here),
    };
    if let Err(e) = app.ms.copy(account.id, mailbox.id, &[uid], target.id).await {
        return fail(&app, &mut v, &e);
    }
    if let Err(e) = app.ms.expunge(account.id, mailbox.id, &[uid]).await {
        return fail(&app, &mut v, &e);
    }
    redirect(&v, &format!("{list}?info={info}"))
}

#[derive(Debug, Default, Deserialize)]
pub struct FolderForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub nom: String,
    /// The folder the form was shown in, to go back to on error.
    pub depuis: Option<i64>,
}

/// `POST /courrier/dossiers`: a new top-level folder.
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
        return super::error_page(&app, &mut v, m.get("mail.err.foldername"), &back);
    };
    match app.ms.store().create_mailbox(account.id, name, None).await {
        Ok(created) => redirect(&v, &format!("/courrier/{}?info=created", created.id)),
        Err(store::Error::Conflict(_)) => super::error_page(&app, &mut v, m.get("mail.err.folderexists"), &back),
        Err(e) => fail(&app, &mut v, &e),
    }
}
