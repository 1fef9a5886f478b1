//! The identity pages: the login journey in `login`, the signed-in pages in
//! `account`, "mot de passe oublié" in `reset`, and what they share here.
//! They build on `base` only; the webmail builds on them.

pub mod account;
pub mod login;
pub mod reset;

use identity::Account;
use model::Role;

use crate::App;

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

/// `2026-11-23 17:40` (UTC).
pub fn when(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| t.format(&format).ok()).unwrap_or_default()
}
