//! Local delivery through the recipients' filter rules, and what the rules
//! ask for once the message is stored: `redirect` and `vacation`.
//!
//! Redirects go outside the platform only where the forwarding policy allows
//! (`filter::Forwarding`, brief item 12); elsewhere the message stays in the
//! owner's Inbox, and the owner is told. Sieve vacation replies are sent once per sender and period, the
//! same memory as the Réglages vacation reply (`store::vacation`).

use std::sync::Arc;

use filter::sort::Incoming;
use filter::{Delivery, Filters, FollowUp, Reply, Screening};
use mailstore::Bytes;
use model::{AccountId, Address};

use crate::{Destination, Error, Mta, now};

impl Mta {
    /// Filters local deliveries through `filters` from now on (the binary
    /// sets it once, after both services are built).
    pub fn set_filters(&self, filters: Arc<Filters>) {
        let _ = self.filters.set(filters);
    }

    pub fn filters(&self) -> Option<&Arc<Filters>> {
        self.filters.get()
    }

    /// Delivers `message` to local recipients (address as given, account),
    /// through their filter rules when there are any; else to the Inboxes.
    pub async fn deliver_local(
        &self,
        message: Bytes,
        mail_from: Option<&str>,
        recipients: &[(String, AccountId)],
    ) -> Result<Delivery, Error> {
        self.deliver_screened(message, mail_from, recipients, Screening::default()).await
    }

    /// [`Mta::deliver_local`] of a message the MX's hygiene checks judged:
    /// with `screening.junk`, what would go to an Inbox goes to
    /// Indésirables (through the filter rules, which see the verdicts as
    /// `spamtest`/`virustest`; without them, straight to the Junk folder).
    pub async fn deliver_screened(
        &self,
        message: Bytes,
        mail_from: Option<&str>,
        recipients: &[(String, AccountId)],
        screening: Screening,
    ) -> Result<Delivery, Error> {
        self.deliver_judged(message, mail_from, recipients, screening, &[]).await
    }

    /// [`Mta::deliver_screened`] where some recipients' own spam models
    /// judged their copy otherwise (`own`: their verdicts).
    pub async fn deliver_judged(
        &self,
        message: Bytes,
        mail_from: Option<&str>,
        recipients: &[(String, AccountId)],
        screening: Screening,
        own: &[(AccountId, Screening)],
    ) -> Result<Delivery, Error> {
        let incoming = Incoming { message: &message, mail_from, recipients, screening, own };
        match self.filters.get() {
            Some(filters) => Ok(filters.deliver(message.clone(), incoming, now()).await?),
            None => {
                let mut ids: Vec<AccountId> = recipients.iter().map(|(_, id)| *id).collect();
                ids.sort_unstable();
                ids.dedup();
                let delivered = if screening.junk || own.iter().any(|(_, s)| s.junk) {
                    let mut targets = Vec::with_capacity(ids.len());
                    for id in ids {
                        let junk = if incoming.screening_of(id).junk {
                            self.mailstore.mailbox_with_use(id, model::SpecialUse::Junk).await?
                        } else {
                            None
                        };
                        targets.push(mailstore::DeliveryTarget {
                            mailbox: junk.map(|m| m.id),
                            ..mailstore::DeliveryTarget::inbox(id)
                        });
                    }
                    self.mailstore.deliver_targets_owned(message.clone(), &targets, now()).await?
                } else {
                    self.mailstore.deliver_owned(message, &ids, now()).await?
                };
                Ok(Delivery { delivered, ..Delivery::default() })
            }
        }
    }

    /// Carries out the rules' follow-ups of a delivered message; runs after
    /// the reply to the client, each failure logged.
    pub async fn follow_up(&self, message: Bytes, follow_ups: Vec<FollowUp>) {
        for follow_up in follow_ups {
            let done = match follow_up {
                FollowUp::Redirect { account, to } => self.redirect(account, &to, message.clone()).await,
                FollowUp::Reply { account, reply } => self.sieve_vacation(account, reply, &message).await,
            };
            if let Err(e) = done {
                tracing::warn!(error = %e, "Sieve follow-up failed");
            }
        }
    }

