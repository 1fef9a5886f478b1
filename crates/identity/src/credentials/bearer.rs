//! The login of mail clients that present an access token of our own
//! OpenID Connect provider instead of a password (SASL OAUTHBEARER and
//! XOAUTH2 on IMAP, SMTP submission and ManageSieve; `Authorization:
//! Bearer` on DAV): [`Identity::login_bearer`].
//!
//! It is the password login's twin and keeps its rules: the slow-down is
//! applied first (a refused token counts as a failure, like a wrong
//! password), the token is judged by the `sso` crate ([`sso::access`]:
//! live, an access token, the `mail` scope, a client still allowed it),
//! then the account decides as for a password (students, suspended, closed
//! and provisional accounts are refused; a token given before the
//! account's last change of state opens nothing), and every attempt goes to
//! the connection journal. A client that names a user (`a=`, `user=`) must
//! name the token's own account. No token value reaches a log: only the
//! reason of a refusal.
//!
//! Unlike the main password, a token needs no app password once TOTP is on:
//! it was given after the web login, second factor included.

use std::net::IpAddr;

use model::{AccountStatus, Role};
use store::{Account, Guessed, NewJournalEntry};

use super::device::source_of;
use super::login::{find_account, guessed_login, journal_text, throttled, unavailable};
use super::{Principal, Protocol, Refusal, Via, notify};
use crate::Identity;

/// The scopes a mail client asks for (`mail` is [`sso::access::MAIL_SCOPE`]).
pub const TOKEN_SCOPES: &str = "openid mail";

/// One attempt with a bearer token.
#[derive(Clone)]
pub struct BearerLogin<'a> {
    /// The user the client names, if it names one (address, alias or login).
    pub user: Option<&'a str>,
    pub token: &'a str,
    pub protocol: Protocol,
    pub peer: IpAddr,
    /// What the client says it is, for the journal.
    pub client: Option<&'a str>,
}

impl std::fmt::Debug for BearerLogin<'_> {
    /// Never shows the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerLogin")
            .field("user", &self.user)
            .field("protocol", &self.protocol)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Checks a login with an access token: see the module documentation.
    pub async fn login_bearer(&self, attempt: &BearerLogin<'_>) -> Result<Principal, Refusal> {
        let started = std::time::Instant::now();
        let outcome = journaled(self, attempt).await;
        let protocol = attempt.protocol.as_str();
        let result = match &outcome {
            Ok(_) => "ok",
            Err(r) => r.as_str(),
        };
        metrics::counter!("ardoise_logins_total", "protocol" => protocol, "result" => result).increment(1);
        metrics::histogram!("ardoise_login_seconds", "protocol" => protocol).record(started.elapsed().as_secs_f64());
        outcome
    }

    /// Where a mail client learns how to get a token (the provider's
    /// discovery document), for the error challenge of a refused token.
    pub fn openid_configuration(&self) -> Option<&str> {
        self.openid_configuration.as_deref()
    }

    /// The JSON a protocol sends (base64-encoded) as its last challenge
    /// after a refused token: the scopes a token needs and where to get one.
    pub fn bearer_challenge(&self, mechanism: sasl::BearerMechanism) -> String {
        sasl::error_challenge(mechanism, TOKEN_SCOPES, self.openid_configuration())
    }
}

