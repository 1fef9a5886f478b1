//! Applications registered by administrators. An OIDC client has an id,
//! a secret (shown once, kept as a hash) or none (a public client, which
//! must use PKCE), exact redirect URIs, allowed scopes, and two flags:
//! « application académique » (no consent page) and « 2FA exigée ». A CAS
//! service is a URL prefix and a name.

use subtle::ConstantTimeEq;

use crate::{Error, Sso, SsoClient, claims, random_token, token_hash, unix_now};

/// OIDC client or CAS service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Oidc,
    Cas,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Oidc => "oidc",
            ClientKind::Cas => "cas",
        }
    }
}

/// A client to register.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub public: bool,
    pub academie_app: bool,
    pub require_2fa: bool,
    /// Scopes besides `openid`; empty means profile, email and academie.
    pub scopes: Vec<String>,
}

/// Whether `uri` may be registered as a redirect URI: absolute, https (or
/// http on a loopback host, for tests and the demo), no fragment, no
/// user information.
pub fn valid_redirect_uri(uri: &str) -> bool {
    let rest = if let Some(r) = uri.strip_prefix("https://") {
        r
    } else if let Some(r) = uri.strip_prefix("http://") {
        let host = r.split(['/', '?']).next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return false;
        }
        r
    } else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    !authority.is_empty()
        && !authority.contains('@')
        && !uri.contains('#')
        && uri.chars().all(|c| c.is_ascii_graphic())
        && uri.len() <= 2000
}

/// Whether the redirect URI `asked` in an authorization request is the
/// registered one: the same string, except that a **public** client's
/// loopback IP redirect (`http://127.0.0.1:<port>/…` or `http://[::1]:<port>/…`)
/// matches on any port (RFC 8252 section 7.3: a native application such as
/// a mail client listens on whatever port the system gives it). Host, path
/// and query stay exact; `localhost` gets no such leeway (section 8.3).
pub fn redirect_matches(registered: &str, asked: &str, public: bool) -> bool {
    if registered == asked {
        return true;
    }
    if !public {
        return false;
    }
    let split = |uri: &str| -> Option<(&'static str, String)> {
        let rest = uri.strip_prefix("http://")?;
        let (host, after) = if let Some(r) = rest.strip_prefix("127.0.0.1") {
            ("127.0.0.1", r)
        } else if let Some(r) = rest.strip_prefix("[::1]") {
            ("[::1]", r)
        } else {
            return None;
        };
        let (port, path) = match after.strip_prefix(':') {
            Some(p) => {
                let end = p.find(['/', '?']).unwrap_or(p.len());
                (&p[..end], &p[end..])
            }
            None => ("", after),
        };
        if !(port.is_empty() || (port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()))) {
            return None;
        }
        if !(path.is_empty() || path.starts_with(['/', '?'])) {
            return None;
        }
        let path = if path.is_empty() { "/" } else { path };
        Some((host, path.to_owned()))
    };
    matches!((split(registered), split(asked)), (Some(r), Some(a)) if r == a)
}

impl Sso {
    /// Registers an OIDC client; returns it and its secret (to show once).
    pub async fn add_client(&self, new: NewClient) -> Result<(SsoClient, Option<String>), Error> {
        if new.name.trim().is_empty() {
            return Err(Error::Invalid("nom vide".into()));
        }
        if new.redirect_uris.is_empty() {
            return Err(Error::Invalid("au moins une URI de redirection".into()));
        }
        if let Some(bad) = new.redirect_uris.iter().find(|u| !valid_redirect_uri(u)) {
            return Err(Error::Invalid(format!("URI de redirection refusée : {bad}")));
        }
        let mut scopes = vec!["openid".to_owned()];
        let asked = if new.scopes.is_empty() {
            vec!["profile".to_owned(), "email".to_owned(), "academie".to_owned()]
        } else {
            new.scopes.clone()
        };
        for s in asked.iter().flat_map(|s| s.split([' ', ','])).filter(|s| !s.is_empty() && *s != "openid") {
            if !claims::SCOPES.contains(&s) {
                return Err(Error::Invalid(format!("portée inconnue : {s}")));
            }
            if !scopes.iter().any(|x| x == s) {
                scopes.push(s.to_owned());
            }
        }
        let secret = (!new.public).then(|| random_token(32));
        let client = SsoClient {
            id: format!("ardoise-{}", &random_token(12).to_lowercase().replace(['-', '_'], "x")),
            kind: ClientKind::Oidc.as_str().into(),
            name: new.name.trim().to_owned(),
            secret_hash: secret.as_deref().map(|s| token_hash("client", s)),
            redirect_uris: new.redirect_uris,
            scopes,
            academie_app: new.academie_app,
            require_2fa: new.require_2fa,
            created_at: unix_now(),
        };
        self.store.add_sso_client(&client).await?;
        tracing::info!(target: "sso", client = client.id, name = client.name, "OpenID Connect client registered");
        Ok((client, secret))
    }

