//! Quarantine: messages the MX refused (a virus, a score over the refusal
//! threshold) are kept `days` days for the administrators, who list, read,
//! release (into the recipients' Inbox, as it came, verdict fields
//! included) or delete them (`ardoise admin quarantine`). The sender was
//! refused all the same: keeping a copy changes nothing of the SMTP reply.
//! Rows live in `store::quarantine` (migration 26), the message in a blob
//! referenced by the row.

use std::sync::Arc;

use mailstore::{Bytes, Mailstore};
use model::{ErrorKind, Transience};
pub use store::Quarantined;

/// Errors of the quarantine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("store: {0}")]
    Store(#[from] store::Error),
    #[error("message file: {0}")]
    Blob(#[from] std::io::Error),
    #[error("delivery: {0}")]
    Mail(#[from] mailstore::Error),
}

impl ErrorKind for Error {
    fn transience(&self) -> Transience {
        match self {
            Error::Store(e) => e.transience(),
            Error::Blob(_) => Transience::Temporary,
            Error::Mail(e) => e.transience(),
        }
    }
}

/// Why a message was quarantined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Virus,
    Spam,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Virus => "virus",
            Why::Spam => "spam",
        }
    }
}

/// The quarantine service.
pub struct Quarantine {
    store: store::Store,
    blobs: blob::BlobStore,
    mail: Arc<Mailstore>,
    /// Days a message is kept; 0 keeps nothing.
    days: u32,
}

impl Quarantine {
    pub fn new(store: store::Store, blobs: blob::BlobStore, mail: Arc<Mailstore>, days: u32) -> Quarantine {
        Quarantine { store, blobs, mail, days }
    }

    pub fn enabled(&self) -> bool {
        self.days > 0
    }

    /// Keeps `message` refused for `why` (`detail`: the signature or the
    /// rules); `None` when the quarantine is off.
    pub async fn keep(
        &self,
        message: &[u8],
        why: Why,
        detail: &str,
        mail_from: &str,
        recipients: &[(i64, String)],
        now: i64,
    ) -> Result<Option<i64>, Error> {
        if !self.enabled() {
            return Ok(None);
        }
        let subject = mail_parser::MessageParser::new()
            .parse_headers(message)
            .and_then(|m| m.subject().map(|s| s.chars().take(200).collect::<String>()))
            .unwrap_or_default();
        let blob = self.blobs.put(Bytes::copy_from_slice(message)).await?;
        let id = self
            .store
            .quarantine(store::NewQuarantined {
                blob: &blob,
                size: message.len() as i64,
                reason: why.as_str(),
                detail,
                mail_from,
                recipients,
                subject: &subject,
                expires_at: now + i64::from(self.days) * 86_400,
            })
            .await?;
        Ok(Some(id))
    }

    /// The quarantined messages, newest first.
    pub async fn list(&self, limit: i64) -> Result<Vec<Quarantined>, Error> {
        Ok(self.store.quarantined(limit).await?)
    }

    /// One message and its bytes.
    pub async fn get(&self, id: i64) -> Result<Option<(Quarantined, Vec<u8>)>, Error> {
        let Some(q) = self.store.quarantined_one(id).await? else {
            return Ok(None);
        };
        let bytes = self.blobs.get(&q.blob).await?;
        Ok(Some((q, bytes)))
    }

    /// Takes the message out of quarantine, then delivers it to its
    /// recipients' Inboxes. `None` when there is no such message, or when
    /// another release (or a deletion, or the sweep) took it first: two
    /// administrators releasing at once deliver it once. Its bytes are
    /// read first; if delivering then fails, it is quarantined again (as a
    /// new entry, same expiry) and the error returned: nothing is lost.
    pub async fn release(&self, id: i64, now: i64) -> Result<Option<Quarantined>, Error> {
        let Some((q, bytes)) = self.get(id).await? else {
            return Ok(None);
        };
        if !self.store.unquarantine(id).await? {
            return Ok(None);
        }
        let mut ids: Vec<i64> = q.recipients.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let bytes = Bytes::from(bytes);
        if let Err(e) = self.mail.deliver_owned(bytes.clone(), &ids, now).await {
            match self.keep_again(&q, bytes).await {
                Ok(again) => tracing::warn!(quarantine = id, again, error = %e, "release failed: kept again"),
                Err(lost) => {
                    tracing::error!(quarantine = id, error = %e, again = %lost, "release failed and not kept again");
                }
            }
            return Err(e.into());
        }
        Ok(Some(q))
    }

    /// Puts back a message whose release failed after it left quarantine.
    async fn keep_again(&self, q: &Quarantined, bytes: Bytes) -> Result<i64, Error> {
        let blob = self.blobs.put(bytes).await?;
        Ok(self
            .store
            .quarantine(store::NewQuarantined {
                blob: &blob,
                size: q.size,
                reason: &q.reason,
                detail: &q.detail,
                mail_from: &q.mail_from,
                recipients: &q.recipients,
                subject: &q.subject,
                expires_at: q.expires_at,
            })
            .await?)
    }

    /// Deletes a message; false when there was none.
    pub async fn delete(&self, id: i64) -> Result<bool, Error> {
        Ok(self.store.unquarantine(id).await?)
    }

    /// Deletes the messages whose time is up; how many.
    pub async fn sweep(&self, now: i64) -> Result<usize, Error> {
        let mut n = 0;
        for id in self.store.quarantine_expired(now).await? {
            n += usize::from(self.store.unquarantine(id).await?);
        }
        Ok(n)
    }
}
