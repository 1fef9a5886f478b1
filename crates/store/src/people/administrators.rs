//! Who answers for a mail domain: the administrators that `postmaster@` and
//! `abuse@` reach (RFC 5321 section 4.5.1, RFC 2142), and the domain that
//! stands for the server when its host name is not one of its domains.

use model::{AccountId, Domain};

use crate::Store;
use crate::error::{Error, Result};

impl Store {
    /// The accounts holding `role` on the académie of `domain`, by id.
    ///
    /// Domains are not tied to organisational units, so the académie of a
    /// domain is found through people: every unit of kind `academie` above
    /// (or at) the unit of an account of the domain, and every académie on
    /// which an account of the domain holds `role`. Closed accounts are left
    /// out (they receive no mail).
    pub async fn domain_administrators(&self, domain: &Domain, role: &str) -> Result<Vec<AccountId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "WITH RECURSIVE up(id, parent_id, kind) AS ( \
                 SELECT o.id, o.parent_id, o.kind FROM org_units o \
                  WHERE o.id IN (SELECT DISTINCT org_unit_id FROM accounts \
                                  WHERE domain = $1 AND org_unit_id IS NOT NULL) \
                 UNION \
                 SELECT o.id, o.parent_id, o.kind FROM org_units o JOIN up ON o.id = up.parent_id \
             ), \
             academies(id) AS ( \
                 SELECT id FROM up WHERE kind = 'academie' \
                 UNION \
                 SELECT g.org_unit_id FROM role_grants g \
                   JOIN accounts a ON a.id = g.account_id \
                   JOIN org_units o ON o.id = g.org_unit_id \
                  WHERE a.domain = $1 AND g.role = $2 AND o.kind = 'academie' \
             ) \
             SELECT DISTINCT g.account_id FROM role_grants g \
               JOIN academies ac ON ac.id = g.org_unit_id \
               JOIN accounts a ON a.id = g.account_id \
              WHERE g.role = $2 AND a.status <> 'closed' \
              ORDER BY g.account_id",
        )
        .bind(domain.as_str())
        .bind(role)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }

    /// The first local domain created (by name among those created at the same
    /// second), or `None` when there is none.
    pub async fn first_domain(&self) -> Result<Option<Domain>> {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM domains ORDER BY created_at, name LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        name.map(|n| Domain::parse(&n).map_err(|e| Error::Corrupt(format!("domain {n:?}: {e}")))).transpose()
    }
}
