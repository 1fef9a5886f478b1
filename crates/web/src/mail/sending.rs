//! "Annuler l'envoi": a message sent from the webmail waits a short delay
//! (`[web] undo_send_delay`, or the user's choice in Réglages) before it goes.
//!
//! « Envoyer » files the form as a draft, checks it as sending would
//! (recipients, sender, attachments: a problem is said at once, the composer
//! back with what was typed) and gives the draft a send time (a row of the
//! store's `delayed_sends`). The confirmation page counts down with the
//! « Annuler l'envoi » button; it is a plain form, so nothing needs script.
//!
//! Exactly one of two parties wins each message: [`send_delayed`], the one
//! sender task of the process, claims due rows; the cancel deletes the row
//! while it is unclaimed. Both are single statements in the store, so the
//! loser finds nothing to do, on any number of nodes. The sender sends what
//! the draft holds when it is due (rebuilt as a reopened draft would be,
//! with a fresh Date and Message-ID), deletes the draft right after the
//! pipeline accepted it, and the row last. Rows survive a restart: the task
//! sends at start whatever came due while the server was down. A node that
//! dies after claiming leaves a row that another pass claims again after
//! [`STALE_SECS`]; its draft already gone means it was sent, so the window
//! for a second copy is only between the pipeline's answer and the draft's
//! deletion. A draft edited (saved again, so replaced) or deleted during the
//! delay is not sent: the user took it back. A refusal at send time leaves
//! the draft where it is and tells the user by a message in their Inbox.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailstore::{Account, DelayedSend, DeliveryTarget};
use tokio::sync::{Notify, watch};

use super::compose::{self, Draft, Refused};
use super::compose_form::Upload;
use super::folders::{FolderView, sidebar};
use super::{M, Reader, ReaderForm, common};
use crate::App;
use crate::base::extract::TokenOnly;
use crate::base::i18n::Lang;
use crate::base::session::{Visitor, unix_now};
use crate::base::{Common, WebError, redirect, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("send.pending.title", "Envoi en cours", "Sending"),
    ("send.pending.text", "Votre message part dans", "Your message goes in"),
    ("send.pending.secs", "secondes", "seconds"),
    (
        "send.pending.help",
        "Jusque-là, vous pouvez encore l'annuler : il revient dans l'éditeur tel que vous l'avez écrit.",
        "Until then you can still cancel it: it comes back in the editor as you wrote it.",
    ),
    ("send.cancel", "Annuler l'envoi", "Cancel sending"),
    ("send.waiting.one", "1 envoi en attente", "1 message waiting to be sent"),
    ("send.waiting.many", "{n} envois en attente", "{n} messages waiting to be sent"),
    ("send.waiting.cancel", "annuler", "cancel"),
    ("send.back", "Retour à la boîte de réception", "Back to the inbox"),
    (
        "send.cancelled",
        "L'envoi a été annulé : votre message est de nouveau en écriture.",
        "Sending was cancelled: your message is back in the editor.",
    ),
    ("send.toolate", "Trop tard : le message est déjà parti.", "Too late: the message has already gone."),
    ("set.undo", "Délai pour annuler un envoi", "Time to cancel a message sent"),
    ("set.undo.none", "aucun (envoi immédiat)", "none (sent at once)"),
    ("set.undo.secs", "secondes", "seconds"),
    ("send.failed.subject", "Message non envoyé", "Message not sent"),
    (
        "send.failed.body",
        "Votre message n'a pas pu partir. Il est resté dans vos brouillons : ouvrez-le pour le corriger et l'envoyer de nouveau.",
        "Your message could not be sent. It stayed in your drafts: open it to correct it and send it again.",
    ),
];

/// The delays offered in Réglages, in seconds (the installation's default
/// is offered too when it is another).
pub const CHOICES: [i64; 5] = [0, 5, 10, 20, 30];
/// A claimed row older than this belongs to a sender that died.
pub const STALE_SECS: i64 = 300;
/// The sender looks at the store at least this often (rows claimed by a
/// dead node, messages scheduled by another node).
const POLL: Duration = Duration::from_secs(15);

/// Wakes the sender when a message is scheduled here.
static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// The delay of `account`'s messages, in seconds.
pub async fn delay(app: &App, account: &Account) -> Result<i64, WebError> {
    let chosen = app.ms.preferences(account.id).await?.and_then(|p| p.undo_send);
    Ok(chosen.unwrap_or_else(|| installation_delay(app)))
}

/// The installation's default delay, in seconds.
pub fn installation_delay(app: &App) -> i64 {
    i64::try_from(app.cfg.undo_send.as_secs()).unwrap_or(i64::MAX)
}

/// The delays a user may choose: [`CHOICES`] and the installation's.
pub fn choices(default: i64) -> Vec<i64> {
    let mut all = CHOICES.to_vec();
    if !all.contains(&default) {
        all.push(default);
        all.sort_unstable();
    }
    all
}

