//! The metadata store: domains, accounts, organisational units, mailboxes,
//! messages and the change log, behind one interface with two real backends.
//!
//! SQLite (in WAL mode, one writer at a time) is the embedded default;
//! PostgreSQL is the scale-out engine shared by several nodes. Both run the
//! very same SQL through sqlx's `Any` driver, so there is one implementation of
//! every query; only the schema files (one per backend and version, same
//! logical schema) and row locking differ.
//!
//! Invariants the rest of the platform relies on:
//! - A call that returned `Ok` is durable: SQLite commits with
//!   `synchronous=FULL`, PostgreSQL with `synchronous_commit` at least `on`.
//! - Within a mailbox, UIDs and modseqs only grow and are handed out in commit
//!   order (the mailbox row is locked while they are allocated).
//! - Within an account, change ids are handed out in commit order: every write
//!   that logs a change locks the account row first. Across accounts, change
//!   ids are unique but PostgreSQL may commit them out of order.
//! - Write transactions lock rows in one order (accounts, then mailboxes, then
//!   blobs, each by increasing key), so concurrent deliveries cannot deadlock.
//! - Message bodies live in the blob store; here a blob row counts the
//!   messages that reference it, and is released (refcount 0) for the garbage
//!   collector when the last copy is expunged.

mod credentials;
mod deliver;
mod directory;
mod error;
mod folders;
mod imapx;
mod mailboxes;
mod messages;
mod migrate;
mod people;
mod queue;
mod sql;
mod types;
mod vacation;

use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Connection, Transaction};

pub use credentials::{AppPassword, CredentialState, JournalEntry, NewJournalEntry, WebSession};
pub use error::{Error, Result};
pub use folders::Copied;
pub use migrate::AppliedMigration;
pub use people::{AuditEntry, HrAccountUpdate, HrBatch, HrNewPerson, HrRecord, Person, RoleGrant, Seal};
pub use queue::{NewQueued, Queued, QueuedRcpt, RcptStatus};
pub use types::*;
pub use vacation::Vacation;

/// Which database engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::Invalid(format!(
                "unsupported database URL (expected sqlite://PATH or postgres://...): {}",
                redact(url)
            )))
        }
    }
}

/// A handle on the metadata database. Cheap to clone; clones share one pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// SQLite waits this long for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 10_000;
/// Connections per pool. SQLite serialises writers anyway; its extra
/// connections serve concurrent readers.
const SQLITE_POOL_SIZE: u32 = 8;
const POSTGRES_POOL_SIZE: u32 = 16;

impl Store {
    /// Opens a store from `sqlite://PATH` (the file is created if missing) or
    /// `postgres://...`. The schema is not touched: call [`Store::migrate`].
    pub async fn open(url: &str) -> Result<Store> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        match Backend::of_url(url)? {
            Backend::Sqlite => open_sqlite(url).await,
            Backend::Postgres => open_postgres(url).await,
        }
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every pooled connection, waiting for those in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes
    /// later can fail with SQLITE_BUSY without waiting, whereas waiting for the
    /// lock up front honours `busy_timeout`.
    pub(crate) async fn write_tx(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}

async fn open_sqlite(url: &str) -> Result<Store> {
    let url = sqlite_url_creating_file(url)?;
    if let Some(dir) = sqlite_path(&url).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }

    // Switching to WAL needs an exclusive lock that busy_timeout does not wait
    // for, so it is done once here, alone; the mode is then stored in the file
    // and the per-connection pragma below is a no-op.
    let mut conn = AnyConnection::connect(&url).await?;
    sqlx::raw_sql("PRAGMA busy_timeout = 10000").execute(&mut conn).await?;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL").fetch_one(&mut conn).await?;
    conn.close().await?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Invalid(format!(
            "SQLite database cannot use WAL (journal mode {mode}); in-memory databases are not supported"
        )));
    }

    let pool = AnyPoolOptions::new()
        .max_connections(SQLITE_POOL_SIZE)
        .acquire_timeout(Duration::from_millis(SQLITE_BUSY_TIMEOUT_MS * 3))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // busy_timeout comes first so that the other pragmas wait too.
                sqlx::raw_sql(
                    "PRAGMA busy_timeout = 10000; \
                     PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON;",
                )
                .execute(conn)
                .await?;
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    Ok(Store { pool, backend: Backend::Sqlite })
}

async fn open_postgres(url: &str) -> Result<Store> {
    let pool = AnyPoolOptions::new()
        .max_connections(POSTGRES_POOL_SIZE)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // A 2xx reply promises the data is on disk: refuse to run with
                // asynchronous commits even if the server default allows them.
                let mode: String = sqlx::query_scalar("SHOW synchronous_commit").fetch_one(&mut *conn).await?;
                if mode == "off" || mode == "local" {
                    sqlx::raw_sql("SET synchronous_commit = on").execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await?;
    Ok(Store { pool, backend: Backend::Postgres })
}

/// Adds `mode=rwc` (create if missing) unless the URL already names a mode.
fn sqlite_url_creating_file(url: &str) -> Result<String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    if base.contains(":memory:") || query.contains("mode=memory") {
        return Err(Error::Invalid("in-memory SQLite databases are not supported: give a file path".into()));
    }
    if query.split('&').any(|kv| kv.starts_with("mode=")) {
        return Ok(url.to_owned());
    }
    let sep = if query.is_empty() { "?" } else { "&" };
    Ok(format!("{url}{sep}mode=rwc"))
}

/// The file path inside a `sqlite://PATH` or `sqlite:PATH` URL.
fn sqlite_path(url: &str) -> &Path {
    let base = url.split_once('?').map_or(url, |(b, _)| b);
    let path = base.strip_prefix("sqlite://").or_else(|| base.strip_prefix("sqlite:")).unwrap_or(base);
    Path::new(path)
}

/// Hides the password of a database URL before it goes into a message.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// The current time in unix seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_the_file() {
        assert_eq!(sqlite_url_creating_file("sqlite:///var/a.db").unwrap(), "sqlite:///var/a.db?mode=rwc");
        assert_eq!(
            sqlite_url_creating_file("sqlite://a.db?cache=shared").unwrap(),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(sqlite_url_creating_file("sqlite://a.db?mode=ro").unwrap(), "sqlite://a.db?mode=ro");
        assert!(sqlite_url_creating_file("sqlite::memory:").is_err());
        assert_eq!(sqlite_path("sqlite:///var/lib/a.db?mode=rwc"), Path::new("/var/lib/a.db"));
        assert_eq!(sqlite_path("sqlite:data/a.db"), Path::new("data/a.db"));
    }

    #[test]
    fn urls_pick_a_backend_and_hide_passwords() {
        assert_eq!(Backend::of_url("postgresql://u@h/db").unwrap(), Backend::Postgres);
        let err = Backend::of_url("mysql://root:secret@h/db").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
        assert!(err.contains("root:***@h/db"), "{err}");
    }
}
