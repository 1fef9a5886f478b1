//! « Politiques » (`/admin/politiques`): the policies within the
//! administrator's scope. What the store keeps per unit (where automatic
//! forwarding may go, the automatic archiving delay) is shown per unit and
//! changed here by those who govern the unit (`identity::admin::policies`
//! checks and audits). What is installation-wide lives in the configuration
//! file: it is shown read only, with the key that changes it
//! ([`ConsoleSettings`], filled by the binary from the configuration).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::hr::HrUploads;
use super::pages::{Nav, common, err, nav};
use super::storage::bytes;
use super::{A, gate, refusal};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::{Common, SignedForm, SignedIn, redirect, render};

/// What the console shows of the configuration, and its in-memory state.
#[derive(Debug, Clone, Default)]
pub struct ConsoleSettings {
    /// `[quota] default`: the quota of accounts the HR sync creates.
    pub default_quota: Option<i64>,
    /// `[smtp] max_message_size`: the largest message, attachments included.
    pub max_message_bytes: u64,
    /// `[hygiene] junk_threshold` and `reject_threshold`.
    pub junk_threshold: f64,
    pub reject_threshold: f64,
    /// `[sharing] default_expiry` and `max_expiry`, in seconds.
    pub share_default_secs: u64,
    pub share_max_secs: u64,
    /// `[forwarding] policy` (`internal`, `domains`, `anywhere`) and `domains`.
    pub forwarding: String,
    pub forwarding_domains: Vec<String>,
    /// The HR files waiting for their confirmation (« Annuaire RH »).
    pub hr_uploads: Arc<HrUploads>,
}

/// One installation-wide setting: its name, its value, its key.
pub struct Setting {
    id: &'static str,
    name: &'static str,
    value: String,
    key: &'static str,
}

pub struct UnitLine {
    id: i64,
    name: String,
    depth: usize,
    forwarding: String,
    /// The policy as the form preselects it (`herite` when inherited).
    policy: String,
    domains: String,
    archive: String,
    days: String,
    may_edit: bool,
}

