//! Versioned schema migrations: a small runner of our own.
//!
//! Each version has one DDL file per backend describing the same logical
//! schema. A version is applied in its own transaction together with its row
//! in `schema_migrations`, so it is either fully there or not at all, and
//! rerunning the runner skips what is already applied. On PostgreSQL an
//! advisory lock keeps two nodes starting together from racing.

use sqlx::AnyConnection;
use sqlx::Row;

use crate::error::{Error, Result};
use crate::{Backend, Store, now};

/// One schema version.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// Every version, in order. Released versions are never edited: a change to
/// the schema is a new version.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "mailbox_lifecycle",
        sqlite: include_str!("../migrations/sqlite/0002_mailbox_lifecycle.sql"),
        postgres: include_str!("../migrations/postgres/0002_mailbox_lifecycle.sql"),
    },
    Migration {
        version: 3,
        name: "lifecycle",
        sqlite: include_str!("../migrations/sqlite/0003_lifecycle.sql"),
        postgres: include_str!("../migrations/postgres/0003_lifecycle.sql"),
    },
    Migration {
        version: 4,
        name: "outbound",
        sqlite: include_str!("../migrations/sqlite/0004_outbound.sql"),
        postgres: include_str!("../migrations/postgres/0004_outbound.sql"),
    },
    Migration {
        version: 5,
        name: "credentials",
        sqlite: include_str!("../migrations/sqlite/0005_credentials.sql"),
        postgres: include_str!("../migrations/postgres/0005_credentials.sql"),
    },
    Migration {
        version: 6,
        name: "vacation",
        sqlite: include_str!("../migrations/sqlite/0006_vacation.sql"),
        postgres: include_str!("../migrations/postgres/0006_vacation.sql"),
    },
    Migration {
        version: 7,
        name: "identity",
        sqlite: include_str!("../migrations/sqlite/0007_identity.sql"),
        postgres: include_str!("../migrations/postgres/0007_identity.sql"),
    },
    Migration {
        version: 8,
        name: "search_by_date",
        sqlite: include_str!("../migrations/sqlite/0008_search_by_date.sql"),
        postgres: include_str!("../migrations/postgres/0008_search_by_date.sql"),
    },
    Migration {
        version: 9,
        name: "webmail_identities",
        sqlite: include_str!("../migrations/sqlite/0009_webmail_identities.sql"),
        postgres: include_str!("../migrations/postgres/0009_webmail_identities.sql"),
    },
    Migration {
        version: 10,
        name: "webprefs",
        sqlite: include_str!("../migrations/sqlite/0010_webprefs.sql"),
        postgres: include_str!("../migrations/postgres/0010_webprefs.sql"),
    },
    Migration {
        version: 11,
        name: "imap_envelope",
        sqlite: include_str!("../migrations/sqlite/0011_imap_envelope.sql"),
        postgres: include_str!("../migrations/postgres/0011_imap_envelope.sql"),
    },
    Migration {
        version: 12,
        name: "login_journal_lookups",
        sqlite: include_str!("../migrations/sqlite/0012_login_journal_lookups.sql"),
        postgres: include_str!("../migrations/postgres/0012_login_journal_lookups.sql"),
    },
    Migration {
        version: 13,
        name: "status_sequence",
        sqlite: include_str!("../migrations/sqlite/0013_status_sequence.sql"),
        postgres: include_str!("../migrations/postgres/0013_status_sequence.sql"),
    },
    Migration {
        version: 14,
        name: "revocations_and_devices",
        sqlite: include_str!("../migrations/sqlite/0014_revocations_and_devices.sql"),
        postgres: include_str!("../migrations/postgres/0014_revocations_and_devices.sql"),
    },
    Migration {
        version: 15,
        name: "recent",
        sqlite: include_str!("../migrations/sqlite/0015_recent.sql"),
        postgres: include_str!("../migrations/postgres/0015_recent.sql"),
    },
    Migration {
        version: 16,
        name: "subscriptions",
        sqlite: include_str!("../migrations/sqlite/0016_subscriptions.sql"),
        postgres: include_str!("../migrations/postgres/0016_subscriptions.sql"),
    },
    Migration {
        version: 17,
        name: "groupware",
        sqlite: include_str!("../migrations/sqlite/0017_groupware.sql"),
        postgres: include_str!("../migrations/postgres/0017_groupware.sql"),
    },
    Migration {
        version: 18,
        name: "sieve_scripts",
        sqlite: include_str!("../migrations/sqlite/0018_sieve_scripts.sql"),
        postgres: include_str!("../migrations/postgres/0018_sieve_scripts.sql"),
    },
    Migration {
        version: 19,
        name: "migrated_messages",
        sqlite: include_str!("../migrations/sqlite/0019_migrated_messages.sql"),
        postgres: include_str!("../migrations/postgres/0019_migrated_messages.sql"),
    },
    Migration {
        version: 20,
        name: "sso",
        sqlite: include_str!("../migrations/sqlite/0020_sso.sql"),
        postgres: include_str!("../migrations/postgres/0020_sso.sql"),
    },
    Migration {
        version: 21,
        name: "lists",
        sqlite: include_str!("../migrations/sqlite/0021_lists.sql"),
        postgres: include_str!("../migrations/postgres/0021_lists.sql"),
    },
    Migration {
        version: 22,
        name: "notices",
        sqlite: include_str!("../migrations/sqlite/0022_notices.sql"),
        postgres: include_str!("../migrations/postgres/0022_notices.sql"),
    },
    Migration {
        version: 23,
        name: "delayed_sends",
        sqlite: include_str!("../migrations/sqlite/0023_delayed_sends.sql"),
        postgres: include_str!("../migrations/postgres/0023_delayed_sends.sql"),
    },
    Migration {
        version: 24,
        name: "keep",
        sqlite: include_str!("../migrations/sqlite/0024_keep.sql"),
        postgres: include_str!("../migrations/postgres/0024_keep.sql"),
    },
    Migration {
        version: 25,
        name: "forwarding_policies",
        sqlite: include_str!("../migrations/sqlite/0025_forwarding_policies.sql"),
        postgres: include_str!("../migrations/postgres/0025_forwarding_policies.sql"),
    },
    Migration {
        version: 26,
        name: "quarantine",
        sqlite: include_str!("../migrations/sqlite/0026_quarantine.sql"),
        postgres: include_str!("../migrations/postgres/0026_quarantine.sql"),
    },
    Migration {
        version: 27,
        name: "admin_sieve_scripts",
        sqlite: include_str!("../migrations/sqlite/0027_admin_sieve_scripts.sql"),
        postgres: include_str!("../migrations/postgres/0027_admin_sieve_scripts.sql"),
    },
    Migration {
        version: 28,
        name: "bayes",
        sqlite: include_str!("../migrations/sqlite/0028_bayes.sql"),
        postgres: include_str!("../migrations/postgres/0028_bayes.sql"),
    },
    Migration {
        version: 29,
        name: "archive_policies",
        sqlite: include_str!("../migrations/sqlite/0029_archive_policies.sql"),
        postgres: include_str!("../migrations/postgres/0029_archive_policies.sql"),
    },
    Migration {
        version: 30,
        name: "reading_prefs",
        sqlite: include_str!("../migrations/sqlite/0030_reading_prefs.sql"),
        postgres: include_str!("../migrations/postgres/0030_reading_prefs.sql"),
    },
    Migration {
        version: 31,
        name: "resources",
        sqlite: include_str!("../migrations/sqlite/0031_resources.sql"),
        postgres: include_str!("../migrations/postgres/0031_resources.sql"),
    },
    Migration {
        version: 32,
        name: "sharing",
        sqlite: include_str!("../migrations/sqlite/0032_sharing.sql"),
        postgres: include_str!("../migrations/postgres/0032_sharing.sql"),
    },
    Migration {
        version: 33,
        name: "calendar_shares",
        sqlite: include_str!("../migrations/sqlite/0033_calendar_shares.sql"),
        postgres: include_str!("../migrations/postgres/0033_calendar_shares.sql"),
    },
    Migration {
        version: 34,
        name: "delegation",
        sqlite: include_str!("../migrations/sqlite/0034_delegation.sql"),
        postgres: include_str!("../migrations/postgres/0034_delegation.sql"),
    },
    Migration {
        version: 35,
        name: "allowances",
        sqlite: include_str!("../migrations/sqlite/0035_allowances.sql"),
        postgres: include_str!("../migrations/postgres/0035_allowances.sql"),
    },
    Migration {
        version: 36,
        name: "passkeys",
        sqlite: include_str!("../migrations/sqlite/0036_passkeys.sql"),
        postgres: include_str!("../migrations/postgres/0036_passkeys.sql"),
    },
    Migration {
        version: 37,
        name: "reminders",
        sqlite: include_str!("../migrations/sqlite/0037_reminders.sql"),
        postgres: include_str!("../migrations/postgres/0037_reminders.sql"),
    },
    Migration {
        version: 38,
        name: "upstream",
        sqlite: include_str!("../migrations/sqlite/0038_upstream.sql"),
        postgres: include_str!("../migrations/postgres/0038_upstream.sql"),
    },
    Migration {
        version: 39,
        name: "schedule_inbox",
        sqlite: include_str!("../migrations/sqlite/0039_schedule_inbox.sql"),
        postgres: include_str!("../migrations/postgres/0039_schedule_inbox.sql"),
    },
    Migration {
        version: 40,
        name: "directory_changes",
        sqlite: include_str!("../migrations/sqlite/0040_directory_changes.sql"),
        postgres: include_str!("../migrations/postgres/0040_directory_changes.sql"),
    },
    Migration {
        version: 41,
        name: "alias_expiry",
        sqlite: include_str!("../migrations/sqlite/0041_alias_expiry.sql"),
        postgres: include_str!("../migrations/postgres/0041_alias_expiry.sql"),
    },
    Migration {
        version: 42,
        name: "quota_requests",
        sqlite: include_str!("../migrations/sqlite/0042_quota_requests.sql"),
        postgres: include_str!("../migrations/postgres/0042_quota_requests.sql"),
    },
    Migration {
        version: 43,
        name: "share_recipients",
        sqlite: include_str!("../migrations/sqlite/0043_share_recipients.sql"),
        postgres: include_str!("../migrations/postgres/0043_share_recipients.sql"),
    },
    Migration {
        version: 44,
        name: "list_archive",
        sqlite: include_str!("../migrations/sqlite/0044_list_archive.sql"),
        postgres: include_str!("../migrations/postgres/0044_list_archive.sql"),
    },
];

