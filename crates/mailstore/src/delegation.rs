//! Delegation and functional mailboxes: who, besides its owner, may do what
//! with an account's mail (issue 22).
//!
//! Every access by someone who is not the owner asks here, so that IMAP, the
//! webmail and later JMAP answer the same question: [`Mailstore::rights_on`]
//! for a folder, [`Mailstore::send_rights`] for the owner's address.
//! A grant is on one folder or on every folder of the owner; a folder's own
//! grant, when there is one, says everything for that folder (RFC 4314: each
//! mailbox has its ACL), otherwise the account-wide grant applies. The members
//! of a functional mailbox are its account-wide grantees.
//!
//! The shared folders of a viewer are named `Partages/<owner>/<folder>`,
//! `<owner>` being the local part of the owner's address (the whole address
//! when two owners sharing with the viewer have the same local part). A
//! folder the viewer may not look up (`l`) does not exist for them: the
//! answer is the same as for a name that names nothing, so a delegate learns
//! nothing of the folders they were not given.

use model::{AccountId, Address, Rights, SendRights};
use store::{Grant, Mailbox, NewGrant};

use crate::{Error, Mailstore};

/// The root of the shared namespace (IMAP NAMESPACE, the webmail).
pub const SHARED_ROOT: &str = "Partages";

/// Lines of a delegation journal kept in an answer at most.
pub const JOURNAL_LIMIT: i64 = 500;

/// A folder of another account that a viewer may see.
#[derive(Debug, Clone)]
pub struct SharedMailbox {
    /// The owner's label in shared names (`secretariat.0541234a`).
    pub label: String,
    pub owner_address: String,
    /// The owner's folder, as the owner names it.
    pub mailbox: Mailbox,
    /// What the viewer may do with it.
    pub rights: Rights,
}

impl SharedMailbox {
    /// The folder's name for the viewer: `Partages/<label>/<name>`.
    pub fn shared_name(&self) -> String {
        format!("{SHARED_ROOT}/{}/{}", self.label, self.mailbox.name)
    }
}

/// One identifier and its rights in a folder's ACL (the owner first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclEntry {
    pub identifier: String,
    pub rights: Rights,
}

/// Reads stored rights; a letter the program no longer knows gives nothing.
fn stored(rights: &str) -> Rights {
    Rights::parse(rights).unwrap_or_default()
}

/// The rights a set of grants (between one owner and one grantee) gives on
/// `mailbox`: its own grant, else the account-wide one.
fn rights_from(grants: &[Grant], mailbox: model::MailboxId) -> Rights {
    grants
        .iter()
        .find(|g| g.mailbox_id == Some(mailbox))
        .or_else(|| grants.iter().find(|g| g.mailbox_id.is_none()))
        .map(|g| stored(&g.rights))
        .unwrap_or_default()
}

/// The local part of an address.
fn local_part(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(l, _)| l)
}

impl Mailstore {
    /// What `viewer` may do with `mailbox`: everything when it is theirs,
    /// otherwise what the owner granted them.
    pub async fn rights_on(&self, viewer: AccountId, mailbox: &Mailbox) -> Result<Rights, Error> {
        if mailbox.account_id == viewer {
            return Ok(Rights::ALL);
        }
        let grants = self.store.grants_between(mailbox.account_id, viewer).await?;
        Ok(rights_from(&grants, mailbox.id))
    }

    /// Every folder of other accounts that `viewer` may look up, by owner
    /// then name (placeholders included: they are parents in the tree).
    pub async fn shared_with(&self, viewer: AccountId) -> Result<Vec<SharedMailbox>, Error> {
        let grants = self.store.grants_held(viewer).await?;
        let mut owners: Vec<(AccountId, String)> =
            grants.iter().map(|g| (g.owner_id, g.owner_address.clone())).collect();
        owners.dedup();
        let mut out = Vec::new();
        for (owner, address) in &owners {
            let clash = owners.iter().any(|(o, a)| o != owner && local_part(a) == local_part(address));
            let label = if clash { address.clone() } else { local_part(address).to_owned() };
            let theirs: Vec<Grant> = grants.iter().filter(|g| g.owner_id == *owner).cloned().collect();
            for mailbox in self.store.list_mailboxes(*owner).await? {
                let rights = rights_from(&theirs, mailbox.id);
                if rights.contains(Rights::LOOKUP) {
                    out.push(SharedMailbox { label: label.clone(), owner_address: address.clone(), mailbox, rights });
                }
            }
        }
        Ok(out)
    }

    /// The shared folder `name` (`Partages/<owner>/<folder>`) as `viewer`
    /// sees it; `None` when it names nothing they may look up.
    pub async fn shared_named(&self, viewer: AccountId, name: &str) -> Result<Option<SharedMailbox>, Error> {
        let Some(rest) = name.strip_prefix(SHARED_ROOT).and_then(|r| r.strip_prefix('/')) else { return Ok(None) };
        Ok(self.shared_with(viewer).await?.into_iter().find(|s| {
            rest.strip_prefix(s.label.as_str())
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(|folder| same_name(folder, &s.mailbox.name))
        }))
    }

