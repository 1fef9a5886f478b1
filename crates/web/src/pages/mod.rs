//! The identity pages: the login journey in `login` (passkeys in
//! `passkeys`), the signed-in pages in
//! `account`, "mot de passe oublié" in `reset`, « Aide » in `help`, mail
//! client setup in `setup` (autoconfig, autodiscover, the Apple profile and
//! its guide), `/healthz` and `/readyz` in `health`, and what they share
//! here. They build on `base` only; the webmail builds on them.

pub mod account;
pub mod health;
pub mod help;
pub mod login;
pub mod passkeys;
pub mod reset;
pub mod setup;
pub mod upstream;

use axum::http::StatusCode;
use identity::Account;
use identity::credentials::reauth::ReauthRefusal;
use model::Role;

use crate::App;
use crate::base::i18n::Tr;
use crate::base::session::Visitor;

/// Asks the visitor of a signed-in session to prove again that they own
/// the account (the password, and the second factor when enrolled) before a
/// sensitive change. Refused: the status (401 wrong, 429 slowed down) and
/// the sentence to show, which gives the wait when slowed down.
pub async fn confirm(
    app: &App,
    v: &Visitor,
    account: &Account,
    password: &str,
    code: &str,
) -> Result<(), (StatusCode, String)> {
    let code = Some(code.trim()).filter(|c| !c.is_empty());
    let refusal = match app.identity.reauthenticate(account, password, code, v.ip, &v.client).await {
        Ok(()) => return Ok(()),
        Err(r) => r,
    };
    let status = match refusal {
        ReauthRefusal::Wrong => StatusCode::UNAUTHORIZED,
        ReauthRefusal::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        ReauthRefusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    };
    Err((status, Tr(v.lang).pick(&refusal.message_fr(), &refusal.message_en()).to_owned()))
}

/// Whether the account has TOTP on (its forms then ask for a code).
pub async fn totp_on(app: &App, account: &Account) -> Result<bool, identity::StoreError> {
    Ok(app.identity.credential_state(account.id).await?.totp_enabled_at.is_some())
}

/// Whether this account must use TOTP: every account when so configured,
/// otherwise administrators (the `admin` role or any administrative grant).
pub async fn totp_required(app: &App, account: &Account) -> bool {
    if app.cfg.require_2fa_for_all {
        return true;
    }
    if !app.cfg.require_2fa_for_admins {
        return false;
    }
    if account.role == Role::Admin {
        return true;
    }
    app.identity.has_admin_role(account.id).await.unwrap_or(true)
}