/// Arbitrary key of the PostgreSQL advisory lock held while migrating.
const PG_MIGRATION_LOCK: i64 = 0x0041_7264_6f69_7365;

/// A version recorded in `schema_migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
    pub applied_at: i64,
}

impl Store {
    /// Brings the schema up to date and returns the versions applied by this
    /// call (empty when it was already current).
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        self.migrate_to(i64::MAX).await
    }

    /// Applies the versions up to `version` included, and no later one: the
    /// upgrade tests build a database as an older release left it, then run
    /// [`Store::migrate`] over real rows. Returns the versions applied.
    pub async fn migrate_to(&self, version: i64) -> Result<Vec<i64>> {
        let newest_known = MIGRATIONS.last().map_or(0, |m| m.version);
        let mut applied = Vec::new();
        for m in MIGRATIONS.iter().take_while(|m| m.version <= version) {
            let mut tx = self.write_tx().await?;
            self.prepare_migration_tx(&mut tx).await?;
            let newest_applied: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations").fetch_one(&mut *tx).await?;
            if let Some(v) = newest_applied.filter(|v| *v > newest_known) {
                return Err(Error::Invalid(format!(
                    "the database schema is at version {v}, newer than this program knows ({newest_known}): \
                     upgrade the program instead"
                )));
            }
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_some() {
                tx.rollback().await?;
                continue;
            }
            let ddl = match self.backend {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            sqlx::raw_sql(sqlx::AssertSqlSafe(ddl)).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(version = m.version, name = m.name, "applied schema migration");
            applied.push(m.version);
        }
        Ok(applied)
    }

    /// The versions recorded in the database, oldest first (empty before the
    /// first migration).
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>> {
        let mut tx = self.write_tx().await?;
        self.prepare_migration_tx(&mut tx).await?;
        let rows = sqlx::query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(AppliedMigration {
                    version: r.try_get("version")?,
                    name: r.try_get("name")?,
                    applied_at: r.try_get("applied_at")?,
                })
            })
            .collect()
    }

    /// The versions this program knows, oldest first.
    pub fn known_migrations() -> Vec<(i64, &'static str)> {
        MIGRATIONS.iter().map(|m| (m.version, m.name)).collect()
    }

    /// Takes the migration lock (PostgreSQL) and makes sure the bookkeeping
    /// table exists, inside the caller's transaction.
    async fn prepare_migration_tx(&self, conn: &mut AnyConnection) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PG_MIGRATION_LOCK).execute(&mut *conn).await?;
        }
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (\
                version BIGINT PRIMARY KEY, \
                name TEXT NOT NULL, \
                applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two dialects must describe one logical schema: once comments, the
    /// identity column spelling and PostgreSQL's byte-wise collation (SQLite's
    /// default) are set aside, the files are identical.
    /// A version that needs a real dialect difference (triggers: PostgreSQL
    /// calls a function, SQLite has a body) puts it after the line
    /// [`DIALECT_SPECIFIC`], below which nothing is compared.
    #[test]
    fn both_dialects_describe_the_same_schema() {
        fn normalise(sql: &str) -> String {
            let shared = sql.split(DIALECT_SPECIFIC).next().unwrap_or(sql);
            shared
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
                .replace("INTEGER PRIMARY KEY AUTOINCREMENT", "IDENTITY")
                .replace("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "IDENTITY")
                .replace(" COLLATE \"C\"", "")
        }
        for m in MIGRATIONS {
            assert_eq!(normalise(m.sqlite), normalise(m.postgres), "migration {} differs", m.version);
        }
    }

    /// Where a migration's dialect-specific part starts.
    const DIALECT_SPECIFIC: &str = "-- Dialect-specific from here";

    #[test]
    fn a_dialect_specific_part_is_in_both_files_or_neither() {
        for m in MIGRATIONS {
            assert_eq!(m.sqlite.contains(DIALECT_SPECIFIC), m.postgres.contains(DIALECT_SPECIFIC), "{}", m.version);
        }
    }

    /// Versions start at one and increase; a number reserved by work not yet
    /// merged may be missing (the lead renumbers at merge).
    #[test]
    fn versions_increase_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
    }
}
