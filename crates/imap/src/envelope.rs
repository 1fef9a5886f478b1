//! The ENVELOPE structure (RFC 9051 section 7.5.2) of a message, written
//! from its stored analysis.
//!
//! A message's envelope never changes, so the binary hands
//! [`envelope_forms`] to the mail domain, which calls it once at delivery
//! and stores both forms with the content (`blobs.imap_envelope`): `FETCH
//! ENVELOPE` over a mailbox of 100,000 messages then copies stored bytes
//! instead of reading every message's analysis. The domain only keeps the
//! strings; the syntax is known here alone. Without stored forms (a content
//! delivered without the renderer, or before it existed), FETCH writes the
//! envelope from the analysis with [`envelope`], byte for byte the same.

use mailstore::analyse::{Envelope, EnvelopeAddress};

use crate::resp::{nstring, string, text};

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

/// Writes the ENVELOPE structure, with 8-bit text as UTF-8 when `utf8`
/// (UTF8=ACCEPT) and as RFC 2047 encoded words otherwise.
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
/// an envelope is a Rust string, so both forms are valid UTF-8. This is the
/// [`mailstore::EnvelopeForms`] the binary gives the mail domain.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_of_an_envelope() {
        let a = mailstore::analyse::analyse(b"From: A <a@x.fr>\r\nSubject: Hi\r\n\r\nx\r\n");
        let (plain, utf8) = envelope_forms(&a.envelope);
        assert!(plain.starts_with("(NIL \"Hi\" ((\"A\" NIL \"a\" \"x.fr\"))"), "{plain}");
        assert_eq!(utf8, None, "ASCII: one form");
        let a = mailstore::analyse::analyse("From: a@x.fr\r\nSubject: Réunion\r\n\r\nx\r\n".as_bytes());
        let (plain, utf8) = envelope_forms(&a.envelope);
        assert!(plain.contains("\"=?UTF-8?B?UsOpdW5pb24=?=\""), "{plain}");
        assert!(utf8.unwrap().contains("\"Réunion\""));
    }
}
