//! Vacation auto-replies, following RFC 3834 and the rules of the Sieve
//! vacation extension (RFC 5230 section 4):
//!
//! - never to the null sender, to mailer daemons, list owners or `-request`
//!   addresses, nor to oneself;
//! - never to automatic mail (`Auto-Submitted` other than `no`), to mailing
//!   lists (`List-Id`, `List-Unsubscribe`...), to bulk mail (`Precedence`) or
//!   when the sender asked for no auto-reply (`X-Auto-Response-Suppress`);
//! - only when one of the user's own addresses is in `To:` or `Cc:` (a
//!   circular sent in Bcc gets no reply);
//! - at most once per sender per interval (the store remembers);
//! - sent from the user to the envelope sender with the null return path,
//!   `Auto-Submitted: auto-replied`, and `In-Reply-To`/`References` threading.
//!
//! [`decide`] and [`build`] are pure; [`Mta::vacation_reply`] does the work.

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use mail_parser::{HeaderName, MessageParser};
use model::Address;
use store::{Account, Vacation};

use crate::{Error, Mta, now};

/// Why no reply is sent (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    NullSender,
    ListOrDaemonSender,
    Oneself,
    AutomaticMessage,
    ListMessage,
    NotAddressedToUser,
    AlreadyAnswered,
    Inactive,
}

/// Local parts that are never answered (RFC 5230 section 4.6).
fn is_robot(local: &str) -> bool {
    let l = local.to_ascii_lowercase();
    l == "mailer-daemon"
        || l == "listserv"
        || l == "majordomo"
        || l == "postmaster"
        || l.starts_with("owner-")
        || l.ends_with("-request")
        || l.starts_with("noreply")
        || l.starts_with("no-reply")
        || l.starts_with("ne-pas-repondre")
}

/// Whether `message`, sent by `sender`, deserves a reply from the owner of
/// `own` (the account's address and aliases, lower case).
pub fn decide(sender: Option<&Address>, message: &[u8], own: &[String]) -> Result<(), Skip> {
    let Some(sender) = sender else { return Err(Skip::NullSender) };
    if is_robot(sender.local()) {
        return Err(Skip::ListOrDaemonSender);
    }
    let sender_text = sender.to_string().to_ascii_lowercase();
    if own.contains(&sender_text) {
        return Err(Skip::Oneself);
    }
    let Some(parsed) = MessageParser::default().parse_headers(message) else {
        return Err(Skip::NotAddressedToUser);
    };
    for header in parsed.headers() {
        let name = header.name().to_ascii_lowercase();
        let value = header.value().as_text().unwrap_or_default().trim().to_ascii_lowercase();
        match name.as_str() {
            "auto-submitted" if value != "no" => return Err(Skip::AutomaticMessage),
            "x-auto-response-suppress" if value.contains("all") || value.contains("oof") => {
                return Err(Skip::AutomaticMessage);
            }
            "precedence" if matches!(value.as_str(), "bulk" | "list" | "junk") => return Err(Skip::ListMessage),
            "list-id" | "list-unsubscribe" | "list-post" | "list-help" => return Err(Skip::ListMessage),
            _ => {}
        }
    }
    let addressed = [parsed.to(), parsed.cc()]
        .into_iter()
        .flatten()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address())
        .any(|a| own.contains(&a.trim().to_ascii_lowercase()));
    if !addressed {
        return Err(Skip::NotAddressedToUser);
    }
    Ok(())
}

