//! « Partage de fichiers » (issue 22): the web side of the `sharing` domain.
//!
//! - `tus`: resumable uploads for signed-in users, the tus 1.0 core protocol
//!   with creation and termination under `/partage/televersement/`
//!   (docs/partage.md); the session cookie plus the CSRF token in an
//!   `X-CSRF-Token` header.
//! - `public`: the link anyone may open without an account,
//!   `/partage/<token>` (a page, with the password form when the link has
//!   one) and `/partage/<token>/fichier` (the file, with HTTP range requests).
//! - `owner`: the webmail's page, `/courrier/partage`: the account's shares,
//!   the upload form (a small script drives tus and shows the progress), a
//!   share's versions and journal, revocation, a new version; and
//!   `/courrier/partage/lien`, where the composer turns a file too large for
//!   a message into a link written in the message.

mod owner;
mod public;
mod texts;
mod tus;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};

use crate::App;
use crate::base::assets::Asset;
pub use texts::TEXTS;

/// The upload page's script: the tus client and the progress bar.
const JS: &str = include_str!("../../static/partage.js");
static JS_ASSET: Asset = Asset::new(JS, "text/javascript; charset=utf-8");

async fn js(headers: HeaderMap) -> Response {
    JS_ASSET.respond(&headers)
}

/// The sharing routes, under the site-wide security headers.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/partage/televersement", post(tus::create).options(tus::options))
        .route("/partage/televersement/", post(tus::create).options(tus::options))
        .route(
            "/partage/televersement/{id}",
            axum::routing::head(tus::head)
                .patch(tus::patch)
                .delete(tus::delete)
                .options(tus::options)
                // The pieces are streamed to disk, never collected: no body limit applies.
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/partage/{token}", get(public::page).post(public::unlock))
        .route("/partage/{token}/fichier", get(public::file))
        .route("/courrier/partage", get(owner::list).post(owner::create))
        .route("/courrier/partage/lien", post(owner::in_message))
        .route("/courrier/partage/{id}", get(owner::detail))
        .route("/courrier/partage/{id}/revoquer", post(owner::revoke))
        .route("/courrier/partage/{id}/version", post(owner::version))
        .route("/static/partage.js", get(js))
}

/// A size for people: « 12,3 Mo ».
pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["octets", "Ko", "Mo", "Go"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} octets") } else { format!("{value:.1} {}", UNITS[unit]).replace('.', ",") }
}
