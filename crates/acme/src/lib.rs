//! The server's certificate from an ACME server (RFC 8555): Let's Encrypt,
//! an académie's own certificate authority, or pebble in the tests.
//!
//! [`Acme::run`] keeps the certificate that every TLS port presents
//! ([`net::Certificates`]) valid. The certificate obtained earlier is kept in
//! `<data_dir>/acme/` and put back in service at start while it covers the
//! configured names and is not near its end. Otherwise, and then whenever
//! its end comes within [`Settings::renew_before`], a new one is ordered:
//! each name is proved by the first of [`Settings::methods`] the server
//! offers for it:
//! - HTTP-01: the answer is served by the plain web listeners from
//!   [`Challenges`] (port 80 must reach a `[web] listen` address);
//! - TLS-ALPN-01 (RFC 8737): the web's HTTPS listeners present the
//!   validation certificate of [`net::AlpnChallenges`] to a ClientHello
//!   whose only ALPN protocol is `acme-tls/1` (port 443 must reach a
//!   `[web] listen_tls` address); every other handshake is unchanged.
//!
//! The key is generated here, the chain and key are written (key first,
//! both atomically) and installed: every TLS port presents the new
//! certificate from its next handshake on, without a restart.
//!
//! A failed order (server down, a name that does not point here, garbage)
//! is logged and retried after 5 minutes, doubling up to 6 hours; the
//! certificate in service stays. Not done: DNS-01.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, Order,
    OrderStatus, RetryPolicy,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::watch;

/// File names inside [`Settings::dir`].
const ACCOUNT_FILE: &str = "account.json";
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";
/// One order, from the account to the certificate, takes at most this long.
const ORDER_TIMEOUT: Duration = Duration::from_secs(300);
/// The certificate is looked at again at least this often.
const LOOK_AGAIN: Duration = Duration::from_secs(12 * 3600);
/// After a failure: 5 minutes, doubling, at most 6 hours.
const FIRST_RETRY: Duration = Duration::from_secs(300);
const LAST_RETRY: Duration = Duration::from_secs(6 * 3600);

/// What the binary resolves from `[acme]`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The ACME server's directory URL.
    pub directory: String,
    /// Contact addresses given to the server (`mailto:` added when missing).
    pub contact: Vec<String>,
    /// The host names (or IP addresses) the certificate covers.
    pub names: Vec<String>,
    /// The ACME server's root certificate (PEM), for a private or test
    /// server; `None`: the system's roots.
    pub root: Option<PathBuf>,
    /// A certificate this close to its end is renewed.
    pub renew_before: Duration,
    /// Where the account and the certificate are kept (`<data_dir>/acme`).
    pub dir: PathBuf,
    /// How names may be proved, preferred first.
    pub methods: Vec<Method>,
}

/// A way of proving a name (RFC 8555 section 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// RFC 8555 section 8.3: a file fetched over HTTP on port 80.
    Http01,
    /// RFC 8737: a certificate presented over TLS on port 443.
    TlsAlpn01,
}

impl Method {
    fn kind(self) -> ChallengeType {
        match self {
            Method::Http01 => ChallengeType::Http01,
            Method::TlsAlpn01 => ChallengeType::TlsAlpn01,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Method::Http01 => "http-01",
            Method::TlsAlpn01 => "tls-alpn-01",
        }
    }
}

/// Why no certificate was obtained.
#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error("ACME server: {0}")]
    Protocol(#[from] instant_acme::Error),
    #[error("ACME server: {0}")]
    Refused(String),
    #[error("{path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
    #[error("ACME account file {0}: {1}")]
    AccountFile(PathBuf, serde_json::Error),
    #[error("the certificate received is unusable: {0}")]
    Certificate(String),
    #[error("no certificate within {} s", ORDER_TIMEOUT.as_secs())]
    Timeout,
}

/// The HTTP-01 answers an order is waiting to have fetched: token → key
/// authorization, served at `/.well-known/acme-challenge/<token>`.
#[derive(Debug, Default)]
pub struct Challenges(RwLock<HashMap<String, String>>);

