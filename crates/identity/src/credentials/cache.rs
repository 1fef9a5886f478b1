//! The credential cache: a successful password check is remembered for a
//! short time (5 minutes by default, `[web] credential_cache`, 0 turns it
//! off) so that a client reconnecting every minute does not pay argon2 each
//! time.
//!
//! What is kept is never the password: entries are keyed by the account id
//! and a BLAKE3 MAC of the secret under a random key drawn when the cache is
//! made (so nothing in memory can be checked offline, and nothing survives a
//! restart). Each entry also carries a fingerprint of what the check
//! depended on (the stored hash, the account's status, when the password
//! changed, when TOTP was turned on): a password changed by another process
//! (`ardoise admin`, the HR sync) gives another fingerprint, so the entry is
//! simply not used. The code paths of this process that change credentials
//! (password change and reset, app passwords, TOTP) also [`CredentialCache::forget`] the
//! account at once.
//!
//! The cache is a field of the identity service ([`crate::Identity`]): its
//! lifetime comes from the service's settings, not from a static.
//!
//! The cache only replaces the argon2 computation: throttling, the account's
//! state, the journal and the new-device notice all run as before.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use model::AccountId;
use store::{Account, CredentialState};

/// The default lifetime of an entry.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// Entries kept at most (one per logged-in account, roughly).
const MAX_ENTRIES: usize = 200_000;

type Mac = [u8; 32];

struct Entry {
    fingerprint: Mac,
    expires: Instant,
}

/// The credential cache of one identity service (a field of
/// [`crate::Identity`], never a process-wide static).
pub struct CredentialCache {
    ttl: Duration,
    /// The key of the MAC of secrets, drawn when the cache is made.
    key: [u8; 32],
    entries: Mutex<HashMap<(AccountId, Mac), Entry>>,
    hits: AtomicU64,
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCache").field("ttl", &self.ttl).field("hits", &self.hits()).finish()
    }
}

impl Default for CredentialCache {
    fn default() -> Self {
        CredentialCache::new(DEFAULT_TTL)
    }
}

impl CredentialCache {
    /// A cache remembering a successful check for `ttl`; zero turns it off.
    pub fn new(ttl: Duration) -> CredentialCache {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        CredentialCache { ttl, key, entries: Mutex::new(HashMap::new()), hits: AtomicU64::new(0) }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How many checks the cache answered since it was made.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn mac(&self, account: AccountId, secret: &str) -> Mac {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(&account.to_le_bytes());
        h.update(secret.as_bytes());
        *h.finalize().as_bytes()
    }

    /// Whether `secret` was proven right for `account` lately, under the same
    /// fingerprint.
    pub(crate) fn hit(&self, account: AccountId, secret: &str, fingerprint: &Mac) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let Ok(map) = self.entries.lock() else { return false };
        let found = map.get(&(account, self.mac(account, secret))).is_some_and(|e| {
            e.expires > Instant::now()
                && bool::from(subtle::ConstantTimeEq::ct_eq(&e.fingerprint[..], &fingerprint[..]))
        });
        if found {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// Remembers a successful check.
    pub(crate) fn remember(&self, account: AccountId, secret: &str, fingerprint: Mac) {
        if self.ttl.is_zero() {
            return;
        }
        let mac = self.mac(account, secret);
        let Ok(mut map) = self.entries.lock() else { return };
        let now = Instant::now();
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, e| e.expires > now);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert((account, mac), Entry { fingerprint, expires: now + self.ttl });
    }

    /// Forgets every entry of `account` (its credentials just changed).
    pub fn forget(&self, account: AccountId) {
        if let Ok(mut map) = self.entries.lock() {
            map.retain(|(a, _), _| *a != account);
        }
    }
}

/// What a cached check depended on.
pub(crate) fn fingerprint(account: &Account, state: &CredentialState) -> Mac {
    let mut h = blake3::Hasher::new_derive_key("ardoise 2026 credential cache fingerprint");
    h.update(account.password_hash.as_deref().unwrap_or("").as_bytes());
    h.update(b"\0");
    h.update(account.status.as_str().as_bytes());
    h.update(&state.password_changed_at.unwrap_or(-1).to_le_bytes());
    h.update(&state.totp_enabled_at.unwrap_or(-1).to_le_bytes());
    *h.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_need_the_same_secret_and_fingerprint() {
        let cache = CredentialCache::default();
        let fp = [7u8; 32];
        cache.remember(901, "Ardoise-Demo-2026", fp);
        assert!(cache.hit(901, "Ardoise-Demo-2026", &fp));
        assert!(!cache.hit(901, "ardoise-demo-2026", &fp));
        assert!(!cache.hit(902, "Ardoise-Demo-2026", &fp));
        assert!(!cache.hit(901, "Ardoise-Demo-2026", &[8u8; 32]));
        cache.forget(901);
        assert!(!cache.hit(901, "Ardoise-Demo-2026", &fp));
    }

    #[test]
    fn a_cache_turned_off_remembers_nothing_and_caches_are_separate() {
        let off = CredentialCache::new(Duration::ZERO);
        let on = CredentialCache::default();
        let fp = [7u8; 32];
        off.remember(1, "x", fp);
        assert!(!off.hit(1, "x", &fp));
        assert!(!on.hit(1, "x", &fp));
        on.remember(1, "x", fp);
        assert!(on.hit(1, "x", &fp));
        assert!(!off.hit(1, "x", &fp));
    }

    #[test]
    fn the_secret_is_not_kept() {
        let cache = CredentialCache::default();
        let m = cache.mac(1, "Ardoise-Demo-2026");
        assert_ne!(&m[..17], b"Ardoise-Demo-2026");
        assert_ne!(m, cache.mac(2, "Ardoise-Demo-2026"));
        assert_ne!(m, CredentialCache::default().mac(1, "Ardoise-Demo-2026"));
    }
}
