//! The objects of calendars and address books (one iCalendar or vCard text
//! each) and the change log behind RFC 6578 sync tokens (migration 17).
//!
//! Every write takes the collection's row first (`sync_counter + 1`), so
//! writes to one collection are serialised and numbered in commit order;
//! the object's `modseq` and its change-log row get that number. The change
//! log keeps the last change of each name, deletions as tombstones, so
//! "what changed since N" is one index range.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Error, Result};
use crate::{Store, WriteTx};

/// Most rows one query hands back (time-range queries, listings).
pub const MAX_OBJECT_ROWS: i64 = 100_000;

/// A stored calendar object or vCard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionObject {
    /// Its name in URLs (`<uid>.ics`), unique in the collection.
    pub name: String,
    pub uid: String,
    /// A hash of `content`.
    pub etag: String,
    /// `VEVENT`, `VTODO`, `VJOURNAL` or `VCARD`.
    pub component: String,
    pub content: String,
    /// UTC seconds; `None` when unbounded (no start, or a recurrence without end).
    pub first_start: Option<i64>,
    pub last_end: Option<i64>,
    pub modseq: i64,
    /// When its next alarm fires (UTC seconds); `None` when none is to
    /// come, `Some(0)` when not computed yet (see `reminders.rs`).
    pub next_alarm: Option<i64>,
}

/// An object's name and version, without its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectTag {
    pub name: String,
    pub etag: String,
    pub component: String,
}

/// What a write requires of the object already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition<'a> {
    /// Nothing: create or replace.
    Any,
    /// `If-Match`: it exists with this etag.
    Matches(&'a str),
    /// `If-None-Match: *`: it does not exist.
    Absent,
}

impl Precondition<'_> {
    fn holds(self, current: Option<&str>) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::Matches(etag) => current == Some(etag),
            Precondition::Absent => current.is_none(),
        }
    }
}

/// What a put did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    Created {
        modseq: i64,
    },
    Replaced {
        modseq: i64,
    },
    /// The precondition failed: nothing was written.
    PreconditionFailed,
    /// Another object of the collection (named here) has the same UID.
    UidTaken(String),
}

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
    PreconditionFailed,
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChange {
    pub name: String,
    pub modseq: i64,
    pub deleted: bool,
}

pub(crate) const COLUMNS: &str = "name, uid, etag, component, content, first_start, last_end, modseq, next_alarm";

pub(crate) fn object_of(r: &AnyRow) -> Result<CollectionObject> {
    Ok(CollectionObject {
        name: r.try_get("name")?,
        uid: r.try_get("uid")?,
        etag: r.try_get("etag")?,
        component: r.try_get("component")?,
        content: r.try_get("content")?,
        first_start: r.try_get("first_start")?,
        last_end: r.try_get("last_end")?,
        modseq: r.try_get("modseq")?,
        next_alarm: r.try_get("next_alarm")?,
    })
}

