//! Calendars shared by their owner (store migration 33): with a colleague
//! (by address), a whole établissement (by UAI) or another unit (by name),
//! with the right to see free/busy time only, to read, or to write; and
//! revoked. A unit's share reaches everyone whose unit is it or lies below
//! it. Someone holding several shares of one calendar gets the widest right.
//!
//! Adapters name a shared calendar by its owner's address and its segment
//! ([`Groupware::shared_calendar`]); nothing of a calendar not shared with
//! the caller is reachable through here, and a calendar one cannot read is
//! answered [`Error::NotFound`] exactly like one that does not exist.

use model::{AccountId, Address, OrgUnitId, Uai};
use store::{ShareGrantee, ShareRow};

use crate::{Collection, CollectionKind, Error, Groupware, Result};

/// What a sharee may do, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Right {
    /// Busy times only: no title, no place, no detail.
    FreeBusy,
    Read,
    /// Read, create, change and delete events.
    Write,
}

impl Right {
    pub fn parse(s: &str) -> Option<Right> {
        match s {
            "freebusy" => Some(Right::FreeBusy),
            "read" => Some(Right::Read),
            "write" => Some(Right::Write),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Right::FreeBusy => "freebusy",
            Right::Read => "read",
            Right::Write => "write",
        }
    }

    pub fn can_read(self) -> bool {
        self >= Right::Read
    }

    pub fn can_write(self) -> bool {
        self == Right::Write
    }
}

/// One share of a calendar, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub grantee: ShareGrantee,
    /// The colleague's address, or the unit's name (with its UAI).
    pub label: String,
    pub right: Right,
}

/// A calendar of someone else shared with the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared {
    pub collection: Collection,
    pub owner: Address,
    pub owner_name: String,
    pub right: Right,
}

impl Shared {
    /// How adapters name it among the caller's own: `<owner>~<segment>`.
    pub fn key(&self) -> String {
        format!("{}~{}", self.owner, self.collection.segment)
    }
}

/// Splits `<owner>~<segment>`; `None` for a name without `~`.
pub fn split_key(key: &str) -> Option<(&str, &str)> {
    let (owner, segment) = key.split_once('~')?;
    (owner.contains('@') && !segment.is_empty()).then_some((owner, segment))
}

impl Groupware {
    /// Shares the calendar `c` (the caller's own) with `who`: a local
    /// account's address, a UAI, or the exact name of an organisational unit.
    pub async fn share(&self, c: &Collection, who: &str, right: Right) -> Result<Share> {
        if c.kind != CollectionKind::Calendar {
            return Err(Error::Invalid("seuls les agendas se partagent".into()));
        }
        let who = who.trim();
        let grantee = self.grantee(c.account_id, who).await?;
        if grantee == ShareGrantee::Account(c.account_id) {
            return Err(Error::Invalid("vous ne pouvez pas partager un agenda avec vous-même".into()));
        }
        self.store.put_share(c.id, grantee, right.as_str()).await?;
        Ok(Share { grantee, label: self.label(grantee).await?, right })
    }

    /// Revokes a share of `c`.
    pub async fn unshare(&self, c: &Collection, grantee: ShareGrantee) -> Result<()> {
        if self.store.delete_share(c.id, grantee).await? { Ok(()) } else { Err(Error::NotFound) }
    }

    /// The shares of `c`.
    pub async fn shares(&self, c: &Collection) -> Result<Vec<Share>> {
        let mut out = Vec::new();
        for ShareRow { grantee, rights, .. } in self.store.calendar_shares_of(c.id).await? {
            let right = Right::parse(&rights).ok_or_else(|| Error::Invalid(format!("droit inconnu : {rights}")))?;
            out.push(Share { grantee, label: self.label(grantee).await?, right });
        }
        Ok(out)
    }

