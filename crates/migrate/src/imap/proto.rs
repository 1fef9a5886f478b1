//! IMAP responses read without I/O: framing a response whose literals
//! (`{n}` then n bytes) are part of it, and the few response forms the
//! migration needs (LIST/LSUB, FETCH, SELECT/EXAMINE data), from RFC 9051's
//! grammar. Unknown data items are skipped, not refused.

/// Largest literal accepted from a source (a message bigger than this is
/// reported failed rather than held in memory).
pub const MAX_LITERAL: usize = 256 * 1024 * 1024;

/// What [`frame`] found at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Framed {
    /// A whole response of this many bytes (CRLF and literals included).
    Complete(usize),
    /// More bytes are needed.
    Partial,
    /// A literal announced bigger than [`MAX_LITERAL`].
    TooBig(usize),
}

/// Finds the end of the first response in `buf`.
pub fn frame(buf: &[u8]) -> Framed {
    let mut at = 0;
    loop {
        let Some(nl) = buf[at..].iter().position(|&b| b == b'\n') else { return Framed::Partial };
        let line_end = at + nl + 1;
        let line = trim_crlf(&buf[at..line_end]);
        match literal_length(line) {
            Some(n) if n > MAX_LITERAL => return Framed::TooBig(n),
            Some(n) => {
                if buf.len() < line_end + n {
                    return Framed::Partial;
                }
                at = line_end + n;
            }
            None => return Framed::Complete(line_end),
        }
    }
}

fn trim_crlf(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The length of the literal a line ends by announcing (`{12}` or `{12+}`).
fn literal_length(line: &[u8]) -> Option<usize> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = &inner[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// One token of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a> {
    /// An atom, number or flag; a `[...]` section stays inside it (`BODY[HEADER.FIELDS (X)]`).
    Atom(&'a [u8]),
    /// A quoted string, unescaped.
    Quoted(Vec<u8>),
    Literal(&'a [u8]),
    Nil,
    Open,
    Close,
}

impl Token<'_> {
    /// The bytes of a string of any form; `None` for NIL and parentheses.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Token::Atom(b) | Token::Literal(b) => Some(*b),
            Token::Quoted(b) => Some(b.as_slice()),
            _ => None,
        }
    }
}

/// Splits a framed response into tokens; `None` when it is malformed.
pub fn tokens(resp: &[u8]) -> Option<Vec<Token<'_>>> {
    let resp = trim_crlf(resp);
    let mut out = Vec::new();
    let mut i = 0;
    while i < resp.len() {
        match resp[i] {
            b' ' => i += 1,
            b'(' => {
                out.push(Token::Open);
                i += 1;
            }
            b')' => {
                out.push(Token::Close);
                i += 1;
            }
            b'"' => {
                let mut s = Vec::new();
                i += 1;
                loop {
                    match *resp.get(i)? {
                        b'"' => break,
                        b'\\' => {
                            s.push(*resp.get(i + 1)?);
                            i += 2;
                        }
                        b => {
                            s.push(b);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push(Token::Quoted(s));
            }
            b'{' => {
                let close = i + resp[i..].iter().position(|&b| b == b'}')?;
                let digits = &resp[i + 1..close];
                let digits = digits.strip_suffix(b"+").unwrap_or(digits);
                let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
                let start = close + 1 + crlf_len(&resp[close + 1..])?;
                out.push(Token::Literal(resp.get(start..start + n)?));
                i = start + n;
            }
            _ => {
                let start = i;
                let mut depth = 0usize;
                while i < resp.len() {
                    match resp[i] {
                        b'[' => depth += 1,
                        b']' => depth = depth.saturating_sub(1),
                        b' ' | b'(' | b')' | b'"' | b'{' if depth == 0 => break,
                        _ => {}
                    }
                    i += 1;
                }
                let atom = &resp[start..i];
                out.push(if atom.eq_ignore_ascii_case(b"NIL") { Token::Nil } else { Token::Atom(atom) });
            }
        }
    }
    Some(out)
}

fn crlf_len(rest: &[u8]) -> Option<usize> {
    if rest.starts_with(b"\r\n") {
        Some(2)
    } else if rest.starts_with(b"\n") {
        Some(1)
    } else {
        None
    }
}

/// A folder as LIST or LSUB gives it (name as sent: modified UTF-7 unless
/// the server speaks UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    pub attributes: Vec<String>,
    pub delimiter: Option<char>,
    pub name: String,
}

impl ListEntry {
    /// `\Noselect` or `\NonExistent`: a name with no messages of its own.
    pub fn selectable(&self) -> bool {
        !self.attributes.iter().any(|a| a.eq_ignore_ascii_case("\\Noselect") || a.eq_ignore_ascii_case("\\NonExistent"))
    }
}

/// Reads `* LIST (...) "/" name` (or LSUB).
pub fn parse_list(resp: &[u8]) -> Option<ListEntry> {
    let t = tokens(resp)?;
    if t.len() < 6 || t[0] != Token::Atom(b"*") {
        return None;
    }
    let kind = t[1].bytes()?;
    if !kind.eq_ignore_ascii_case(b"LIST") && !kind.eq_ignore_ascii_case(b"LSUB") {
        return None;
    }
    if t[2] != Token::Open {
        return None;
    }
    let mut i = 3;
    let mut attributes = Vec::new();
    while t.get(i)? != &Token::Close {
        attributes.push(String::from_utf8_lossy(t[i].bytes()?).into_owned());
        i += 1;
    }
    i += 1;
    let delimiter = match t.get(i)? {
        Token::Nil => None,
        tok => std::str::from_utf8(tok.bytes()?).ok()?.chars().next(),
    };
    let name = String::from_utf8(t.get(i + 1)?.bytes()?.to_vec()).ok()?;
    Some(ListEntry { attributes, delimiter, name })
}

/// The data items of one FETCH response the migration reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    pub uid: Option<u32>,
    pub flags: Option<Vec<String>>,
    pub internal_date: Option<String>,
    pub size: Option<u64>,
    /// `BODY[]`: the whole message.
    pub body: Option<Vec<u8>>,
    /// Any other `BODY[...]` section (the Message-ID header asked for).
    pub section: Option<Vec<u8>>,
}

