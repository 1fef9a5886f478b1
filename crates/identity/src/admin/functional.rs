//! Functional mailboxes as an administrator sees them (the console's
//! « Boîtes fonctionnelles », `ardoise admin mailbox members`): an account
//! of role `fonctionnel` run by its members, each an account-wide grant of
//! RFC 4314 rights with the sending rights, given through `mailstore`'s
//! delegation (which refuses students and other académies). Finding them
//! is the account search with the role; seeing the members needs
//! [`Action::Read`] on the mailbox's unit, changing them
//! [`Action::ManageAccount`]; a member must be within sight too. Audited
//! with the CLI's action names.

use model::{AccountId, Address, Rights, Role, SendRights};
use store::Account;

use super::{AdminError, Administrator, refused};
use crate::Identity;
use crate::lifecycle::Action;

/// The rights a new member gets unless others are chosen: read and write.
pub const MEMBER_RIGHTS: &str = "lrswipte";

/// One member of a functional mailbox.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub account: AccountId,
    pub address: String,
    pub rights: Rights,
    pub send: SendRights,
}

/// A functional mailbox's page.
#[derive(Debug, Clone)]
pub struct FunctionalView {
    pub account: Account,
    pub unit: Option<String>,
    pub members: Vec<MemberRow>,
    pub may_manage: bool,
}

fn mail_error(e: mailstore::Error) -> AdminError {
    match e {
        mailstore::Error::Store(e) => AdminError::Store(e),
        mailstore::Error::Invalid(what) => AdminError::Domain(what),
        other => AdminError::Domain(other.to_string()),
    }
}

impl Identity {
    /// The functional mailbox `id` when `who` sees it, after checking `action`.
    async fn functional_target(
        &self,
        who: &Administrator,
        id: AccountId,
        action: Action,
    ) -> Result<Account, AdminError> {
        let account = self.admin_target(who, id, action).await?;
        if account.role != Role::Functional {
            return Err(refused(
                "ce compte n'est pas une boîte fonctionnelle",
                "this account is not a functional mailbox",
            ));
        }
        Ok(account)
    }

    /// The functional mailbox `id` and its members.
    pub async fn admin_functional(&self, who: &Administrator, id: AccountId) -> Result<FunctionalView, AdminError> {
        let account = self.functional_target(who, id, Action::Read).await?;
        let members = self
            .mail
            .grants_given(id)
            .await
            .map_err(mail_error)?
            .into_iter()
            .filter(|g| g.mailbox_id.is_none())
            .map(|g| MemberRow {
                account: g.grantee_id,
                address: g.grantee_address,
                rights: Rights::parse(&g.rights).unwrap_or(Rights::NONE),
                send: SendRights { send_as: g.send_as, on_behalf: g.on_behalf },
            })
            .collect();
        Ok(FunctionalView {
            unit: who.unit_name(account.org_unit),
            may_manage: who.may(Action::ManageAccount, account.org_unit),
            account,
            members,
        })
    }

    /// Makes `member` a member of the functional mailbox `id` with these
    /// rights (or changes theirs). Returns the member's account.
    pub async fn admin_functional_set(
        &self,
        who: &Administrator,
        id: AccountId,
        member: &Address,
        rights: Rights,
        send: SendRights,
    ) -> Result<Account, AdminError> {
        let mailbox = self.functional_target(who, id, Action::ManageAccount).await?;
        if rights.is_empty() && !send.send_as && !send.on_behalf {
            return Err(refused("choisissez au moins un droit", "choose at least one right"));
        }
        let member = match self.admin_find(who, member).await {
            Err(AdminError::NotFound) => {
                return Err(AdminError::Domain(format!("{member} : compte inconnu / unknown account")));
            }
            found => found?,
        };
        self.mail.set_account_rights(id, member.id, rights, send).await.map_err(mail_error)?;
        let detail = format!("{} {rights}{}", member.address, sending(send));
        self.admin_audit(who, "mailbox.member.add", &mailbox.address.to_string(), &detail).await?;
        Ok(member)
    }

    /// Takes every right of `member` on the functional mailbox `id` away.
    pub async fn admin_functional_remove(
        &self,
        who: &Administrator,
        id: AccountId,
        member: AccountId,
    ) -> Result<(), AdminError> {
        let mailbox = self.functional_target(who, id, Action::ManageAccount).await?;
        let grants = self.mail.grants_given(id).await.map_err(mail_error)?;
        let Some(grant) = grants.iter().find(|g| g.grantee_id == member && g.mailbox_id.is_none()) else {
            return Err(refused("ce compte n'est pas membre de la boîte", "this account is not a member"));
        };
        self.mail.set_account_rights(id, member, Rights::NONE, SendRights::default()).await.map_err(mail_error)?;
        self.admin_audit(who, "mailbox.member.remove", &mailbox.address.to_string(), &grant.grantee_address).await?;
        Ok(())
    }
}

/// The sending rights as the audit log (and the CLI) writes them.
pub fn sending(send: SendRights) -> String {
    let mut out = String::new();
    if send.send_as {
        out.push_str(" +envoi-en-tant-que");
    }
    if send.on_behalf {
        out.push_str(" +envoi-de-la-part-de");
    }
    out
}
