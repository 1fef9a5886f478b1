//! Sieve scripts (migration 18): each account's named scripts, their text,
//! and which one (at most) is active. Compiling and running them is the
//! `filter` crate's business; this module only keeps them.

use model::AccountId;
use sqlx::Row;

use crate::error::Result;
use crate::{Store, now};

/// A stored script, without its text (LISTSCRIPTS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SieveScript {
    pub name: String,
    /// Bytes of the text.
    pub size: i64,
    pub active: bool,
    /// Grows at every change of the text: a compiled copy of an older
    /// revision is stale.
    pub revision: i64,
    pub updated_at: i64,
}

/// A script a delivery runs (see [`Store::delivery_sieve_scripts_among`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryScript {
    pub account: AccountId,
    pub name: String,
    pub revision: i64,
    pub active: bool,
}

/// A script with its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SieveSource {
    pub script: SieveScript,
    pub source: String,
}

/// What [`Store::put_sieve_script`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutScript {
    /// A new script was added.
    Created,
    /// The text of an existing script was replaced.
    Replaced,
    /// The account already holds `max_count` scripts: nothing was written.
    TooMany,
}

/// What a change of a script's name or existence found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptChange {
    Done,
    /// No script of that name.
    NotFound,
    /// Deleting the active script is refused (RFC 5804 section 2.10).
    Active,
    /// Renaming onto a name already taken.
    Exists,
}

