//! Ardoise as an identity provider: OpenID Connect (code flow with PKCE,
//! refresh tokens, ID tokens signed ES256) and CAS 3.0 service tickets, for
//! the ENT, m@gistère and the académie's other applications. The login is
//! the webmail's own session; this crate decides what a signed-in account
//! may hand to which registered application, and checks what comes back.
//!
//! - [`clients`]: applications registered by administrators (OIDC clients
//!   with exact redirect URIs, CAS services by URL prefix);
//! - [`oidc`]: the authorization request's checks, codes (single use,
//!   60 s), the token exchange, rotation of refresh tokens (a reused one
//!   revokes its family), userinfo, logout hints;
//! - [`cas`]: service tickets (`ST-…`, single use, 5 minutes, bound to
//!   the service URL);
//! - [`keys`]: the signing keys and the JWKS; [`pkce`], [`claims`]: the
//!   pure rules.
//!
//! Every token or ticket is random and kept as a hash only. Every use of
//! one reads the account again: a suspended, closed or student account
//! gets nothing, whatever it holds. Grants and refusals are logged
//! (target `sso`), never with a token's value.
//!
//! - [`access`]: access tokens presented by mail clients (OAUTHBEARER,
//!   XOAUTH2, `Authorization: Bearer`), which need the `mail` scope; the
//!   identity service's login calls it.
//!
//! - [`upstream`]: the other direction, Ardoise as a client of the
//!   académie's own OpenID Connect provider or CAS server, to which the web
//!   login may be delegated (discovery, PKCE, ID token checks, CAS ticket
//!   validation); the web login then opens an ordinary session.

pub mod access;
pub mod cas;
pub mod claims;
pub mod clients;
pub mod keys;
pub mod oidc;
pub mod pkce;
pub mod upstream;

use std::path::Path;

use model::{AccountId, AccountStatus, Role};
use store::{Account, Store};

pub use clients::{ClientKind, NewClient};
pub use store::SsoClient;

/// What can go wrong below the protocol's own refusals.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("key folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("signing key: {0}")]
    Key(String),
    #[error("invalid: {0}")]
    Invalid(String),
}

/// The identity provider.
pub struct Sso {
    store: Store,
    keys: keys::Keys,
    pairwise: [u8; 32],
    issuer: String,
    /// The HTTP client of upstream logins, made at first use.
    http: std::sync::OnceLock<upstream::http::Client>,
    upstream_cache: upstream::Cache,
}

impl Sso {
    /// Opens the provider: keys in `<data_dir>/oidc` (created at first
    /// start), `issuer` the public address of the web (no trailing slash).
    pub fn open(store: Store, data_dir: &Path, issuer: &str) -> Result<Sso, Error> {
        let keys = keys::Keys::open(data_dir)?;
        let pairwise = load_or_create_key(&keys.dir().join("pairwise.key"))?;
        Ok(Sso {
            store,
            keys,
            pairwise,
            issuer: issuer.trim_end_matches('/').to_owned(),
            http: std::sync::OnceLock::new(),
            upstream_cache: upstream::Cache::default(),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The JWKS document: the current and the previous public key.
    pub fn jwks(&self) -> Result<serde_json::Value, Error> {
        let keys: Vec<_> = self.keys.published()?.iter().map(keys::SigningKey::jwk).collect();
        Ok(serde_json::json!({ "keys": keys }))
    }

    /// Adds a signing key, which signs from now on (the CLI).
    pub fn rotate_key(&self) -> Result<String, Error> {
        self.keys.rotate()
    }

    /// The `sub` of `account` for `client`: a keyed hash, stable, and
    /// different for every client, so two applications cannot match their
    /// users by it.
    pub fn pairwise_sub(&self, client: &str, account: AccountId) -> String {
        let mut h = blake3::Hasher::new_keyed(&self.pairwise);
        h.update(client.as_bytes());
        h.update(b"\0");
        h.update(&account.to_be_bytes());
        h.finalize().to_hex()[..32].to_owned()
    }

    /// Records that the web session `session_hash` proved a second factor
    /// (the web calls it after the TOTP or passkey step, or a passwordless
    /// passkey login), and how: the `amr` of the ID tokens says it.
    pub async fn second_factor_proved(
        &self,
        session_hash: &str,
        account: AccountId,
        factor: oidc::Factor,
    ) -> Result<(), Error> {
        Ok(self.store.mark_sso_second_factor(session_hash, account, factor.as_str()).await?)
    }

    /// Ends every token and ticket of an account (suspension, closure,
    /// password change); a check at use reads the state anyway.
    pub async fn revoke_account(&self, account: AccountId) -> Result<u64, Error> {
        let n = self.store.revoke_sso_account(account).await?;
        if n > 0 {
            tracing::info!(target: "sso", account, revoked = n, "tokens of the account revoked");
        }
        Ok(n)
    }

    /// Deletes what expired a day ago or more.
    pub async fn purge(&self) -> Result<u64, Error> {
        Ok(self.store.purge_sso_grants(unix_now() - 86_400).await?)
    }

    /// The account, if it may still sign in to applications and its state
    /// has not changed since `granted_at`: a suspension ends what was given
    /// before it, even once the account is active again (whoever suspended
    /// it, the CLI, the console or the HR sync).
    async fn live_account(&self, id: AccountId, granted_at: i64) -> Result<Option<Account>, Error> {
        Ok(self.store.account(id).await?.filter(|a| may_sign_in(a) && a.status_changed_at <= granted_at))
    }

    /// What the claims say of an account.
    async fn subject(&self, a: &Account) -> Result<claims::Subject, Error> {
        let p = self.store.sso_person(a.id).await?;
        Ok(claims::Subject {
            email: a.address.to_string(),
            name: a.display_name.clone(),
            given_name: p.given_name,
            family_name: p.family_name,
            role: p.hr_role.unwrap_or_else(|| a.role.as_str().to_owned()),
            uai: p.uai,
            unit: p.unit,
        })
    }
}

/// Whether an account may be signed in to applications: active (or
/// provisional, whose web login continues), never a student.
pub fn may_sign_in(a: &Account) -> bool {
    a.role != Role::Student && matches!(a.status, AccountStatus::Active | AccountStatus::Provisional)
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A random token of `bytes` random bytes, URL-safe.
pub(crate) fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// How a token is kept: a BLAKE3 hash under a purpose-derived key.
pub(crate) fn token_hash(kind: &str, token: &str) -> String {
    let mut h = blake3::Hasher::new_derive_key(&format!("ardoise 2026 sso {kind}"));
    h.update(token.as_bytes());
    h.finalize().to_hex().to_string()
}

/// Writes a secret file: temporary file with mode 0600, fsync, rename.
pub(crate) fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn load_or_create_key(path: &Path) -> Result<[u8; 32], Error> {
    if let Ok(bytes) = std::fs::read(path)
        && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
    {
        return Ok(key);
    }
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    write_secret(path, &key)?;
    Ok(key)
}
