//! TLS-ALPN-01 (RFC 8737): the ACME server proves that a name is ours by
//! opening TLS to it on port 443 with the single ALPN protocol `acme-tls/1`;
//! the answer is a self-signed certificate for that name alone carrying the
//! critical acmeIdentifier extension (the SHA-256 of the key authorization).
//!
//! [`AlpnChallenges`] holds those certificates while an order waits for
//! them; [`with_tls_alpn`] gives the web's HTTPS listeners a configuration
//! whose resolver answers such a ClientHello from them and every other
//! handshake as before (the certificate in service). The listener must then
//! close the connection without speaking HTTP ([`is_acme_tls`]).

use std::collections::HashMap;
use std::fmt::Write;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::NetError;

/// The ALPN protocol of RFC 8737 section 6.2.
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";
/// What the web's HTTPS listeners negotiate for every other client (they
/// speak HTTP/1.1 only).
const HTTP_1_1: &[u8] = b"http/1.1";

/// The validation certificates an order is waiting to have fetched, by the
/// name the ACME server sends as SNI (lower-case).
#[derive(Debug, Default)]
pub struct AlpnChallenges(RwLock<HashMap<String, Arc<CertifiedKey>>>);

impl AlpnChallenges {
    /// Answers TLS-ALPN-01 for `name` (a DNS name or an IP address) with a
    /// certificate carrying `digest`, the SHA-256 of the key authorization.
    /// Returns the SNI name it is presented for (RFC 8738 section 6: an IP
    /// address's reverse name).
    pub fn put(&self, name: &str, digest: &[u8]) -> Result<String, NetError> {
        let certified = Arc::new(validation_certificate(name, digest)?);
        let sni = sni_name(name);
        self.0.write().unwrap_or_else(|p| p.into_inner()).insert(sni.clone(), certified);
        Ok(sni)
    }

    /// Stops answering for these SNI names.
    pub fn forget(&self, names: &[String]) {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        for name in names {
            map.remove(name);
        }
    }

    fn get(&self, sni: &str) -> Option<Arc<CertifiedKey>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).get(&sni.to_ascii_lowercase()).cloned()
    }
}

/// Whether a ClientHello is a TLS-ALPN-01 validation: its ALPN is exactly
/// `acme-tls/1`.
fn asks_validation(hello: &ClientHello<'_>) -> bool {
    hello.alpn().is_some_and(|mut protocols| protocols.next() == Some(ACME_TLS_ALPN) && protocols.next().is_none())
}

/// Whether a finished handshake negotiated `acme-tls/1`: the connection is
/// then closed at once (RFC 8737 section 3: no application data).
pub fn is_acme_tls(negotiated: Option<&[u8]>) -> bool {
    negotiated == Some(ACME_TLS_ALPN)
}

/// The resolver of the web's HTTPS listeners: a validation certificate for
/// an `acme-tls/1` ClientHello (none, so the handshake fails, when no order
/// waits for its name), the usual resolver's answer otherwise.
#[derive(Debug)]
struct AlpnResolver {
    usual: Arc<dyn ResolvesServerCert>,
    challenges: Arc<AlpnChallenges>,
}

impl ResolvesServerCert for AlpnResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if asks_validation(&hello) {
            let answer = hello.server_name().and_then(|sni| self.challenges.get(sni));
            if answer.is_none() {
                tracing::debug!(sni = ?hello.server_name(), "acme-tls/1 handshake for a name no order waits for");
            }
            return answer;
        }
        self.usual.resolve(hello)
    }
}

/// `config` (the one every TLS port shares) for the web's HTTPS listeners
/// when TLS-ALPN-01 is on: the same, with `challenges` answered and ALPN
/// negotiating `http/1.1` (for any client offering it) or `acme-tls/1`.
pub fn with_tls_alpn(config: &ServerConfig, challenges: Arc<AlpnChallenges>) -> Arc<ServerConfig> {
    let mut config = config.clone();
    config.cert_resolver = Arc::new(AlpnResolver { usual: config.cert_resolver.clone(), challenges });
    config.alpn_protocols = vec![HTTP_1_1.to_vec(), ACME_TLS_ALPN.to_vec()];
    Arc::new(config)
}

/// The name a validation for `name` arrives with: itself (lower-case), or
/// for an IP address its `in-addr.arpa` / `ip6.arpa` name.
fn sni_name(name: &str) -> String {
    match name.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        Ok(IpAddr::V6(v6)) => {
            let mut out = String::new();
            for byte in v6.octets().iter().rev() {
                let _ = write!(out, "{:x}.{:x}.", byte & 0xf, byte >> 4);
            }
            out + "ip6.arpa"
        }
        Err(_) => name.to_ascii_lowercase(),
    }
}

/// RFC 8737 section 3: self-signed, `name` as its only subjectAltName, the
/// critical acmeIdentifier extension holding the digest as an OCTET STRING.
fn validation_certificate(name: &str, digest: &[u8]) -> Result<CertifiedKey, NetError> {
    if digest.len() != 32 {
        return Err(NetError::Digest(digest.len()));
    }
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned()])?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    // Not `CertifiedKey::from_der`: its check that the key fits parses the
    // certificate with webpki, which refuses the critical extension.
    let key = rustls::crypto::ring::default_provider().key_provider.load_private_key(key)?;
    Ok(CertifiedKey::new(vec![cert.der().clone()], key))
}

#[cfg(test)]
mod tests;
