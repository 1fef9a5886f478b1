//! Delivery status notifications (RFC 3464): the bounce and the delay warning.
//!
//! A report is a `multipart/report; report-type=delivery-status` message with
//! three parts: a human explanation (French first, then English), the
//! machine-readable `message/delivery-status` with one block per recipient,
//! and the original message's header (`text/rfc822-headers`, never its body,
//! so that a bounce does not carry a large attachment back).
//!
//! A report about a list's copy (its envelope sender is the list's bounce
//! address, see [`crate::reports`]) names the list in its Subject and its
//! first lines, since its readers are the list's moderators, not the author.

use std::fmt::Write as _;

/// Which notification this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Delivery failed for good (RFC 3464 action `failed`).
    Failed,
    /// Delivery is late but still being tried (action `delayed`).
    Delayed,
}

/// What a report says.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub kind: Kind,
    /// This server's name.
    pub reporting_mta: &'a str,
    /// Who receives the report (the original envelope sender).
    pub to: &'a str,
    /// When the message was accepted (unix seconds).
    pub arrival: i64,
    /// Now (unix seconds), the last attempt.
    pub now: i64,
    /// For a delay warning: until when delivery is retried.
    pub retry_until: Option<i64>,
    /// Each recipient concerned, with the last error seen.
    pub recipients: &'a [(String, String)],
    /// The original message (only its header is quoted).
    pub original: &'a [u8],
    /// The list the message was a copy of, when the report goes to the
    /// list's moderators: named in the Subject and the explanation.
    pub list: Option<&'a str>,
}

/// The enhanced status code inside an SMTP error text such as
/// `550 5.1.1 No such user`, or a generic one of the right class.
pub fn status_of(error: &str, kind: Kind) -> String {
    let found = error.split_whitespace().take(3).find(|w| {
        let parts: Vec<&str> = w.split('.').collect();
        parts.len() == 3
            && matches!(parts[0], "2" | "4" | "5")
            && parts[1..].iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
    });
    match (found, kind) {
        // A 4.x.x code in a failure report means the retries ran out (as Postfix reports it).
        (Some(code), Kind::Failed) if code.starts_with('5') || code.starts_with('4') => code.to_owned(),
        (Some(code), Kind::Delayed) if code.starts_with('4') => code.to_owned(),
        (_, Kind::Failed) => "5.0.0".to_owned(),
        (_, Kind::Delayed) => "4.0.0".to_owned(),
    }
}

/// RFC 5322 date of a unix time.
pub fn rfc2822(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc2822).unwrap_or_default()
}

/// The header of a message: everything before the first empty line.
fn header_of(message: &[u8]) -> &[u8] {
    let end = message.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 2);
    let end = end.or_else(|| message.windows(2).position(|w| w == b"\n\n").map(|p| p + 1));
    &message[..end.unwrap_or(message.len())]
}

/// The one-line text of an error, safe to put in a header field.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(500).collect()
}

