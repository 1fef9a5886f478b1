//! The académie directory's change feed, for CardDAV sync-collection on the
//! read-only book (RFC 6578). Migration 40's triggers write a row to
//! `directory_changes` whenever an account, a list or a unit changes in a
//! way a card or its visibility may show, in the writer's own transaction;
//! here they are read and pruned. A reader's feed is the rows of the domains
//! its scope holds (plus the domain-less rows that say every view changed);
//! the token it is given is never below the floor, so it stays valid until
//! housekeeping prunes past it.

use sqlx::Row;

use crate::Store;
use crate::annuaire::DirectoryScope;
use crate::error::Result;

/// A reader's position in the feed: the oldest token still answered and the
/// token of what it can see now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectorySyncState {
    /// Tokens below this were pruned (or predate a unit's move): refused.
    pub floor: i64,
    /// The newest change of the reader's domains (at least `floor`).
    pub newest: i64,
}

/// Cards changed after a token, oldest change first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryChanges {
    /// `compte-<id>` / `liste-<id>`, each once.
    pub items: Vec<String>,
    /// The token these changes bring the reader to.
    pub token: i64,
    /// More changes follow `token` (the answer was cut at the limit).
    pub more: bool,
}

impl Store {
    /// The domains `scope`'s directory shows accounts or lists of.
    pub async fn directory_domains(&self, scope: &DirectoryScope) -> Result<Vec<String>> {
        match scope {
            DirectoryScope::Unplaced(domain) => Ok(vec![domain.clone()]),
            DirectoryScope::Academie(id) => {
                let rows = sqlx::query(
                    "WITH RECURSIVE sub(id, depth) AS ( \
                         SELECT id, 0 FROM org_units WHERE id = $1 \
                         UNION ALL \
                         SELECT o.id, sub.depth + 1 FROM org_units o JOIN sub ON o.parent_id = sub.id \
                          WHERE sub.depth < 64 \
                     ) \
                     SELECT DISTINCT a.domain AS domain FROM accounts a JOIN sub ON a.org_unit_id = sub.id \
                     UNION SELECT DISTINCT l.domain AS domain FROM lists l JOIN sub ON l.unit_id = sub.id",
                )
                .bind(*id)
                .fetch_all(&self.pool)
                .await?;
                let mut out: Vec<String> = rows.iter().map(|r| r.try_get("domain")).collect::<Result<_, _>>()?;
                out.sort();
                out.dedup();
                Ok(out)
            }
        }
    }

    /// Where the feed of `domains` stands.
    pub async fn directory_sync_state(&self, domains: &[String]) -> Result<DirectorySyncState> {
        let floor: i64 =
            sqlx::query_scalar("SELECT floor FROM directory_sync_floor WHERE id = 1").fetch_one(&self.pool).await?;
        let sql = format!(
            "SELECT MAX(seq) FROM directory_changes WHERE domain IS NULL OR domain IN ({})",
            crate::sql::placeholders(1, domains.len())
        );
        let mut q = sqlx::query_scalar::<_, Option<i64>>(sqlx::AssertSqlSafe(sql));
        for d in domains {
            q = q.bind(d.clone());
        }
        let newest = q.fetch_one(&self.pool).await?.unwrap_or(0);
        Ok(DirectorySyncState { floor, newest: newest.max(floor) })
    }

    /// The cards of `domains` changed after `since`, at most `limit` changes
    /// read (a card changed twice counts twice). `None` when `since` is below
    /// the floor: the reader must read everything again.
    pub async fn directory_changes_since(
        &self,
        domains: &[String],
        since: i64,
        limit: usize,
    ) -> Result<Option<DirectoryChanges>> {
        let state = self.directory_sync_state(domains).await?;
        if since < state.floor || since > state.newest {
            return Ok(None);
        }
        let limit = limit.max(1);
        let sql = format!(
            "SELECT seq, item FROM directory_changes WHERE seq > $1 AND seq <= $2 AND item IS NOT NULL \
               AND domain IN ({}) ORDER BY seq LIMIT {}",
            crate::sql::placeholders(3, domains.len()),
            limit + 1
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(since).bind(state.newest);
        for d in domains {
            q = q.bind(d.clone());
        }
        let rows = q.fetch_all(&self.pool).await?;
        let more = rows.len() > limit;
        let mut items = Vec::new();
        let mut token = state.newest;
        for r in rows.iter().take(limit) {
            let item: String = r.try_get("item")?;
            if !items.contains(&item) {
                items.push(item);
            }
            if more {
                token = r.try_get("seq")?;
            }
        }
        Ok(Some(DirectoryChanges { items, token, more }))
    }

    /// Deletes the changes recorded before `before` (unix seconds; the newest
    /// row is always kept, it holds the counter) and raises the floor past
    /// them. Returns how many rows went.
    pub async fn prune_directory_changes(&self, before: i64) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(seq) FROM directory_changes WHERE at < $1 \
               AND seq < (SELECT MAX(seq) FROM directory_changes)",
        )
        .bind(before)
        .fetch_one(&mut *tx)
        .await?;
        let Some(last) = last else {
            tx.rollback().await?;
            return Ok(0);
        };
        let gone = sqlx::query("DELETE FROM directory_changes WHERE seq <= $1").bind(last).execute(&mut *tx).await?;
        sqlx::query("UPDATE directory_sync_floor SET floor = $1 WHERE id = 1 AND floor < $1")
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(gone.rows_affected())
    }

    /// How many change rows are kept (housekeeping's report, tests).
    pub async fn directory_changes_kept(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM directory_changes").fetch_one(&self.pool).await?)
    }
}

/// Seconds a change is kept: a client away longer reads the book again.
pub const DIRECTORY_CHANGES_KEPT_SECS: i64 = 30 * 86_400;
