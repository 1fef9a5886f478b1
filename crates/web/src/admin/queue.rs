//! « File d'envoi » (`/admin/file`): the outbound queue within the
//! administrator's sight, with « Relancer maintenant » and « Supprimer »
//! (confirmed). What is listed and allowed comes from `identity::admin`'s
//! queue service, which checks the sender's unit on each action and audits.

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
use crate::base::{Common, SignedForm, SignedIn, redirect, render};

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    page: String,
    #[serde(default)]
    fait: String,
}

pub struct Rcpt {
    address: String,
    status: &'static str,
    last_error: String,
}

pub struct Row {
    id: i64,
    sender: String,
    unit: String,
    size: String,
    queued: String,
    next: String,
    expires: String,
    attempts: i64,
    pending: i64,
    rcpts: Vec<Rcpt>,
    more: usize,
    may_act: bool,
}

#[derive(Template)]
#[template(path = "admin/queue.html")]
struct QueuePage {
    c: Common,
    a: A,
    nav: Nav,
    rows: Vec<Row>,
    total: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn page(
    State(app): State<Arc<App>>,
    SignedIn { mut v, account }: SignedIn,
    Query(q): Query<QueueQuery>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let asked = q.page.trim().parse::<usize>().unwrap_or(1).saturating_sub(1);
    let view = app.identity.admin_queue(&who, asked).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let clock = app.cfg.clock.clone();
    let rows = view
        .rows
        .into_iter()
        .map(|r| Row {
            id: r.id,
            sender: if r.sender.is_empty() { format!("<> ({})", a.get("adm.queue.bounce")) } else { r.sender },
            unit: r.unit.unwrap_or_else(|| "—".into()),
            size: super::storage::bytes(r.size),
            queued: clock.full(r.created_at),
            next: clock.full(r.next_attempt_at),
            expires: clock.full(r.expires_at),
            attempts: r.attempts,
            pending: r.pending,
            more: r.recipient_count.saturating_sub(r.recipients.len()),
            rcpts: r
                .recipients
                .into_iter()
                .map(|x| Rcpt {
                    address: x.address,
                    status: a.get(match x.status {
                        "sent" => "rcpt.sent",
                        "failed" => "rcpt.failed",
                        _ => "rcpt.pending",
                    }),
                    last_error: x.last_error,
                })
                .collect(),
            may_act: r.may_act,
        })
        .collect();
    let mut c = common(&app, &mut v, a, "adm.queue");
    c.info = match q.fait.as_str() {
        "relance" => Some(a.get("adm.done.retry").to_owned()),
        "supprime" => Some(a.get("adm.done.delete").to_owned()),
        _ => None,
    };
    let link = |p: usize| format!("/admin/file?page={p}");
    let page = QueuePage {
        a,
        nav: nav(&who),
        rows,
        total: view.total,
        page: view.page + 1,
        pages: view.pages,
        prev: (view.page > 0).then(|| link(view.page)),
        next: (view.page + 1 < view.pages).then(|| link(view.page + 2)),
        c,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

pub async fn retry(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, .. }: SignedForm<Confirmed>,
) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let id = super::path_id(&v, &id).map_err(IntoResponse::into_response)?;
    app.identity.admin_queue_retry(&who, id).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(redirect(&v, "/admin/file?fait=relance"))
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
    app.identity.admin_queue_delete(&who, id).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(redirect(&v, "/admin/file?fait=supprime"))
}
