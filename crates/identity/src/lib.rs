//! Identity: who may use Ardoise, and how they prove it.
//!
//! Accounts follow HR records ([`lifecycle`]: the directory sync, account
//! states, suspension that takes effect at once, administrative scopes and
//! the audit log) and prove who they are with credentials ([`credentials`]:
//! passwords and their policy, TOTP, recovery codes, app passwords, brute
//! force slow-down and the connection journal). [`directory`] is the académie
//! directory staff see of each other (the web's Annuaire, the composer's
//! autocomplete, the CardDAV directory). Every protocol (SMTP, IMAP,
//! the web) asks this crate, and only this crate, whether a login succeeds,
//! through one [`Identity`] service object built once by the binary.
//! Administrators act on accounts through [`admin`], which checks their
//! role and scope and audits every change.

pub mod admin;
pub mod credentials;
pub mod directory;
mod keyfile;
pub mod lifecycle;
mod service;

pub use service::{Identity, Settings};
/// Rows and errors of the identity data that the service hands out as they
/// are, so that adapters never name the store.
pub use store::{Account, Error as StoreError, Passkey, WebSession};