    /// Every calendar shared with `account` (whose unit is `unit`), each
    /// once with its widest right, by owner and name.
    pub async fn shared_with(&self, account: AccountId, unit: Option<OrgUnitId>) -> Result<Vec<Shared>> {
        let units = match unit {
            Some(u) => self.store.unit_and_ancestors(u).await?,
            None => Vec::new(),
        };
        let mut out: Vec<Shared> = Vec::new();
        for (collection, rights) in self.store.shared_with(account, &units).await? {
            let Some(right) = Right::parse(&rights) else { continue };
            if collection.kind != CollectionKind::Calendar {
                continue;
            }
            if let Some(seen) = out.iter_mut().find(|s| s.collection.id == collection.id) {
                seen.right = seen.right.max(right);
                continue;
            }
            let Some(owner) = self.store.account(collection.account_id).await? else { continue };
            out.push(Shared { collection, owner: owner.address, owner_name: owner.display_name, right });
        }
        out.sort_by(|a, b| {
            (&a.owner_name, &a.collection.display_name).cmp(&(&b.owner_name, &b.collection.display_name))
        });
        Ok(out)
    }

    /// The calendar `segment` of `owner` as shared with `account`;
    /// [`Error::NotFound`] when it is not (or does not exist).
    pub async fn shared_calendar(
        &self,
        account: AccountId,
        unit: Option<OrgUnitId>,
        owner: &str,
        segment: &str,
    ) -> Result<Shared> {
        let all = self.shared_with(account, unit).await?;
        all.into_iter()
            .find(|s| s.owner.to_string().eq_ignore_ascii_case(owner) && s.collection.segment == segment)
            .ok_or(Error::NotFound)
    }

    /// Whom `who` names for a share of `owner`'s: an account or a unit of
    /// the owner's académie (store::tenants); any other answers as a
    /// missing one.
    async fn grantee(&self, owner: AccountId, who: &str) -> Result<ShareGrantee> {
        let owner = self.store.account(owner).await?.ok_or(Error::NotFound)?;
        if who.contains('@') {
            let address = Address::parse(who).map_err(|_| Error::Invalid(format!("adresse invalide : {who}")))?;
            let missing = || Error::Invalid(format!("aucun compte à l'adresse {address}"));
            let account = self.store.account_by_address(&address).await?.ok_or_else(missing)?;
            if account.id != owner.id
                && (account.role == model::Role::Student || !self.store.same_tenant(&owner, &account).await?)
            {
                return Err(missing());
            }
            return Ok(ShareGrantee::Account(account.id));
        }
        if let Ok(uai) = Uai::parse(who) {
            let missing = || Error::Invalid(format!("aucun établissement de code {uai}"));
            let unit = self.store.org_unit_by_uai(&uai).await?.ok_or_else(missing)?;
            if !self.store.unit_in_tenant_of(&owner, unit.id).await? {
                return Err(missing());
            }
            return Ok(ShareGrantee::Unit(unit.id));
        }
        for u in self.store.list_org_units().await?.iter().filter(|u| u.name.eq_ignore_ascii_case(who)) {
            if self.store.unit_in_tenant_of(&owner, u.id).await? {
                return Ok(ShareGrantee::Unit(u.id));
            }
        }
        Err(Error::Invalid("indiquez une adresse, un code UAI ou le nom exact d'une unité".into()))
    }

    async fn label(&self, grantee: ShareGrantee) -> Result<String> {
        Ok(match grantee {
            ShareGrantee::Account(id) => {
                self.store.account(id).await?.map(|a| a.address.to_string()).unwrap_or_default()
            }
            ShareGrantee::Unit(id) => {
                let units = self.store.list_org_units().await?;
                match units.into_iter().find(|u| u.id == id) {
                    Some(u) => match u.uai {
                        Some(uai) => format!("{} ({uai})", u.name),
                        None => u.name,
                    },
                    None => String::new(),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_are_ordered_and_keys_split() {
        assert!(Right::Write > Right::Read && Right::Read > Right::FreeBusy);
        assert!(!Right::FreeBusy.can_read() && Right::Read.can_read() && !Right::Read.can_write());
        for r in [Right::FreeBusy, Right::Read, Right::Write] {
            assert_eq!(Right::parse(r.as_str()), Some(r));
        }
        assert_eq!(Right::parse("admin"), None);
        assert_eq!(split_key("claire.martin@ac-demo.fr~agenda"), Some(("claire.martin@ac-demo.fr", "agenda")));
        assert_eq!(split_key("agenda"), None);
        assert_eq!(split_key("x~agenda"), None);
        assert_eq!(split_key("a@b~"), None);
    }
}
