//! Re-authentication before a sensitive action (changing the password,
//! turning the second factor off or on, creating an app password).
//!
//! A stolen web session must not be a way to the password or to lasting
//! access: whoever holds the session is asked the password again, and the
//! TOTP code (or a recovery code) when the account has one. Guesses are
//! slowed down like logins (the `per_account` slow-down, per account and
//! address, counted from the connection journal) and journaled under the
//! protocol `reauth` with the results `ok`, `bad` and `throttled`, so the
//! owner sees them on the security page. An answer refused for throttling
//! is journaled but is not a guess: it does not extend the wait (only the
//! `bad` rows are counted, see `store::Store::recent_bad_guesses`). When
//! the slow-down starts, the owner is mailed.

use std::net::IpAddr;
use std::time::Duration;

use store::{Account, FailureScope, Guessed, NewJournalEntry};

use super::hash::MAX_SECRET_LEN;
use super::notify;
use crate::Identity;

/// The journal's protocol for re-authentications.
pub const REAUTH: &str = "reauth";

/// Why a re-authentication was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReauthRefusal {
    /// The password is wrong, or the second factor (enrolled) is wrong or missing.
    Wrong,
    /// Too many wrong guesses from this address: wait this long.
    Throttled { retry_after: Duration },
    /// The store failed: try again.
    Unavailable,
}

impl ReauthRefusal {
    /// A French sentence for the page.
    pub fn message_fr(self) -> String {
        match self {
            ReauthRefusal::Wrong => "Mot de passe actuel (ou code de validation) incorrect.".to_owned(),
            ReauthRefusal::Throttled { retry_after } => format!(
                "Trop d'essais infructueux : votre compte est ralenti. Réessayez dans {}.",
                wait_fr(retry_after)
            ),
            ReauthRefusal::Unavailable => "Service momentanément indisponible. Réessayez dans un instant.".to_owned(),
        }
    }

    /// The same in English.
    pub fn message_en(self) -> String {
        match self {
            ReauthRefusal::Wrong => "Current password (or verification code) incorrect.".to_owned(),
            ReauthRefusal::Throttled { retry_after } => format!(
                "Too many failed attempts: your account is being slowed down. Try again in {}.",
                wait_en(retry_after)
            ),
            ReauthRefusal::Unavailable => "Service temporarily unavailable. Try again in a moment.".to_owned(),
        }
    }
}

/// `45 s`, `3 min` (rounded up).
fn wait_fr(d: Duration) -> String {
    let s = d.as_secs().max(1);
    if s < 60 { format!("{s} s") } else { format!("{} min", s.div_ceil(60)) }
}

