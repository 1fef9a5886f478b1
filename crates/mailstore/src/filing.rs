//! Who hears when an owner files messages from one folder into another.
//!
//! IMAP COPY and MOVE (UID forms too) and every move of the webmail (to a
//! folder, « Indésirable », « Pas indésirable », undo) copy through
//! [`crate::Mailstore::copy`]; it tells the [`FilingHook`] the binary
//! installed, after the copy committed. [`crate::Mailstore::confirm_filed`]
//! tells it of messages confirmed where they are (« Indésirable » on a
//! message already in Indésirables), as a filing from a folder into itself.
//! The spam classifier's training listens here (`hygiene::bayes::learn`): a
//! move into Junk is a spam example, a move out of it a good one. The hook
//! is told, never waited for: it must not block (it queues the work for a
//! task of its own), so a MOVE of a thousand messages costs the client no
//! more than before, and a failure to train never fails the move.

use model::{AccountId, MailboxId};

/// Messages the owner filed: copied from `from` into `to`, where they have
/// these UIDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    pub account: AccountId,
    pub from: MailboxId,
    pub to: MailboxId,
    pub uids: Vec<i64>,
}

/// Told of every [`Filing`]; must return at once.
pub trait FilingHook: Send + Sync {
    fn filed(&self, filing: Filing);
}
