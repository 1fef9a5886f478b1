//! Header fields: finding the few that matter in a header block, and turning
//! their raw values into text, addresses, dates, ids and MIME parameters.
//!
//! Values are decoded with mail-parser's field parsers, fed one value at a
//! time. Raw 8-bit header bytes that are not UTF-8 are read as Windows-1252,
//! the usual culprit in French mail.

use std::collections::HashMap;
use std::ops::Range;

use mail_parser::parsers::MessageStream;
use mail_parser::{Addr, Address, HeaderValue};

use super::text::decode_charset;
use super::{Disposition, Envelope, EnvelopeAddress, MAX_ADDRESSES, MAX_REFERENCES};

pub(super) const MISSING_DOMAIN: &str = "MISSING_DOMAIN";
const MISSING_MAILBOX: &str = "MISSING_MAILBOX";
/// Most parameters kept from one Content-Type or Content-Disposition; enough
/// for a file name split into many RFC 2231 sections.
const MAX_PARAMS: usize = 256;

/// MIME parameters, (lower-case name, value) in header order.
pub(super) type Params = Vec<(String, String)>;

/// One header field as ranges into the raw message: the name, and the value
/// from just after the colon through the line break that ends the field
/// (folded lines included).
#[derive(Debug, Clone)]
pub(super) struct Field {
    pub name: Range<usize>,
    pub value: Range<usize>,
}

/// The header fields this module knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Known {
    ContentType,
    ContentTransferEncoding,
    ContentId,
    ContentDescription,
    ContentDisposition,
    ContentLanguage,
    ContentLocation,
    Date,
    Subject,
    From,
    Sender,
    ReplyTo,
    To,
    Cc,
    Bcc,
    InReplyTo,
    MessageId,
    References,
}

const NAMES: [(&str, Known); 18] = [
    ("content-type", Known::ContentType),
    ("content-transfer-encoding", Known::ContentTransferEncoding),
    ("content-id", Known::ContentId),
    ("content-description", Known::ContentDescription),
    ("content-disposition", Known::ContentDisposition),
    ("content-language", Known::ContentLanguage),
    ("content-location", Known::ContentLocation),
    ("date", Known::Date),
    ("subject", Known::Subject),
    ("from", Known::From),
    ("sender", Known::Sender),
    ("reply-to", Known::ReplyTo),
    ("to", Known::To),
    ("cc", Known::Cc),
    ("bcc", Known::Bcc),
    ("in-reply-to", Known::InReplyTo),
    ("message-id", Known::MessageId),
    ("references", Known::References),
];

/// The value ranges of the first occurrence of each known field.
pub(super) struct Fields {
    slots: [Option<Range<usize>>; NAMES.len()],
}

impl Fields {
    /// Looks at every field once.
    pub fn scan(raw: &[u8], fields: &[Field]) -> Fields {
        let mut slots: [Option<Range<usize>>; NAMES.len()] = Default::default();
        for f in fields {
            let name = &raw[f.name.clone()];
            if let Some(i) = NAMES.iter().position(|(n, _)| name.eq_ignore_ascii_case(n.as_bytes()))
                && slots[i].is_none()
            {
                slots[i] = Some(f.value.clone());
            }
        }
        Fields { slots }
    }

