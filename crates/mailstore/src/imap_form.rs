//! The IMAP form of a message's ENVELOPE (RFC 9051 section 7.5.2), and the
//! string rules it follows.
//!
//! This is the one piece of wire format this crate knows: a message's
//! envelope never changes, so it is rendered once at delivery and stored
//! with the content's metadata (`blobs.imap_envelope`), and `FETCH
//! ENVELOPE` over a mailbox of 100,000 messages copies stored bytes instead
//! of parsing every message's stored analysis. The IMAP server renders
//! BODYSTRUCTURE with the same string rules.

use crate::analyse::{Envelope, EnvelopeAddress};

/// Longest string sent quoted; longer ones go as literals.
const MAX_QUOTED: usize = 512;

/// Writes an IMAP string: quoted when it can be, a literal otherwise. In a
/// session without UTF-8 enabled, 8-bit bytes always go in a literal.
pub fn string(out: &mut Vec<u8>, s: &[u8], utf8: bool) {
    let quotable = s.len() <= MAX_QUOTED
        && !s.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0)
        && (s.is_ascii() || (utf8 && std::str::from_utf8(s).is_ok()));
    if quotable {
        out.push(b'"');
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
        out.extend_from_slice(s);
    }
}

/// A string or NIL.
pub fn nstring(out: &mut Vec<u8>, s: Option<&[u8]>, utf8: bool) {
    match s {
        Some(s) => string(out, s, utf8),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// Decoded header text: sent as UTF-8 when the client accepts it, as an
/// RFC 2047 encoded word otherwise.
pub fn text(out: &mut Vec<u8>, s: Option<&str>, utf8: bool) {
    match s {
        Some(s) if !s.is_ascii() && !utf8 => {
            let word = format!("=?UTF-8?B?{}?=", base64_encode(s.as_bytes()));
            string(out, word.as_bytes(), false);
        }
        Some(s) => string(out, s.as_bytes(), utf8),
        None => out.extend_from_slice(b"NIL"),
    }
}

fn addresses(out: &mut Vec<u8>, list: &[EnvelopeAddress], utf8: bool) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in list {
        out.push(b'(');
        text(out, a.name.as_deref(), utf8);
        out.extend_from_slice(b" NIL ");
        if a.is_group_end() {
            out.extend_from_slice(b"NIL");
        } else {
            string(out, a.mailbox.as_bytes(), utf8);
        }
        out.push(b' ');
        nstring(out, (!a.host.is_empty()).then_some(a.host.as_bytes()), utf8);
        out.push(b')');
    }
    out.push(b')');
}

/// The ENVELOPE structure.
pub fn envelope(out: &mut Vec<u8>, e: &Envelope, utf8: bool) {
    out.push(b'(');
    nstring(out, e.date.as_deref().map(str::as_bytes), utf8);
    out.push(b' ');
    text(out, e.subject.as_deref(), utf8);
    for list in [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc] {
        out.push(b' ');
        addresses(out, list, utf8);
    }
    out.push(b' ');
    nstring(out, e.in_reply_to.as_deref().map(str::as_bytes), utf8);
    out.push(b' ');
    nstring(out, e.message_id.as_deref().map(str::as_bytes), utf8);
    out.push(b')');
}

/// The two stored forms of an envelope: for sessions without UTF-8, and for
/// UTF8=ACCEPT sessions when that differs (`None` otherwise). Every part of
/// an envelope is a Rust string, so both forms are valid UTF-8.
pub fn envelope_forms(e: &Envelope) -> (String, Option<String>) {
    let mut plain = Vec::new();
    envelope(&mut plain, e, false);
    let mut utf8 = Vec::new();
    envelope(&mut utf8, e, true);
    let plain = String::from_utf8_lossy(&plain).into_owned();
    let utf8 = String::from_utf8_lossy(&utf8).into_owned();
    let utf8 = (utf8 != plain).then_some(utf8);
    (plain, utf8)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648), for RFC 2047 encoded words (and SASL).
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_of_an_envelope() {
        let a = crate::analyse::analyse(b"From: A <a@x.fr>\r\nSubject: Hi\r\n\r\nx\r\n");
        let (plain, utf8) = envelope_forms(&a.envelope);
        assert!(plain.starts_with("(NIL \"Hi\" ((\"A\" NIL \"a\" \"x.fr\"))"), "{plain}");
        assert_eq!(utf8, None, "ASCII: one form");
        let a = crate::analyse::analyse("From: a@x.fr\r\nSubject: Réunion\r\n\r\nx\r\n".as_bytes());
        let (plain, utf8) = envelope_forms(&a.envelope);
        assert!(plain.contains("\"=?UTF-8?B?UsOpdW5pb24=?=\""), "{plain}");
        assert!(utf8.unwrap().contains("\"Réunion\""));
    }
}
