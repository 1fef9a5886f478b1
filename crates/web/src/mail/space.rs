//! « Demander plus d'espace » in Réglages, under the quota gauge (issue 24:
//! quotas « augmentées sur demande »): the reader's latest request and its
//! answer, and the form that opens a new one with a short reason
//! (`POST /courrier/reglages/espace`) when none is open. The request is the
//! identity service's (`Identity::request_quota`); the administrators of
//! the reader's unit decide it in the console, and the reader finds the
//! answer here and as a message in their Inbox.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use identity::admin::{AdminError, MAX_REASON, QuotaRequest, QuotaRequestStatus};
use serde::Deserialize;

use super::{M, ReaderForm};
use crate::App;
use crate::base::clock::Clock;
use crate::base::extract::has_csrf;
use crate::base::{WebError, redirect};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("space.title", "Demander plus d'espace", "Ask for more space"),
    (
        "space.intro",
        "Si votre travail demande plus d'espace, expliquez pourquoi en quelques mots : les administrateurs de \
         votre établissement examinent la demande et vous répondent par un message.",
        "If your work needs more space, say why in a few words: your school's administrators consider the \
         request and answer with a message.",
    ),
    (
        "space.reason",
        "Raison de la demande (500 caractères au plus)",
        "Reason for the request (500 characters at most)",
    ),
    ("space.send", "Envoyer la demande", "Send the request"),
    ("space.open", "Votre demande du {} est en cours d'examen.", "Your request of {} is being considered."),
    ("space.approved", "Votre demande du {} a été acceptée.", "Your request of {} was approved."),
    ("space.refused", "Votre demande du {} a été refusée :", "Your request of {} was refused:"),
    ("space.sent", "Votre demande a été envoyée aux administrateurs.", "Your request was sent to the administrators."),
    (
        "space.err.reason",
        "Indiquez la raison de votre demande (500 caractères au plus).",
        "Say why you ask (500 characters at most).",
    ),
    ("space.err.open", "Une demande est déjà en cours d'examen.", "A request is already being considered."),
];

/// The reader's latest request as Réglages shows it.
pub struct SpaceRequest {
    /// « Votre demande du … » with its state.
    pub state: String,
    /// A refusal's reason.
    pub answer: String,
    pub open: bool,
}

impl SpaceRequest {
    pub fn of(r: &QuotaRequest, clock: &Clock, m: M) -> SpaceRequest {
        let key = match r.status {
            QuotaRequestStatus::Open => "space.open",
            QuotaRequestStatus::Approved => "space.approved",
            QuotaRequestStatus::Refused => "space.refused",
        };
        SpaceRequest {
            state: m.get(key).replace("{}", &clock.full(r.requested_at)),
            answer: if r.status == QuotaRequestStatus::Refused { r.answer.clone() } else { String::new() },
            open: r.status == QuotaRequestStatus::Open,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SpaceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    raison: String,
}

has_csrf!(SpaceForm);

/// `POST /courrier/reglages/espace`: opens a request; a refused one comes
/// back to Réglages saying why.
pub async fn ask(
    State(app): State<Arc<App>>,
    ReaderForm { v, account, form }: ReaderForm<SpaceForm>,
) -> Result<Response, WebError> {
    let reason = form.raison.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Ok(redirect(&v, "/courrier/reglages?info=espace-raison#titre-espace"));
    }
    match app.identity.request_quota(&account, reason).await {
        Ok(_) => Ok(redirect(&v, "/courrier/reglages?info=espace#titre-espace")),
        Err(AdminError::Store(e)) => Err(WebError::from(e)),
        // Refused: one is open already (the reason was checked above).
        Err(_) => Ok(redirect(&v, "/courrier/reglages?info=espace-ouverte#titre-espace")),
    }
}