impl Challenges {
    /// The key authorization for `token`, while an order asks for it.
    pub fn answer(&self, token: &str) -> Option<String> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).get(token).cloned()
    }

    fn put(&self, token: String, key_authorization: String) {
        self.0.write().unwrap_or_else(|p| p.into_inner()).insert(token, key_authorization);
    }

    fn forget(&self, tokens: &[String]) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        for token in tokens {
            map.remove(token);
        }
    }
}

/// The account file: the credentials, for the directory they belong to.
#[derive(Serialize, Deserialize)]
struct AccountFile {
    directory: String,
    credentials: AccountCredentials,
}

/// A certificate kept in [`Settings::dir`], as read back.
#[derive(Debug, Clone)]
pub struct Kept {
    pub chain: String,
    pub key: String,
    pub not_after: OffsetDateTime,
    /// Its DNS names and IP addresses.
    pub names: Vec<String>,
}

/// The certificate keeper of this process.
pub struct Acme {
    settings: Settings,
    challenges: Arc<Challenges>,
    alpn: Arc<net::AlpnChallenges>,
}

/// What an order put up to be fetched, taken down when it ends.
#[derive(Default)]
struct Answered {
    tokens: Vec<String>,
    sni: Vec<String>,
}

impl Acme {
    pub fn new(settings: Settings) -> Acme {
        Acme { settings, challenges: Arc::default(), alpn: Arc::default() }
    }

    /// The HTTP-01 answers the plain web listeners serve.
    pub fn challenges(&self) -> Arc<Challenges> {
        self.challenges.clone()
    }

    /// The TLS-ALPN-01 answers the web's HTTPS listeners present, when
    /// that method is allowed.
    pub fn alpn_challenges(&self) -> Option<Arc<net::AlpnChallenges>> {
        self.settings.methods.contains(&Method::TlsAlpn01).then(|| self.alpn.clone())
    }

