//! iMIP (RFC 6047): an iTIP message as a mail. A `multipart/alternative`
//! with a short French and English text and the `text/calendar;
//! method=...` part that mail programs (and our webmail) act on.

use calcard::icalendar::ICalendar;
use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::MimePart;
use model::Address;

use super::{PartStat, Principal, itip};

/// Which iTIP message a mail carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Cancel,
    Reply(PartStat),
}

impl Kind {
    fn method(self) -> &'static str {
        match self {
            Kind::Request => "REQUEST",
            Kind::Cancel => "CANCEL",
            Kind::Reply(_) => "REPLY",
        }
    }
}

/// The mail of `cal` (its METHOD already set) from `from` to `to`.
pub fn message(from: &Principal, to: &[Address], cal: &ICalendar, kind: Kind) -> Vec<u8> {
    let summary = itip::meeting(cal).map(|m| m.summary).unwrap_or_default();
    let summary = if summary.is_empty() { "(sans titre)".to_owned() } else { summary };
    let name = from.display_name.as_str();
    let (subject, text) = match kind {
        Kind::Request => (
            format!("Invitation : {summary}"),
            format!(
                "{name} vous invite : « {summary} ».\r\nRépondez depuis votre messagerie ou votre agenda.\r\n\r\n\
                 {name} invites you: \"{summary}\".\r\n"
            ),
        ),
        Kind::Cancel => (
            format!("Annulé : {summary}"),
            format!("{name} a annulé « {summary} ».\r\n\r\n{name} cancelled \"{summary}\".\r\n"),
        ),
        Kind::Reply(answer) => {
            let (fr, en) = match answer {
                PartStat::Accepted => ("Accepté", "Accepted"),
                PartStat::Tentative => ("Provisoire", "Tentative"),
                PartStat::Declined => ("Refusé", "Declined"),
                PartStat::NeedsAction | PartStat::Delegated => ("Réponse", "Answer"),
            };
            (
                format!("{fr} : {summary}"),
                format!("{name} a répondu « {fr} » à « {summary} ».\r\n\r\n{name}: {en} \"{summary}\".\r\n"),
            )
        }
    };
    let ics = itip::write(cal);
    let calendar = MimePart::new(
        ContentType::new("text/calendar").attribute("method", kind.method()).attribute("charset", "utf-8"),
        ics,
    );
    let body = MimePart::new("multipart/alternative", vec![MimePart::new("text/plain", text), calendar]);
    let recipients: Vec<String> = to.iter().map(ToString::to_string).collect();
    let from_address = from.address.to_string();
    MessageBuilder::new()
        .from((name, from_address.as_str()))
        .to(recipients.iter().map(String::as_str).collect::<Vec<_>>())
        .subject(subject)
        .body(body)
        .write_to_vec()
        .unwrap_or_default()
}
