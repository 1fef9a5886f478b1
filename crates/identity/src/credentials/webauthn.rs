//! The checks of WebAuthn Level 2 ceremonies, without I/O: what a browser
//! sends back from `navigator.credentials.create()` (registration) and
//! `.get()` (authentication) is read and checked here, and the service
//! ([`super::passkey`]) adds what needs the store (the challenge, claimed
//! once; the stored key and counter; the account's state).
//!
//! Why our own checks rather than `webauthn-rs`: that crate verifies with
//! OpenSSL, which the README's demo must build without. The parts are few
//! and specified (§7.1 and §7.2 of the recommendation): the client data
//! (type, challenge, origin), the authenticator data (RP ID hash, flags,
//! counter, attested credential), the COSE public key (ES256, EdDSA, RS256)
//! and the signature over `authenticatorData || SHA-256(clientDataJSON)`.
//! CBOR is read by `ciborium`, signatures are checked by `ring`. Attestation
//! statements are not verified: we ask for none (`attestation: "none"`), as
//! a passkey's provenance is not our policy.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// User present.
pub const FLAG_UP: u8 = 0x01;
/// User verified (PIN, biometrics).
pub const FLAG_UV: u8 = 0x04;
/// Attested credential data included.
pub const FLAG_AT: u8 = 0x40;
/// Extension data included.
pub const FLAG_ED: u8 = 0x80;

/// Longest credential id accepted (the recommendation's bound).
pub const MAX_CREDENTIAL_ID: usize = 1023;

/// COSE algorithms we verify, as offered to the browser (`pubKeyCredParams`):
/// ES256, EdDSA, RS256.
pub const ALGORITHMS: [i64; 3] = [-7, -8, -257];

/// Why a ceremony's data was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Not the structure the recommendation describes.
    Malformed,
    /// `webauthn.get` sent to registration, or the reverse.
    WrongType,
    /// The page that ran the ceremony is not ours (or it was framed).
    WrongOrigin,
    /// The credential is scoped to another relying party.
    WrongRelyingParty,
    /// The authenticator did not see the user (UP flag).
    NoUserPresence,
    /// The authenticator did not verify the user (UV flag) where required.
    NoUserVerification,
    /// A key type or algorithm we do not verify.
    UnsupportedKey,
    /// The signature does not verify with the stored key.
    BadSignature,
    /// The signature counter did not move forward: a cloned authenticator.
    CounterRegressed,
}

/// `base64url` without padding, as WebAuthn's JSON uses it.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads `base64url`, with or without padding.
pub fn from_b64url(text: &str) -> Result<Vec<u8>, Check> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).map_err(|_| Check::Malformed)
}

/// The two ceremonies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    Create,
    Get,
}

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: Option<bool>,
}

/// Checks `clientDataJSON` (§7.1 steps 7-10, §7.2 steps 11-14): its type,
/// and that it comes from `origin`, not from a frame of another site.
/// Returns the challenge it signed (to be claimed by the caller).
pub fn client_data(json: &[u8], ceremony: Ceremony, origin: &str) -> Result<Vec<u8>, Check> {
    let c: ClientData = serde_json::from_slice(json).map_err(|_| Check::Malformed)?;
    let expected = match ceremony {
        Ceremony::Create => "webauthn.create",
        Ceremony::Get => "webauthn.get",
    };
    if c.kind != expected {
        return Err(Check::WrongType);
    }
    if c.origin != origin || c.cross_origin == Some(true) {
        return Err(Check::WrongOrigin);
    }
    let challenge = from_b64url(&c.challenge)?;
    if challenge.is_empty() || challenge.len() > 64 {
        return Err(Check::Malformed);
    }
    Ok(challenge)
}

/// A credential created by the authenticator (registration only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested {
    pub credential_id: Vec<u8>,
    /// The COSE_Key, as the authenticator encoded it.
    pub public_key: Vec<u8>,
}

/// The authenticator data (§6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthData {
    pub rp_id_hash: [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    pub attested: Option<Attested>,
}

impl AuthData {
    /// Reads authenticator data: 32 bytes of RP ID hash, flags, counter,
    /// then (AT) the AAGUID, the credential id and its COSE key, then (ED)
    /// the extensions. Nothing may follow.
    pub fn parse(bytes: &[u8]) -> Result<AuthData, Check> {
        if bytes.len() < 37 {
            return Err(Check::Malformed);
        }
        let rp_id_hash: [u8; 32] = bytes[..32].try_into().map_err(|_| Check::Malformed)?;
        let flags = bytes[32];
        let sign_count = u32::from_be_bytes([bytes[33], bytes[34], bytes[35], bytes[36]]);
        let mut rest = &bytes[37..];
        let attested = if flags & FLAG_AT != 0 {
            if rest.len() < 18 {
                return Err(Check::Malformed);
            }
            let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
            rest = &rest[18..];
            if len == 0 || len > MAX_CREDENTIAL_ID || rest.len() < len {
                return Err(Check::Malformed);
            }
            let credential_id = rest[..len].to_vec();
            rest = &rest[len..];
            let before = rest.len();
            let _: Value = ciborium::de::from_reader(&mut rest).map_err(|_| Check::Malformed)?;
            let used = before - rest.len();
            let start = bytes.len() - before;
            Some(Attested { credential_id, public_key: bytes[start..start + used].to_vec() })
        } else {
            None
        };
        if flags & FLAG_ED != 0 {
            let _: Value = ciborium::de::from_reader(&mut rest).map_err(|_| Check::Malformed)?;
        }
        if !rest.is_empty() {
            return Err(Check::Malformed);
        }
        Ok(AuthData { rp_id_hash, flags, sign_count, attested })
    }

