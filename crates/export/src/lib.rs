//! The user's own export (RGPD portability): everything an account may take
//! with it, as one .zip in formats other software reads ([`archive`]).
//!
//! Two doors lead here. `ardoise admin account export` writes an archive
//! straight to a file ([`archive::write`]); the webmail's Réglages →
//! « Exporter mes données » goes through [`Exports`], which builds the
//! archive in a background task (never in the request), one at a time per
//! account and a few at a time per process, shows its progress, and offers
//! it once: a random single-use link bound to the account, the file unlinked
//! as the download starts or after the keeping delay. Requests and downloads
//! are written to the audit log.
//!
//! It reads mail through `mailstore`, calendars and contacts through
//! `groupware` and the connection journal through `identity`, so adapters
//! reach an export without naming the store.

pub mod archive;
mod jobs;

use std::sync::Arc;

use model::{ErrorKind, Transience};

pub use archive::{Exported, Progress};
pub use jobs::{Download, ExportSettings, Exports, Failure, Started, Status};

/// The domain services an export reads.
#[derive(Clone)]
pub struct Sources {
    pub mailstore: Arc<mailstore::Mailstore>,
    pub groupware: Arc<groupware::Groupware>,
    pub identity: Arc<identity::Identity>,
}

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The archive would grow past the installation's cap (bytes).
    #[error("l'export dépasserait la taille maximale autorisée ({max} octets)")]
    TooLarge { max: u64 },
    #[error("courrier : {0}")]
    Mail(#[from] mailstore::Error),
    #[error("agendas et contacts : {0}")]
    Groupware(#[from] groupware::Error),
    #[error("journal de connexion : {0}")]
    Store(#[from] store::Error),
    #[error("écriture de l'archive : {0}")]
    Io(#[from] std::io::Error),
    #[error("archive : {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("journal.csv : {0}")]
    Csv(#[from] csv::Error),
}

impl ErrorKind for Error {
    fn transience(&self) -> Transience {
        match self {
            Error::TooLarge { .. } => Transience::Permanent,
            Error::Mail(e) => e.transience(),
            Error::Groupware(e) => e.transience(),
            Error::Store(e) => e.transience(),
            Error::Io(_) | Error::Zip(_) | Error::Csv(_) => Transience::Temporary,
        }
    }
}
