//! The header fields a list adds to what it distributes, and how a list
//! recognises its own mail coming back (loop prevention). Works on the raw
//! header block, field by field with its folding kept, so that nothing the
//! list does not mean to change is rewritten.
//!
//! Added once, on top: `List-Id` (RFC 2919), `List-Post` (RFC 2369),
//! `List-Archive` (RFC 2369, only for a list that keeps an archive: the
//! web's page of it, `<https://HOST/listes/ADDRESS/archives>`, which only
//! its members and moderators may read), `Precedence: list` and our loop
//! field `X-Ardoise-Loop`. A discussion group also replaces `Reply-To` with
//! the list and puts its tag in front of the subject (once). No
//! `List-Unsubscribe`: membership is decided by the directory or by an
//! administrator, never by a link. `List-*` fields of an earlier list are
//! replaced; earlier loop fields are kept, so a message that went round two
//! lists is still recognised by both.

use model::Address;

/// The loop field: one per list the message went through here.
pub const LOOP_FIELD: &str = "X-Ardoise-Loop";

/// The fields a list replaces when they come from elsewhere.
const REPLACED: [&str; 9] = [
    "list-id",
    "list-post",
    "list-archive",
    "list-help",
    "list-owner",
    "list-subscribe",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "precedence",
];

/// What [`decorate`] needs to know of a list.
#[derive(Debug, Clone)]
pub struct ListHeaders<'a> {
    pub address: &'a Address,
    pub name: &'a str,
    pub discussion: bool,
    pub tag: Option<&'a str>,
    /// The address of the list's archive ([`archive_url`]), when it keeps one.
    pub archive: Option<&'a str>,
}

/// The web page of a list's archive: `<base>/listes/<address>/archives`,
/// `base` being the web's public address (`https://HOST`, no final slash).
/// The address is one path segment: every character a segment does not
/// allow as it is is percent-encoded.
pub fn archive_url(base: &str, address: &Address) -> String {
    let mut segment = String::new();
    for b in address.to_string().bytes() {
        match b {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'@'
            | b'+'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'*'
            | b'='
            | b','
            | b';' => segment.push(b as char),
            _ => segment.push_str(&format!("%{b:02X}")),
        }
    }
    format!("{}/listes/{segment}/archives", base.trim_end_matches('/'))
}

/// The RFC 2919 identifier of a list: its address with `@` turned into a dot
/// (`enseignants.0541234a@ac-demo.fr` is `enseignants.0541234a.ac-demo.fr`).
pub fn list_id(address: &Address) -> String {
    format!("{}.{}", address.local(), address.domain())
}

/// One raw header field: its name and its whole text (folded lines and line
/// endings included).
struct Field<'m> {
    name: &'m str,
    raw: &'m [u8],
}

/// Splits the header block into fields; returns them and where the body
/// starts (the empty line included in neither). Lines without a colon
/// (which a sloppy client may send) are kept as fields with an empty name.
fn fields(message: &[u8]) -> (Vec<Field<'_>>, usize) {
    let mut out: Vec<Field<'_>> = Vec::new();
    let mut at = 0;
    while at < message.len() {
        let end = message[at..].iter().position(|&b| b == b'\n').map_or(message.len(), |i| at + i + 1);
        let line = &message[at..end];
        if line == b"\r\n" || line == b"\n" {
            return (out, at);
        }
        match (line.first(), out.last_mut()) {
            (Some(b' ' | b'\t'), Some(last)) => {
                // A continuation: the previous field grows (fields are contiguous).
                let start = last.raw.as_ptr() as usize - message.as_ptr() as usize;
                last.raw = &message[start..end];
            }
            _ => {
                let name = line
                    .iter()
                    .position(|&b| b == b':')
                    .and_then(|i| std::str::from_utf8(&line[..i]).ok())
                    .map_or("", str::trim);
                out.push(Field { name, raw: line });
            }
        }
        at = end;
    }
    (out, message.len())
}

/// The unfolded value of a field.
fn value(field: &Field<'_>) -> String {
    let text = String::from_utf8_lossy(field.raw);
    let after = text.split_once(':').map_or("", |(_, v)| v);
    after.replace("\r\n", "").replace('\n', "").trim().to_owned()
}

/// Whether `message` already went through this list here: it carries the
/// list's `List-Id` or our loop field naming it.
pub fn is_loop(message: &[u8], address: &Address) -> bool {
    let id = format!("<{}>", list_id(address)).to_ascii_lowercase();
    let me = address.to_string();
    fields(message).0.iter().any(|f| {
        (f.name.eq_ignore_ascii_case("list-id") && value(f).to_ascii_lowercase().contains(&id))
            || (f.name.eq_ignore_ascii_case(LOOP_FIELD) && value(f).eq_ignore_ascii_case(&me))
    })
}

