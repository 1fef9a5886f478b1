//! The identity service: one object, built once by the binary and handed to
//! every protocol (IMAP, SMTP submission, the web), that answers who may log
//! in and keeps their credentials.
//!
//! Why an object rather than free functions over statics: the login policy
//! (password policy and maximum age, brute-force slow-down, the credential
//! cache, the bounded argon2 pool, the key of the TOTP seeds) used to be
//! process-wide statics set by the web's wiring, so IMAP and SMTP applied
//! whatever the web had set, or nothing when it was not wired. Here they are
//! fields: whoever holds an [`Identity`] gets its whole policy, and two
//! services with different settings can live in one process (tests do).
//!
//! The service holds its own [`Store`] handle for the credential tables, and
//! the [`Mailstore`] only to deliver security notices into a user's Inbox.
//! The methods are written next to what they do, in the `credentials`
//! submodules (`impl Identity` blocks); this module has the constructor, the
//! settings and the small reads the web's pages need.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use mailstore::Mailstore;
use model::AccountId;
use store::{Account, AppPassword, CredentialState, JournalEntry, NewJournalEntry, Store, WebSession};

use crate::credentials::cache::{self, CredentialCache};
use crate::credentials::pool::Argon2Pool;
use crate::credentials::{PasswordPolicy, Throttle, TotpKey};

/// The settings of an identity service (from the configuration).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Rules for new passwords, and their maximum age (expiry).
    pub policy: PasswordPolicy,
    /// How long a successful password check is remembered (zero: never).
    pub cache_ttl: Duration,
    /// Slow-down per account and source address (or proven device).
    pub per_account: Throttle,
    /// Slow-down per account across addresses (guessing spread over many
    /// addresses); the owner's known devices are spared.
    pub per_account_anywhere: Throttle,
    /// Slow-down per source address, across accounts.
    pub per_address: Throttle,
    /// argon2 computations allowed at once (the number of cores by default).
    pub argon2_workers: usize,
    /// The key TOTP seeds are encrypted with (`totp.key` in the data folder).
    pub totp_key: TotpKey,
    /// The discovery document of the OpenID Connect provider whose access
    /// tokens mail clients present (`<web>/.well-known/openid-configuration`),
    /// named in the error challenge of a refused token.
    pub openid_configuration: Option<String>,
}

impl Default for Settings {
    /// The default policy, a 5-minute cache, the default slow-down, one
    /// argon2 per core, and a random TOTP key (tests: seeds sealed with it do
    /// not survive the process).
    fn default() -> Self {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Settings {
            policy: PasswordPolicy::default(),
            cache_ttl: cache::DEFAULT_TTL,
            per_account: Throttle::ACCOUNT_ADDRESS,
            per_account_anywhere: Throttle::ACCOUNT,
            per_address: Throttle::ADDRESS,
            argon2_workers: std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            totp_key: TotpKey::from_bytes(key),
            openid_configuration: None,
        }
    }
}

/// The identity service.
pub struct Identity {
    pub(crate) store: Store,
    /// Only for delivering security notices.
    pub(crate) mail: Arc<Mailstore>,
    pub(crate) policy: PasswordPolicy,
    pub(crate) per_account: Throttle,
    pub(crate) per_account_anywhere: Throttle,
    pub(crate) per_address: Throttle,
    pub(crate) device_key: crate::credentials::device::DeviceKey,
    pub(crate) cache: CredentialCache,
    pub(crate) verdicts: crate::credentials::verdicts::Verdicts,
    pub(crate) argon2: Argon2Pool,
    pub(crate) totp_key: TotpKey,
    pub(crate) openid_configuration: Option<String>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("policy", &self.policy).field("cache", &self.cache).finish_non_exhaustive()
    }
}

impl Identity {
    /// A service over `store` (the credential tables) that mails its notices
    /// through `mail`.
    pub fn new(store: Store, mail: Arc<Mailstore>, settings: Settings) -> Arc<Identity> {
        Arc::new(Identity {
            store,
            mail,
            policy: settings.policy,
            per_account: settings.per_account,
            per_account_anywhere: settings.per_account_anywhere,
            per_address: settings.per_address,
            device_key: crate::credentials::device::DeviceKey::new(
                settings.totp_key.derive("ardoise 2026 device cookie"),
            ),
            cache: CredentialCache::new(settings.cache_ttl),
            verdicts: crate::credentials::verdicts::Verdicts::new(),
            argon2: Argon2Pool::new(settings.argon2_workers),
            totp_key: settings.totp_key,
            openid_configuration: settings.openid_configuration,
        })
    }

    /// Ends now the sessions of `account` opened with the secret `what`
    /// revokes (its row in the store tells the other processes; the watcher
    /// here publishes it again with its number, which the sessions opened
    /// since with the new secret outlive).
    pub(crate) fn revoke_credential_here(&self, account: AccountId, what: model::Revocation) {
        self.mail.revoke_credential(account, what);
    }

