//! Hashing secrets: argon2id for what people choose (passwords), a keyed
//! BLAKE3 derivation for the random tokens the server hands out (session
//! cookies, reset links, app passwords, recovery codes), whose entropy makes
//! a slow hash pointless.

use std::sync::OnceLock;

use crate::Identity;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

/// Longest password accepted, in bytes: longer input is refused before it
/// reaches argon2 (a 1 MB "password" is a denial of service, not a secret).
pub const MAX_SECRET_LEN: usize = 256;

/// OWASP's first recommended argon2id parameters: 19 MiB, 2 passes, 1 lane.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// The PHC string of a new password hash.
pub fn hash_password(password: &str) -> Option<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).ok().map(|h| h.to_string())
}

/// Whether `password` matches a PHC argon2 hash (the parameters stored in
/// the hash are used, so older hashes keep working).
pub fn verify_password(hash: &str, password: &str) -> bool {
    if password.len() > MAX_SECRET_LEN {
        return false;
    }
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a password nobody has, for spending the time of one
/// verification when there is no account (so timing does not tell whether
/// an identifier exists).
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("ardoise-no-such-account")).as_deref()
}

/// Spends the time of one verification when there is no account.
pub fn verify_nothing(password: &str) {
    if let Some(hash) = dummy_hash() {
        let _ = verify_password(hash, password);
    }
}

impl Identity {
    /// Verifies on a blocking thread (argon2 takes tens of milliseconds), at
    /// most one per core at once, in a reused buffer: the service's bounded
    /// pool ([`super::pool`]). Without a hash, spends the same time and
    /// answers false.
    pub(crate) async fn verify_password(&self, hash: Option<String>, password: &str) -> bool {
        if password.len() > MAX_SECRET_LEN {
            return false;
        }
        match hash {
            Some(h) if super::foreign::is_foreign(&h) => self.argon2.verify_foreign(&h, password).await,
            Some(h) => self.argon2.verify(&h, password).await,
            None => {
                if let Some(dummy) = dummy_hash() {
                    let _ = self.argon2.verify(dummy, password).await;
                }
                false
            }
        }
    }

    /// Hashes on a blocking thread, under the same bound as verifications.
    pub(crate) async fn hash_password(&self, password: &str) -> Option<String> {
        self.argon2.hash(password, params()).await
    }
}

/// The stored form of a random token: BLAKE3 in key-derivation mode with a
/// purpose string, so a token of one kind never matches another kind.
pub fn token_hash(purpose: &str, token: &str) -> String {
    let mut h = blake3::Hasher::new_derive_key(&format!("ardoise 2026 credentials {purpose}"));
    h.update(token.as_bytes());
    h.finalize().to_hex().to_string()
}

/// A random token of `len` characters from an unambiguous alphabet
/// (no 0/o, 1/l/i), about 5 bits each.
pub fn random_token(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..len).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_use_argon2id() {
        let h = hash_password("Ardoise-Demo-2026").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password(&h, "Ardoise-Demo-2026"));
        assert!(!verify_password(&h, "ardoise-demo-2026"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn oversized_secrets_are_refused_without_hashing() {
        let h = hash_password("x").unwrap();
        let huge = "x".repeat(1 << 20);
        let start = std::time::Instant::now();
        assert!(!verify_password(&h, &huge));
        assert!(start.elapsed() < std::time::Duration::from_millis(5));
    }

    #[test]
    fn token_hashes_depend_on_purpose() {
        assert_ne!(token_hash("session", "abc"), token_hash("reset", "abc"));
        assert_eq!(token_hash("session", "abc"), token_hash("session", "abc"));
        let t = random_token(24);
        assert_eq!(t.len(), 24);
        assert!(t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    }
}
