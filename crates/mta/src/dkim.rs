//! DKIM signing keys, one per local domain, and the signing of outgoing mail.
//!
//! On first start each domain gets an RSA 2048 key (rsa-sha256 is what every
//! receiver verifies), stored as PKCS#1 DER in `<data_dir>/dkim/<domain>.key`
//! with owner-only permissions; later starts load it. Signatures use
//! relaxed/relaxed canonicalisation over the headers that identify a message.
//! The DNS record to publish is `<selector>._domainkey.<domain> TXT
//! "v=DKIM1; k=rsa; p=<public key>"`, printed by `ardoise dkim show`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::generate::DkimKeyPair;
use mail_auth::dkim::{Canonicalization, DkimSigner, Done};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};

use crate::Error;

/// Headers covered by the signature (those absent from a message are skipped).
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// One domain's key.
struct DomainKey {
    signer: DkimSigner<RsaKey<Sha256>, Done>,
    public_spki: Vec<u8>,
}

/// The signing keys of every local domain.
#[derive(Default)]
pub struct DkimKeys {
    selector: String,
    keys: HashMap<String, DomainKey>,
}

impl DkimKeys {
    /// Loads the key of each domain from `dir`, generating the missing ones.
    pub fn load_or_create(dir: &Path, selector: &str, domains: &[String]) -> Result<DkimKeys, Error> {
        std::fs::create_dir_all(dir)?;
        let mut keys = HashMap::new();
        for domain in domains {
            let domain = domain.to_ascii_lowercase();
            let path = key_path(dir, &domain);
            let der = match std::fs::read(&path) {
                Ok(der) => der,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::info!(%domain, "generating the DKIM key (RSA 2048)");
                    let pair = DkimKeyPair::generate_rsa(2048).map_err(|e| Error::Dkim(e.to_string()))?;
                    write_private(&path, pair.private_key())?;
                    pair.private_key().to_vec()
                }
                Err(e) => return Err(e.into()),
            };
            keys.insert(domain.clone(), domain_key(&domain, selector, &der)?);
        }
        Ok(DkimKeys { selector: selector.to_owned(), keys })
    }

    /// The selector used in signatures and DNS names.
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// The DNS TXT record value for `domain`, if it has a key.
    pub fn txt_record(&self, domain: &str) -> Option<String> {
        let key = self.keys.get(&domain.to_ascii_lowercase())?;
        Some(format!("v=DKIM1; k=rsa; p={}", base64_encode(&key.public_spki)))
    }

    /// The domains that have a key, sorted.
    pub fn domains(&self) -> Vec<String> {
        let mut d: Vec<String> = self.keys.keys().cloned().collect();
        d.sort();
        d
    }

    /// Prepends a `DKIM-Signature:` header for `domain` (the From domain) to
    /// `message`. A domain without a key leaves the message unsigned.
    pub fn sign(&self, domain: &str, message: Vec<u8>) -> Vec<u8> {
        let Some(key) = self.keys.get(&domain.to_ascii_lowercase()) else {
            return message;
        };
        match key.signer.sign(&message) {
            Ok(signature) => {
                let header = signature.to_header();
                let mut out = Vec::with_capacity(header.len() + message.len());
                out.extend_from_slice(header.as_bytes());
                out.extend_from_slice(&message);
                out
            }
            Err(error) => {
                tracing::warn!(%domain, %error, "DKIM signing failed, sending unsigned");
                message
            }
        }
    }
}

fn key_path(dir: &Path, domain: &str) -> PathBuf {
    dir.join(format!("{domain}.key"))
}

fn domain_key(domain: &str, selector: &str, der: &[u8]) -> Result<DomainKey, Error> {
    let key = RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der.to_vec())))
        .map_err(|e| Error::Dkim(format!("{domain}: {e}")))?;
    let public_spki = spki_of_pkcs1(&key.public_key());
    let signer = DkimSigner::from_key(key)
        .domain(domain)
        .selector(selector)
        .headers(SIGNED_HEADERS.iter().copied())
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed);
    Ok(DomainKey { signer, public_spki })
}

/// Writes a private key readable by its owner only, durably.
fn write_private(path: &Path, der: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    let tmp = path.with_extension("key.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(der)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Wraps a PKCS#1 RSAPublicKey in a SubjectPublicKeyInfo, the form DKIM
/// records carry (`p=`).
fn spki_of_pkcs1(pkcs1: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier: SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }
    const ALGORITHM: &[u8] =
        &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let mut bits = vec![0x00];
    bits.extend_from_slice(pkcs1);
    let mut body = ALGORITHM.to_vec();
    body.extend(der_tlv(0x03, &bits));
    der_tlv(0x30, &body)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dnstable::DnsTable;

    const MESSAGE: &[u8] = b"From: Claire Martin <claire.martin@ac-demo.fr>\r\nTo: parent@exemple.fr\r\n\
        Subject: Sortie au musee\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@ac-demo.fr>\r\n\r\n\
        Bonjour,\r\nLa sortie a lieu jeudi.\r\n";

    #[tokio::test]
    async fn keys_persist_and_signatures_verify() {
        let dir = tempfile::tempdir().unwrap();
        let keys = DkimKeys::load_or_create(dir.path(), "ardoise", &["ac-demo.fr".into()]).unwrap();
        let record = keys.txt_record("ac-demo.fr").unwrap();
        assert!(record.starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"), "{record}");
        let again = DkimKeys::load_or_create(dir.path(), "ardoise", &["ac-demo.fr".into()]).unwrap();
        assert_eq!(again.txt_record("ac-demo.fr"), Some(record.clone()), "the key is reused");

        let signed = keys.sign("ac-demo.fr", MESSAGE.to_vec());
        let text = String::from_utf8_lossy(&signed);
        assert!(
            text.starts_with("DKIM-Signature: v=1; a=rsa-sha256; s=ardoise; d=ac-demo.fr; c=relaxed/relaxed;"),
            "{text}"
        );

        let mut table = DnsTable::default();
        table.add_txt("ardoise._domainkey.ac-demo.fr", &record);
        let verdict = table.verify_dkim_only(&signed).await;
        assert_eq!(verdict, "pass");
        // Any change to the body breaks the signature.
        let mut tampered = signed.clone();
        let at = tampered.len() - 4;
        tampered[at] = b'X';
        let verdict = table.verify_dkim_only(&tampered).await;
        assert!(verdict == "fail" || verdict == "neutral", "{verdict}");
        assert!(keys.sign("autre.fr", MESSAGE.to_vec()) == MESSAGE, "no key, no signature");
    }

    #[test]
    fn der_lengths() {
        assert_eq!(der_tlv(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        assert_eq!(&der_tlv(0x04, &[0; 300])[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
