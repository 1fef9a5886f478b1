//! « Annuaire RH » (`/admin/annuaire`): an académie administrator uploads
//! the HR file (the format of docs/hr-sync.md, as `ardoise directory sync`
//! reads it), sees the dry run's diff (arrivals, moves, departures and
//! suspensions, other changes, rows refused with their reason, counts), then
//! confirms it and the sync runs, audited with their address.
//!
//! Who may sync, which académie the file may touch and which domain new
//! addresses use are `identity::admin::hr`'s decisions (the CLI's door too).
//! Between the dry run and the confirmation the file stays here, in memory
//! ([`HrUploads`]), under a random token bound to the administrator's
//! account, for [`KEPT`]; the confirmation carries the dry run's fingerprint,
//! and when the directory changed meanwhile the identity service applies
//! nothing and the page shows the new diff to confirm again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use identity::admin::{AdminError, Administrator, HrError, HrSync};
use identity::lifecycle::{ChangeKind, SyncError, SyncReport};
use model::AccountId;
use serde::Deserialize;

use super::actions::unconfirmed;
use super::pages::{Nav, common, err, nav};
use super::{A, gate, refusal};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::session::Visitor;
use crate::base::{Common, SignedForm, SignedIn, WebError, render};

/// The largest HR file the console takes (50,000 people is about 6 MiB).
pub const MAX_FILE: usize = 16 << 20;
/// The upload's body limit: the file and the form around it.
pub fn limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_FILE + (1 << 20))
}

/// How long an uploaded file waits for its confirmation.
pub const KEPT: Duration = Duration::from_secs(30 * 60);
/// Files kept at once, all administrators together (the oldest go first).
const MAX_KEPT: usize = 16;

/// The files between their dry run and their confirmation.
#[derive(Debug, Default)]
pub struct HrUploads(Mutex<HashMap<String, Upload>>);

#[derive(Debug)]
struct Upload {
    account: AccountId,
    file: Arc<Vec<u8>>,
    domain: Option<String>,
    fingerprint: String,
    at: Instant,
}

impl HrUploads {
    /// Keeps `file` for `account` (replacing its previous one) and answers its token.
    fn keep(&self, account: AccountId, file: Arc<Vec<u8>>, domain: Option<String>, fingerprint: String) -> String {
        let token = identity::credentials::hash::random_token(24);
        let Ok(mut map) = self.0.lock() else { return token };
        map.retain(|_, u| u.account != account && u.at.elapsed() < KEPT);
        while map.len() >= MAX_KEPT {
            let Some(oldest) = map.iter().min_by_key(|(_, u)| u.at).map(|(k, _)| k.clone()) else { break };
            map.remove(&oldest);
        }
        map.insert(token.clone(), Upload { account, file, domain, fingerprint, at: Instant::now() });
        token
    }

    /// The file kept under `token` for `account`, if still there.
    fn get(&self, account: AccountId, token: &str) -> Option<(Arc<Vec<u8>>, Option<String>, String)> {
        let map = self.0.lock().ok()?;
        let u = map.get(token).filter(|u| u.account == account && u.at.elapsed() < KEPT)?;
        Some((u.file.clone(), u.domain.clone(), u.fingerprint.clone()))
    }

    /// A new fingerprint for the file under `token` (the diff was shown again).
    fn refresh(&self, token: &str, fingerprint: String) {
        if let Ok(mut map) = self.0.lock()
            && let Some(u) = map.get_mut(token)
        {
            u.fingerprint = fingerprint;
            u.at = Instant::now();
        }
    }

    fn forget(&self, token: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(token);
        }
    }
}

/// One line of the diff.
pub struct Line {
    line: String,
    address: String,
    detail: String,
}

/// One part of the diff: arrivals, moves, departures, changes.
pub struct Group {
    id: &'static str,
    title: &'static str,
    lines: Vec<Line>,
}

