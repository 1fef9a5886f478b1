//! The store's error type and its classification as temporary or permanent.

use model::{ErrorKind, Transience};

/// What can go wrong in the metadata store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named thing (account, mailbox, message...) does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change collides with existing data (address taken, folder exists).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request itself is wrong (unknown domain, bad folder name...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A stored value cannot be decoded (for example an unknown role text).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The local file system failed (creating the SQLite folder).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    /// Constraint violations are facts about the data, not outages: they map
    /// to permanent errors so that nobody retries them forever.
    fn from(e: sqlx::Error) -> Error {
        if let Some(db) = e.as_database_error() {
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    return Error::Conflict(db.message().to_owned());
                }
                sqlx::error::ErrorKind::ForeignKeyViolation
                | sqlx::error::ErrorKind::NotNullViolation
                | sqlx::error::ErrorKind::CheckViolation => {
                    return Error::Invalid(db.message().to_owned());
                }
                _ => {}
            }
        }
        Error::Database(e)
    }
}

impl ErrorKind for Error {
    fn transience(&self) -> Transience {
        match self {
            Error::Database(_) | Error::Io(_) => Transience::Temporary,
            Error::NotFound(_) | Error::Conflict(_) | Error::Invalid(_) | Error::Corrupt(_) => Transience::Permanent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_temporary_and_the_rest_permanent() {
        assert_eq!(Error::Database(sqlx::Error::PoolTimedOut).transience(), Transience::Temporary);
        assert_eq!(Error::Io(std::io::Error::other("disk")).transience(), Transience::Temporary);
        assert_eq!(Error::NotFound("account").transience(), Transience::Permanent);
        assert_eq!(Error::Conflict("x".into()).transience(), Transience::Permanent);
    }
}