impl Store {
    /// The object of collection `collection` named `name`.
    pub async fn collection_object(&self, collection: i64, name: &str) -> Result<Option<CollectionObject>> {
        let sql = format!("SELECT {COLUMNS} FROM dav_objects WHERE collection_id = $1 AND name = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(collection).bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(object_of).transpose()
    }

    /// The objects of `collection` among `names` (at most 1,000 names).
    pub async fn collection_objects_named(&self, collection: i64, names: &[String]) -> Result<Vec<CollectionObject>> {
        if names.len() > 1_000 {
            return Err(Error::Invalid("more than 1,000 names at once".into()));
        }
        let mut out = Vec::new();
        for chunk in names.chunks(200) {
            let list: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM dav_objects WHERE collection_id = $1 AND name IN ({}) ORDER BY name",
                list.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(collection);
            for n in chunk {
                q = q.bind(n);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.push(object_of(&r)?);
            }
        }
        Ok(out)
    }

    /// Names and etags of every object of `collection`, by name.
    pub async fn collection_tags(&self, collection: i64) -> Result<Vec<ObjectTag>> {
        let rows = sqlx::query(
            "SELECT name, etag, component FROM dav_objects WHERE collection_id = $1 \
             ORDER BY name LIMIT $2",
        )
        .bind(collection)
        .bind(MAX_OBJECT_ROWS)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ObjectTag { name: r.try_get("name")?, etag: r.try_get("etag")?, component: r.try_get("component")? })
            })
            .collect()
    }

    /// Objects of `collection` of type `component` (any when empty) whose
    /// bounds may meet `[start, end)` (an event of no duration ending at
    /// `start` included; an unbounded side always may). A pre-filter: the
    /// caller checks the occurrences themselves.
    pub async fn collection_objects_between(
        &self,
        collection: i64,
        component: &str,
        start: i64,
        end: i64,
    ) -> Result<Vec<CollectionObject>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM dav_objects WHERE collection_id = $1 AND ($2 = '' OR component = $2) \
             AND (first_start IS NULL OR first_start < $3) AND (last_end IS NULL OR last_end >= $4) \
             ORDER BY name LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(collection)
            .bind(component)
            .bind(end)
            .bind(start)
            .bind(MAX_OBJECT_ROWS)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(object_of).collect()
    }

    /// Writes `object` into `collection` if `pre` holds, numbering the
    /// change. `Error::NotFound` when the collection is gone.
    pub async fn put_collection_object(
        &self,
        collection: i64,
        object: &CollectionObject,
        pre: Precondition<'_>,
    ) -> Result<PutOutcome> {
        let mut tx = self.write_tx().await?;
        let modseq = bump(&mut tx, collection).await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT etag FROM dav_objects WHERE collection_id = $1 AND name = $2")
                .bind(collection)
                .bind(&object.name)
                .fetch_optional(&mut *tx)
                .await?;
        if !pre.holds(current.as_deref()) {
            tx.rollback().await?;
            return Ok(PutOutcome::PreconditionFailed);
        }
        let holder: Option<String> =
            sqlx::query_scalar("SELECT name FROM dav_objects WHERE collection_id = $1 AND uid = $2 AND name <> $3")
                .bind(collection)
                .bind(&object.uid)
                .bind(&object.name)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(other) = holder {
            tx.rollback().await?;
            return Ok(PutOutcome::UidTaken(other));
        }
        sqlx::query(
            "INSERT INTO dav_objects (collection_id, name, uid, etag, component, content, first_start, last_end, \
             modseq, next_alarm) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (collection_id, name) \
             DO UPDATE SET uid = excluded.uid, etag = excluded.etag, component = excluded.component, \
             content = excluded.content, first_start = excluded.first_start, last_end = excluded.last_end, \
             modseq = excluded.modseq, next_alarm = excluded.next_alarm",
        )
        .bind(collection)
        .bind(&object.name)
        .bind(&object.uid)
        .bind(&object.etag)
        .bind(&object.component)
        .bind(&object.content)
        .bind(object.first_start)
        .bind(object.last_end)
        .bind(modseq)
        .bind(object.next_alarm)
        .execute(&mut *tx)
        .await?;
        log_change(&mut tx, collection, &object.name, modseq, false).await?;
        tx.commit().await?;
        Ok(match current {
            None => PutOutcome::Created { modseq },
            Some(_) => PutOutcome::Replaced { modseq },
        })
    }

    /// Deletes the object `name` of `collection` if its etag is `if_match`
    /// (when given), leaving a tombstone in the change log.
    pub async fn delete_collection_object(
        &self,
        collection: i64,
        name: &str,
        if_match: Option<&str>,
    ) -> Result<DeleteOutcome> {
        let mut tx = self.write_tx().await?;
        let modseq = bump(&mut tx, collection).await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT etag FROM dav_objects WHERE collection_id = $1 AND name = $2")
                .bind(collection)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let outcome = match (current, if_match) {
            (None, _) => DeleteOutcome::NotFound,
            (Some(etag), Some(wanted)) if etag != wanted => DeleteOutcome::PreconditionFailed,
            (Some(_), _) => DeleteOutcome::Deleted,
        };
        if outcome != DeleteOutcome::Deleted {
            tx.rollback().await?;
            return Ok(outcome);
        }
        sqlx::query("DELETE FROM dav_objects WHERE collection_id = $1 AND name = $2")
            .bind(collection)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        log_change(&mut tx, collection, name, modseq, true).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// The last change of every name changed after `since`, oldest first
    /// (at most [`MAX_OBJECT_ROWS`]).
    pub async fn collection_changes_since(&self, collection: i64, since: i64) -> Result<Vec<ObjectChange>> {
        let rows = sqlx::query(
            "SELECT name, modseq, deleted FROM dav_changes WHERE collection_id = $1 AND modseq > $2 \
             ORDER BY modseq LIMIT $3",
        )
        .bind(collection)
        .bind(since)
        .bind(MAX_OBJECT_ROWS)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ObjectChange {
                    name: r.try_get("name")?,
                    modseq: r.try_get("modseq")?,
                    deleted: r.try_get::<i64, _>("deleted")? != 0,
                })
            })
            .collect()
    }
}

/// Takes the next number of `collection` (locking its row until commit).
async fn bump(tx: &mut WriteTx, collection: i64) -> Result<i64> {
    let modseq: Option<i64> = sqlx::query_scalar(
        "UPDATE dav_collections SET sync_counter = sync_counter + 1 WHERE id = $1 RETURNING sync_counter",
    )
    .bind(collection)
    .fetch_optional(&mut **tx)
    .await?;
    modseq.ok_or(Error::NotFound("collection"))
}

async fn log_change(tx: &mut WriteTx, collection: i64, name: &str, modseq: i64, deleted: bool) -> Result<()> {
    sqlx::query(
        "INSERT INTO dav_changes (collection_id, name, modseq, deleted) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (collection_id, name) DO UPDATE SET modseq = excluded.modseq, deleted = excluded.deleted",
    )
    .bind(collection)
    .bind(name)
    .bind(modseq)
    .bind(i64::from(deleted))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
