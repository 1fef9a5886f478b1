//! Writing response data: strings (quoted or literal), header text and
//! BODYSTRUCTURE from the stored analysis of a message (ENVELOPE is
//! `envelope.rs`).

use mailstore::analyse::{BodyPart, Disposition};

pub use crate::envelope::envelope;

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
            let word = format!("=?UTF-8?B?{}?=", crate::base64::encode(s.as_bytes()));
            string(out, word.as_bytes(), false);
        }
        Some(s) => string(out, s.as_bytes(), utf8),
        None => out.extend_from_slice(b"NIL"),
    }
}

fn params(out: &mut Vec<u8>, params: &[(String, String)], utf8: bool) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        string(out, name.as_bytes(), utf8);
        out.push(b' ');
        string(out, value.as_bytes(), utf8);
    }
    out.push(b')');
}

fn disposition(out: &mut Vec<u8>, d: Option<&Disposition>, utf8: bool) {
    match d {
        None => out.extend_from_slice(b"NIL"),
        Some(d) => {
            out.push(b'(');
            string(out, d.kind.as_bytes(), utf8);
            out.push(b' ');
            params(out, &d.params, utf8);
            out.push(b')');
        }
    }
}

/// BODYSTRUCTURE (`extended`) or BODY (not extended) of a part.
pub fn body_structure(out: &mut Vec<u8>, p: &BodyPart, extended: bool, utf8: bool) {
    out.push(b'(');
    if p.is_multipart() {
        for child in &p.children {
            body_structure(out, child, extended, utf8);
        }
        out.push(b' ');
        string(out, p.subtype.as_bytes(), utf8);
        if extended {
            out.push(b' ');
            params(out, &p.params, utf8);
            extension_tail(out, p, utf8);
        }
        out.push(b')');
        return;
    }
    string(out, p.media_type.as_bytes(), utf8);
    out.push(b' ');
    string(out, p.subtype.as_bytes(), utf8);
    out.push(b' ');
    params(out, &p.params, utf8);
    out.push(b' ');
    nstring(out, p.id.as_deref().map(str::as_bytes), utf8);
    out.push(b' ');
    text(out, p.description.as_deref(), utf8);
    out.push(b' ');
    string(out, p.encoding.to_ascii_uppercase().as_bytes(), utf8);
    out.extend_from_slice(format!(" {}", p.size).as_bytes());
    if let Some(message) = &p.message {
        out.push(b' ');
        envelope(out, &message.envelope, utf8);
        out.push(b' ');
        body_structure(out, &message.body, extended, utf8);
        out.extend_from_slice(format!(" {}", p.lines.unwrap_or(0)).as_bytes());
    } else if p.media_type == "text" {
        out.extend_from_slice(format!(" {}", p.lines.unwrap_or(0)).as_bytes());
    }
    if extended {
        out.push(b' ');
        nstring(out, p.md5.as_deref().map(str::as_bytes), utf8);
        extension_tail(out, p, utf8);
    }
    out.push(b')');
}

/// Disposition, language and location, shared by both kinds of parts.
fn extension_tail(out: &mut Vec<u8>, p: &BodyPart, utf8: bool) {
    out.push(b' ');
    disposition(out, p.disposition.as_ref(), utf8);
    out.push(b' ');
    match p.language.as_slice() {
        [] => out.extend_from_slice(b"NIL"),
        [one] => string(out, one.as_bytes(), utf8),
        many => {
            out.push(b'(');
            for (i, l) in many.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                string(out, l.as_bytes(), utf8);
            }
            out.push(b')');
        }
    }
    out.push(b' ');
    nstring(out, p.location.as_deref().map(str::as_bytes), utf8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_quoted_or_literal() {
        assert_eq!(s(|o| string(o, b"a \"b\" \\", false)), r#""a \"b\" \\""#);
        assert_eq!(s(|o| string(o, b"a\r\nb", false)), "{4}\r\na\r\nb");
        assert_eq!(s(|o| string(o, "é".as_bytes(), false)), "{2}\r\né");
        assert_eq!(s(|o| string(o, "é".as_bytes(), true)), "\"é\"");
        assert_eq!(s(|o| text(o, Some("Réunion"), false)), "\"=?UTF-8?B?UsOpdW5pb24=?=\"");
    }

    #[test]
    fn structures_of_a_simple_message() {
        let raw = b"From: Claire <claire@ac-demo.fr>\r\nTo: paul@ac-demo.fr\r\nSubject: Hi\r\nMessage-ID: <1@x>\r\n\r\nHello\r\n";
        let a = mailstore::analyse::analyse(raw);
        assert_eq!(
            s(|o| envelope(o, &a.envelope, false)),
            "(NIL \"Hi\" ((\"Claire\" NIL \"claire\" \"ac-demo.fr\")) ((\"Claire\" NIL \"claire\" \"ac-demo.fr\")) \
             ((\"Claire\" NIL \"claire\" \"ac-demo.fr\")) ((NIL NIL \"paul\" \"ac-demo.fr\")) NIL NIL NIL \"<1@x>\")"
        );
        assert_eq!(
            s(|o| body_structure(o, &a.body, true, false)),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 7 1 NIL NIL NIL NIL)"
        );
        assert_eq!(
            s(|o| body_structure(o, &a.body, false, false)),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 7 1)"
        );
    }
}
