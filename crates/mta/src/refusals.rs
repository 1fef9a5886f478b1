//! Refusals by recipients' rules after the message was accepted: when a
//! Sieve `reject` refuses it for some recipients while others took it, the
//! SMTP reply was already a 250 (or the refusal is for a local copy of a
//! submission), so the sender hears of it by a delivery status notification
//! (RFC 5429 section 2.1, RFC 3464), one per message, listing each refusing
//! recipient with their rules' reason.
//!
//! A report goes out with the null return path and only where it is not
//! backscatter: to a local sender (submission), or to an outside sender
//! whose envelope address SPF vouched for (the MX's `Screening`), never for
//! mail judged spam. The caller decides that; this module writes and sends.
//! A local sender with no account (a list's `<list>-bounces@`, whose
//! copies a member's rules refused) is asked of the report route, as the
//! queue's own reports are ([`crate::reports`]): the list's moderators read it.

use model::Address;

use crate::dsn::{self, Kind};
use crate::{Destination, Error, Mta, now};

/// One refusing recipient: the address as given and the rules' reason.
pub type Refusal = (String, String);

impl Mta {
    /// Sends `sender` one report for the recipients in `refused`, about
    /// `message` accepted at `arrival`.
    pub async fn report_refusals(
        &self,
        sender: &Address,
        refused: &[Refusal],
        message: &[u8],
        arrival: i64,
    ) -> Result<(), Error> {
        if refused.is_empty() {
            return Ok(());
        }
        let recipients: Vec<(String, String)> = refused
            .iter()
            .map(|(rcpt, reason)| (rcpt.clone(), format!("550 5.7.1 {}", model::translit::ascii(reason))))
            .collect();
        let to = sender.to_string();
        let destination = self.destination(sender).await?;
        let routed = match destination {
            Destination::UnknownLocal => self.routed(sender).await,
            _ => None,
        };
        let list = routed.as_ref().and_then(|r| r.list.as_ref()).map(Address::to_string);
        let report = dsn::build(&dsn::Report {
            kind: Kind::Failed,
            reporting_mta: &self.settings.hostname,
            to: &to,
            arrival,
            now: now(),
            retry_until: None,
            recipients: &recipients,
            original: message,
            list: list.as_deref(),
        });
        match destination {
            Destination::Local(ids) => {
                self.mailstore.deliver_owned(report, &ids, now()).await?;
            }
            Destination::UnknownLocal => match routed {
                // Delivered as the queue's reports are: to the Inbox, no rules.
                Some(to) => {
                    self.mailstore.deliver(&report, &to.accounts, now()).await?;
                }
                None => {
                    tracing::info!("refusal report for an unknown local sender: dropped");
                    return Ok(());
                }
            },
            Destination::Remote => match self.settings.capture {
                Some(outbox) => {
                    self.mailstore.deliver_owned(report, &[outbox], now()).await?;
                }
                None => self.enqueue_from("", None, &[sender], report.into()).await?,
            },
        }
        tracing::info!(recipients = refused.len(), "refusal report sent to the sender");
        Ok(())
    }
}
