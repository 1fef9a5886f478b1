//! Delegation (migration 34): grants of rights on another account's mail, and
//! the journal of what delegates did with them.
//!
//! A grant is `(owner, folder or every folder, grantee)` with RFC 4314 rights
//! kept as letters (the domain reads them with `model::Rights`) and the two
//! sending rights. There is at most one grant per owner and grantee for the
//! whole account and one per folder and grantee: setting one replaces it.
//! Deleting a folder deletes its grants (foreign key), deleting an account
//! every grant it gave or held.

use model::{AccountId, MailboxId};
use sqlx::Row;

use crate::error::Result;
use crate::{Store, now};

/// One grant, with both accounts' addresses for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub owner_id: AccountId,
    pub owner_address: String,
    /// `None`: every folder of the owner.
    pub mailbox_id: Option<MailboxId>,
    pub grantee_id: AccountId,
    pub grantee_address: String,
    /// RFC 4314 letters.
    pub rights: String,
    pub send_as: bool,
    pub on_behalf: bool,
}

/// A new or replaced grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant<'a> {
    pub owner: AccountId,
    pub mailbox: Option<MailboxId>,
    pub grantee: AccountId,
    pub rights: &'a str,
    pub send_as: bool,
    pub on_behalf: bool,
}

/// One line of a delegation journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationEntry {
    pub actor_address: String,
    pub action: String,
    pub detail: String,
    pub at: i64,
}

const GRANT_SELECT: &str = "SELECT g.owner_id, o.address AS owner_address, g.mailbox_id, g.grantee_id, \
     e.address AS grantee_address, g.rights, g.send_as, g.on_behalf \
     FROM mailbox_grants g JOIN accounts o ON o.id = g.owner_id JOIN accounts e ON e.id = g.grantee_id";

fn grant_of(r: &sqlx::any::AnyRow) -> Result<Grant> {
    let send_as: i64 = r.try_get("send_as")?;
    let on_behalf: i64 = r.try_get("on_behalf")?;
    Ok(Grant {
        owner_id: r.try_get("owner_id")?,
        owner_address: r.try_get("owner_address")?,
        mailbox_id: r.try_get("mailbox_id")?,
        grantee_id: r.try_get("grantee_id")?,
        grantee_address: r.try_get("grantee_address")?,
        rights: r.try_get("rights")?,
        send_as: send_as != 0,
        on_behalf: on_behalf != 0,
    })
}

impl Store {
    /// Sets (or replaces) a grant; a grant of nothing at all removes it.
    pub async fn set_grant(&self, grant: &NewGrant<'_>) -> Result<()> {
        let mut tx = self.write_tx().await?;
        delete_grant_in(&mut tx, grant.owner, grant.mailbox, grant.grantee).await?;
        if !grant.rights.is_empty() || grant.send_as || grant.on_behalf {
            sqlx::query(
                "INSERT INTO mailbox_grants (owner_id, mailbox_id, grantee_id, rights, send_as, on_behalf, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(grant.owner)
            .bind(grant.mailbox)
            .bind(grant.grantee)
            .bind(grant.rights)
            .bind(i64::from(grant.send_as))
            .bind(i64::from(grant.on_behalf))
            .bind(now())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a grant; `false` when there was none.
    pub async fn delete_grant(&self, owner: AccountId, mailbox: Option<MailboxId>, grantee: AccountId) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let gone = delete_grant_in(&mut tx, owner, mailbox, grantee).await?;
        tx.commit().await?;
        Ok(gone)
    }

    /// Every grant `owner` gave, account-wide ones first, then by grantee.
    pub async fn grants_given(&self, owner: AccountId) -> Result<Vec<Grant>> {
        let sql =
            format!("{GRANT_SELECT} WHERE g.owner_id = $1 ORDER BY g.mailbox_id IS NOT NULL, g.mailbox_id, e.address");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(owner).fetch_all(&self.pool).await?;
        rows.iter().map(grant_of).collect()
    }

    /// Every grant `grantee` holds from accounts that are not closed, by owner.
    pub async fn grants_held(&self, grantee: AccountId) -> Result<Vec<Grant>> {
        let sql = format!(
            "{GRANT_SELECT} WHERE g.grantee_id = $1 AND o.status <> 'closed' \
             ORDER BY o.address, g.mailbox_id IS NOT NULL, g.mailbox_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(grantee).fetch_all(&self.pool).await?;
        rows.iter().map(grant_of).collect()
    }

    /// The grants `grantee` holds on `owner`'s mail (account-wide first).
    pub async fn grants_between(&self, owner: AccountId, grantee: AccountId) -> Result<Vec<Grant>> {
        let sql = format!(
            "{GRANT_SELECT} WHERE g.owner_id = $1 AND g.grantee_id = $2 ORDER BY g.mailbox_id IS NOT NULL, g.mailbox_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(owner).bind(grantee).fetch_all(&self.pool).await?;
        rows.iter().map(grant_of).collect()
    }

    /// Writes a line of `owner`'s delegation journal.
    pub async fn journal_delegation(
        &self,
        owner: AccountId,
        actor: AccountId,
        action: &str,
        detail: &str,
    ) -> Result<()> {
        let mut conn = self.write_conn().await?;
        sqlx::query(
            "INSERT INTO delegation_journal (owner_id, actor_id, action, detail, at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(owner)
        .bind(actor)
        .bind(action)
        .bind(detail)
        .bind(now())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The latest `limit` lines of `owner`'s delegation journal, newest first.
    pub async fn delegation_journal(&self, owner: AccountId, limit: i64) -> Result<Vec<DelegationEntry>> {
        let rows = sqlx::query(
            "SELECT a.address, j.action, j.detail, j.at FROM delegation_journal j JOIN accounts a ON a.id = j.actor_id \
             WHERE j.owner_id = $1 ORDER BY j.at DESC, j.id DESC LIMIT $2",
        )
        .bind(owner)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DelegationEntry {
                    actor_address: r.try_get("address")?,
                    action: r.try_get("action")?,
                    detail: r.try_get("detail")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }
}

async fn delete_grant_in(
    conn: &mut sqlx::AnyConnection,
    owner: AccountId,
    mailbox: Option<MailboxId>,
    grantee: AccountId,
) -> Result<bool> {
    let done = match mailbox {
        None => {
            sqlx::query("DELETE FROM mailbox_grants WHERE owner_id = $1 AND grantee_id = $2 AND mailbox_id IS NULL")
                .bind(owner)
                .bind(grantee)
                .execute(&mut *conn)
                .await?
        }
        Some(m) => {
            sqlx::query("DELETE FROM mailbox_grants WHERE owner_id = $1 AND grantee_id = $2 AND mailbox_id = $3")
                .bind(owner)
                .bind(grantee)
                .bind(m)
                .execute(&mut *conn)
                .await?
        }
    };
    Ok(done.rows_affected() > 0)
}
