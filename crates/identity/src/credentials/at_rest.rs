//! TOTP seeds at rest. The server must compute codes, so the seed cannot be
//! hashed like other secrets; it is encrypted instead, with
//! XChaCha20-Poly1305 under a key kept in the data folder (`totp.key`,
//! created on first use, mode 0600, like `numen.key`): a copy of the
//! database alone (a backup, a PostgreSQL replica) no longer gives anyone
//! the codes of every account. The account id is the associated data, so a
//! sealed seed copied onto another account's row does not open.
//!
//! Stored form: `x1:` then hex of the 24-byte random nonce and the
//! ciphertext. Seeds kept clear by earlier versions (base32, no prefix) are
//! still read, re-encrypted when used, and all of them at the server's start
//! ([`encrypt_clear_seeds`]).

use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use model::AccountId;
use rand::RngCore;
use store::Store;

/// The file, in the data folder, that holds the key.
pub const KEY_FILE: &str = "totp.key";
/// The prefix of an encrypted seed.
const SEALED: &str = "x1:";

/// The key of the TOTP seeds. Losing it means every user must enrol their
/// authenticator again: back it up with the database, but not beside it.
#[derive(Clone)]
pub struct TotpKey([u8; 32]);

impl fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpKey(***)")
    }
}

impl TotpKey {
    /// Reads `<dir>/totp.key`, creating it (mode 0600) on first use.
    pub fn load_or_create(dir: &Path) -> std::io::Result<TotpKey> {
        crate::keyfile::load_or_create(dir, KEY_FILE).map(TotpKey)
    }

    /// A key given directly (tests).
    pub fn from_bytes(key: [u8; 32]) -> TotpKey {
        TotpKey(key)
    }

    /// A key for another purpose, derived from this one (the data folder
    /// keeps one secret file, not one per use).
    pub(crate) fn derive(&self, context: &str) -> [u8; 32] {
        blake3::derive_key(context, &self.0)
    }

    fn aad(account: AccountId) -> Vec<u8> {
        format!("ardoise 2026 totp seed of account {account}").into_bytes()
    }

    /// The stored form of `seed` for `account`.
    pub fn seal(&self, account: AccountId, seed: &str) -> String {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = Self::aad(account);
        // Encryption fails only for inputs of gigabytes.
        let sealed =
            cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg: seed.as_bytes(), aad: &aad }).unwrap_or_default();
        let mut out = Vec::with_capacity(nonce.len() + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{SEALED}{}", hex::encode(out))
    }

    /// The seed of a stored value: decrypted, or as is when it is a clear
    /// seed of an earlier version. `None` when it does not open (another
    /// key, another account, altered).
    pub fn open(&self, account: AccountId, stored: &str) -> Option<String> {
        let Some(hexed) = stored.strip_prefix(SEALED) else {
            return is_clear_seed(stored).then(|| stored.to_owned());
        };
        let bytes = hex::decode(hexed).ok()?;
        if bytes.len() < 24 + 16 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(24);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let aad = Self::aad(account);
        let seed = cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: &aad }).ok()?;
        String::from_utf8(seed).ok()
    }
}

/// Whether a stored value is a seed kept clear by an earlier version.
pub fn is_clear_seed(stored: &str) -> bool {
    !stored.is_empty() && stored.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b) || b == b'=')
}

/// Encrypts every seed still stored clear; returns how many were.
pub async fn encrypt_clear_seeds(store: &Store, key: &TotpKey) -> Result<usize, store::Error> {
    let mut done = 0;
    for (account, stored) in store.totp_secrets().await? {
        if is_clear_seed(&stored) && store.replace_totp_secret(account, &stored, &key.seal(account, &stored)).await? {
            done += 1;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_open_only_with_their_key_and_account() {
        let key = TotpKey::from_bytes([3; 32]);
        let seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let sealed = key.seal(7, seed);
        assert!(sealed.starts_with("x1:"));
        assert!(!sealed.contains(seed));
        assert_ne!(sealed, key.seal(7, seed), "a new nonce every time");
        assert_eq!(key.open(7, &sealed).as_deref(), Some(seed));
        assert_eq!(key.open(8, &sealed), None);
        assert_eq!(TotpKey::from_bytes([4; 32]).open(7, &sealed), None);
        let mut altered = sealed.clone();
        let last = if sealed.ends_with("00") { "01" } else { "00" };
        altered.replace_range(sealed.len() - 2.., last);
        assert_eq!(key.open(7, &altered), None);
        // A clear seed of an earlier version still reads.
        assert_eq!(key.open(7, seed).as_deref(), Some(seed));
        assert_eq!(key.open(7, "x1:zz"), None);
    }

    #[test]
    fn the_key_file_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let a = TotpKey::load_or_create(dir.path()).unwrap();
        let b = TotpKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.0, b.0);
        assert_eq!(format!("{a:?}"), "TotpKey(***)");
    }
}
