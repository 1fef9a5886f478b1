//! What the reader and the list do to messages: read/unread, flag, delete
//! to the Corbeille, move, copy, junk / not junk, on one message or on a
//! selection, and "Annuler" of the last of them ([`super::undo`]).
//!
//! Every action is a POST with the session's CSRF token, answered by a
//! redirect. Flags are added or removed in the store's transaction, never
//! written back from what was read here, so a concurrent IMAP STORE is not
//! undone. Junk moves to the Junk special-use folder (created when missing)
//! and sets `$Junk`; not junk moves back to the Inbox and sets `$NotJunk`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use mailstore::{Account, FlagOp, FlagOutcome, Mailbox, Reached};
use model::{Flag, Rights, SpecialUse};
use serde::Deserialize;

use super::undo::{self, Undo};
use super::{ReaderForm, denied, is_denied, not_found, own_mailbox, reached};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::session::Visitor;
use crate::base::{TokenOnly, WebError, redirect};

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Most messages one selection acts on.
const MAX_SELECTED: usize = 1000;

/// An action on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Read,
    Unread,
    Flag,
    Unflag,
    Delete,
    Move(i64),
    Copy(i64),
    Junk,
    NotJunk,
    /// « Signaler un hameçonnage »: forwarded as an attachment to the
    /// security address, then moved to Indésirables like `Junk`.
    Phishing,
}

impl Act {
    /// The form's `action` (and `dossier` for move and copy).
    pub fn parse(action: &str, dossier: Option<i64>) -> Option<Act> {
        Some(match action {
            "lu" => Act::Read,
            "non-lu" => Act::Unread,
            "suivre" => Act::Flag,
            "ne-plus-suivre" => Act::Unflag,
            "supprimer" => Act::Delete,
            "deplacer" => Act::Move(dossier?),
            "copier" => Act::Copy(dossier?),
            "indesirable" => Act::Junk,
            "pas-indesirable" => Act::NotJunk,
            "hameconnage" => Act::Phishing,
            _ => return None,
        })
    }
}

/// What an action did: the key of the list's message (`info=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Flags,
    Moved,
    Copied,
    Deleted,
    Destroyed,
    Junked,
    NotJunked,
    Reported,
    NoTrash,
    /// The target folder is not the user's, or is this folder.
    NoTarget,
}

impl Done {
    pub fn info(self) -> &'static str {
        match self {
            Done::Flags => "changed",
            Done::Moved => "moved",
            Done::Copied => "copied",
            Done::Deleted => "deleted",
            Done::Destroyed => "destroyed",
            Done::Junked => "junked",
            Done::NotJunked => "notjunked",
            Done::Reported => "reported",
            Done::NoTrash => "notrash",
            Done::NoTarget => "notarget",
        }
    }
}

/// Forwards each message of `uids` as a `message/rfc822` attachment to the
/// security address, from the account (through the same outbox, checks and
/// limits as the composer).
async fn report_phishing(app: &App, account: &Account, mailbox: &Mailbox, uids: &[i64]) -> Result<(), Failure> {
    let (Some(to), Some(outbox)) = (app.cfg.security_address.clone(), app.outbox.clone()) else {
        return Err("no security address".into());
    };
    for &uid in uids {
        let Some(row) = app.ms.message_by_uid(mailbox.id, uid).await? else { continue };
        let raw = app.ms.message_bytes(&row.blob_hash).await?;
        let text = format!(
            "Message signalé comme hameçonnage par {0} depuis le webmail.\n\
             Message reported as phishing by {0} from the webmail.\n",
            account.address
        );
        // The composer's body builder: the message attached unencoded, as
        // RFC 2046 asks of message/rfc822.
        let attached = [super::mime::Attach {
            name: "message-signale.eml".into(),
            content_type: "message/rfc822".into(),
            bytes: raw,
            message: true,
        }];
        let content = super::mime::Content { text: &text, html: None, attachments: &attached };
        let forward = mail_builder::MessageBuilder::new()
            .from(account.address.to_string())
            .to(to.to_string())
            .subject("Signalement d'hameçonnage / Phishing report")
            .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
            .body(super::mime::body(&content))
            .write_to_vec()
            .map_err(|_| "phishing report not built")?;
        outbox.send(account, std::slice::from_ref(&to), forward).await.map_err(|_| "phishing report not sent")?;
        tracing::info!(account = account.id, "message reported as phishing");
    }
    Ok(())
}

