//! Administrative roles and their scopes. A grant gives a role on one
//! organisational unit and everything below it: the académie administrator
//! on the académie, a DSDEN administrator on its DSDEN (its établissements
//! included), an établissement referent on its UAI. The helpdesk may reset,
//! unlock and put deleted mail back, but never read mail; the auditor only
//! reads.
//!
//! What belongs to no unit (domains, single sign-on clients, login notices,
//! policies, accounts outside every unit) is governed by the académie
//! administrator when the installation serves one académie (one root unit).
//! Where it serves several (docs/tenants.md), that is the national
//! administrator's (`admin-national`, every right on every académie); an
//! académie administrator keeps every right within their académie only.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use model::{AccountId, OrgUnitId};
use store::{OrgUnit, Store};

/// An administrative role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminRole {
    /// Every académie of the installation, and what belongs to none.
    National,
    Academie,
    Dsden,
    Referent,
    Helpdesk,
    Auditor,
}

impl AdminRole {
    pub const ALL: &'static [AdminRole] = &[
        AdminRole::National,
        AdminRole::Academie,
        AdminRole::Dsden,
        AdminRole::Referent,
        AdminRole::Helpdesk,
        AdminRole::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::National => "admin-national",
            AdminRole::Academie => "admin-academie",
            AdminRole::Dsden => "admin-dsden",
            AdminRole::Referent => "referent",
            AdminRole::Helpdesk => "assistance",
            AdminRole::Auditor => "auditeur",
        }
    }

    /// Whether the role may do `action` (within its subtree).
    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            AdminRole::National | AdminRole::Academie => true,
            AdminRole::Dsden | AdminRole::Referent => {
                matches!(action, Read | ManageAccount | ResetCredentials | RestoreMail)
            }
            AdminRole::Helpdesk => matches!(action, Read | ResetCredentials | RestoreMail),
            AdminRole::Auditor => matches!(action, Read | ReadAudit),
        }
    }
}

impl fmt::Display for AdminRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AdminRole {
    type Err = String;
    fn from_str(s: &str) -> Result<AdminRole, String> {
        AdminRole::ALL.iter().copied().find(|r| r.as_str() == s).ok_or_else(|| {
            let all: Vec<_> = AdminRole::ALL.iter().map(|r| r.as_str()).collect();
            format!("rôle d'administration inconnu « {s} » (attendu : {})", all.join(", "))
        })
    }
}

/// What an administrator wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See accounts and their settings (not their mail).
    Read,
    /// Create, suspend, reactivate, change quotas and aliases.
    ManageAccount,
    /// Reset a password, unlock a throttled account.
    ResetCredentials,
    /// Read stored messages (diagnostics).
    ReadMail,
    /// List an account's deleted messages (dates, folder, size, sender;
    /// never subject or content) and put them back.
    RestoreMail,
    /// Grant roles, run the HR sync, manage domains and storage.
    Govern,
    /// Read and verify the audit log.
    ReadAudit,
}

/// The tree of organisational units, to answer "is this unit under that one".
pub struct OrgTree {
    parents: HashMap<OrgUnitId, Option<OrgUnitId>>,
}

impl OrgTree {
    pub fn new(units: &[OrgUnit]) -> OrgTree {
        OrgTree { parents: units.iter().map(|u| (u.id, u.parent)).collect() }
    }

    /// Whether the tree has one root unit (an installation of one académie).
    pub fn one_root(&self) -> bool {
        self.parents.values().filter(|p| p.is_none()).count() <= 1
    }

    /// Whether `unit` is `ancestor` or lies below it.
    pub fn within(&self, unit: OrgUnitId, ancestor: OrgUnitId) -> bool {
        let mut current = Some(unit);
        for _ in 0..=self.parents.len() {
            match current {
                Some(u) if u == ancestor => return true,
                Some(u) => current = self.parents.get(&u).copied().flatten(),
                None => return false,
            }
        }
        false
    }
}

/// Who acts, and with which grants.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The acting address, or `opérateur` for the machine operator.
    pub actor: String,
    pub account: Option<AccountId>,
    /// `None` for the operator: the académie-level superuser.
    pub grants: Option<Vec<(AdminRole, OrgUnitId)>>,
}

impl Scope {
    /// The operator running the CLI on the machine: every right.
    pub fn operator() -> Scope {
        Scope { actor: "opérateur".into(), account: None, grants: None }
    }

    /// An administrator's scope, from their grants.
    pub async fn of(store: &Store, account: &store::Account) -> store::Result<Scope> {
        let grants = store
            .role_grants(account.id)
            .await?
            .into_iter()
            .filter_map(|g| g.role.parse::<AdminRole>().ok().map(|r| (r, g.org_unit)))
            .collect();
        Ok(Scope { actor: account.address.to_string(), account: Some(account.id), grants: Some(grants) })
    }