/// « Envoyer » with a delay: files the draft, checks it, schedules it and
/// answers with the confirmation page's address.
pub async fn schedule(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    d: Draft,
    files: Vec<Upload>,
    delay: i64,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let refiles = !files.is_empty();
    let here = match super::drafts::file_draft(app, account, &d, files).await? {
        Ok((here, _)) => here,
        Err(key) => return compose::show(app, v, account, d, Some(m.get(key).to_owned()), false, None).await,
    };
    // From now on the form is the draft: its attachments are in it.
    let Some(saved) = super::prefill::reopen(app, account, &here).await? else {
        return compose::show(app, v, account, d, Some(m.get("mail.err.temporary").to_owned()), refiles, None).await;
    };
    if let Err(Refused { text, .. }) = compose::prepare(app, account, &saved, Vec::new(), m).await? {
        return compose::show(app, v, account, saved, Some(text), false, None).await;
    }
    let Some((mailbox, uid)) = compose::parse_ref(&here) else { return Err(WebError::internal(&"bad draft ref")) };
    let job = app.ms.schedule_send(account.id, mailbox, uid, unix_now() + delay).await?;
    WAKE.notify_one();
    Ok(redirect(v, &format!("/courrier/envoi/{}", job.id)))
}

#[derive(Template)]
#[template(path = "mail/pending.html")]
struct PendingPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    id: i64,
    left: i64,
}

/// `GET /courrier/envoi/{id}`: the countdown with « Annuler l'envoi »; once
/// the message is no longer waiting, the Inbox saying it was sent.
pub async fn pending(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let Some(job) = app.ms.delayed_send(account.id, id).await? else {
        return Ok(redirect(&v, "/courrier?info=sent"));
    };
    let m = M(v.lang);
    let folders = sidebar(&app, &account, None, m).await?;
    let c = common(&app, &mut v, m.get("send.pending.title"));
    let page = PendingPage { c, m, folders, id: job.id, left: (job.send_at - unix_now()).max(0) };
    Ok(render(&v, StatusCode::OK, &page))
}

/// `POST /courrier/envoi/{id}/annuler`: the composer back with the draft
/// (reopened, as typed) when the cancel won; otherwise the message has gone (or is going).
pub async fn cancel(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    ReaderForm { v, account, form: _ }: ReaderForm<TokenOnly>,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    match app.ms.cancel_send(account.id, id).await? {
        Some(job) => {
            let here = format!("{}:{}", job.mailbox, job.uid);
            Ok(redirect(&v, &format!("/courrier/ecrire?brouillon={here}&info=annule")))
        }
        None => Err(super::refused(v.lang, m.get("send.toolate"), "/courrier")),
    }
}

/// Sends the delayed messages of every account as they come due, until
/// `shutdown`. Started once per process by the binary.
pub async fn send_delayed(app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let now = unix_now();
        match app.ms.claim_due_sends(now, now - STALE_SECS).await {
            Ok(jobs) => {
                for job in jobs {
                    send_one(&app, &job).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "claiming delayed messages failed"),
        }
        let next = app.ms.next_send_at().await.ok().flatten();
        let wait = match next {
            Some(at) => {
                let now_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                Duration::from_millis(u64::try_from(at * 1000 - now_ms).unwrap_or(0)).min(POLL)
            }
            None => POLL,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = WAKE.notified() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

/// Sends one claimed message, then forgets its row.
async fn send_one(app: &App, job: &DelayedSend) {
    match try_send(app, job).await {
        Ok(()) => {}
        // The row stays claimed: another pass tries again after STALE_SECS.
        Err(e) => {
            tracing::warn!(error = %e, id = job.id, "sending a delayed message failed; tried again later");
            return;
        }
    }
    if let Err(e) = app.ms.finish_send(job.id).await {
        tracing::warn!(error = %e, id = job.id, "forgetting a sent delayed message failed");
    }
}

async fn try_send(app: &App, job: &DelayedSend) -> Result<(), WebError> {
    let Some(account) = app.identity.account(job.account).await? else { return Ok(()) };
    let lang = app.ms.preferences(account.id).await?.and_then(|p| Lang::parse(&p.lang)).unwrap_or(Lang::Fr);
    let m = M(lang);
    let here = format!("{}:{}", job.mailbox, job.uid);
    let Some(d) = super::prefill::reopen(app, &account, &here).await? else {
        tracing::info!(id = job.id, account = account.id, "delayed message's draft gone: not sent");
        return Ok(());
    };
    let outcome = match compose::prepare(app, &account, &d, Vec::new(), m).await? {
        Ok(ready) => compose::deliver(app, &account, ready, m).await?,
        Err(Refused { text, .. }) => Err(text),
    };
    match outcome {
        Ok(_) => {
            super::drafts::discard(app, &account, &here).await;
            compose::mark_answered(app, &account, &d.origin).await;
            tracing::info!(id = job.id, account = account.id, "delayed message sent");
        }
        Err(text) => {
            tracing::info!(id = job.id, account = account.id, reason = %text, "delayed message refused");
            tell_failure(app, &account, &d.subject, &text, m).await;
        }
    }
    Ok(())
}

/// Tells the user, in their Inbox, that a message did not go and why.
async fn tell_failure(app: &App, account: &Account, subject: &str, why: &str, m: M) {
    let body = format!("{}\n\n« {subject} »\n\n{why}\n", m.get("send.failed.body"));
    let from = account.address.to_string();
    let raw = mail_builder::MessageBuilder::new()
        .from(("Ardoise".to_owned(), from.clone()))
        .to(from)
        .subject(format!("{} : {subject}", m.get("send.failed.subject")))
        .date(unix_now())
        .text_body(body)
        .write_to_vec();
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => return tracing::warn!(error = %e, "building a sending failure notice failed"),
    };
    if let Err(e) = app.ms.deliver_to(&raw, &[DeliveryTarget::inbox(account.id)], unix_now()).await {
        tracing::warn!(error = %e, account = account.id, "telling a sending failure failed");
    }
}
