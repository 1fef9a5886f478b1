//! Mail brought in from elsewhere (`ardoise migrate imap`, `ardoise import`):
//! the map of what an IMAP migration already copied (schema 19), so that a
//! rerun copies only what is new, and the filing of a migration's batch with
//! its map rows in one transaction.

use model::MailboxId;
use store::{MigratedMessage, NewMessage, SourceFolder, Target};

use crate::deliver::{Bytes, Delivered, new_message};
use crate::{Error, MailEvent, Mailstore, analyse};

/// One source message of a batch: its UID at the source, its bytes, and the
/// flags, keywords and internal date its copy keeps.
#[derive(Debug, Clone)]
pub struct SourceMessage {
    pub uid: i64,
    pub raw: Bytes,
    pub flags: i64,
    pub keywords: Vec<String>,
    pub internal_date: i64,
}

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

    /// Files a batch of source messages into `mailbox` (of `at.account`) and
    /// records where each went, in one transaction: their files are written
    /// and fsync'd in parallel first, then one commit files them all with
    /// their map rows (a hundred messages, one commit, where each used to
    /// cost two). All or nothing: on an error nothing of the batch is filed
    /// (the caller may retry the messages one by one to name the culprit).
    /// Copies come back in the order of `batch`, with consecutive UIDs.
    pub async fn file_migrated(
        &self,
        at: SourceFolder<'_>,
        mailbox: MailboxId,
        batch: Vec<SourceMessage>,
    ) -> Result<Vec<Delivered>, Error> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let started = std::time::Instant::now();
        // Held from before the writes: the collector never takes a blob
        // between its write and the commit that references it.
        let shared = self.gc_lock.read().await;
        let mut writes = Vec::with_capacity(batch.len());
        let mut filed: Vec<(i64, NewMessage, Target)> = Vec::with_capacity(batch.len());
        let mut analyses = Vec::with_capacity(batch.len());
        for m in batch {
            let content = blob::Hashed::new(m.raw);
            let (bytes, id) = (content.bytes().clone(), content.id().clone());
            // Started now, on the blocking pool: the files are written while
            // the next messages are parsed.
            writes.push(self.blobs.put_hashed(content));
            let analysis = analyse::analyse(&bytes);
            let message = new_message(id, bytes.len(), &analysis, m.internal_date, self.envelope_forms);
            let target = Target { account: at.account, mailbox, flags: m.flags, keywords: m.keywords };
            filed.push((m.uid, message, target));
            analyses.push(analysis);
        }
        for written in writes {
            written.await?;
        }
        let delivered = self.store.deliver_migrated(at, &filed).await?;
        drop(shared);
        metrics::histogram!("ardoise_store_message_seconds", "kind" => "migration")
            .record(started.elapsed().as_secs_f64() / delivered.len() as f64);
        metrics::counter!("ardoise_messages_filed_total", "kind" => "migration").increment(delivered.len() as u64);
        let mut out = Vec::with_capacity(delivered.len());
        for ((d, analysis), (_, message, _)) in delivered.iter().zip(analyses).zip(&filed) {
            self.index_delivered(analysis, &message.blob, &[(d.account, d.message)]);
            let copy = Delivered { account: d.account, mailbox: d.mailbox, uid: d.uid, modseq: d.modseq };
            self.publish(MailEvent::Delivered {
                account: copy.account,
                mailbox: copy.mailbox,
                uid: copy.uid,
                modseq: copy.modseq,
                filed: false,
            });
            out.push(copy);
        }
        Ok(out)
    }
}