    fn raw<'a>(&self, raw: &'a [u8], k: Known) -> Option<&'a [u8]> {
        let i = NAMES.iter().position(|(_, n)| *n == k)?;
        self.slots[i].clone().map(|r| &raw[r])
    }

    pub fn has(&self, k: Known) -> bool {
        NAMES.iter().position(|(_, n)| *n == k).is_some_and(|i| self.slots[i].is_some())
    }

    /// The value unfolded and trimmed, as text.
    pub fn unfolded(&self, raw: &[u8], k: Known) -> Option<String> {
        self.raw(raw, k).map(unfold)
    }

    /// An unstructured value with its encoded words decoded.
    pub fn text(&self, raw: &[u8], k: Known) -> Option<String> {
        self.raw(raw, k).map(decode_words)
    }

    pub fn addresses(&self, raw: &[u8], k: Known) -> Vec<EnvelopeAddress> {
        let Some(value) = self.raw(raw, k) else { return Vec::new() };
        let buf = drop_lone_comments(&for_stream(value));
        match MessageStream::new(&buf).parse_address() {
            HeaderValue::Address(Address::List(list)) => {
                list.iter().take(MAX_ADDRESSES).map(envelope_address).collect()
            }
            HeaderValue::Address(Address::Group(groups)) => {
                let mut out = Vec::new();
                for g in groups {
                    let name = g.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
                    // A group takes two more entries (its start and end markers).
                    if name.is_some() && out.len() + 2 > MAX_ADDRESSES {
                        break;
                    }
                    let room = if name.is_some() { MAX_ADDRESSES - 1 } else { MAX_ADDRESSES };
                    if let Some(name) = name {
                        out.push(EnvelopeAddress { name: None, mailbox: name.to_owned(), host: String::new() });
                    }
                    for a in &g.addresses {
                        if out.len() >= room {
                            break;
                        }
                        out.push(envelope_address(a));
                    }
                    if name.is_some() {
                        out.push(EnvelopeAddress::default());
                    }
                    if out.len() >= MAX_ADDRESSES {
                        break;
                    }
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// The Date: field as unix seconds.
    pub fn date(&self, raw: &[u8]) -> Option<i64> {
        let buf = for_stream(self.raw(raw, Known::Date)?);
        match MessageStream::new(&buf).parse_date() {
            HeaderValue::DateTime(d) if d.is_valid() => Some(d.to_timestamp()),
            _ => None,
        }
    }

    /// Message ids of a field, without angle brackets.
    pub fn ids(&self, raw: &[u8], k: Known) -> Vec<String> {
        let Some(value) = self.raw(raw, k) else { return Vec::new() };
        let buf = for_stream(value);
        let ids = match MessageStream::new(&buf).parse_id() {
            HeaderValue::Text(t) => vec![t],
            HeaderValue::TextList(list) => list,
            _ => Vec::new(),
        };
        ids.into_iter()
            .map(|id| id.trim().trim_start_matches('<').trim_end_matches('>').to_owned())
            .filter(|id| !id.is_empty())
            .take(MAX_REFERENCES)
            .collect()
    }

    /// Content-Type as (type, subtype, params), None when absent or invalid.
    pub fn content_type(&self, raw: &[u8]) -> Option<(String, String, Params)> {
        let (value, params) = structured(&value_text(self.raw(raw, Known::ContentType)?));
        let (t, s) = value.split_once('/')?;
        let (t, s) = (t.trim(), s.trim());
        let token = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_graphic());
        (token(t) && token(s)).then(|| (t.to_owned(), s.to_owned(), params))
    }

    /// Content-Transfer-Encoding, lower-case, "7bit" when absent.
    pub fn encoding(&self, raw: &[u8]) -> String {
        match self.raw(raw, Known::ContentTransferEncoding) {
            Some(v) => {
                let (value, _) = structured(&value_text(v));
                if value.is_empty() { "7bit".to_owned() } else { value }
            }
            None => "7bit".to_owned(),
        }
    }

    pub fn disposition(&self, raw: &[u8]) -> Option<Disposition> {
        let (kind, params) = structured(&value_text(self.raw(raw, Known::ContentDisposition)?));
        (!kind.is_empty()).then_some(Disposition { kind, params })
    }

    pub fn language(&self, raw: &[u8]) -> Vec<String> {
        let Some(v) = self.raw(raw, Known::ContentLanguage) else { return Vec::new() };
        let text = strip_comments(&value_text(v));
        text.split(',').map(str::trim).filter(|l| !l.is_empty()).take(MAX_PARAMS).map(str::to_owned).collect()
    }

    /// Content-Location with the whitespace of folding removed (RFC 2557).
    pub fn location(&self, raw: &[u8]) -> Option<String> {
        let v = self.unfolded(raw, Known::ContentLocation)?;
        Some(v.chars().filter(|c| !c.is_whitespace()).collect())
    }
}

/// The day a Date: value names as written, whatever its time and zone
/// (what IMAP's SENTON, SENTBEFORE and SENTSINCE compare, RFC 9051 section
/// 6.4.4), as the unix seconds of that day's 00:00 UTC.
pub fn written_day(value: &str) -> Option<i64> {
    let buf = for_stream(value.as_bytes());
    match MessageStream::new(&buf).parse_date() {
        HeaderValue::DateTime(d) if d.is_valid() => {
            let midnight = mail_parser::DateTime { hour: 0, minute: 0, second: 0, tz_hour: 0, tz_minute: 0, ..d };
            Some(midnight.to_timestamp())
        }
        _ => None,
    }
}

/// The envelope of a message whose header fields are `f`.
pub(super) fn envelope(raw: &[u8], f: &Fields) -> Envelope {
    let from = f.addresses(raw, Known::From);
    let or_from = |k| if f.has(k) { f.addresses(raw, k) } else { from.clone() };
    Envelope {
        date: f.unfolded(raw, Known::Date),
        subject: f.text(raw, Known::Subject),
        sender: or_from(Known::Sender),
        reply_to: or_from(Known::ReplyTo),
        to: f.addresses(raw, Known::To),
        cc: f.addresses(raw, Known::Cc),
        bcc: f.addresses(raw, Known::Bcc),
        in_reply_to: f.unfolded(raw, Known::InReplyTo),
        message_id: f.unfolded(raw, Known::MessageId),
        from,
    }
}

fn envelope_address(a: &Addr<'_>) -> EnvelopeAddress {
    let name = a.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    match a.address.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(addr) => {
            let (mailbox, host) = addr.rsplit_once('@').unwrap_or((addr, ""));
            EnvelopeAddress {
                name: name.map(str::to_owned),
                mailbox: if mailbox.is_empty() { MISSING_MAILBOX } else { mailbox }.to_owned(),
                host: if host.is_empty() { MISSING_DOMAIN } else { host }.to_owned(),
            }
        }
        // A bare word ("To: root") is a local part without a domain.
        None => match name {
            Some(n) if !n.contains(char::is_whitespace) => {
                EnvelopeAddress { name: None, mailbox: n.to_owned(), host: MISSING_DOMAIN.to_owned() }
            }
            _ => EnvelopeAddress {
                name: name.map(str::to_owned),
                mailbox: MISSING_MAILBOX.to_owned(),
                host: MISSING_DOMAIN.to_owned(),
            },
        },
    }
}

/// The decoded file name of a part, from its disposition or its type.
pub(super) fn file_name(disposition: Option<&Disposition>, type_params: &[(String, String)]) -> Option<String> {
    let lists = [(disposition.map(|d| d.params.as_slice()).unwrap_or_default(), "filename"), (type_params, "name")];
    for (params, key) in lists {
        let find = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let name = if let Some(v) = find(&format!("{key}*")) {
            decode_rfc2231(v)
        } else if let Some(v) = find(key) {
            decode_words(v.as_bytes())
        } else {
            continue;
        };
        let name = name.trim();
        if !name.is_empty() {
            return Some(name.to_owned());
        }
    }
    None
}

/// Decodes an RFC 2231 extended value: `charset'language'percent-encoded`.
fn decode_rfc2231(v: &str) -> String {
    let mut it = v.splitn(3, '\'');
    let (charset, data) = match (it.next(), it.next(), it.next()) {
        (Some(c), Some(_), Some(d)) => (Some(c).filter(|c| !c.is_empty()), d),
        _ => (None, v),
    };
    let b = data.as_bytes();
    let mut bytes = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (b.get(i + 1).and_then(|&c| hex(c)), b.get(i + 2).and_then(|&c| hex(c)))
        {
            bytes.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        bytes.push(b[i]);
        i += 1;
    }
    decode_charset(&bytes, charset)
}

/// The value as a stream mail-parser's field parsers accept: UTF-8, ending
/// with a line break.
fn for_stream(value: &[u8]) -> Vec<u8> {
    let mut buf = match std::str::from_utf8(value) {
        Ok(_) => value.to_vec(),
        Err(_) => decode_charset(value, None).into_bytes(),
    };
    if buf.last() != Some(&b'\n') {
        buf.push(b'\n');
    }
    buf
}

/// An address list with each element that is nothing but comments and
/// white space emptied: RFC 5322 section 3.4 lets a group's list be only
/// CFWS (`group2: (foo) ;` has no member), where mail-parser would read the
/// comment as a name without an address. Comments next to an address stay
/// (`a@b (Jean)` still names Jean). Elements are split at `,`, `:` and `;`
/// outside quotes, comments and angle brackets.
fn drop_lone_comments(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let (mut start, mut depth, mut quoted, mut angle, mut escaped) = (0, 0usize, false, false, false);
    let mut only_cfws = true;
    fn element_end(out: &mut Vec<u8>, element: &[u8], only_cfws: bool) {
        if only_cfws && element.contains(&b'(') {
            out.push(b' ');
        } else {
            out.extend_from_slice(element);
        }
    }
    for (i, &b) in value.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' if quoted || depth > 0 => escaped = true,
            b'(' if !quoted => depth += 1,
            b')' if !quoted && depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            b'"' => {
                quoted = !quoted;
                only_cfws = false;
            }
            _ if quoted => {}
            b'<' => {
                angle = true;
                only_cfws = false;
            }
            b'>' => angle = false,
            b',' | b':' | b';' if !angle => {
                element_end(&mut out, &value[start..i], only_cfws);
                out.push(b);
                (start, only_cfws) = (i + 1, true);
            }
            _ if b.is_ascii_whitespace() => {}
            _ => only_cfws = false,
        }
    }
    element_end(&mut out, &value[start..], only_cfws);
    out
}

