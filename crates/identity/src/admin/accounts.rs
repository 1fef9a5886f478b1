//! Finding accounts and reading one: only within the administrator's sight,
//! and never their mail (the account page shows states, dates and
//! addresses, not one message).

use model::{AccountId, AccountStatus, Role};
use store::{Account, FailureScope, Guessed, JournalEntry};

use super::{AdminError, Administrator};
use crate::Identity;
use crate::lifecycle::Action;

/// Accounts per page of a search.
pub const PAGE: usize = 50;
/// Longest search text kept (a longer one is cut, not refused).
const MAX_TEXT: usize = 200;
/// Journal rows shown on an account's page.
const JOURNAL_ROWS: i64 = 20;

/// What an administrator searches for. Empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    /// Part of the name, address or identifier (case ignored).
    pub text: String,
    /// The UAI of the account's établissement.
    pub uai: String,
    pub status: Option<AccountStatus>,
    /// Accounts of this role only.
    pub role: Option<Role>,
    /// From 0.
    pub page: usize,
}

/// One account in a search's answer.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: AccountId,
    pub address: String,
    pub name: String,
    pub role: Role,
    pub status: AccountStatus,
    pub unit: String,
}

/// A page of a search's answer.
#[derive(Debug, Clone)]
pub struct Found {
    pub rows: Vec<AccountRow>,
    /// Matching accounts in every page.
    pub total: usize,
    pub page: usize,
    pub pages: usize,
}

/// An account as its administrator sees it.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub account: Account,
    pub unit: Option<String>,
    pub aliases: Vec<String>,
    pub totp: bool,
    /// Passkeys registered.
    pub passkeys: usize,
    /// Failed logins counted now by the throttle (since the last success or unlock).
    pub failures: i64,
    /// When slowed down: until when (Unix seconds).
    pub slowed_until: Option<i64>,
    pub journal: Vec<JournalEntry>,
    /// Open web sessions, newest first.
    pub sessions: Vec<super::SessionRow>,
    /// The account's own administrative grants (role, unit).
    pub grants: Vec<(String, String)>,
    /// What the viewer may do here (the service checks again on each action).
    pub may_manage: bool,
    pub may_reset: bool,
    pub may_govern: bool,
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Identity {
    /// Accounts `who` may see that match `q`, a page of [`PAGE`] at a time,
    /// by address.
    pub async fn admin_search(&self, who: &Administrator, q: &AccountQuery) -> Result<Found, AdminError> {
        let text: String = q.text.trim().chars().take(MAX_TEXT).collect::<String>().to_lowercase();
        let uai = q.uai.trim().to_ascii_uppercase();
        // The units `who` sees (and that have the UAI asked for): the
        // database filters, counts and pages the accounts.
        let seen: Vec<&store::OrgUnit> = who
            .units
            .iter()
            .filter(|u| who.may(Action::Read, Some(u.id)))
            .filter(|u| uai.is_empty() || u.uai.as_ref().is_some_and(|x| x.as_str() == uai))
            .collect();
        let every_unit = uai.is_empty() && seen.len() == who.units.len();
        let search = store::AccountSearch {
            units: (!every_unit).then(|| seen.iter().map(|u| u.id).collect()),
            unplaced: uai.is_empty() && who.may(Action::Read, None),
            status: q.status,
            role: q.role,
            folded: crate::directory::fold(&text),
            lower: text,
            offset: 0,
            limit: PAGE,
        };
        let asked = q.page.saturating_mul(PAGE);
        let (mut matching, total) =
            self.store.search_accounts(&store::AccountSearch { offset: asked, ..search.clone() }).await?;
        let pages = total.div_ceil(PAGE).max(1);
        let page = q.page.min(pages - 1);
        if page != q.page {
            // Past the last page: the last page.
            matching = self.store.search_accounts(&store::AccountSearch { offset: page * PAGE, ..search }).await?.0;
        }
        let rows = matching
            .into_iter()
            .map(|a| AccountRow {
                id: a.id,
                address: a.address.to_string(),
                name: a.display_name,
                role: a.role,
                status: a.status,
                unit: who.unit_name(a.org_unit).unwrap_or_default(),
            })
            .collect();
        Ok(Found { rows, total, page, pages })
    }

    /// The account `id` as `who` sees it.
    pub async fn admin_account(&self, who: &Administrator, id: AccountId) -> Result<AccountView, AdminError> {
        let account = self.admin_target(who, id, Action::Read).await?;
        let state = self.store.credential_state(id).await?;
        let aliases = self.store.list_aliases(id).await?.iter().map(ToString::to_string).collect();
        // The account's failures from anywhere, weighed as from one address
        // (the strictest limit): « slowed down » when some address may be.
        let t = self.per_account;
        let now = now();
        let (failures, last) =
            self.store.failures(FailureScope::Guessed(Guessed::Account(id)), now - t.window.as_secs() as i64).await?;
        let slowed_until = t.wait(failures, last, now).map(|d| now + d.as_secs() as i64);
        let grants = self
            .store
            .role_grants(id)
            .await?
            .into_iter()
            .map(|g| (g.role, who.unit_name(Some(g.org_unit)).unwrap_or_else(|| g.org_unit.to_string())))
            .collect();
        let unit = account.org_unit;
        Ok(AccountView {
            unit: who.unit_name(unit),
            aliases,
            totp: state.totp_enabled_at.is_some(),
            passkeys: self.store.passkey_count(id).await? as usize,
            failures,
            slowed_until,
            journal: self.store.login_journal(id, JOURNAL_ROWS).await?,
            sessions: self.admin_sessions(who, id).await?,
            grants,
            may_manage: who.may(Action::ManageAccount, unit),
            may_reset: who.may(Action::ResetCredentials, unit),
            may_govern: who.may(Action::Govern, unit),
            account,
        })
    }
}
