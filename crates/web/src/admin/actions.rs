//! The account page's actions, each a POST with the CSRF token (checked
//! before anything else by [`SignedForm`]), the console's gate, then the
//! identity service, which checks the role and scope and audits. Destructive
//! actions also need « Je confirme ». After a change the browser is sent back
//! to the account's page; the provisional password is the exception: it is
//! shown on the answer to the POST itself, once, and kept nowhere.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use identity::admin::Administrator;
use identity::lifecycle::AdminRole;
use serde::Deserialize;

use super::{A, gate, refusal};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::session::Visitor;
use crate::base::{SignedForm, WebError, redirect};

/// A form with a « Je confirme » box (and nothing else but the token).
#[derive(Debug, Default, Deserialize)]
pub struct Confirmed {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct QuotaForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    quota: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
}

/// « Fermer » on one session: the key the page gave it.
#[derive(Debug, Default, Deserialize)]
pub struct SessionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    session: String,
}

has_csrf!(Confirmed, QuotaForm, GrantForm, SessionForm);

/// The account id of the path (anything else: not found) and the administrator.
async fn start(
    app: &App,
    v: &Visitor,
    account: &identity::Account,
    id: &str,
) -> Result<(Administrator, i64), Response> {
    let who = gate(app, v, account).await?;
    let id = id.parse::<i64>().map_err(|_| WebError::not_found(v.lang).into_response())?;
    Ok((who, id))
}

/// Whether the « Je confirme » box of a destructive action was ticked.
pub(super) fn confirmed(form: &Confirmed) -> bool {
    form.confirm == "1"
}

/// The answer to a destructive action whose box was not ticked.
pub(super) fn unconfirmed(v: &Visitor) -> Response {
    let a = A(v.lang);
    WebError::Message {
        status: StatusCode::BAD_REQUEST,
        title: a.get("adm.refused").into(),
        text: a.get("adm.unconfirmed").into(),
        link: "/admin/comptes".into(),
        link_text: a.get("adm.back").into(),
    }
    .into_response()
}

fn back(v: &Visitor, id: i64, done: &str) -> Response {
    redirect(v, &format!("/admin/comptes/{id}?fait={done}"))
}

pub async fn suspend(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<Confirmed>,
) -> Result<Response, Response> {
    let (who, id) = start(&app, &v, &account, &id).await?;
    if !confirmed(&form) {
        return Err(unconfirmed(&v));
    }
    app.identity.admin_suspend(&who, id).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "suspendu"))
}

pub async fn reactivate(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, .. }: SignedForm<Confirmed>,
) -> Result<Response, Response> {
    let (who, id) = start(&app, &v, &account, &id).await?;
    app.identity.admin_reactivate(&who, id).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "reactive"))
}

pub async fn quota(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<QuotaForm>,
) -> Result<Response, Response> {
    let (who, id) = start(&app, &v, &account, &id).await?;
    let done = async {
        let quota = identity::admin::parse_quota(&form.quota)?;
        app.identity.admin_set_quota(&who, id, quota).await
    };
    done.await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "quota"))
}

pub async fn reset_password(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { mut v, account, form }: SignedForm<Confirmed>,
) -> Result<Response, Response> {
    let (who, id) = start(&app, &v, &account, &id).await?;
    if !confirmed(&form) {
        return Err(unconfirmed(&v));
    }
    let password = app.identity.admin_reset_password(&who, id).await.map_err(|e| refusal(&v, e).into_response())?;
    super::pages::account_page(&app, &mut v, &who, id, None, Some(password)).await.map_err(IntoResponse::into_response)
}

pub async fn reset_totp(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<Confirmed>,
) -> Result<Response, Response> {
    let (who, id) = start(&app, &v, &account, &id).await?;
    if !confirmed(&form) {
        return Err(unconfirmed(&v));
    }
    app.identity.admin_reset_totp(&who, id).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "2fa"))
}

pub async fn reset_passkeys(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<Confirmed>,
) -> Result<Response, Response> {
    let (who, id) = start(&app, &v, &account, &id).await?;
    if !confirmed(&form) {
        return Err(unconfirmed(&v));
    }
    app.identity.admin_reset_passkeys(&who, id).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "cles"))
}

pub async fn unlock(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, .. }: SignedForm<Confirmed>,
) -> Result<Response, Response> {
    let (who, id) = start(&app, &v, &account, &id).await?;
    app.identity.admin_unlock(&who, id).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "debloque"))
}

pub async fn grant(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<GrantForm>,
) -> Result<Response, Response> {
    let (who, id) = start(&app, &v, &account, &id).await?;
    let done = async {
        let bad =
            || identity::admin::AdminError::Refused { fr: "rôle ou unité invalide", en: "invalid role or unit" };
        let role = form.role.parse::<AdminRole>().map_err(|_| bad())?;
        let unit = form.unit.trim().parse::<i64>().map_err(|_| bad())?;
        app.identity.admin_grant(&who, id, role, unit).await
    };
    done.await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "role"))
}

pub async fn end_session(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<SessionForm>,
) -> Result<Response, Response> {
    let (who, id) = start(&app, &v, &account, &id).await?;
    let key: String = form.session.chars().take(64).collect();
    app.identity.admin_end_session(&who, id, &key).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "session"))
}

pub async fn end_sessions(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    SignedForm { v, account, form }: SignedForm<Confirmed>,
) -> Result<Response, Response> {
    let (who, id) = start(&app, &v, &account, &id).await?;
    if !confirmed(&form) {
        return Err(unconfirmed(&v));
    }
    app.identity.admin_end_sessions(&who, id).await.map_err(|e| refusal(&v, e).into_response())?;
    Ok(back(&v, id, "sessions"))
}
