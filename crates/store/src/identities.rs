//! The identities an account sends as (name, address, signature; migration
//! 9), and the search of the directory by name or address that recipient
//! autocomplete uses.
//!
//! An identity's address is checked by the web layer (own address or alias)
//! when saved and again by the submission pipeline when sending; the store
//! only keeps at most one default per account.

use model::AccountId;
use sqlx::Row;

use crate::error::{Error, Result};
use crate::{Store, now};

/// One identity of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailIdentity {
    pub id: i64,
    pub account_id: AccountId,
    pub name: String,
    pub address: String,
    pub signature: String,
    pub is_default: bool,
}

/// A person found in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub name: String,
    pub address: String,
}

const IDENTITY_COLS: &str = "id, account_id, name, address, signature, is_default";

fn identity_from(r: &sqlx::any::AnyRow) -> Result<MailIdentity> {
    Ok(MailIdentity {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        name: r.try_get("name")?,
        address: r.try_get("address")?,
        signature: r.try_get("signature")?,
        is_default: r.try_get::<i64, _>("is_default")? != 0,
    })
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// The identities of `account`, the default first, then by id.
    pub async fn identities(&self, account: AccountId) -> Result<Vec<MailIdentity>> {
        let sql =
            format!("SELECT {IDENTITY_COLS} FROM mail_identities WHERE account_id = $1 ORDER BY is_default DESC, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).fetch_all(&self.pool).await?;
        rows.iter().map(identity_from).collect()
    }

    /// Adds an identity (`id` `None`) or replaces one of `account`'s. Making
    /// it the default takes that mark from the others, in one transaction.
    /// Returns the identity's id; an id that is not the account's is `NotFound`.
    pub async fn save_identity(
        &self,
        account: AccountId,
        id: Option<i64>,
        name: &str,
        address: &str,
        signature: &str,
        is_default: bool,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let id = match id {
            Some(id) => {
                let done = sqlx::query(
                    "UPDATE mail_identities SET name = $1, address = $2, signature = $3, is_default = $4 \
                     WHERE id = $5 AND account_id = $6",
                )
                .bind(name)
                .bind(address)
                .bind(signature)
                .bind(i64::from(is_default))
                .bind(id)
                .bind(account)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(Error::NotFound("identity"));
                }
                id
            }
            None => {
                sqlx::query_scalar(
                    "INSERT INTO mail_identities (account_id, name, address, signature, is_default, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(account)
                .bind(name)
                .bind(address)
                .bind(signature)
                .bind(i64::from(is_default))
                .bind(now())
                .fetch_one(&mut *tx)
                .await?
            }
        };
        if is_default {
            sqlx::query("UPDATE mail_identities SET is_default = 0 WHERE account_id = $1 AND id <> $2")
                .bind(account)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Deletes one of `account`'s identities; `false` when it had no such one.
    pub async fn delete_identity(&self, account: AccountId, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM mail_identities WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Up to `limit` members of staff of `domain` whose name or address
    /// contains `query` (case-insensitive for ASCII), by name. Students,
    /// suspended and closed accounts and other domains' people are never
    /// listed; provisional accounts are (new staff who have not logged in
    /// yet already receive mail).
    pub async fn search_directory(
        &self,
        query: &str,
        domain: &model::Domain,
        limit: usize,
    ) -> Result<Vec<DirectoryEntry>> {
        let pattern = format!("%{}%", like_escape(&query.to_lowercase()));
        let in_domain = format!("%@{}", like_escape(domain.as_str()));
        let rows = sqlx::query(
            "SELECT display_name, address FROM accounts \
             WHERE status IN ('active', 'provisional') AND role <> 'eleve' AND address LIKE $3 ESCAPE '\\' \
             AND (LOWER(display_name) LIKE $1 ESCAPE '\\' OR address LIKE $1 ESCAPE '\\') \
             ORDER BY display_name, address LIMIT $2",
        )
        .bind(&pattern)
        .bind(limit as i64)
        .bind(&in_domain)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(DirectoryEntry { name: r.try_get("display_name")?, address: r.try_get("address")? }))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::like_escape;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape("a%b_c\\d"), "a\\%b\\_c\\\\d");
        assert_eq!(like_escape("hélène"), "hélène");
    }
}
