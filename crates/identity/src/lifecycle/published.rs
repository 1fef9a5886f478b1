//! Revocations this process published itself, as they happened.
//!
//! The watcher reads every process's revocations from the store and
//! publishes them to this process's sessions. One that this process made
//! (a password changed on its web pages) was published at once already: a
//! second time, up to a poll later, would end the sessions opened since
//! with the *new* secret (seen in CI: Thunderbird set up right after a
//! password change was told « access revoked »). So each local revocation
//! is noted, and the watcher passes over the stored row it matches.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use model::{AccountId, Revocation};

/// A note is forgotten after this long (its row was read long before).
const KEEP: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub(crate) struct PublishedHere(Mutex<Vec<(AccountId, Revocation, Instant)>>);

impl PublishedHere {
    pub(crate) fn note(&self, account: AccountId, what: Revocation) {
        let mut notes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        notes.retain(|(_, _, at)| at.elapsed() < KEEP);
        notes.push((account, what, Instant::now()));
    }

    /// Whether the stored revocation `(account, what)` is one this process
    /// published already (each note answers for one row).
    pub(crate) fn take(&self, account: AccountId, what: Revocation) -> bool {
        let mut notes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        notes.retain(|(_, _, at)| at.elapsed() < KEEP);
        match notes.iter().position(|(a, w, _)| *a == account && *w == what) {
            Some(i) => {
                notes.remove(i);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_note_answers_for_one_row_of_its_account_and_secret() {
        let here = PublishedHere::default();
        here.note(7, Revocation::Password);
        assert!(!here.take(8, Revocation::Password), "another account");
        assert!(!here.take(7, Revocation::AppPasswords), "another secret");
        assert!(here.take(7, Revocation::Password));
        assert!(!here.take(7, Revocation::Password), "a second row (another process) is published");
    }
}