fn wait_en(d: Duration) -> String {
    let s = d.as_secs().max(1);
    if s < 60 { format!("{s} seconds") } else { format!("{} minutes", s.div_ceil(60)) }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Identity {
    /// Checks that the visitor of a signed-in session is the owner of
    /// `account`: the current `password`, and the second factor `code`
    /// (TOTP or recovery) when TOTP is on. Throttled per (account, `peer`)
    /// like logins; every attempt is journaled (`reauth`); a code is looked
    /// at (and spent) only after the right password.
    pub async fn reauthenticate(
        &self,
        account: &Account,
        password: &str,
        code: Option<&str>,
        peer: IpAddr,
        client: &str,
    ) -> Result<(), ReauthRefusal> {
        let ip = super::device::source_of(peer);
        let t = self.per_account;
        let now = unix_now();
        let since = now - t.window.as_secs() as i64;
        let (guesses, last) = self
            .store
            .failures(FailureScope::FromAddress(Guessed::Account(account.id), &ip), since)
            .await
            .map_err(|_| ReauthRefusal::Unavailable)?;
        if let Some(retry_after) = t.wait(guesses, last, now) {
            self.journal_reauth(account, &ip, client, "throttled").await;
            return Err(ReauthRefusal::Throttled { retry_after });
        }
        let right = password.len() <= MAX_SECRET_LEN && self.check_password(account.id, password).await;
        let right = right && self.second_factor_if_enrolled(account, code).await?;
        if right {
            self.journal_reauth(account, &ip, client, "ok").await;
            return Ok(());
        }
        self.journal_reauth(account, &ip, client, "bad").await;
        let Some(retry_after) = t.wait(guesses + 1, Some(now), now) else { return Err(ReauthRefusal::Wrong) };
        if guesses == t.free {
            // The first guess past the free ones: the slow-down starts now.
            self.mail_reauth_throttled(account, &ip).await;
        }
        Err(ReauthRefusal::Throttled { retry_after })
    }

    /// Whether the second factor passes: always without TOTP, otherwise the
    /// code must be a valid TOTP or recovery code.
    async fn second_factor_if_enrolled(&self, account: &Account, code: Option<&str>) -> Result<bool, ReauthRefusal> {
        let state = self.store.credential_state(account.id).await.map_err(|_| ReauthRefusal::Unavailable)?;
        if state.totp_enabled_at.is_none() {
            return Ok(true);
        }
        let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else { return Ok(false) };
        self.verify_second_factor(account, code).await.map_err(|_| ReauthRefusal::Unavailable)
    }

    async fn journal_reauth(&self, account: &Account, ip: &str, client: &str, result: &str) {
        let entry = NewJournalEntry {
            account_id: Some(account.id),
            login: account.address.to_string(),
            protocol: REAUTH.into(),
            ip: ip.to_owned(),
            client: client.chars().filter(|c| !c.is_control()).take(64).collect(),
            result: result.into(),
            device: None,
        };
        if let Err(e) = self.store.record_login(&entry).await {
            tracing::warn!(error = %e, "journaling a re-authentication failed");
        }
    }

    async fn mail_reauth_throttled(&self, account: &Account, ip: &str) {
        let body = format!(
            "Plusieurs mots de passe erronés viennent d'être saisis depuis une session ouverte sur votre \
             compte, avant une action sensible (changement de mot de passe, validation en deux étapes, mot \
             de passe d'application). Les essais sont désormais ralentis.\n\n  Adresse : {ip}\n\n\
             Si ce n'était pas vous, fermez les sessions ouvertes sur la page « Sécurité ».\n\n\
             (Several wrong passwords were typed in a session of your account before a sensitive action; \
             further attempts are slowed down. If it was not you, end the open sessions on the Security page.)"
        );
        notify::notify(&self.mail, account, "Essais de mot de passe répétés sur votre compte", &body).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use model::{AccountStatus, Address, Domain, Role, SpecialUse};
    use store::{NewAccount, Store};

    use super::*;
    use crate::Settings;
    use crate::credentials::{Throttle, TotpKey, hash, totp};

    const PASSWORD: &str = "Ardoise-Demo-2026";

    async fn fixture() -> (tempfile::TempDir, Store, Arc<Identity>, Account) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        store.add_domain(&Domain::parse("ac-test.fr").unwrap()).await.unwrap();
        let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
        let ms = mailstore::Mailstore::new(store.clone(), blobs);
        let settings = Settings { totp_key: TotpKey::from_bytes([9; 32]), ..Settings::default() };
        let id = Identity::new(store.clone(), ms, settings);
        let account = store
            .create_account(&NewAccount {
                address: Address::parse("claire.martin@ac-test.fr").unwrap(),
                login: None,
                display_name: "Claire Martin".into(),
                role: Role::Teacher,
                status: AccountStatus::Active,
                quota_bytes: None,
                org_unit: None,
                password_hash: hash::hash_password(PASSWORD),
            })
            .await
            .unwrap();
        (dir, store, id, account)
    }

    fn peer() -> IpAddr {
        "10.1.2.3".parse().unwrap()
    }

    async fn results(store: &Store, account: &Account) -> Vec<String> {
        let mut rows = store.login_journal(account.id, 100).await.unwrap();
        rows.reverse();
        rows.into_iter().filter(|j| j.protocol == REAUTH).map(|j| j.result).collect()
    }

    async fn notices(store: &Store, account: &Account) -> usize {
        let inbox = store.mailbox_by_special_use(account.id, SpecialUse::Inbox).await.unwrap().unwrap();
        store.messages(inbox.id).await.unwrap().len()
    }

    #[tokio::test]
    async fn wrong_guesses_are_journaled_then_throttled_without_extending_the_wait() {
        let (_dir, store, id, account) = fixture().await;
        let free = Throttle::ACCOUNT_ADDRESS.free;
        for _ in 0..free {
            assert_eq!(id.reauthenticate(&account, "faux", None, peer(), "test").await, Err(ReauthRefusal::Wrong));
        }
        // The next wrong guess starts the slow-down, and says how long to wait.
        let Err(ReauthRefusal::Throttled { retry_after }) =
            id.reauthenticate(&account, "faux", None, peer(), "t").await
        else {
            panic!("throttled after {free} wrong guesses");
        };
        assert!(retry_after > Duration::ZERO);
        assert_eq!(notices(&store, &account).await, 1, "the owner is mailed when the slow-down starts");
        // While slowed down, even the right password waits, and asking again
        // does not extend the wait: those answers are not guesses.
        for _ in 0..4 {
            let answer = id.reauthenticate(&account, PASSWORD, None, peer(), "t").await;
            assert!(matches!(answer, Err(ReauthRefusal::Throttled { .. })), "{answer:?}");
        }
        let (guesses, _) = store.recent_failures(Some(account.id), &peer().to_string(), 0).await.unwrap();
        assert_eq!(guesses, free + 1);
        let journal = results(&store, &account).await;
        assert_eq!(journal.iter().filter(|r| *r == "bad").count() as i64, free + 1);
        assert_eq!(journal.iter().filter(|r| *r == "throttled").count(), 4);
        assert_eq!(notices(&store, &account).await, 1, "mailed once");
        // Another address is not slowed by these guesses.
        let other: IpAddr = "10.9.9.9".parse().unwrap();
        assert_eq!(id.reauthenticate(&account, PASSWORD, None, other, "t").await, Ok(()));
        assert_eq!(results(&store, &account).await.last().map(String::as_str), Some("ok"));
    }

    #[tokio::test]
    async fn with_totp_the_code_is_required_and_checked_after_the_password() {
        let (_dir, _store, id, account) = fixture().await;
        let enrol = id.begin_totp(&account, "Ardoise test").await.unwrap();
        let now = unix_now() as u64;
        let code = totp::code_at(&enrol.secret, now).unwrap();
        let codes = id.confirm_totp(&account, &code).await.unwrap().unwrap();
        assert_eq!(id.reauthenticate(&account, PASSWORD, None, peer(), "t").await, Err(ReauthRefusal::Wrong));
        assert_eq!(id.reauthenticate(&account, PASSWORD, Some(""), peer(), "t").await, Err(ReauthRefusal::Wrong));
        // A wrong password does not spend the recovery code it came with.
        assert_eq!(id.reauthenticate(&account, "faux", Some(&codes[0]), peer(), "t").await, Err(ReauthRefusal::Wrong));
        assert_eq!(id.reauthenticate(&account, PASSWORD, Some(&codes[0]), peer(), "t").await, Ok(()));
        let next = totp::code_at(&enrol.secret, now + 30).unwrap();
        assert_eq!(id.reauthenticate(&account, PASSWORD, Some(&next), peer(), "t").await, Ok(()));
    }
}