    /// The password policy new passwords must follow (and its maximum age).
    pub fn policy(&self) -> &PasswordPolicy {
        &self.policy
    }

    /// The credential cache (for its counters).
    pub fn cache(&self) -> &CredentialCache {
        &self.cache
    }

    /// The bounded argon2 pool (for its counters).
    pub fn argon2(&self) -> &Argon2Pool {
        &self.argon2
    }

    /// The key of the TOTP seeds.
    pub fn totp_key(&self) -> &TotpKey {
        &self.totp_key
    }

    /// The account `id`, as stored now.
    pub async fn account(&self, id: AccountId) -> Result<Option<Account>, store::Error> {
        self.store.account(id).await
    }

    /// The account's second factor and password dates.
    pub async fn credential_state(&self, id: AccountId) -> Result<CredentialState, store::Error> {
        self.store.credential_state(id).await
    }

    /// Recovery codes not used yet.
    pub async fn recovery_codes_left(&self, id: AccountId) -> Result<i64, store::Error> {
        self.store.recovery_codes_left(id).await
    }

    /// The account's app passwords (hashes only).
    pub async fn app_passwords(&self, id: AccountId) -> Result<Vec<AppPassword>, store::Error> {
        self.store.app_passwords(id).await
    }

    /// The latest `limit` entries of the account's connection journal.
    pub async fn login_journal(&self, id: AccountId, limit: i64) -> Result<Vec<JournalEntry>, store::Error> {
        self.store.login_journal(id, limit).await
    }

    /// Whether the account holds an administrative role somewhere.
    pub async fn has_admin_role(&self, id: AccountId) -> Result<bool, store::Error> {
        Ok(!self.store.role_grants(id).await?.is_empty())
    }

    /// Whether `password` is the account's current password (re-read from the
    /// store; argon2 in the bounded pool). Neither throttled nor journaled:
    /// only [`Identity::reauthenticate`] calls it, which does both.
    pub(crate) async fn check_password(&self, id: AccountId, password: &str) -> bool {
        let hash = self.store.account(id).await.ok().flatten().and_then(|a| a.password_hash);
        self.verify_password(hash, password).await
    }

    /// A wrong second-factor code from `peer`: journaled as a failure of the
    /// account (guessing codes slows down like guessing passwords). Returns
    /// how long to wait when the account is now slowed down from there.
    pub async fn second_factor_failed(&self, account: &Account, peer: IpAddr, client: &str) -> Option<Duration> {
        let ip = crate::credentials::device::source_of(peer);
        let entry = NewJournalEntry {
            account_id: Some(account.id),
            login: account.address.to_string(),
            protocol: "web".into(),
            ip: ip.clone(),
            client: client.chars().filter(|c| !c.is_control()).take(64).collect(),
            result: "bad".into(),
            device: None,
        };
        let _ = self.store.record_login(&entry).await;
        let t = self.per_account;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        match self.store.recent_failures(Some(account.id), &ip, now - t.window.as_secs() as i64).await {
            Ok((n, last)) => t.wait(n + 1, last, now),
            Err(_) => Some(t.base),
        }
    }

    /// Encrypts the TOTP seeds earlier versions kept clear (at start).
    pub async fn encrypt_clear_seeds(&self) -> Result<usize, store::Error> {
        crate::credentials::at_rest::encrypt_clear_seeds(&self.store, &self.totp_key).await
    }

    /// The web session of a token hash.
    pub async fn web_session(&self, token_hash: &str) -> Result<Option<WebSession>, store::Error> {
        self.store.web_session(token_hash).await
    }

    /// The account's open web sessions.
    pub async fn web_sessions(&self, id: AccountId) -> Result<Vec<WebSession>, store::Error> {
        self.store.web_sessions(id).await
    }

    /// Records a page view: the session's idle deadline moves to `expires_at`.
    pub async fn touch_web_session(&self, token_hash: &str, now: i64, expires_at: i64) -> Result<(), store::Error> {
        self.store.touch_web_session(token_hash, now, expires_at).await
    }

    /// Records a new web session.
    pub async fn create_web_session(&self, session: &WebSession) -> Result<(), store::Error> {
        self.store.create_web_session(session).await
    }

    /// Ends one web session of the account.
    pub async fn delete_web_session(&self, id: AccountId, token_hash: &str) -> Result<bool, store::Error> {
        self.store.delete_web_session(id, token_hash).await
    }

    /// Ends every web session of the account but `keep`.
    pub async fn delete_web_sessions(&self, id: AccountId, keep: Option<&str>) -> Result<u64, store::Error> {
        self.store.delete_web_sessions(id, keep).await
    }
}
