//! The login journey: password, then (as the account needs) the forced
//! change of a provisional password, the second factor (a TOTP code or a
//! passkey, see `passkeys`), the TOTP enrolment.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use identity::Account;
use identity::credentials::{self, ChangeError, Login, Protocol};
use serde::Deserialize;

use super::passkeys::has_second_factor;
use super::{confirm, totp_required};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::i18n::Tr;
use crate::base::session::{STAGE_CHANGE, STAGE_ENROL, STAGE_FULL, STAGE_TOTP, Visitor};
use crate::base::{Common, CsrfForm, TokenOnly, WebError, redirect, render};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Common,
    login: String,
    /// « Se connecter avec … »: the upstream providers (id, label).
    upstream: Vec<(String, String)>,
    /// The password form is shown (not with `[upstream] only`).
    local: bool,
}

impl LoginPage {
    async fn new(app: &App, c: Common, login: String) -> LoginPage {
        let (upstream, local) = super::upstream::buttons(app).await;
        LoginPage { c, login, upstream, local }
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    c: Common,
    /// The account has TOTP on: the code form is shown.
    totp_on: bool,
    /// The account has passkeys: « Utiliser ma clé d'accès » is offered.
    passkeys: bool,
}

impl TotpPage {
    async fn new(app: &App, c: Common, account: &Account) -> Result<TotpPage, WebError> {
        let totp_on = super::totp_on(app, account).await?;
        let passkeys = app.identity.has_passkeys(account.id).await?;
        Ok(TotpPage { c, totp_on, passkeys })
    }
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub c: Common,
    pub first: bool,
    pub action: String,
    pub rules: String,
    pub problems: Vec<String>,
    /// The account has TOTP on: the form asks for a code too.
    pub totp_on: bool,
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    c: Common,
    required: bool,
    secret: String,
    /// Enrolling from a full session: the password is asked again.
    confirm_password: bool,
}

#[derive(Template)]
#[template(path = "codes.html")]
struct CodesPage {
    c: Common,
    heading: String,
    intro: String,
    codes: Vec<String>,
    next: String,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    /// The current password (enrolment from a full session).
    #[serde(default)]
    password: String,
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub new: String,
    #[serde(default)]
    pub confirm: String,
    /// The second factor, when the account has one (the security page's change).
    #[serde(default)]
    pub code: String,
    /// « Révoquer aussi les mots de passe d'application » (security page).
    #[serde(default)]
    pub revoquer_applications: Option<String>,
}

has_csrf!(LoginForm, CodeForm, PasswordForm);

/// Where a session at `stage` goes next.
fn page_of(stage: &str) -> &'static str {
    match stage {
        STAGE_TOTP => "/connexion/code",
        STAGE_CHANGE => "/premiere-connexion",
        STAGE_ENROL => "/2fa/activer",
        _ => "/courrier",
    }
}

pub async fn root(v: Visitor) -> Response {
    match &v.session {
        Some((s, _)) => redirect(&v, page_of(&s.stage)),
        None => redirect(&v, "/connexion"),
    }
}

pub async fn login_page(State(app): State<Arc<App>>, mut v: Visitor) -> Response {
    if let Some((s, _)) = &v.session {
        return redirect(&v, page_of(&s.stage));
    }
    let c = Common::new(&app, &mut v, "login.title");
    render(&v, StatusCode::OK, &LoginPage::new(&app, c, String::new()).await)
}

