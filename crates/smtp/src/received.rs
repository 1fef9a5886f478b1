//! The `Received:` trace header (RFC 5321 section 4.4) and queue identifiers.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// What the trace header says about one message.
pub(crate) struct Trace<'a> {
    pub helo: &'a str,
    pub remote_ip: IpAddr,
    pub hostname: &'a str,
    /// Whether the client said EHLO rather than HELO.
    pub extended: bool,
    pub tls: bool,
    pub smtputf8: bool,
    pub id: &'a str,
    /// Named only when the message has a single recipient, so as not to disclose the others.
    pub single_recipient: Option<&'a model::Address>,
}

impl Trace<'_> {
    /// The header field, folded, with its final CRLF.
    pub(crate) fn header(&self, now: OffsetDateTime) -> String {
        let literal = match self.remote_ip {
            IpAddr::V4(ip) => format!("[{ip}]"),
            IpAddr::V6(ip) => format!("[IPv6:{ip}]"),
        };
        let date = now.format(&Rfc2822).unwrap_or_else(|_| now.unix_timestamp().to_string());
        let mut header = format!(
            "Received: from {} ({literal})\r\n\tby {} with {} id {}",
            self.helo,
            self.hostname,
            self.protocol(),
            self.id
        );
        if let Some(rcpt) = self.single_recipient {
            header.push_str(&format!("\r\n\tfor <{rcpt}>"));
        }
        header.push_str(&format!(";\r\n\t{date}\r\n"));
        header
    }

    /// The "with" keyword of RFC 3848 and RFC 6531.
    fn protocol(&self) -> &'static str {
        match (self.smtputf8, self.extended, self.tls) {
            (true, _, false) => "UTF8SMTP",
            (true, _, true) => "UTF8SMTPS",
            (false, true, false) => "ESMTP",
            (false, true, true) => "ESMTPS",
            (false, false, _) => "SMTP",
        }
    }
}

/// A short identifier, unique within this process, naming one accepted message in
/// replies, headers and logs.
pub(crate) fn new_queue_id() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let micros = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{micros:X}{:04X}", n & 0xFFFF)
}

/// Keeps only characters that are safe in a header and a log line (HELO is free text).
pub(crate) fn sanitize_helo(name: &str) -> String {
    name.chars().take(255).map(|c| if c.is_alphanumeric() || ".-_:[]".contains(c) { c } else { '?' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_folded_and_dated() {
        let rcpt = model::Address::parse("claire.martin@ac-demo.fr").unwrap();
        let trace = Trace {
            helo: "mail.example.org",
            remote_ip: "2001:db8::1".parse().unwrap(),
            hostname: "mx.ac-demo.fr",
            extended: true,
            tls: true,
            smtputf8: false,
            id: "ABC",
            single_recipient: Some(&rcpt),
        };
        let now = time::macros::datetime!(2025-07-01 10:00:00 UTC);
        assert_eq!(
            trace.header(now),
            "Received: from mail.example.org ([IPv6:2001:db8::1])\r\n\tby mx.ac-demo.fr with ESMTPS id ABC\r\n\
             \tfor <claire.martin@ac-demo.fr>;\r\n\tTue, 01 Jul 2025 10:00:00 +0000\r\n"
        );
    }

    #[test]
    fn helo_cannot_inject_header_text() {
        assert_eq!(sanitize_helo("evil\r\nX-Injected: 1"), "evil??X-Injected:?1");
        assert_eq!(sanitize_helo("[192.0.2.1]"), "[192.0.2.1]");
    }

    #[test]
    fn queue_ids_differ() {
        assert_ne!(new_queue_id(), new_queue_id());
    }
}
