//! Upstream identity providers (issue 27, item 2): an académie delegates the
//! web login to its own OpenID Connect provider or CAS server. This module
//! speaks to that provider; the web keeps the browser's side (the pending
//! login in a signed cookie, the pages) and the identity service decides
//! what the named account may do (states, journal).
//!
//! OpenID Connect: authorization code flow with PKCE (S256), `state` and
//! `nonce` ([`Sso::upstream_begin`]); the code is exchanged with the client
//! secret (HTTP Basic, or in the form when the provider only takes that),
//! and the ID token is checked by [`verify`] against the provider's JWKS
//! (found by discovery, kept five minutes, fetched again once for an
//! unknown `kid`). The claim that names the account is read from the ID
//! token, else from userinfo (whose `sub` must be the token's). CAS: the
//! browser goes to `<server>/login?service=…`, the ticket is validated on
//! `<server>/p3/serviceValidate` with the same service URL, which carries
//! the pending login's `state` so that a ticket is only taken from the
//! browser that asked for it.
//!
//! Providers are kept in the store (`ardoise admin upstream`); a client
//! secret is read from its file at each use and never logged.

pub mod cas;
pub(crate) mod http;
pub mod verify;

#[cfg(test)]
mod verify_tests;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
pub use store::UpstreamProvider;

use crate::{Error, Sso, pkce, random_token, unix_now};

/// How long a pending login waits for the provider's answer.
pub const PENDING_SECS: i64 = 600;
/// How long a discovery document and key set are kept.
const CACHE_FOR: Duration = Duration::from_secs(300);

/// What can go wrong on the way to and back from the provider.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The provider could not be reached, or answered something unusable:
    /// temporary, try again.
    #[error("fournisseur injoignable : {0}")]
    Unreachable(String),
    /// A configuration or an address that cannot work.
    #[error("configuration : {0}")]
    Invalid(String),
    /// The provider's answer was refused (a journal word: `id-token-nonce`,
    /// `cas-INVALID_TICKET`, `token-refused`…).
    #[error("réponse refusée : {0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl UpstreamError {
    /// The journal's word (no value of any token in it).
    pub fn journal_word(&self) -> String {
        match self {
            UpstreamError::Unreachable(_) | UpstreamError::Store(_) => "upstream-unavailable".into(),
            UpstreamError::Invalid(_) => "upstream-config".into(),
            UpstreamError::Refused(why) => format!("upstream-{why}"),
        }
    }
}

/// The two kinds of provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Oidc,
    Cas,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Oidc => "oidc",
            Kind::Cas => "cas",
        }
    }
}

/// A provider to add (the CLI).
pub struct NewUpstream {
    pub id: String,
    pub kind: Kind,
    pub label: String,
    pub url: String,
    pub client_id: String,
    pub secret: Option<String>,
    pub secret_file: Option<String>,
    pub scopes: Vec<String>,
    pub claim: String,
}

/// A login sent to the provider and not yet back: what the browser keeps
/// (the web signs it into a cookie) and what the answer is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub provider: String,
    pub state: String,
    /// OIDC only: the nonce and the PKCE verifier.
    #[serde(default)]
    pub nonce: String,
    #[serde(default)]
    pub verifier: String,
    pub expires_at: i64,
}

/// Where to send the browser, and what to remember.
pub struct Begun {
    pub url: String,
    pub pending: Pending,
}

/// What the provider said of the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asserted {
    /// The value of the configured claim: an address, alias or login here.
    pub value: String,
    /// The provider's subject (`sub`, or the CAS user), for the log.
    pub subject: String,
    pub acr: Option<String>,
    pub amr: Vec<String>,
}

impl Asserted {
    /// Whether the provider says a second factor was used: `mfa` in `amr`
    /// (RFC 8176), a one-time code or hardware key beside something else,
    /// or an `acr` that says so (ours: `urn:ardoise:acr:2fa`; `…mfa…`).
    /// Without `amr` or `acr`, « mfa inconnue »: treated as one factor.
    pub fn multi_factor(&self) -> bool {
        let has = |w: &str| self.amr.iter().any(|a| a == w);
        let strong = ["otp", "hwk", "swk", "sms", "sc"].iter().any(|w| has(w));
        has("mfa")
            || (strong && self.amr.len() > 1)
            || self.acr.as_deref().is_some_and(|a| a == crate::oidc::ACR_SECOND_FACTOR || a.contains("mfa"))
    }
}

