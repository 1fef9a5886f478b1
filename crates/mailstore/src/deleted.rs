//! Undelete (issue 20): what a deletion keeps and how it comes back.
//!
//! [`Mailstore::expunge`] is a deletion: the messages leave their folder
//! (every open session hears of it) but stay restorable, blob included, for
//! the installation's delay (`[mail] undelete_days`), after which
//! [`Mailstore::purge_deleted`], run by the binary's housekeeping, forgets
//! them. [`Mailstore::discard`] removes without keeping: the source side of
//! a move, whose message lives on in its new folder, or what was just added
//! and is being taken back. The rows are the store's (`store/src/deleted.rs`).

use model::{AccountId, MailboxId};
use store::{DeletedMessage, Deletion};

use crate::{Delivered, Error, MailEvent, Mailstore};

/// Deleted messages purged per store transaction.
const PURGE_BATCH: i64 = 500;

impl Mailstore {
    /// Deletes messages by UID, keeping each restorable; returns the UIDs
    /// actually removed.
    pub async fn expunge(&self, account: AccountId, mailbox: MailboxId, uids: &[i64]) -> Result<Vec<i64>, Error> {
        self.delete_for(account, mailbox, uids, Deletion::Expunged).await
    }

    /// [`Mailstore::expunge`] by the Corbeille's or Indésirables' retention:
    /// the deleted messages say so.
    pub async fn expire(&self, account: AccountId, mailbox: MailboxId, uids: &[i64]) -> Result<Vec<i64>, Error> {
        self.delete_for(account, mailbox, uids, Deletion::Retention).await
    }

    async fn delete_for(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        uids: &[i64],
        cause: Deletion,
    ) -> Result<Vec<i64>, Error> {
        let blobs = self.blobs_for_index(mailbox, uids).await;
        let gone = self.store.delete_messages(mailbox, uids, cause).await?;
        if !gone.is_empty() {
            self.publish(MailEvent::Changed { account, mailbox, modseq: 0 });
            self.index_expunged(account, blobs).await;
        }
        Ok(gone)
    }

    /// Removes messages by UID without keeping them: for the source side of
    /// a move (COPY then this, the message lives on in its new folder) and
    /// for taking back what was just added (a MULTIAPPEND failing midway, a
    /// draft's previous version). A user's deletion is [`Mailstore::expunge`].
    pub async fn discard(&self, account: AccountId, mailbox: MailboxId, uids: &[i64]) -> Result<Vec<i64>, Error> {
        let blobs = self.blobs_for_index(mailbox, uids).await;
        let gone = self.store.expunge(mailbox, uids).await?;
        if !gone.is_empty() {
            self.publish(MailEvent::Changed { account, mailbox, modseq: 0 });
            self.index_expunged(account, blobs).await;
        }
        Ok(gone)
    }

    /// The account's restorable messages, newest deletion first: `limit`
    /// at most, below the id `before` when given (the next page).
    pub async fn deleted_messages(
        &self,
        account: AccountId,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeletedMessage>, Error> {
        Ok(self.store.deleted_messages(account, before, limit).await?)
    }

    /// How many messages of the account can be restored.
    pub async fn deleted_count(&self, account: AccountId) -> Result<i64, Error> {
        Ok(self.store.deleted_count(account).await?)
    }

    /// Puts deleted messages of the account back (see
    /// [`store::Store::restore_deleted`] for where they go); ids not the
    /// account's or no longer restorable are ignored. Open sessions hear of
    /// them as filed messages, and the search index has them again.
    pub async fn restore_deleted(&self, account: AccountId, ids: &[i64]) -> Result<Vec<Delivered>, Error> {
        let restored = self.store.restore_deleted(account, ids).await?;
        for r in &restored {
            self.index_restored(r.account, r.message, &r.blob).await;
            self.publish(MailEvent::Delivered {
                account: r.account,
                mailbox: r.mailbox,
                uid: r.uid,
                modseq: r.modseq,
                filed: true,
            });
        }
        Ok(restored
            .iter()
            .map(|r| Delivered { account: r.account, mailbox: r.mailbox, uid: r.uid, modseq: r.modseq })
            .collect())
    }

    /// Forgets the messages deleted before `cutoff` (unix seconds), by
    /// bounded batches; their blobs go to the garbage collector once no one
    /// holds them. Returns how many were forgotten.
    pub async fn purge_deleted(&self, cutoff: i64) -> Result<u64, Error> {
        let mut total = 0u64;
        loop {
            let n = self.store.purge_deleted(cutoff, PURGE_BATCH).await?;
            total += n as u64;
            if (n as i64) < PURGE_BATCH {
                return Ok(total);
            }
        }
    }
}

/// Unix seconds now.
pub(crate) fn store_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
