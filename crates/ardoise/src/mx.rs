//! Wires the SMTP adapter to the mail domain: recipient checks and delivery.
//! Domain outcomes become SMTP verdicts here and nowhere else.

use std::sync::Arc;

use mailstore::{Mailstore, RecipientStatus};
use model::{Address, ErrorKind};
use smtp::{DeliverError, Envelope, MailSink, RcptVerdict};

/// The MX's business side; with the transfer service, delivered mail may
/// get a vacation auto-reply.
pub struct MxSink(pub Arc<Mailstore>, pub Option<Arc<mta::Mta>>);

impl MailSink for MxSink {
    async fn check_recipient(&self, rcpt: &Address, size: Option<u64>) -> RcptVerdict {
        match self.0.check_recipient(rcpt, size).await {
            Ok(RecipientStatus::Local(id)) => RcptVerdict::Accept(id),
            Ok(RecipientStatus::Administrators(ids)) => RcptVerdict::AcceptFor(ids),
            Ok(RecipientStatus::Unknown) => RcptVerdict::UnknownUser,
            Ok(RecipientStatus::NotLocal) => RcptVerdict::NotLocal,
            Ok(RecipientStatus::OverQuota(_)) => RcptVerdict::OverQuota,
            Err(e) => {
                tracing::warn!(error = %e, "recipient check failed");
                RcptVerdict::TemporaryFailure
            }
        }
    }

    async fn postmaster(&self, hostname: &str) -> String {
        match self.0.postmaster(hostname).await {
            Ok(address) => address,
            Err(e) => {
                tracing::warn!(error = %e, "postmaster look-up failed");
                format!("postmaster@{hostname}")
            }
        }
    }

    async fn deliver(&self, envelope: &Envelope, message: Vec<u8>) -> Result<(), DeliverError> {
        let mut accounts: Vec<i64> = envelope.recipients.iter().map(|(_, id)| *id).collect();
        accounts.sort_unstable();
        accounts.dedup();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        // Shared, not copied, with the blob write and the vacation replies.
        let message = mailstore::Bytes::from(message);
        match self.0.deliver_owned(message.clone(), &accounts, now).await {
            Ok(copies) => {
                tracing::info!(copies = copies.len(), size = message.len(), "delivered");
                if let Some(mta) = &self.1 {
                    tokio::spawn(vacation_replies(mta.clone(), envelope.mail_from.clone(), accounts, message));
                }
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "delivery failed");
                Err(DeliverError { transience: e.transience(), message: "delivery failed".into() })
            }
        }
    }
}

/// Sends the vacation replies a delivery calls for, after the 250.
async fn vacation_replies(mta: Arc<mta::Mta>, sender: Option<Address>, accounts: Vec<i64>, message: mailstore::Bytes) {
    // The null sender is never answered: skip the look-ups for bounces.
    if sender.is_none() {
        return;
    }
    let store = mta.store();
    let on = match store.vacation_enabled_among(&accounts).await {
        Ok(on) => on,
        Err(e) => return tracing::warn!(error = %e, "vacation look-up failed"),
    };
    for id in on {
        let account = match store.account(id).await {
            Ok(Some(a)) => a,
            Ok(None) => continue,
            Err(e) => return tracing::warn!(error = %e, "vacation look-up failed"),
        };
        if let Err(e) = mta.vacation_reply(&account, sender.as_ref(), &message).await {
            tracing::warn!(account = id, error = %e, "vacation reply failed");
        }
    }
}

#[cfg(test)]
mod tests {
    /// `postmaster@` and `abuse@` reach the holders of the académie administrator's role.
    #[test]
    fn role_addresses_reach_the_academie_administrators() {
        assert_eq!(mailstore::ADMINISTRATOR_ROLE, identity::lifecycle::AdminRole::Academie.as_str());
    }
}