/// What the page shows: the form only, the file's errors, or a diff.
#[derive(Template)]
#[template(path = "admin/hr.html")]
struct HrPage {
    c: Common,
    a: A,
    nav: Nav,
    domains: Vec<String>,
    max_mib: usize,
    /// The file's errors (nothing applied).
    errors: Vec<String>,
    diff: Option<Diff>,
}

struct Diff {
    rows: usize,
    counts: Vec<(&'static str, usize)>,
    groups: Vec<Group>,
    refused: Vec<String>,
    /// Already applied (the answer to the confirmation).
    applied: bool,
    /// What the confirmation carries (a dry run with changes).
    confirm: Option<Confirm>,
}

/// The file's token and the dry run's fingerprint.
struct Confirm {
    jeton: String,
    empreinte: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    jeton: String,
    #[serde(default)]
    empreinte: String,
    #[serde(default)]
    confirm: String,
}

has_csrf!(ConfirmForm);

fn kind_text(a: A, k: ChangeKind) -> &'static str {
    a.get(match k {
        ChangeKind::Created => "adm.hr.k.created",
        ChangeKind::Renamed => "adm.hr.k.renamed",
        ChangeKind::Transferred => "adm.hr.k.transferred",
        ChangeKind::Updated => "adm.hr.k.updated",
        ChangeKind::Suspended => "adm.hr.k.suspended",
        ChangeKind::Reactivated => "adm.hr.k.reactivated",
        ChangeKind::Closed => "adm.hr.k.closed",
    })
}

/// The report as the page groups it.
fn diff(a: A, report: &SyncReport, confirm: Option<Confirm>) -> Diff {
    let parts: [(&'static str, &str, &[ChangeKind]); 4] = [
        ("arrivees", "adm.hr.arrivals", &[ChangeKind::Created]),
        ("mutations", "adm.hr.moves", &[ChangeKind::Transferred]),
        ("departs", "adm.hr.departures", &[ChangeKind::Suspended, ChangeKind::Closed]),
        ("changements", "adm.hr.changes", &[ChangeKind::Renamed, ChangeKind::Updated, ChangeKind::Reactivated]),
    ];
    let groups = parts
        .iter()
        .map(|&(id, title, kinds)| Group {
            id,
            title: a.get(title),
            lines: report
                .changes
                .iter()
                .filter(|c| kinds.contains(&c.kind))
                .map(|c| Line {
                    line: if c.line == 0 { "—".into() } else { c.line.to_string() },
                    address: c.address.clone(),
                    detail: format!("{} — {}", kind_text(a, c.kind), c.detail),
                })
                .collect(),
        })
        .collect();
    let mut counts: Vec<(&'static str, usize)> =
        report.counts().into_iter().map(|(k, n)| (kind_text(a, k), n)).collect();
    if !report.refused.is_empty() {
        counts.push((a.get("adm.hr.refused"), report.refused.len()));
    }
    Diff {
        rows: report.rows,
        counts,
        groups,
        refused: report.refused.iter().map(ToString::to_string).collect(),
        applied: report.applied,
        confirm: confirm.filter(|_| !report.changes.is_empty()),
    }
}

async fn show(
    app: &App,
    v: &mut Visitor,
    who: &Administrator,
    status: StatusCode,
    errors: Vec<String>,
    diff: Option<Diff>,
    info: Option<String>,
) -> Result<Response, Response> {
    let domains = app.identity.admin_hr_domains(who).await.map_err(|e| err(v, e))?;
    let a = A(v.lang);
    let mut c = common(app, v, a, "adm.hr");
    c.info = info;
    let page = HrPage {
        a,
        nav: nav(who),
        domains: domains.iter().map(ToString::to_string).collect(),
        max_mib: MAX_FILE >> 20,
        errors,
        diff,
        c,
    };
    Ok(render(v, status, &page))
}

/// What a sync's refusal becomes: the file's errors on the page (400), or
/// the console's refusal page.
async fn failed(app: &App, v: &mut Visitor, who: &Administrator, e: HrError) -> Result<Response, Response> {
    match e {
        HrError::Sync(SyncError::Lines(errors)) => {
            let errors = errors.iter().map(ToString::to_string).collect();
            show(app, v, who, StatusCode::BAD_REQUEST, errors, None, None).await
        }
        HrError::Sync(SyncError::Store(e)) => Err(WebError::from(e).into_response()),
        HrError::Sync(e) => Err(WebError::internal(&e).into_response()),
        HrError::Admin(e) => Err(refused_here(v, e)),
    }
}

/// A refusal, with its link back to this page.
fn refused_here(v: &Visitor, e: AdminError) -> Response {
    match refusal(v, e) {
        WebError::Message { status, title, text, .. } => WebError::Message {
            status,
            title,
            text,
            link: "/admin/annuaire".into(),
            link_text: A(v.lang).get("adm.hr").into(),
        }
        .into_response(),
        other => other.into_response(),
    }
}

/// `GET /admin/annuaire`: the upload form (refused to roles that may not sync).
pub async fn page(State(app): State<Arc<App>>, SignedIn { mut v, account }: SignedIn) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    app.identity.admin_hr_scope(&who).await.map_err(|e| refused_here(&v, e))?;
    show(&app, &mut v, &who, StatusCode::OK, Vec::new(), None, None).await
}

/// The upload's fields: the token, the domain and the file.
struct Posted {
    csrf: String,
    domain: String,
    file: Option<Vec<u8>>,
    too_large: bool,
}

async fn read_upload(mut mp: Multipart) -> Posted {
    let mut p = Posted { csrf: String::new(), domain: String::new(), file: None, too_large: false };
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                p.too_large = e.status() == StatusCode::PAYLOAD_TOO_LARGE;
                break;
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "csrf" => p.csrf = field.text().await.unwrap_or_default(),
            "domaine" => p.domain = field.text().await.unwrap_or_default().trim().to_owned(),
            "fichier" => {
                let mut bytes = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) if bytes.len() + chunk.len() <= MAX_FILE => bytes.extend_from_slice(&chunk),
                        Ok(Some(_)) => {
                            p.too_large = true;
                            return p;
                        }
                        Ok(None) => break,
                        Err(e) => {
                            p.too_large = e.status() == StatusCode::PAYLOAD_TOO_LARGE;
                            return p;
                        }
                    }
                }
                p.file = Some(bytes);
            }
            _ => {}
        }
    }
    p
}

