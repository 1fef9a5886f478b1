//! Passkeys (« clés d'accès ») on the web: the ceremonies' challenges as
//! JSON for `static/cle.js`, and the forms it posts back: a passwordless
//! login from the login page, the second factor at the code step (in place
//! of a TOTP code), a new passkey and a revocation on the Sécurité page.
//!
//! The relying party is the configured public address (`[web] public_url`):
//! its host is the RP ID, its scheme, host and port the only origin whose
//! answers are accepted; nothing is taken from the request's `Host`. What
//! is checked, and journaled, is the identity service's
//! (`identity::credentials::passkey`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use identity::Account;
use identity::credentials::passkey::{Assertion, PasskeyLogin, PasskeyRefusal, Purpose, Relying};
use serde::Deserialize;
use serde_json::{Value, json};
use sso::oidc::Factor;

use super::confirm;
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::i18n::Tr;
use crate::base::session::{STAGE_FULL, STAGE_TOTP, Visitor};
use crate::base::{CsrfForm, SignedForm, TokenOnly, WebError, redirect};

/// How long the browser may take, in milliseconds (the challenge lives a little longer).
const TIMEOUT_MS: i64 = 110_000;

/// The RP ID and origin of the configured public address.
pub fn relying_party(public_url: &str) -> (String, String) {
    let (scheme, rest) = public_url.split_once("://").unwrap_or(("https", public_url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (host.to_ascii_lowercase(), format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()))
}

fn rp(app: &App) -> (String, String) {
    relying_party(&app.cfg.public_url)
}

/// The passkey part of the journal's protocol column.
pub fn is_passkey_protocol(protocol: &str) -> bool {
    protocol == identity::credentials::passkey::PASSKEY_PROTOCOL
}

/// An authentication answer, as `cle.js` posts it.
#[derive(Debug, Deserialize)]
pub struct AssertionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    client_data: String,
    #[serde(default)]
    authenticator_data: String,
    #[serde(default)]
    signature: String,
    #[serde(default)]
    user_handle: String,
}

/// A new passkey: its name, the password (and code) again, and the answer.
#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    client_data: String,
    #[serde(default)]
    attestation: String,
}

has_csrf!(AssertionForm, RegisterForm);

impl AssertionForm {
    fn assertion(&self) -> Assertion<'_> {
        Assertion {
            credential_id: &self.id,
            client_data: &self.client_data,
            authenticator_data: &self.authenticator_data,
            signature: &self.signature,
            user_handle: &self.user_handle,
        }
    }
}

fn ids(list: &[identity::Passkey]) -> Vec<Value> {
    list.iter().map(|p| json!({ "type": "public-key", "id": p.credential_id })).collect()
}

fn options(app: &App, challenge: String, allow: Vec<Value>, verification: &str) -> Response {
    let (rp_id, _) = rp(app);
    let body = json!({
        "challenge": challenge,
        "rpId": rp_id,
        "timeout": TIMEOUT_MS,
        "userVerification": verification,
        "allowCredentials": allow,
    });
    json_answer(&body)
}

