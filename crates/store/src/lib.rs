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

mod bulk;
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

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Connection, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

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

/// A handle on the metadata database. Cheap to clone; clones share the pools
/// and the write lock.
///
/// On SQLite every write goes through one in-process path (see [`Writer`]):
/// an async FIFO lock, then the single writer connection. Writers therefore
/// queue in the process, in arrival order, instead of sleeping in SQLite's
/// busy handler (which backs off 1..100 ms, hands the lock over in no order and
/// keeps a pool connection while asleep). Readers use their own pool and never
/// wait for a writer: in WAL mode a reader does not block on the write lock, and
/// no writer ever holds one of the readers' connections.
///
/// On PostgreSQL there is no global lock: writers lock rows (see
/// [`Store::lock_ids`]) and share the pool with readers.
#[derive(Debug, Clone)]
pub struct Store {
    /// Readers (and, on PostgreSQL, writers too).
    pool: AnyPool,
    /// SQLite only: the write path.
    writer: Option<Writer>,
    backend: Backend,
}

/// SQLite's write path: one connection, taken only with the lock held.
#[derive(Debug, Clone)]
struct Writer {
    pool: AnyPool,
    /// Held from before `BEGIN IMMEDIATE` until commit or rollback. tokio's
    /// mutex is fair: waiters get it in the order they asked.
    lock: Arc<Mutex<()>>,
}

impl Writer {
    /// Waits for this writer's turn. A writer still waiting after
    /// [`WRITE_LOCK_TIMEOUT`] gives up with a temporary error (as a pool
    /// that has no connection to give), rather than queue forever behind a
    /// stuck disk.
    async fn turn(&self) -> Result<OwnedMutexGuard<()>> {
        tokio::time::timeout(WRITE_LOCK_TIMEOUT, self.lock.clone().lock_owned())
            .await
            .map_err(|_| Error::Database(sqlx::Error::PoolTimedOut))
    }
}

/// How long a SQLite writer waits for its turn before giving up.
const WRITE_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// SQLite waits this long for the write lock before giving up. With the
/// in-process lock this only matters when another process (an `ardoise admin`
/// command, a backup) writes to the same file.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 10_000;
/// Reader connections. Readers in WAL mode run in parallel with each other and
/// with the writer; each sqlx SQLite connection has its own worker thread, so
/// more than a few per core only adds hand-offs. Writers have their own single
/// connection and never take one of these.
const SQLITE_READ_POOL_SIZE: u32 = 8;
const POSTGRES_POOL_SIZE: u32 = 16;

/// A write transaction: on SQLite it also holds the in-process write lock until
/// it is committed, rolled back or dropped (dropping rolls back). Derefs to the
/// connection, so queries run on `&mut *tx`.
pub(crate) struct WriteTx {
    // Field order matters: the transaction is dropped (its rollback queued on
    // the writer connection) before the lock is released.
    tx: Transaction<'static, Any>,
    _lock: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// A connection for one autocommit write statement (on SQLite: the writer
/// connection, with the write lock held until this is dropped).
pub(crate) struct WriteConn {
    conn: PoolConnection<Any>,
    _lock: Option<OwnedMutexGuard<()>>,
}

impl Deref for WriteConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

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
        if let Some(w) = &self.writer {
            w.pool.close().await;
        }
        self.pool.close().await;
    }

    /// Starts a write transaction. On SQLite it first waits its turn for the
    /// in-process write lock, then takes SQLite's write lock at once (`BEGIN
    /// IMMEDIATE`, which then never waits unless another process writes): a
    /// deferred transaction that reads first and writes later could fail with
    /// SQLITE_BUSY without waiting.
    pub(crate) async fn write_tx(&self) -> Result<WriteTx> {
        Ok(match &self.writer {
            Some(w) => {
                let lock = w.turn().await?;
                let tx = w.pool.begin_with("BEGIN IMMEDIATE").await?;
                WriteTx { tx, _lock: Some(lock) }
            }
            None => WriteTx { tx: self.pool.begin().await?, _lock: None },
        })
    }

    /// A connection for one autocommit write statement: on SQLite, the writer
    /// connection with the write lock held, so that single-statement writes
    /// queue with the transactions instead of contending in SQLite.
    pub(crate) async fn write_conn(&self) -> Result<WriteConn> {
        Ok(match &self.writer {
            Some(w) => {
                let lock = w.turn().await?;
                WriteConn { conn: w.pool.acquire().await?, _lock: Some(lock) }
            }
            None => WriteConn { conn: self.pool.acquire().await?, _lock: None },
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

    let pool = sqlite_pool(SQLITE_READ_POOL_SIZE, 0).connect(&url).await?;
    // The writer's connection is opened at once and kept: every write waits
    // for it (under the lock), so it must never be closed for being idle.
    let writer = sqlite_pool(1, 1).idle_timeout(None).max_lifetime(None).connect(&url).await?;
    Ok(Store { pool, writer: Some(Writer { pool: writer, lock: Arc::new(Mutex::new(())) }), backend: Backend::Sqlite })
}

fn sqlite_pool(size: u32, min: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(size)
        .min_connections(min)
        .acquire_timeout(Duration::from_millis(SQLITE_BUSY_TIMEOUT_MS * 3))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // busy_timeout comes first so that the other pragmas wait too.
                // journal_size_limit: after one huge transaction (a circular to
                // 40,000 staff grows the WAL to ~44 MB), the WAL file is cut
                // back to 16 MiB when it is next reset instead of keeping its
                // peak size for ever.
                sqlx::raw_sql(
                    "PRAGMA busy_timeout = 10000; \
                     PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; \
                     PRAGMA journal_size_limit = 16777216; \
                     PRAGMA foreign_keys = ON;",
                )
                .execute(conn)
                .await?;
                Ok(())
            })
        })
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
    Ok(Store { pool, writer: None, backend: Backend::Postgres })
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
