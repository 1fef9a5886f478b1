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
//! - sent from the user to the envelope sender with the null return path.
//!
//! Every reply is a Sieve `vacation` action's (the Réglages reply is a
//! script too, see `filter::absence`): sieve-rs writes it (threading,
//! `Auto-Submitted: auto-replied`) and applies RFC 5230's own checks;
//! [`screen`] adds the ones above before `filtering` sends it.

use mail_parser::MessageParser;
use model::Address;
use store::Account;

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
    screen(sender, message, own)?;
    let parsed = MessageParser::default().parse_headers(message).ok_or(Skip::NotAddressedToUser)?;
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

/// [`decide`] but for the question whether the user is addressed (which a
/// Sieve `vacation`, with its `:addresses`, answers itself).
pub fn screen(sender: Option<&Address>, message: &[u8], own: &[String]) -> Result<(), Skip> {
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
    Ok(())
}

impl Mta {
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
}
