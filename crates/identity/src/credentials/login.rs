//! The login every protocol calls ([`Identity::login`]): see the module
//! documentation above. There is no other.

use model::{AccountStatus, Address, Role};
use store::{Account, FailureScope, Guessed, NewJournalEntry, Store};

use super::device::source_of;
use super::hash::{MAX_SECRET_LEN, token_hash};
use super::{Login, Principal, Protocol, Refusal, Via, cache, expiry, notify};
use crate::Identity;

/// How long the connection journal keeps an attempt.
pub const JOURNAL_RETENTION_DAYS: i64 = 90;
/// Longest identifier looked up (an address is at most 254 bytes).
const MAX_LOGIN_LEN: usize = 254;
/// Characters of the identifier and client kept in the journal.
const JOURNAL_TEXT_LEN: usize = 64;

impl Identity {
    /// Checks a login under the service's policy (slow-down, credential
    /// cache, expiry): see the module documentation for the order of checks.
    /// Every attempt is journaled.
    pub async fn login(&self, attempt: &Login<'_>) -> Result<Principal, Refusal> {
        login(self, attempt).await
    }

    /// [`Identity::login`] for protocols that log in on every request (DAV's
    /// HTTP Basic): a success is remembered for a minute for the same
    /// credentials from the same address, until a revocation of the
    /// account's access or secrets (see [`super::verdicts`]). Refusals and
    /// passwords to change always take the full path.
    pub async fn login_per_request(&self, attempt: &Login<'_>) -> Result<Principal, Refusal> {
        if let Some(principal) = self.verdicts.get(attempt) {
            return Ok(principal);
        }
        let epoch = self.verdicts.begin(&self.mail);
        let principal = self.login(attempt).await?;
        if !principal.must_change_password {
            self.verdicts.put(epoch, attempt, &principal);
        }
        Ok(principal)
    }

    /// Deletes journal entries past the retention; returns how many went.
    pub async fn purge_journal(&self) -> Result<u64, store::Error> {
        self.store.purge_login_journal(now() - JOURNAL_RETENTION_DAYS * 86_400).await
    }
}

async fn login(id: &Identity, attempt: &Login<'_>) -> Result<Principal, Refusal> {
    let started = std::time::Instant::now();
    let outcome = journaled_login(id, attempt).await;
    let protocol = attempt.protocol.as_str();
    let result = match &outcome {
        Ok(_) => "ok",
        Err(r) => r.as_str(),
    };
    metrics::counter!("ardoise_logins_total", "protocol" => protocol, "result" => result).increment(1);
    metrics::histogram!("ardoise_login_seconds", "protocol" => protocol).record(started.elapsed().as_secs_f64());
    outcome
}

async fn journaled_login(id: &Identity, attempt: &Login<'_>) -> Result<Principal, Refusal> {
    let store = &id.store;
    let source = source_of(attempt.peer);
    // Read before the account: every change numbered up to it is in what
    // find_account and check read (see `model::Proof`).
    let checked = match store.status_sequence().await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "login: store unavailable");
            return Err(Refusal::Unavailable);
        }
    };
    let account = match find_account(store, attempt.login).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "login: store unavailable");
            return Err(Refusal::Unavailable);
        }
    };
    let device = account.as_ref().zip(attempt.device).and_then(|(a, token)| id.device_of(a.id, token));
    let outcome = check(id, attempt, &source, account.as_ref(), device.as_deref(), checked).await;
    let result = match &outcome {
        Ok(_) => "ok",
        Err(r) => r.as_str(),
    };
    let entry = NewJournalEntry {
        account_id: account.as_ref().map(|a| a.id),
        // An identifier that names no account is kept in the form its
        // failures are counted by (see `Guessed::Login`).
        login: match &account {
            Some(_) => journal_text(attempt.login),
            None => guessed_login(attempt.login),
        },
        protocol: attempt.protocol.as_str().to_owned(),
        ip: source.clone(),
        client: journal_text(attempt.client.unwrap_or("")),
        result: result.to_owned(),
        device,
    };
    if let Err(e) = store.record_login(&entry).await {
        tracing::warn!(error = %e, "login: journal write failed");
        return Err(Refusal::Unavailable);
    }
    tracing::info!(protocol = attempt.protocol.as_str(), ip = %source, result, account = ?entry.account_id, "login attempt");
    outcome
}