/// The subject as written (unfolded, encoded words left encoded), if any.
pub fn raw_subject(message: &[u8]) -> Option<String> {
    fields(message).0.iter().find(|f| f.name.eq_ignore_ascii_case("subject")).map(value)
}

/// A phrase for a header: as a quoted string when ASCII, else as one
/// RFC 2047 encoded word (Q encoding of UTF-8).
fn phrase(text: &str) -> String {
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    if text.is_ascii() {
        let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
        return format!("\"{escaped}\"");
    }
    encoded_word(&text)
}

fn encoded_word(text: &str) -> String {
    let mut out = String::from("=?utf-8?q?");
    for b in text.bytes() {
        match b {
            b' ' => out.push('_'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'!' | b'*' | b'+' | b'-' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("={b:02X}")),
        }
    }
    out.push_str("?=");
    out
}

/// The subject tag as it goes in front of the subject: `[tag]`, encoded when
/// the tag is not ASCII.
fn tag_text(tag: &str) -> String {
    let tag: String = tag.chars().filter(|c| !c.is_control()).collect();
    let bracketed = format!("[{tag}]");
    if bracketed.is_ascii() { bracketed } else { encoded_word(&bracketed) }
}

/// The message as the list distributes it (see the module doc).
pub fn decorate(message: &[u8], list: &ListHeaders<'_>) -> Vec<u8> {
    let (fields, body_at) = fields(message);
    let address = list.address.to_string();
    let mut out = Vec::with_capacity(message.len() + 512);
    let mut add = |line: String| {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    };
    add(format!("List-Id: {} <{}>", phrase(list.name), list_id(list.address)));
    add(format!("List-Post: <mailto:{address}>"));
    if let Some(url) = list.archive {
        add(format!("List-Archive: <{url}>"));
    }
    add("Precedence: list".to_owned());
    add(format!("{LOOP_FIELD}: {address}"));
    if list.discussion {
        add(format!("Reply-To: <{address}>"));
    }
    let tag = list.tag.filter(|t| list.discussion && !t.trim().is_empty()).map(|t| tag_text(t.trim()));
    let mut has_subject = false;
    for f in &fields {
        let lower = f.name.to_ascii_lowercase();
        if REPLACED.contains(&lower.as_str()) || (list.discussion && lower == "reply-to") {
            continue;
        }
        if lower == "subject" {
            has_subject = true;
            if let Some(tag) = &tag
                && !value(f).contains(tag.as_str())
            {
                let colon = f.raw.iter().position(|&b| b == b':').map_or(0, |i| i + 1);
                out.extend_from_slice(&f.raw[..colon]);
                out.extend_from_slice(format!(" {tag}").as_bytes());
                out.extend_from_slice(&f.raw[colon..]);
                continue;
            }
        }
        out.extend_from_slice(f.raw);
    }
    if !has_subject && let Some(tag) = &tag {
        out.extend_from_slice(format!("Subject: {tag}\r\n").as_bytes());
    }
    out.extend_from_slice(&message[body_at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    const POST: &[u8] = b"Received: from a\r\n\tby b; Mon, 1 Jan 2026 10:00:00 +0000\r\nFrom: Claire <claire.martin@ac-demo.fr>\r\n\
Reply-To: ailleurs@example.org\r\nSubject: Conseil de classe\r\n  du 12\r\nList-Id: <autre.example.org>\r\n\r\nBonjour.\r\n";

    #[test]
    fn institutional_lists_add_their_fields_once_and_no_unsubscribe_link() {
        let list = addr("enseignants.0541234a@ac-demo.fr");
        let h = ListHeaders {
            address: &list,
            name: "Enseignants du collège",
            discussion: false,
            tag: Some("x"),
            archive: None,
        };
        let out = String::from_utf8(decorate(POST, &h)).unwrap();
        assert!(
            out.starts_with(
                "List-Id: =?utf-8?q?Enseignants_du_coll=C3=A8ge?= <enseignants.0541234a.ac-demo.fr>\r\n\
             List-Post: <mailto:enseignants.0541234a@ac-demo.fr>\r\nPrecedence: list\r\n\
             X-Ardoise-Loop: enseignants.0541234a@ac-demo.fr\r\nReceived: from a\r\n\tby b;"
            ),
            "{out}"
        );
        assert_eq!(out.matches("List-Id:").count(), 1, "the earlier list's field is replaced");
        assert!(!out.to_ascii_lowercase().contains("unsubscribe"));
        assert!(!out.contains("List-Archive"), "no archive, no field");
        assert!(out.contains("Reply-To: ailleurs@example.org\r\n"), "kept on an institutional list");
        assert!(out.contains("Subject: Conseil de classe\r\n  du 12\r\n"), "no tag outside discussion groups");
        assert!(out.ends_with("\r\n\r\nBonjour.\r\n"));
        assert!(is_loop(&decorate(POST, &h), &list));
        assert!(!is_loop(POST, &list));
        assert!(is_loop(POST, &addr("autre@example.org")), "another server's list id is recognised too");
    }

    #[test]
    fn discussion_groups_take_the_replies_and_tag_the_subject_once() {
        let list = addr("cdi@ac-demo.fr");
        let url = archive_url("https://mail.ac-demo.fr/", &list);
        let h = ListHeaders {
            address: &list,
            name: "CDI",
            discussion: true,
            tag: Some("CDI"),
            archive: Some(url.as_str()),
        };
        let once = decorate(POST, &h);
        let out = String::from_utf8(once.clone()).unwrap();
        assert!(out.contains("List-Id: \"CDI\" <cdi.ac-demo.fr>\r\n"), "{out}");
        assert!(
            out.contains("List-Post: <mailto:cdi@ac-demo.fr>\r\nList-Archive: <https://mail.ac-demo.fr/listes/cdi@ac-demo.fr/archives>\r\n"),
            "{out}"
        );
        // An earlier list's archive field is replaced by ours, once.
        let forwarded = b"List-Archive: <https://ailleurs.example.org/a>\r\nSubject: x\r\n\r\n.";
        let out2 = String::from_utf8(decorate(forwarded, &h)).unwrap();
        assert_eq!(out2.matches("List-Archive:").count(), 1, "{out2}");
        assert!(!out2.contains("ailleurs.example.org"), "{out2}");
        assert!(out.contains("Reply-To: <cdi@ac-demo.fr>\r\n") && !out.contains("ailleurs@"), "{out}");
        assert!(out.contains("Subject: [CDI] Conseil de classe\r\n  du 12\r\n"), "{out}");
        // A reply that comes back with the tag is not tagged twice.
        let reply = b"From: p@ac-demo.fr\r\nSubject: Re: [CDI] Conseil\r\n\r\nok\r\n";
        let again = String::from_utf8(decorate(reply, &h)).unwrap();
        assert!(again.contains("Subject: Re: [CDI] Conseil\r\n"), "{again}");
        let accented =
            ListHeaders { address: &list, name: "CDI", discussion: true, tag: Some("Collège"), archive: None };
        let out = String::from_utf8(decorate(b"Subject: Sortie\r\n\r\n.", &accented)).unwrap();
        assert!(out.contains("Subject: =?utf-8?q?=5BColl=C3=A8ge=5D?= Sortie\r\n"), "{out}");
    }

    #[test]
    fn loop_field_and_subject_are_read_from_the_header_only() {
        let list = addr("l@ac-demo.fr");
        let m = b"Subject: hello\r\n\r\nX-Ardoise-Loop: l@ac-demo.fr\r\n";
        assert!(!is_loop(m, &list));
        assert_eq!(raw_subject(m).as_deref(), Some("hello"));
        let bare_lf = b"X-Ardoise-Loop: L@ac-demo.fr\nSubject: x\n\nbody";
        assert!(is_loop(bare_lf, &list));
        assert_eq!(raw_subject(b"From: a@b.c\r\n\r\n"), None);
        assert_eq!(list_id(&list), "l.ac-demo.fr");
    }

    #[test]
    fn the_archive_url_is_one_path_segment_in_angle_brackets() {
        let plain = archive_url("https://mail.ac-demo.fr", &addr("cdi.0541234a@ac-demo.fr"));
        assert_eq!(plain, "https://mail.ac-demo.fr/listes/cdi.0541234a@ac-demo.fr/archives");
        // Whatever a local part may hold, nothing leaves the segment or the brackets.
        if let Ok(odd) = Address::parse("a/b?c#d%e>f@ac-demo.fr") {
            let url = archive_url("https://h", &odd);
            let segment = url.trim_start_matches("https://h/listes/").trim_end_matches("/archives");
            assert!(!segment.contains(['/', '?', '#', '>', '<', ' ']), "{url}");
        }
    }
}
