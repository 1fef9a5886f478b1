//! The administration console at `/admin` (issue 24): the organisation tree,
//! account search, an account's page with its actions and open sessions,
//! the outbound queue (`queue`), the quarantine (`quarantine`), storage
//! (`storage`, read only), the audit log, the users' requests for more
//! space (`requests`), distribution lists (`lists`), functional mailboxes
//! (`functional`), the policies (`policies`) and the HR file upload (`hr`).
//!
//! Server-rendered like the rest of the web, on `base` and `pages`. Every
//! page first passes [`gate`]: a signed-in account that holds an
//! administrative grant **and** has its second factor on; an administrator
//! without it is sent to enrol it, anyone else gets the « page introuvable »
//! page (the console's existence is no secret, but nothing in it answers).
//! What an administrator may see and do is decided by the identity service
//! (`identity::admin`), never here: the pages only show what it returned and
//! hide the buttons of actions it would refuse anyway. Every POST carries the
//! CSRF token ([`crate::base::SignedForm`]); destructive actions also need a
//! « Je confirme » box ticked.

mod actions;
mod functional;
mod hr;
mod lists;
mod pages;
mod policies;
mod quarantine;
mod queue;
mod requests;
mod storage;
mod texts;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use identity::Account;
use identity::admin::{AdminError, Administrator};

use crate::App;
use crate::base::i18n::Tr;
use crate::base::session::Visitor;
use crate::base::{WebError, redirect};

pub use policies::ConsoleSettings;
pub use texts::A;

/// The console's routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/admin", get(pages::tree))
        .route("/admin/comptes", get(pages::search))
        .route("/admin/comptes/{id}", get(pages::account))
        .route("/admin/comptes/{id}/suspendre", post(actions::suspend))
        .route("/admin/comptes/{id}/reactiver", post(actions::reactivate))
        .route("/admin/comptes/{id}/quota", post(actions::quota))
        .route("/admin/comptes/{id}/mot-de-passe", post(actions::reset_password))
        .route("/admin/comptes/{id}/2fa", post(actions::reset_totp))
        .route("/admin/comptes/{id}/cles", post(actions::reset_passkeys))
        .route("/admin/comptes/{id}/debloquer", post(actions::unlock))
        .route("/admin/comptes/{id}/role", post(actions::grant))
        .route("/admin/comptes/{id}/sessions/fermer", post(actions::end_session))
        .route("/admin/comptes/{id}/sessions/tout-fermer", post(actions::end_sessions))
        .route("/admin/file", get(queue::page))
        .route("/admin/file/{id}/relancer", post(queue::retry))
        .route("/admin/file/{id}/supprimer", post(queue::delete))
        .route("/admin/quarantaine", get(quarantine::page))
        .route("/admin/quarantaine/{id}/liberer", post(quarantine::release))
        .route("/admin/quarantaine/{id}/supprimer", post(quarantine::delete))
        .route("/admin/stockage", get(storage::page))
        .route("/admin/journal", get(pages::audit))
        .route("/admin/demandes", get(requests::page))
        .route("/admin/demandes/{id}/accepter", post(requests::approve))
        .route("/admin/demandes/{id}/refuser", post(requests::refuse))
        .route("/admin/listes", get(lists::page))
        .route("/admin/listes/{id}", get(lists::list))
        .route("/admin/listes/{id}/membres", post(lists::add_member))
        .route("/admin/listes/{id}/membres/retirer", post(lists::remove_member))
        .route("/admin/listes/{id}/politique", post(lists::policy))
        .route("/admin/listes/{id}/moderateurs", post(lists::moderator))
        .route("/admin/boites", get(functional::page))
        .route("/admin/boites/{id}", get(functional::mailbox))
        .route("/admin/boites/{id}/membres", post(functional::set_member))
        .route("/admin/boites/{id}/membres/retirer", post(functional::remove_member))
        .route("/admin/politiques", get(policies::page))
        .route("/admin/politiques/{id}/transfert", post(policies::forwarding))
        .route("/admin/politiques/{id}/archivage", post(policies::archiving))
        .route("/admin/annuaire", get(hr::page).post(hr::upload).layer(hr::limit()))
        .route("/admin/annuaire/appliquer", post(hr::apply))
}

/// The administrator a signed-in visitor is, or the answer to give instead:
/// the second-factor enrolment for an administrator without one, the
/// « page introuvable » page for everyone else.
async fn gate(app: &App, v: &Visitor, account: &Account) -> Result<Administrator, Response> {
    use axum::response::IntoResponse;
    let who = match app.identity.administrator(account).await {
        Ok(Some(who)) => who,
        Ok(None) => return Err(WebError::not_found(v.lang).into_response()),
        Err(e) => return Err(WebError::from(e).into_response()),
    };
    match crate::pages::totp_on(app, account).await {
        Ok(true) => Ok(who),
        Ok(false) => Err(redirect(v, "/2fa/activer")),
        Err(e) => Err(WebError::from(e).into_response()),
    }
}

/// The number in a console path (a queue entry, a quarantined message);
/// anything else is a page not found.
fn path_id(v: &Visitor, id: &str) -> Result<i64, WebError> {
    id.parse::<i64>().map_err(|_| WebError::not_found(v.lang))
}

/// A refusal of the identity service as the visitor is told it.
fn refusal(v: &Visitor, e: AdminError) -> WebError {
    let t = Tr(v.lang);
    let a = A(v.lang);
    let message = |status, title: &str, text: String| WebError::Message {
        status,
        title: title.to_owned(),
        text,
        link: "/admin/comptes".into(),
        link_text: a.get("adm.back").into(),
    };
    match e {
        AdminError::NotFound => WebError::not_found(v.lang),
        AdminError::Denied(_) => message(
            StatusCode::FORBIDDEN,
            a.get("adm.denied"),
            t.pick(
                "Votre rôle ne permet pas cette action sur ce compte.",
                "Your role does not allow this action on this account.",
            )
            .into(),
        ),
        AdminError::Refused { fr, en } => message(StatusCode::BAD_REQUEST, a.get("adm.refused"), t.pick(fr, en).into()),
        AdminError::Domain(text) => message(StatusCode::BAD_REQUEST, a.get("adm.refused"), text),
        AdminError::Store(e) => WebError::from(e),
        AdminError::Credentials(e) => WebError::from(e),
    }
}