/// `POST /admin/annuaire` (multipart): the dry run of the uploaded file.
pub async fn upload(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
    mp: Multipart,
) -> Result<Response, Response> {
    let posted = read_upload(mp).await;
    // The token travels in the multipart body (before the file): checked
    // here, before anything else.
    v.check_csrf(&app, &posted.csrf).map_err(IntoResponse::into_response)?;
    let who = gate(&app, &v, &account).await?;
    app.identity.admin_hr_scope(&who).await.map_err(|e| refused_here(&v, e))?;
    let a = A(v.lang);
    let problem = if posted.too_large {
        Some(a.get("adm.hr.toolarge").replace("{}", &(MAX_FILE >> 20).to_string()))
    } else if posted.file.as_ref().is_none_or(Vec::is_empty) {
        Some(a.get("adm.hr.nofile").to_owned())
    } else {
        None
    };
    if let Some(problem) = problem {
        return show(&app, &mut v, &who, StatusCode::BAD_REQUEST, vec![problem], None, None).await;
    }
    let file = Arc::new(posted.file.unwrap_or_default());
    let domain = Some(posted.domain).filter(|d| !d.is_empty());
    let run = HrSync {
        domain: domain.as_deref(),
        dry_run: true,
        quota_bytes: app.cfg.console.default_quota,
        ..HrSync::new(&file)
    };
    let report = match app.identity.admin_hr_sync(&who, key(&app, &v)?, &run, &|_, _, _| {}).await {
        Ok(r) => r,
        Err(e) => return failed(&app, &mut v, &who, e).await,
    };
    let fingerprint = report.fingerprint();
    let token = app.cfg.console.hr_uploads.keep(account.id, file.clone(), domain, fingerprint.clone());
    let d = diff(a, &report, Some(Confirm { jeton: token, empreinte: fingerprint }));
    show(&app, &mut v, &who, StatusCode::OK, Vec::new(), Some(d), None).await
}