fn script_of(r: &sqlx::any::AnyRow) -> Result<SieveScript> {
    Ok(SieveScript {
        name: r.try_get("name")?,
        size: r.try_get("size")?,
        active: r.try_get::<i64, _>("active")? != 0,
        revision: r.try_get("revision")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl Store {
    /// The scripts of `account`, by name (in byte order, whatever the
    /// database's collation).
    pub async fn sieve_scripts(&self, account: AccountId) -> Result<Vec<SieveScript>> {
        let rows =
            sqlx::query("SELECT name, size, active, revision, updated_at FROM sieve_scripts WHERE account_id = $1")
                .bind(account)
                .fetch_all(&self.pool)
                .await?;
        let mut scripts = rows.iter().map(script_of).collect::<Result<Vec<_>>>()?;
        scripts.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(scripts)
    }

    /// One script of `account` with its text.
    pub async fn sieve_script(&self, account: AccountId, name: &str) -> Result<Option<SieveSource>> {
        let row = sqlx::query(
            "SELECT name, size, active, revision, updated_at, source FROM sieve_scripts \
             WHERE account_id = $1 AND name = $2",
        )
        .bind(account)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok(SieveSource { script: script_of(&r)?, source: r.try_get("source")? })).transpose()
    }

    /// Adds or replaces the script `name` of `account`; a new one is refused
    /// when the account already holds `max_count` scripts. Replacing the
    /// active script keeps it active.
    pub async fn put_sieve_script(
        &self,
        account: AccountId,
        name: &str,
        source: &str,
        max_count: usize,
    ) -> Result<PutScript> {
        let mut tx = self.write_tx().await?;
        let replaced = sqlx::query(
            "UPDATE sieve_scripts SET source = $3, size = $4, revision = revision + 1, updated_at = $5 \
             WHERE account_id = $1 AND name = $2",
        )
        .bind(account)
        .bind(name)
        .bind(source)
        .bind(source.len() as i64)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if replaced.rows_affected() == 1 {
            tx.commit().await?;
            return Ok(PutScript::Replaced);
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sieve_scripts WHERE account_id = $1")
            .bind(account)
            .fetch_one(&mut *tx)
            .await?;
        if count as usize >= max_count {
            return Ok(PutScript::TooMany);
        }
        sqlx::query(
            "INSERT INTO sieve_scripts (account_id, name, source, size, active, revision, updated_at) \
             VALUES ($1, $2, $3, $4, 0, 1, $5)",
        )
        .bind(account)
        .bind(name)
        .bind(source)
        .bind(source.len() as i64)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(PutScript::Created)
    }

    /// Makes `name` the active script of `account` (the previous one is no
    /// longer active), or deactivates every script when `name` is `None`.
    pub async fn activate_sieve_script(&self, account: AccountId, name: Option<&str>) -> Result<ScriptChange> {
        let mut tx = self.write_tx().await?;
        if let Some(name) = name {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT active FROM sieve_scripts WHERE account_id = $1 AND name = $2")
                    .bind(account)
                    .bind(name)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_none() {
                return Ok(ScriptChange::NotFound);
            }
        }
        sqlx::query("UPDATE sieve_scripts SET active = 0 WHERE account_id = $1 AND active = 1")
            .bind(account)
            .execute(&mut *tx)
            .await?;
        if let Some(name) = name {
            sqlx::query("UPDATE sieve_scripts SET active = 1 WHERE account_id = $1 AND name = $2")
                .bind(account)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ScriptChange::Done)
    }

    /// Deletes a script that is not active.
    pub async fn delete_sieve_script(&self, account: AccountId, name: &str) -> Result<ScriptChange> {
        let mut tx = self.write_tx().await?;
        let active: Option<i64> =
            sqlx::query_scalar("SELECT active FROM sieve_scripts WHERE account_id = $1 AND name = $2")
                .bind(account)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let outcome = match active {
            None => ScriptChange::NotFound,
            Some(1) => ScriptChange::Active,
            Some(_) => {
                sqlx::query("DELETE FROM sieve_scripts WHERE account_id = $1 AND name = $2")
                    .bind(account)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                ScriptChange::Done
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Renames a script (active or not; the active one stays active).
    pub async fn rename_sieve_script(&self, account: AccountId, old: &str, new: &str) -> Result<ScriptChange> {
        let mut tx = self.write_tx().await?;
        let taken: Option<String> =
            sqlx::query_scalar("SELECT name FROM sieve_scripts WHERE account_id = $1 AND name = $2")
                .bind(account)
                .bind(new)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Ok(ScriptChange::Exists);
        }
        let done = sqlx::query(
            "UPDATE sieve_scripts SET name = $3, revision = revision + 1, updated_at = $4 \
             WHERE account_id = $1 AND name = $2",
        )
        .bind(account)
        .bind(old)
        .bind(new)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(if done.rows_affected() == 1 { ScriptChange::Done } else { ScriptChange::NotFound })
    }

    /// The scripts a delivery to `accounts` runs: each account's active
    /// one, and the one named `also` (the vacation reply's, active or not).
    /// One query per 500 accounts, so a circular to 40,000 staff costs a
    /// few index look-ups.
    pub async fn delivery_sieve_scripts_among(
        &self,
        accounts: &[AccountId],
        also: &str,
    ) -> Result<Vec<DeliveryScript>> {
        let mut out = Vec::new();
        for chunk in accounts.chunks(500) {
            let list: Vec<String> = (2..=chunk.len() + 1).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT account_id, name, revision, active FROM sieve_scripts \
                 WHERE (active = 1 OR name = $1) AND account_id IN ({})",
                list.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(also);
            for a in chunk {
                q = q.bind(*a);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.push(DeliveryScript {
                    account: r.try_get("account_id")?,
                    name: r.try_get("name")?,
                    revision: r.try_get("revision")?,
                    active: r.try_get::<i64, _>("active")? != 0,
                });
            }
        }
        Ok(out)
    }

    /// Accounts whose vacation reply is on but who have no script named
    /// `name` (settings made before the reply became a script).
    pub async fn vacations_without_script(&self, name: &str) -> Result<Vec<AccountId>> {
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT v.account_id FROM vacation v WHERE v.enabled = 1 AND NOT EXISTS \
             (SELECT 1 FROM sieve_scripts s WHERE s.account_id = v.account_id AND s.name = $1) ORDER BY v.account_id",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?)
    }
}