/// The slow-down (see [`super::throttle`]): `Err` with the wait when one of
/// the scopes that apply is slowed down now.
pub(super) async fn throttled(
    id: &Identity,
    source: &str,
    guessed: Guessed<'_>,
    device: Option<&str>,
    known: bool,
) -> Result<(), Refusal> {
    let now = now();
    let since = |t: super::Throttle| now - t.window.as_secs() as i64;
    let pair = match (guessed, device) {
        (Guessed::Account(a), Some(d)) => FailureScope::FromDevice(a, d),
        _ => FailureScope::FromAddress(guessed, source),
    };
    let mut scopes = vec![(pair, id.per_account)];
    if !known {
        scopes.push((FailureScope::Address(source), id.per_address));
        scopes.push((FailureScope::Guessed(guessed), id.per_account_anywhere));
    }
    for (scope, limit) in scopes {
        let (n, last) = id.store.failures(scope, since(limit)).await.map_err(unavailable)?;
        if let Some(retry_after) = limit.wait(n, last, now) {
            return Err(Refusal::Throttled { retry_after });
        }
    }
    Ok(())
}

async fn check(
    id: &Identity,
    attempt: &Login<'_>,
    source: &str,
    account: Option<&Account>,
    device: Option<&str>,
    checked: i64,
) -> Result<Principal, Refusal> {
    let store = &id.store;
    let now = now();
    let sane = attempt.secret.len() <= MAX_SECRET_LEN && !attempt.secret.is_empty();
    // A right app password is a device's own secret: looked up first (a
    // hash, no argon2), and never slowed down.
    let app = match (account, attempt.protocol.scope()) {
        (Some(a), Some(_)) if sane => store
            .use_app_password(a.id, &token_hash("app", &normalise_app_password(attempt.secret)))
            .await
            .map_err(unavailable)?,
        _ => None,
    };
    // A known device: the web's cookie, or an address the account logged in
    // from (asked once: the throttle and the new-device notice both use it).
    let known = device.is_some()
        || match account {
            Some(a) => store.is_known_device(a.id, source).await.map_err(unavailable)?,
            None => false,
        };
    if app.is_none() {
        let login = guessed_login(attempt.login);
        let guessed = account.map_or(Guessed::Login(&login), |a| Guessed::Account(a.id));
        throttled(id, source, guessed, device, known).await?;
    }
    let Some(account) = account.filter(|_| sane) else {
        // Same work as a real check, so timing tells nothing.
        let _ = id.verify_password(None, if sane { attempt.secret } else { "" }).await;
        return Err(Refusal::BadCredentials);
    };
    let state = store.credential_state(account.id).await.map_err(unavailable)?;
    let totp_enabled = state.totp_enabled_at.is_some();
    let fingerprint = cache::fingerprint(account, &state);
    let via = match (app, attempt.protocol.scope()) {
        (Some(app), Some(scope)) if app.scopes.iter().any(|s| s == scope) => {
            Via::AppPassword { id: app.id, name: app.name }
        }
        (Some(_), _) => return Err(Refusal::BadCredentials),
        (None, _) => {
            if !password_ok(id, account, &fingerprint, attempt.secret).await {
                return Err(Refusal::BadCredentials);
            }
            Via::Password
        }
    };
    // The secret is right: now the state of the account decides.
    if account.role == Role::Student {
        return Err(Refusal::Student);
    }
    match account.status {
        AccountStatus::Suspended => return Err(Refusal::Suspended),
        AccountStatus::Closed => return Err(Refusal::Closed),
        AccountStatus::Provisional if attempt.protocol != Protocol::Web => return Err(Refusal::Provisional),
        _ => {}
    }
    if via == Via::Password && totp_enabled && attempt.protocol != Protocol::Web {
        return Err(Refusal::AppPasswordRequired);
    }
    // An expired password opens only the web, where it must be changed at
    // once (app passwords are separate secrets and keep working).
    let expired = expiry::expired(id.policy.max_age_days, account, &state, now);
    if via == Via::Password && expired && attempt.protocol != Protocol::Web {
        return Err(Refusal::PasswordExpired);
    }
    if via == Via::Password {
        id.cache.remember(account.id, attempt.secret, fingerprint);
    }
    if !known
        && account.status == AccountStatus::Active
        && store.has_logged_in(account.id).await.map_err(unavailable)?
    {
        notify::new_device(&id.mail, account, attempt.protocol, source, attempt.client).await;
    }
    let must_change_password = account.status == AccountStatus::Provisional || (via == Via::Password && expired);
    Ok(Principal { account: account.clone(), via, must_change_password, totp_enabled, checked })
}