/// `POST /admin/annuaire/appliquer`: runs the sync of the file kept under
/// the token, if its diff is still the one shown; else shows the new one.
pub async fn apply(
    State(app): State<Arc<App>>,
    SignedForm { mut v, account, form }: SignedForm<ConfirmForm>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    app.identity.admin_hr_scope(&who).await.map_err(|e| refused_here(&v, e))?;
    if form.confirm != "1" {
        return Err(unconfirmed(&v));
    }
    let a = A(v.lang);
    let uploads = &app.cfg.console.hr_uploads;
    let Some((file, domain, _)) = uploads.get(account.id, &form.jeton) else {
        let gone = vec![a.get("adm.hr.gone").to_owned()];
        return show(&app, &mut v, &who, StatusCode::GONE, gone, None, None).await;
    };
    let run = HrSync {
        domain: domain.as_deref(),
        dry_run: false,
        quota_bytes: app.cfg.console.default_quota,
        expect: Some(form.empreinte.clone()),
        ..HrSync::new(&file)
    };
    match app.identity.admin_hr_sync(&who, key(&app, &v)?, &run, &|_, _, _| {}).await {
        Ok(report) => {
            uploads.forget(&form.jeton);
            let info = Some(a.get(if report.applied { "adm.hr.applied" } else { "adm.hr.nothing" }).to_owned());
            show(&app, &mut v, &who, StatusCode::OK, Vec::new(), Some(diff(a, &report, None)), info).await
        }
        Err(HrError::Sync(SyncError::Changed(report))) => {
            let fingerprint = report.fingerprint();
            uploads.refresh(&form.jeton, fingerprint.clone());
            let d = diff(a, &report, Some(Confirm { jeton: form.jeton.clone(), empreinte: fingerprint }));
            let changed = vec![a.get("adm.hr.changed").to_owned()];
            show(&app, &mut v, &who, StatusCode::CONFLICT, changed, Some(d), None).await
        }
        Err(e) => failed(&app, &mut v, &who, e).await,
    }
}

/// The NUMEN key (the binary always sets it; a test server without it
/// cannot sync).
#[allow(
    clippy::result_large_err,
    reason = "the page's answer, returned with `?` by handlers that answer a Response either way"
)]
fn key<'a>(app: &'a App, v: &Visitor) -> Result<&'a identity::lifecycle::NumenKey, Response> {
    app.cfg.numen_key.as_ref().ok_or_else(|| {
        refused_here(v, AdminError::Refused { fr: "clé des NUMEN absente", en: "no NUMEN key configured" })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_file_is_its_owners_only_and_replaced_by_their_next() {
        let uploads = HrUploads::default();
        let t1 = uploads.keep(1, Arc::new(b"a".to_vec()), None, "f1".into());
        assert_eq!(uploads.get(1, &t1).map(|(f, _, fp)| (f.to_vec(), fp)), Some((b"a".to_vec(), "f1".into())));
        assert!(uploads.get(2, &t1).is_none(), "another administrator cannot use the token");
        let t2 = uploads.keep(1, Arc::new(b"b".to_vec()), Some("ac-x.fr".into()), "f2".into());
        assert!(uploads.get(1, &t1).is_none(), "the next upload replaces the first");
        uploads.refresh(&t2, "f3".into());
        assert_eq!(uploads.get(1, &t2).map(|(_, d, fp)| (d, fp)), Some((Some("ac-x.fr".into()), "f3".into())));
        uploads.forget(&t2);
        assert!(uploads.get(1, &t2).is_none());
        for i in 0..40 {
            uploads.keep(100 + i, Arc::new(Vec::new()), None, String::new());
        }
        assert!(uploads.0.lock().unwrap().len() <= MAX_KEPT);
    }
}
