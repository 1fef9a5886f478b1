//! Reading stored messages: the rows of a mailbox (whole, by UID range, one
//! by UID), the shared summary of their contents (the analysis stored at
//! delivery), their bytes, the change log, and the pages the webmail shows
//! (sorted, by date, by content).
//!
//! Reads change nothing, so they publish nothing; what changes messages is
//! in `changes.rs` and `deliver.rs`.

use model::{AccountId, BlobId, MailboxId};
use store::{BlobRow, Change, DateCursor, Found, MessageRow, SortKey};

use crate::{Error, Mailstore};

impl Mailstore {
    /// The messages of a mailbox, by increasing UID.
    pub async fn messages(&self, mailbox: MailboxId) -> Result<Vec<MessageRow>, Error> {
        Ok(self.store.messages(mailbox).await?)
    }

    /// The messages of a mailbox with a UID in `first..=last`, by increasing UID.
    pub async fn messages_between(&self, mailbox: MailboxId, first: i64, last: i64) -> Result<Vec<MessageRow>, Error> {
        Ok(self.store.messages_between(mailbox, first, last).await?)
    }

    /// One message of a mailbox by UID.
    pub async fn message_by_uid(&self, mailbox: MailboxId, uid: i64) -> Result<Option<MessageRow>, Error> {
        Ok(self.store.message_by_uid(mailbox, uid).await?)
    }

    /// The stored summaries (envelope fields, preview, analysis) of several
    /// contents at once, those that exist, in no particular order.
    pub async fn summaries(&self, contents: &[BlobId]) -> Result<Vec<BlobRow>, Error> {
        Ok(self.store.blob_metas(contents).await?)
    }

    /// The stored summary of one content.
    pub async fn summary(&self, content: &BlobId) -> Result<Option<BlobRow>, Error> {
        Ok(self.store.blob_meta(content).await?)
    }

    /// The bytes of a message, as received.
    pub async fn message_bytes(&self, content: &BlobId) -> Result<Vec<u8>, Error> {
        Ok(self.blobs.get(content).await?)
    }

    /// The bytes `range` of a message (fewer when it ends first), read
    /// without the rest: an IMAP partial FETCH of a large message in a bucket
    /// transfers only what was asked.
    pub async fn message_range(&self, content: &BlobId, range: std::ops::Range<u64>) -> Result<Vec<u8>, Error> {
        Ok(self.blobs.get_range(content, range).await?)
    }

    /// A message as a reader sees it: its bytes with the analysis stored at
    /// delivery (read, not parsed again).
    pub async fn view(&self, content: &BlobId) -> Result<crate::analyse::view::MessageView, Error> {
        let (raw, row) = tokio::try_join!(async { self.blobs.get(content).await.map_err(Error::from) }, async {
            self.store.blob_meta(content).await.map_err(Error::from)
        },)?;
        let analysis = row.and_then(|row| crate::analyse::stored::from_stored(&row.meta_json));
        Ok(crate::analyse::view::MessageView::new(raw, analysis))
    }

    /// The envelope forms stored at delivery ([`crate::EnvelopeForms`]) of
    /// the messages with a UID in `first..=last` (UTF-8 form when `utf8`), by
    /// UID; messages whose content has none stored are left out.
    pub async fn envelopes_between(
        &self,
        mailbox: MailboxId,
        first: i64,
        last: i64,
        utf8: bool,
    ) -> Result<Vec<(i64, String)>, Error> {
        Ok(self.store.envelopes_between(mailbox, first, last, utf8).await?)
    }

    /// The mailbox's changes after `modseq`, in order.
    pub async fn changes_since(&self, mailbox: MailboxId, modseq: i64) -> Result<Vec<Change>, Error> {
        Ok(self.store.changes_since(mailbox, modseq).await?)
    }

    /// One page of a mailbox's UIDs sorted by `key`.
    pub async fn sorted_uids(
        &self,
        mailbox: MailboxId,
        key: SortKey,
        descending: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<i64>, Error> {
        Ok(self.store.sorted_uids(mailbox, key, descending, offset, limit).await?)
    }

    /// Up to `limit` of the account's messages strictly below `below` and
    /// received at or after `since`, newest first.
    pub async fn messages_by_date(
        &self,
        account: AccountId,
        below: DateCursor,
        since: i64,
        limit: usize,
    ) -> Result<Vec<Found>, Error> {
        Ok(self.store.messages_by_date(account, below, since, limit).await?)
    }

    /// The account's messages holding any of these contents.
    pub async fn messages_with_contents(&self, account: AccountId, contents: &[BlobId]) -> Result<Vec<Found>, Error> {
        Ok(self.store.messages_with_blobs(account, contents).await?)
    }
}
