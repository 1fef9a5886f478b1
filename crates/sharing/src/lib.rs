//! Large-file sharing (« Partage de fichiers », issue 22): what FileSender
//! does, inside the mail platform.
//!
//! A member of staff uploads a file too large for mail, resumably (the web
//! drives [`Sharing::append`] with the tus 1.0 protocol: each piece is
//! appended to a temporary file and fsync'd before its offset is
//! acknowledged), then shares it behind a link with an expiry, an optional
//! password and a download journal; a new upload of the same document is a
//! new version, the older ones kept. Anyone with the link downloads without
//! an account.
//!
//! Why a crate of its own: the files are neither mail nor calendar data, they
//! have their own quota and lifetime, and they live in a content-addressed
//! store of their own (`<data_dir>/partage/`, [`blob::Files`]: always on the local disk, even when the
//! messages are in a bucket; a cluster keeps sharing on one node for now) so that the
//! mail store's garbage collector, which knows only message references, never
//! sees them. The metadata is `store`'s (schema 32, `store::sharing`).
//!
//! Files are never held in memory: uploads are written piece by piece,
//! hashed by reading the finished file once, and read back in ranges.
//!
//! With an antivirus (`[hygiene] clamd`, [`Settings::antivirus`]), an upload
//! becomes a file one may share only once clamd said it is clean: the last
//! byte streams it to clamd (chunk by chunk, from the disk). Infected, it is
//! deleted at once and the event goes to the audit log; clamd unreachable,
//! it stays received but unusable, « en attente d'analyse », and the scan is
//! asked again when its owner shares it (no link exists before a clean
//! answer, so no one, not even the owner, downloads an unscanned file). A
//! file larger than clamd reads ([`hygiene::clamd::Clamd::max_size`]) is
//! refused before a byte is sent: a shared file is either scanned or not
//! accepted.

mod shares;
mod throttle;
mod upload;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use model::{ErrorKind, Transience};
use tokio::sync::Semaphore;

pub use shares::{Download, Link, NewLink, ShareDetail, ShareSummary};
pub use store::{Share, ShareDownload, ShareVersion, SharesPurged};
pub use throttle::Throttle;
pub use upload::{UploadState, clean_filename};

/// Limits of the service (`[sharing]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Largest file, in bytes.
    pub max_file_size: u64,
    /// Bytes an account's live shares and uploads may take together.
    pub quota: u64,
    /// A share's life when its owner chooses none.
    pub default_expiry: Duration,
    /// The longest life an owner may choose.
    pub max_expiry: Duration,
    /// ClamAV's daemon (`[hygiene] clamd`, the MX's client): every upload is
    /// scanned before it can be shared.
    pub antivirus: Option<hygiene::clamd::Clamd>,
}

impl Settings {
    /// The largest file one may upload: `max_file_size`, or less when the
    /// antivirus reads less.
    pub fn largest_file(&self) -> u64 {
        match &self.antivirus {
            Some(clamd) => self.max_file_size.min(clamd.max_size as u64),
            None => self.max_file_size,
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_file_size: 2 << 30,
            quota: 10 << 30,
            default_expiry: Duration::from_secs(10 * 86400),
            max_expiry: Duration::from_secs(30 * 86400),
            antivirus: None,
        }
    }
}

/// Why a sharing operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such upload or share for this account, or no such link.
    #[error("introuvable")]
    NotFound,
    /// The link was revoked or has expired.
    #[error("lien expiré ou révoqué")]
    Gone,
    /// The file is larger than `[sharing] max_file_size`.
    #[error("fichier trop volumineux (au plus {max} octets)")]
    TooLarge { max: u64 },
    /// The file is larger than the antivirus reads (`[hygiene]
    /// clamd_max_size`): it could not be scanned, so it is not accepted.
    #[error("fichier trop volumineux pour l'analyse antivirale (au plus {max} octets)")]
    TooLargeToScan { max: u64 },
    /// The antivirus found a virus: the upload was deleted.
    #[error("virus trouvé ({signature}) : fichier supprimé")]
    Infected { signature: String },
    /// Every byte arrived but the antivirus could not answer: the upload is
    /// kept, unusable until a scan says it is clean (asked again when it is
    /// shared).
    #[error("en attente d'analyse antivirale : {0}")]
    AwaitingScan(String),
    /// The account's sharing quota would be exceeded.
    #[error("espace de partage plein ({used} octets utilisés sur {quota})")]
    OverQuota { used: u64, quota: u64 },
    /// A piece sent at an offset other than the upload's.
    #[error("décalage {got} attendu {expected}")]
    BadOffset { expected: u64, got: u64 },
    /// More bytes than the upload announced.
    #[error("plus d'octets que la longueur annoncée ({length})")]
    TooLong { length: u64 },
    /// Another request is writing this upload.
    #[error("téléversement déjà en cours d'écriture")]
    Busy,
    /// A link's password is needed, or the one given is wrong.
    #[error("mot de passe requis ou incorrect")]
    Password,
    /// Too many wrong links or passwords from one address: wait.
    #[error("trop d'essais, réessayez plus tard")]
    Throttled,
    /// A request that can never succeed (bad name, expiry, state).
    #[error("{0}")]
    Invalid(String),
    #[error("métadonnées : {0}")]
    Store(#[from] store::Error),
    #[error("fichiers : {0}")]
    Io(#[from] std::io::Error),
}

impl ErrorKind for Error {
    fn transience(&self) -> Transience {
        match self {
            Error::Store(e) => e.transience(),
            Error::Io(_) | Error::Busy | Error::Throttled | Error::AwaitingScan(_) => Transience::Temporary,
            _ => Transience::Permanent,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The sharing service. One per process; cheap to share behind an `Arc`.
pub struct Sharing {
    store: store::Store,
    blobs: blob::Files,
    /// Uploads in progress: `<root>/televersements/<id>`.
    uploads: PathBuf,
    settings: Settings,
    /// Uploads being written by a request now (a second one is `Busy`).
    writing: Mutex<std::collections::HashSet<String>>,
    /// Wrong links and passwords, by address.
    throttle: Throttle,
    /// One argon2 computation at a time (19 MiB each).
    argon: Arc<Semaphore>,
}

impl Sharing {
    /// Opens the service with its files under `root` (made if needed).
    pub fn open(store: store::Store, root: impl Into<PathBuf>, settings: Settings) -> std::io::Result<Sharing> {
        let root = root.into();
        let blobs = blob::Files::open(&root)?;
        let uploads = root.join("televersements");
        std::fs::create_dir_all(&uploads)?;
        Ok(Sharing {
            store,
            blobs,
            uploads,
            settings,
            writing: Mutex::new(Default::default()),
            throttle: Throttle::default(),
            argon: Arc::new(Semaphore::new(1)),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The limiter of link and password guesses (the web asks it before a lookup).
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }
}

/// A fresh random identifier of `bytes` bytes, in hex.
fn random_id(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Unix seconds now.
fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