    /// `redirect`: to a local address, into that account's Inbox,
    /// unfiltered (so that two scripts cannot bounce a message between them
    /// forever); outside, only where the forwarding policy allows, sent with
    /// the owner as envelope sender (bounces come back to them). A forward
    /// the policy refuses is not sent: the message stays with its owner, who
    /// is told once per target and month.
    async fn redirect(&self, account: AccountId, to: &str, message: Bytes) -> Result<(), Error> {
        let Ok(address) = Address::parse(to) else {
            self.mailstore.deliver_owned(message, &[account], now()).await?;
            tracing::warn!(account, "Sieve redirect to an invalid address: kept in the Inbox");
            return Ok(());
        };
        match self.destination(&address).await? {
            Destination::Local(ids) => {
                self.mailstore.deliver_owned(message, &ids, now()).await?;
                tracing::info!(account, "Sieve redirect delivered locally");
            }
            Destination::UnknownLocal => {
                self.mailstore.deliver_owned(message, &[account], now()).await?;
                tracing::warn!(account, "Sieve redirect to an unknown local address: kept in the Inbox");
            }
            Destination::Remote => {
                let Some(owner) = self.store.account(account).await? else {
                    return Ok(());
                };
                let local = self.mailstore.local_domains().await?;
                let allowed = match self.filters.get() {
                    Some(f) => f.forwarding_for(account).await?.allows(&address, &local),
                    None => false,
                };
                if !allowed {
                    // Not lost: the owner keeps it.
                    self.mailstore.deliver_owned(message, &[account], now()).await?;
                    tracing::warn!(
                        account,
                        "Sieve redirect outside refused by the forwarding policy: kept in the Inbox"
                    );
                    return self.tell_forward_refused(&owner, &address).await;
                }
                let message = self.dkim.sign(&owner.address.domain().as_str().to_ascii_lowercase(), message.to_vec());
                match self.settings.capture {
                    Some(outbox) => {
                        self.mailstore.deliver_owned(message, &[outbox], now()).await?;
                    }
                    None => {
                        let sender = owner.address.to_string();
                        self.enqueue_from(&sender, Some(account), &[&address], message.into()).await?;
                    }
                }
                tracing::info!(account, "Sieve redirect queued outside, as the forwarding policy allows");
            }
        }
        Ok(())
    }

    /// Tells the owner, once per target within 30 days, that a forward of
    /// their rules was not sent.
    async fn tell_forward_refused(&self, owner: &mailstore::Account, to: &Address) -> Result<(), Error> {
        const MONTH: i64 = 30 * 86_400;
        let key = format!("forward-refused:{to}");
        if !self.store.claim_vacation_reply(owner.id, &key, now(), MONTH).await? {
            return Ok(());
        }
        let text = format!(
            "Bonjour,\r\n\r\nUne de vos règles de filtrage demande de transférer vos messages à {to}.\r\n\
             La politique de l'académie interdit le transfert automatique vers cette adresse : \
             les messages restent dans votre boîte de réception.\r\n\
             Modifiez la règle dans Réglages → Filtres.\r\n\r\n\
             One of your filter rules forwards mail to {to}, which the académie's policy does not allow: \
             the messages stay in your Inbox.\r\n"
        );
        let from = format!("postmaster@{}", owner.address.domain());
        let notice = mail_builder::MessageBuilder::new()
            .from(("Ardoise", from.as_str()))
            .to((owner.display_name.as_str(), owner.address.to_string().as_str()))
            .subject("Transfert automatique refusé / Automatic forward refused")
            .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
            .text_body(text)
            .write_to_vec()
            .unwrap_or_default();
        self.mailstore.deliver_owned(notice, &[owner.id], now()).await?;
        Ok(())
    }

    /// A `vacation` reply the script wrote, unless this sender was answered
    /// with the same handle within the period.
    async fn sieve_vacation(&self, account: AccountId, reply: Reply, original: &[u8]) -> Result<(), Error> {
        let Ok(to) = Address::parse(&reply.to) else {
            return Ok(());
        };
        let Some(owner) = self.store.account(account).await? else {
            return Ok(());
        };
        let mut own = vec![owner.address.to_string().to_ascii_lowercase()];
        own.extend(self.store.list_aliases(account).await?.iter().map(|a| a.to_string().to_ascii_lowercase()));
        if let Err(skip) = crate::autoreply::screen(Some(&to), original, &own) {
            tracing::debug!(account, ?skip, "Sieve vacation: not answered");
            return Ok(());
        }
        let period = i64::try_from(reply.period_secs).unwrap_or(i64::MAX).max(1);
        if !self.store.claim_vacation_reply(account, &format!("sieve:{}", reply.key), now(), period).await? {
            tracing::debug!(account, "Sieve vacation: already answered");
            return Ok(());
        }
        self.send_automatic(&owner, &to, reply.message).await?;
        tracing::info!(account, "Sieve vacation reply sent");
        Ok(())
    }
}