    /// The certificate kept from an earlier order, if readable.
    pub fn kept(&self) -> Option<Kept> {
        let dir = &self.settings.dir;
        let chain = std::fs::read_to_string(dir.join(CERT_FILE)).ok()?;
        let key = std::fs::read_to_string(dir.join(KEY_FILE)).ok()?;
        match read_certificate(chain, key) {
            Ok(kept) => Some(kept),
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "ACME: the kept certificate is unreadable");
                None
            }
        }
    }

    /// Whether `kept` must be replaced at `now`: near its end, or not
    /// covering every configured name.
    pub fn due(&self, kept: &Kept, now: OffsetDateTime) -> bool {
        let renew_before = time::Duration::try_from(self.settings.renew_before).unwrap_or(time::Duration::MAX);
        kept.not_after - renew_before <= now
            || !self.settings.names.iter().all(|n| kept.names.iter().any(|k| k.eq_ignore_ascii_case(n)))
    }

    /// Installs the kept certificate when it is still good (at start,
    /// before the listeners accept anything). Returns whether it did.
    pub fn install_kept(&self, certs: &net::Certificates) -> bool {
        match self.kept() {
            Some(kept) if !self.due(&kept, OffsetDateTime::now_utc()) => self.put_in_service(certs, &kept).is_ok(),
            _ => false,
        }
    }

    /// Keeps the certificate valid until `shutdown`.
    pub async fn run(self: Arc<Self>, certs: Arc<net::Certificates>, mut shutdown: watch::Receiver<bool>) {
        let mut failures: u32 = 0;
        loop {
            let now = OffsetDateTime::now_utc();
            let wait = match self.kept().filter(|k| !self.due(k, now)) {
                Some(kept) => {
                    let _ = self.put_in_service(&certs, &kept);
                    self.until_renewal(&kept, now)
                }
                None => {
                    match tokio::time::timeout(ORDER_TIMEOUT, self.obtain()).await.unwrap_or(Err(AcmeError::Timeout)) {
                        Ok(kept) => {
                            failures = 0;
                            match self.put_in_service(&certs, &kept) {
                                // Never order again at once, even when renew_before is
                                // longer than the certificates the server gives.
                                Ok(()) => self.until_renewal(&kept, now).max(Duration::from_secs(3600)),
                                Err(()) => retry_after(1),
                            }
                        }
                        Err(error) => {
                            failures = failures.saturating_add(1);
                            let wait = retry_after(failures);
                            metrics::counter!("ardoise_acme_failures_total").increment(1);
                            tracing::error!(%error, directory = %self.settings.directory, retry_in_s = wait.as_secs(),
                            "ACME: no new certificate; the one in service stays");
                            wait
                        }
                    }
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    fn until_renewal(&self, kept: &Kept, now: OffsetDateTime) -> Duration {
        let renew_at =
            kept.not_after - time::Duration::try_from(self.settings.renew_before).unwrap_or(time::Duration::MAX);
        Duration::try_from(renew_at - now).unwrap_or(Duration::ZERO).clamp(Duration::from_secs(60), LOOK_AGAIN)
    }

    /// Presents `kept` on every TLS port (unless it already is).
    fn put_in_service(&self, certs: &net::Certificates, kept: &Kept) -> Result<(), ()> {
        let (chain, key) = net::parse_pem(&kept.chain, &kept.key).map_err(|e| {
            tracing::error!(error = %e, "ACME: the kept certificate cannot be used");
        })?;
        metrics::gauge!("ardoise_tls_certificate_expiry_timestamp_seconds").set(kept.not_after.unix_timestamp() as f64);
        if certs.leaf() == chain[0] {
            return Ok(());
        }
        certs.install(chain, key).map_err(|e| tracing::error!(error = %e, "ACME: certificate refused by rustls"))?;
        tracing::info!(names = %kept.names.join(", "), not_after = %kept.not_after, "ACME: certificate in service");
        Ok(())
    }

    /// Orders a certificate for the configured names, writes it and
    /// returns it.
    pub async fn obtain(&self) -> Result<Kept, AcmeError> {
        let account = self.account().await?;
        let identifiers: Vec<Identifier> = self
            .settings
            .names
            .iter()
            .map(|name| match name.parse::<IpAddr>() {
                Ok(ip) => Identifier::Ip(ip),
                Err(_) => Identifier::Dns(name.clone()),
            })
            .collect();
        tracing::info!(names = %self.settings.names.join(", "), directory = %self.settings.directory, "ACME: ordering a certificate");
        let mut order = account.new_order(&NewOrder::new(&identifiers)).await?;
        let mut answered = Answered::default();
        let done = self.complete(&mut order, &mut answered).await;
        self.challenges.forget(&answered.tokens);
        self.alpn.forget(&answered.sni);
        let (chain, key) = done?;
        let kept = read_certificate(chain, key).map_err(AcmeError::Certificate)?;
        net::parse_pem(&kept.chain, &kept.key).map_err(|e| AcmeError::Certificate(e.to_string()))?;
        // The key before the certificate: a crash between the two leaves a
        // pair that does not match (refused, ordered again), never a
        // certificate whose key is lost.
        let dir = &self.settings.dir;
        net::write_atomically(&dir.join(KEY_FILE), kept.key.as_bytes(), true).map_err(io_error(dir))?;
        net::write_atomically(&dir.join(CERT_FILE), kept.chain.as_bytes(), false).map_err(io_error(dir))?;
        Ok(kept)
    }

    /// Answers every pending authorization by the first of the methods
    /// that its server offers, then finalizes: the chain (PEM) and the key
    /// generated for it (PEM).
    async fn complete(&self, order: &mut Order, answered: &mut Answered) -> Result<(String, String), AcmeError> {
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let mut authorization = authorization?;
            match authorization.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                status => return Err(AcmeError::Refused(format!("authorization {status:?}"))),
            }
            let offered: Vec<ChallengeType> = authorization.challenges.iter().map(|c| c.r#type.clone()).collect();
            let method = choose(&self.settings.methods, &offered).ok_or_else(|| {
                let ours: Vec<&str> = self.settings.methods.iter().map(|m| m.name()).collect();
                AcmeError::Refused(format!("none of the challenges {} offered ({offered:?})", ours.join(", ")))
            })?;
            let mut challenge = authorization
                .challenge(method.kind())
                .ok_or_else(|| AcmeError::Refused(format!("no {} challenge offered", method.name())))?;
            let name = match &challenge.identifier().identifier {
                Identifier::Dns(name) => name.clone(),
                Identifier::Ip(ip) => ip.to_string(),
                other => return Err(AcmeError::Refused(format!("identifier {other:?}"))),
            };
            match method {
                Method::Http01 => {
                    self.challenges.put(challenge.token.clone(), challenge.key_authorization().as_str().to_owned());
                    answered.tokens.push(challenge.token.clone());
                }
                Method::TlsAlpn01 => {
                    let key_authorization = challenge.key_authorization();
                    let digest = key_authorization.digest();
                    let sni =
                        self.alpn.put(&name, digest.as_ref()).map_err(|e| AcmeError::Certificate(e.to_string()))?;
                    answered.sni.push(sni);
                }
            }
            tracing::info!(%name, challenge = method.name(), "ACME: challenge answered");
            challenge.set_ready().await?;
        }
        let retries = RetryPolicy::new().initial_delay(Duration::from_millis(300)).timeout(Duration::from_secs(120));
        match order.poll_ready(&retries).await? {
            OrderStatus::Ready => {}
            status => return Err(AcmeError::Refused(format!("order {status:?}"))),
        }
        let key = order.finalize().await?;
        let chain = order.poll_certificate(&retries).await?;
        Ok((chain, key))
    }

    /// The account: the one kept for this directory, or a new one (kept).
    async fn account(&self) -> Result<Account, AcmeError> {
        let path = self.settings.dir.join(ACCOUNT_FILE);
        let builder = || match &self.settings.root {
            Some(root) => Account::builder_with_root(root),
            None => Account::builder(),
        };
        if let Ok(text) = std::fs::read_to_string(&path) {
            let file: AccountFile = serde_json::from_str(&text).map_err(|e| AcmeError::AccountFile(path.clone(), e))?;
            if file.directory == self.settings.directory {
                return Ok(builder()?.from_credentials(file.credentials).await?);
            }
            tracing::info!(directory = %self.settings.directory, "ACME: another server than the kept account's: new account");
        }
        let contact: Vec<String> = self
            .settings
            .contact
            .iter()
            .map(|c| if c.contains(':') { c.clone() } else { format!("mailto:{c}") })
            .collect();
        let contact: Vec<&str> = contact.iter().map(String::as_str).collect();
        let new = NewAccount { contact: &contact, terms_of_service_agreed: true, only_return_existing: false };
        let (account, credentials) = builder()?.create(&new, self.settings.directory.clone(), None).await?;
        let file = AccountFile { directory: self.settings.directory.clone(), credentials };
        let json = serde_json::to_vec_pretty(&file).map_err(|e| AcmeError::AccountFile(path.clone(), e))?;
        net::write_atomically(&path, &json, true).map_err(io_error(&self.settings.dir))?;
        tracing::info!(id = %account.id(), "ACME: account created");
        Ok(account)
    }
}

fn io_error(dir: &Path) -> impl Fn(net::NetError) -> AcmeError + '_ {
    move |e| AcmeError::File { path: dir.to_path_buf(), source: std::io::Error::other(e.to_string()) }
}

/// The first of `methods` among the challenges `offered`.
fn choose(methods: &[Method], offered: &[ChallengeType]) -> Option<Method> {
    methods.iter().copied().find(|m| offered.contains(&m.kind()))
}

/// After `failures` failures in a row.
fn retry_after(failures: u32) -> Duration {
    FIRST_RETRY.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1))).min(LAST_RETRY)
}

/// Reads the leaf of a PEM chain: end of validity and names.
pub fn read_certificate(chain: String, key: String) -> Result<Kept, String> {
    let facts = net::certificate_facts(&chain)?;
    Ok(Kept { chain, key, not_after: facts.not_after, names: facts.names })
}

#[cfg(test)]
mod tests;
