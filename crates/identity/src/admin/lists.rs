//! Distribution lists as an administrator sees them (the console's
//! « Listes », `ardoise admin list`): the lists within sight, a list's
//! members, posting policy and moderators, changed through the `lists`
//! domain (which checks what a member may be and keeps static and dynamic
//! lists apart). A list belongs to the unit a dynamic list reaches, or to no
//! unit (a static list: governance's, like the CLI has always had it):
//! seeing it needs [`Action::Read`] there, changing it
//! [`Action::ManageAccount`]. A list out of sight is [`AdminError::NotFound`].
//! Every change is audited with the real actor, with the CLI's action names.

use lists::{Lists, PostPolicy, Report};
use model::Address;
use store::ListRow;

use super::{AdminError, Administrator};
use crate::Identity;
use crate::lifecycle::Action;

/// A list in the console's table.
#[derive(Debug, Clone)]
pub struct ListSummary {
    pub list: ListRow,
    /// The unit a dynamic list reaches, as « name (UAI) ».
    pub unit: Option<String>,
    /// Static members, or the directory's accounts a dynamic list reaches now.
    pub members: usize,
    pub moderators: usize,
    pub may_manage: bool,
}

/// A list's page.
#[derive(Debug, Clone)]
pub struct ListView {
    pub report: Report,
    pub unit: Option<String>,
    pub may_manage: bool,
}

/// A refusal of the lists domain as the administrator is told it.
fn list_error(e: lists::Error) -> AdminError {
    match e {
        lists::Error::NotFound(_) => AdminError::NotFound,
        lists::Error::Store(e) => AdminError::Store(e),
        lists::Error::Conflict(what) => AdminError::Domain(format!("adresse déjà utilisée / {what}")),
        other => AdminError::Domain(other.to_string()),
    }
}

impl Identity {
    /// The lists `who` sees, by address.
    pub async fn admin_lists(&self, who: &Administrator, lists: &Lists) -> Result<Vec<ListSummary>, AdminError> {
        let mut out = Vec::new();
        for list in lists.all().await.map_err(list_error)? {
            if !who.may(Action::Read, list.unit) {
                continue;
            }
            let members = match (list.kind == lists::ListKind::Dynamic.as_str(), list.unit) {
                (true, Some(unit)) => self.store.directory_members(unit, list.role.as_deref()).await?.len(),
                _ => self.store.list_members(list.id).await?.len(),
            };
            out.push(ListSummary {
                unit: who.unit_name(list.unit),
                members,
                moderators: self.store.list_moderators(list.id).await?.len(),
                may_manage: who.may(Action::ManageAccount, list.unit),
                list,
            });
        }
        out.sort_by_key(|a| a.list.address.to_string());
        Ok(out)
    }

    /// The list `id` when `who` sees it, after checking `action` on it.
    async fn list_target(&self, who: &Administrator, id: i64, action: Action) -> Result<ListRow, AdminError> {
        let list = self.store.list_by_id(id).await?.ok_or(AdminError::NotFound)?;
        if !who.may(Action::Read, list.unit) {
            return Err(AdminError::NotFound);
        }
        who.check(action, list.unit)?;
        Ok(list)
    }

    /// The id of the list at `address` when `who` sees it (the CLI names lists so).
    pub async fn admin_list_id(&self, who: &Administrator, address: &Address) -> Result<i64, AdminError> {
        let list = self.store.list_by_address(address).await?.ok_or(AdminError::NotFound)?;
        if !who.may(Action::Read, list.unit) {
            return Err(AdminError::NotFound);
        }
        Ok(list.id)
    }

    /// The list `id`: definition, members, moderators, reach and cycles.
    pub async fn admin_list(&self, who: &Administrator, lists: &Lists, id: i64) -> Result<ListView, AdminError> {
        let list = self.list_target(who, id, Action::Read).await?;
        let report = lists.report(&list.address).await.map_err(list_error)?;
        Ok(ListView { unit: who.unit_name(list.unit), may_manage: who.may(Action::ManageAccount, list.unit), report })
    }

    /// Adds `member` (an account, an alias, another list or an outside
    /// address) to the static list `id`; `false` when it was one already.
    pub async fn admin_list_add(
        &self,
        who: &Administrator,
        lists: &Lists,
        id: i64,
        member: &Address,
    ) -> Result<bool, AdminError> {
        let list = self.list_target(who, id, Action::ManageAccount).await?;
        let added = lists.add_member(&list.address, member).await.map_err(list_error)?;
        if added {
            self.admin_audit(who, "list.add", &list.address.to_string(), &member.to_string()).await?;
        }
        Ok(added)
    }

    /// Removes `member` from the static list `id`.
    pub async fn admin_list_remove(
        &self,
        who: &Administrator,
        lists: &Lists,
        id: i64,
        member: &Address,
    ) -> Result<(), AdminError> {
        let list = self.list_target(who, id, Action::ManageAccount).await?;
        if !lists.remove_member(&list.address, member).await.map_err(list_error)? {
            return Err(AdminError::Domain(format!("{member} n'est pas membre de {} / not a member", list.address)));
        }
        self.admin_audit(who, "list.remove", &list.address.to_string(), &member.to_string()).await?;
        Ok(())
    }

    /// Sets who may post to the list `id` (`senders` only with [`PostPolicy::Senders`]).
    pub async fn admin_list_policy(
        &self,
        who: &Administrator,
        lists: &Lists,
        id: i64,
        policy: PostPolicy,
        senders: &[Address],
    ) -> Result<(), AdminError> {
        let list = self.list_target(who, id, Action::ManageAccount).await?;
        lists.set_policy(&list.address, policy, senders).await.map_err(list_error)?;
        let named = senders.iter().map(Address::to_string).collect::<Vec<_>>().join(" ");
        self.admin_audit(who, "list.post-policy", &list.address.to_string(), format!("{policy} {named}").trim())
            .await?;
        Ok(())
    }

    /// Makes `account` a moderator of the list `id`, or no longer one;
    /// `false` when nothing changed. A new moderator must be within sight.
    pub async fn admin_list_moderator(
        &self,
        who: &Administrator,
        lists: &Lists,
        id: i64,
        account: &Address,
        add: bool,
    ) -> Result<bool, AdminError> {
        let list = self.list_target(who, id, Action::ManageAccount).await?;
        if add {
            match self.admin_find(who, account).await {
                Err(AdminError::NotFound) => {
                    return Err(AdminError::Domain(format!("{account} : compte inconnu / unknown account")));
                }
                other => other.map(drop)?,
            }
        }
        let changed = lists.set_moderator(&list.address, account, add).await.map_err(list_error)?;
        if changed {
            let action = if add { "list.moderator.add" } else { "list.moderator.remove" };
            self.admin_audit(who, action, &list.address.to_string(), &account.to_string()).await?;
        }
        Ok(changed)
    }
}