pub async fn login_post(
    State(app): State<Arc<App>>,
    CsrfForm { mut v, form }: CsrfForm<LoginForm>,
) -> Result<Response, WebError> {
    if !super::upstream::buttons(&app).await.1 {
        // `[upstream] only`: the web login is the académie provider's.
        let mut c = Common::new(&app, &mut v, "login.title");
        c.error = Some(c.t.get("up.only").to_owned());
        return Ok(render(&v, StatusCode::FORBIDDEN, &LoginPage::new(&app, c, String::new()).await));
    }
    let client = v.client.clone();
    let device = v.device.clone();
    let attempt = Login {
        login: &form.login,
        secret: &form.password,
        protocol: Protocol::Web,
        peer: v.ip,
        client: Some(&client),
        device: device.as_deref(),
    };
    match app.identity.login(&attempt).await {
        Err(refusal) => {
            let mut c = Common::new(&app, &mut v, "login.title");
            c.error = Some(c.t.pick(refusal.message_fr(), refusal.message_en()).to_owned());
            let login: String = form.login.chars().filter(|c| !c.is_control()).take(254).collect();
            let status = if refusal.is_temporary() { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::UNAUTHORIZED };
            Ok(render(&v, status, &LoginPage::new(&app, c, login).await))
        }
        Ok(p) => {
            let stage = if p.must_change_password || app.identity.password_expired(&p.account).await {
                STAGE_CHANGE
            } else if has_second_factor(&app, &p.account, p.totp_enabled).await {
                STAGE_TOTP
            } else if totp_required(&app, &p.account).await {
                STAGE_ENROL
            } else {
                STAGE_FULL
            };
            v.start(&app, &p.account, stage).await?;
            let to = if stage == STAGE_FULL { v.landing() } else { page_of(stage).to_owned() };
            Ok(redirect(&v, &to))
        }
    }
}

pub async fn totp_page(State(app): State<Arc<App>>, mut v: Visitor) -> Result<Response, WebError> {
    let Some((_, account)) = v.at(STAGE_TOTP).cloned() else { return Ok(redirect(&v, "/")) };
    let c = Common::new(&app, &mut v, "totp.title");
    let page = TotpPage::new(&app, c, &account).await?;
    Ok(render(&v, StatusCode::OK, &page))
}

/// The login page again with a refusal (a passkey's).
pub(crate) async fn refused_login(app: &App, v: &mut Visitor, status: StatusCode, text: &str) -> Response {
    let mut c = Common::new(app, v, "login.title");
    c.error = Some(text.to_owned());
    render(v, status, &LoginPage::new(app, c, String::new()).await)
}

/// A second factor refused: the code page again with `text`, or, once the
/// account is slowed down from here, the login page (the session ends).
pub(crate) async fn refused_second(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    throttled: Option<std::time::Duration>,
    text: String,
) -> Result<Response, WebError> {
    if let Some(retry_after) = throttled {
        let _ = v.end(app).await;
        let refusal = credentials::Refusal::Throttled { retry_after };
        let mut c = Common::new(app, v, "login.title");
        c.error = Some(c.t.pick(refusal.message_fr(), refusal.message_en()).to_owned());
        c.csrf = v.csrf(app);
        return Ok(render(v, StatusCode::TOO_MANY_REQUESTS, &LoginPage::new(app, c, String::new()).await));
    }
    let mut c = Common::new(app, v, "totp.title");
    c.error = Some(text);
    let page = TotpPage::new(app, c, account).await?;
    Ok(render(v, StatusCode::UNAUTHORIZED, &page))
}

pub async fn totp_post(
    State(app): State<Arc<App>>,
    CsrfForm { mut v, form }: CsrfForm<CodeForm>,
) -> Result<Response, WebError> {
    let Some((_, account)) = v.at(STAGE_TOTP).cloned() else { return Ok(redirect(&v, "/")) };
    if app.identity.verify_second_factor(&account, &form.code).await? {
        v.start(&app, &account, STAGE_FULL).await?;
        second_factor_proved(&app, &v).await;
        let to = v.landing();
        return Ok(redirect(&v, &to));
    }
    // A wrong code counts as a failure of this account from this address:
    // guessing codes slows down like guessing passwords.
    let throttled = app.identity.second_factor_failed(&account, v.ip, &v.client).await;
    let text = Tr(v.lang).get("totp.bad").to_owned();
    refused_second(&app, &mut v, &account, throttled, text).await
}

/// The rules of the policy, in a sentence.
pub fn rules(app: &App, t: Tr) -> String {
    let p = app.identity.policy();
    t.pick(
        &format!(
            "Au moins {} caractères, {} types de caractères parmi minuscules, majuscules, chiffres et symboles ; \
             ni votre nom ni votre NUMEN ; pas l'un de vos {} derniers mots de passe.",
            p.min_length, p.min_classes, p.history
        ),
        &format!(
            "At least {} characters, {} kinds among lower case, upper case, digits and symbols; neither your name \
             nor your NUMEN; not one of your last {} passwords.",
            p.min_length, p.min_classes, p.history
        ),
    )
    .to_owned()
}