/// Decodes the encoded words (RFC 2047) of an unstructured value.
fn decode_words(value: &[u8]) -> String {
    let buf = for_stream(value);
    match MessageStream::new(&buf).parse_unstructured() {
        HeaderValue::Text(t) => t.into_owned(),
        HeaderValue::TextList(l) => l.join(" "),
        _ => String::new(),
    }
}

/// The raw value as text, line breaks removed.
fn value_text(value: &[u8]) -> String {
    let bytes: Vec<u8> = value.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
    decode_charset(&bytes, None)
}

/// Every header field of a message as (name, decoded and unfolded value),
/// in order, until [`super::MAX_HEADERS`] bytes of values are kept.
pub(super) fn all(raw: &[u8], fields: &[Field]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut kept = 0;
    for f in fields {
        let value = decode_words(&raw[f.value.clone()]).trim().to_owned();
        kept += value.len();
        if kept > super::MAX_HEADERS {
            break;
        }
        out.push((String::from_utf8_lossy(&raw[f.name.clone()]).into_owned(), value));
    }
    out
}

pub(super) fn unfold(value: &[u8]) -> String {
    value_text(value).trim().to_owned()
}

fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut depth, mut escaped, mut quoted) = (0usize, false, false);
    for c in s.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' if depth > 0 => escaped = true,
            '\\' if quoted => {
                // Kept with its escape, for the quoted-string reader.
                escaped = true;
                out.push(c);
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Splits `value; name=token; name="quoted string"` (RFC 2045) into the
/// lower-case value and its parameters, then joins RFC 2231 continuations.
/// Lenient: junk between parameters is skipped.
pub(super) fn structured(text: &str) -> (String, Params) {
    let s = strip_comments(text);
    let mut chars = s.char_indices().peekable();
    let mut value = String::new();
    while let Some(&(_, c)) = chars.peek() {
        if c == ';' {
            break;
        }
        if !c.is_whitespace() {
            value.push(c.to_ascii_lowercase());
        }
        chars.next();
    }
    let mut params = Vec::new();
    while chars.next().is_some() {
        // Just past a ';': read "name = value".
        let mut name = String::new();
        while let Some(&(_, c)) = chars.peek() {
            if c == '=' || c == ';' {
                break;
            }
            if !c.is_whitespace() {
                name.push(c.to_ascii_lowercase());
            }
            chars.next();
        }
        if chars.peek().map(|&(_, c)| c) != Some('=') {
            continue;
        }
        chars.next();
        while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let mut v = String::new();
        if chars.peek().map(|&(_, c)| c) == Some('"') {
            chars.next();
            let mut escaped = false;
            for (_, c) in chars.by_ref() {
                if escaped {
                    v.push(c);
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    break;
                } else {
                    v.push(c);
                }
            }
            // Skip anything between the closing quote and the next ';'.
            while chars.peek().is_some_and(|&(_, c)| c != ';') {
                chars.next();
            }
        } else {
            while let Some(&(_, c)) = chars.peek() {
                if c == ';' {
                    break;
                }
                v.push(c);
                chars.next();
            }
            v = v.trim().to_owned();
        }
        if !name.is_empty() && params.len() < MAX_PARAMS {
            params.push((name, v));
        }
    }
    (value, join_continuations(params))
}

/// Joins RFC 2231 sections (`name*0`, `name*1*`...) into one parameter:
/// `name*` in extended form if any section is, else plain `name`. The first
/// parameter of a given name wins.
fn join_continuations(params: Params) -> Params {
    struct Joined {
        plain: Option<String>,
        sections: Vec<(u32, bool, String)>,
    }
    let mut order: Vec<String> = Vec::new();
    let mut by_name: HashMap<String, Joined> = HashMap::new();
    for (name, value) in params {
        let (base, section) = match name.split_once('*') {
            None => (name, None),
            Some((base, "")) => (base.to_owned(), Some((0, true))),
            Some((base, rest)) => {
                let (digits, ext) = rest.strip_suffix('*').map_or((rest, false), |d| (d, true));
                match digits.parse::<u32>() {
                    Ok(n) => (base.to_owned(), Some((n, ext))),
                    Err(_) => (name.clone(), None),
                }
            }
        };
        let entry = by_name.entry(base.clone()).or_insert_with(|| {
            order.push(base);
            Joined { plain: None, sections: Vec::new() }
        });
        match section {
            None => {
                entry.plain.get_or_insert(value);
            }
            Some((n, ext)) => entry.sections.push((n, ext, value)),
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for base in order {
        let Some(mut j) = by_name.remove(&base) else { continue };
        if let Some(plain) = j.plain {
            out.push((base.clone(), plain));
        }
        if j.sections.is_empty() {
            continue;
        }
        j.sections.sort_by_key(|s| s.0);
        j.sections.dedup_by_key(|s| s.0);
        let extended = j.sections.iter().any(|s| s.1);
        let mut value = String::new();
        for (_, ext, v) in &j.sections {
            if extended && !ext {
                // A plain section inside an extended value must be escaped.
                for b in v.bytes() {
                    if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                        value.push(b as char);
                    } else {
                        value.push_str(&format!("%{b:02X}"));
                    }
                }
            } else {
                value.push_str(v);
            }
        }
        out.push((if extended { format!("{base}*") } else { base }, value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::drop_lone_comments;

    #[test]
    fn only_lone_comments_are_dropped() {
        let dropped = |v: &str| String::from_utf8(drop_lone_comments(v.as_bytes())).unwrap();
        assert_eq!(dropped("group:;, group2: (foo) ;"), "group:;, group2: ;");
        assert_eq!(dropped("(seul), a@b (Jean)"), " , a@b (Jean)");
        assert_eq!(dropped("\"x, (y)\" <a@b>, (c (d)) , e"), "\"x, (y)\" <a@b>, , e");
        assert_eq!(dropped("<@r1,(z)@r2:a@b>"), "<@r1,(z)@r2:a@b>");
    }

    #[test]
    fn the_written_day_ignores_time_and_zone() {
        let jan_5 = 1_767_571_200;
        assert_eq!(super::written_day("Mon, 5 Jan 2026 23:30:00 -0500"), Some(jan_5));
        assert_eq!(super::written_day("5 Jan 2026 00:10 +1400 (LINT)"), Some(jan_5));
        assert_eq!(super::written_day("hier soir"), None);
    }
}
