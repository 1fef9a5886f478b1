//! Local delivery through the recipients' filter rules, and what the rules
//! ask for once the message is stored: `redirect` and `vacation`.
//!
//! Redirects go to local addresses only: forwarding outside the platform is
//! forbidden until an administrator's forwarding policy exists (brief item
//! 12), so a redirect elsewhere files the message in the Inbox instead and is
//! logged. Sieve vacation replies are sent once per sender and period, the
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
        match self.filters.get() {
            Some(filters) => {
                let incoming = Incoming { message: &message, mail_from, recipients, screening };
                Ok(filters.deliver(message.clone(), incoming, now()).await?)
            }
            None => {
                let mut ids: Vec<AccountId> = recipients.iter().map(|(_, id)| *id).collect();
                ids.sort_unstable();
                ids.dedup();
                let delivered = if screening.junk {
                    let mut targets = Vec::with_capacity(ids.len());
                    for id in ids {
                        let junk = self.mailstore.mailbox_with_use(id, model::SpecialUse::Junk).await?;
                        targets.push(mailstore::DeliveryTarget {
                            mailbox: junk.map(|m| m.id),
                            ..mailstore::DeliveryTarget::inbox(id)
                        });
                    }
                    self.mailstore.deliver_targets_owned(message, &targets, now()).await?
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
                FollowUp::Reply { account, reply } => self.sieve_vacation(account, reply).await,
            };
            if let Err(e) = done {
                tracing::warn!(error = %e, "Sieve follow-up failed");
            }
        }
    }

    /// `redirect` to a local address: into that account's Inbox, unfiltered
    /// (so that two scripts cannot bounce a message between them forever).
    async fn redirect(&self, account: AccountId, to: &str, message: Bytes) -> Result<(), Error> {
        let local = match Address::parse(to) {
            Ok(address) => match self.destination(&address).await? {
                Destination::Local(ids) => Some(ids),
                Destination::UnknownLocal | Destination::Remote => None,
            },
            Err(_) => None,
        };
        match local {
            Some(ids) => {
                self.mailstore.deliver_owned(message, &ids, now()).await?;
                tracing::info!(account, "Sieve redirect delivered locally");
            }
            None => {
                // Not lost: the owner keeps it.
                self.mailstore.deliver_owned(message, &[account], now()).await?;
                tracing::warn!(account, "Sieve redirect outside the platform refused: kept in the Inbox");
            }
        }
        Ok(())
    }

    /// A `vacation` reply the script wrote, unless this sender was answered
    /// with the same handle within the period.
    async fn sieve_vacation(&self, account: AccountId, reply: Reply) -> Result<(), Error> {
        let Ok(to) = Address::parse(&reply.to) else {
            return Ok(());
        };
        let Some(owner) = self.store.account(account).await? else {
            return Ok(());
        };
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
