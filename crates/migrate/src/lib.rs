//! Mail brought into Ardoise from elsewhere: `ardoise migrate imap` copies
//! accounts from another IMAP server (imapsync's job: folders, special uses,
//! flags, keywords, internal dates, subscriptions; idempotent and
//! resumable), `ardoise import mbox|maildir` files mail from disk.
//!
//! An adapter: it speaks IMAP as a client ([`imap`], ours, sans-IO parsing
//! in [`imap::proto`]) and reads mbox and Maildir files, and reaches mail
//! data only through [`mailstore::Mailstore`]: folders found or made,
//! deliveries with their folder, flags and date, and the map of migrated
//! messages (store schema 19) that makes a rerun copy only what is new.
//! It never names the store, the blobs or the configuration.

pub mod folders;
pub mod from_imap;
pub mod imap;
pub mod import;
pub mod maildir;
pub mod mbox;
pub mod progress;
pub mod report;
pub mod target;

pub use imap::client::Security;
pub use report::{Outcome, Report};