pub async fn first_page(State(app): State<Arc<App>>, mut v: Visitor) -> Response {
    let Some((_, account)) = v.at(STAGE_CHANGE).cloned() else { return redirect(&v, "/") };
    let first = account.status == model::AccountStatus::Provisional;
    let mut c = Common::new(&app, &mut v, if first { "pw.first.title" } else { "pw.title" });
    if !first {
        c.info = Some(c.t.get("pw.expired").to_owned());
    }
    let rules = rules(&app, c.t);
    render(
        &v,
        StatusCode::OK,
        &PasswordPage { c, first, action: "/premiere-connexion".into(), rules, problems: vec![], totp_on: false },
    )
}

pub async fn first_post(
    State(app): State<Arc<App>>,
    CsrfForm { mut v, form }: CsrfForm<PasswordForm>,
) -> Result<Response, WebError> {
    let Some((_, account)) = v.at(STAGE_CHANGE).cloned() else { return Ok(redirect(&v, "/")) };
    let first = account.status == model::AccountStatus::Provisional;
    if let Err(resp) = change(&app, &mut v, &account, &form, first, "/premiere-connexion", false).await? {
        return Ok(resp);
    }
    let Some(account) = app.identity.account(account.id).await? else { return Ok(redirect(&v, "/")) };
    // An expired password changed here does not skip a second factor.
    let totp_on = app.identity.credential_state(account.id).await?.totp_enabled_at.is_some();
    let totp_on = has_second_factor(&app, &account, totp_on).await;
    let stage = if totp_on {
        STAGE_TOTP
    } else if totp_required(&app, &account).await {
        STAGE_ENROL
    } else {
        STAGE_FULL
    };
    v.start(&app, &account, stage).await?;
    // Otherwise enrolment is offered right away (with "later" when optional).
    Ok(redirect(&v, if totp_on { page_of(STAGE_TOTP) } else { "/2fa/activer" }))
}

/// Runs a password change; on refusal, `Ok(Err(page))`: the form again with the reasons.
pub async fn change(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    form: &PasswordForm,
    first: bool,
    action: &str,
    totp_on: bool,
) -> Result<Result<(), Response>, WebError> {
    let result = app.identity.change_password(account, &form.current, &form.new, &form.confirm).await;
    let t = Tr(v.lang);
    let problems = match result {
        Ok(()) => {
            if !first && form.revoquer_applications.is_some() {
                app.identity.revoke_app_passwords(account).await?;
            }
            return Ok(Ok(()));
        }
        Err(ChangeError::WrongCurrent) => vec![t.get("pw.wrong").to_owned()],
        Err(ChangeError::Policy(list)) => {
            list.iter().map(|p| t.pick(&p.message_fr(), &p.message_en()).to_owned()).collect()
        }
        Err(ChangeError::Internal(e)) => return Err(WebError::internal(&e)),
    };
    Ok(Err(password_form(
        app,
        v,
        PasswordRefused { first, action, problems, status: StatusCode::UNPROCESSABLE_ENTITY, totp_on },
    )))
}

/// A password form sent back: why, with which status.
pub struct PasswordRefused<'a> {
    pub first: bool,
    pub action: &'a str,
    pub problems: Vec<String>,
    pub status: StatusCode,
    pub totp_on: bool,
}

/// The password form again, with the problems.
pub fn password_form(app: &App, v: &mut Visitor, r: PasswordRefused<'_>) -> Response {
    let c = Common::new(app, v, if r.first { "pw.first.title" } else { "pw.title" });
    let rules = rules(app, c.t);
    let page =
        PasswordPage { c, first: r.first, action: r.action.into(), rules, problems: r.problems, totp_on: r.totp_on };
    render(v, r.status, &page)
}

