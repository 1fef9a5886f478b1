//! « Partage de fichiers » in the webmail (`/courrier/partage`): the
//! account's shares, the upload form (driven by `partage.js` over tus, then
//! posted with the finished upload's id), one share's link, versions and
//! download journal, revocation, and a new version. Every path names the
//! account's own share or answers the webmail's 404.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mailstore::Account;
use model::Address;
use serde::Deserialize;
use sharing::{Error, Link, NewLink};

use crate::App;
use crate::base::extract::{TokenOnly, has_csrf};
use crate::base::session::unix_now;
use crate::base::{Common, WebError, redirect, render};
use crate::mail::folders::{FolderView, sidebar};
use crate::mail::{M, Reader, ReaderForm, common, not_found, refused};

#[derive(Debug, Default, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub upload: String,
    #[serde(default)]
    pub days: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub recipients: String,
}

/// The composer's request: a finished upload to give as a link in the
/// message being written.
#[derive(Debug, Default, Deserialize)]
pub struct InMessageForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub upload: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct VersionForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub upload: String,
}

has_csrf!(CreateForm, VersionForm, InMessageForm);

/// A share in the list.
struct Row {
    id: i64,
    name: String,
    size: String,
    version: i64,
    until: String,
    state: &'static str,
    downloads: usize,
}

#[derive(Template)]
#[template(path = "partage/list.html")]
struct ListPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    available: bool,
    rows: Vec<Row>,
    max_size: String,
    max_size_bytes: u64,
    default_days: u64,
    max_days: u64,
    /// The antivirus scans every upload.
    scanned: bool,
}

struct VersionRow {
    version: i64,
    filename: String,
    size: String,
    at: String,
}

struct DownloadRow {
    version: i64,
    at: String,
    address: String,
    who: String,
}

#[derive(Template)]
#[template(path = "partage/detail.html")]
struct DetailPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    id: i64,
    name: String,
    url: String,
    until: String,
    state: &'static str,
    password: bool,
    recipients: Vec<String>,
    versions: Vec<VersionRow>,
    downloads: Vec<DownloadRow>,
    max_size_bytes: u64,
}

fn state_of(share: &sharing::Share, now: i64) -> &'static str {
    if share.revoked_at.is_some() {
        "revoque"
    } else if share.expires_at <= now {
        "expire"
    } else {
        "actif"
    }
}

/// The antivirus's refusals as pages: a virus (the upload is gone, 422) or
/// an antivirus that could not answer (the file kept, not shared yet, 503).
fn scan_refusal(lang: crate::base::i18n::Lang, e: &Error, back: &str) -> Option<WebError> {
    let (code, key) = match e {
        Error::Infected { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "par.virus"),
        Error::AwaitingScan(_) => (StatusCode::SERVICE_UNAVAILABLE, "par.awaiting"),
        _ => return None,
    };
    let mut page = refused(lang, M(lang).get(key), back);
    if let WebError::Message { status, .. } = &mut page {
        *status = code;
    }
    Some(page)
}

fn unavailable(lang: crate::base::i18n::Lang) -> WebError {
    refused(lang, M(lang).get("par.unavailable"), "/courrier")
}

/// `GET /courrier/partage`.
pub async fn list(State(app): State<Arc<App>>, Reader { mut v, account }: Reader) -> Result<Response, WebError> {
    let m = M(v.lang);
    let folders = sidebar(&app, &account, None, m).await?;
    let c = common(&app, &mut v, m.get("par.title"));
    let mut page = ListPage {
        c,
        m,
        folders,
        available: app.sharing.is_some(),
        rows: Vec::new(),
        max_size: String::new(),
        max_size_bytes: 0,
        default_days: 0,
        max_days: 0,
        scanned: false,
    };
    if let Some(sharing) = &app.sharing {
        let s = sharing.settings();
        page.max_size = super::human(s.largest_file());
        page.max_size_bytes = s.largest_file();
        page.scanned = s.antivirus.is_some();
        page.default_days = s.default_expiry.as_secs().div_ceil(86400);
        page.max_days = s.max_expiry.as_secs() / 86400;
        let now = unix_now();
        for summary in sharing.shares(account.id).await.map_err(|e| WebError::internal(&e))? {
            let latest = summary.latest.as_ref();
            page.rows.push(Row {
                id: summary.share.id,
                name: summary.share.name.clone(),
                size: latest.map(|v| super::human(v.size as u64)).unwrap_or_default(),
                version: latest.map_or(0, |v| v.version),
                until: app.cfg.clock.full(summary.share.expires_at),
                state: state_of(&summary.share, now),
                downloads: summary.downloads,
            });
        }
    }
    Ok(render(&v, StatusCode::OK, &page))
}

