//! The provider's signing keys: ES256 (P-256) keys in `<data_dir>/oidc/`,
//! one PKCS#8 file per key (mode 0600) named `es256-<created>-<kid>.p8`.
//! The newest signs; the JWKS lists it and the one before it, so tokens
//! signed just before a rotation still verify. A key is created at first
//! start; `ardoise admin oidc rotate-key` adds a newer one. The folder is
//! read again at every use, so a rotation by the CLI reaches a running
//! server at once.
//!
//! Verification accepts ES256 only, with a `kid` of ours: `alg: none`,
//! HS256 with our public key as a secret, or any other algorithm is refused
//! before a signature is looked at.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;

/// One signing key.
pub struct SigningKey {
    pub kid: String,
    pub created: i64,
    pkcs8: Vec<u8>,
    /// The uncompressed public point: 0x04, x, y.
    public: Vec<u8>,
}

impl SigningKey {
    /// The key as a JWK (public part only).
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "alg": "ES256",
            "use": "sig",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(&self.public[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&self.public[33..65]),
        })
    }

    fn decoding(&self) -> Result<DecodingKey, Error> {
        let x = URL_SAFE_NO_PAD.encode(&self.public[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&self.public[33..65]);
        DecodingKey::from_ec_components(&x, &y).map_err(|e| Error::Key(e.to_string()))
    }
}

/// The key folder.
pub struct Keys {
    dir: PathBuf,
}

fn parse_name(name: &str) -> Option<(i64, String)> {
    let rest = name.strip_prefix("es256-")?.strip_suffix(".p8")?;
    let (created, kid) = rest.split_once('-')?;
    Some((created.parse().ok()?, kid.to_owned()))
}

impl Keys {
    /// Opens `<data_dir>/oidc`, creating the folder (0700) and a first key.
    pub fn open(data_dir: &Path) -> Result<Keys, Error> {
        let dir = data_dir.join("oidc");
        std::fs::create_dir_all(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let keys = Keys { dir };
        if keys.all()?.is_empty() {
            keys.rotate()?;
        }
        Ok(keys)
    }

    /// The folder (for the pairwise key beside the signing keys).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every key, newest first.
    pub fn all(&self) -> Result<Vec<SigningKey>, Error> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some((created, kid)) = name.to_str().and_then(parse_name) else { continue };
            let pkcs8 = std::fs::read(entry.path())?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &SystemRandom::new())
                .map_err(|e| Error::Key(format!("{}: {e}", entry.path().display())))?;
            let public = pair.public_key().as_ref().to_vec();
            out.push(SigningKey { kid, created, pkcs8, public });
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.kid.cmp(&a.kid)));
        Ok(out)
    }

    /// The current key and the previous one: what the JWKS publishes.
    pub fn published(&self) -> Result<Vec<SigningKey>, Error> {
        let mut all = self.all()?;
        all.truncate(2);
        Ok(all)
    }

    /// Creates a new key, which signs from now on; returns its `kid`.
    pub fn rotate(&self) -> Result<String, Error> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|e| Error::Key(e.to_string()))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|e| Error::Key(e.to_string()))?;
        let kid = blake3::hash(pair.public_key().as_ref()).to_hex()[..16].to_owned();
        // Never older than the newest key, even if the clock went back.
        let newest = self.all()?.first().map_or(0, |k| k.created);
        let created = crate::unix_now().max(newest + 1);
        let path = self.dir.join(format!("es256-{created}-{kid}.p8"));
        crate::write_secret(&path, pkcs8.as_ref())?;
        tracing::info!(target: "sso", kid, "new OpenID Connect signing key");
        Ok(kid)
    }

    /// Signs `claims` with the current key.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, Error> {
        let all = self.all()?;
        let key = all.first().ok_or_else(|| Error::Key("no signing key".into()))?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&key.pkcs8))
            .map_err(|e| Error::Key(e.to_string()))
    }

    /// Verifies a token we signed (current or previous key, ES256 only),
    /// without looking at its expiry (an `id_token_hint` may have expired);
    /// checks the issuer.
    pub fn verify<T: DeserializeOwned>(&self, token: &str, issuer: &str) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::ES256 {
            return None;
        }
        let kid = header.kid?;
        let keys = self.published().ok()?;
        let key = keys.iter().find(|k| k.kid == kid)?;
        let mut v = Validation::new(Algorithm::ES256);
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        v.set_issuer(&[issuer]);
        jsonwebtoken::decode::<T>(token, &key.decoding().ok()?, &v).ok().map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct C {
        iss: String,
        sub: String,
    }

    fn keys() -> (tempfile::TempDir, Keys) {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::open(dir.path()).unwrap();
        (dir, keys)
    }

    #[test]
    fn a_first_key_is_made_private_and_signs() {
        let (dir, keys) = keys();
        let all = keys.all().unwrap();
        assert_eq!(all.len(), 1);
        #[cfg(unix)]
        for e in std::fs::read_dir(dir.path().join("oidc")).unwrap() {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(e.unwrap().metadata().unwrap().permissions().mode() & 0o777, 0o600);
        }
        let c = C { iss: "https://x".into(), sub: "s".into() };
        let t = keys.sign(&c).unwrap();
        assert_eq!(keys.verify::<C>(&t, "https://x"), Some(c));
        assert_eq!(keys.verify::<C>(&t, "https://autre"), None, "another issuer");
    }

    #[test]
    fn rotation_keeps_the_previous_key_published_and_drops_older_ones() {
        let (_dir, keys) = keys();
        let c = C { iss: "i".into(), sub: "s".into() };
        let old = keys.sign(&c).unwrap();
        keys.rotate().unwrap();
        let newer = keys.sign(&c).unwrap();
        assert_ne!(jsonwebtoken::decode_header(&old).unwrap().kid, jsonwebtoken::decode_header(&newer).unwrap().kid);
        assert!(keys.verify::<C>(&old, "i").is_some(), "signed by the previous key");
        keys.rotate().unwrap();
        assert_eq!(keys.published().unwrap().len(), 2);
        assert!(keys.verify::<C>(&old, "i").is_none(), "two rotations later");
        assert!(keys.verify::<C>(&newer, "i").is_some());
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let (_dir, keys) = keys();
        let c = C { iss: "i".into(), sub: "s".into() };
        let good = keys.sign(&c).unwrap();
        let kid = jsonwebtoken::decode_header(&good).unwrap().kid.unwrap();
        let payload = good.split('.').nth(1).unwrap();
        for alg in ["none", "None", "HS256", "RS256", "ES384"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"{kid}"}}"#));
            for sig in ["", "AAAA"] {
                let forged = format!("{header}.{payload}.{sig}");
                assert!(keys.verify::<C>(&forged, "i").is_none(), "{alg} accepted");
            }
        }
        // HS256 keyed with our public key (algorithm confusion).
        let public = &keys.all().unwrap()[0].public;
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(kid);
        let confused = jsonwebtoken::encode(&h, &c, &EncodingKey::from_secret(public)).unwrap();
        assert!(keys.verify::<C>(&confused, "i").is_none());
        // A signature of ours over another payload.
        let mut parts: Vec<&str> = good.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(r#"{"iss":"i","sub":"admin"}"#);
        parts[1] = &other;
        assert!(keys.verify::<C>(&parts.join("."), "i").is_none());
    }
}