/// The account named, the token's account, the verdict, and the journal.
async fn journaled(id: &Identity, attempt: &BearerLogin<'_>) -> Result<Principal, Refusal> {
    let store = &id.store;
    let source = source_of(attempt.peer);
    // Read before the account and the token (see `model::Proof`).
    let checked = store.status_sequence().await.map_err(unavailable)?;
    let named = match attempt.user {
        Some(user) => Some(find_account(store, user).await.map_err(unavailable)?),
        None => None,
    };
    let access = sso::access::mail_access(store, attempt.token).await.map_err(unavailable)?;
    let holder = match access.as_ref().map_or_else(|r| r.account, |a| Some(a.account)) {
        Some(id) => store.account(id).await.map_err(unavailable)?,
        None => None,
    };
    let subject = holder.as_ref().or(named.as_ref().and_then(Option::as_ref));
    let outcome =
        check(id, attempt, &source, named.as_ref().map(Option::as_ref), access, holder.as_ref(), checked).await;
    let result = match &outcome {
        Ok(_) => "ok",
        Err(r) => r.as_str(),
    };
    let entry = NewJournalEntry {
        account_id: subject.map(|a| a.id),
        login: match subject {
            Some(a) => journal_text(&a.address.to_string()),
            None => guessed_login(attempt.user.unwrap_or("")),
        },
        protocol: attempt.protocol.as_str().to_owned(),
        ip: source.clone(),
        client: journal_text(format!("OAuth {}", attempt.client.unwrap_or("")).trim_end()),
        result: result.to_owned(),
        device: None,
    };
    if let Err(e) = store.record_login(&entry).await {
        tracing::warn!(error = %e, "login: journal write failed");
        return Err(Refusal::Unavailable);
    }
    tracing::info!(protocol = attempt.protocol.as_str(), ip = %source, result, account = ?entry.account_id, mechanism = "bearer", "login attempt");
    outcome
}

/// `named` is `Some(None)` when the client named a user that names nobody.
async fn check(
    id: &Identity,
    attempt: &BearerLogin<'_>,
    source: &str,
    named: Option<Option<&Account>>,
    access: Result<sso::access::MailAccess, sso::access::Refused>,
    holder: Option<&Account>,
    checked: i64,
) -> Result<Principal, Refusal> {
    let store = &id.store;
    let subject = holder.or(named.flatten());
    let known = match subject {
        Some(a) => store.is_known_device(a.id, source).await.map_err(unavailable)?,
        None => false,
    };
    let login = guessed_login(attempt.user.unwrap_or(""));
    let guessed = subject.map_or(Guessed::Login(&login), |a| Guessed::Account(a.id));
    throttled(id, source, guessed, None, known).await?;
    let access = match access {
        Ok(a) => a,
        Err(refused) => {
            tracing::info!(protocol = attempt.protocol.as_str(), why = refused.why.as_str(), "bearer token refused");
            return Err(Refusal::BadCredentials);
        }
    };
    let Some(account) = holder else {
        tracing::info!(protocol = attempt.protocol.as_str(), "bearer token of a deleted account");
        return Err(Refusal::BadCredentials);
    };
    if let Some(named) = named
        && named.is_none_or(|n| n.id != account.id)
    {
        tracing::info!(protocol = attempt.protocol.as_str(), account = account.id, "bearer token of another account");
        return Err(Refusal::BadCredentials);
    }
    // The token is right: now the state of the account decides.
    if account.role == Role::Student {
        return Err(Refusal::Student);
    }
    match account.status {
        AccountStatus::Suspended => return Err(Refusal::Suspended),
        AccountStatus::Closed => return Err(Refusal::Closed),
        AccountStatus::Provisional => return Err(Refusal::Provisional),
        AccountStatus::Active => {}
    }
    if account.status_changed_at > access.granted_at {
        // Given before a suspension (since lifted): it ended with it.
        tracing::info!(
            protocol = attempt.protocol.as_str(),
            account = account.id,
            "bearer token older than a change of state"
        );
        return Err(Refusal::BadCredentials);
    }
    if !known && store.has_logged_in(account.id).await.map_err(unavailable)? {
        notify::new_device(&id.mail, account, attempt.protocol, source, attempt.client).await;
    }
    Ok(Principal {
        account: account.clone(),
        via: Via::Token { client: access.client },
        must_change_password: false,
        // Only the web reads it, and the web never logs in with a token.
        totp_enabled: false,
        checked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_debug_form_never_shows_the_token() {
        let a = BearerLogin {
            user: Some("claire"),
            token: "jeton-secret",
            protocol: Protocol::Imap,
            peer: IpAddr::from([127, 0, 0, 1]),
            client: None,
        };
        assert!(!format!("{a:?}").contains("jeton-secret"));
    }
}
