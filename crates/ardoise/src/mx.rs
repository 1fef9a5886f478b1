//! Wires the SMTP adapter to the mail domain: recipient checks and delivery.
//! Domain outcomes become SMTP verdicts here and nowhere else.

use std::sync::Arc;

use mailstore::{Mailstore, RecipientStatus};
use model::{Address, ErrorKind};
use smtp::{DeliverError, Envelope, MailSink, RcptVerdict};

pub struct MxSink(pub Arc<Mailstore>);

impl MailSink for MxSink {
    async fn check_recipient(&self, rcpt: &Address, size: Option<u64>) -> RcptVerdict {
        match self.0.check_recipient(rcpt, size).await {
            Ok(RecipientStatus::Local(id)) => RcptVerdict::Accept(id),
            Ok(RecipientStatus::Unknown) => RcptVerdict::UnknownUser,
            Ok(RecipientStatus::NotLocal) => RcptVerdict::NotLocal,
            Ok(RecipientStatus::OverQuota(_)) => RcptVerdict::OverQuota,
            Err(e) => {
                tracing::warn!(error = %e, "recipient check failed");
                RcptVerdict::TemporaryFailure
            }
        }
    }

    async fn deliver(&self, envelope: &Envelope, message: Vec<u8>) -> Result<(), DeliverError> {
        let mut accounts: Vec<i64> = envelope.recipients.iter().map(|(_, id)| *id).collect();
        accounts.sort_unstable();
        accounts.dedup();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match self.0.deliver(&message, &accounts, now).await {
            Ok(copies) => {
                tracing::info!(copies = copies.len(), size = message.len(), "delivered");
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "delivery failed");
                Err(DeliverError { transience: e.transience(), message: "delivery failed".into() })
            }
        }
    }
}
