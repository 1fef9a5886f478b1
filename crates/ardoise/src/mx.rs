//! Wires the SMTP adapter to the mail domain: recipient checks and delivery.
//! Domain outcomes become SMTP verdicts here and nowhere else.

use std::sync::Arc;

use mailstore::{Mailstore, RecipientStatus};
use model::{Address, ErrorKind};
use smtp::{DeliverError, Envelope, MailSink, RcptVerdict};

/// The MX's business side; with the transfer service, delivered mail may
/// get a vacation auto-reply; with the lists service, mail to a list is
/// expanded (or held) after the direct recipients got theirs; with the
/// groupware service, iMIP replies update the organisers' calendars.
pub struct MxSink(
    pub Arc<Mailstore>,
    pub Option<Arc<mta::Mta>>,
    pub Option<Arc<lists::Lists>>,
    pub Option<Arc<groupware::Groupware>>,
);

impl MxSink {
    /// An address no account has: a list, a list's bounce address, or nobody.
    async fn list_recipient(&self, rcpt: &Address) -> RcptVerdict {
        let Some(lists) = &self.2 else {
            return RcptVerdict::UnknownUser;
        };
        match lists.recipient(rcpt).await {
            Ok(Some(lists::ListAddress::List(_))) => RcptVerdict::AcceptExpanded,
            Ok(Some(lists::ListAddress::Bounces(ids))) => RcptVerdict::AcceptFor(ids),
            Ok(None) => RcptVerdict::UnknownUser,
            Err(e) => {
                tracing::warn!(error = %e, "list look-up failed");
                RcptVerdict::TemporaryFailure
            }
        }
    }

    /// Hands the message to the lists of the envelope, after the direct
    /// recipients (`direct`) got theirs, so that nobody gets it twice.
    async fn post_to_lists(
        &self,
        envelope: &Envelope,
        targets: &[Address],
        direct: &[i64],
        message: mailstore::Bytes,
    ) -> Result<(), DeliverError> {
        let Some(lists) = &self.2 else {
            return Err(DeliverError::failed(model::Transience::Temporary, "lists unavailable"));
        };
        let poster = lists::Poster::Envelope(envelope.mail_from.as_ref());
        match lists.post(message, poster, targets, direct).await {
            Ok(outcomes) => {
                let looped = outcomes.iter().all(|(_, o)| *o == lists::Outcome::Loop);
                if direct.is_empty() && looped {
                    return Err(DeliverError::refused(
                        "Boucle detectee : ce message est deja passe par cette liste / mail loop: the message already went through this list",
                    ));
                }
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "list posting failed");
                match e.transience() {
                    model::Transience::Permanent => Err(DeliverError::refused(ascii(&e.to_string()))),
                    t => Err(DeliverError::failed(t, "list delivery failed")),
                }
            }
        }
    }
}

