//! Acting on a mailbox as someone who may not own it (issue 22): the
//! webmail's checked operations. Each one asks [`Mailstore::rights_on`]
//! first and refuses with [`Error::Denied`] what the viewer's RFC 4314
//! rights do not allow, then acts with the owner's account (events reach
//! the owner's sessions and the other members') and writes the owner's
//! delegation journal when the actor is someone else, as IMAP does.
//!
//! The rules are RFC 4314's: reading needs `r` (and `l` to see the folder at
//! all), `\Seen` needs `s`, `\Deleted` needs `t`, any other flag or keyword
//! `w`; copying into a folder needs `i`; moving away is deleting and
//! expunging (`t` and `e`, RFC 6851 section 3.3); expunging needs `e`.
//! Messages never cross accounts here: a copy or a move between two owners'
//! folders is refused, as over IMAP.

use model::{AccountId, Flag, MailboxId, Rights};
use store::{Copied, FlagOp, FlagOutcome, Mailbox};

use crate::{Error, Mailstore};

/// A mailbox as one viewer reaches it: the folder and what they may do.
#[derive(Debug, Clone)]
pub struct Reached {
    pub mailbox: Mailbox,
    pub rights: Rights,
}

impl Reached {
    /// Whether the viewer owns the folder.
    pub fn owned_by(&self, viewer: AccountId) -> bool {
        self.mailbox.account_id == viewer
    }
}

/// The rights a flag change needs: `s` for `\Seen`, `t` for `\Deleted`,
/// `w` for the rest and for keywords (a replacement touches every flag).
pub fn rights_for_flags(op: FlagOp, bits: i64, keywords: &[String]) -> Rights {
    let bits = if op == FlagOp::Replace { !0 } else { bits };
    let mut need = Rights::READ;
    if bits & Flag::Seen.bit() != 0 {
        need = need.union(Rights::SEEN);
    }
    if bits & Flag::Deleted.bit() != 0 {
        need = need.union(Rights::DELETE_MESSAGES);
    }
    if bits & !(Flag::Seen.bit() | Flag::Deleted.bit()) != 0 || !keywords.is_empty() {
        need = need.union(Rights::WRITE);
    }
    need
}

/// The rights moving away from a folder needs (RFC 6851 with RFC 4314).
pub const MOVE_AWAY: Rights = Rights::READ.union(Rights::DELETE_MESSAGES).union(Rights::EXPUNGE);

/// Why an address may not receive a delegation from an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GranteeRefusal {
    /// The owner's own address.
    Own,
    /// Not one of the installation's domains.
    Outside,
    /// No active account has it.
    Unknown,
    /// A student's account: delegation is between staff.
    Student,
}

/// Refuses unless `have` holds all of `need`.
fn require(have: Rights, need: Rights) -> Result<(), Error> {
    if have.contains(need) { Ok(()) } else { Err(Error::Denied(need.minus(have).to_string())) }
}

impl Mailstore {
    /// The mailbox `id` as `viewer` reaches it: their own with every right,
    /// another account's with what was granted; `None` when it does not
    /// exist or they may not look it up (`l`): the same answer, so a
    /// delegate learns nothing of the folders they were not given.
    pub async fn reach(&self, viewer: AccountId, id: MailboxId) -> Result<Option<Reached>, Error> {
        let Some(mailbox) = self.store.mailbox(id).await? else { return Ok(None) };
        let rights = self.rights_on(viewer, &mailbox).await?;
        Ok(rights.contains(Rights::LOOKUP).then_some(Reached { mailbox, rights }))
    }

    /// The account `owner` may delegate to at `address`: an active staff
    /// account of the installation other than its own.
    pub async fn grantee_for(
        &self,
        owner: AccountId,
        address: &model::Address,
    ) -> Result<Result<AccountId, GranteeRefusal>, Error> {
        if !self.store.is_local_domain(address.domain()).await? {
            return Ok(Err(GranteeRefusal::Outside));
        }
        let Some(account) = self.store.account_by_address(address).await? else {
            return Ok(Err(GranteeRefusal::Unknown));
        };
        Ok(if account.id == owner {
            Err(GranteeRefusal::Own)
        } else if account.status != model::AccountStatus::Active {
            Err(GranteeRefusal::Unknown)
        } else if account.role == model::Role::Student {
            Err(GranteeRefusal::Student)
        } else if !self.same_tenant_ids(owner, &account).await? {
            // Another académie's staff: answered as an unknown address.
            Err(GranteeRefusal::Unknown)
        } else {
            Ok(account.id)
        })
    }

    /// Whether the account `owner` and `other` belong to one académie.
    async fn same_tenant_ids(&self, owner: AccountId, other: &store::Account) -> Result<bool, Error> {
        let Some(owner) = self.store.account(owner).await? else { return Ok(false) };
        Ok(self.store.same_tenant(&owner, other).await?)
    }

