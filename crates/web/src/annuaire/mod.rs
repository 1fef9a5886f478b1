//! « Annuaire » and « Contacts » (issue 21): the académie directory,
//! searched by name, function, unit or UAI through `identity::directory`
//! (the source the composer's autocomplete and the CardDAV directory use
//! too), each card with « Écrire » (the composer, prefilled) and « Ajouter
//! à mes contacts » (the card copied into the personal address book); and
//! the personal contacts of the default address book (`groupware`'s
//! `contacts`: list, search, create, edit, delete, groups as categories),
//! the same cards CardDAV clients see. On `base` and `pages` only, beside
//! `mail`.

mod contacts;
mod directory;
mod texts;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::App;

pub use texts::A;

/// The routes of both pages.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/annuaire", get(directory::page))
        .route("/annuaire/fiche/{key}", get(directory::card))
        .route("/annuaire/fiche/{key}/ajouter", post(directory::add))
        .route("/contacts", get(contacts::list))
        .route("/contacts/nouveau", get(contacts::new_page).post(contacts::create))
        .route("/contacts/fiche/{name}", get(contacts::edit_page).post(contacts::save))
        .route("/contacts/fiche/{name}/supprimer", post(contacts::delete))
}
