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
        let delivery = match &self.1 {
            // Through each recipient's filter rules (Sieve), when set.
            Some(mta) => {
                let recipients: Vec<(String, i64)> =
                    envelope.recipients.iter().map(|(address, id)| (address.to_string(), *id)).collect();
                let from = envelope.mail_from.as_ref().map(|a| a.to_string());
                mta.deliver_local(message.clone(), from.as_deref(), &recipients)
                    .await
                    .map_err(|e| (e.transience(), e.to_string()))
            }
            None => self
                .0
                .deliver_owned(message.clone(), &accounts, now)
                .await
                .map(|delivered| filter::Delivery { delivered, ..filter::Delivery::default() })
                .map_err(|e| (e.transience(), e.to_string())),
        };
        let delivery = match delivery {
            Ok(d) => d,
            Err((transience, error)) => {
                tracing::error!(%error, "delivery failed");
                return Err(DeliverError::failed(transience, "delivery failed"));
            }
        };
        tracing::info!(copies = delivery.delivered.len(), size = message.len(), "delivered");
        if let Some(first) = delivery.refused.first()
            && delivery.delivered.is_empty()
            && delivery.refused.len() == accounts.len()
        {
            // Every recipient's rules refused it: the sender hears why now.
            return Err(DeliverError::refused(ascii(&first.reason)));
        }
        // With other recipients accepting, a refusal is only logged (the
        // filter did): the bounce to the sender is not written yet.
        let refused: Vec<i64> = delivery.refused.iter().map(|r| r.account).collect();
        accounts.retain(|a| !refused.contains(a));
        if let Some(mta) = &self.1 {
            tokio::spawn(vacation_replies(mta.clone(), envelope.mail_from.clone(), accounts, message.clone()));
            if !delivery.follow_ups.is_empty() {
                let mta = mta.clone();
                tokio::spawn(async move { mta.follow_up(message, delivery.follow_ups).await });
            }
        }
        Ok(())
    }
}

/// A refusal's reason in ASCII, as SMTP replies are (accents dropped).
fn ascii(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    for c in reason.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&model::translit::slug(&c.to_string()));
        }
    }
    if out.trim().is_empty() {
        "Refuse par les regles du destinataire / Refused by the recipient's rules".into()
    } else {
        out
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
    #[test]
    fn refusal_reasons_are_sent_in_ascii() {
        assert_eq!(super::ascii("Pas de publicité, merci."), "Pas de publicite, merci.");
        assert!(super::ascii("« »").starts_with("Refuse par les regles"));
    }

    /// `postmaster@` and `abuse@` reach the holders of the académie administrator's role.
    #[test]
    fn role_addresses_reach_the_academie_administrators() {
        assert_eq!(mailstore::ADMINISTRATOR_ROLE, identity::lifecycle::AdminRole::Academie.as_str());
    }
}