/// Moves `uids` of `from` to `to` in one transaction (a move is not a
/// deletion: nothing is kept for undelete). Returns the UIDs in `to`.
pub async fn move_messages(
    app: &App,
    account: &Account,
    from: i64,
    uids: &[i64],
    to: i64,
) -> Result<Vec<i64>, mailstore::Error> {
    let moved = app.ms.move_messages(account.id, from, uids, to).await?;
    Ok(moved.iter().map(|c| c.uid).collect())
}

/// Sets or removes keywords on `uids` of `mailbox`.
async fn keywords(
    app: &App,
    account: &Account,
    mailbox: i64,
    uids: &[i64],
    op: FlagOp,
    words: &[String],
) -> Result<(), mailstore::Error> {
    if !uids.is_empty() && !words.is_empty() {
        app.ms.update_flags(account.id, mailbox, uids, op, 0, words, None).await?;
    }
    Ok(())
}

/// Does `act` to `uids` of the folder `at` and remembers how to reverse it
/// (on the reader's own folders: a shared folder's actions are not undone
/// from here). On another account's folder every step asks the domain,
/// which refuses what the reader's rights do not allow
/// ([`mailstore::Error::Denied`]) and journals what it does.
pub async fn perform(
    app: &App,
    v: &Visitor,
    account: &Account,
    at: &Reached,
    uids: &[i64],
    act: Act,
) -> Result<Done, Failure> {
    let mailbox = &at.mailbox;
    let owner = mailbox.account_id;
    let mine = at.owned_by(account.id);
    let ms = &app.ms;
    let flag = match act {
        Act::Read => Some((FlagOp::Add, Flag::Seen)),
        Act::Unread => Some((FlagOp::Remove, Flag::Seen)),
        Act::Flag => Some((FlagOp::Add, Flag::Flagged)),
        Act::Unflag => Some((FlagOp::Remove, Flag::Flagged)),
        _ => None,
    };
    if let Some((op, flag)) = flag {
        let out = ms.flags_as(account.id, at, uids, op, flag.bit(), &[]).await?;
        let changed: Vec<i64> = out
            .iter()
            .filter_map(|o| if let FlagOutcome::Changed { uid, .. } = o { Some(*uid) } else { None })
            .collect();
        let added = op == FlagOp::Add;
        if mine {
            let undo =
                Undo::Flags { mailbox: mailbox.id, uids: changed, added, flags: flag.bit(), keywords: Vec::new() };
            undo::record(v, account.id, undo);
        }
        return Ok(Done::Flags);
    }
    if !mine && matches!(act, Act::Junk | Act::NotJunk | Act::Phishing) {
        // The owner's spam training and reports are theirs to make.
        return Ok(Done::NoTarget);
    }
    if act == Act::Phishing {
        report_phishing(app, account, mailbox, uids).await?;
        return match Box::pin(perform(app, v, account, at, uids, Act::Junk)).await? {
            Done::Junked => Ok(Done::Reported),
            other => Ok(other),
        };
    }
    let junk_words = || vec!["$Junk".to_owned()];
    let not_junk_words = || vec!["$NotJunk".to_owned()];
    let (target, done, add, remove) = match act {
        Act::Delete => match ms.mailbox_with_use(owner, SpecialUse::Trash).await? {
            Some(trash) if trash.id == mailbox.id => {
                // Already in the Corbeille: deleted for good, nothing to undo.
                ms.expunge_as(account.id, at, uids).await?;
                undo::forget(v);
                return Ok(Done::Destroyed);
            }
            Some(trash) => match ms.reach(account.id, trash.id).await? {
                Some(t) if t.rights.contains(Rights::INSERT) => (t, Done::Deleted, Vec::new(), Vec::new()),
                // A delegate who may delete here but not file into the
                // owner's Corbeille deletes directly (the owner can restore).
                _ => {
                    ms.expunge_as(account.id, at, uids).await?;
                    return Ok(Done::Destroyed);
                }
            },
            None => return Ok(Done::NoTrash),
        },
        Act::Move(to) | Act::Copy(to) => match ms.reach(account.id, to).await? {
            Some(t) if t.mailbox.id != mailbox.id && t.mailbox.account_id == owner => {
                (t, if matches!(act, Act::Move(_)) { Done::Moved } else { Done::Copied }, Vec::new(), Vec::new())
            }
            _ => return Ok(Done::NoTarget),
        },
        Act::Junk => {
            let junk = super::drafts::special_folder(app, account, SpecialUse::Junk).await?;
            if junk.id == mailbox.id {
                keywords(app, account, mailbox.id, uids, FlagOp::Add, &junk_words()).await?;
                // Already there: the spam classifier still learns it.
                app.ms.confirm_filed(account.id, mailbox.id, uids);
                return Ok(Done::Junked);
            }
            (Reached { mailbox: junk, rights: Rights::ALL }, Done::Junked, junk_words(), not_junk_words())
        }
        Act::NotJunk => {
            let inbox = ms.mailbox_with_use(account.id, SpecialUse::Inbox).await?.ok_or("no inbox")?;
            if inbox.id == mailbox.id {
                keywords(app, account, mailbox.id, uids, FlagOp::Add, &not_junk_words()).await?;
                keywords(app, account, mailbox.id, uids, FlagOp::Remove, &junk_words()).await?;
                return Ok(Done::NotJunked);
            }
            (Reached { mailbox: inbox, rights: Rights::ALL }, Done::NotJunked, not_junk_words(), junk_words())
        }
        _ => return Ok(Done::NoTarget),
    };
    if done == Done::Copied {
        ms.copy_as(account.id, at, uids, &target).await?;
        return Ok(done);
    }
    // Keywords first, so the copies carry them (junk: the reader's own folders only).
    keywords(app, account, mailbox.id, uids, FlagOp::Remove, &remove).await?;
    keywords(app, account, mailbox.id, uids, FlagOp::Add, &add).await?;
    let moved: Vec<i64> = ms.move_as(account.id, at, uids, &target).await?.iter().map(|c| c.uid).collect();
    if mine {
        let undo = Undo::Moved {
            from: mailbox.id,
            to: target.mailbox.id,
            uids: moved,
            drop_keywords: add,
            add_keywords: remove,
        };
        undo::record(v, account.id, undo);
    }
    Ok(done)
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub csrf: String,
    /// `lu`, `non-lu`, `suivre`, `ne-plus-suivre`, `supprimer`, `deplacer`,
    /// `copier`, `indesirable`, `pas-indesirable`.
    #[serde(default)]
    pub action: String,
    /// The target folder of `deplacer` and `copier`.
    pub dossier: Option<i64>,
    /// Posted from the list's reading pane: back to the list with the message.
    pub volet: Option<String>,
}

