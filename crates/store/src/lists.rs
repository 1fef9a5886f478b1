//! Distribution lists (migration 21): definitions, static members, named
//! senders, moderators and held posts. What a list means (expansion, post
//! policy, headers) is the `lists` crate's business; this module keeps rows.
//!
//! A list's address is unique among accounts, aliases and lists alike:
//! [`Store::create_list`] checks accounts and aliases, and account creation and
//! aliases check lists (`directory::address_owner`).

use model::{AccountId, Address, BlobId, OrgUnitId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Error, Result};
use crate::{Store, now};

/// A stored list definition. `kind` and `post_policy` are the texts the
/// `lists` crate writes (`static`/`dynamic`; `anyone`/`local`/`members`/`senders`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub id: i64,
    pub address: Address,
    pub name: String,
    pub description: String,
    pub kind: String,
    /// Dynamic lists: the org unit whose subtree is reached.
    pub unit: Option<OrgUnitId>,
    /// Dynamic lists: only accounts of this role (its stored text).
    pub role: Option<String>,
    pub post_policy: String,
    pub discussion: bool,
    pub tag: Option<String>,
    pub created_at: i64,
    /// Whether what the list distributes is archived (migration 44; on for
    /// discussion groups when created, `store::list_archive`).
    pub archive: bool,
}

/// A list to create.
#[derive(Debug, Clone)]
pub struct NewList {
    pub address: Address,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub unit: Option<OrgUnitId>,
    pub role: Option<String>,
    pub post_policy: String,
    pub discussion: bool,
    pub tag: Option<String>,
}

/// A post waiting for a moderator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPost {
    pub id: i64,
    pub list: i64,
    pub blob: BlobId,
    pub size: i64,
    /// The envelope sender (empty for `<>`) or the authenticated poster's address.
    pub sender: String,
    pub subject: String,
    pub received_at: i64,
}

const LIST_COLS: &str =
    "id, address, name, description, kind, unit_id, role, post_policy, discussion, tag, created_at, archive";
const HELD_COLS: &str = "id, list_id, blob, size, sender, subject, received_at";

pub(crate) fn list_of(r: &AnyRow) -> Result<ListRow> {
    let address: String = r.try_get("address")?;
    Ok(ListRow {
        id: r.try_get("id")?,
        address: Address::parse(&address).map_err(|e| Error::Corrupt(format!("list address {address:?}: {e}")))?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        kind: r.try_get("kind")?,
        unit: r.try_get("unit_id")?,
        role: r.try_get("role")?,
        post_policy: r.try_get("post_policy")?,
        discussion: r.try_get::<i64, _>("discussion")? != 0,
        tag: r.try_get("tag")?,
        created_at: r.try_get("created_at")?,
        archive: r.try_get::<i64, _>("archive")? != 0,
    })
}

fn held_of(r: &AnyRow) -> Result<HeldPost> {
    let blob: String = r.try_get("blob")?;
    Ok(HeldPost {
        id: r.try_get("id")?,
        list: r.try_get("list_id")?,
        blob: BlobId::from_hex(&blob).ok_or_else(|| Error::Corrupt(format!("bad blob id {blob:?}")))?,
        size: r.try_get("size")?,
        sender: r.try_get("sender")?,
        subject: r.try_get("subject")?,
        received_at: r.try_get("received_at")?,
    })
}

