//! Answering an invitation from the reading page: « Accepter / Provisoire /
//! Refuser » under an event whose mail is an iTIP REQUEST. The answer goes
//! through the groupware domain ([`groupware::Groupware::respond`]): the
//! event enters the reader's calendar with their PARTSTAT and the organiser
//! is answered (their copy updated when local, a REPLY mail otherwise). The
//! invitation's text is read from the message itself, never from the form,
//! which only says which event (by UID) and which answer.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use groupware::scheduling::{PartStat, Principal};
use mailstore::Account;
use serde::Deserialize;

use super::reading::EventView;
use super::{M, ReaderForm, not_found, own_mailbox};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::{WebError, redirect};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("invite.accept", "Accepter", "Accept"),
    ("invite.tentative", "Provisoire", "Tentative"),
    ("invite.decline", "Refuser", "Decline"),
    ("invite.answer", "Votre réponse", "Your answer"),
    ("invite.answered.ACCEPTED", "Vous avez accepté cette invitation.", "You accepted this invitation."),
    (
        "invite.answered.TENTATIVE",
        "Vous avez répondu « provisoire » à cette invitation.",
        "You answered this invitation as tentative.",
    ),
    ("invite.answered.DECLINED", "Vous avez refusé cette invitation.", "You declined this invitation."),
    ("invite.answered.NEEDS-ACTION", "Vous n'avez pas encore répondu.", "You have not answered yet."),
    ("invite.back", "Revenir au message", "Back to the message"),
    ("invite.refused", "Cette invitation ne peut pas recevoir de réponse :", "This invitation cannot be answered:"),
];

/// The signed-in account as scheduling sees it.
pub fn principal(account: &Account) -> Principal {
    Principal { id: account.id, address: account.address.clone(), display_name: account.display_name.clone() }
}

/// Says which events may be answered (invitations naming the reader among
/// their attendees) and what the reader answered already.
pub async fn fill_answers(app: &App, account: &Account, events: &mut [EventView]) {
    let Some(gw) = &app.groupware else { return };
    let who = principal(account);
    let me = account.address.to_string().to_ascii_lowercase();
    for e in events.iter_mut().filter(|e| e.request && !e.uid.is_empty() && e.attendees.contains(&me)) {
        e.answerable = true;
        if let Ok(Some(answer)) = gw.answer_of(&who, &e.uid).await {
            e.answer = answer.as_str().to_owned();
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    pub csrf: String,
    /// The UID of the event answered.
    #[serde(default)]
    pub uid: String,
    /// `ACCEPTED`, `TENTATIVE` or `DECLINED`.
    #[serde(default)]
    pub reponse: String,
}

has_csrf!(AnswerForm);

/// `POST /courrier/<mailbox>/<uid>/invitation`: answers the invitation of
/// this message whose event has the form's UID.
pub async fn answer(
    State(app): State<Arc<App>>,
    Path((mailbox, uid)): Path<(i64, i64)>,
    ReaderForm { v, account, form }: ReaderForm<AnswerForm>,
) -> Result<Response, WebError> {
    let Some(gw) = &app.groupware else { return Err(not_found(v.lang)) };
    let Some(mb) = own_mailbox(&app, &account, mailbox).await? else { return Err(not_found(v.lang)) };
    let Some(row) = app.ms.message_by_uid(mb.id, uid).await? else { return Err(not_found(v.lang)) };
    let msg = app.ms.view(&row.blob_hash).await?;
    let back = format!("/courrier/{mailbox}/{uid}");
    let refused = |why: &str| WebError::Message {
        status: StatusCode::BAD_REQUEST,
        title: M(v.lang).get("read.invite").to_owned(),
        text: format!("{} {why}", M(v.lang).get("invite.refused")),
        link: back.clone(),
        link_text: M(v.lang).get("invite.back").to_owned(),
    };
    let Some(partstat) = PartStat::parse_answer(&form.reponse) else { return Err(refused("")) };
    let request = msg.calendars(20).into_iter().find(|text| {
        let cal = super::ics::parse(text);
        cal.method == "REQUEST" && cal.events.iter().any(|e| !e.uid.is_empty() && e.uid == form.uid)
    });
    let Some(request) = request else { return Err(not_found(v.lang)) };
    match gw.respond(&principal(&account), &request, partstat).await {
        Ok(()) => Ok(redirect(&v, &back)),
        Err(groupware::Error::Invalid(why)) => Err(refused(&why)),
        Err(e) => Err(WebError::internal(&e)),
    }
}