has_csrf!(ActionForm);

/// `POST /courrier/<mailbox>/<uid>`: an action from the reading page.
pub async fn act(
    State(app): State<Arc<App>>,
    Path((mailbox, uid)): Path<(i64, i64)>,
    ReaderForm { v, account, form }: ReaderForm<ActionForm>,
) -> Result<Response, WebError> {
    let at = reached(&app, &account, mailbox, v.lang).await?;
    let mailbox = at.mailbox.clone();
    let row = app.ms.message_by_uid(mailbox.id, uid).await?.ok_or_else(|| not_found(v.lang))?;
    let list = format!("/courrier/{}", mailbox.id);
    let here = match form.volet {
        Some(_) => format!("{list}?lire={}", row.uid),
        None => format!("/courrier/{}/{}", mailbox.id, row.uid),
    };
    let Some(act) = Act::parse(&form.action, form.dossier) else { return Ok(redirect(&v, &here)) };
    let done = match perform(&app, &v, &account, &at, &[row.uid], act).await {
        Ok(done) => done,
        Err(e) if is_denied(&*e) => return Err(denied(v.lang, &here)),
        Err(e) => return Err(e.into()),
    };
    Ok(match done {
        Done::NoTarget if matches!(act, Act::Move(_) | Act::Copy(_)) => {
            if form.dossier == Some(mailbox.id) {
                redirect(&v, &here)
            } else {
                return Err(not_found(v.lang));
            }
        }
        // Back to the list: showing the message again would mark it read.
        Done::Flags if act == Act::Unread => redirect(&v, &format!("{list}?info=marked")),
        Done::Flags => redirect(&v, &here),
        done => redirect(&v, &format!("{list}?info={}", done.info())),
    })
}