/// A provider's discovery document, as far as we use it.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// A discovery document when fetched, with the key set once fetched.
type Cached = (Instant, Discovery, Option<Value>);

/// Discovery documents and key sets, by issuer.
#[derive(Default)]
pub(crate) struct Cache {
    entries: Mutex<HashMap<String, Cached>>,
}

impl Sso {
    fn http(&self) -> Result<&http::Client, UpstreamError> {
        if let Some(c) = self.http.get() {
            return Ok(c);
        }
        let c = http::Client::new()?;
        Ok(self.http.get_or_init(|| c))
    }

    /// Every upstream provider, by label.
    pub async fn upstream_providers(&self) -> Result<Vec<UpstreamProvider>, Error> {
        Ok(self.store.upstream_providers().await?)
    }

    pub async fn upstream_provider(&self, id: &str) -> Result<Option<UpstreamProvider>, Error> {
        Ok(self.store.upstream_provider(id).await?)
    }

    /// Adds a provider after checking what can be checked offline (an
    /// OIDC provider's discovery is fetched at the first login).
    pub async fn add_upstream(&self, new: NewUpstream) -> Result<UpstreamProvider, Error> {
        let invalid = |s: &str| Err(Error::Invalid(s.to_owned()));
        if new.id.is_empty()
            || new.id.len() > 32
            || !new.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return invalid("identifiant : 1 à 32 caractères a-z, 0-9, « - »");
        }
        if new.label.trim().is_empty() || new.label.chars().count() > 60 {
            return invalid("libellé : 1 à 60 caractères");
        }
        if new.claim.trim().is_empty() || new.claim.chars().any(char::is_whitespace) {
            return invalid("attribut d'appariement (--claim) vide ou avec des espaces");
        }
        let url = new.url.trim_end_matches('/').to_owned();
        http::checked(&url).map_err(|e| Error::Invalid(e.to_string()))?;
        if new.kind == Kind::Oidc {
            if new.client_id.is_empty() {
                return invalid("--client-id est requis pour OpenID Connect");
            }
            if new.secret.is_some() == new.secret_file.is_some() {
                return invalid("donner le secret du client par --client-secret-file (ou --client-secret-stdin)");
            }
            if let Some(path) = &new.secret_file {
                read_secret_file(path).map_err(|e| Error::Invalid(e.to_string()))?;
            }
        }
        let mut scopes = vec!["openid".to_owned()];
        for s in new.scopes.iter().flat_map(|s| s.split([' ', ','])).filter(|s| !s.is_empty()) {
            if !scopes.iter().any(|x| x == s) {
                scopes.push(s.to_owned());
            }
        }
        let p = UpstreamProvider {
            id: new.id,
            kind: new.kind.as_str().into(),
            label: new.label.trim().to_owned(),
            url,
            client_id: new.client_id,
            secret: new.secret,
            secret_file: new.secret_file,
            scopes: if new.kind == Kind::Oidc { scopes } else { vec![] },
            claim: new.claim,
            created_at: unix_now(),
        };
        self.store.add_upstream_provider(&p).await?;
        tracing::info!(target: "sso", provider = p.id, kind = p.kind, url = p.url, "upstream provider added");
        Ok(p)
    }

    pub async fn remove_upstream(&self, id: &str) -> Result<bool, Error> {
        Ok(self.store.remove_upstream_provider(id).await?)
    }

    /// Starts a login through `p`; `return_to` is our callback
    /// (`<public url>/connexion/externe/<id>/retour`).
    pub async fn upstream_begin(&self, p: &UpstreamProvider, return_to: &str) -> Result<Begun, UpstreamError> {
        let pending = Pending {
            provider: p.id.clone(),
            state: random_token(24),
            nonce: random_token(24),
            verifier: random_token(48),
            expires_at: unix_now() + PENDING_SECS,
        };
        let url = if p.kind == Kind::Cas.as_str() {
            let service = cas_service(return_to, &pending.state);
            format!("{}/login?service={}", p.url, http::form_encode_one(&service))
        } else {
            let d = self.upstream_discovery(p, false).await?.0;
            let scope = p.scopes.join(" ");
            let query = http::form_encode(&[
                ("response_type", "code"),
                ("client_id", &p.client_id),
                ("redirect_uri", return_to),
                ("scope", &scope),
                ("state", &pending.state),
                ("nonce", &pending.nonce),
                ("code_challenge", &pkce::challenge_of(&pending.verifier)),
                ("code_challenge_method", "S256"),
            ]);
            let sep = if d.authorization_endpoint.contains('?') { '&' } else { '?' };
            format!("{}{sep}{query}", d.authorization_endpoint)
        };
        Ok(Begun { url, pending })
    }

    /// Ends an OpenID Connect login: `code` exchanged, the ID token checked.
    pub async fn upstream_finish_oidc(
        &self,
        p: &UpstreamProvider,
        pending: &Pending,
        code: &str,
        return_to: &str,
    ) -> Result<Asserted, UpstreamError> {
        let (d, _) = self.upstream_discovery(p, false).await?;
        let secret = secret_of(p)?;
        let basic = d.token_endpoint_auth_methods_supported.as_ref().is_none_or(|m| {
            m.iter().any(|x| x == "client_secret_basic") || !m.iter().any(|x| x == "client_secret_post")
        });
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", return_to),
            ("code_verifier", pending.verifier.as_str()),
        ];
        if !basic {
            form.push(("client_id", &p.client_id));
            form.push(("client_secret", &secret));
        }
        let auth = basic.then_some((p.client_id.as_str(), secret.as_str()));
        let answer = self.http()?.post_form(&d.token_endpoint, &form, auth).await?;
        let tokens: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        if !answer.status.is_success() {
            let error = tokens.get("error").and_then(Value::as_str).unwrap_or("http");
            let word: String = error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
            return Err(UpstreamError::Refused(format!("token-{word}")));
        }
        let id_token =
            tokens.get("id_token").and_then(Value::as_str).ok_or(UpstreamError::Refused("no-id-token".into()))?;
        let expect =
            verify::Expect { issuer: &d.issuer, client_id: &p.client_id, nonce: &pending.nonce, now: unix_now() };
        let mut jwks = self.upstream_jwks(p, &d, false).await?;
        if verify::names_unknown_key(id_token, &jwks) {
            jwks = self.upstream_jwks(p, &d, true).await?;
        }
        let claims =
            verify::id_token(id_token, &jwks, &expect).map_err(|r| UpstreamError::Refused(r.as_str().into()))?;
        let subject = claims.get("sub").and_then(Value::as_str).unwrap_or("").to_owned();
        let mut value = claim_text(&claims, &p.claim);
        if value.is_none()
            && let (Some(endpoint), Some(access)) =
                (&d.userinfo_endpoint, tokens.get("access_token").and_then(Value::as_str))
        {
            let answer = self.http()?.get(endpoint, Some(access)).await?;
            let info: Map<String, Value> = serde_json::from_slice(&answer.body).unwrap_or_default();
            if answer.status.is_success() && info.get("sub").and_then(Value::as_str) == Some(subject.as_str()) {
                value = claim_text(&info, &p.claim);
            }
        }
        let value = value.ok_or(UpstreamError::Refused("claim-missing".into()))?;
        let amr = match claims.get("amr") {
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => vec![],
        };
        let acr = claims.get("acr").and_then(Value::as_str).map(str::to_owned);
        Ok(Asserted { value, subject, acr, amr })
    }

    /// Ends a CAS login: the ticket validated for the same service URL.
    pub async fn upstream_finish_cas(
        &self,
        p: &UpstreamProvider,
        pending: &Pending,
        ticket: &str,
        return_to: &str,
    ) -> Result<Asserted, UpstreamError> {
        let service = cas_service(return_to, &pending.state);
        let url =
            format!("{}/p3/serviceValidate?{}", p.url, http::form_encode(&[("service", &service), ("ticket", ticket)]));
        let answer = self.http()?.get(&url, None).await?;
        let text = String::from_utf8_lossy(&answer.body);
        let validation = cas::parse(&text).ok_or_else(|| UpstreamError::Unreachable("réponse CAS illisible".into()))?;
        if let cas::Validation::Failure(code) = &validation {
            let word: String = code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
            return Err(UpstreamError::Refused(format!("cas-{word}")));
        }
        let value = validation.value(&p.claim).ok_or(UpstreamError::Refused("claim-missing".into()))?.to_owned();
        let subject = validation.value("user").unwrap_or("").to_owned();
        Ok(Asserted { value, subject, acr: None, amr: vec![] })
    }

    /// The provider's discovery document (and the key set when cached).
    async fn upstream_discovery(
        &self,
        p: &UpstreamProvider,
        fresh: bool,
    ) -> Result<(Discovery, Option<Value>), UpstreamError> {
        if !fresh
            && let Some((at, d, jwks)) = self.upstream_cache.entries.lock().expect("cache").get(&p.url).cloned()
            && at.elapsed() < CACHE_FOR
        {
            return Ok((d, jwks));
        }
        let url = format!("{}/.well-known/openid-configuration", p.url);
        let answer = self.http()?.get(&url, None).await?;
        if !answer.status.is_success() {
            return Err(UpstreamError::Unreachable(format!("découverte : HTTP {}", answer.status.as_u16())));
        }
        let d: Discovery = serde_json::from_slice(&answer.body)
            .map_err(|e| UpstreamError::Unreachable(format!("document de découverte : {e}")))?;
        // OpenID Connect Discovery 1.0, section 4.3: the issuer is exactly the one configured.
        if d.issuer.trim_end_matches('/') != p.url {
            return Err(UpstreamError::Invalid(format!("l'émetteur annoncé ({}) n'est pas {}", d.issuer, p.url)));
        }
        for endpoint in [&d.authorization_endpoint, &d.token_endpoint, &d.jwks_uri] {
            http::checked(endpoint)?;
        }
        self.upstream_cache.entries.lock().expect("cache").insert(p.url.clone(), (Instant::now(), d.clone(), None));
        Ok((d, None))
    }

    async fn upstream_jwks(&self, p: &UpstreamProvider, d: &Discovery, fresh: bool) -> Result<Value, UpstreamError> {
        if !fresh && let Ok((_, Some(jwks))) = self.upstream_discovery(p, false).await {
            return Ok(jwks);
        }
        let answer = self.http()?.get(&d.jwks_uri, None).await?;
        let jwks: Value = serde_json::from_slice(&answer.body)
            .ok()
            .filter(|_| answer.status.is_success())
            .ok_or_else(|| UpstreamError::Unreachable("jeu de clés (JWKS) illisible".into()))?;
        if let Some(entry) = self.upstream_cache.entries.lock().expect("cache").get_mut(&p.url) {
            entry.2 = Some(jwks.clone());
        }
        Ok(jwks)
    }
}

