//! Calendars shared (migration 33): rows of `dav_shares`, each granting a
//! right on one collection to an account or to an organisational unit and
//! everyone below it. The groupware domain decides what rights mean; here
//! they are words kept and read back.

use model::{AccountId, OrgUnitId};
use sqlx::Row;

use crate::error::{Error, Result};
use crate::{Collection, Store, now};

/// Who a share is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShareGrantee {
    Account(AccountId),
    /// An organisational unit and every unit below it.
    Unit(OrgUnitId),
}

impl ShareGrantee {
    fn parts(self) -> (&'static str, i64) {
        match self {
            ShareGrantee::Account(id) => ("account", id),
            ShareGrantee::Unit(id) => ("unit", id),
        }
    }

    fn from_parts(kind: &str, id: i64) -> Result<ShareGrantee> {
        match kind {
            "account" => Ok(ShareGrantee::Account(id)),
            "unit" => Ok(ShareGrantee::Unit(id)),
            other => Err(Error::Corrupt(format!("share grantee kind {other:?}"))),
        }
    }
}

/// One share of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareRow {
    pub collection_id: i64,
    pub grantee: ShareGrantee,
    /// `freebusy`, `read` or `write`.
    pub rights: String,
    pub created_at: i64,
}

const RIGHTS: [&str; 3] = ["freebusy", "read", "write"];

impl Store {
    /// Grants `rights` on collection `id` to `grantee` (replacing the right it had).
    pub async fn put_share(&self, id: i64, grantee: ShareGrantee, rights: &str) -> Result<()> {
        if !RIGHTS.contains(&rights) {
            return Err(Error::Invalid(format!("share rights {rights:?}")));
        }
        let (kind, gid) = grantee.parts();
        sqlx::query(
            "INSERT INTO dav_shares (collection_id, grantee_kind, grantee_id, rights, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (collection_id, grantee_kind, grantee_id) DO UPDATE SET rights = excluded.rights",
        )
        .bind(id)
        .bind(kind)
        .bind(gid)
        .bind(rights)
        .bind(now())
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(())
    }

    /// Revokes `grantee`'s share of collection `id`; `false` when there was none.
    pub async fn delete_share(&self, id: i64, grantee: ShareGrantee) -> Result<bool> {
        let (kind, gid) = grantee.parts();
        let done =
            sqlx::query("DELETE FROM dav_shares WHERE collection_id = $1 AND grantee_kind = $2 AND grantee_id = $3")
                .bind(id)
                .bind(kind)
                .bind(gid)
                .execute(&mut *self.write_conn().await?)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The shares of collection `id`, oldest first.
    pub async fn calendar_shares_of(&self, id: i64) -> Result<Vec<ShareRow>> {
        let rows = sqlx::query(
            "SELECT collection_id, grantee_kind, grantee_id, rights, created_at FROM dav_shares \
             WHERE collection_id = $1 ORDER BY created_at, grantee_kind, grantee_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ShareRow {
                    collection_id: r.try_get("collection_id")?,
                    grantee: ShareGrantee::from_parts(
                        &r.try_get::<String, _>("grantee_kind")?,
                        r.try_get("grantee_id")?,
                    )?,
                    rights: r.try_get("rights")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// `unit` and every unit above it, nearest first (at most 32 levels).
    pub async fn unit_and_ancestors(&self, unit: OrgUnitId) -> Result<Vec<OrgUnitId>> {
        let mut out = vec![unit];
        let mut current = unit;
        while out.len() < 32 {
            let parent: Option<Option<i64>> = sqlx::query_scalar("SELECT parent_id FROM org_units WHERE id = $1")
                .bind(current)
                .fetch_optional(&self.pool)
                .await?;
            match parent.flatten() {
                Some(p) if !out.contains(&p) => {
                    out.push(p);
                    current = p;
                }
                _ => break,
            }
        }
        Ok(out)
    }

    /// The collections of other accounts shared with `account` directly or
    /// with one of `units`, each with every right granted (one row per share).
    pub async fn shared_with(&self, account: AccountId, units: &[OrgUnitId]) -> Result<Vec<(Collection, String)>> {
        let mut out = Vec::new();
        let grantees =
            std::iter::once(ShareGrantee::Account(account)).chain(units.iter().map(|u| ShareGrantee::Unit(*u)));
        for grantee in grantees {
            let (kind, gid) = grantee.parts();
            let rows = sqlx::query(
                "SELECT c.id, s.rights FROM dav_shares s JOIN dav_collections c ON c.id = s.collection_id \
                 WHERE s.grantee_kind = $1 AND s.grantee_id = $2 AND c.account_id <> $3 ORDER BY c.id",
            )
            .bind(kind)
            .bind(gid)
            .bind(account)
            .fetch_all(&self.pool)
            .await?;
            for r in rows {
                let id: i64 = r.try_get("id")?;
                if let Some(c) = self.collection_by_id(id).await? {
                    out.push((c, r.try_get("rights")?));
                }
            }
        }
        Ok(out)
    }
}