/// Builds the report message, ready to deliver to the sender's Inbox.
pub fn build(report: &Report<'_>) -> Vec<u8> {
    let boundary = format!("=_ardoise_dsn_{:x}_{}", report.now, report.recipients.len());
    let host = report.reporting_mta;
    let mut m = String::new();
    let subject = match (report.kind, report.list.map(one_line)) {
        (Kind::Failed, None) => "Message non remis / Undelivered mail returned to sender".to_owned(),
        (Kind::Delayed, None) => "Message retardé / Delayed mail (still being retried)".to_owned(),
        (Kind::Failed, Some(list)) => format!("Message non remis (liste {list}) / Undelivered list mail ({list})"),
        (Kind::Delayed, Some(list)) => {
            format!("Message retardé (liste {list}) / Delayed list mail ({list}, still being retried)")
        }
    };
    let _ = write!(
        m,
        "From: Serveur de messagerie <MAILER-DAEMON@{host}>\r\nTo: <{}>\r\nSubject: {subject}\r\n\
         Date: {}\r\nMessage-ID: <dsn.{}.{}@{host}>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status;\r\n boundary=\"{boundary}\"\r\n\r\n\
         This is a MIME-encapsulated message.\r\n\r\n--{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        one_line(report.to),
        rfc2822(report.now),
        report.now,
        rand::random::<u32>(),
    );
    if let Some(list) = report.list.map(one_line) {
        explain_for_list(&mut m, &list, report);
    } else {
        explain(&mut m, report);
    }
    for (rcpt, error) in report.recipients {
        let _ = write!(m, "<{}> : {}\r\n", one_line(rcpt), one_line(error));
    }
    let _ = write!(
        m,
        "\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; {host}\r\nArrival-Date: {}\r\n",
        rfc2822(report.arrival)
    );
    for (rcpt, error) in report.recipients {
        let action = match report.kind {
            Kind::Failed => "failed",
            Kind::Delayed => "delayed",
        };
        let _ = write!(
            m,
            "\r\nFinal-Recipient: rfc822; {}\r\nAction: {action}\r\nStatus: {}\r\n",
            one_line(rcpt),
            status_of(error, report.kind)
        );
        if !error.is_empty() {
            let _ = write!(m, "Diagnostic-Code: smtp; {}\r\n", one_line(error));
        }
        let _ = write!(m, "Last-Attempt-Date: {}\r\n", rfc2822(report.now));
        if let Some(until) = report.retry_until {
            let _ = write!(m, "Will-Retry-Until: {}\r\n", rfc2822(until));
        }
    }
    let _ = write!(m, "\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n");
    let mut out = m.into_bytes();
    out.extend_from_slice(header_of(report.original));
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

/// The explanation for the author of the message.
fn explain(m: &mut String, report: &Report<'_>) {
    match report.kind {
        Kind::Failed => m.push_str(
            "Votre message n'a pas pu être remis à un ou plusieurs destinataires.\r\n\
             Your message could not be delivered to one or more recipients.\r\n\r\n",
        ),
        Kind::Delayed => {
            let until = report.retry_until.map(rfc2822).unwrap_or_default();
            let _ = write!(
                m,
                "Votre message n'a pas encore pu être remis ; de nouveaux essais auront lieu jusqu'au {until}.\r\n\
                 Aucune action n'est nécessaire de votre part.\r\n\
                 Your message has not been delivered yet; delivery will be retried until {until}.\r\n\
                 You do not need to resend it.\r\n\r\n"
            );
        }
    }
}

/// The explanation for those who answer for `list` (its moderators, or the
/// académie's administrators): the copies of a posting that did not arrive.
fn explain_for_list(m: &mut String, list: &str, report: &Report<'_>) {
    match report.kind {
        Kind::Failed => {
            let _ = write!(
                m,
                "Un message diffusé par la liste {list} n'a pas pu être remis aux destinataires ci-dessous.\r\n\
                 Vous recevez ce rapport parce que vous répondez de cette liste (modération ou administration) ; \
                 une adresse qui n'existe plus peut être retirée de ses membres.\r\n\
                 A message sent out by the list {list} could not be delivered to the recipients below.\r\n\
                 You receive this report because you answer for this list (moderation or administration); \
                 an address that no longer exists can be removed from its members.\r\n\r\n"
            );
        }
        Kind::Delayed => {
            let until = report.retry_until.map(rfc2822).unwrap_or_default();
            let _ = write!(
                m,
                "Un message diffusé par la liste {list} n'a pas encore pu être remis aux destinataires ci-dessous ; \
                 de nouveaux essais auront lieu jusqu'au {until}.\r\n\
                 A message sent out by the list {list} has not been delivered yet to the recipients below; \
                 delivery will be retried until {until}.\r\n\r\n"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &[u8] =
        b"From: claire.martin@ac-demo.fr\r\nTo: parent@exemple.fr\r\nSubject: Sortie\r\n\r\nSECRET BODY\r\n";

    fn report(kind: Kind, recipients: &[(String, String)]) -> String {
        let r = Report {
            kind,
            reporting_mta: "mx.ac-demo.fr",
            to: "claire.martin@ac-demo.fr",
            arrival: 1_767_225_600,
            now: 1_767_229_200,
            retry_until: (kind == Kind::Delayed).then_some(1_767_657_600),
            recipients,
            original: ORIGINAL,
            list: None,
        };
        String::from_utf8(build(&r)).unwrap()
    }

    #[test]
    fn failure_report_is_rfc3464_multipart() {
        let rcpts = vec![
            ("parent@exemple.fr".to_owned(), "550 5.1.1 <parent@exemple.fr>: no such user".to_owned()),
            ("autre@exemple.org".to_owned(), "connection refused".to_owned()),
        ];
        let text = report(Kind::Failed, &rcpts);
        let parsed = mail_parser::MessageParser::default().parse(text.as_bytes()).unwrap();
        use mail_parser::MimeHeaders as _;
        let ct = parsed.root_part().content_type().unwrap();
        assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("report")));
        assert_eq!(ct.attribute("report-type"), Some("delivery-status"));
        assert_eq!(parsed.parts.len(), 4, "root plus three parts");
        assert!(text.contains("Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.ac-demo.fr\r\n"));
        assert!(text.contains(
            "Final-Recipient: rfc822; parent@exemple.fr\r\nAction: failed\r\nStatus: 5.1.1\r\n\
             Diagnostic-Code: smtp; 550 5.1.1 <parent@exemple.fr>: no such user\r\n"
        ));
        assert!(text.contains("Final-Recipient: rfc822; autre@exemple.org\r\nAction: failed\r\nStatus: 5.0.0\r\n"));
        assert!(text.contains("Content-Type: text/rfc822-headers\r\n\r\nFrom: claire.martin@ac-demo.fr\r\n"));
        assert!(text.contains("Subject: Sortie\r\n"));
        assert!(!text.contains("SECRET BODY"), "the body is not sent back");
        assert!(text.contains("To: <claire.martin@ac-demo.fr>\r\n"));
        assert!(text.contains("Auto-Submitted: auto-replied\r\n"));
    }

    #[test]
    fn delay_report_says_until_when() {
        let rcpts = vec![("parent@exemple.fr".to_owned(), "451 4.4.1 try later".to_owned())];
        let text = report(Kind::Delayed, &rcpts);
        assert!(text.contains("Action: delayed\r\nStatus: 4.4.1\r\n"));
        assert!(text.contains("Will-Retry-Until: "));
        assert!(text.contains("Message retardé"));
    }

    #[test]
    fn a_list_report_names_the_list_and_keeps_the_rfc3464_structure() {
        let rcpts = vec![("parent@exemple.fr".to_owned(), "550 5.1.1 no such user".to_owned())];
        for kind in [Kind::Failed, Kind::Delayed] {
            let r = Report {
                kind,
                reporting_mta: "mx.ac-demo.fr",
                to: "parents-bounces@ac-demo.fr",
                arrival: 1_767_225_600,
                now: 1_767_229_200,
                retry_until: (kind == Kind::Delayed).then_some(1_767_657_600),
                recipients: &rcpts,
                original: ORIGINAL,
                list: Some("parents@ac-demo.fr\r\nBcc: x@y"),
            };
            let text = String::from_utf8(build(&r)).unwrap();
            let parsed = mail_parser::MessageParser::default().parse(text.as_bytes()).unwrap();
            use mail_parser::MimeHeaders as _;
            let ct = parsed.root_part().content_type().unwrap();
            assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("report")));
            assert_eq!(ct.attribute("report-type"), Some("delivery-status"));
            assert_eq!(parsed.parts.len(), 4, "root plus three parts");
            let subject = parsed.subject().unwrap();
            assert!(subject.starts_with("Message ") && subject.contains("(liste parents@ac-demo.fr"), "{subject}");
            assert!(!text.contains("\r\nBcc:"), "no header injected through the list's name");
            let intro = parsed.body_text(0).unwrap();
            assert!(intro.starts_with("Un message diffusé par la liste parents@ac-demo.fr"), "{intro}");
            assert!(intro.contains("<parent@exemple.fr> : 550 5.1.1"), "{intro}");
            assert!(text.contains("To: <parents-bounces@ac-demo.fr>\r\n"));
            assert!(!text.contains("SECRET BODY"));
        }
    }

    #[test]
    fn status_codes_are_read_from_replies() {
        assert_eq!(status_of("550 5.7.1 refused", Kind::Failed), "5.7.1");
        assert_eq!(status_of("550 refused", Kind::Failed), "5.0.0");
        assert_eq!(status_of("451 4.3.0 later", Kind::Failed), "4.3.0");
        assert_eq!(status_of("250 2.0.0 ok", Kind::Failed), "5.0.0");
        assert_eq!(status_of("timeout", Kind::Delayed), "4.0.0");
    }
}
