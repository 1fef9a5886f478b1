//! Mail brought in from elsewhere (`ardoise migrate imap`, `ardoise import`):
//! the map of what an IMAP migration already copied (schema 19), so that a
//! rerun copies only what is new. Deliveries themselves go through
//! [`Mailstore::deliver_to_owned`] with the folder and flags of each copy.

use store::{MigratedMessage, SourceFolder};

use crate::{Error, Mailstore};

impl Mailstore {
    /// The messages of this source folder (at this UIDVALIDITY) already copied.
    pub async fn migrated_messages(&self, at: SourceFolder<'_>) -> Result<Vec<MigratedMessage>, Error> {
        Ok(self.store.migrated_messages(at).await?)
    }

    /// Records, right after its delivery, where a source message went.
    pub async fn record_migrated(
        &self,
        at: SourceFolder<'_>,
        uid: i64,
        mailbox: model::MailboxId,
        target_uid: i64,
    ) -> Result<(), Error> {
        Ok(self.store.record_migrated(at, uid, mailbox, target_uid).await?)
    }
}
