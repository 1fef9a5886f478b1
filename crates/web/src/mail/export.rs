//! Réglages → « Exporter mes données » (`/courrier/reglages/export`, issue
//! 23): the user asks for their export, which the `export` domain builds in
//! the background; this page shows how far it is (it reloads itself with a
//! `Refresh` header while the archive is written, no script needed) and then
//! offers the archive once, at `/courrier/reglages/export/<token>`. The link
//! is the account's own: anyone else, or a second use, gets the 404 page.

use std::sync::Arc;

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use export::{Failure, Started, Status};
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use super::folders::{FolderView, sidebar};
use super::{M, Reader, ReaderForm, common, not_found};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::{Common, WebError, redirect, render};
use crate::partage::human;

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("exp.title", "Exporter mes données", "Export my data"),
    (
        "exp.intro",
        "Vous pouvez emporter vos données : chaque dossier au format mbox et chaque message en .eml, vos contacts (vCard), vos agendas (iCalendar) et votre journal de connexion, réunis dans une archive .zip.",
        "You can take your data with you: each folder as mbox and each message as .eml, your contacts (vCard), your calendars (iCalendar) and your connection journal, in one .zip archive.",
    ),
    (
        "exp.how",
        "L'archive est préparée sur le serveur pendant que vous continuez à travailler. Elle ne peut être téléchargée qu'une fois, puis elle est effacée.",
        "The archive is prepared on the server while you go on working. It can be downloaded once, then it is deleted.",
    ),
    ("exp.start", "Préparer mon export", "Prepare my export"),
    ("exp.again", "Préparer un nouvel export", "Prepare a new export"),
    ("exp.running", "Votre export est en préparation…", "Your export is being prepared…"),
    ("exp.waiting", "En attente : d'autres exports sont en cours.", "Waiting: other exports are being prepared."),
    ("exp.messages", "messages", "messages"),
    (
        "exp.reload",
        "Cette page se met à jour toute seule ; vous pouvez aussi la recharger.",
        "This page updates itself; you may also reload it.",
    ),
    ("exp.ready", "Votre export est prêt.", "Your export is ready."),
    ("exp.download", "Télécharger l'archive", "Download the archive"),
    (
        "exp.once",
        "Le lien ne sert qu'une fois. Sans téléchargement, l'archive sera effacée le",
        "The link works once. If not downloaded, the archive will be deleted on",
    ),
    (
        "exp.toolarge",
        "Votre export dépasse la taille maximale autorisée par l'académie. Videz la corbeille ou supprimez des messages volumineux, ou demandez votre export à l'assistance.",
        "Your export is larger than the académie allows. Empty the trash or delete large messages, or ask the helpdesk for your export.",
    ),
    ("exp.max", "Taille maximale d'un export", "Largest export"),
    (
        "exp.failed",
        "L'export n'a pas pu être préparé. Réessayez dans un moment ; si cela persiste, contactez l'assistance.",
        "The export could not be prepared. Try again in a moment; if it goes on, contact the helpdesk.",
    ),
    ("exp.unavailable", "L'export n'est pas disponible sur ce serveur.", "Export is not available on this server."),
    ("exp.link", "Exporter mes données", "Export my data"),
];

/// Seconds between reloads while the archive is written.
const RELOAD_SECS: &str = "3";

#[derive(Debug, Default, Deserialize)]
pub struct ExportForm {
    #[serde(default)]
    pub csrf: String,
}

has_csrf!(ExportForm);

#[derive(Template)]
#[template(path = "mail/export.html")]
struct ExportPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    available: bool,
    /// `attente`, `cours`, `pret`, `trop`, `echec` or empty (nothing asked).
    state: &'static str,
    done: u64,
    total: u64,
    link: String,
    size: String,
    until: String,
    max: String,
}

/// `GET /courrier/reglages/export`.
pub async fn page(State(app): State<Arc<App>>, Reader { mut v, account }: Reader) -> Result<Response, WebError> {
    let m = M(v.lang);
    let folders = sidebar(&app, &account, None, m).await?;
    let c = common(&app, &mut v, m.get("exp.title"));
    let mut page = ExportPage {
        c,
        m,
        folders,
        available: app.exports.is_some(),
        state: "",
        done: 0,
        total: 0,
        link: String::new(),
        size: String::new(),
        until: String::new(),
        max: String::new(),
    };
    if let Some(exports) = &app.exports {
        if let Some(max) = exports.settings().max_bytes {
            page.max = human(max);
        }
        match exports.status(account.id) {
            Status::Idle => {}
            Status::Running { done, total } => {
                page.state = if total == 0 && done == 0 { "attente" } else { "cours" };
                page.done = done;
                page.total = total.max(done);
            }
            Status::Ready { token, totals, until } => {
                page.state = "pret";
                page.link = format!("/courrier/reglages/export/{token}");
                page.size = human(totals.bytes);
                page.until = app.cfg.clock.full(until);
            }
            Status::Failed(Failure::TooLarge { .. }) => page.state = "trop",
            Status::Failed(Failure::Unavailable) => page.state = "echec",
        }
    }
    let reload = matches!(page.state, "attente" | "cours");
    let mut resp = render(&v, StatusCode::OK, &page);
    if reload {
        resp.headers_mut()
            .insert(axum::http::HeaderName::from_static("refresh"), HeaderValue::from_static(RELOAD_SECS));
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `POST /courrier/reglages/export`: asks for the export and shows the page.
pub async fn start(
    State(app): State<Arc<App>>,
    ReaderForm { v, account, form: _ }: ReaderForm<ExportForm>,
) -> Result<Response, WebError> {
    let Some(exports) = &app.exports else {
        return Err(super::refused(v.lang, M(v.lang).get("exp.unavailable"), "/courrier/reglages"));
    };
    match exports.start(&account).await {
        Ok(Started::Started | Started::AlreadyRunning | Started::TooLarge { .. }) => {}
        Err(e) => {
            tracing::warn!(account = account.id, error = %e, "export request failed");
            return Err(super::refused(v.lang, M(v.lang).get("exp.failed"), "/courrier/reglages/export"));
        }
    }
    Ok(redirect(&v, "/courrier/reglages/export"))
}

/// `GET /courrier/reglages/export/<token>`: the archive, once, to its owner.
pub async fn download(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
    Reader { v, account }: Reader,
) -> Result<Response, WebError> {
    let Some(exports) = &app.exports else { return Err(not_found(v.lang)) };
    let Some(download) = exports.take(&account, &token).await else { return Err(not_found(v.lang)) };
    let file = tokio::fs::File::from_std(download.file);
    let chunks = futures_util::stream::unfold(file, |mut file| async move {
        let mut buf = vec![0u8; 256 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    let local = account.address.to_string().split('@').next().unwrap_or("compte").to_owned();
    let name = format!("ardoise-export-{local}.zip")
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.', "_");
    let mut resp = Body::from_stream(chunks).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(download.bytes));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(d) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn sizes_read_in_french() {
        assert_eq!(human(512), "512 octets");
        assert_eq!(human(1536), "1,5 Ko");
        assert_eq!(human(5 * 1024 * 1024 * 1024), "5,0 Go");
    }
}