    /// The RP ID hash is ours; the user was present, and verified when
    /// `verified` is asked (§7.1 steps 13-15, §7.2 steps 15-17).
    pub fn check(&self, rp_id: &str, verified: bool) -> Result<(), Check> {
        let ours: [u8; 32] = Sha256::digest(rp_id.as_bytes()).into();
        if self.rp_id_hash != ours {
            return Err(Check::WrongRelyingParty);
        }
        if self.flags & FLAG_UP == 0 {
            return Err(Check::NoUserPresence);
        }
        if verified && self.flags & FLAG_UV == 0 {
            return Err(Check::NoUserVerification);
        }
        Ok(())
    }

    /// Whether the user was verified (UV).
    pub fn verified(&self) -> bool {
        self.flags & FLAG_UV != 0
    }
}

/// The authenticator data inside an attestation object (registration); the
/// format and statement are not looked at (see the module's documentation).
pub fn attestation_auth_data(attestation_object: &[u8]) -> Result<Vec<u8>, Check> {
    let mut input = attestation_object;
    let value: Value = ciborium::de::from_reader(&mut input).map_err(|_| Check::Malformed)?;
    if !input.is_empty() {
        return Err(Check::Malformed);
    }
    let Value::Map(entries) = value else { return Err(Check::Malformed) };
    entries
        .into_iter()
        .find_map(|(k, v)| match (k, v) {
            (Value::Text(k), Value::Bytes(b)) if k == "authData" => Some(b),
            _ => None,
        })
        .ok_or(Check::Malformed)
}

/// A public key we can verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// ES256: the uncompressed P-256 point.
    Es256(Vec<u8>),
    /// EdDSA over Ed25519.
    Ed25519(Vec<u8>),
    /// RS256: modulus and exponent.
    Rs256 { n: Vec<u8>, e: Vec<u8> },
}

fn label(entries: &[(Value, Value)], key: i64) -> Option<&Value> {
    entries.iter().find_map(|(k, v)| match k {
        Value::Integer(i) if i128::from(*i) == i128::from(key) => Some(v),
        _ => None,
    })
}

fn int(v: Option<&Value>) -> Option<i128> {
    match v {
        Some(Value::Integer(i)) => Some(i128::from(*i)),
        _ => None,
    }
}

fn bytes(v: Option<&Value>) -> Option<&[u8]> {
    match v {
        Some(Value::Bytes(b)) => Some(b),
        _ => None,
    }
}

impl PublicKey {
    /// Reads a COSE_Key (RFC 9053): kty 2 (EC2) with alg -7 on P-256, kty 1
    /// (OKP) with alg -8 on Ed25519, kty 3 (RSA) with alg -257.
    pub fn from_cose(cose: &[u8]) -> Result<PublicKey, Check> {
        let mut input = cose;
        let value: Value = ciborium::de::from_reader(&mut input).map_err(|_| Check::Malformed)?;
        let Value::Map(m) = value else { return Err(Check::Malformed) };
        let (kty, alg) = (int(label(&m, 1)), int(label(&m, 3)));
        match (kty, alg) {
            (Some(2), Some(-7)) => {
                let (x, y) = (bytes(label(&m, -2)), bytes(label(&m, -3)));
                match (int(label(&m, -1)), x, y) {
                    (Some(1), Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                        Ok(PublicKey::Es256([&[4u8][..], x, y].concat()))
                    }
                    _ => Err(Check::UnsupportedKey),
                }
            }
            (Some(1), Some(-8)) => match (int(label(&m, -1)), bytes(label(&m, -2))) {
                (Some(6), Some(x)) if x.len() == 32 => Ok(PublicKey::Ed25519(x.to_vec())),
                _ => Err(Check::UnsupportedKey),
            },
            (Some(3), Some(-257)) => match (bytes(label(&m, -1)), bytes(label(&m, -2))) {
                (Some(n), Some(e)) if n.len() >= 256 && n.len() <= 1024 && !e.is_empty() && e.len() <= 8 => {
                    Ok(PublicKey::Rs256 { n: n.to_vec(), e: e.to_vec() })
                }
                _ => Err(Check::UnsupportedKey),
            },
            _ => Err(Check::UnsupportedKey),
        }
    }

    /// Checks an assertion's signature over `authenticatorData ||
    /// SHA-256(clientDataJSON)` (§7.2 steps 19-20).
    pub fn verify(&self, auth_data: &[u8], client_data_json: &[u8], signature: &[u8]) -> Result<(), Check> {
        use ring::signature as sig;
        let mut signed = auth_data.to_vec();
        signed.extend_from_slice(&Sha256::digest(client_data_json));
        let ok = match self {
            PublicKey::Es256(point) => {
                sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_ASN1, point).verify(&signed, signature).is_ok()
            }
            PublicKey::Ed25519(x) => sig::UnparsedPublicKey::new(&sig::ED25519, x).verify(&signed, signature).is_ok(),
            PublicKey::Rs256 { n, e } => sig::RsaPublicKeyComponents { n, e }
                .verify(&sig::RSA_PKCS1_2048_8192_SHA256, &signed, signature)
                .is_ok(),
        };
        if ok { Ok(()) } else { Err(Check::BadSignature) }
    }
}

/// The counter rule (§7.2 step 21): when either the stored or the new
/// counter is not zero, the new one must be greater; otherwise the
/// authenticator may have been cloned. Authenticators that keep no counter
/// send zero every time, which passes.
pub fn counter_moves_on(stored: u32, new: u32) -> Result<(), Check> {
    if (stored != 0 || new != 0) && new <= stored { Err(Check::CounterRegressed) } else { Ok(()) }
}

#[cfg(test)]
#[path = "webauthn_tests.rs"]
mod tests;
