//! The administration service (issue 24): what an administrator may do to
//! accounts. Each operation takes the acting [`Administrator`], checks its
//! role and scope here ([`crate::lifecycle::scopes`]), never in the page or
//! the command that asks, makes the change, and writes the hash-chained audit
//! log ([`crate::lifecycle::audit`]) with the real actor. The web console
//! (`web`'s `admin` module) and `ardoise admin` both call it.
//!
//! What an administrator may not see answers [`AdminError::NotFound`],
//! exactly like an account that does not exist: an établissement's referent
//! learns nothing of another établissement's accounts by trying identifiers.
//! An account in sight with an action the role does not allow (the helpdesk
//! suspending someone, an auditor resetting a password) answers
//! [`AdminError::Denied`].
//!
//! - [`accounts`]: search (paged) and the account's page;
//! - [`actions`]: suspend, reactivate, quota, provisional password, 2FA
//!   reset, unlock of a throttled account, role grants;
//! - [`sessions`]: an account's open sessions, ended one or all at once;
//! - [`queue`]: the outbound queue within sight, retry and delete;
//! - [`quarantine`]: the messages the MX refused, for governance: release
//!   and delete;
//! - [`requests`]: users' requests for more space, approved (with the new
//!   quota) or refused;
//! - [`lists`]: distribution lists within sight, their members, posting
//!   policy and moderators, through the `lists` domain;
//! - [`functional`]: functional mailboxes and their members' rights;
//! - [`storage`]: usage per unit, largest mailboxes, deduplication;
//! - [`hr`]: the HR sync, limited to the administrator's académie (the
//!   console's upload and `ardoise directory sync` both run it);
//! - [`policies`]: the forwarding and archiving policies per unit;
//! - [`oversight`]: the organisation tree and the audit log with its chain
//!   verified.

pub mod accounts;
pub mod actions;
pub mod functional;
pub mod hr;
pub mod lists;
pub mod oversight;
pub mod policies;
pub mod quarantine;
pub mod queue;
pub mod requests;
pub mod sessions;
pub mod storage;

use model::{AccountId, AccountStatus, OrgUnitId};
use store::{Account, OrgUnit};

use crate::Identity;
use crate::lifecycle::{Action, AdminRole, OrgTree, Scope, audit};

pub use accounts::{AccountQuery, AccountRow, AccountView, Found, PAGE};
pub use actions::parse_quota;
pub use functional::{FunctionalView, MEMBER_RIGHTS, MemberRow};
pub use hr::{HrError, HrSync};
pub use lists::{ListSummary, ListView};
pub use oversight::{AuditFilter, AuditView, UnitRow};
pub use policies::UnitPolicies;
pub use quarantine::{QUARANTINE_SHOWN, QuarantineRow, QuarantineView};
pub use queue::{QUEUE_PAGE, QueueRcpt, QueueRow, QueueView};
pub use requests::{MAX_REASON, REQUESTS_SHOWN, RequestRow, RequestsView};
pub use sessions::SessionRow;
pub use storage::{LARGEST, LargeMailbox, StorageView, UnitStorage};
pub use store::{QuotaRequest, QuotaRequestStatus};

/// Why an administrative operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No such account, or not within the administrator's sight: the same
    /// answer, so that existence does not leak.
    #[error("introuvable / not found")]
    NotFound,
    /// In sight, but the role does not allow the action.
    #[error("{0}")]
    Denied(String),
    /// Refused because of the target's state or the request itself.
    #[error("refusé : {fr} / refused: {en}")]
    Refused { fr: &'static str, en: &'static str },
    /// Refused by the domain, in its own words (a list's member that
    /// reaches nobody, rights given outside one académie).
    #[error("refusé : {0}")]
    Domain(String),
    #[error("store: {0}")]
    Store(#[from] store::Error),
    #[error("credentials: {0}")]
    Credentials(#[from] crate::credentials::Error),
}

impl model::ErrorKind for AdminError {
    fn transience(&self) -> model::Transience {
        match self {
            AdminError::Store(e) => e.transience(),
            AdminError::Credentials(e) => e.transience(),
            _ => model::Transience::Permanent,
        }
    }
}

/// A refusal of the request itself (French, English).
pub(crate) fn refused(fr: &'static str, en: &'static str) -> AdminError {
    AdminError::Refused { fr, en }
}

/// Who acts: their grants, the organisation tree they are checked against,
/// and how the audit log names their scope.
pub struct Administrator {
    scope: Scope,
    tree: OrgTree,
    units: Vec<OrgUnit>,
    label: String,
}

impl std::fmt::Debug for Administrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Administrator").field("actor", &self.scope.actor).field("scope", &self.label).finish()
    }
}

impl Administrator {
    /// The acting address (`opérateur` for the machine's operator).
    pub fn actor(&self) -> &str {
        &self.scope.actor
    }

    /// The acting account (none for the operator).
    pub fn account(&self) -> Option<AccountId> {
        self.scope.account
    }