    /// Registers a CAS service: tickets are given to service URLs starting
    /// with `prefix` (an https URL, or http on loopback).
    pub async fn add_cas_service(&self, prefix: &str, name: &str) -> Result<SsoClient, Error> {
        if !valid_redirect_uri(prefix) || prefix.contains('?') {
            return Err(Error::Invalid(format!("préfixe de service refusé : {prefix}")));
        }
        // A bare origin would match "https://ent.fr.evil.example": the
        // prefix must reach at least the first slash of the path.
        let after_scheme = prefix.split_once("://").map_or("", |(_, r)| r);
        if !after_scheme.contains('/') {
            return Err(Error::Invalid(format!("le préfixe doit finir par « / » après l'hôte : {prefix}/")));
        }
        let client = SsoClient {
            id: format!("cas-{}", &random_token(9).to_lowercase().replace(['-', '_'], "x")),
            kind: ClientKind::Cas.as_str().into(),
            name: name.trim().to_owned(),
            secret_hash: None,
            redirect_uris: vec![prefix.to_owned()],
            scopes: vec![],
            academie_app: true,
            require_2fa: false,
            created_at: unix_now(),
        };
        self.store.add_sso_client(&client).await?;
        tracing::info!(target: "sso", service = client.id, prefix, "CAS service registered");
        Ok(client)
    }

    pub async fn clients(&self, kind: ClientKind) -> Result<Vec<SsoClient>, Error> {
        Ok(self.store.sso_clients(kind.as_str()).await?)
    }

    pub async fn client(&self, id: &str) -> Result<Option<SsoClient>, Error> {
        Ok(self.store.sso_client(id).await?)
    }

    /// Removes a client or service with everything it was given.
    pub async fn remove_client(&self, id: &str) -> Result<bool, Error> {
        let done = self.store.remove_sso_client(id).await?;
        if done {
            tracing::info!(target: "sso", client = id, "client removed");
        }
        Ok(done)
    }

    /// The client that `id` and `secret` authenticate: a confidential
    /// client with its secret, a public one without any.
    pub async fn authenticate_client(&self, id: &str, secret: Option<&str>) -> Result<Option<SsoClient>, Error> {
        let Some(client) = self.store.sso_client(id).await?.filter(|c| c.kind == "oidc") else {
            return Ok(None);
        };
        let ok = match (&client.secret_hash, secret) {
            (Some(hash), Some(s)) => bool::from(hash.as_bytes().ct_eq(token_hash("client", s).as_bytes())),
            (None, None) => true,
            _ => false,
        };
        if !ok {
            tracing::warn!(target: "sso", client = id, "client authentication refused");
        }
        Ok(ok.then_some(client))
    }
}

/// The registered CAS service `service` falls under, if any.
pub fn cas_service_for<'a>(services: &'a [SsoClient], service: &str) -> Option<&'a SsoClient> {
    if !valid_redirect_uri(service) {
        return None;
    }
    services.iter().find(|s| s.redirect_uris.iter().any(|p| service.starts_with(p.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_clients_loopback_redirect_matches_on_any_port_and_nothing_else() {
        let reg = "http://127.0.0.1:8765/";
        assert!(redirect_matches(reg, "http://127.0.0.1:8765/", false));
        assert!(redirect_matches(reg, "http://127.0.0.1:51234/", true));
        assert!(redirect_matches(reg, "http://127.0.0.1/", true), "the default port is a port too");
        assert!(redirect_matches("http://[::1]:1/cb?x=1", "http://[::1]:65000/cb?x=1", true));
        // A confidential client's URI is exact.
        assert!(!redirect_matches(reg, "http://127.0.0.1:51234/", false));
        // Anything but the port differs: refused.
        for asked in [
            "http://127.0.0.1:51234/autre",
            "http://127.0.0.1:51234/#x",
            "http://127.0.0.2:8765/",
            "http://[::1]:8765/",
            "http://localhost:8765/",
            "https://127.0.0.1:8765/",
            "http://127.0.0.1:8765@evil.fr/",
            "http://127.0.0.1.evil.fr:8765/",
            "http://127.0.0.1:99999999/",
            "http://127.0.0.1:80x/",
        ] {
            assert!(!redirect_matches(reg, asked, true), "{asked}");
        }
        assert!(!redirect_matches("http://localhost:8765/", "http://localhost:9999/", true));
        assert!(!redirect_matches("https://ent.ac-demo.fr/cb", "https://ent.ac-demo.fr:444/cb", true));
    }

    #[test]
    fn redirect_uris_must_be_https_or_loopback_without_fragment_or_user() {
        assert!(valid_redirect_uri("https://ent.ac-demo.fr/oidc/retour"));
        assert!(valid_redirect_uri("http://127.0.0.1:8000/cb"));
        assert!(!valid_redirect_uri("http://ent.ac-demo.fr/cb"));
        assert!(!valid_redirect_uri("https://ent.ac-demo.fr/cb#x"));
        assert!(!valid_redirect_uri("https://moi@ent.ac-demo.fr/cb"));
        assert!(!valid_redirect_uri("javascript:alert(1)"));
        assert!(!valid_redirect_uri("https:///cb"));
        assert!(!valid_redirect_uri("http://127.0.0.1.evil.fr/cb"));
    }

    #[test]
    fn a_cas_service_matches_by_its_prefix_only() {
        let s = SsoClient {
            id: "cas-1".into(),
            kind: "cas".into(),
            name: "ENT".into(),
            secret_hash: None,
            redirect_uris: vec!["https://ent.ac-demo.fr/".into()],
            scopes: vec![],
            academie_app: true,
            require_2fa: false,
            created_at: 0,
        };
        let all = [s];
        assert!(cas_service_for(&all, "https://ent.ac-demo.fr/cas/retour?x=1").is_some());
        assert!(cas_service_for(&all, "https://ent.ac-demo.fr.evil.example/").is_none());
        assert!(cas_service_for(&all, "http://ent.ac-demo.fr/").is_none());
        assert!(cas_service_for(&all, "https://moi@ent.ac-demo.fr/").is_none());
    }
}