impl MailSink for MxSink {
    async fn check_recipient(&self, rcpt: &Address, size: Option<u64>) -> RcptVerdict {
        match self.0.check_recipient(rcpt, size).await {
            Ok(RecipientStatus::Local(id)) => RcptVerdict::Accept(id),
            Ok(RecipientStatus::Administrators(ids)) => RcptVerdict::AcceptFor(ids),
            Ok(RecipientStatus::Unknown) => self.list_recipient(rcpt).await,
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
        self.deliver_screened(envelope, message, filter::Screening::default(), &[]).await
    }
}

impl MxSink {
    /// Delivers a message the MX's checks judged (`screening`: to
    /// Indésirables or not, Sieve's `spamtest`/`virustest`; `own`: the
    /// verdicts of recipients whose own spam model judged otherwise).
    pub async fn deliver_screened(
        &self,
        envelope: &Envelope,
        message: Vec<u8>,
        screening: filter::Screening,
        own: &[(i64, filter::Screening)],
    ) -> Result<(), DeliverError> {
        let targets: Vec<Address> =
            envelope.recipients.iter().filter(|(_, id)| *id == smtp::EXPANDED).map(|(a, _)| a.clone()).collect();
        if targets.is_empty() {
            return self.deliver_direct(envelope, message.into(), screening, own).await;
        }
        let message = mailstore::Bytes::from(message);
        let direct = Envelope {
            recipients: envelope.recipients.iter().filter(|(_, id)| *id != smtp::EXPANDED).cloned().collect(),
            ..envelope.clone()
        };
        let mut accounts: Vec<i64> = direct.recipients.iter().map(|(_, id)| *id).collect();
        accounts.sort_unstable();
        accounts.dedup();
        if !accounts.is_empty() {
            self.deliver_direct(&direct, message.clone(), screening, own).await?;
        }
        self.post_to_lists(envelope, &targets, &accounts, message).await
    }
}

impl MxSink {
    /// Delivery to the accounts of the envelope (no list among them).
    async fn deliver_direct(
        &self,
        envelope: &Envelope,
        message: mailstore::Bytes,
        screening: filter::Screening,
        own: &[(i64, filter::Screening)],
    ) -> Result<(), DeliverError> {
        let mut accounts: Vec<i64> = envelope.recipients.iter().map(|(_, id)| *id).collect();
        accounts.sort_unstable();
        accounts.dedup();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let delivery = match &self.1 {
            // Through each recipient's filter rules (Sieve), when set.
            Some(mta) => {
                let recipients: Vec<(String, i64)> =
                    envelope.recipients.iter().map(|(address, id)| (address.to_string(), *id)).collect();
                let from = envelope.mail_from.as_ref().map(|a| a.to_string());
                mta.deliver_judged(message.clone(), from.as_deref(), &recipients, screening, own)
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
        // With other recipients accepting, the sender hears of the refusals
        // by a report, unless it would be backscatter (`mta::refusals`).
        let refused: Vec<i64> = delivery.refused.iter().map(|r| r.account).collect();
        accounts.retain(|a| !refused.contains(a));
        if let Some(gw) = &self.3
            && !screening.junk
        {
            crate::imip::after_delivery(gw, envelope.mail_from.as_ref(), &message, &accounts).await;
        }
        if let Some(mta) = &self.1 {
            let refusals: Vec<mta::refusals::Refusal> = delivery
                .refused
                .iter()
                .filter_map(|r| {
                    let rcpt = envelope.recipients.iter().find(|(_, id)| *id == r.account)?;
                    Some((rcpt.0.to_string(), r.reason.clone()))
                })
                .collect();
            match (&envelope.mail_from, refusals.is_empty()) {
                (Some(sender), false) if screening.sender_verified && !screening.junk => {
                    let (mta, sender, message) = (mta.clone(), sender.clone(), message.clone());
                    tokio::spawn(async move {
                        if let Err(e) = mta.report_refusals(&sender, &refusals, &message, now).await {
                            tracing::warn!(error = %e, "the refusal report to the sender failed");
                        }
                    });
                }
                (_, false) => tracing::info!(refused = refusals.len(), "refusals not reported: sender not verified"),
                _ => {}
            }
            if !delivery.follow_ups.is_empty() {
                let mta = mta.clone();
                tokio::spawn(async move { mta.follow_up(message, delivery.follow_ups).await });
            }
        }
        Ok(())
    }
}

/// A refusal's reason in ASCII, as SMTP replies are: accents dropped, and
/// line breaks and other controls made spaces ([`model::translit::ascii`]),
/// so that a Sieve script's `reject` text cannot end the reply line early.
fn ascii(reason: &str) -> String {
    let out = model::translit::ascii(reason);
    if out.chars().any(|c| c.is_ascii_alphanumeric()) {
        out
    } else {
        "Refuse par les regles du destinataire / Refused by the recipient's rules".into()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusal_reasons_are_sent_in_ascii() {
        assert_eq!(super::ascii("Pas de publicité, merci."), "Pas de publicite, merci.");
        assert!(super::ascii("« »").starts_with("Refuse par les regles"));
        assert_eq!(super::ascii("Non.\r\n250 OK"), "Non.  250 OK");
    }

    /// `postmaster@` and `abuse@` reach the holders of the académie administrator's role.
    #[test]
    fn role_addresses_reach_the_academie_administrators() {
        assert_eq!(mailstore::ADMINISTRATOR_ROLE, identity::lifecycle::AdminRole::Academie.as_str());
    }
}