impl Store {
    /// Creates a list; its domain must be local and its address used by no
    /// account, alias or other list. A discussion group archives its posts,
    /// an institutional list does not ([`Store::set_list_archive`] changes it).
    pub async fn create_list(&self, new: &NewList) -> Result<ListRow> {
        let address = new.address.to_string();
        let mut tx = self.write_tx().await?;
        if !self.claim_domain(&mut tx, new.address.domain().as_str()).await? {
            return Err(Error::Invalid(format!("{} is not a local domain", new.address.domain())));
        }
        if crate::directory::address_owner(&mut tx, &address).await?.is_some() {
            return Err(Error::Conflict(format!("address {address} is already in use")));
        }
        let sql = format!(
            "INSERT INTO lists (address, domain, name, description, kind, unit_id, role, post_policy, discussion, \
             tag, created_at, archive) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $9) \
             RETURNING {LIST_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&address)
            .bind(new.address.domain().as_str())
            .bind(&new.name)
            .bind(&new.description)
            .bind(&new.kind)
            .bind(new.unit)
            .bind(new.role.as_deref())
            .bind(&new.post_policy)
            .bind(i64::from(new.discussion))
            .bind(new.tag.as_deref())
            .bind(now())
            .fetch_one(&mut *tx)
            .await?;
        let list = list_of(&row)?;
        tx.commit().await?;
        Ok(list)
    }

    /// The list with this address, if any.
    pub async fn list_by_address(&self, address: &Address) -> Result<Option<ListRow>> {
        let sql = format!("SELECT {LIST_COLS} FROM lists WHERE address = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(address.to_string()).fetch_optional(&self.pool).await?;
        row.as_ref().map(list_of).transpose()
    }

    /// The list with this id, if any.
    pub async fn list_by_id(&self, id: i64) -> Result<Option<ListRow>> {
        let sql = format!("SELECT {LIST_COLS} FROM lists WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(list_of).transpose()
    }

    /// Every list, by address.
    pub async fn all_lists(&self) -> Result<Vec<ListRow>> {
        let sql = format!("SELECT {LIST_COLS} FROM lists ORDER BY address");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(list_of).collect()
    }

    /// Deletes a list with its members, senders, moderators, held posts and
    /// archive (their blob references released). Returns whether it existed.
    pub async fn delete_list(&self, id: i64) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let mut blobs: Vec<String> = sqlx::query_scalar(
            "SELECT blob FROM list_held WHERE list_id = $1 UNION ALL SELECT blob FROM list_archive WHERE list_id = $1",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        // One (hash, count) pair per blob, sorted: `release_blob_refs` locks them in that order.
        blobs.sort_unstable();
        for table in ["list_held", "list_archive", "list_members", "list_senders", "list_moderators"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE list_id = $1")))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM lists WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let refs: Vec<(&str, i64)> =
            blobs.chunk_by(|a, b| a == b).map(|same| (same[0].as_str(), same.len() as i64)).collect();
        self.release_blob_refs(&mut tx, &refs, now()).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets who may post, replacing the named senders.
    pub async fn set_list_policy(&self, id: i64, policy: &str, senders: &[String]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE lists SET post_policy = $2 WHERE id = $1")
            .bind(id)
            .bind(policy)
            .execute(&mut *tx)
            .await?;
        crate::directory::found(done.rows_affected(), "list")?;
        sqlx::query("DELETE FROM list_senders WHERE list_id = $1").bind(id).execute(&mut *tx).await?;
        for sender in senders {
            sqlx::query("INSERT INTO list_senders (list_id, address) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(sender)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a member address to a static list; false when it was there already.
    pub async fn add_list_member(&self, id: i64, address: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO list_members (list_id, address, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (list_id, address) DO NOTHING",
        )
        .bind(id)
        .bind(address)
        .bind(now())
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a member address; false when it was not a member.
    pub async fn remove_list_member(&self, id: i64, address: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM list_members WHERE list_id = $1 AND address = $2")
            .bind(id)
            .bind(address)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The member addresses of a static list, sorted.
    pub async fn list_members(&self, id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT address FROM list_members WHERE list_id = $1 ORDER BY address")
            .bind(id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The named senders of a list, sorted.
    pub async fn list_senders(&self, id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT address FROM list_senders WHERE list_id = $1 ORDER BY address")
            .bind(id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Adds or removes a moderator; false when nothing changed.
    pub async fn set_list_moderator(&self, id: i64, account: AccountId, moderator: bool) -> Result<bool> {
        let sql = if moderator {
            "INSERT INTO list_moderators (list_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM list_moderators WHERE list_id = $1 AND account_id = $2"
        };
        let done = sqlx::query(sql).bind(id).bind(account).execute(&mut *self.write_conn().await?).await?;
        Ok(done.rows_affected() == 1)
    }

    /// The moderators of a list, by account id.
    pub async fn list_moderators(&self, id: i64) -> Result<Vec<AccountId>> {
        Ok(sqlx::query_scalar("SELECT account_id FROM list_moderators WHERE list_id = $1 ORDER BY account_id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The lists `account` is a named moderator of, by address.
    pub async fn lists_moderated_by(&self, account: AccountId) -> Result<Vec<ListRow>> {
        let sql = format!(
            "SELECT {LIST_COLS} FROM lists WHERE id IN \
             (SELECT list_id FROM list_moderators WHERE account_id = $1) ORDER BY address"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).fetch_all(&self.pool).await?;
        rows.iter().map(list_of).collect()
    }

    /// How many posts wait on the lists `account` is a named moderator of;
    /// `None` when it moderates no list.
    pub async fn held_for_moderator(&self, account: AccountId) -> Result<Option<i64>> {
        let (lists, held): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM list_moderators WHERE account_id = $1), \
             (SELECT COUNT(*) FROM list_held WHERE list_id IN \
             (SELECT list_id FROM list_moderators WHERE account_id = $1))",
        )
        .bind(account)
        .fetch_one(&self.pool)
        .await?;
        Ok((lists > 0).then_some(held))
    }

    /// The accounts a dynamic list reaches now: in `unit`'s subtree, provisional
    /// or active (suspended and closed ones are left out), of `role` when given,
    /// else of any role but students and functional mailboxes.
    pub async fn directory_members(&self, unit: OrgUnitId, role: Option<&str>) -> Result<Vec<(AccountId, Address)>> {
        let role_filter = if role.is_some() { "a.role = $2" } else { "a.role NOT IN ('eleve', 'fonctionnel')" };
        let sql = format!(
            "WITH RECURSIVE sub(id) AS (SELECT id FROM org_units WHERE id = $1 \
             UNION ALL SELECT o.id FROM org_units o JOIN sub ON o.parent_id = sub.id) \
             SELECT a.id, a.address FROM accounts a WHERE a.org_unit_id IN (SELECT id FROM sub) \
             AND a.status IN ('active', 'provisional') AND {role_filter} ORDER BY a.id"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(unit);
        if let Some(role) = role {
            q = q.bind(role);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let address: String = r.try_get(1)?;
                let parsed =
                    Address::parse(&address).map_err(|e| Error::Corrupt(format!("address {address:?}: {e}")))?;
                Ok((r.try_get(0)?, parsed))
            })
            .collect()
    }

    /// Keeps a post for moderation, with one reference on its blob (written
    /// by the caller before). Returns the held post's id.
    pub async fn hold_post(&self, list: i64, blob: &BlobId, size: i64, sender: &str, subject: &str) -> Result<i64> {
        let now = now();
        let mut tx = self.write_tx().await?;
        Store::take_blob_ref(&mut tx, blob, size, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO list_held (list_id, blob, size, sender, subject, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(list)
        .bind(blob.as_str())
        .bind(size)
        .bind(sender)
        .bind(subject)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The posts held for a list, oldest first.
    pub async fn held_posts(&self, list: i64) -> Result<Vec<HeldPost>> {
        let sql = format!("SELECT {HELD_COLS} FROM list_held WHERE list_id = $1 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(list).fetch_all(&self.pool).await?;
        rows.iter().map(held_of).collect()
    }

    /// One held post.
    pub async fn held_post(&self, id: i64) -> Result<Option<HeldPost>> {
        let sql = format!("SELECT {HELD_COLS} FROM list_held WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(held_of).transpose()
    }

    /// Held posts received before `cutoff`, oldest first.
    pub async fn held_before(&self, cutoff: i64) -> Result<Vec<HeldPost>> {
        let sql = format!("SELECT {HELD_COLS} FROM list_held WHERE received_at < $1 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(cutoff).fetch_all(&self.pool).await?;
        rows.iter().map(held_of).collect()
    }

    /// Takes a held post out of the queue (approved or refused), releasing its
    /// blob reference. False when another decision took it first.
    pub async fn release_held(&self, id: i64) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let blob: Option<String> = sqlx::query_scalar("DELETE FROM list_held WHERE id = $1 RETURNING blob")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(blob) = blob else {
            return Ok(false);
        };
        self.release_blob_refs(&mut tx, &[(blob.as_str(), 1)], now()).await?;
        tx.commit().await?;
        Ok(true)
    }
}
