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
//!   collector when the last copy is expunged. A deleted message kept for
//!   undelete (`deleted.rs`) holds a reference too, until purged.

mod account_search;
mod admin_scripts;
mod allowances;
mod annuaire;
mod annuaire_sync;
mod bayes;
mod bulk;
mod collection_objects;
mod collections;
mod contents;
mod credentials;
mod delayed_sends;
mod delegation;
mod deleted;
mod deliver;
mod directory;
mod error;
mod failures;
mod folders;
mod forwarding;
mod housekeeping;
mod identities;
mod list_archive;
mod lists;
mod mailboxes;
mod messages;
mod migrate;
mod migrated;
mod notices;
mod passkeys;
mod people;
mod preferences;
mod quarantine;
mod queue;
mod quota_requests;
mod reminders;
mod resources;
mod revocations;
mod schedule_inbox;
mod search;
mod shares;
mod sharing;
mod sieve_scripts;
mod snapshot;
mod sorting;
mod sql;
mod sso;
mod storage;
mod subscriptions;
mod tenants;
mod turns;
mod types;
mod upstream;
mod vacation;

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::{Arc, Once};
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Connection, Transaction};
use tokio::sync::Mutex;

use turns::{Turn, Turns};

pub use account_search::AccountSearch;
pub use admin_scripts::AdminScript;
pub use allowances::{Allowance, Over};
pub use annuaire::{DirectoryPerson, DirectoryScope, DirectoryUnit, DirectoryWord};
pub use annuaire_sync::{DIRECTORY_CHANGES_KEPT_SECS, DirectoryChanges, DirectorySyncState};
pub use bayes::{BayesStats, GLOBAL_MODEL, TokenCounts, Trained};
pub use collection_objects::{
    CollectionObject, DeleteOutcome, MAX_OBJECT_ROWS, ObjectChange, ObjectTag, Precondition, PutOutcome,
};
pub use collections::{Collection, CollectionKind, CollectionPatch, MAX_COLLECTION_TEXT, NewCollection};
pub use credentials::{AppPassword, CredentialState, JournalEntry, NewJournalEntry, WebSession};
pub use delayed_sends::DelayedSend;
pub use delegation::{DelegationEntry, Grant, NewGrant};
pub use deleted::{DeletedMessage, Deletion, Restored};
pub use error::{Error, Result};
pub use failures::{FailureScope, Guessed, UNLOCK};
pub use folders::Copied;
pub use forwarding::ForwardingPolicy;
pub use housekeeping::{Aged, QuotaState};
pub use identities::{DirectoryEntry, MailIdentity};
pub use list_archive::{ArchivedPost, NewArchived};
pub use lists::{HeldPost, ListRow, NewList};
pub use migrate::AppliedMigration;
pub use migrated::{MigratedMessage, SourceFolder};
pub use notices::{Banner, MAX_BANNER, NewNotice, Notice, Severity};
pub use passkeys::{ClaimedChallenge, NewPasskey, Passkey};
pub use people::{AuditEntry, HrAccountUpdate, HrBatch, HrNewPerson, HrRecord, Person, RoleGrant, Seal};
pub use preferences::{MAX_UNDO_SEND, ReadingPrefs, WebPrefs};
pub use quarantine::{NewQuarantined, Quarantined};
pub use queue::{NewQueued, QueuePageEntry, Queued, QueuedRcpt, RcptStatus};
pub use quota_requests::{QuotaRequest, QuotaRequestStatus};
pub use reminders::{DueAlarm, MAX_REMINDER_ROWS, NewReminder, Reminder};
pub use resources::Resource;
pub use schedule_inbox::{InboxItem, NewInboxItem};
pub use search::{DateCursor, Found};
pub use shares::{ShareGrantee, ShareRow};
pub use sharing::{NewShare, NewShareUpload, Share, ShareDownload, ShareUpload, ShareVersion, SharesPurged};
pub use sieve_scripts::{DeliveryScript, PutScript, ScriptChange, SieveScript, SieveSource};
pub use snapshot::HeldBlob;
pub use sorting::SortKey;
pub use sso::{SsoClient, SsoGrant, SsoPerson};
pub use storage::{Dedup, StorageScope, UnitUsage};
pub use turns::Urgency;
pub use types::*;
pub use upstream::UpstreamProvider;
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
/// an async lock, then the single writer connection. Writers therefore queue
/// in the process, in arrival order within their [`Urgency`] (interactive
/// writes first, see `turns.rs`), instead of sleeping in SQLite's
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
    /// Held from before `BEGIN IMMEDIATE` until commit or rollback. Waiters
    /// get it by [`Urgency`], then in the order they asked.
    lock: Arc<Turns>,
    /// The connection is in `synchronous = NORMAL` for a relaxed write
    /// ([`Store::write_tx_relaxed`]); every other write sets FULL back first.
    relaxed: Arc<std::sync::atomic::AtomicBool>,
    /// Group commit for [`Store::write_tx_grouped`].
    group: Arc<GroupCommit>,
    /// Writers waiting for the lock: a grouped transaction that finds none
    /// commits durably on its own (grouping would only add a write).
    queued: Arc<std::sync::atomic::AtomicUsize>,
}

