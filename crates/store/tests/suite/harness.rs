//! Runs one test body against a fresh, migrated store on each backend.
//!
//! SQLite tests get a file in a temporary folder. PostgreSQL tests get a
//! database of their own (`ardoise_t_<unique>`), created through the server
//! named by `ARDOISE_TEST_POSTGRES` and dropped afterwards, so that tests run
//! in parallel. When PostgreSQL cannot be reached the test is skipped with a
//! message, unless `CI=true`, where it fails.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::{AnyConnection, Connection};
use store::Store;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// What a test body receives.
pub struct Ctx {
    pub store: Store,
    /// The URL the store was opened with, to open it again.
    pub url: String,
}

impl Ctx {
    /// Opens a second, independent handle on the same database.
    pub async fn reopen(&self) -> Store {
        Store::open(&self.url).await.expect("reopen the store")
    }
}

/// Runs `test` and then the clean-up, re-raising the test's panic if any.
async fn run<F, Fut>(url: String, test: F)
where
    F: FnOnce(Ctx) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let store = Store::open(&url).await.expect("open the store");
    store.migrate().await.expect("migrate");
    let outcome = tokio::spawn(test(Ctx { store: store.clone(), url })).await;
    store.close().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

pub async fn run_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Ctx) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("meta.db").display());
    run(url, test).await;
}

pub async fn run_postgres<F, Fut>(test: F)
where
    F: FnOnce(Ctx) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = PostgresDb::create().await else { return };
    // The test runs in a task of its own so that a failing assertion still
    // lets the database be dropped.
    let outcome = tokio::spawn(run(db.url.clone(), test)).await;
    db.remove().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// An empty PostgreSQL database of its own, dropped by [`PostgresDb::remove`].
pub struct PostgresDb {
    admin: AnyConnection,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl PostgresDb {
    /// Creates the database; `None` (after a message) when PostgreSQL cannot
    /// be reached outside CI.
    pub async fn create() -> Option<PostgresDb> {
        sqlx::any::install_default_drivers();
        let base = std::env::var("ARDOISE_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
        let connected = tokio::time::timeout(Duration::from_secs(10), AnyConnection::connect(&base)).await;
        let mut admin = match connected {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return unreachable_postgres(&base, &e.to_string()),
            Err(_) => return unreachable_postgres(&base, "timed out after 10 s"),
        };
        let name = unique_database_name();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        Some(PostgresDb { url: with_database(&base, &name), admin, name })
    }

    /// Drops the database, whoever is still connected to it.
    pub async fn remove(mut self) {
        let name = &self.name;
        let dropped = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut self.admin)
            .await;
        if let Err(e) = dropped {
            eprintln!("note: could not drop test database {name}: {e}");
        }
        let _ = self.admin.close().await;
    }
}

fn unreachable_postgres(url: &str, why: &str) -> Option<PostgresDb> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "PostgreSQL is required in CI but not reachable at {url}: {why}. \
             Start it or point ARDOISE_TEST_POSTGRES at a server."
        );
    }
    eprintln!("SKIPPED: PostgreSQL not reachable at {url} ({why}); set ARDOISE_TEST_POSTGRES to run this test");
    None
}

fn unique_database_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("ardoise_t_{}_{}_{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The same server URL with another database name.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{server}/{database}{query}")
}

/// Declares every listed test body once per backend: `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    $crate::harness::run_sqlite($crate::$module::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    $crate::harness::run_postgres($crate::$module::$name).await;
                }
            )*
        }
    };
}

#[test]
fn database_names_are_swapped() {
    assert_eq!(with_database("postgres://u@h:5432/test", "x"), "postgres://u@h:5432/x");
    assert_eq!(with_database("postgres://u@h/test?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}