    /// Changes flags on `uids` of `at` for `actor`, when their rights allow it.
    pub async fn flags_as(
        &self,
        actor: AccountId,
        at: &Reached,
        uids: &[i64],
        op: FlagOp,
        bits: i64,
        keywords: &[String],
    ) -> Result<Vec<FlagOutcome>, Error> {
        require(at.rights, rights_for_flags(op, bits, keywords))?;
        let owner = at.mailbox.account_id;
        let out = self.update_flags(owner, at.mailbox.id, uids, op, bits, keywords, None).await?;
        if owner != actor && !uids.is_empty() {
            let sign = if op == FlagOp::Remove { "-" } else { "+" };
            let names: Vec<&str> = Flag::ALL.iter().filter(|f| bits & f.bit() != 0).map(|f| f.imap_name()).collect();
            let detail = format!(
                "{} {sign}{}{} UID {}",
                at.mailbox.name,
                names.join(" "),
                keyword_list(keywords),
                uid_list(uids)
            );
            self.journal(owner, actor, "marquage", &detail).await;
        }
        Ok(out)
    }

    /// Writes in the journal that `actor` read a message of `at` (the
    /// webmail's reading page; IMAP journals the SELECT).
    pub async fn journal_read(&self, actor: AccountId, at: &Reached, uid: i64) {
        let detail = format!("{} UID {uid}", at.mailbox.name);
        self.journal(at.mailbox.account_id, actor, "lecture", &detail).await;
    }

    /// Copies `uids` of `from` into `to` for `actor`: `r` on one, `i` on the
    /// other, both of one owner.
    pub async fn copy_as(
        &self,
        actor: AccountId,
        from: &Reached,
        uids: &[i64],
        to: &Reached,
    ) -> Result<Vec<Copied>, Error> {
        require(from.rights, Rights::READ)?;
        require(to.rights, Rights::INSERT)?;
        same_owner(from, to)?;
        let owner = from.mailbox.account_id;
        let copied = self.copy(owner, from.mailbox.id, uids, to.mailbox.id).await?;
        if owner != actor && !copied.is_empty() {
            let detail = format!("{} -> {} UID {}", from.mailbox.name, to.mailbox.name, uid_list(uids));
            self.journal(owner, actor, "copie", &detail).await;
        }
        Ok(copied)
    }

    /// Moves `uids` of `from` to `to` for `actor`: `rte` on one, `i` on the
    /// other, both of one owner.
    pub async fn move_as(
        &self,
        actor: AccountId,
        from: &Reached,
        uids: &[i64],
        to: &Reached,
    ) -> Result<Vec<Copied>, Error> {
        require(from.rights, MOVE_AWAY)?;
        require(to.rights, Rights::INSERT)?;
        same_owner(from, to)?;
        let owner = from.mailbox.account_id;
        let moved = self.move_messages(owner, from.mailbox.id, uids, to.mailbox.id).await?;
        if owner != actor && !moved.is_empty() {
            let detail = format!("{} -> {} UID {}", from.mailbox.name, to.mailbox.name, uid_list(uids));
            self.journal(owner, actor, "deplacement", &detail).await;
        }
        Ok(moved)
    }

    /// Deletes `uids` of `at` for `actor` (kept restorable for the owner):
    /// `t` and `e`. Returns the UIDs removed.
    pub async fn expunge_as(&self, actor: AccountId, at: &Reached, uids: &[i64]) -> Result<Vec<i64>, Error> {
        require(at.rights, Rights::READ.union(Rights::DELETE_MESSAGES).union(Rights::EXPUNGE))?;
        let owner = at.mailbox.account_id;
        let gone = self.expunge(owner, at.mailbox.id, uids).await?;
        if owner != actor && !gone.is_empty() {
            let detail = format!("{} UID {}", at.mailbox.name, uid_list(&gone));
            self.journal(owner, actor, "suppression", &detail).await;
        }
        Ok(gone)
    }
}

fn same_owner(from: &Reached, to: &Reached) -> Result<(), Error> {
    if from.mailbox.account_id == to.mailbox.account_id {
        Ok(())
    } else {
        Err(Error::Invalid("messages do not move between two accounts' mailboxes".into()))
    }
}

/// `1,2,5` (the first 50, then `…`).
fn uid_list(uids: &[i64]) -> String {
    let mut out: Vec<String> = uids.iter().take(50).map(i64::to_string).collect();
    if uids.len() > 50 {
        out.push("…".into());
    }
    out.join(",")
}

fn keyword_list(keywords: &[String]) -> String {
    if keywords.is_empty() { String::new() } else { format!(" {}", keywords.join(" ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flag_needs_its_right() {
        let seen = Flag::Seen.bit();
        assert_eq!(rights_for_flags(FlagOp::Add, seen, &[]).to_string(), "rs");
        assert_eq!(rights_for_flags(FlagOp::Remove, Flag::Flagged.bit(), &[]).to_string(), "rw");
        assert_eq!(rights_for_flags(FlagOp::Add, Flag::Deleted.bit(), &[]).to_string(), "rt");
        assert_eq!(rights_for_flags(FlagOp::Add, 0, &["$Junk".into()]).to_string(), "rw");
        assert_eq!(rights_for_flags(FlagOp::Replace, seen, &[]).to_string(), "rswt");
        assert_eq!(MOVE_AWAY.to_string(), "rte");
    }

    #[test]
    fn a_missing_right_is_named() {
        match require(Rights::READER, MOVE_AWAY) {
            Err(Error::Denied(missing)) => assert_eq!(missing, "te"),
            other => panic!("{other:?}"),
        }
        assert!(require(Rights::READ_WRITE, MOVE_AWAY).is_ok());
    }
}
