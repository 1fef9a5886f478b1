//! An account's mailboxes: finding them, creating, renaming, subscribing
//! and deleting them, and the account's storage usage.
//!
//! Every protocol goes through here rather than to the store, so that a
//! change that other sessions must hear of is always published: deleting a
//! folder full of mail tells the account's open sessions
//! ([`MailEvent::Changed`]) and takes its messages out of the full-text
//! index, whether IMAP or the webmail asked.

use model::{AccountId, MailboxId, SpecialUse};
use store::Mailbox;

use crate::{Error, MailEvent, Mailstore};

/// What an account stores and may store, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub used_bytes: i64,
    /// `None` when the account has no quota.
    pub quota_bytes: Option<i64>,
}

impl Usage {
    /// Whether `more` bytes would go beyond the quota.
    pub fn would_exceed(&self, more: i64) -> bool {
        self.quota_bytes.is_some_and(|q| self.used_bytes + more > q)
    }
}

impl Mailstore {
    /// The account's mailboxes, by name.
    pub async fn mailboxes(&self, account: AccountId) -> Result<Vec<Mailbox>, Error> {
        Ok(self.store.list_mailboxes(account).await?)
    }

    /// One mailbox by id, when it is the account's.
    pub async fn mailbox(&self, account: AccountId, id: MailboxId) -> Result<Option<Mailbox>, Error> {
        Ok(self.store.mailbox(id).await?.filter(|m| m.account_id == account))
    }

    /// One mailbox by name (`INBOX` in any case).
    pub async fn mailbox_named(&self, account: AccountId, name: &str) -> Result<Option<Mailbox>, Error> {
        Ok(self.store.mailbox_by_name(account, name).await?)
    }

    /// The account's mailbox with this special use (Inbox, Sent, Trash...).
    pub async fn mailbox_with_use(&self, account: AccountId, special: SpecialUse) -> Result<Option<Mailbox>, Error> {
        Ok(self.store.mailbox_by_special_use(account, special).await?)
    }

    /// A new mailbox, its missing parents made as placeholders (listed
    /// `\Noselect` by IMAP until created or filed in); creating a
    /// placeholder's name makes it a real mailbox. Not subscribed (RFC 9051:
    /// IMAP's CREATE does not subscribe). [`Error::Conflict`] when the name
    /// is taken or another mailbox has that special use, [`Error::Invalid`]
    /// for a bad name.
    pub async fn create_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special: Option<SpecialUse>,
    ) -> Result<Mailbox, Error> {
        let created = self.store.create_mailbox(account, name, special).await?;
        self.publish(MailEvent::Mailboxes { account });
        Ok(created)
    }

    /// [`Mailstore::create_mailbox`] for a folder the user made outside
    /// IMAP (the webmail): it is also subscribed, so that IMAP clients that
    /// show subscribed folders only see it.
    pub async fn create_subscribed_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special: Option<SpecialUse>,
    ) -> Result<Mailbox, Error> {
        let created = self.store.create_subscribed_mailbox(account, name, special).await?;
        self.publish(MailEvent::Mailboxes { account });
        Ok(created)
    }

    /// Renames one of the account's mailboxes and every mailbox below it,
    /// with their subscriptions; missing parents are made as placeholders.
    pub async fn rename_mailbox(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        new_name: &str,
    ) -> Result<Mailbox, Error> {
        self.own(account, mailbox).await?;
        let renamed = self.store.rename_mailbox(mailbox, new_name).await?;
        self.publish(MailEvent::Mailboxes { account });
        Ok(renamed)
    }

    /// The names the account subscribes to, sorted; some may name no
    /// mailbox any more (RFC 9051 section 6.3.7).
    pub async fn subscriptions(&self, account: AccountId) -> Result<Vec<String>, Error> {
        Ok(self.store.subscriptions(account).await?)
    }

    /// Subscribes the account to a name.
    pub async fn add_subscription(&self, account: AccountId, name: &str) -> Result<(), Error> {
        self.store.subscribe(account, name).await?;
        self.publish(MailEvent::Mailboxes { account });
        Ok(())
    }

    /// Removes a name from the account's subscriptions, whether or not a
    /// mailbox has it; `false` when it was not subscribed.
    pub async fn remove_subscription(&self, account: AccountId, name: &str) -> Result<bool, Error> {
        let was = self.store.unsubscribe(account, name).await?;
        if was {
            self.publish(MailEvent::Mailboxes { account });
        }
        Ok(was)
    }

    /// Deletes one of the account's mailboxes with its messages (not the
    /// Inbox; [`Error::Conflict`] while it has sub-folders), and the
    /// placeholder parents it leaves without children. The account's
    /// sessions hear of it, and the contents no message holds any more
    /// leave the search index.
    pub async fn delete_mailbox(&self, account: AccountId, mailbox: MailboxId) -> Result<(), Error> {
        self.own(account, mailbox).await?;
        let released = self.store.delete_mailbox(mailbox).await?;
        self.publish(MailEvent::Changed { account, mailbox, modseq: 0 });
        self.publish(MailEvent::Mailboxes { account });
        self.index_expunged(account, released).await;
        Ok(())
    }

    /// The UIDs of a mailbox that arrived since a session last claimed
    /// them: the caller (an IMAP4rev1 session selecting the mailbox, or
    /// selected when mail arrives) shows them as `\Recent`, and no other
    /// caller gets any of them (RFC 3501 section 2.3.2).
    pub async fn claim_recent(&self, mailbox: MailboxId) -> Result<std::ops::Range<i64>, Error> {
        Ok(self.store.claim_recent(mailbox).await?)
    }

    /// The first UID of a mailbox that no session has claimed as recent.
    pub async fn unclaimed_recent(&self, mailbox: MailboxId) -> Result<i64, Error> {
        Ok(self.store.unclaimed_recent(mailbox).await?)
    }

    /// The number of messages without `\Seen` in a mailbox.
    pub async fn unseen_count(&self, mailbox: MailboxId) -> Result<i64, Error> {
        Ok(self.store.unseen_count(mailbox, model::Flag::Seen.bit()).await?)
    }

    /// The number of messages in a mailbox.
    pub async fn message_count(&self, mailbox: MailboxId) -> Result<i64, Error> {
        Ok(self.store.message_count(mailbox).await?)
    }

    /// The account's storage usage and quota, read fresh.
    pub async fn usage(&self, account: AccountId) -> Result<Usage, Error> {
        let a = self.store.account(account).await?.ok_or(Error::NotFound("account"))?;
        Ok(Usage { used_bytes: a.used_bytes, quota_bytes: a.quota_bytes })
    }

    /// Refuses a mailbox that is not the account's as not found.
    async fn own(&self, account: AccountId, mailbox: MailboxId) -> Result<Mailbox, Error> {
        self.mailbox(account, mailbox).await?.ok_or(Error::NotFound("mailbox"))
    }
}
