//! The certificate every TLS listener presents, replaceable while they run.
//!
//! Every listener shares one rustls `ServerConfig` whose certificate comes
//! from a [`Certificates`] resolver: installing a new pair (an ACME renewal)
//! changes what the next handshake on every port presents, without a
//! restart and without touching connections already open.

use std::sync::{Arc, RwLock};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::NetError;

/// The current certificate chain and key of this process.
#[derive(Debug)]
pub struct Certificates {
    current: RwLock<Arc<CertifiedKey>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl Certificates {
    pub(crate) fn new(
        provider: Arc<rustls::crypto::CryptoProvider>,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Certificates, NetError> {
        let current = RwLock::new(Arc::new(certified(&provider, chain, key)?));
        Ok(Certificates { current, provider })
    }

    /// Certificates starting with a PEM chain and key (ring, as every
    /// listener).
    pub fn from_pem(chain: &str, key: &str) -> Result<Certificates, NetError> {
        let (chain, key) = parse_pem(chain, key)?;
        Certificates::new(Arc::new(rustls::crypto::ring::default_provider()), chain, key)
    }

    /// Presents `chain` (leaf first) with `key` from the next handshake on.
    /// A key that does not match the leaf is refused and the current pair
    /// stays.
    pub fn install(&self, chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<(), NetError> {
        let certified = Arc::new(certified(&self.provider, chain, key)?);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = certified;
        Ok(())
    }

    /// Presents the PEM chain and key from the next handshake on.
    pub fn install_pem(&self, chain: &str, key: &str) -> Result<(), NetError> {
        let (chain, key) = parse_pem(chain, key)?;
        self.install(chain, key)
    }

    /// The leaf certificate presented now.
    pub fn leaf(&self) -> CertificateDer<'static> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).cert[0].clone()
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

fn certified(
    provider: &rustls::crypto::CryptoProvider,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<CertifiedKey, NetError> {
    if chain.is_empty() {
        return Err(NetError::NoCertificate("(PEM)".into()));
    }
    let certified = CertifiedKey::from_der(chain, key, provider)?;
    Ok(certified)
}

/// Reads a PEM chain (leaf first) and a PEM private key held in memory.
pub fn parse_pem(chain: &str, key: &str) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), NetError> {
    let io = |source| NetError::Read { path: "(PEM)".into(), source };
    let certs = rustls_pemfile::certs(&mut chain.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(io)?;
    if certs.is_empty() {
        return Err(NetError::NoCertificate("(PEM)".into()));
    }
    let key = rustls_pemfile::private_key(&mut key.as_bytes())
        .map_err(io)?
        .ok_or_else(|| NetError::NoPrivateKey("(PEM)".into()))?;
    Ok((certs, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str) -> (String, String) {
        let made = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        (made.cert.pem(), made.signing_key.serialize_pem())
    }

    #[test]
    fn a_new_pair_is_presented_and_a_mismatched_one_refused() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (cert, key) = pair("a.ac-test.fr");
        let (chain, key_der) = parse_pem(&cert, &key).unwrap();
        let certs = Certificates::new(provider, chain.clone(), key_der).unwrap();
        assert_eq!(certs.leaf(), chain[0]);

        let (cert2, key2) = pair("b.ac-test.fr");
        certs.install_pem(&cert2, &key2).unwrap();
        let (chain2, _) = parse_pem(&cert2, &key2).unwrap();
        assert_eq!(certs.leaf(), chain2[0]);

        // A key that is not the certificate's: refused, the pair in place stays.
        let (cert3, _) = pair("c.ac-test.fr");
        assert!(certs.install_pem(&cert3, &key).is_err());
        assert_eq!(certs.leaf(), chain2[0]);
        assert!(matches!(certs.install_pem("garbage", &key), Err(NetError::NoCertificate(_))));
    }
}