/// SQLite's group commit. Grouped transactions commit without waiting for
/// the disk, then wait for one durable write that covers every commit made
/// before it: twenty messages accepted at once cost one fsync, not twenty.
/// The durable write is `PRAGMA user_version = n` in FULL mode (a one-page
/// commit; the application-defined header field is used for nothing else):
/// fsyncing the WAL makes the frames of every earlier commit durable too.
#[derive(Debug, Default)]
struct GroupCommit {
    /// Grouped transactions committed so far (counted with the write lock held).
    committed: std::sync::atomic::AtomicU64,
    /// How many of them are known to be on disk.
    durable: std::sync::atomic::AtomicU64,
    /// One durable write at a time; the others wait here and usually find
    /// their commit covered when their turn comes.
    turn: Mutex<()>,
}

impl Writer {
    /// Waits for this writer's turn. A writer still waiting after
    /// [`WRITE_LOCK_TIMEOUT`] gives up with a temporary error (as a pool
    /// that has no connection to give), rather than queue forever behind a
    /// stuck disk.
    async fn turn(&self, urgency: Urgency) -> Result<Turn> {
        use std::sync::atomic::Ordering;
        self.queued.fetch_add(1, Ordering::AcqRel);
        let got = tokio::time::timeout(WRITE_LOCK_TIMEOUT, self.lock.take(urgency)).await;
        self.queued.fetch_sub(1, Ordering::AcqRel);
        got.map_err(|_| Error::Database(sqlx::Error::PoolTimedOut))
    }

    /// Puts the connection in FULL (`durable`) or NORMAL synchronous mode,
    /// if it is not already. Called with the lock held.
    async fn set_durable(&self, durable: bool) -> Result<()> {
        use std::sync::atomic::Ordering;
        if self.relaxed.load(Ordering::Acquire) != durable {
            return Ok(());
        }
        let pragma = if durable { "PRAGMA synchronous = FULL" } else { "PRAGMA synchronous = NORMAL" };
        sqlx::raw_sql(pragma).execute(&self.pool).await?;
        self.relaxed.store(!durable, Ordering::Release);
        Ok(())
    }

    /// Begins a transaction that commits durably by itself (FULL), with the
    /// turn `lock` held. (Its fsync would also cover earlier grouped commits,
    /// but a transaction that ends up writing nothing commits without one, so
    /// the group is not told.)
    async fn begin_durable(&self, lock: Turn) -> Result<WriteTx> {
        self.set_durable(true).await?;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx { tx, _lock: Some(lock), then: AfterCommit::Nothing })
    }

    /// Returns once grouped commit number `mine` is on disk. The durable
    /// write, when one is still needed, waits its turn with `urgency`.
    async fn sync(&self, mine: u64, urgency: Urgency) -> Result<()> {
        use std::sync::atomic::Ordering;
        let _turn = self.group.turn.lock().await;
        if self.group.durable.load(Ordering::Acquire) >= mine {
            return Ok(());
        }
        let _lock = self.turn(urgency).await?;
        let upto = self.group.committed.load(Ordering::Acquire);
        self.set_durable(true).await?;
        let pragma = format!("PRAGMA user_version = {}", upto % i32::MAX as u64);
        sqlx::raw_sql(sqlx::AssertSqlSafe(pragma)).execute(&self.pool).await?;
        self.group.durable.fetch_max(upto, Ordering::AcqRel);
        Ok(())
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
    _lock: Option<Turn>,
    /// What happens after the commit (SQLite only).
    then: AfterCommit,
}

