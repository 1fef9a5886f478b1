//! The headers of a vacation reply that sieve-rs writes as given: a display
//! name or subject with accents would leave as raw 8-bit header text, which
//! RFC 5322 does not allow without SMTPUTF8. `encoded` rewrites the `From:`
//! and `Subject:` of the reply's header block with RFC 2047 encoded words
//! (mail-builder's writers) when they are not ASCII; the rest is untouched.

use mail_builder::headers::Header;
use mail_builder::headers::address::Address;
use mail_builder::headers::text::Text;

/// The reply with its non-ASCII `From:` and `Subject:` encoded.
pub(crate) fn encoded(message: Vec<u8>) -> Vec<u8> {
    let Some(end) = message.windows(4).position(|w| w == b"\r\n\r\n") else {
        return message;
    };
    let (head, body) = message.split_at(end + 2);
    let Ok(head) = std::str::from_utf8(head) else {
        return message;
    };
    if head.is_ascii() {
        return message;
    }
    let mut out = Vec::with_capacity(message.len() + 64);
    for line in head.split_inclusive("\r\n") {
        let written = if let Some(value) = line.strip_prefix("From: ").filter(|_| !line.is_ascii()) {
            from(value.trim_end()).and_then(|address| write(&mut out, "From: ", &address))
        } else if let Some(value) = line.strip_prefix("Subject: ").filter(|_| !line.is_ascii()) {
            write(&mut out, "Subject: ", &Text::new(value.trim_end()))
        } else {
            None
        };
        if written.is_none() {
            out.extend_from_slice(line.as_bytes());
        }
    }
    out.extend_from_slice(body);
    out
}

/// `"Name" <address>` as sieve-rs writes the user's From (quotes and
/// backslashes escaped); anything else is left as it is.
fn from(value: &str) -> Option<Address<'static>> {
    let rest = value.strip_prefix('"')?;
    let (quoted, address) = rest.rsplit_once("\" <")?;
    let address = address.strip_suffix('>')?;
    let mut name = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        name.push(if c == '\\' { chars.next()? } else { c });
    }
    Some(Address::new_address(Some(name), address.to_owned()))
}

fn write(out: &mut Vec<u8>, name: &str, header: &impl Header) -> Option<()> {
    let mut line = name.as_bytes().to_vec();
    header.write_header(&mut line, name.len()).ok()?;
    out.extend_from_slice(&line);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accented_name_and_subject_become_encoded_words() {
        let raw = "From: \"Hélène \\\"Lena\\\" Lefèvre\" <helene.lefevre@ac-demo.fr>\r\nTo: paul@example.org\r\n\
                   Subject: Absence : congé\r\nMIME-Version: 1.0\r\n\r\nJe suis absente.\r\n";
        let out = String::from_utf8(encoded(raw.as_bytes().to_vec())).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.is_ascii(), "{head}");
        assert_eq!(body, "Je suis absente.\r\n");
        let parsed = mail_parser::MessageParser::default().parse(out.as_bytes()).unwrap();
        let from = parsed.from().and_then(|a| a.first()).unwrap();
        assert_eq!(from.name(), Some("Hélène \"Lena\" Lefèvre"));
        assert_eq!(from.address(), Some("helene.lefevre@ac-demo.fr"));
        assert_eq!(parsed.subject(), Some("Absence : congé"));
        assert!(head.contains("To: paul@example.org\r\n"));
    }

    #[test]
    fn ascii_replies_and_other_forms_are_untouched() {
        let ascii = b"From: \"Paul Durand\" <paul@ac-demo.fr>\r\nSubject: Absent\r\n\r\nx".to_vec();
        assert_eq!(encoded(ascii.clone()), ascii);
        let bare = "From: paul@ac-demo.fr\r\nSubject: Été\r\n\r\nx";
        let out = String::from_utf8(encoded(bare.as_bytes().to_vec())).unwrap();
        assert!(out.starts_with("From: paul@ac-demo.fr\r\nSubject: =?utf-8?"), "{out}");
        let headless = b"no header block".to_vec();
        assert_eq!(encoded(headless.clone()), headless);
    }
}
