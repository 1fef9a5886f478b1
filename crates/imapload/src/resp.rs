//! Server responses, without I/O: finding where one response ends in a byte
//! buffer (literals included) and turning it into a [`Response`].
//!
//! Only what the load generator checks is parsed in depth: status responses
//! (tagged or not, with their `[CODE]`), `EXISTS`/`EXPUNGE`, `FETCH`
//! attributes and the data of `LIST`, `STATUS` and `CAPABILITY`. Everything
//! else is kept as the name and the raw rest of the line.

/// A parsed IMAP value: atom, string (quoted or literal), list or NIL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Atom(String),
    Str(Vec<u8>),
    List(Vec<Value>),
    Nil,
}

impl Value {
    /// The number in an atom, if it is one.
    pub fn number(&self) -> Option<u64> {
        match self {
            Value::Atom(a) => a.parse().ok(),
            _ => None,
        }
    }
}

/// Outcome of a status response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
    Bye,
    Preauth,
}

/// One complete server response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `TAG OK|NO|BAD [CODE] text`.
    Tagged { tag: String, status: Status, code: Option<String>, text: String },
    /// `* OK|NO|BAD|BYE|PREAUTH [CODE] text`.
    State { status: Status, code: Option<String>, text: String },
    /// `* n EXISTS`.
    Exists(u32),
    /// `* n EXPUNGE`.
    Expunge(u32),
    /// `* n FETCH (name value ...)`, names upper-cased.
    Fetch(u32, Vec<(String, Value)>),
    /// Any other untagged data: its name (upper-cased) and parsed values.
    Data(String, Vec<Value>),
    /// `+ text`.
    Continue,
}

/// Why a response could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unparsable response: {}", self.0)
    }
}

impl std::error::Error for ParseError {}

/// Length of the first complete response in `buf` (CRLF and literals
/// included), or `None` when more bytes are needed.
pub fn frame(buf: &[u8]) -> Option<usize> {
    let mut pos = 0;
    loop {
        let eol = buf[pos..].windows(2).position(|w| w == b"\r\n")? + pos;
        let line = &buf[pos..eol];
        match literal_len(line) {
            Some(n) => {
                pos = eol + 2 + n;
                if pos > buf.len() {
                    return None;
                }
            }
            None => return Some(eol + 2),
        }
    }
}