/// The CAS service URL: our callback with the pending login's state.
fn cas_service(return_to: &str, state: &str) -> String {
    format!("{return_to}?etat={state}")
}

fn claim_text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn read_secret_file(path: &str) -> std::io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    let secret = text.trim().to_owned();
    if secret.is_empty() {
        return Err(std::io::Error::other(format!("{path} est vide")));
    }
    Ok(secret)
}

/// The client secret, from its file when it has one.
fn secret_of(p: &UpstreamProvider) -> Result<String, UpstreamError> {
    match (&p.secret_file, &p.secret) {
        (Some(path), _) => {
            read_secret_file(path).map_err(|e| UpstreamError::Invalid(format!("secret du client ({path}) : {e}")))
        }
        (None, Some(s)) => Ok(s.clone()),
        (None, None) => Err(UpstreamError::Invalid("pas de secret de client".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asserted(acr: Option<&str>, amr: &[&str]) -> Asserted {
        Asserted {
            value: "x".into(),
            subject: "s".into(),
            acr: acr.map(str::to_owned),
            amr: amr.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    #[test]
    fn multi_factor_only_when_the_provider_says_so() {
        assert!(!asserted(None, &[]).multi_factor(), "mfa unknown is one factor");
        assert!(!asserted(None, &["pwd"]).multi_factor());
        assert!(!asserted(Some(crate::oidc::ACR_PASSWORD), &["pwd"]).multi_factor());
        assert!(asserted(None, &["pwd", "otp", "mfa"]).multi_factor());
        assert!(asserted(None, &["pwd", "hwk"]).multi_factor());
        assert!(!asserted(None, &["otp"]).multi_factor(), "one factor, even a code");
        assert!(asserted(Some(crate::oidc::ACR_SECOND_FACTOR), &[]).multi_factor());
    }

    #[test]
    fn the_cas_service_carries_the_state() {
        assert_eq!(
            cas_service("https://a.fr/connexion/externe/x/retour", "abc"),
            "https://a.fr/connexion/externe/x/retour?etat=abc"
        );
    }
}
