//! « Demandes d'espace » (`/admin/demandes`): the users' open requests for
//! more space within the administrator's sight, each approved with the new
//! quota or refused with a reason. `identity::admin`'s requests service
//! decides who sees and decides what, tells the user and audits.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use identity::admin::parse_quota;
use serde::Deserialize;

use super::pages::{Done, Nav, common, err, nav};
use super::storage::bytes;
use super::{A, gate, refusal};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::{Common, SignedForm, SignedIn, redirect, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("adm.requests", "Demandes d'espace", "Space requests"),
    (
        "adm.requests.intro",
        "Les demandes d'espace supplémentaire des comptes de votre périmètre, les plus anciennes d'abord. \
         L'utilisateur est prévenu par un message dans sa boîte, que la demande soit acceptée ou refusée.",
        "Requests for more space from the accounts within your scope, the oldest first. The user finds a \
         message in their mailbox whether the request is approved or refused.",
    ),
    ("adm.requests.total", "demande(s) en attente", "request(s) waiting"),
    ("adm.requests.none", "Aucune demande en attente.", "No request waiting."),
    ("adm.requests.asked", "Demandée le", "Asked on"),
    ("adm.requests.reason", "Raison donnée", "Reason given"),
    ("adm.requests.when_asked", "Utilisé / quota à la demande", "Used / quota when asked"),
    ("adm.requests.now", "Utilisé / quota maintenant", "Used / quota now"),
    ("adm.requests.quota", "Nouveau quota (ex. 2G, 500M ; 0 = illimité)", "New quota (e.g. 2G, 500M; 0 = unlimited)"),
    ("adm.requests.approve", "Accepter", "Approve"),
    ("adm.requests.answer", "Raison du refus (l'utilisateur la lira)", "Reason for refusing (the user reads it)"),
    ("adm.requests.refuse", "Refuser", "Refuse"),
    (
        "adm.requests.own",
        "Votre propre demande : un autre administrateur la traite.",
        "Your own request: another administrator decides it.",
    ),
    (
        "adm.requests.readonly",
        "Votre rôle permet de voir cette demande, pas de la traiter.",
        "Your role may see this request, not decide it.",
    ),
    (
        "adm.done.approved",
        "La demande a été acceptée ; l'utilisateur est prévenu.",
        "The request was approved; the user is told.",
    ),
    (
        "adm.done.refused",
        "La demande a été refusée ; l'utilisateur est prévenu.",
        "The request was refused; the user is told.",
    ),
];

pub struct Row {
    id: i64,
    account: i64,
    address: String,
    name: String,
    unit: String,
    asked: String,
    reason: String,
    then: String,
    now: String,
    /// What the quota field starts with: twice the quota now, as typed.
    suggested: String,
    may_decide: bool,
    own: bool,
}

#[derive(Template)]
#[template(path = "admin/requests.html")]
struct RequestsPage {
    c: Common,
    a: A,
    nav: Nav,
    rows: Vec<Row>,
    total: usize,
}

#[derive(Debug, Default, Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    quota: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct RefuseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    raison: String,
}

has_csrf!(ApproveForm, RefuseForm);

/// « used / quota », the quota « illimité » when none.
fn usage(a: A, used: i64, quota: Option<i64>) -> String {
    format!("{} / {}", bytes(used), quota.map_or_else(|| a.get("adm.unlimited").to_owned(), bytes))
}

/// Twice `quota` in whole mebibytes, as the quota field reads it.
fn doubled(quota: Option<i64>) -> String {
    quota.map_or_else(String::new, |q| format!("{}M", (q.saturating_mul(2) >> 20).max(1)))
}

pub async fn page(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let view = app.identity.admin_quota_requests(&who).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let clock = app.cfg.clock.clone();
    let rows = view
        .rows
        .into_iter()
        .map(|r| {
            let q = r.request;
            Row {
                id: q.id,
                account: q.account_id,
                own: q.account_id == account.id,
                address: q.address,
                name: q.display_name,
                unit: r.unit.unwrap_or_else(|| "—".into()),
                asked: clock.full(q.requested_at),
                reason: q.reason,
                then: usage(a, q.used_bytes, q.quota_bytes),
                now: usage(a, r.used_now, r.quota_now),
                suggested: doubled(r.quota_now),
                may_decide: r.may_decide,
            }
        })
        .collect();
    let mut c = common(&app, &mut v, a, "adm.requests");
    c.info = match done.fait() {
        "accepte" => Some(a.get("adm.done.approved").to_owned()),
        "refuse" => Some(a.get("adm.done.refused").to_owned()),
        _ => None,
    };
    Ok(render(&v, StatusCode::OK, &RequestsPage { c, a, nav: nav(&who), rows, total: view.total }))
}

pub async fn approve(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<ApproveForm>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let id = super::path_id(&v, &id).map_err(IntoResponse::into_response)?;
    let done = async { app.identity.admin_quota_approve(&who, id, parse_quota(&form.quota)?).await };
    done.await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(redirect(&v, "/admin/demandes?fait=accepte"))
}

pub async fn refuse(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<RefuseForm>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let id = super::path_id(&v, &id).map_err(IntoResponse::into_response)?;
    app.identity.admin_quota_refuse(&who, id, &form.raison).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(redirect(&v, "/admin/demandes?fait=refuse"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_suggested_quota_doubles_the_current_one() {
        assert_eq!(super::doubled(Some(1 << 30)), "2048M");
        assert_eq!(super::doubled(Some(1000)), "1M");
        assert_eq!(super::doubled(None), "");
    }
}