/// `POST /courrier/<mailbox>/lot`: an action on the messages ticked in the
/// list (`uid` repeated), or on every message of the folder when
/// `portee=dossier` (« sélectionner les N messages du dossier », a plain
/// checkbox of the form: no script needed).
pub async fn bulk(
    State(app): State<Arc<App>>,
    Path(mailbox): Path<i64>,
    ReaderForm { v, account, form: fields }: ReaderForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let at = reached(&app, &account, mailbox, v.lang).await?;
    let mailbox = at.mailbox.clone();
    let list = format!("/courrier/{}", mailbox.id);
    if field("action") == "tout-lu" {
        return match mark_all_read(&app, &account, &at).await {
            Ok(()) => Ok(redirect(&v, &format!("{list}?info=allread"))),
            Err(mailstore::Error::Denied(_)) => Err(denied(v.lang, &list)),
            Err(e) => Err(e.into()),
        };
    }
    let mut uids: Vec<i64> = if field("portee") == "dossier" {
        app.ms.messages(mailbox.id).await?.into_iter().map(|r| r.uid).collect()
    } else {
        fields.iter().filter(|(k, _)| k == "uid").filter_map(|(_, v)| v.parse().ok()).take(MAX_SELECTED).collect()
    };
    uids.sort_unstable();
    uids.dedup();
    if uids.is_empty() {
        return Ok(redirect(&v, &format!("{list}?info=noselection")));
    }
    let dossier = field("dossier").parse().ok();
    let Some(act) = Act::parse(field("action"), dossier) else { return Ok(redirect(&v, &list)) };
    match perform(&app, &v, &account, &at, &uids, act).await {
        Ok(done) => Ok(redirect(&v, &format!("{list}?info={}", done.info()))),
        Err(e) if is_denied(&*e) => Err(denied(v.lang, &list)),
        Err(e) => Err(e.into()),
    }
}

/// « Tout marquer comme lu »: every unread message of the folder, not only
/// those of the page (through the domain, so other sessions hear of it).
async fn mark_all_read(app: &App, account: &Account, at: &Reached) -> Result<(), mailstore::Error> {
    let seen = Flag::Seen.bit();
    if !at.rights.contains(mailstore::rights_for_flags(FlagOp::Add, seen, &[])) {
        return Err(mailstore::Error::Denied("s".into()));
    }
    let unread: Vec<i64> =
        app.ms.messages(at.mailbox.id).await?.into_iter().filter(|r| r.flags & seen == 0).map(|r| r.uid).collect();
    for chunk in unread.chunks(MAX_SELECTED) {
        app.ms.flags_as(account.id, at, chunk, FlagOp::Add, seen, &[]).await?;
    }
    Ok(())
}

/// `POST /courrier/annuler`: reverses the session's last action.
pub async fn undo_last(
    State(app): State<Arc<App>>,
    ReaderForm { v, account, .. }: ReaderForm<TokenOnly>,
) -> Result<Response, WebError> {
    let Some(undo) = undo::take(&v, account.id) else { return Ok(redirect(&v, "/courrier?info=nothingtoundo")) };
    Ok(match reverse(&app, &account, undo).await? {
        Some(folder) => redirect(&v, &format!("/courrier/{folder}?info=undone")),
        None => redirect(&v, "/courrier?info=nothingtoundo"),
    })
}

/// Applies the reverse of `undo`; the folder to show afterwards.
async fn reverse(app: &App, account: &Account, undo: Undo) -> Result<Option<i64>, Failure> {
    match undo {
        Undo::Flags { mailbox, uids, added, flags, keywords } => {
            let Some(mb) = own_mailbox(app, account, mailbox).await? else { return Ok(None) };
            if !uids.is_empty() {
                app.ms.update_flags(account.id, mb.id, &uids, Undo::reverse_op(added), flags, &keywords, None).await?;
            }
            Ok(Some(mb.id))
        }
        Undo::Moved { from, to, uids, drop_keywords, add_keywords } => {
            let (Some(from), Some(to)) = (own_mailbox(app, account, from).await?, own_mailbox(app, account, to).await?)
            else {
                return Ok(None);
            };
            let back = move_messages(app, account, to.id, &uids, from.id).await?;
            keywords(app, account, from.id, &back, FlagOp::Remove, &drop_keywords).await?;
            keywords(app, account, from.id, &back, FlagOp::Add, &add_keywords).await?;
            Ok(Some(from.id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse() {
        assert_eq!(Act::parse("deplacer", Some(4)), Some(Act::Move(4)));
        assert_eq!(Act::parse("deplacer", None), None);
        assert_eq!(Act::parse("indesirable", None), Some(Act::Junk));
        assert_eq!(Act::parse("n'importe", None), None);
        assert_eq!(Done::NotJunked.info(), "notjunked");
    }
}