    /// Creates `name` (`Partages/<owner>/<parent>/<leaf>`) in the owner's
    /// account for `viewer`, who must hold `k` on the parent folder (RFC 4314
    /// section 4: CREATE under a mailbox needs `k` on it). The new folder
    /// starts with the parent's own ACL (the grants made on the parent
    /// folder are copied; account-wide grants cover it anyway), so those who
    /// shared the parent share the child. Journaled for the owner.
    /// `Ok(None)`: the parent names nothing the viewer may look up.
    pub async fn create_shared(&self, viewer: AccountId, name: &str) -> Result<Option<Mailbox>, Error> {
        let Some((parent, leaf)) = name.rsplit_once('/') else { return Ok(None) };
        let Some(shared) = self.shared_named(viewer, parent).await? else { return Ok(None) };
        if leaf.is_empty() {
            return Err(Error::Invalid("a folder needs a name".into()));
        }
        if !shared.rights.contains(Rights::CREATE) {
            return Err(Error::Denied("k".into()));
        }
        let owner = shared.mailbox.account_id;
        let child = format!("{}/{leaf}", shared.mailbox.name);
        let made = self.create_mailbox(owner, &child, None).await?;
        for g in self.store.grants_given(owner).await? {
            if g.mailbox_id == Some(shared.mailbox.id) {
                let grant = NewGrant {
                    owner,
                    mailbox: Some(made.id),
                    grantee: g.grantee_id,
                    rights: &g.rights,
                    send_as: g.send_as,
                    on_behalf: g.on_behalf,
                };
                self.store.set_grant(&grant).await?;
                self.publish(crate::MailEvent::Mailboxes { account: g.grantee_id });
            }
        }
        self.journal(owner, viewer, "création", &child).await;
        Ok(Some(made))
    }

    /// The ACL of `mailbox`: its owner with every right, then each grantee
    /// with what applies to this folder.
    pub async fn acl(&self, mailbox: &Mailbox) -> Result<Vec<AclEntry>, Error> {
        let owner = self.store.account(mailbox.account_id).await?.ok_or(Error::NotFound("account"))?;
        let mut out = vec![AclEntry { identifier: owner.address.to_string(), rights: Rights::ALL }];
        let grants = self.store.grants_given(mailbox.account_id).await?;
        let mut grantees: Vec<(AccountId, String)> =
            grants.iter().map(|g| (g.grantee_id, g.grantee_address.clone())).collect();
        grantees.sort();
        grantees.dedup();
        for (grantee, address) in grantees {
            let theirs: Vec<Grant> = grants.iter().filter(|g| g.grantee_id == grantee).cloned().collect();
            let rights = rights_from(&theirs, mailbox.id);
            if !rights.is_empty() {
                out.push(AclEntry { identifier: address, rights });
            }
        }
        Ok(out)
    }

    /// Sets what `grantee` may do with `mailbox` (RFC 4314 SETACL, the
    /// webmail's « Partager ce dossier »), for `actor`, who must hold `a` on
    /// it. An empty set removes the folder's grant (the account-wide one, if
    /// any, then applies). Journaled when the actor is not the owner.
    pub async fn set_folder_rights(
        &self,
        actor: AccountId,
        mailbox: &Mailbox,
        grantee: &Address,
        rights: Rights,
    ) -> Result<(), Error> {
        if !self.rights_on(actor, mailbox).await?.contains(Rights::ADMINISTER) {
            return Err(Error::Invalid("the ACL of this folder is not yours to change".into()));
        }
        let grantee = self.grantee(mailbox.account_id, grantee).await?;
        if grantee == mailbox.account_id {
            return Err(Error::Invalid("the owner always has every right".into()));
        }
        let letters = rights.to_string();
        if rights.is_empty() {
            self.store.delete_grant(mailbox.account_id, Some(mailbox.id), grantee).await?;
        } else {
            let grant = NewGrant {
                owner: mailbox.account_id,
                mailbox: Some(mailbox.id),
                grantee,
                rights: &letters,
                send_as: false,
                on_behalf: false,
            };
            self.store.set_grant(&grant).await?;
        }
        self.journal(mailbox.account_id, actor, "droits", &format!("{} {grantee}={letters}", mailbox.name)).await;
        self.publish(crate::MailEvent::Mailboxes { account: grantee });
        Ok(())
    }

