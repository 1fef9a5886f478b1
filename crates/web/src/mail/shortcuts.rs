//! The keyboard shortcuts' help: a page (`/courrier/raccourcis`) that works
//! without script, and the same list in the dialog `courrier.js` opens
//! with `?` (in the layout). The keys themselves live in `courrier.js`.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::folders::{FolderView, sidebar};
use super::{M, Reader, common};
use crate::App;
use crate::base::{Common, WebError, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("live.keys.title", "Raccourcis clavier", "Keyboard shortcuts"),
    ("live.keys.close", "Fermer", "Close"),
    ("live.keys.compose", "Écrire un message", "Compose a message"),
    ("live.keys.reply", "Répondre", "Reply"),
    ("live.keys.replyall", "Répondre à tous", "Reply all"),
    ("live.keys.forward", "Transférer", "Forward"),
    ("live.keys.nextprev", "Message suivant / précédent de la liste", "Next / previous message in the list"),
    ("live.keys.enter", "Entrée", "Enter"),
    ("live.keys.open", "Ouvrir le message choisi", "Open the chosen message"),
    (
        "live.keys.pane",
        "Avec le volet de lecture : aller au message affiché",
        "With the reading pane: go to the message shown",
    ),
    ("live.keys.list", "Avec le volet de lecture : revenir à la liste", "With the reading pane: back to the list"),
    ("live.keys.delete", "Supprimer (mettre à la corbeille)", "Delete (move to the trash)"),
    ("live.keys.search", "Aller à la recherche", "Go to search"),
    ("live.keys.help", "Afficher cette aide", "Show this help"),
    (
        "live.keys.note",
        "Les raccourcis sont ignorés pendant la saisie dans un champ. Ils demandent JavaScript ; tout reste faisable avec les liens et boutons.",
        "Shortcuts are ignored while typing in a field. They need JavaScript; everything can still be done with the links and buttons.",
    ),
    ("live.announce.new", "Nouveau message de", "New message from"),
    ("live.announce.moved", "Message déplacé vers", "Message moved to"),
    ("live.announce.failed", "Le déplacement a échoué.", "The move failed."),
];

#[derive(Template)]
#[template(path = "mail/shortcuts.html")]
struct ShortcutsPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
}

/// `GET /courrier/raccourcis`.
pub async fn page(State(app): State<Arc<App>>, Reader { mut v, account }: Reader) -> Result<Response, WebError> {
    let m = M(v.lang);
    let folders = sidebar(&app, &account, None, m).await?;
    let c = common(&app, &mut v, m.get("live.keys.title"));
    Ok(render(&v, StatusCode::OK, &ShortcutsPage { c, m, folders }))
}
