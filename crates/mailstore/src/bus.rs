//! The mail domain on a cluster bus ([`cluster::Bus`]): every [`MailEvent`]
//! this node publishes also goes to the other nodes, and what they publish
//! is told to this node's listeners (IMAP IDLE and NOTIFY, the webmail's
//! live stream, the login verdicts' invalidation) as if it happened here.
//!
//! Events heard from the bus are never sent back to it, and the bus drops a
//! node's own texts, so each event is applied once per node. They are hints:
//! after the bus was lost and came back ([`cluster::Heard::Reconnected`]) or
//! when this node lagged behind it, every account someone here watches gets
//! [`MailEvent::Mailboxes`] and a [`MailEvent::Changed`] per mailbox (modseq
//! 0, « read the store »), so its sessions rescan what they show.
//!
//! On the wire an event is one line of words: `D account mailbox uid modseq
//! filed`, `C account mailbox modseq`, `M account`, `A account`, `R account
//! password|apps|app:<id>`. A line that does not read is ignored.

use std::sync::{Arc, Weak};

use model::{AccountId, Revocation};
use tokio::sync::broadcast::error::RecvError;

use crate::{MailEvent, Mailstore};

impl Mailstore {
    /// Joins `bus` (once; later calls are ignored): from now on events go
    /// out to the other nodes and theirs come in.
    pub fn join_cluster(self: &Arc<Self>, bus: Arc<cluster::Bus>) {
        let mut heard = bus.listen();
        if self.bus.set(bus).is_err() {
            return;
        }
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let heard = heard.recv().await;
                let Some(me) = Weak::upgrade(&me) else { return };
                match heard {
                    Ok(cluster::Heard::Text(text)) => match decode(&text) {
                        Some(event) => me.publish_here(event),
                        None => tracing::debug!("cluster bus: unreadable event ignored"),
                    },
                    Ok(cluster::Heard::Reconnected) | Err(RecvError::Lagged(_)) => me.rescan().await,
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }

    /// Sends `event` to the other nodes, when on a bus. A revoked
    /// credential is left to each node's lifecycle watcher, which reads it
    /// from the store within 250 ms: the watcher knows which revocations
    /// were already applied here, and a second one heard from the bus would
    /// close the session just opened with the new password.
    pub(crate) fn publish_to_cluster(&self, event: &MailEvent) {
        if matches!(event, MailEvent::CredentialRevoked { .. }) {
            return;
        }
        if let Some(bus) = self.bus.get() {
            bus.publish(&encode(event));
        }
    }

    /// Tells the sessions of every watched account to read the store again.
    async fn rescan(&self) {
        let accounts: Vec<AccountId> = {
            let watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
            watchers.iter().filter(|(_, tx)| tx.receiver_count() > 0).map(|(a, _)| *a).collect()
        };
        tracing::info!(accounts = accounts.len(), "cluster bus: rescanning the watched accounts");
        for account in accounts {
            self.publish_here(MailEvent::Mailboxes { account });
            match self.store.list_mailboxes(account).await {
                Ok(mailboxes) => {
                    for mailbox in mailboxes {
                        self.publish_here(MailEvent::Changed { account, mailbox: mailbox.id, modseq: 0 });
                    }
                }
                Err(e) => tracing::warn!(account, error = %e, "cluster bus: rescan failed"),
            }
        }
    }
}

/// The event as one line of words.
pub(crate) fn encode(event: &MailEvent) -> String {
    match event {
        MailEvent::Delivered { account, mailbox, uid, modseq, filed } => {
            format!("D {account} {mailbox} {uid} {modseq} {}", u8::from(*filed))
        }
        MailEvent::Changed { account, mailbox, modseq } => format!("C {account} {mailbox} {modseq}"),
        MailEvent::Mailboxes { account } => format!("M {account}"),
        MailEvent::AccessRevoked { account, change } => format!("A {account}{}", suffix(*change)),
        MailEvent::Reminder { account } => format!("T {account}"),
        MailEvent::CredentialRevoked { account, what, change } => {
            let what = match what {
                Revocation::Password => "password".to_owned(),
                Revocation::AppPasswords => "apps".to_owned(),
                Revocation::AppPassword(id) => format!("app:{id}"),
            };
            format!("R {account} {what}{}", suffix(*change))
        }
    }
}

/// A revocation's change number, when known, as a last word.
fn suffix(change: Option<i64>) -> String {
    change.map(|n| format!(" {n}")).unwrap_or_default()
}

/// The event a line names, if it reads.
pub(crate) fn decode(line: &str) -> Option<MailEvent> {
    let mut words = line.split(' ');
    let kind = words.next()?;
    let mut number = || words.next()?.parse::<i64>().ok();
    let account = number()?;
    let event = match kind {
        "D" => {
            let (mailbox, uid, modseq) = (number()?, number()?, number()?);
            let filed = match number()? {
                0 => false,
                1 => true,
                _ => return None,
            };
            MailEvent::Delivered { account, mailbox, uid, modseq, filed }
        }
        "C" => MailEvent::Changed { account, mailbox: number()?, modseq: number()? },
        "M" => MailEvent::Mailboxes { account },
        "A" => MailEvent::AccessRevoked { account, change: optional(&mut words)? },
        "T" => MailEvent::Reminder { account },
        "R" => {
            let what = match words.next()? {
                "password" => Revocation::Password,
                "apps" => Revocation::AppPasswords,
                other => Revocation::AppPassword(other.strip_prefix("app:")?.parse().ok()?),
            };
            MailEvent::CredentialRevoked { account, what, change: optional(&mut words)? }
        }
        _ => return None,
    };
    words.next().is_none().then_some(event)
}

/// An optional last number: `Some(None)` when there is none, `None` when
/// it does not read.
fn optional<'a>(words: &mut impl Iterator<Item = &'a str>) -> Option<Option<i64>> {
    match words.next() {
        None => Some(None),
        Some(word) => word.parse().ok().map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_reads_back_as_itself() {
        let events = [
            MailEvent::Delivered { account: 3, mailbox: 9, uid: 41, modseq: 77, filed: false },
            MailEvent::Delivered { account: 3, mailbox: 9, uid: 42, modseq: 78, filed: true },
            MailEvent::Changed { account: 3, mailbox: 9, modseq: 0 },
            MailEvent::Mailboxes { account: 5 },
            MailEvent::AccessRevoked { account: 6, change: None },
            MailEvent::AccessRevoked { account: 6, change: Some(31) },
            MailEvent::Reminder { account: 8 },
            MailEvent::CredentialRevoked { account: 6, what: Revocation::Password, change: None },
            MailEvent::CredentialRevoked { account: 6, what: Revocation::AppPasswords, change: Some(7) },
            MailEvent::CredentialRevoked { account: 6, what: Revocation::AppPassword(12), change: None },
        ];
        for event in events {
            assert_eq!(decode(&encode(&event)), Some(event.clone()), "{}", encode(&event));
        }
    }

    #[test]
    fn hostile_lines_are_ignored() {
        for line in [
            "",
            "D",
            "D 1 2 3 4",
            "D 1 2 3 4 2",
            "D 1 2 3 4 0 extra",
            "C x 2 3",
            "A 1 x",
            "A 1 2 3",
            "R 1 password x",
            "R 1 app:",
            "R 1 app:x",
            "R 1 everything",
            "Z 1",
            "A 99999999999999999999999",
        ] {
            assert_eq!(decode(line), None, "{line:?}");
        }
    }
}
