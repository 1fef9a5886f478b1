//! "Annuler": the last move, deletion to the Corbeille, junk/not junk, flag
//! or read change of a web session can be reversed within five minutes.
//!
//! The last action is kept in memory per web session (keyed by the hash of
//! its cookie, which is what the store knows of it): one entry per session,
//! replaced by the next action, dropped once used or stale. A restart or
//! another node forgets it, which only means "Annuler" is no longer offered.
//! Reversing a move copies the messages back (new UIDs, as any IMAP client
//! would see) and expunges them where they had gone.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use mailstore::FlagOp;

use crate::base::session::Visitor;

/// How long an action can be reversed.
pub const WINDOW_SECS: i64 = 300;
/// Most sessions remembered at once (oldest entries go first).
const MAX_SESSIONS: usize = 10_000;

/// How to reverse one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// Flags or keywords were added (`added`) or removed on these UIDs.
    Flags { mailbox: i64, uids: Vec<i64>, added: bool, flags: i64, keywords: Vec<String> },
    /// Messages went from `from` to `to` (now at `uids` there); going back
    /// also removes `drop_keywords` and adds `add_keywords`.
    Moved { from: i64, to: i64, uids: Vec<i64>, drop_keywords: Vec<String>, add_keywords: Vec<String> },
}

impl Undo {
    /// The flag change that reverses a `Flags` entry.
    pub fn reverse_op(added: bool) -> FlagOp {
        if added { FlagOp::Remove } else { FlagOp::Add }
    }
}

struct Entry {
    account: i64,
    at: i64,
    undo: Undo,
}

static LAST: LazyLock<Mutex<HashMap<String, Entry>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn key(v: &Visitor) -> Option<String> {
    v.session.as_ref().map(|(s, _)| s.token_hash.clone())
}

/// Remembers `undo` as the session's last action.
pub fn record(v: &Visitor, account: i64, undo: Undo) {
    let Some(k) = key(v) else { return };
    let now = crate::base::session::unix_now();
    let mut map = LAST.lock().unwrap_or_else(|e| e.into_inner());
    map.retain(|_, e| now - e.at <= WINDOW_SECS);
    if map.len() >= MAX_SESSIONS
        && let Some(oldest) = map.iter().min_by_key(|(_, e)| e.at).map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
    map.insert(k, Entry { account, at: now, undo });
}

/// Forgets the session's last action (after one that cannot be reversed).
pub fn forget(v: &Visitor) {
    if let Some(k) = key(v) {
        LAST.lock().unwrap_or_else(|e| e.into_inner()).remove(&k);
    }
}

/// Whether the session has an action to reverse.
pub fn pending(v: &Visitor, account: i64) -> bool {
    let Some(k) = key(v) else { return false };
    let now = crate::base::session::unix_now();
    LAST.lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&k)
        .is_some_and(|e| e.account == account && now - e.at <= WINDOW_SECS)
}

/// Takes the session's action to reverse, if still within the window.
pub fn take(v: &Visitor, account: i64) -> Option<Undo> {
    let k = key(v)?;
    let now = crate::base::session::unix_now();
    let e = LAST.lock().unwrap_or_else(|e| e.into_inner()).remove(&k)?;
    (e.account == account && now - e.at <= WINDOW_SECS).then_some(e.undo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversing_flags_swaps_the_operation() {
        assert_eq!(Undo::reverse_op(true), FlagOp::Remove);
        assert_eq!(Undo::reverse_op(false), FlagOp::Add);
    }
}
