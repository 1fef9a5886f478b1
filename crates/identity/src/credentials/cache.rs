//! The credential cache: a successful password check is remembered for a
//! short time (5 minutes by default, `[web] credential_cache`, 0 turns it
//! off) so that a client reconnecting every minute does not pay argon2 each
//! time.
//!
//! What is kept is never the password: entries are keyed by the account id
//! and a BLAKE3 MAC of the secret under a random key drawn when the process
//! starts (so nothing in memory can be checked offline, and nothing survives
//! a restart). Each entry also carries a fingerprint of what the check
//! depended on (the stored hash, the account's status, when the password
//! changed, when TOTP was turned on): a password changed by another process
//! (`ardoise admin`, the HR sync) gives another fingerprint, so the entry is
//! simply not used. The code paths of this process that change credentials
//! (password change and reset, app passwords, TOTP) also [`forget`] the
//! account at once.
//!
//! The cache only replaces the argon2 computation: throttling, the account's
//! state, the journal and the new-device notice all run as before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use model::AccountId;
use store::{Account, CredentialState};

/// The default lifetime of an entry.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// Entries kept at most (one per logged-in account, roughly).
const MAX_ENTRIES: usize = 200_000;

static TTL_SECS: AtomicU64 = AtomicU64::new(DEFAULT_TTL.as_secs());
static HITS: AtomicU64 = AtomicU64::new(0);

type Mac = [u8; 32];

struct Entry {
    fingerprint: Mac,
    expires: Instant,
}

fn entries() -> &'static Mutex<HashMap<(AccountId, Mac), Entry>> {
    static ENTRIES: OnceLock<Mutex<HashMap<(AccountId, Mac), Entry>>> = OnceLock::new();
    ENTRIES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The per-process key of the MAC of secrets.
fn key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        use rand::RngCore;
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        k
    })
}

/// Sets how long a successful check is remembered; zero turns the cache off
/// (and empties it). The binary calls this once at start.
pub fn set_ttl(ttl: Duration) {
    TTL_SECS.store(ttl.as_secs(), Ordering::Relaxed);
    if ttl.is_zero()
        && let Ok(mut map) = entries().lock()
    {
        map.clear();
    }
}

pub fn ttl() -> Duration {
    Duration::from_secs(TTL_SECS.load(Ordering::Relaxed))
}

/// How many checks the cache answered since the process started.
pub fn hits() -> u64 {
    HITS.load(Ordering::Relaxed)
}

fn mac(account: AccountId, secret: &str) -> Mac {
    let mut h = blake3::Hasher::new_keyed(key());
    h.update(&account.to_le_bytes());
    h.update(secret.as_bytes());
    *h.finalize().as_bytes()
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

/// Whether `secret` was proven right for `account` lately, under the same
/// fingerprint.
pub(crate) fn hit(account: AccountId, secret: &str, fingerprint: &Mac) -> bool {
    if ttl().is_zero() {
        return false;
    }
    let Ok(map) = entries().lock() else { return false };
    let found = map.get(&(account, mac(account, secret))).is_some_and(|e| {
        e.expires > Instant::now() && bool::from(subtle::ConstantTimeEq::ct_eq(&e.fingerprint[..], &fingerprint[..]))
    });
    if found {
        HITS.fetch_add(1, Ordering::Relaxed);
    }
    found
}

/// Remembers a successful check.
pub(crate) fn remember(account: AccountId, secret: &str, fingerprint: Mac) {
    let ttl = ttl();
    if ttl.is_zero() {
        return;
    }
    let Ok(mut map) = entries().lock() else { return };
    let now = Instant::now();
    if map.len() >= MAX_ENTRIES {
        map.retain(|_, e| e.expires > now);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
    }
    map.insert((account, mac(account, secret)), Entry { fingerprint, expires: now + ttl });
}

/// Forgets every entry of `account` (its credentials just changed).
pub fn forget(account: AccountId) {
    if let Ok(mut map) = entries().lock() {
        map.retain(|(a, _), _| *a != account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_need_the_same_secret_and_fingerprint() {
        let fp = [7u8; 32];
        remember(901, "Ardoise-Demo-2026", fp);
        assert!(hit(901, "Ardoise-Demo-2026", &fp));
        assert!(!hit(901, "ardoise-demo-2026", &fp));
        assert!(!hit(902, "Ardoise-Demo-2026", &fp));
        assert!(!hit(901, "Ardoise-Demo-2026", &[8u8; 32]));
        forget(901);
        assert!(!hit(901, "Ardoise-Demo-2026", &fp));
    }

    #[test]
    fn the_secret_is_not_kept() {
        let m = mac(1, "Ardoise-Demo-2026");
        assert_ne!(&m[..17], b"Ardoise-Demo-2026");
        assert_ne!(m, mac(2, "Ardoise-Demo-2026"));
    }
}