    /// How the scope is written in the audit log.
    pub fn describe(&self) -> String {
        match &self.grants {
            None => "superutilisateur (CLI)".into(),
            Some(g) if g.is_empty() => "aucun rôle".into(),
            Some(g) => g.iter().map(|(r, u)| format!("{r}@{u}")).collect::<Vec<_>>().join(","),
        }
    }

    /// Allows `action` on something in `unit` (`None`: not attached to any
    /// unit: the national role reaches it, and a role on the root unit when
    /// there is one root), or explains the refusal.
    pub fn check(&self, action: Action, unit: Option<OrgUnitId>, tree: &OrgTree) -> Result<(), String> {
        let Some(grants) = &self.grants else { return Ok(()) };
        let ok = grants.iter().any(|(role, granted)| {
            role.allows(action)
                && (*role == AdminRole::National
                    || match unit {
                        Some(u) => tree.within(u, *granted),
                        None => tree.parents.get(granted).is_some_and(Option::is_none) && tree.one_root(),
                    })
        });
        if ok {
            Ok(())
        } else {
            Err(format!(
                "refusé : {} n'a pas le droit « {action:?} » sur cette unité (rôles : {}) / denied: outside your scope",
                self.actor,
                self.describe()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::OrgUnitKind;

    fn unit(id: i64, parent: Option<i64>) -> OrgUnit {
        OrgUnit { id, parent, kind: OrgUnitKind::Service, name: format!("u{id}"), uai: None }
    }

    #[test]
    fn dsden_admin_stays_in_its_subtree() {
        // 1 académie > 2, 3 DSDEN > 4 (under 2), 5 (under 3)
        let tree =
            OrgTree::new(&[unit(1, None), unit(2, Some(1)), unit(3, Some(1)), unit(4, Some(2)), unit(5, Some(3))]);
        let dsden = Scope { actor: "a@x".into(), account: Some(1), grants: Some(vec![(AdminRole::Dsden, 2)]) };
        assert!(dsden.check(Action::ManageAccount, Some(4), &tree).is_ok());
        assert!(dsden.check(Action::ManageAccount, Some(2), &tree).is_ok());
        assert!(dsden.check(Action::ManageAccount, Some(5), &tree).unwrap_err().contains("refusé"));
        assert!(dsden.check(Action::ManageAccount, None, &tree).is_err());
        assert!(dsden.check(Action::ReadMail, Some(4), &tree).is_err());
        let helpdesk = Scope { actor: "h@x".into(), account: Some(2), grants: Some(vec![(AdminRole::Helpdesk, 1)]) };
        assert!(helpdesk.check(Action::ResetCredentials, Some(5), &tree).is_ok());
        assert!(helpdesk.check(Action::ReadMail, Some(5), &tree).is_err());
        // The helpdesk puts deleted mail back without reading it (issue 20).
        assert!(helpdesk.check(Action::RestoreMail, Some(5), &tree).is_ok());
        assert!(helpdesk.check(Action::ManageAccount, Some(5), &tree).is_err());
        let academie = Scope { actor: "r@x".into(), account: Some(3), grants: Some(vec![(AdminRole::Academie, 1)]) };
        assert!(academie.check(Action::Govern, None, &tree).is_ok());
        assert!(Scope::operator().check(Action::Govern, None, &tree).is_ok());
        let nobody = Scope { actor: "n@x".into(), account: Some(4), grants: Some(vec![]) };
        assert!(nobody.check(Action::Read, Some(4), &tree).is_err());
    }

    #[test]
    fn with_several_academies_only_the_national_role_governs_what_has_no_unit() {
        // Two académies: 1 > 2, and 6 > 7.
        let tree = OrgTree::new(&[unit(1, None), unit(2, Some(1)), unit(6, None), unit(7, Some(6))]);
        assert!(!tree.one_root());
        let academie = Scope { actor: "r@x".into(), account: Some(3), grants: Some(vec![(AdminRole::Academie, 1)]) };
        assert!(academie.check(Action::Govern, Some(2), &tree).is_ok());
        assert!(academie.check(Action::ManageAccount, Some(7), &tree).is_err(), "the other académie");
        assert!(academie.check(Action::Govern, None, &tree).is_err(), "domains, notices, policies");
        assert!(academie.check(Action::Read, None, &tree).is_err(), "accounts outside every unit");
        // The national role is granted on some unit, and reaches every one, and what has none.
        let national = Scope { actor: "n@x".into(), account: Some(4), grants: Some(vec![(AdminRole::National, 1)]) };
        for unit in [Some(2), Some(7), None] {
            assert!(national.check(Action::Govern, unit, &tree).is_ok(), "{unit:?}");
        }
        assert_eq!("admin-national".parse::<AdminRole>(), Ok(AdminRole::National));
    }
}
