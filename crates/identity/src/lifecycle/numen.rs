//! The NUMEN is a secret. It is kept only as a keyed hash (BLAKE3 keyed with a
//! random key generated once in the data folder, `numen.key`), to match HR
//! lines with accounts, and, for a new account, as the argon2id hash of the
//! provisional password. It is never stored in clear nor logged.

use std::fmt;
use std::path::Path;

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};

/// The file, in the data folder, that holds the key.
pub const KEY_FILE: &str = "numen.key";

/// The key of the NUMEN hash. Losing it means every HR line looks new:
/// back it up with the database.
#[derive(Clone)]
pub struct NumenKey([u8; 32]);

impl fmt::Debug for NumenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NumenKey(***)")
    }
}

impl NumenKey {
    /// Reads `<dir>/numen.key`, creating it (mode 0600) on first use.
    pub fn load_or_create(dir: &Path) -> std::io::Result<NumenKey> {
        crate::keyfile::load_or_create(dir, KEY_FILE).map(NumenKey)
    }

    /// A key given directly (tests).
    pub fn from_bytes(key: [u8; 32]) -> NumenKey {
        NumenKey(key)
    }

    /// The keyed hash of a NUMEN ([`normalize`]d), in hex.
    pub fn hash(&self, numen: &str) -> String {
        blake3::keyed_hash(&self.0, normalize(numen).as_bytes()).to_hex().to_string()
    }
}

/// A NUMEN as HR files and the hashes hold it: upper case, no white space
/// anywhere. « Un espace ou une faute de frappe dans le NUMEN » is the first
/// trouble staff meet at their first login; every place that hashes or
/// checks a NUMEN goes through this one function.
pub fn normalize(numen: &str) -> String {
    numen.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect()
}

/// Memory cost of a provisional password's hash, in KiB.
pub const PROVISIONAL_M_COST_KIB: u32 = 512;

/// The argon2id hash of a provisional password (the NUMEN). The cost is
/// lighter than for chosen passwords (512 KiB, 1 pass) so that a rentrée of
/// 50,000 people syncs in seconds: the password must be changed at the first
/// login, and logins are throttled. The parameters travel in the PHC string,
/// so checking it needs nothing special.
pub fn provisional_hash(numen: &str) -> Result<String, String> {
    let params = argon2::Params::new(PROVISIONAL_M_COST_KIB, 1, 1, None).map_err(|e| e.to_string())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut OsRng);
    argon.hash_password(normalize(numen).as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Hashes many provisional passwords on every core; `done` is called with
/// the count finished so far (for a progress bar).
pub fn provisional_hashes(numens: &[String], done: &(dyn Fn(u64) + Sync)) -> Result<Vec<String>, String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).max(1);
    let per = numens.len().div_ceil(threads).max(1);
    let counter = std::sync::atomic::AtomicU64::new(0);
    let parts: Vec<Result<Vec<String>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = numens
            .chunks(per)
            .map(|chunk| {
                let counter = &counter;
                s.spawn(move || {
                    let mut out = Vec::with_capacity(chunk.len());
                    for n in chunk {
                        out.push(provisional_hash(n)?);
                        let total = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        if total.is_multiple_of(256) {
                            done(total);
                        }
                    }
                    Ok(out)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("hashing thread panicked".into()))).collect()
    });
    let mut all = Vec::with_capacity(numens.len());
    for p in parts {
        all.extend(p?);
    }
    done(all.len() as u64);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn key_is_created_once_and_hash_is_keyed() {
        let dir = tempfile::tempdir().unwrap();
        let a = NumenKey::load_or_create(dir.path()).unwrap();
        let b = NumenKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.hash("12e0000001abc "), b.hash("12E0000001ABC"));
        let other = NumenKey::from_bytes([7; 32]);
        assert_ne!(a.hash("12E0000001ABC"), other.hash("12E0000001ABC"));
        let stored = std::fs::read_to_string(dir.path().join(KEY_FILE)).unwrap();
        assert_eq!(stored.len(), 64);
        assert!(!a.hash("12E0000001ABC").contains("12E0000001ABC"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn provisional_hash_is_argon2id_of_the_numen() {
        let hashes = provisional_hashes(&["12E0000001ABC".into(), "12E0000002ABC".into()], &|_| {}).unwrap();
        assert!(hashes[0].starts_with("$argon2id$"));
        let parsed = PasswordHash::new(&hashes[0]).unwrap();
        assert!(argon2::Argon2::default().verify_password(b"12E0000001ABC", &parsed).is_ok());
        assert!(argon2::Argon2::default().verify_password(b"12E0000002ABC", &parsed).is_err());
        assert!(!hashes[0].contains("12E0000001ABC"));
    }
}
