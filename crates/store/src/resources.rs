//! Resources (migration 31) and the look-ups scheduling needs across an
//! account's calendars.
//!
//! A resource (a room, equipment) is an account that never logs in: no
//! password, no login. Its row here says that it is one and of which kind;
//! the groupware domain answers its invitations by itself.

use model::AccountId;
use sqlx::Row;

use crate::collection_objects::{COLUMNS, object_of};
use crate::error::{Error, Result};
use crate::types::{ACCOUNT_COLS, Account, NewAccount};
use crate::{CollectionObject, Store, now};

/// A resource's account and kind (`salle`, `materiel`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub account: Account,
    pub kind: String,
}

impl Store {
    /// Creates the account of a resource (which must have no password and
    /// no login) and records it as one.
    pub async fn create_resource(&self, new: &NewAccount, kind: &str) -> Result<Account> {
        if new.password_hash.is_some() || new.login.is_some() {
            return Err(Error::Invalid("a resource never logs in".into()));
        }
        let account = self.create_account(new).await?;
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO resources (account_id, kind, created_at) VALUES ($1, $2, $3)")
            .bind(account.id)
            .bind(kind)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Every resource whose account is not closed, by address.
    pub async fn resources(&self) -> Result<Vec<Resource>> {
        let cols: Vec<String> = ACCOUNT_COLS.split(',').map(|c| format!("a.{}", c.trim())).collect();
        let sql = format!(
            "SELECT {}, r.kind AS resource_kind FROM resources r JOIN accounts a ON a.id = r.account_id \
             WHERE a.status <> 'closed' ORDER BY a.address",
            cols.join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok(Resource { account: Account::from_row(r)?, kind: r.try_get("resource_kind")? }))
            .collect()
    }

    /// The kind of resource `account` is, `None` when it is a person's.
    pub async fn resource_kind(&self, account: AccountId) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT kind FROM resources WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Removes a resource: its row goes and its account is closed (mail and
    /// invitations to it are refused from then on). `false` when it was none.
    pub async fn delete_resource(&self, account: AccountId) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let gone = sqlx::query("DELETE FROM resources WHERE account_id = $1").bind(account).execute(&mut *tx).await?;
        tx.commit().await?;
        if gone.rows_affected() == 0 {
            return Ok(false);
        }
        self.set_account_status(account, model::AccountStatus::Closed).await?;
        Ok(true)
    }

    /// The calendar objects of `account` with this UID, with the id of the
    /// calendar holding each (a UID is unique within one calendar only).
    pub async fn calendar_objects_by_uid(&self, account: AccountId, uid: &str) -> Result<Vec<(i64, CollectionObject)>> {
        let cols: Vec<String> = COLUMNS.split(',').map(|c| format!("o.{}", c.trim())).collect();
        let sql = format!(
            "SELECT o.collection_id AS calendar_id, {} FROM dav_objects o \
             JOIN dav_collections c ON c.id = o.collection_id \
             WHERE c.account_id = $1 AND c.kind = 'calendar' AND o.uid = $2 ORDER BY c.id LIMIT 100",
            cols.join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).bind(uid).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("calendar_id")?, object_of(r)?))).collect()
    }
}
