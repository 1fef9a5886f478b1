//! Drafts: the composer's "Enregistrer le brouillon" (and compose.js's
//! automatic save) files the message in the Drafts special-use folder with
//! the `\Draft` flag, then deletes the version it replaces; sending deletes
//! the last version. To and Cc are kept as typed, so a half-written
//! address survives; the message replied to rides along in a header of ours.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailstore::DeliveryTarget;
use mailstore::{Account, Mailbox};
use model::{Flag, SpecialUse};

use super::M;
use super::compose::{self, Draft, load_ref};
use super::compose_form::Upload;
use super::identities;
use super::mime::Content;
use crate::App;
use crate::base::session::Visitor;
use crate::base::{WebError, redirect};

/// The Drafts folder of `account`, created when missing.
pub async fn drafts_folder(app: &App, account: &Account) -> Result<Mailbox, mailstore::Error> {
    special_folder(app, account, SpecialUse::Drafts).await
}

/// A special-use folder of `account`, created (with its French name) when
/// missing; a plain folder already holding that name is used as it is.
pub async fn special_folder(app: &App, account: &Account, special: SpecialUse) -> Result<Mailbox, mailstore::Error> {
    let ms = &app.ms;
    if let Some(m) = ms.mailbox_with_use(account.id, special).await? {
        return Ok(m);
    }
    match ms.create_subscribed_mailbox(account.id, special.default_name(), Some(special)).await {
        Ok(m) => Ok(m),
        Err(mailstore::Error::Conflict(_)) => match ms.mailbox_named(account.id, special.default_name()).await? {
            Some(m) => Ok(m),
            None => ms.mailbox_with_use(account.id, special).await?.ok_or(mailstore::Error::NotFound("mailbox")),
        },
        Err(e) => Err(e),
    }
}

/// Saves the form as a draft. A plain form post comes back to the
/// reopened draft; the script's automatic save (`auto`) gets JSON with the
/// new draft's reference and its attachments.
pub async fn save(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    d: Draft,
    files: Vec<Upload>,
    auto: bool,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let (here, names) = match file_draft(app, account, &d, files).await? {
        Ok(filed) => filed,
        Err(key) => {
            if auto {
                return Ok(json(StatusCode::BAD_REQUEST, &serde_json::json!({ "erreur": m.get(key) })));
            }
            return compose::show(app, v, account, d, Some(m.get(key).to_owned()), false, None).await;
        }
    };
    if auto {
        return Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "brouillon": here, "pj": names, "texte": m.get("mail.draft.saved.at").to_owned() }),
        ));
    }
    Ok(redirect(v, &format!("/courrier/ecrire?brouillon={here}&info=brouillon")))
}

/// Files the form in Drafts (replacing the draft it came from): the new
/// draft's `mailbox:uid` and its attachments' names, or the text key of
/// what was wrong with the attachments.
pub async fn file_draft(
    app: &App,
    account: &Account,
    d: &Draft,
    files: Vec<Upload>,
) -> Result<Result<(String, Vec<String>), &'static str>, WebError> {
    // A draft may be saved from any identity; an address that is no longer
    // the user's falls back to the account's own (sending checks again).
    let sender = match identities::sender(app, account, &d.de).await? {
        Ok(s) => s,
        Err(_) => identities::Sender::of_account(account),
    };
    let attachments = match compose::gather(app, account, d, files).await {
        Ok(a) => a,
        Err(key) => return Ok(Err(key)),
    };
    let (text, html) = compose::texts(d);
    let content = Content { text: &text, html: html.as_deref(), attachments: &attachments };
    let raw = compose::build(&sender, d, None, &content)?;
    let folder = drafts_folder(app, account).await?;
    let target = DeliveryTarget {
        account: account.id,
        mailbox: Some(folder.id),
        flags: Flag::Draft.bit() | Flag::Seen.bit(),
        keywords: Vec::new(),
    };
    let saved = app.ms.deliver_to(&raw, &[target], crate::base::session::unix_now()).await?;
    let Some(new) = saved.first() else { return Err(WebError::internal(&"draft not filed")) };
    let here = format!("{}:{}", folder.id, new.uid);
    if d.brouillon != here {
        discard(app, account, &d.brouillon).await;
    }
    Ok(Ok((here, attachments.into_iter().map(|a| a.name).collect())))
}

/// Deletes the draft `r` (`mailbox:uid`) when it is one of the account's
/// drafts (best effort: a draft already gone is fine).
pub async fn discard(app: &App, account: &Account, r: &str) {
    let Ok(Some((mb, row, _))) = load_ref(app, account, r).await else { return };
    if mb.special_use != Some(SpecialUse::Drafts) {
        return;
    }
    if let Err(e) = app.ms.discard(account.id, mb.id, &[row.uid]).await {
        tracing::warn!(error = %e, "deleting a draft failed");
    }
}

/// A JSON answer for the scripts.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut resp = (status, value.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