/// The session allowed on the enrolment pages: `enrol`, or `full` without TOTP.
async fn enrolling(app: &App, v: &Visitor) -> Option<(Account, bool, Option<String>)> {
    let (s, account) = v.session.as_ref()?;
    if s.stage != STAGE_ENROL && s.stage != STAGE_FULL {
        return None;
    }
    let state = app.identity.credential_state(account.id).await.ok()?;
    if state.totp_enabled_at.is_some() {
        return None;
    }
    // The stored seed is encrypted: this is the clear one, if any.
    let pending = app.identity.pending_secret(account).await.ok()?;
    Some((account.clone(), s.stage == STAGE_ENROL, pending))
}

pub async fn enrol_page(State(app): State<Arc<App>>, mut v: Visitor) -> Result<Response, WebError> {
    let Some((account, required, pending)) = enrolling(&app, &v).await else { return Ok(redirect(&v, "/")) };
    let secret = match pending {
        Some(s) => s,
        None => app.identity.begin_totp(&account, &issuer(&app)).await?.secret,
    };
    let c = Common::new(&app, &mut v, "enrol.title");
    Ok(render(&v, StatusCode::OK, &EnrolPage { c, required, secret, confirm_password: !required }))
}

fn issuer(app: &App) -> String {
    format!("Ardoise {}", app.cfg.hostname)
}

pub async fn enrol_qr(State(app): State<Arc<App>>, v: Visitor) -> Response {
    let Some((account, _, Some(secret))) = enrolling(&app, &v).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let e = identity::credentials::second_enrolment(&secret, &account, &issuer(&app));
    ([(header::CONTENT_TYPE, "image/svg+xml")], e.qr_svg).into_response()
}

pub async fn enrol_post(
    State(app): State<Arc<App>>,
    CsrfForm { mut v, form }: CsrfForm<CodeForm>,
) -> Result<Response, WebError> {
    let Some((account, required, pending)) = enrolling(&app, &v).await else { return Ok(redirect(&v, "/")) };
    // From a full session (not the login journey, where the password was
    // just typed), the password again: a stolen session must not be able to
    // put its own second factor on the account.
    if !required && let Err((status, text)) = confirm(&app, &v, &account, &form.password, "").await {
        let mut c = Common::new(&app, &mut v, "enrol.title");
        c.error = Some(text);
        let page = EnrolPage { c, required, secret: pending.unwrap_or_default(), confirm_password: true };
        return Ok(render(&v, status, &page));
    }
    match app.identity.confirm_totp(&account, &form.code).await? {
        Some(codes) => {
            // A new identifier now that the session is stronger.
            v.start(&app, &account, STAGE_FULL).await?;
            second_factor_proved(&app, &v).await;
            let next = if required { v.landing() } else { "/courrier".to_owned() };
            let c = Common::new(&app, &mut v, "codes.title");
            let (heading, intro) = (c.t.get("codes.title").to_owned(), c.t.get("codes.intro").to_owned());
            Ok(render(&v, StatusCode::OK, &CodesPage { c, heading, intro, codes, next }))
        }
        None => {
            let mut c = Common::new(&app, &mut v, "enrol.title");
            c.error = Some(c.t.get("totp.bad").to_owned());
            let page = EnrolPage { c, required, secret: pending.unwrap_or_default(), confirm_password: !required };
            Ok(render(&v, StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// Tells the identity provider that the session just made proved a second
/// factor (the `acr`/`amr` of what applications receive from it). Without a
/// provider, or if the write fails, applications see a password login.
async fn second_factor_proved(app: &App, v: &Visitor) {
    if let (Some(sso), Some((s, a))) = (&app.sso, &v.session)
        && let Err(e) = sso.second_factor_proved(&s.token_hash, a.id, sso::oidc::Factor::Otp).await
    {
        tracing::warn!(error = %e, "second factor not recorded for single sign-on");
    }
}

pub async fn logout(
    State(app): State<Arc<App>>,
    CsrfForm { mut v, .. }: CsrfForm<TokenOnly>,
) -> Result<Response, WebError> {
    v.end(&app).await?;
    Ok(redirect(&v, "/connexion"))
}