/// The reply of `account` to `original`, sent to `to`.
pub fn build(account: &Account, to: &Address, original: &[u8], vacation: &Vacation, at: i64) -> Vec<u8> {
    let parsed = MessageParser::default().parse_headers(original);
    let original_subject = parsed.as_ref().and_then(|p| p.subject()).unwrap_or_default().trim().to_owned();
    let subject = if !vacation.subject.trim().is_empty() {
        vacation.subject.trim().to_owned()
    } else if original_subject.is_empty() {
        "Réponse automatique / Automatic reply".to_owned()
    } else {
        format!("Réponse automatique : {original_subject}")
    };
    let domain = account.address.domain().as_str().to_owned();
    let (from, to) = (account.address.to_string(), to.to_string());
    let mut b = MessageBuilder::new()
        .from((account.display_name.as_str(), from.as_str()))
        .to(to.as_str())
        .subject(subject.as_str())
        .header("Date", Raw::new(crate::dsn::rfc2822(at)))
        .message_id(format!("vacances.{at:x}.{:016x}@{domain}", rand::random::<u64>()))
        .header("Auto-Submitted", Raw::new("auto-replied (vacation)"))
        .header("Precedence", Raw::new("bulk"))
        .text_body(vacation.body.as_str());
    if let Some(id) = parsed.as_ref().and_then(|p| p.message_id()) {
        let mut refs: Vec<String> = match parsed.as_ref().map(|p| p.header(HeaderName::References)) {
            Some(Some(v)) => v.as_text_list().map(|l| l.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
            _ => Vec::new(),
        };
        refs.push(id.to_owned());
        b = b.in_reply_to(id.to_owned()).references(refs);
    }
    // Writing into a Vec cannot fail.
    b.write_to_vec().unwrap_or_default()
}

impl Mta {
    /// Answers a message just delivered to `account` when its vacation reply
    /// is on and the rules above allow it. Runs after delivery, never
    /// delaying the 250.
    pub async fn vacation_reply(
        &self,
        account: &Account,
        sender: Option<&Address>,
        message: &[u8],
    ) -> Result<(), Error> {
        let store = &self.store;
        let at = now();
        let Some(vacation) = store.vacation(account.id).await?.filter(|v| v.active_at(at)) else {
            return Ok(());
        };
        let mut own: Vec<String> = vec![account.address.to_string().to_ascii_lowercase()];
        own.extend(store.list_aliases(account.id).await?.iter().map(|a| a.to_string().to_ascii_lowercase()));
        let outcome = match decide(sender, message, &own) {
            Ok(()) => {
                let sender = sender.expect("decide refuses the null sender");
                let interval = vacation.interval_days.max(1) * 86_400;
                if store.claim_vacation_reply(account.id, &sender.to_string(), at, interval).await? {
                    let reply = build(account, sender, message, &vacation, at);
                    self.send_automatic(account, sender, reply).await?;
                    Ok(())
                } else {
                    Err(Skip::AlreadyAnswered)
                }
            }
            Err(skip) => Err(skip),
        };
        match outcome {
            Ok(()) => tracing::info!(account = account.id, "vacation reply sent"),
            Err(skip) => tracing::debug!(account = account.id, ?skip, "no vacation reply"),
        }
        Ok(())
    }

    /// Sends a message the server writes on a user's behalf (auto-reply):
    /// DKIM-signed, with the null return path so that nothing bounces back.
    pub(crate) async fn send_automatic(&self, account: &Account, to: &Address, message: Vec<u8>) -> Result<(), Error> {
        let message = self.dkim.sign(&account.address.domain().as_str().to_ascii_lowercase(), message);
        match self.destination(to).await? {
            crate::Destination::Local(ids) => {
                self.mailstore.deliver_owned(message, &ids, now()).await?;
            }
            crate::Destination::UnknownLocal => {}
            crate::Destination::Remote => match self.settings.capture {
                Some(outbox) => {
                    self.mailstore.deliver_owned(message, &[outbox], now()).await?;
                }
                None => self.enqueue_from("", None, &[to], message.into()).await?,
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> Vec<String> {
        vec!["claire.martin@ac-demo.fr".into(), "c.martin@ac-demo.fr".into()]
    }

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    const PARENT: &[u8] = b"From: Parent <parent@example.org>\r\nTo: Claire Martin <claire.martin@ac-demo.fr>\r\n\
Subject: Absence de mon fils\r\nMessage-ID: <abs@example.org>\r\n\r\nBonjour.\r\n";

    #[test]
    fn a_parent_writing_to_claire_is_answered() {
        assert_eq!(decide(Some(&addr("parent@example.org")), PARENT, &own()), Ok(()));
        let cc = b"From: p@example.org\r\nTo: x@example.org\r\nCc: C.Martin@ac-demo.fr\r\n\r\nhi";
        assert_eq!(decide(Some(&addr("p@example.org")), cc, &own()), Ok(()), "an alias in Cc counts");
    }

    #[test]
    fn robots_lists_and_bulk_are_not_answered() {
        let p = Some(addr("parent@example.org"));
        assert_eq!(decide(None, PARENT, &own()), Err(Skip::NullSender));
        for robot in
            ["MAILER-DAEMON@example.org", "owner-liste@example.org", "liste-request@example.org", "noreply@example.org"]
        {
            assert_eq!(decide(Some(&addr(robot)), PARENT, &own()), Err(Skip::ListOrDaemonSender), "{robot}");
        }
        assert_eq!(decide(Some(&addr("claire.martin@ac-demo.fr")), PARENT, &own()), Err(Skip::Oneself));
        let with = |h: &str| [h.as_bytes(), PARENT].concat();
        assert_eq!(decide(p.as_ref(), &with("Auto-Submitted: auto-replied\r\n"), &own()), Err(Skip::AutomaticMessage));
        assert_eq!(decide(p.as_ref(), &with("Auto-Submitted: no\r\n"), &own()), Ok(()));
        assert_eq!(decide(p.as_ref(), &with("List-Id: <profs.ac-demo.fr>\r\n"), &own()), Err(Skip::ListMessage));
        assert_eq!(decide(p.as_ref(), &with("Precedence: bulk\r\n"), &own()), Err(Skip::ListMessage));
        assert_eq!(
            decide(p.as_ref(), &with("X-Auto-Response-Suppress: OOF, AutoReply\r\n"), &own()),
            Err(Skip::AutomaticMessage)
        );
        let bcc = b"From: dsden@ac-demo.fr\r\nTo: undisclosed-recipients:;\r\nSubject: Circulaire\r\n\r\nhi";
        assert_eq!(decide(Some(&addr("dsden@ac-demo.fr")), bcc, &own()), Err(Skip::NotAddressedToUser));
    }

    #[test]
    fn the_reply_threads_and_says_it_is_automatic() {
        let account = Account {
            id: 1,
            address: addr("claire.martin@ac-demo.fr"),
            login: None,
            display_name: "Claire Martin".into(),
            role: model::Role::Teacher,
            status: model::AccountStatus::Active,
            quota_bytes: None,
            used_bytes: 0,
            org_unit: None,
            password_hash: None,
            created_at: 0,
            status_changed_at: 0,
        };
        let v = Vacation {
            enabled: true,
            subject: String::new(),
            body: "Je suis absente jusqu'au 4 janvier.".into(),
            starts_at: None,
            ends_at: None,
            interval_days: 7,
        };
        let raw = build(&account, &addr("parent@example.org"), PARENT, &v, 1_795_000_000);
        let parsed = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some("Réponse automatique : Absence de mon fils"));
        assert_eq!(parsed.in_reply_to().as_text(), Some("abs@example.org"));
        assert_eq!(parsed.header_raw("Auto-Submitted").map(str::trim), Some("auto-replied (vacation)"));
        assert_eq!(parsed.to().and_then(|a| a.first()).and_then(|a| a.address()), Some("parent@example.org"));
        assert_eq!(parsed.body_text(0).as_deref().map(str::trim), Some("Je suis absente jusqu'au 4 janvier."));
    }
}