/// The recipients typed in the form: addresses separated by commas,
/// semicolons or line breaks.
fn recipients(text: &str) -> Result<Vec<Address>, String> {
    text.split([',', ';', '\n', '\r'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| Address::parse(a).map_err(|_| a.to_owned()))
        .collect()
}

/// `POST /courrier/partage`: shares a finished upload, tells the recipients.
pub async fn create(
    State(app): State<Arc<App>>,
    ReaderForm { v, account, form }: ReaderForm<CreateForm>,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let Some(sharing) = &app.sharing else { return Err(unavailable(v.lang)) };
    let back = "/courrier/partage";
    let to = match recipients(&form.recipients) {
        Ok(to) => to,
        Err(bad) => return Err(refused(v.lang, &format!("{} {bad}", m.get("par.bad.recipient")), back)),
    };
    let expiry = match form.days.trim() {
        "" => None,
        days => match days.parse::<u64>() {
            Ok(d) if d >= 1 => Some(Duration::from_secs(d * 86400)),
            _ => return Err(refused(v.lang, m.get("par.bad.days"), back)),
        },
    };
    let password = Some(form.password.clone()).filter(|p| !p.is_empty());
    let new = NewLink { upload: form.upload.trim().to_owned(), expiry, password, recipients: to.clone() };
    let share = match sharing.create_link(account.id, new).await {
        Ok(s) => s,
        Err(Error::NotFound) => return Err(refused(v.lang, m.get("par.bad.upload"), back)),
        Err(Error::Invalid(_)) => return Err(refused(v.lang, m.get("par.bad.days"), back)),
        Err(e) => return Err(scan_refusal(v.lang, &e, back).unwrap_or_else(|| WebError::internal(&e))),
    };
    if !to.is_empty() {
        tell_recipients(&app, sharing, &account, &share).await;
    }
    Ok(redirect(&v, &format!("/courrier/partage/{}", share.id)))
}

/// Mails each recipient their own link (so that the journal names who
/// downloaded), from the owner, through the webmail's sending path (the
/// same checks and limits as any message they send).
async fn tell_recipients(app: &App, sharing: &sharing::Sharing, account: &Account, share: &sharing::Share) {
    let Some(outbox) = &app.outbox else {
        tracing::info!(account = account.id, "no outbox: share recipients not told");
        return;
    };
    let links = match sharing.recipient_links(account.id, share.id).await {
        Ok(links) => links,
        Err(e) => {
            tracing::warn!(account = account.id, share = share.id, error = %e, "share recipients not told");
            return;
        }
    };
    let until = app.cfg.clock.full(share.expires_at);
    let protected = if share.password.is_some() {
        "Le lien est protégé par un mot de passe, que l'expéditeur vous communiquera autrement.\n\
         The link is protected by a password, which the sender will give you another way.\n"
    } else {
        ""
    };
    for (address, token) in links {
        let Ok(rcpt) = Address::parse(&address) else { continue };
        let url = format!("{}/partage/{token}", app.cfg.public_url);
        let text = format!(
            "{name} partage avec vous le fichier « {file} ».\n\n\
             Téléchargement : {url}\nDisponible jusqu'au {until}.\n\
             Ce lien vous est personnel : {name} verra quand vous l'aurez utilisé.\n{protected}\n\
             {name} shares the file \"{file}\" with you.\nDownload: {url}\nAvailable until {until}.\n\
             This link is yours: {name} will see when you used it.\n",
            name = account.display_name,
            file = share.name,
        );
        let built = mail_builder::MessageBuilder::new()
            .from((account.display_name.as_str(), account.address.to_string().as_str()))
            .to(rcpt.to_string())
            .subject(format!("Fichier partagé : {}", share.name))
            .text_body(text)
            .write_to_vec();
        let Ok(raw) = built else { continue };
        if let Err(e) = outbox.send(account, std::slice::from_ref(&rcpt), raw).await {
            tracing::warn!(account = account.id, share = share.id, refusal = ?e, "share link not sent");
        }
    }
}

/// Tells the owner, by a notice in their Inbox, that their link was
/// downloaded for the first time, and by whom when it was a recipient's
/// own link.
pub async fn tell_first_download(app: &App, link: &Link, ip: IpAddr) {
    let Ok(Some(owner)) = app.identity.account(link.share.account_id).await else { return };
    let at = app.cfg.clock.full(unix_now());
    let (par, by) = match &link.recipient {
        Some(who) => (format!(" par {who}"), format!(" by {who}")),
        None => (String::new(), String::new()),
    };
    let text = format!(
        "Votre fichier « {file} » a été téléchargé pour la première fois{par} le {at} (adresse {ip}).\n\
         Le suivi des téléchargements est dans Partage de fichiers : {url}/courrier/partage/{id}\n\n\
         Your file \"{file}\" was downloaded for the first time{by} on {at} (address {ip}).\n",
        file = link.share.name,
        url = app.cfg.public_url,
        id = link.share.id,
    );
    let built = mail_builder::MessageBuilder::new()
        .from(("Ardoise", format!("postmaster@{}", owner.address.domain()).as_str()))
        .to(owner.address.to_string())
        .subject(format!("Premier téléchargement : {}", link.share.name))
        .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
        .text_body(text)
        .write_to_vec();
    let Ok(raw) = built else { return };
    if let Err(e) = app.ms.deliver(&raw, &[owner.id], unix_now()).await {
        tracing::warn!(share = link.share.id, error = %e, "first-download notice not delivered");
    }
}

/// `GET /courrier/partage/<id>`.
pub async fn detail(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let Some(sharing) = &app.sharing else { return Err(unavailable(v.lang)) };
    let d = match sharing.detail(account.id, id).await {
        Ok(d) => d,
        Err(Error::NotFound) => return Err(not_found(v.lang)),
        Err(e) => return Err(WebError::internal(&e)),
    };
    let folders = sidebar(&app, &account, None, m).await?;
    let c = common(&app, &mut v, &d.share.name);
    let clock = &app.cfg.clock;
    let page = DetailPage {
        c,
        m,
        folders,
        id,
        name: d.share.name.clone(),
        url: format!("{}/partage/{}", app.cfg.public_url, d.share.token),
        until: clock.full(d.share.expires_at),
        state: state_of(&d.share, unix_now()),
        password: d.share.password.is_some(),
        recipients: d.share.recipients.lines().map(str::to_owned).collect(),
        versions: d
            .versions
            .iter()
            .rev()
            .map(|v| VersionRow {
                version: v.version,
                filename: v.filename.clone(),
                size: super::human(v.size as u64),
                at: clock.full(v.created_at),
            })
            .collect(),
        downloads: d
            .downloads
            .iter()
            .map(|x| DownloadRow {
                version: x.version,
                at: clock.full(x.at),
                address: x.address.clone(),
                who: x.who.clone(),
            })
            .collect(),
        max_size_bytes: sharing.settings().largest_file(),
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// `POST /courrier/partage/<id>/revoquer`.
pub async fn revoke(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    ReaderForm { v, account, form: _ }: ReaderForm<TokenOnly>,
) -> Result<Response, WebError> {
    let Some(sharing) = &app.sharing else { return Err(unavailable(v.lang)) };
    match sharing.revoke(account.id, id).await {
        Ok(()) => Ok(redirect(&v, &format!("/courrier/partage/{id}"))),
        Err(Error::NotFound) => Err(not_found(v.lang)),
        Err(e) => Err(WebError::internal(&e)),
    }
}

/// `POST /courrier/partage/<id>/version`: the finished upload becomes the
/// share's next version.
pub async fn version(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    ReaderForm { v, account, form }: ReaderForm<VersionForm>,
) -> Result<Response, WebError> {
    let Some(sharing) = &app.sharing else { return Err(unavailable(v.lang)) };
    match sharing.add_version(account.id, id, form.upload.trim()).await {
        Ok(_) => Ok(redirect(&v, &format!("/courrier/partage/{id}"))),
        Err(Error::NotFound) => Err(not_found(v.lang)),
        Err(Error::Invalid(_)) => {
            Err(refused(v.lang, M(v.lang).get("par.bad.upload"), &format!("/courrier/partage/{id}")))
        }
        Err(e) => {
            Err(scan_refusal(v.lang, &e, &format!("/courrier/partage/{id}")).unwrap_or_else(|| WebError::internal(&e)))
        }
    }
}

/// `POST /courrier/partage/lien`: the composer's file too large for a
/// message, uploaded over tus by `compose.js`, becomes a share with the
/// default life, no password and nobody told (the message carries the link
/// to its own recipients). Answers JSON: the link, the file's name, its
/// size and the link's last day, for the script to write into the message.
pub async fn in_message(
    State(app): State<Arc<App>>,
    ReaderForm { v, account, form }: ReaderForm<InMessageForm>,
) -> Result<Response, WebError> {
    let Some(sharing) = &app.sharing else { return Err(unavailable(v.lang)) };
    let new = NewLink { upload: form.upload.trim().to_owned(), expiry: None, password: None, recipients: vec![] };
    let share = match sharing.create_link(account.id, new).await {
        Ok(s) => s,
        Err(Error::NotFound) => {
            return Err(refused(v.lang, M(v.lang).get("par.bad.upload"), "/courrier/ecrire"));
        }
        Err(e) => {
            return Err(scan_refusal(v.lang, &e, "/courrier/ecrire").unwrap_or_else(|| WebError::internal(&e)));
        }
    };
    let size = sharing.detail(account.id, share.id).await.ok().and_then(|d| d.versions.last().map(|x| x.size));
    let body = serde_json::json!({
        "url": format!("{}/partage/{}", app.cfg.public_url, share.token),
        "name": share.name,
        "size": size.map(|b| super::human(b as u64)).unwrap_or_default(),
        "until": app.cfg.clock.full(share.expires_at),
    });
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    Ok(resp)
}
