//! Pure vocabulary shared by every layer: addresses, roles, statuses, special-use
//! folders, flags, organisational units and the error classification that decides
//! whether a protocol reply is temporary or permanent.
//!
//! This crate knows nothing about tokio, SQL, the file system or any wire format;
//! it only holds types and the rules that belong to them (parsing, normalising).

mod account;
mod address;
pub mod collate;
mod credential;
mod error;
mod flags;
pub mod mutf7;
mod org;
pub mod percent;
mod rights;
pub mod translit;
pub mod vtext;

pub use account::{AccountStatus, Role, SpecialUse};
pub use address::{Address, AddressError, Domain};
pub use credential::{Credential, Proof, Revocation};
pub use error::{ErrorKind, Transience};
pub use flags::{Flag, Keyword};
pub use org::{OrgUnitKind, Uai, UaiError};
pub use rights::{ALL_RIGHTS, Rights, SendRights, UnknownRight};

/// Database identifier of an account.
pub type AccountId = i64;
/// Database identifier of a mailbox (folder).
pub type MailboxId = i64;
/// Database identifier of a stored message row (one per mailbox copy).
pub type MessageId = i64;
/// Database identifier of an organisational unit.
pub type OrgUnitId = i64;

/// Content hash identifying a blob (lower-case hex BLAKE3, 64 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct BlobId(String);

impl BlobId {
    /// Wraps a hex digest; returns `None` unless it is 64 lower-case hex digits.
    pub fn from_hex(hex: &str) -> Option<BlobId> {
        let ok = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| BlobId(hex.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