/// A JSON answer, never cached (it carries a single-use challenge).
fn json_answer(body: &Value) -> Response {
    use axum::http::header;
    let headers = [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")];
    (StatusCode::OK, headers, body.to_string()).into_response()
}

/// `POST /connexion/cle/defi`: a challenge for a passwordless login (any
/// visitor of the login page; the answer names the account).
pub async fn login_challenge(
    State(app): State<Arc<App>>,
    CsrfForm { .. }: CsrfForm<TokenOnly>,
) -> Result<Response, WebError> {
    let challenge = app.identity.passkey_challenge(Purpose::Login, None).await.map_err(|e| WebError::internal(&e))?;
    Ok(options(&app, challenge, vec![], "required"))
}

/// `POST /connexion/cle`: the passwordless login.
pub async fn login(
    State(app): State<Arc<App>>,
    CsrfForm { mut v, form }: CsrfForm<AssertionForm>,
) -> Result<Response, WebError> {
    let (rp_id, origin) = rp(&app);
    let relying = Relying { rp_id: &rp_id, origin: &origin };
    let client = v.client.clone();
    match app.identity.passkey_login(relying, &form.assertion(), None, v.ip, &client).await {
        Ok(PasskeyLogin { account, .. }) => {
            v.start(&app, &account, STAGE_FULL).await?;
            factor_proved(&app, &v, Factor::HwkUser).await;
            let to = v.landing();
            Ok(redirect(&v, &to))
        }
        Err(refusal) => {
            let text = message(v.lang, refusal);
            Ok(super::login::refused_login(&app, &mut v, status_of(refusal), text).await)
        }
    }
}

/// `POST /connexion/code/cle/defi`: a challenge for the second factor of
/// the account whose password was just checked, naming its passkeys.
pub async fn second_challenge(
    State(app): State<Arc<App>>,
    CsrfForm { v, .. }: CsrfForm<TokenOnly>,
) -> Result<Response, WebError> {
    let Some((_, account)) = v.at(STAGE_TOTP).cloned() else { return Ok(redirect(&v, "/")) };
    let passkeys = app.identity.passkeys(account.id).await?;
    let challenge =
        app.identity.passkey_challenge(Purpose::Second, Some(account.id)).await.map_err(|e| WebError::internal(&e))?;
    Ok(options(&app, challenge, ids(&passkeys), "preferred"))
}

/// `POST /connexion/code/cle`: the second factor by passkey.
pub async fn second(
    State(app): State<Arc<App>>,
    CsrfForm { mut v, form }: CsrfForm<AssertionForm>,
) -> Result<Response, WebError> {
    let Some((_, account)) = v.at(STAGE_TOTP).cloned() else { return Ok(redirect(&v, "/")) };
    let (rp_id, origin) = rp(&app);
    let relying = Relying { rp_id: &rp_id, origin: &origin };
    let client = v.client.clone();
    match app.identity.passkey_login(relying, &form.assertion(), Some(&account), v.ip, &client).await {
        Ok(_) => {
            v.start(&app, &account, STAGE_FULL).await?;
            factor_proved(&app, &v, Factor::Hwk).await;
            let to = v.landing();
            Ok(redirect(&v, &to))
        }
        Err(refusal) => {
            // As a wrong code: a failure of the account from this address.
            let throttled = app.identity.second_factor_failed(&account, v.ip, &v.client).await;
            let text = message(v.lang, refusal).to_owned();
            super::login::refused_second(&app, &mut v, &account, throttled, text).await
        }
    }
}

/// `POST /securite/cles/defi`: a challenge to register a passkey of the
/// signed-in account (discoverable, user verification required).
pub async fn register_challenge(
    State(app): State<Arc<App>>,
    SignedForm { account, .. }: SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let passkeys = app.identity.passkeys(account.id).await?;
    let challenge = app
        .identity
        .passkey_challenge(Purpose::Register, Some(account.id))
        .await
        .map_err(|e| WebError::internal(&e))?;
    let (rp_id, _) = rp(&app);
    let algorithms: Vec<Value> = identity::credentials::webauthn::ALGORITHMS
        .iter()
        .map(|alg| json!({ "type": "public-key", "alg": alg }))
        .collect();
    let body = json!({
        "challenge": challenge,
        "rp": { "id": rp_id, "name": format!("Ardoise {}", app.cfg.hostname) },
        "user": {
            "id": app.identity.passkey_user_handle(account.id),
            "name": account.address.to_string(),
            "displayName": account.display_name,
        },
        "pubKeyCredParams": algorithms,
        "timeout": TIMEOUT_MS,
        "attestation": "none",
        "authenticatorSelection": {
            "residentKey": "required",
            "requireResidentKey": true,
            "userVerification": "required",
        },
        "excludeCredentials": ids(&passkeys),
    });
    Ok(json_answer(&body))
}

/// `POST /securite/cles`: a new passkey, after the password (and code) again.
pub async fn register(
    State(app): State<Arc<App>>,
    SignedForm { mut v, account, form }: SignedForm<RegisterForm>,
) -> Result<Response, WebError> {
    if let Err(refused) = confirm(&app, &v, &account, &form.password, &form.code).await {
        return super::account::security_refused(&app, &mut v, &account, refused).await;
    }
    let (rp_id, origin) = rp(&app);
    let relying = Relying { rp_id: &rp_id, origin: &origin };
    let t = Tr(v.lang);
    match app.identity.register_passkey(&account, &form.name, relying, &form.client_data, &form.attestation).await {
        Ok(_) => {
            let info = t.get("pk.added").to_owned();
            super::account::security_info(&app, &mut v, &account, info).await
        }
        Err(refusal) => {
            let refused = (status_of(refusal), message(v.lang, refusal).to_owned());
            super::account::security_refused(&app, &mut v, &account, refused).await
        }
    }
}

/// `POST /securite/cles/{id}/revoquer`: one passkey fewer (another
/// account's, or none: the 404 page).
pub async fn revoke(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    SignedForm { v, account, .. }: SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let keep = v.session.as_ref().map(|(s, _)| s.token_hash.clone());
    if !app.identity.revoke_passkey(&account, id, keep.as_deref()).await? {
        return Err(super::account::not_found(&v));
    }
    Ok(redirect(&v, "/securite"))
}

fn status_of(r: PasskeyRefusal) -> StatusCode {
    match r {
        PasskeyRefusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        PasskeyRefusal::Malformed | PasskeyRefusal::Unsupported | PasskeyRefusal::TooMany => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        PasskeyRefusal::Duplicate => StatusCode::CONFLICT,
        _ => StatusCode::UNAUTHORIZED,
    }
}

fn message(lang: crate::base::i18n::Lang, r: PasskeyRefusal) -> &'static str {
    Tr(lang).pick(r.message_fr(), r.message_en())
}

/// Tells the identity provider how this session proved its second factor.
async fn factor_proved(app: &App, v: &Visitor, factor: Factor) {
    if let (Some(sso), Some((s, a))) = (&app.sso, &v.session)
        && let Err(e) = sso.second_factor_proved(&s.token_hash, a.id, factor).await
    {
        tracing::warn!(error = %e, "passkey login not recorded for single sign-on");
    }
}

/// Whether the account's login asks for a second factor: TOTP on, or a passkey.
pub async fn has_second_factor(app: &App, account: &Account, totp_on: bool) -> bool {
    totp_on || app.identity.has_passkeys(account.id).await.unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::relying_party;

    #[test]
    fn the_relying_party_is_the_public_address() {
        let rp = |u: &str| relying_party(u);
        assert_eq!(
            rp("https://webmail.ac-test.fr"),
            ("webmail.ac-test.fr".into(), "https://webmail.ac-test.fr".into())
        );
        assert_eq!(rp("http://localhost:8080/"), ("localhost".into(), "http://localhost:8080".into()));
        assert_eq!(rp("https://Mail.AC-Test.fr/ardoise"), ("mail.ac-test.fr".into(), "https://mail.ac-test.fr".into()));
        assert_eq!(rp("https://[::1]:8443"), ("::1".into(), "https://[::1]:8443".into()));
    }
}
