//! "Mot de passe oublié" and the reset link's page. The request page answers
//! the same whatever happened; the link's page spends the token only when
//! the new password is accepted.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use identity::credentials::ChangeError;
use serde::Deserialize;

use super::login::rules;
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::session::Visitor;
use crate::base::{Common, CsrfForm, MessagePage, WebError, render};

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    c: Common,
    sent: bool,
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    c: Common,
    token: String,
    address: String,
    rules: String,
    problems: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    numen: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    jeton: String,
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    jeton: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
    /// « Révoquer aussi les mots de passe d'application » (ticked by default
    /// after a reset: the secrets may be known to someone else).
    #[serde(default)]
    revoquer_applications: Option<String>,
}

has_csrf!(ForgotForm, ResetForm);

pub async fn forgot_page(State(app): State<Arc<App>>, mut v: Visitor) -> Response {
    let c = Common::new(&app, &mut v, "forgot.title");
    render(&v, StatusCode::OK, &ForgotPage { c, sent: false })
}

pub async fn forgot_post(
    State(app): State<Arc<App>>,
    CsrfForm { mut v, form }: CsrfForm<ForgotForm>,
) -> Result<Response, WebError> {
    if let Some(key) = &app.cfg.numen_key {
        app.identity.request_reset(key, &form.login, &form.numen, v.ip, &app.cfg.public_url).await?;
    }
    let c = Common::new(&app, &mut v, "forgot.title");
    Ok(render(&v, StatusCode::OK, &ForgotPage { c, sent: true }))
}

fn invalid(app: &App, v: &mut Visitor) -> Response {
    let c = Common::new(app, v, "reset.title");
    let text = c.t.get("reset.invalid").to_owned();
    let link_text = c.t.get("forgot.title").to_owned();
    let page = MessagePage { heading: c.title.clone(), text, link: "/mot-de-passe-oublie".into(), link_text, c };
    render(v, StatusCode::GONE, &page)
}

pub async fn reset_page(
    State(app): State<Arc<App>>,
    Query(q): Query<TokenQuery>,
    mut v: Visitor,
) -> Result<Response, WebError> {
    Ok(match app.identity.reset_account(&q.jeton).await? {
        Some(account) => {
            let c = Common::new(&app, &mut v, "reset.title");
            let rules = rules(&app, c.t);
            let page = ResetPage { c, token: q.jeton, address: account.address.to_string(), rules, problems: vec![] };
            render(&v, StatusCode::OK, &page)
        }
        None => invalid(&app, &mut v),
    })
}

pub async fn reset_post(
    State(app): State<Arc<App>>,
    CsrfForm { mut v, form }: CsrfForm<ResetForm>,
) -> Result<Response, WebError> {
    Ok(match app.identity.reset_password(&form.jeton, &form.new, &form.confirm).await {
        Ok(Some(account)) => {
            if form.revoquer_applications.is_some() {
                app.identity.revoke_app_passwords(&account).await?;
            }
            let c = Common::new(&app, &mut v, "reset.title");
            let text = c.t.get("reset.done").to_owned();
            let link_text = c.t.get("login.title").to_owned();
            let page = MessagePage { heading: c.title.clone(), text, link: "/connexion".into(), link_text, c };
            render(&v, StatusCode::OK, &page)
        }
        Ok(None) => invalid(&app, &mut v),
        Err(ChangeError::Policy(list)) => {
            let address = match app.identity.reset_account(&form.jeton).await {
                Ok(Some(a)) => a.address.to_string(),
                _ => return Ok(invalid(&app, &mut v)),
            };
            let c = Common::new(&app, &mut v, "reset.title");
            let problems = list.iter().map(|p| c.t.pick(&p.message_fr(), &p.message_en()).to_owned()).collect();
            let rules = rules(&app, c.t);
            let page = ResetPage { c, token: form.jeton, address, rules, problems };
            render(&v, StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(ChangeError::WrongCurrent) => invalid(&app, &mut v),
        Err(ChangeError::Internal(e)) => return Err(WebError::internal(&e)),
    })
}
