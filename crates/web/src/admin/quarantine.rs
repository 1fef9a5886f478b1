//! « Quarantaine » (`/admin/quarantaine`): the messages the MX refused,
//! for the administrators who govern every recipient's unit, with
//! « Libérer » and « Supprimer », both confirmed. The identity service
//! decides what is shown and allowed, and audits the look and each action.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::actions::{Confirmed, confirmed, unconfirmed};
use super::pages::{Nav, common, err, nav};
use super::{A, gate, refusal};
use crate::App;
use crate::base::session::{Visitor, unix_now};
use crate::base::{Common, SignedForm, SignedIn, WebError, redirect, render};

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

pub struct Row {
    id: i64,
    reason: &'static str,
    detail: String,
    from: String,
    to: String,
    subject: String,
    size: String,
    received: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "admin/quarantine.html")]
struct QuarantinePage {
    c: Common,
    a: A,
    nav: Nav,
    rows: Vec<Row>,
    more: bool,
}

/// The quarantine of the server, or the page saying there is none.
fn service<'a>(app: &'a App, v: &Visitor) -> Result<&'a hygiene::quarantine::Quarantine, WebError> {
    app.quarantine.as_deref().ok_or_else(|| {
        let a = A(v.lang);
        WebError::Message {
            status: StatusCode::SERVICE_UNAVAILABLE,
            title: a.get("adm.quarantine").into(),
            text: a.get("adm.quarantine.unavailable").into(),
            link: "/admin".into(),
            link_text: a.get("adm.tree").into(),
        }
    })
}

pub async fn page(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    service(&app, &v).map_err(IntoResponse::into_response)?;
    let view = app.identity.admin_quarantine(&who).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let clock = app.cfg.clock.clone();
    let rows = view
        .rows
        .into_iter()
        .map(|q| Row {
            id: q.id,
            reason: a.get(if q.reason == "virus" { "adm.quarantine.virus" } else { "adm.quarantine.spam" }),
            detail: q.detail,
            from: if q.mail_from.is_empty() { "<>".into() } else { q.mail_from },
            to: q.recipients.join(", "),
            subject: q.subject,
            size: super::storage::bytes(q.size),
            received: clock.full(q.received_at),
            expires: clock.full(q.expires_at),
        })
        .collect();
    let mut c = common(&app, &mut v, a, "adm.quarantine");
    c.info = match done.fait.as_str() {
        "libere" => Some(a.get("adm.done.release").to_owned()),
        "supprime" => Some(a.get("adm.done.qdelete").to_owned()),
        _ => None,
    };
    let page = QuarantinePage { a, nav: nav(&who), rows, more: view.more, c };
    Ok(render(&v, StatusCode::OK, &page))
}

pub async fn release(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<Confirmed>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let id = super::path_id(&v, &id).map_err(IntoResponse::into_response)?;
    if !confirmed(&form) {
        return Err(unconfirmed(&v));
    }
    let quarantine = service(&app, &v).map_err(IntoResponse::into_response)?;
    app.identity
        .admin_quarantine_release(&who, quarantine, id, unix_now())
        .await
        .map_err(|e| refusal(&v, e).into_response())?;
    Ok(redirect(&v, "/admin/quarantaine?fait=libere"))
}

pub async fn delete(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<Confirmed>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let id = super::path_id(&v, &id).map_err(IntoResponse::into_response)?;
    if !confirmed(&form) {
        return Err(unconfirmed(&v));
    }
    let quarantine = service(&app, &v).map_err(IntoResponse::into_response)?;
    app.identity.admin_quarantine_delete(&who, quarantine, id).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(redirect(&v, "/admin/quarantaine?fait=supprime"))
}