    /// Gives `grantee` rights on every folder of `owner`, and sending rights
    /// (`ardoise admin delegate`, the members of a functional mailbox). No
    /// right and no sending right removes the grant.
    pub async fn set_account_rights(
        &self,
        owner: AccountId,
        grantee: AccountId,
        rights: Rights,
        send: SendRights,
    ) -> Result<(), Error> {
        if owner == grantee {
            return Err(Error::Invalid("the owner always has every right".into()));
        }
        let removal = rights.is_empty() && !send.send_as && !send.on_behalf;
        if !removal {
            let (Some(o), Some(g)) = (self.store.account(owner).await?, self.store.account(grantee).await?) else {
                return Err(Error::NotFound("account"));
            };
            if g.role == model::Role::Student || !self.store.same_tenant(&o, &g).await? {
                return Err(Error::Invalid("les droits se donnent dans une même académie, à des personnels / rights are given within one académie, to staff only".into()));
            }
        }
        let letters = rights.to_string();
        let grant = NewGrant {
            owner,
            mailbox: None,
            grantee,
            rights: &letters,
            send_as: send.send_as,
            on_behalf: send.on_behalf,
        };
        self.store.set_grant(&grant).await?;
        self.publish(crate::MailEvent::Mailboxes { account: grantee });
        Ok(())
    }

    /// Every grant `owner` gave (for `show`).
    pub async fn grants_given(&self, owner: AccountId) -> Result<Vec<Grant>, Error> {
        Ok(self.store.grants_given(owner).await?)
    }

    /// Every grant `grantee` holds.
    pub async fn grants_held(&self, grantee: AccountId) -> Result<Vec<Grant>, Error> {
        Ok(self.store.grants_held(grantee).await?)
    }

    /// What `account` may do with `address` as a sender, when `address` is
    /// another account's: its owner and the rights granted to `account`.
    /// `None` when the address is no local account's or grants nothing.
    pub async fn send_rights(
        &self,
        account: AccountId,
        address: &Address,
    ) -> Result<Option<(AccountId, SendRights)>, Error> {
        let Some(owner) = self.store.account_by_address(address).await? else { return Ok(None) };
        if owner.id == account || owner.status != model::AccountStatus::Active {
            return Ok(None);
        }
        let grants = self.store.grants_between(owner.id, account).await?;
        Ok(grants.iter().find(|g| g.mailbox_id.is_none()).and_then(|g| {
            let send = SendRights { send_as: g.send_as, on_behalf: g.on_behalf };
            (send.send_as || send.on_behalf).then_some((owner.id, send))
        }))
    }

    /// Writes a line of `owner`'s delegation journal when `actor` is someone
    /// else (an owner's own actions are not delegation). A failure is
    /// logged: the action itself was done.
    pub async fn journal(&self, owner: AccountId, actor: AccountId, action: &str, detail: &str) {
        if owner == actor {
            return;
        }
        if let Err(e) = self.store.journal_delegation(owner, actor, action, detail).await {
            tracing::warn!(error = %e, owner, actor, action, "the delegation journal could not be written");
        }
    }

    /// The latest lines of `owner`'s delegation journal, newest first.
    pub async fn delegation_journal(&self, owner: AccountId) -> Result<Vec<store::DelegationEntry>, Error> {
        Ok(self.store.delegation_journal(owner, JOURNAL_LIMIT).await?)
    }

    /// The account an identifier names, when `owner` may grant it rights:
    /// not closed, not a student, of the owner's académie (store::tenants);
    /// any other answers as a missing one.
    async fn grantee(&self, owner: AccountId, address: &Address) -> Result<AccountId, Error> {
        let Some(a) = self.store.account_by_address(address).await? else { return Err(Error::NotFound("account")) };
        if a.status == model::AccountStatus::Closed || a.role == model::Role::Student {
            return Err(Error::NotFound("account"));
        }
        if a.id != owner {
            let Some(owner) = self.store.account(owner).await? else { return Err(Error::NotFound("account")) };
            if !self.store.same_tenant(&owner, &a).await? {
                return Err(Error::NotFound("account"));
            }
        }
        Ok(a.id)
    }
}

/// Whether two folder names are the same (`INBOX` in any case).
fn same_name(a: &str, b: &str) -> bool {
    a == b || (a.eq_ignore_ascii_case("INBOX") && b.eq_ignore_ascii_case("INBOX"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(mailbox: Option<i64>, rights: &str) -> Grant {
        Grant {
            owner_id: 1,
            owner_address: "secretariat@x.fr".into(),
            mailbox_id: mailbox,
            grantee_id: 2,
            grantee_address: "paul@x.fr".into(),
            rights: rights.into(),
            send_as: false,
            on_behalf: false,
        }
    }

    #[test]
    fn a_folder_grant_overrides_the_account_wide_one() {
        let grants = [grant(None, "lrswipte"), grant(Some(7), "lr")];
        assert_eq!(rights_from(&grants, 7).to_string(), "lr");
        assert_eq!(rights_from(&grants, 8).to_string(), "lrswipte");
        assert!(rights_from(&[grant(Some(7), "lr")], 8).is_empty());
        assert!(rights_from(&[grant(None, "l?")], 8).is_empty(), "an unreadable grant gives nothing");
    }

    #[test]
    fn inbox_matches_in_any_case_other_names_exactly() {
        assert!(same_name("inbox", "INBOX"));
        assert!(same_name("Envoyés", "Envoyés"));
        assert!(!same_name("envoyés", "Envoyés"));
    }
}
