//! Calendars and address books: the groupware domain behind CalDAV and
//! CardDAV (and, later, the web agenda and contacts pages).
//!
//! A [`Groupware`] service holds its own [`store::Store`] handle and offers
//! typed operations on one account's collections: list (every account gets
//! « Agenda » and « Contacts » on first use), create, change, delete;
//! objects put under `If-Match`/`If-None-Match` preconditions, read, deleted,
//! queried by time range, read by name, and the changes since a sync token.
//! Every object is validated with calcard before it is stored
//! ([`ical::read`], [`vcard::read`]): a malformed one is an
//! [`Error::Invalid`] with a short reason. Calendar objects are stored with
//! the UTC bounds of their occurrences (recurrences expanded up to
//! [`Settings::expansion_cap`]), so a time-range query reads few rows; the
//! occurrences of those rows are then checked exactly.
//!
//! It knows nothing of HTTP or XML: `dav` turns these errors into statuses.
//! Callers pass the account that is logged in: operations are on that
//! account's own collections, or on calendars [`sharing`] finds shared with
//! it (the adapters check the right before writing). [`event`] and
//! [`agenda`] are the web agenda's side: events from a form, occurrences
//! in a range.

pub mod agenda;
mod collections;
pub mod contacts;
mod delegation;
pub mod event;
pub mod ical;
pub mod import;
mod objects;
pub mod reminders;
pub mod scheduling;
pub mod sharing;
pub mod vcard;

use calcard::common::timezone::Tz;
use model::{ErrorKind, Transience};
use store::Store;

pub use agenda::Occurrence;
pub use collections::{DEFAULT_ADDRESS_BOOK, DEFAULT_CALENDAR, NewProps};
pub use import::{Entry, Imported, split_ics, split_vcf};
pub use objects::{Changes, Query, Written, etag_of};
pub use sharing::{Right, Share, Shared};
pub use store::InboxItem;
pub use store::ShareGrantee;
pub use store::{Collection, CollectionKind, CollectionObject, CollectionPatch, ObjectTag, Precondition};

/// Limits and defaults of the service.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest iCalendar or vCard text accepted (bytes).
    pub max_object_bytes: usize,
    /// Most collections per account.
    pub max_collections: i64,
    /// The zone floating times and all-day events are read in (IANA name).
    pub time_zone: String,
    /// Most occurrences computed per object.
    pub expansion_cap: usize,
}

impl Default for Settings {
    /// 1 MiB per object, 100 collections, Europe/Paris, 10,000 occurrences.
    fn default() -> Settings {
        Settings {
            max_object_bytes: 1 << 20,
            max_collections: 100,
            time_zone: "Europe/Paris".into(),
            expansion_cap: 10_000,
        }
    }
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such collection or object (of this account).
    #[error("not found")]
    NotFound,
    /// A collection of that name exists already.
    #[error("already exists")]
    Exists,
    /// Another object of the collection, named here, has the same UID.
    #[error("UID already used by {0}")]
    UidConflict(String),
    /// The `If-Match` / `If-None-Match` condition does not hold.
    #[error("precondition failed")]
    PreconditionFailed,
    /// The content or a name is not acceptable; the reason is short and French.
    #[error("invalid: {0}")]
    Invalid(String),
    /// A calendar object of a type the calendar does not take.
    #[error("component {0} not supported by this calendar")]
    UnsupportedComponent(String),
    /// The object is larger than [`Settings::max_object_bytes`].
    #[error("object larger than {0} bytes")]
    TooLarge(usize),
    /// The account has [`Settings::max_collections`] collections already.
    #[error("too many collections")]
    TooManyCollections,
    /// The sync token is not one of this collection, or is from its future.
    #[error("invalid sync token")]
    InvalidSyncToken,
    /// The store failed.
    #[error(transparent)]
    Store(store::Error),
}

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Error {
        match e {
            store::Error::NotFound(_) => Error::NotFound,
            store::Error::Conflict(_) => Error::Exists,
            store::Error::Invalid(why) => Error::Invalid(why),
            other => Error::Store(other),
        }
    }
}

impl ErrorKind for Error {
    fn transience(&self) -> Transience {
        match self {
            Error::Store(e) => e.transience(),
            _ => Transience::Permanent,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The groupware service.
pub struct Groupware {
    store: Store,
    settings: Settings,
    expansion: ical::Expansion,
    /// The sender of scheduling's mails, installed by the binary.
    postman: std::sync::OnceLock<std::sync::Arc<dyn scheduling::Postman>>,
}

impl Groupware {
    /// `Err` when the settings' time zone is unknown.
    pub fn new(store: Store, settings: Settings) -> Result<Groupware> {
        let zone: Tz = settings
            .time_zone
            .parse()
            .map_err(|_| Error::Invalid(format!("fuseau horaire inconnu : {}", settings.time_zone)))?;
        let expansion = ical::Expansion { zone, cap: settings.expansion_cap };
        Ok(Groupware { store, settings, expansion, postman: std::sync::OnceLock::new() })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}

/// Whether `name` may name a collection or an object in a URL path: not
/// empty, at most 255 bytes, no `/`, no control character, not `.` or `..`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}