/// Reads `* n FETCH (...)`.
pub fn parse_fetch(resp: &[u8]) -> Option<Fetched> {
    let t = tokens(resp)?;
    if t.len() < 4 || t[0] != Token::Atom(b"*") || !t[2].bytes()?.eq_ignore_ascii_case(b"FETCH") || t[3] != Token::Open
    {
        return None;
    }
    let mut f = Fetched::default();
    let mut i = 4;
    while let Some(tok) = t.get(i) {
        if *tok == Token::Close {
            break;
        }
        let key = tok.bytes()?.to_ascii_uppercase();
        i += 1;
        match key.as_slice() {
            b"UID" => f.uid = std::str::from_utf8(t.get(i)?.bytes()?).ok()?.parse().ok(),
            b"RFC822.SIZE" => f.size = std::str::from_utf8(t.get(i)?.bytes()?).ok()?.parse().ok(),
            b"INTERNALDATE" => f.internal_date = Some(String::from_utf8_lossy(t.get(i)?.bytes()?).into_owned()),
            b"FLAGS" => {
                if *t.get(i)? != Token::Open {
                    return None;
                }
                let mut flags = Vec::new();
                i += 1;
                while *t.get(i)? != Token::Close {
                    flags.push(String::from_utf8_lossy(t[i].bytes()?).into_owned());
                    i += 1;
                }
                f.flags = Some(flags);
            }
            k if k.starts_with(b"BODY[") => {
                let value = match t.get(i)? {
                    Token::Nil => Vec::new(),
                    v => v.bytes()?.to_vec(),
                };
                if k == b"BODY[]" { f.body = Some(value) } else { f.section = Some(value) }
            }
            _ => {}
        }
        // Skips the value (a parenthesised one whole).
        if *t.get(i)? == Token::Open {
            let mut depth = 0;
            loop {
                match t.get(i)? {
                    Token::Open => depth += 1,
                    Token::Close => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        i += 1;
    }
    Some(f)
}

/// The tagged status of a response, if it is `tag OK|NO|BAD text`.
pub fn tagged<'a>(resp: &'a [u8], tag: &str) -> Option<(&'a str, String)> {
    let line = trim_crlf(resp);
    let rest = line.strip_prefix(tag.as_bytes())?.strip_prefix(b" ")?;
    let text = String::from_utf8_lossy(rest).into_owned();
    let (word, tail) = text.split_once(' ').unwrap_or((&text, ""));
    let word = match word.to_ascii_uppercase().as_str() {
        "OK" => "OK",
        "NO" => "NO",
        "BAD" => "BAD",
        _ => return None,
    };
    Some((word, tail.to_owned()))
}

/// `* n EXISTS` gives n.
pub fn exists(resp: &[u8]) -> Option<u32> {
    let line = String::from_utf8_lossy(trim_crlf(resp)).into_owned();
    let mut words = line.split(' ');
    (words.next()? == "*").then_some(())?;
    let n = words.next()?.parse().ok()?;
    words.next()?.eq_ignore_ascii_case("EXISTS").then_some(n)
}

/// The number of a response code such as `[UIDVALIDITY 3857529045]`.
pub fn response_code(resp: &[u8], code: &str) -> Option<u64> {
    let line = String::from_utf8_lossy(trim_crlf(resp)).to_ascii_uppercase();
    let at = line.find(&format!("[{code} "))?;
    let rest = &line[at + code.len() + 2..];
    rest[..rest.find(']')?].trim().parse().ok()
}

/// An INTERNALDATE (`17-Jul-1996 02:44:25 -0700`) as unix seconds.
pub fn internal_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = text.split_once(' ')?;
    let (time, zone) = rest.trim().split_once(' ')?;
    let mut d = date.trim().split('-');
    let day: i64 = d.next()?.trim().parse().ok()?;
    let month = month_number(d.next()?)?;
    let year: i64 = d.next()?.parse().ok()?;
    let mut t = time.split(':');
    let (h, m, s): (i64, i64, i64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    let zone = zone.trim();
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if zone.len() != 5 {
        return None;
    }
    let zh: i64 = zone[1..3].parse().ok()?;
    let zm: i64 = zone[3..5].parse().ok()?;
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s - sign * (zh * 3600 + zm * 60))
}

/// The month number of an English three-letter abbreviation.
pub fn month_number(name: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name)).map(|p| p as i64 + 1)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds as an INTERNALDATE in UTC, for messages to and from tests.
pub fn format_internal_date(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{:02}-{}-{} {:02}:{:02}:{:02} +0000",
        d,
        MONTHS[(m - 1) as usize],
        y,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_responses_with_literals() {
        assert_eq!(frame(b"* OK ready\r\n* 1"), Framed::Complete(12));
        assert_eq!(frame(b"* 1 FETCH (BODY[] {5}\r\nab"), Framed::Partial);
        let full = b"* 1 FETCH (BODY[] {5}\r\nab\r\ncd UID 3)\r\nrest";
        assert_eq!(frame(full), Framed::Complete(full.len() - 4));
        assert_eq!(frame(b"* 1 FETCH (BODY[] {999999999999}\r\n"), Framed::TooBig(999_999_999_999));
    }

    #[test]
    fn reads_list_entries() {
        let e = parse_list(b"* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n").unwrap();
        assert_eq!(e.attributes, ["\\HasNoChildren", "\\Sent"]);
        assert_eq!((e.delimiter, e.name.as_str()), (Some('/'), "Sent Items"));
        let e = parse_list(b"* LIST () \".\" {7}\r\nA \"b\" c\r\n").unwrap();
        assert_eq!(e.name, "A \"b\" c");
        let e = parse_list(b"* LSUB (\\Noselect) NIL INBOX\r\n").unwrap();
        assert_eq!((e.delimiter, e.name.as_str(), e.selectable()), (None, "INBOX", false));
        assert_eq!(parse_list(b"* OK nothing\r\n"), None);
    }

    #[test]
    fn reads_fetch_items() {
        let resp = b"* 12 FETCH (UID 42 FLAGS (\\Seen $Label1) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" \
RFC822.SIZE 8 BODY[HEADER.FIELDS (MESSAGE-ID)] {3}\r\nM\r\n MODSEQ (7) BODY[] {8}\r\nab\r\n)c\r\n)\r\n";
        let f = parse_fetch(resp).unwrap();
        assert_eq!(f.uid, Some(42));
        assert_eq!(f.flags.unwrap(), ["\\Seen", "$Label1"]);
        assert_eq!(f.size, Some(8));
        assert_eq!(f.section.unwrap(), b"M\r\n");
        assert_eq!(f.body.unwrap(), b"ab\r\n)c\r\n");
        assert_eq!(internal_date(&f.internal_date.unwrap()), Some(837_596_665));
        assert_eq!(parse_fetch(b"* 3 FETCH (FLAGS ())\r\n").unwrap().flags.unwrap(), Vec::<String>::new());
    }

    #[test]
    fn reads_status_data() {
        assert_eq!(exists(b"* 23 EXISTS\r\n"), Some(23));
        assert_eq!(response_code(b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n", "UIDVALIDITY"), Some(3_857_529_045));
        assert_eq!(
            tagged(b"a1 NO [AUTHENTICATIONFAILED] nope\r\n", "a1"),
            Some(("NO", "[AUTHENTICATIONFAILED] nope".into()))
        );
        assert_eq!(tagged(b"a10 OK done\r\n", "a1"), None);
    }

    #[test]
    fn internal_dates_round_trip() {
        for t in [0, 837_596_665, 1_780_000_000, 951_782_400] {
            assert_eq!(internal_date(&format_internal_date(t)), Some(t));
        }
        assert_eq!(internal_date("31-Foo-2024 00:00:00 +0000"), None);
        assert_eq!(internal_date(" 5-Dec-2026 21:27:10 +0100"), Some(1_796_506_030 - 3600));
    }
}
