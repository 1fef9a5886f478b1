//! Which académie (tenant) an account belongs to, and whether two accounts
//! share one. An académie is the unit of kind `academie` above an account's
//! unit; an account outside every unit belongs to its domain's académie,
//! that is to every académie whose accounts use that domain (a functional
//! mailbox created without a unit stays with the staff of its domain), and
//! two accounts outside every unit share a tenant when they share a domain.
//! The directory reads people the same way ([`DirectoryScope`]).
//!
//! Every feature that lets one account reach another (free/busy,
//! delegation, calendar shares, a list's « local staff » posting policy)
//! asks [`Store::same_tenant`] or [`Store::in_scope`]: nothing crosses
//! académies but mail.

use model::OrgUnitId;

use crate::error::Result;
use crate::{Account, DirectoryScope, ListRow, Store};

impl Store {
    /// The directory scope, and tenant, of `account`.
    pub async fn scope_of(&self, account: &Account) -> Result<DirectoryScope> {
        Ok(match self.academie_of(account.id).await? {
            Some(academie) => DirectoryScope::Academie(academie),
            None => DirectoryScope::Unplaced(account.address.domain().as_str().to_owned()),
        })
    }

    /// The académie above (or at) `unit`, if any.
    pub async fn academie_above(&self, unit: OrgUnitId) -> Result<Option<OrgUnitId>> {
        let found: Option<i64> = sqlx::query_scalar(
            "WITH RECURSIVE up(id, parent_id, kind, depth) AS ( \
                 SELECT id, parent_id, kind, 0 FROM org_units WHERE id = $1 \
                 UNION ALL \
                 SELECT o.id, o.parent_id, o.kind, up.depth + 1 FROM org_units o JOIN up ON o.id = up.parent_id \
                  WHERE up.depth < 64 \
             ) \
             SELECT id FROM up WHERE kind = 'academie' ORDER BY depth LIMIT 1",
        )
        .bind(unit)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found)
    }

    /// Whether `a` and `b` belong to one académie (see the module's text).
    pub async fn same_tenant(&self, a: &Account, b: &Account) -> Result<bool> {
        let (sa, sb) = (self.scope_of(a).await?, self.scope_of(b).await?);
        self.scopes_meet(&sa, &sb).await
    }

    /// Whether the unit `unit` is in `owner`'s académie.
    pub async fn unit_in_tenant_of(&self, owner: &Account, unit: OrgUnitId) -> Result<bool> {
        let theirs = match self.academie_above(unit).await? {
            Some(academie) => DirectoryScope::Academie(academie),
            // Units under no académie: only accounts under none reach them.
            None => return Ok(self.academie_of(owner.id).await?.is_none()),
        };
        self.scopes_meet(&self.scope_of(owner).await?, &theirs).await
    }

    /// The tenant of a distribution list: the académie above its unit (a
    /// dynamic list), else its domain's (a static list, like an account
    /// outside every unit).
    pub async fn list_scope(&self, list: &ListRow) -> Result<DirectoryScope> {
        if let Some(unit) = list.unit
            && let Some(academie) = self.academie_above(unit).await?
        {
            return Ok(DirectoryScope::Academie(academie));
        }
        Ok(DirectoryScope::Unplaced(list.address.domain().as_str().to_owned()))
    }

    /// Whether `account` belongs to the tenant `scope`.
    pub async fn in_scope(&self, account: &Account, scope: &DirectoryScope) -> Result<bool> {
        self.scopes_meet(&self.scope_of(account).await?, scope).await
    }

    async fn scopes_meet(&self, a: &DirectoryScope, b: &DirectoryScope) -> Result<bool> {
        use DirectoryScope::{Academie, Unplaced};
        Ok(match (a, b) {
            (Academie(x), Academie(y)) => x == y,
            (Unplaced(x), Unplaced(y)) => x.eq_ignore_ascii_case(y),
            (Academie(_), Unplaced(domain)) | (Unplaced(domain), Academie(_)) => {
                let placed = if matches!(a, Academie(_)) { a } else { b };
                self.directory_domains(placed).await?.iter().any(|d| d.eq_ignore_ascii_case(domain))
            }
        })
    }
}
