//! Changes made by the mail protocols to stored messages and mailboxes:
//! flags, copies and moves go through here (expunges through `deleted.rs`) so that
//! every open session hears of them ([`MailEvent::Changed`]).

use model::{AccountId, MailboxId, MessageId};
use store::{Copied, FlagOp, FlagOutcome};

use crate::{Error, MailEvent, Mailstore};

impl Mailstore {
    /// Replaces a message's flags and keywords; returns the new modseq.
    pub async fn set_flags(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        message: MessageId,
        flags: i64,
        keywords: &[String],
    ) -> Result<i64, Error> {
        let modseq = self.store.set_flags(message, flags, keywords).await?;
        self.publish(MailEvent::Changed { account, mailbox, modseq });
        Ok(modseq)
    }

    /// Changes the flags of several messages by UID in one transaction,
    /// combining them with their current flags under the store's write lock
    /// (see [`store::Store::update_flags`]); one outcome per UID.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_flags(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        uids: &[i64],
        op: FlagOp,
        flags: i64,
        keywords: &[String],
        unchanged_since: Option<i64>,
    ) -> Result<Vec<FlagOutcome>, Error> {
        let out = self.store.update_flags(mailbox, uids, op, flags, keywords, unchanged_since).await?;
        let top = out
            .iter()
            .filter_map(|o| if let FlagOutcome::Changed { modseq, .. } = o { Some(*modseq) } else { None })
            .max();
        if let Some(modseq) = top {
            self.publish(MailEvent::Changed { account, mailbox, modseq });
        }
        Ok(out)
    }

    /// Copies messages to another mailbox of the same account, sharing blobs;
    /// the [`crate::FilingHook`] hears of it.
    pub async fn copy(
        &self,
        account: AccountId,
        from: MailboxId,
        uids: &[i64],
        to: MailboxId,
    ) -> Result<Vec<Copied>, Error> {
        let copied = self.store.copy_messages(from, uids, to).await?;
        for c in &copied {
            self.publish(MailEvent::Delivered { account, mailbox: to, uid: c.uid, modseq: c.modseq, filed: true });
        }
        if let Some(hook) = self.filing_hook.get()
            && !copied.is_empty()
        {
            hook.filed(crate::Filing { account, from, to, uids: copied.iter().map(|c| c.uid).collect() });
        }
        Ok(copied)
    }

    /// Moves messages to another mailbox of the same account in one
    /// transaction (RFC 6851: a crash leaves them on one side, never both or
    /// neither); the source hears of an expunge, the target of new messages,
    /// and the [`crate::FilingHook`] of a filing. A move is not a deletion:
    /// nothing is kept for undelete. Returns the pairs in increasing source UID.
    pub async fn move_messages(
        &self,
        account: AccountId,
        from: MailboxId,
        uids: &[i64],
        to: MailboxId,
    ) -> Result<Vec<Copied>, Error> {
        let moved = self.store.move_messages(from, uids, to, store::Urgency::Interactive).await?;
        if moved.is_empty() {
            return Ok(moved);
        }
        self.publish(MailEvent::Changed { account, mailbox: from, modseq: 0 });
        for c in &moved {
            self.publish(MailEvent::Delivered { account, mailbox: to, uid: c.uid, modseq: c.modseq, filed: true });
        }
        if let Some(hook) = self.filing_hook.get() {
            hook.filed(crate::Filing { account, from, to, uids: moved.iter().map(|c| c.uid).collect() });
        }
        Ok(moved)
    }

    /// The owner confirms that messages belong in the folder they are in
    /// (the webmail's « Indésirable » or « Signaler un hameçonnage » on a
    /// message already in Indésirables): the [`crate::FilingHook`] hears it
    /// as a filing from that folder into itself.
    pub fn confirm_filed(&self, account: AccountId, mailbox: MailboxId, uids: &[i64]) {
        if let Some(hook) = self.filing_hook.get()
            && !uids.is_empty()
        {
            hook.filed(crate::Filing { account, from: mailbox, to: mailbox, uids: uids.to_vec() });
        }
    }
}