#[derive(Template)]
#[template(path = "admin/policies.html")]
struct PoliciesPage {
    c: Common,
    a: A,
    nav: Nav,
    password: Vec<Setting>,
    installation: Vec<Setting>,
    units: Vec<UnitLine>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PoliciesQuery {
    #[serde(default)]
    fait: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ForwardingForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    politique: String,
    #[serde(default)]
    domaines: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ArchivingForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    jours: String,
}

has_csrf!(ForwardingForm, ArchivingForm);

fn policy_text(a: A, policy: &str, domains: &[String]) -> String {
    match policy {
        "internal" => a.get("adm.pol.fwd.internal").to_owned(),
        "anywhere" => a.get("adm.pol.fwd.anywhere").to_owned(),
        _ => format!("{} : {}", a.get("adm.pol.fwd.domains"), domains.join(", ")),
    }
}

fn days_text(a: A, days: u64) -> String {
    if days == 0 { a.get("adm.pol.never").to_owned() } else { format!("{days} {}", a.get("adm.pol.days")) }
}

pub async fn page(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
    Query(q): Query<PoliciesQuery>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let rows = app.identity.admin_policies(&who).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let s = &app.cfg.console;
    let p = app.identity.policy();
    let setting = |id, name, value: String, key| Setting { id, name: a.get(name), value, key };
    let password = vec![
        setting("pol-longueur", "adm.pol.pw.length", p.min_length.to_string(), "[web] password_min_length"),
        setting("pol-classes", "adm.pol.pw.classes", p.min_classes.to_string(), "[web] password_min_classes"),
        setting("pol-force", "adm.pol.pw.strength", format!("{} / 4", p.min_score), "[web] password_min_strength"),
        setting("pol-historique", "adm.pol.pw.history", p.history.to_string(), "[web] password_history"),
        setting(
            "pol-age",
            "adm.pol.pw.age",
            days_text(a, p.max_age_days.map_or(0, u64::from)),
            "[web] password_max_age_days",
        ),
    ];
    let score = |x: f64| format!("{x:.1}").replace('.', ",");
    let installation = vec![
        setting(
            "pol-transfert",
            "adm.pol.fwd.default",
            policy_text(a, &s.forwarding, &s.forwarding_domains),
            "[forwarding] policy, domains",
        ),
        setting("pol-archivage", "adm.pol.arch.default", days_text(a, app.cfg.archive_days), "[mail] archive_days"),
        setting("pol-indesirables", "adm.pol.junk", score(s.junk_threshold), "[hygiene] junk_threshold"),
        setting("pol-rejet", "adm.pol.reject", score(s.reject_threshold), "[hygiene] reject_threshold"),
        setting("pol-taille", "adm.pol.size", bytes(s.max_message_bytes as i64), "[smtp] max_message_size"),
        setting(
            "pol-partage",
            "adm.pol.share",
            days_text(a, s.share_default_secs / 86_400),
            "[sharing] default_expiry",
        ),
        setting(
            "pol-partage-max",
            "adm.pol.share.max",
            days_text(a, s.share_max_secs / 86_400),
            "[sharing] max_expiry",
        ),
        setting(
            "pol-quota",
            "adm.pol.quota",
            s.default_quota.map_or_else(|| a.get("adm.unlimited").to_owned(), bytes),
            "[quota] default",
        ),
    ];
    let inherited = a.get("adm.pol.inherited");
    let units = rows
        .into_iter()
        .map(|u| UnitLine {
            id: u.unit,
            name: u.name,
            depth: u.depth.min(6),
            forwarding: u.forwarding.as_ref().map_or_else(|| inherited.to_owned(), |(p, d)| policy_text(a, p, d)),
            policy: u.forwarding.as_ref().map_or_else(|| "herite".to_owned(), |(p, _)| p.clone()),
            domains: u.forwarding.map(|(_, d)| d.join(" ")).unwrap_or_default(),
            archive: u.archive_days.map_or_else(|| inherited.to_owned(), |d| days_text(a, d.max(0) as u64)),
            days: u.archive_days.map(|d| d.to_string()).unwrap_or_default(),
            may_edit: u.may_edit,
        })
        .collect();
    let mut c = common(&app, &mut v, a, "adm.pol");
    c.info = match q.fait.as_str() {
        "transfert" => Some(a.get("adm.pol.done.fwd").to_owned()),
        "archivage" => Some(a.get("adm.pol.done.arch").to_owned()),
        _ => None,
    };
    let page = PoliciesPage { a, nav: nav(&who), password, installation, units, c };
    Ok(render(&v, StatusCode::OK, &page))
}

/// `POST /admin/politiques/{unit}/transfert`: the unit's forwarding policy
/// (`herite`: removed, the unit above's applies).
pub async fn forwarding(
    State(app): State<Arc<App>>,
    Path(unit): Path<String>,
    SignedForm { v, account, form }: SignedForm<ForwardingForm>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let unit = super::path_id(&v, &unit).map_err(IntoResponse::into_response)?;
    let done = if form.politique == "herite" {
        app.identity.admin_remove_forwarding(&who, unit).await.map(|_| ())
    } else {
        let domains: Vec<String> = form.domaines.split_whitespace().map(str::to_owned).collect();
        app.identity.admin_set_forwarding(&who, unit, &form.politique, &domains).await
    };
    done.map_err(|e| refusal(&v, e).into_response())?;
    Ok(redirect(&v, "/admin/politiques?fait=transfert"))
}

/// `POST /admin/politiques/{unit}/archivage`: the unit's archiving delay in
/// days (empty: removed, the unit above's applies).
pub async fn archiving(
    State(app): State<Arc<App>>,
    Path(unit): Path<String>,
    SignedForm { v, account, form }: SignedForm<ArchivingForm>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let unit = super::path_id(&v, &unit).map_err(IntoResponse::into_response)?;
    let done = match form.jours.trim() {
        "" => app.identity.admin_remove_archiving(&who, unit).await.map(|_| ()),
        days => match days.parse::<i64>() {
            Ok(days) => app.identity.admin_set_archiving(&who, unit, days).await,
            Err(_) => Err(identity::admin::AdminError::Refused {
                fr: "délai invalide (un nombre de jours)",
                en: "invalid delay (a number of days)",
            }),
        },
    };
    done.map_err(|e| refusal(&v, e).into_response())?;
    Ok(redirect(&v, "/admin/politiques?fait=archivage"))
}