    /// The scope as the audit log writes it.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether the administrator may do `action` on something in `unit`.
    pub fn may(&self, action: Action, unit: Option<OrgUnitId>) -> bool {
        self.scope.check(action, unit, &self.tree).is_ok()
    }

    /// Refuses (with the sentence of the scope) an action outside the scope.
    pub fn check(&self, action: Action, unit: Option<OrgUnitId>) -> Result<(), AdminError> {
        self.scope.check(action, unit, &self.tree).map_err(AdminError::Denied)
    }

    /// The grants, with the names of their units (`None` for the operator).
    pub fn roles(&self) -> Option<Vec<(AdminRole, String)>> {
        let grants = self.scope.grants.as_ref()?;
        Some(grants.iter().map(|(role, unit)| (*role, self.unit_name(Some(*unit)).unwrap_or_default())).collect())
    }

    /// The units the administrator may read, or `None` when that is every
    /// unit (the store's queries then filter on nothing).
    pub(crate) fn units_read(&self) -> Option<Vec<OrgUnitId>> {
        let seen: Vec<OrgUnitId> =
            self.units.iter().filter(|u| self.may(Action::Read, Some(u.id))).map(|u| u.id).collect();
        (seen.len() != self.units.len()).then_some(seen)
    }

    /// Whether the administrator governs some unit (the console's
    /// quarantine page is theirs).
    pub fn governs_some(&self) -> bool {
        self.may(Action::Govern, None) || self.units.iter().any(|u| self.may(Action::Govern, Some(u.id)))
    }

    /// Whether the administrator may read the audit log.
    pub fn reads_audit(&self) -> bool {
        self.may(Action::ReadAudit, None)
    }

    fn unit(&self, id: OrgUnitId) -> Option<&OrgUnit> {
        self.units.iter().find(|u| u.id == id)
    }

    fn unit_name(&self, id: Option<OrgUnitId>) -> Option<String> {
        let u = self.unit(id?)?;
        Some(match &u.uai {
            Some(uai) => format!("{} ({uai})", u.name),
            None => u.name.clone(),
        })
    }
}

impl Identity {
    /// The administrator an account is, from its grants: `None` when it holds
    /// no grant or is not active (a suspended administrator administers nothing).
    pub async fn administrator(&self, account: &Account) -> Result<Option<Administrator>, store::Error> {
        if account.status != AccountStatus::Active {
            return Ok(None);
        }
        let scope = Scope::of(&self.store, account).await?;
        if scope.grants.as_ref().is_none_or(Vec::is_empty) {
            return Ok(None);
        }
        let label = scope.describe();
        self.with_tree(scope, label).await.map(Some)
    }

    /// Whether the account holds an administrative grant (the web's header
    /// links to the console for it; the console checks everything again).
    pub async fn holds_grant(&self, id: AccountId) -> Result<bool, store::Error> {
        Ok(!self.store.role_grants(id).await?.is_empty())
    }

    /// The machine's operator (`ardoise admin` without `--as`): every right.
    pub async fn operator(&self) -> Result<Administrator, store::Error> {
        let scope = Scope::operator();
        let label = scope.describe();
        self.with_tree(scope, label).await
    }

    /// `ardoise admin --as ADDRESS`: the operator trying an administrator's
    /// scope. Nothing authenticates it, so the audit log says so.
    pub async fn scope_test(&self, account: &Account) -> Result<Administrator, store::Error> {
        let scope = Scope::of(&self.store, account).await?;
        let label = format!("test de périmètre par l'opérateur (--as) : {}", scope.describe());
        self.with_tree(scope, label).await
    }

    async fn with_tree(&self, scope: Scope, label: String) -> Result<Administrator, store::Error> {
        let units = self.store.list_org_units().await?;
        Ok(Administrator { scope, tree: OrgTree::new(&units), units, label })
    }

    /// Writes one action of `who` to the audit log.
    pub async fn admin_audit(
        &self,
        who: &Administrator,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), store::Error> {
        audit::record(&self.store, who.actor(), who.label(), action, target, detail).await.map(|_| ())
    }

    /// The account `id` when `who` may see it (else [`AdminError::NotFound`]),
    /// after checking that `action` is allowed on it (else [`AdminError::Denied`]).
    pub(crate) async fn admin_target(
        &self,
        who: &Administrator,
        id: AccountId,
        action: Action,
    ) -> Result<Account, AdminError> {
        let account = self.store.account(id).await?.ok_or(AdminError::NotFound)?;
        if !who.may(Action::Read, account.org_unit) {
            return Err(AdminError::NotFound);
        }
        who.check(action, account.org_unit)?;
        Ok(account)
    }

    /// The account at `address` when `who` may see it (the CLI names accounts so).
    pub async fn admin_find(&self, who: &Administrator, address: &model::Address) -> Result<Account, AdminError> {
        let account = self.store.account_by_address(address).await?.ok_or(AdminError::NotFound)?;
        if !who.may(Action::Read, account.org_unit) {
            return Err(AdminError::NotFound);
        }
        Ok(account)
    }
}