/// Whether `secret` is the account's password: from the credential cache
/// when it was proven lately under the same fingerprint, else with argon2.
async fn password_ok(id: &Identity, account: &Account, fingerprint: &[u8; 32], secret: &str) -> bool {
    if account.password_hash.is_some() && id.cache.hit(account.id, secret, fingerprint) {
        return true;
    }
    if id.verify_password(account.password_hash.clone(), secret).await {
        if let Some(old) = account.password_hash.as_deref().filter(|h| super::foreign::is_foreign(h)) {
            upgrade_foreign(id, account, old, secret).await;
        }
        return true;
    }
    // A provisional password from the HR sync is the NUMEN, hashed in its
    // normal form: a lower-case or space-padded one typed at the first login
    // is the same. (A helpdesk's provisional password is taken as typed,
    // above.)
    let numen = crate::lifecycle::numen::normalize(secret);
    account.status == AccountStatus::Provisional
        && numen != secret
        && id.verify_password(account.password_hash.clone(), &numen).await
}

/// Replaces a hash imported from another server, just proven, by an
/// argon2id hash of the same password (unless the hash changed meanwhile).
/// A failure only means the foreign hash is checked again next time.
async fn upgrade_foreign(id: &Identity, account: &Account, old: &str, secret: &str) {
    let Some(new) = id.hash_password(secret).await else { return };
    match id.store.replace_password_hash(account.id, old, &new).await {
        Ok(true) => tracing::info!(account = account.id, "imported password hash upgraded to argon2id"),
        Ok(false) => {}
        Err(e) => tracing::warn!(account = account.id, error = %e, "imported password hash not upgraded"),
    }
}

/// The account named by an address, an alias or a short login. Malformed or
/// oversized identifiers name nobody.
pub(crate) async fn find_account(store: &Store, login: &str) -> Result<Option<Account>, store::Error> {
    let login = login.trim();
    if login.is_empty() || login.len() > MAX_LOGIN_LEN || login.chars().any(char::is_control) {
        return Ok(None);
    }
    if let Ok(address) = Address::parse(login)
        && let Some(a) = store.account_by_address(&address).await?
    {
        return Ok(Some(a));
    }
    store.account_by_login(&login.to_lowercase()).await
}

/// App passwords are shown as `abcd-efgh-jkmn-pqrs`; clients may keep or
/// drop the dashes and change the case.
pub(crate) fn normalise_app_password(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// The form an identifier that names no account is journaled and counted
/// in: trimmed, lower-case, printable and short.
pub(super) fn guessed_login(login: &str) -> String {
    journal_text(&login.trim().to_lowercase())
}

/// Printable, short text for the journal (identifiers can be hostile).
pub(super) fn journal_text(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).take(JOURNAL_TEXT_LEN).collect()
}

pub(super) fn unavailable(e: store::Error) -> Refusal {
    tracing::warn!(error = %e, "login: store unavailable");
    Refusal::Unavailable
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_text_is_printable_and_short() {
        let t = journal_text("a\r\nb\0c' OR 1=1; --");
        assert!(!t.chars().any(char::is_control));
        assert_eq!(journal_text(&"x".repeat(1000)).chars().count(), JOURNAL_TEXT_LEN);
    }

    #[test]
    fn app_passwords_ignore_dashes_and_case() {
        assert_eq!(normalise_app_password("ABCD-efgh jkmn-pqrs"), "abcdefghjkmnpqrs");
    }
}
