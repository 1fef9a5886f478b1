//! Who reads the delivery reports ([`dsn`]) the queue runner writes.
//!
//! A queue entry sent for an account (a submission, a redirect) carries
//! that account: its reports go to its Inbox. An entry with no account but
//! a sender on one of our domains was sent for something that is not a
//! mailbox: a distribution list's copies to its outside members, queued
//! from `<list>-bounces@domain`. Who reads those reports is the lists'
//! business, and `lists` sits above this crate, so the binary installs a
//! [`ReportRoute`] (the lists service) with [`Mta::set_report_route`]: it
//! answers with the accounts the sender address stands for (the list's
//! moderators, or the académie's administrators when it has none) and the
//! list to name in the report. Without a route, or for an address it does
//! not know, such a report is dropped, as before.
//!
//! Bounds, so that a big list with many outside members down does not
//! flood its moderators: a report goes out once per queue entry and
//! attempt, never per recipient, and one posting is one entry whatever the
//! number of outside members. For an entry with no account the permanent
//! failures are further gathered until the entry is done (every recipient
//! delivered or refused, or the entry expired), so such an entry makes at
//! most one failure report, plus at most one delay warning (as every entry).
//! Never a report for the null sender (reports, notices), nor, for an entry
//! with no account, about a message that is itself a delivery report.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};

use model::{AccountId, Address};
use store::Queued;

use crate::dsn::{self, Kind};
use crate::{Mta, now};

/// Where the reports for an envelope sender go, as a [`ReportRoute`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTo {
    /// The accounts that receive the report (one delivery, one blob).
    pub accounts: Vec<AccountId>,
    /// The list the message was a copy of, named in the report.
    pub list: Option<Address>,
}

/// A route lookup, boxed so that [`ReportRoute`] is a trait object.
pub type RouteFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<ReportTo>, String>> + Send + 'a>>;

/// Knows who local envelope senders without an account stand for.
pub trait ReportRoute: Send + Sync {
    /// Who reads the delivery reports for mail sent from `sender`, or
    /// `None` when it stands for nobody. An error is a failed look-up.
    fn report_to<'a>(&'a self, sender: &'a Address) -> RouteFuture<'a>;
}

impl Mta {
    /// Installs the route for reports of entries with no account (once;
    /// later calls are ignored). It is held weakly: the lists service that
    /// implements it holds this `Mta`, and a strong handle would make a cycle.
    pub fn set_report_route<R: ReportRoute + 'static>(&self, route: &Arc<R>) {
        let weak: Weak<dyn ReportRoute> = Arc::downgrade(route) as Weak<dyn ReportRoute>;
        let _ = self.report_route.set(weak);
    }

    /// Who reads the reports about `entry`, and the list to name.
    async fn report_target(&self, entry: &Queued) -> Option<ReportTo> {
        if entry.sender.is_empty() {
            return None;
        }
        if let Some(account) = entry.account {
            return Some(ReportTo { accounts: vec![account], list: None });
        }
        let sender = Address::parse(&entry.sender).ok()?;
        let to = self.routed(&sender).await;
        if to.is_none() {
            tracing::info!(queue_id = entry.id, "no one reads this delivery report: dropped");
        }
        to
    }

    /// Who the installed route says reads the reports for `sender`, a
    /// local address with no account; `None` without a route, for an
    /// address that stands for nobody, or when the look-up fails (logged).
    pub(crate) async fn routed(&self, sender: &Address) -> Option<ReportTo> {
        let route = self.report_route.get().and_then(Weak::upgrade)?;
        match route.report_to(sender).await {
            Ok(Some(to)) if !to.accounts.is_empty() => Some(to),
            Ok(_) => None,
            Err(e) => {
                tracing::error!(error = %e, "could not find who reads this delivery report");
                None
            }
        }
    }
}

/// Whether the failures of `entry` are reported once, when it is done,
/// rather than after each attempt: entries with no account (a list's
/// copies), whose reports go to third parties.
pub(crate) fn gathers_failures(entry: &Queued) -> bool {
    entry.account.is_none()
}

/// Delivers a DSN about `recipients` of `entry` to whoever reads its reports.
pub(crate) async fn report(mta: &Mta, entry: &Queued, kind: Kind, recipients: &[(String, String)], message: &[u8]) {
    let Some(to) = mta.report_target(entry).await else {
        return;
    };
    if entry.account.is_none() && is_delivery_report(message) {
        tracing::info!(queue_id = entry.id, "no delivery report about a delivery report");
        return;
    }
    let list = to.list.as_ref().map(Address::to_string);
    let dsn = dsn::build(&dsn::Report {
        kind,
        reporting_mta: &mta.settings.hostname,
        to: &entry.sender,
        arrival: entry.created_at,
        now: now(),
        retry_until: (kind == Kind::Delayed).then_some(entry.expires_at),
        recipients,
        original: message,
        list: list.as_deref(),
    });
    match mta.mailstore.deliver(&dsn, &to.accounts, now()).await {
        Ok(_) => tracing::info!(
            queue_id = entry.id,
            ?kind,
            recipients = recipients.len(),
            readers = to.accounts.len(),
            list = list.as_deref().unwrap_or(""),
            "delivery report sent"
        ),
        Err(e) => tracing::error!(queue_id = entry.id, error = %e, "could not deliver the delivery report"),
    }
}

/// Whether `message` is a delivery or disposition report (RFC 6522
/// `multipart/report`): a report about it would be a report about a report.
fn is_delivery_report(message: &[u8]) -> bool {
    use mail_parser::MimeHeaders as _;
    let Some(parsed) = mail_parser::MessageParser::default().parse_headers(message) else {
        return false;
    };
    parsed.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_reports_are_recognised() {
        let dsn = b"From: MAILER-DAEMON@x\r\nContent-Type: Multipart/Report; report-type=delivery-status;\r\n boundary=b\r\n\r\n--b--\r\n";
        assert!(is_delivery_report(dsn));
        assert!(!is_delivery_report(b"From: a@b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n"));
        assert!(!is_delivery_report(b"From: a@b\r\nSubject: report\r\n\r\nmultipart/report\r\n"));
        assert!(!is_delivery_report(b""));
    }
}