/// What a SQLite write transaction does once committed.
enum AfterCommit {
    /// Nothing: the commit was durable by itself, or relaxed, or on PostgreSQL.
    Nothing,
    /// A grouped commit: wait for the group's durable write.
    Group { writer: Writer, urgency: Urgency },
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<()> {
        use std::sync::atomic::Ordering;
        let WriteTx { tx, _lock: lock, then } = self;
        tx.commit().await?;
        match then {
            AfterCommit::Nothing => Ok(()),
            AfterCommit::Group { writer, urgency } => {
                let mine = writer.group.committed.fetch_add(1, Ordering::AcqRel) + 1;
                // The durable write needs the write lock: give it back first.
                drop(lock);
                writer.sync(mine, urgency).await
            }
        }
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
    _lock: Option<Turn>,
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
    /// An interactive write ([`Urgency::Interactive`]).
    pub(crate) async fn write_tx(&self) -> Result<WriteTx> {
        Ok(match &self.writer {
            Some(w) => {
                let lock = w.turn(Urgency::Interactive).await?;
                w.begin_durable(lock).await?
            }
            None => WriteTx { tx: self.pool.begin().await?, _lock: None, then: AfterCommit::Nothing },
        })
    }

    /// A durable write transaction committed as part of a group: its
    /// `commit` returns once it is on disk, like [`Store::write_tx`], but
    /// concurrent grouped transactions share one fsync on SQLite
    /// ([`GroupCommit`]). PostgreSQL groups concurrent commits itself.
    pub(crate) async fn write_tx_grouped(&self, urgency: Urgency) -> Result<WriteTx> {
        match &self.writer {
            Some(w) => {
                let lock = w.turn(urgency).await?;
                // Alone: one durable commit, as write_tx. Others waiting: share.
                if w.queued.load(std::sync::atomic::Ordering::Acquire) == 0 {
                    return w.begin_durable(lock).await;
                }
                w.set_durable(false).await?;
                let tx = w.pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx { tx, _lock: Some(lock), then: AfterCommit::Group { writer: w.clone(), urgency } })
            }
            None => self.write_tx().await,
        }
    }

