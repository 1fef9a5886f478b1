//! Verdicts of logins made on every request ([`crate::Identity::login_per_request`]):
//! CalDAV/CardDAV clients send HTTP Basic with each request, a sync several
//! dozen at a time, and running the whole login for each (about seven
//! queries and a journal row) filled the connection journal and cost the
//! DAV benchmark its lead.
//!
//! A successful login is remembered for [`TTL`] under a BLAKE3 MAC (random
//! key drawn at start) of the protocol, identifier, secret and client
//! address: the same credentials from the same address within that time get
//! the same answer without touching the store. Nothing else is cached: a
//! refusal, a password to change, or another address goes through the full
//! login (throttle, journal, new-device notice).
//!
//! A verdict ends before its time when the account's access or one of its
//! secrets is revoked: a task listens to the mail domain's events
//! ([`mailstore::MailEvent::AccessRevoked`], `CredentialRevoked`, which the
//! lifecycle watcher also raises for changes made by other processes) and
//! forgets the account's verdicts; a lagging listener forgets them all.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mailstore::{MailEvent, Mailstore};
use model::AccountId;
use tokio::sync::broadcast::error::RecvError;

use super::{Login, Principal};

/// How long a verdict is kept.
pub const TTL: Duration = Duration::from_secs(60);
/// Verdicts kept at most; beyond, they are all dropped (a new minute fills again).
const MAX_ENTRIES: usize = 100_000;

type Mac = [u8; 32];

/// The verdicts, and how many times some were forgotten (a login that
/// ran while a revocation was heard is not remembered).
#[derive(Default)]
struct Entries {
    map: HashMap<Mac, (Principal, Instant)>,
    epoch: AtomicU64,
}

pub(crate) struct Verdicts {
    key: [u8; 32],
    entries: Arc<Mutex<Entries>>,
    listening: OnceLock<()>,
}

impl std::fmt::Debug for Verdicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verdicts").finish_non_exhaustive()
    }
}

impl Verdicts {
    pub(crate) fn new() -> Verdicts {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Verdicts { key, entries: Arc::default(), listening: OnceLock::new() }
    }

    fn mac(&self, attempt: &Login<'_>) -> Mac {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        for part in [attempt.protocol.as_str(), attempt.login, attempt.secret, &attempt.peer.to_string()] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        *h.finalize().as_bytes()
    }

    pub(crate) fn get(&self, attempt: &Login<'_>) -> Option<Principal> {
        let mac = self.mac(attempt);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.map.get(&mac) {
            Some((principal, until)) if *until > Instant::now() => Some(principal.clone()),
            Some(_) => {
                entries.map.remove(&mac);
                None
            }
            None => None,
        }
    }

    /// Starts listening for revocations (once), before any login whose
    /// verdict may be kept; returns the epoch to hand to [`Verdicts::put`].
    pub(crate) fn begin(&self, mail: &Mailstore) -> u64 {
        self.listening.get_or_init(|| listen(mail, Arc::downgrade(&self.entries)));
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).epoch.load(Ordering::SeqCst)
    }

    /// Remembers a successful login begun at `epoch`, unless a revocation
    /// was heard since (the login may have read the state before it).
    pub(crate) fn put(&self, epoch: u64, attempt: &Login<'_>, principal: &Principal) {
        let mac = self.mac(attempt);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        if entries.map.len() >= MAX_ENTRIES {
            entries.map.clear();
        }
        entries.map.insert(mac, (principal.clone(), Instant::now() + TTL));
    }
}

fn forget(entries: &Mutex<Entries>, account: Option<AccountId>) {
    let mut entries = entries.lock().unwrap_or_else(|e| e.into_inner());
    entries.epoch.fetch_add(1, Ordering::SeqCst);
    match account {
        Some(a) => entries.map.retain(|_, (p, _)| p.account.id != a),
        None => entries.map.clear(),
    }
}

fn listen(mail: &Mailstore, entries: std::sync::Weak<Mutex<Entries>>) {
    let mut events = mail.subscribe();
    tokio::spawn(async move {
        loop {
            let account = match events.recv().await {
                Ok(MailEvent::AccessRevoked { account, .. } | MailEvent::CredentialRevoked { account, .. }) => {
                    Some(account)
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => None,
                Err(RecvError::Closed) => return,
            };
            let Some(entries) = entries.upgrade() else { return };
            forget(&entries, account);
        }
    });
}
