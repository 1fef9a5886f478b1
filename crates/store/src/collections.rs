//! Calendars and address books (migration 17): the collections that CalDAV
//! and CardDAV serve, one account's each. A collection's `sync_counter`
//! grows by one at every change of one of its objects (see
//! `collection_objects.rs`): it is both its CTag and its RFC 6578 sync token.

use model::AccountId;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Error, Result};
use crate::{Store, now};

/// Longest segment, display name, colour, description or component list kept.
pub const MAX_COLLECTION_TEXT: usize = 1024;

/// What a collection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollectionKind {
    Calendar,
    AddressBook,
}

impl CollectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CollectionKind::Calendar => "calendar",
            CollectionKind::AddressBook => "addressbook",
        }
    }

    fn parse(s: &str) -> Result<CollectionKind> {
        match s {
            "calendar" => Ok(CollectionKind::Calendar),
            "addressbook" => Ok(CollectionKind::AddressBook),
            other => Err(Error::Corrupt(format!("collection kind {other:?}"))),
        }
    }
}

/// A calendar or an address book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    pub id: i64,
    pub account_id: AccountId,
    pub kind: CollectionKind,
    /// Its name in URLs, unique per account and kind.
    pub segment: String,
    pub display_name: String,
    /// `#RRGGBB` or `#RRGGBBAA`, or empty.
    pub colour: String,
    pub description: String,
    /// Calendars: the component types it takes, comma-separated (`VEVENT,VTODO`).
    pub components: String,
    pub sync_counter: i64,
    pub created_at: i64,
    /// Calendars: the default reminder, in minutes before the start of a
    /// timed event that has no alarm of its own (`None`: no reminder).
    pub reminder_minutes: Option<i64>,
    /// Calendars: its reminders are also mailed to the owner.
    pub reminder_mail: bool,
}

/// A collection to create.
#[derive(Debug, Clone)]
pub struct NewCollection<'a> {
    pub kind: CollectionKind,
    pub segment: &'a str,
    pub display_name: &'a str,
    pub colour: &'a str,
    pub description: &'a str,
    pub components: &'a str,
    /// Calendars: the default reminder in minutes (see [`Collection`]).
    pub reminder_minutes: Option<i64>,
}

/// Properties to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectionPatch {
    pub display_name: Option<String>,
    pub colour: Option<String>,
    pub description: Option<String>,
}

const COLUMNS: &str = "id, account_id, kind, segment, display_name, colour, description, components, sync_counter, created_at, \
     reminder_minutes, reminder_mail";

fn collection_of(r: &AnyRow) -> Result<Collection> {
    Ok(Collection {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        kind: CollectionKind::parse(&r.try_get::<String, _>("kind")?)?,
        segment: r.try_get("segment")?,
        display_name: r.try_get("display_name")?,
        colour: r.try_get("colour")?,
        description: r.try_get("description")?,
        components: r.try_get("components")?,
        sync_counter: r.try_get("sync_counter")?,
        created_at: r.try_get("created_at")?,
        reminder_minutes: r.try_get("reminder_minutes")?,
        reminder_mail: r.try_get::<i64, _>("reminder_mail")? != 0,
    })
}

fn check_len(what: &str, value: &str) -> Result<()> {
    if value.len() > MAX_COLLECTION_TEXT {
        return Err(Error::Invalid(format!("{what} longer than {MAX_COLLECTION_TEXT} bytes")));
    }
    Ok(())
}

impl Store {
    /// Every collection of `account`, calendars first, by segment.
    pub async fn collections(&self, account: AccountId) -> Result<Vec<Collection>> {
        let sql = format!("SELECT {COLUMNS} FROM dav_collections WHERE account_id = $1 ORDER BY kind DESC, segment");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).fetch_all(&self.pool).await?;
        rows.iter().map(collection_of).collect()
    }

    /// The collection of `account` of that kind named `segment`.
    pub async fn collection(
        &self,
        account: AccountId,
        kind: CollectionKind,
        segment: &str,
    ) -> Result<Option<Collection>> {
        let sql = format!("SELECT {COLUMNS} FROM dav_collections WHERE account_id = $1 AND kind = $2 AND segment = $3");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .bind(kind.as_str())
            .bind(segment)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(collection_of).transpose()
    }

    /// The collection `id`, whoever owns it (sharing checks the rights).
    pub async fn collection_by_id(&self, id: i64) -> Result<Option<Collection>> {
        let sql = format!("SELECT {COLUMNS} FROM dav_collections WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(collection_of).transpose()
    }

    /// How many collections `account` has.
    pub async fn collection_count(&self, account: AccountId) -> Result<i64> {
        let n = sqlx::query_scalar("SELECT COUNT(*) FROM dav_collections WHERE account_id = $1")
            .bind(account)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Creates a collection; `Error::Conflict` when the account already has
    /// one of that kind and segment.
    pub async fn create_collection(&self, account: AccountId, new: &NewCollection<'_>) -> Result<Collection> {
        for (what, v) in [
            ("segment", new.segment),
            ("display name", new.display_name),
            ("colour", new.colour),
            ("description", new.description),
            ("components", new.components),
        ] {
            check_len(what, v)?;
        }
        let sql = format!(
            "INSERT INTO dav_collections (account_id, kind, segment, display_name, colour, description, components, \
             sync_counter, created_at, reminder_minutes) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9) \
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .bind(new.kind.as_str())
            .bind(new.segment)
            .bind(new.display_name)
            .bind(new.colour)
            .bind(new.description)
            .bind(new.components)
            .bind(now())
            .bind(new.reminder_minutes)
            .fetch_one(&mut *self.write_conn().await?)
            .await?;
        collection_of(&row)
    }

    /// Creates each of `defaults` the account does not have yet (by kind
    /// and segment); concurrent callers create each once.
    pub async fn ensure_collections(&self, account: AccountId, defaults: &[NewCollection<'_>]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for new in defaults {
            sqlx::query(
                "INSERT INTO dav_collections (account_id, kind, segment, display_name, colour, description, \
                 components, sync_counter, created_at, reminder_minutes) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9) \
                 ON CONFLICT (account_id, kind, segment) DO NOTHING",
            )
            .bind(account)
            .bind(new.kind.as_str())
            .bind(new.segment)
            .bind(new.display_name)
            .bind(new.colour)
            .bind(new.description)
            .bind(new.components)
            .bind(now())
            .bind(new.reminder_minutes)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Changes the named properties of collection `id`; the CTag is left
    /// alone (it follows the objects). `Error::NotFound` when it is gone.
    pub async fn update_collection(&self, id: i64, patch: &CollectionPatch) -> Result<()> {
        for (what, v) in
            [("display name", &patch.display_name), ("colour", &patch.colour), ("description", &patch.description)]
        {
            check_len(what, v.as_deref().unwrap_or(""))?;
        }
        let done = sqlx::query(
            "UPDATE dav_collections SET display_name = COALESCE($2, display_name), colour = COALESCE($3, colour), \
             description = COALESCE($4, description) WHERE id = $1",
        )
        .bind(id)
        .bind(patch.display_name.as_deref())
        .bind(patch.colour.as_deref())
        .bind(patch.description.as_deref())
        .execute(&mut *self.write_conn().await?)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("collection"));
        }
        Ok(())
    }

    /// Deletes collection `id` with its objects and change log.
    /// `Error::NotFound` when it is already gone.
    pub async fn delete_collection(&self, id: i64) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM dav_changes WHERE collection_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM dav_objects WHERE collection_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM dav_shares WHERE collection_id = $1").bind(id).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM dav_collections WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("collection"));
        }
        tx.commit().await
    }
}