    /// A write transaction whose loss in a power cut only makes work be done
    /// again (the outbound queue's bookkeeping after a delivery: at worst a
    /// message is sent twice, which SMTP allows; never an acknowledged message
    /// lost). It commits without waiting for the disk: SQLite in WAL mode with
    /// `synchronous = NORMAL` (the database stays consistent, and the next
    /// ordinary commit makes it durable along with everything before it);
    /// PostgreSQL with `synchronous_commit = off` for this transaction.
    pub(crate) async fn write_tx_relaxed(&self) -> Result<WriteTx> {
        Ok(match &self.writer {
            Some(w) => {
                let lock = w.turn(Urgency::Bulk).await?;
                w.set_durable(false).await?;
                let tx = w.pool.begin_with("BEGIN IMMEDIATE").await?;
                WriteTx { tx, _lock: Some(lock), then: AfterCommit::Nothing }
            }
            None => {
                let mut tx = self.pool.begin().await?;
                sqlx::raw_sql("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
                WriteTx { tx, _lock: None, then: AfterCommit::Nothing }
            }
        })
    }

    /// A connection for one autocommit write statement: on SQLite, the writer
    /// connection with the write lock held, so that single-statement writes
    /// queue with the transactions instead of contending in SQLite.
    pub(crate) async fn write_conn(&self) -> Result<WriteConn> {
        Ok(match &self.writer {
            Some(w) => {
                let lock = w.turn(Urgency::Interactive).await?;
                w.set_durable(true).await?;
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
    Ok(Store {
        pool,
        writer: Some(Writer {
            pool: writer,
            lock: Arc::default(),
            relaxed: Arc::default(),
            group: Arc::default(),
            queued: Arc::default(),
        }),
        backend: Backend::Sqlite,
    })
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
                // mmap_size: reads take the database's pages straight from the
                // kernel's page cache, shared by every connection, instead of
                // copying each page into a private 2 MiB cache per connection
                // (copying pages was the largest cost of FETCH 1:* on a large
                // mailbox: bench/notes.md, R7). Writes still go through
                // write(2) and the WAL.
                sqlx::raw_sql(
                    "PRAGMA busy_timeout = 10000; \
                     PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; \
                     PRAGMA journal_size_limit = 16777216; \
                     PRAGMA mmap_size = 1073741824; \
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

    /// A relaxed write leaves the writer in NORMAL mode; the next ordinary
    /// write, transaction or single statement, is FULL again.
    #[tokio::test]
    async fn relaxed_writes_never_leak_into_ordinary_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
        let writer = store.writer.clone().unwrap();
        let mode =
            || async { sqlx::query_scalar::<_, i64>("PRAGMA synchronous").fetch_one(&writer.pool).await.unwrap() };
        assert_eq!(mode().await, 2, "FULL at start");
        store.write_tx_relaxed().await.unwrap().commit().await.unwrap();
        assert_eq!(mode().await, 1, "NORMAL for the relaxed write");
        store.write_tx().await.unwrap().commit().await.unwrap();
        assert_eq!(mode().await, 2, "FULL again for a transaction");
        drop(store.write_tx_relaxed().await.unwrap());
        drop(store.write_conn().await.unwrap());
        assert_eq!(mode().await, 2, "FULL again for a single statement");
    }

    /// A store whose writer is held while twenty bulk writers (deliveries)
    /// queue behind it, each inserting one row into `t`.
    async fn twenty_queued_deliveries() -> (tempfile::TempDir, Store, WriteConn, tokio::task::JoinSet<()>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
        sqlx::raw_sql("CREATE TABLE t (n INTEGER)").execute(&mut *store.write_conn().await.unwrap()).await.unwrap();
        let held = store.write_conn().await.unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..20i64 {
            let store = store.clone();
            tasks.spawn(async move {
                let mut tx = store.write_tx_grouped(Urgency::Bulk).await.unwrap();
                sqlx::query("INSERT INTO t (n) VALUES ($1)").bind(n).execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            });
        }
        (dir, store, held, tasks)
    }

    /// A flag change (an interactive write) arriving behind twenty queued
    /// deliveries gets the writer next, not after them (issue 18: STORE and
    /// EXPUNGE waited behind deliveries' group commits).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn interactive_writes_overtake_queued_deliveries() {
        let (_dir, store, held, mut tasks) = twenty_queued_deliveries().await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let flags = {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.write_tx().await.unwrap();
                let before: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut *tx).await.unwrap();
                sqlx::query("INSERT INTO t (n) VALUES (-1)").execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
                before
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        drop(held);
        assert_eq!(flags.await.unwrap(), 0, "the interactive write went first");
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&store.pool).await.unwrap();
        assert_eq!(rows, 21);
    }

    /// Grouped commits return only once a durable write covers them, and
    /// leave the writer in FULL mode. A transaction waiting behind others
    /// is grouped: here twenty queue behind a held lock.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn grouped_commits_are_covered_by_a_durable_write() {
        use std::sync::atomic::Ordering;
        let (_dir, store, held, mut tasks) = twenty_queued_deliveries().await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        drop(held);
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
        let writer = store.writer.clone().unwrap();
        // Those that found the writer free committed durably on their own;
        // every grouped one is covered by a durable write.
        let grouped = writer.group.committed.load(Ordering::Acquire);
        assert!((19..=20).contains(&grouped), "{grouped}: all but perhaps the last were queued");
        assert_eq!(writer.group.durable.load(Ordering::Acquire), grouped);
        let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&writer.pool).await.unwrap();
        assert!(version as u64 <= grouped, "{version} durable writes for {grouped} grouped commits");
        let mode: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&writer.pool).await.unwrap();
        assert_eq!(mode, 2, "FULL after the group");
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&store.pool).await.unwrap();
        assert_eq!(rows, 20);
    }
}