/// The `n` of a line ending in `{n}` (or `{n+}`).
fn literal_len(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = body[open + 1..].strip_suffix(b"+").unwrap_or(&body[open + 1..]);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Parses one framed response (as returned by [`frame`]).
pub fn parse(raw: &[u8]) -> Result<Response, ParseError> {
    let err = || ParseError(String::from_utf8_lossy(&raw[..raw.len().min(120)]).into_owned());
    let raw = raw.strip_suffix(b"\r\n").ok_or_else(err)?;
    if raw.first() == Some(&b'+') {
        return Ok(Response::Continue);
    }
    let (tag, rest) = split_word(raw);
    let (word, rest) = split_word(rest);
    let word_up = String::from_utf8_lossy(word).to_ascii_uppercase();
    if tag != b"*" {
        let status = status_of(&word_up).ok_or_else(err)?;
        let (code, text) = code_and_text(rest);
        let tag = String::from_utf8_lossy(tag).into_owned();
        return Ok(Response::Tagged { tag, status, code, text });
    }
    if let Some(status) = status_of(&word_up) {
        let (code, text) = code_and_text(rest);
        return Ok(Response::State { status, code, text });
    }
    if let Ok(n) = word_up.parse::<u32>() {
        let (kind, rest) = split_word(rest);
        return match kind.to_ascii_uppercase().as_slice() {
            b"EXISTS" => Ok(Response::Exists(n)),
            b"EXPUNGE" => Ok(Response::Expunge(n)),
            b"FETCH" => match values(rest).map_err(|_| err())?.as_slice() {
                [Value::List(items)] => Ok(Response::Fetch(n, pairs(items).ok_or_else(err)?)),
                _ => Err(err()),
            },
            other => Ok(Response::Data(String::from_utf8_lossy(other).into_owned(), vec![Value::Atom(n.to_string())])),
        };
    }
    // Free text (CAPABILITY atoms, LIST, STATUS...) parses as values; a
    // response we do not check may keep its raw text instead.
    let vals = values(rest).unwrap_or_else(|_| vec![Value::Str(rest.to_vec())]);
    Ok(Response::Data(word_up, vals))
}

fn status_of(word: &str) -> Option<Status> {
    Some(match word {
        "OK" => Status::Ok,
        "NO" => Status::No,
        "BAD" => Status::Bad,
        "BYE" => Status::Bye,
        "PREAUTH" => Status::Preauth,
        _ => return None,
    })
}

fn split_word(s: &[u8]) -> (&[u8], &[u8]) {
    match s.iter().position(|&b| b == b' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &[]),
    }
}

/// `[CODE args] text` -> (Some("CODE args"), "text").
fn code_and_text(rest: &[u8]) -> (Option<String>, String) {
    let s = String::from_utf8_lossy(rest).into_owned();
    if let Some(inner) = s.strip_prefix('[')
        && let Some(end) = inner.find(']')
    {
        return (Some(inner[..end].to_owned()), inner[end + 1..].trim_start().to_owned());
    }
    (None, s)
}

/// FETCH items: alternating names and values.
fn pairs(items: &[Value]) -> Option<Vec<(String, Value)>> {
    let mut out = Vec::new();
    let mut it = items.iter();
    while let Some(name) = it.next() {
        let Value::Atom(name) = name else { return None };
        out.push((name.to_ascii_uppercase(), it.next()?.clone()));
    }
    Some(out)
}

/// Parses a sequence of values separated by spaces.
pub fn values(s: &[u8]) -> Result<Vec<Value>, ParseError> {
    let mut p = Parser { s, pos: 0 };
    let mut out = Vec::new();
    p.skip_spaces();
    while p.pos < s.len() {
        out.push(p.value()?);
        p.skip_spaces();
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn fail<T>(&self, what: &str) -> Result<T, ParseError> {
        Err(ParseError(format!("{what} at byte {}", self.pos)))
    }

    fn skip_spaces(&mut self) {
        while self.s.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        match self.s.get(self.pos) {
            Some(b'(') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_spaces();
                    match self.s.get(self.pos) {
                        Some(b')') => {
                            self.pos += 1;
                            return Ok(Value::List(items));
                        }
                        Some(_) => items.push(self.value()?),
                        None => return self.fail("unclosed list"),
                    }
                }
            }
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(),
            Some(_) => self.atom(),
            None => self.fail("missing value"),
        }
    }

    fn quoted(&mut self) -> Result<Value, ParseError> {
        let mut out = Vec::new();
        self.pos += 1;
        while let Some(&b) = self.s.get(self.pos) {
            self.pos += 1;
            match b {
                b'"' => return Ok(Value::Str(out)),
                b'\\' => {
                    out.push(*self.s.get(self.pos).unwrap_or(&b'\\'));
                    self.pos += 1;
                }
                _ => out.push(b),
            }
        }
        self.fail("unclosed quoted string")
    }

    fn literal(&mut self) -> Result<Value, ParseError> {
        let Some(close) = self.s[self.pos..].iter().position(|&b| b == b'}') else {
            return self.fail("bad literal");
        };
        let Some(n) = literal_len(&self.s[self.pos..self.pos + close + 1]) else {
            return self.fail("bad literal length");
        };
        let start = self.pos + close + 3; // past "}\r\n"
        if self.s.get(start - 2..start) != Some(b"\r\n") || start + n > self.s.len() {
            return self.fail("short literal");
        }
        self.pos = start + n;
        Ok(Value::Str(self.s[start..start + n].to_vec()))
    }

    /// An atom; a `[...]` part (section of `BODY[HEADER.FIELDS (A B)]`)
    /// belongs to it, spaces and parentheses included.
    fn atom(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let mut depth = 0;
        while let Some(&b) = self.s.get(self.pos) {
            match b {
                b'[' => depth += 1,
                b']' => depth -= 1,
                b' ' | b'(' | b')' if depth == 0 => break,
                _ => {}
            }
            self.pos += 1;
        }
        if self.pos == start {
            return self.fail("empty atom");
        }
        let atom = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        Ok(if atom.eq_ignore_ascii_case("NIL") { Value::Nil } else { Value::Atom(atom) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Response {
        let b = s.as_bytes();
        assert_eq!(frame(b), Some(b.len()), "frame of {s:?}");
        parse(b).unwrap()
    }

    #[test]
    fn frames_wait_for_crlf_and_literals() {
        assert_eq!(frame(b"* 3 EXISTS\r"), None);
        assert_eq!(frame(b"* 3 EXISTS\r\n* 4"), Some(12));
        let lit = b"* 1 FETCH (BODY[] {5}\r\nab\r\nc UID 7)\r\nrest";
        assert_eq!(frame(&lit[..20]), None);
        assert_eq!(frame(&lit[..lit.len() - 4]), Some(lit.len() - 4));
        // Literal bytes that look like "{2}" followed by CRLF are data, not a new literal.
        let tricky = b"* 1 FETCH (BODY[] {5}\r\na{2}\r\n UID 1)\r\n";
        assert_eq!(frame(tricky), Some(tricky.len()));
    }

    #[test]
    fn tagged_and_untagged_status_with_codes() {
        assert_eq!(
            one("a12 OK [APPENDUID 1700 42] APPEND completed\r\n"),
            Response::Tagged {
                tag: "a12".into(),
                status: Status::Ok,
                code: Some("APPENDUID 1700 42".into()),
                text: "APPEND completed".into()
            }
        );
        assert_eq!(
            one("* OK [UIDVALIDITY 3] UIDs valid\r\n"),
            Response::State { status: Status::Ok, code: Some("UIDVALIDITY 3".into()), text: "UIDs valid".into() }
        );
        assert!(matches!(one("a1 no Mailbox (doesn't exist)\r\n"), Response::Tagged { status: Status::No, .. }));
        assert!(matches!(one("* BYE Logging out\r\n"), Response::State { status: Status::Bye, .. }));
        assert_eq!(one("+ Ready\r\n"), Response::Continue);
    }

    #[test]
    fn exists_expunge_and_fetch_items() {
        assert_eq!(one("* 18 EXISTS\r\n"), Response::Exists(18));
        assert_eq!(one("* 3 expunge\r\n"), Response::Expunge(3));
        let r = one(
            "* 2 FETCH (UID 9 FLAGS (\\Seen $Load3) RFC822.SIZE 44 BODY[HEADER.FIELDS (FROM TO)] {4}\r\nab\r\n)\r\n",
        );
        let Response::Fetch(2, items) = r else { panic!("{r:?}") };
        assert_eq!(items[0], ("UID".into(), Value::Atom("9".into())));
        assert_eq!(
            items[1],
            ("FLAGS".into(), Value::List(vec![Value::Atom("\\Seen".into()), Value::Atom("$Load3".into())]))
        );
        assert_eq!(items[2].1.number(), Some(44));
        assert_eq!(items[3], ("BODY[HEADER.FIELDS (FROM TO)]".into(), Value::Str(b"ab\r\n".to_vec())));
    }

    #[test]
    fn envelopes_with_nil_and_escapes() {
        let r =
            one("* 1 FETCH (ENVELOPE (\"Mon, 1 Jan 2024\" \"a \\\"b\\\"\" ((NIL NIL \"x\" \"y.fr\")) NIL) UID 1)\r\n");
        let Response::Fetch(1, items) = r else { panic!() };
        let Value::List(env) = &items[0].1 else { panic!() };
        assert_eq!(env[1], Value::Str(b"a \"b\"".to_vec()));
        assert_eq!(env[3], Value::Nil);
    }

    #[test]
    fn list_status_and_capability_data() {
        let Response::Data(name, v) = one("* LIST (\\HasNoChildren) \"/\" INBOX\r\n") else { panic!() };
        assert_eq!((name.as_str(), &v[2]), ("LIST", &Value::Atom("INBOX".into())));
        let Response::Data(name, v) = one("* STATUS \"INBOX\" (MESSAGES 3 UNSEEN 1 RECENT 0)\r\n") else { panic!() };
        assert_eq!(name, "STATUS");
        assert_eq!(
            v[1],
            Value::List(["MESSAGES", "3", "UNSEEN", "1", "RECENT", "0"].map(|a| Value::Atom(a.into())).to_vec())
        );
        let Response::Data(_, caps) = one("* CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS\r\n") else { panic!() };
        assert!(caps.contains(&Value::Atom("LITERAL+".into())));
    }

    #[test]
    fn malformed_responses_are_errors() {
        assert!(parse(b"a1 MAYBE fine\r\n").is_err());
        assert!(parse(b"* 1 FETCH (UID\r\n").is_err());
        assert!(parse(b"* 1 FETCH (UID 1 FLAGS)\r\n").is_err());
        assert!(parse(b"no crlf").is_err());
    }
}
