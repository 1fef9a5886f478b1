//! Parsing one complete command (as framed by the reader) into a
//! [`Command`]. Errors carry the tag, when one was read, and a text that
//! tells the client what was wrong.

mod ext;
mod items;
mod notify;

use crate::command::*;
use crate::seqset::SeqSet;

/// A command that could not be parsed: answer `<tag> BAD <text>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub tag: String,
    pub text: String,
}

/// Characters allowed in a tag: ASTRING-CHAR but `+`.
pub fn is_tag_char(b: u8) -> bool {
    is_astring_char(b) && b != b'+'
}

fn is_atom_char(b: u8) -> bool {
    b > 0x20 && b < 0x7f && !b"(){%*\"\\]".contains(&b)
}

fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// Parses a command framed by [`crate::reader::Reader`].
pub fn parse_command(input: &[u8]) -> Result<Command, ParseError> {
    let mut c = Cursor { s: input, i: 0 };
    let tag_end = input.iter().position(|&b| !is_tag_char(b)).unwrap_or(input.len());
    if tag_end == 0 {
        return Err(ParseError { tag: "*".into(), text: "Missing or invalid tag".into() });
    }
    let tag = String::from_utf8_lossy(&input[..tag_end]).into_owned();
    c.i = tag_end;
    let body = c.command().map_err(|text| ParseError { tag: tag.clone(), text })?;
    Ok(Command { tag, body })
}

type R<T> = Result<T, String>;

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, b: u8, what: &str) -> R<()> {
        if self.eat(b) {
            Ok(())
        } else if self.at_end() {
            Err(format!("Unexpected end of command: expected {what} (unbalanced parentheses?)"))
        } else {
            Err(format!("Expected {what} at byte {}", self.i))
        }
    }

    fn sp(&mut self) -> R<()> {
        self.expect(b' ', "a space")
    }

    fn at_end(&self) -> bool {
        matches!(&self.s[self.i..], b"\r\n" | b"\n")
    }

    fn end(&mut self) -> R<()> {
        if self.at_end() { Ok(()) } else { Err(format!("Unexpected text at byte {}", self.i)) }
    }

    fn atom(&mut self) -> R<String> {
        let start = self.i;
        while self.peek().is_some_and(is_atom_char) {
            self.i += 1;
        }
        if start == self.i {
            return Err(format!("Expected an atom at byte {start}"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// An atom, upper-cased, for keywords.
    fn word(&mut self) -> R<String> {
        Ok(self.atom()?.to_ascii_uppercase())
    }

    fn number(&mut self) -> R<u64> {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = &self.s[start..self.i];
        if digits.is_empty() || digits.len() > 19 {
            return Err(format!("Expected a number at byte {start}"));
        }
        std::str::from_utf8(digits).ok().and_then(|d| d.parse().ok()).ok_or_else(|| "Number too large".into())
    }

    fn string(&mut self) -> R<Vec<u8>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(),
            Some(b'~') if self.s.get(self.i + 1) == Some(&b'{') => {
                self.i += 1;
                self.literal()
            }
            _ => Err(format!("Expected a string at byte {}", self.i)),
        }
    }

    fn quoted(&mut self) -> R<Vec<u8>> {
        self.expect(b'"', "a quote")?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\r') | Some(b'\n') => return Err("Unterminated quoted string".into()),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(b @ (b'"' | b'\\')) => out.push(b),
                        _ => return Err("Invalid escape in quoted string".into()),
                    }
                    self.i += 1;
                }
                Some(b) => {
                    out.push(b);
                    self.i += 1;
                }
            }
        }
    }

    fn literal(&mut self) -> R<Vec<u8>> {
        self.expect(b'{', "a literal")?;
        let n = self.number()? as usize;
        let _ = self.eat(b'+') || self.eat(b'-');
        self.expect(b'}', "'}'")?;
        let _ = self.eat(b'\r');
        self.expect(b'\n', "a line break after the literal length")?;
        if self.s.len() - self.i < n {
            return Err("Truncated literal".into());
        }
        let out = self.s[self.i..self.i + n].to_vec();
        self.i += n;
        Ok(out)
    }

    fn astring(&mut self) -> R<Vec<u8>> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            // `~` starts a literal8 only before `{`; elsewhere it is an
            // ATOM-CHAR like any other (`~foo` is an atom).
            Some(b'~') if self.s.get(self.i + 1) == Some(&b'{') => self.string(),
            _ => {
                let start = self.i;
                while self.peek().is_some_and(is_astring_char) {
                    self.i += 1;
                }
                if start == self.i {
                    return Err(format!("Expected a string at byte {start}"));
                }
                Ok(self.s[start..self.i].to_vec())
            }
        }
    }

    fn text_astring(&mut self) -> R<String> {
        String::from_utf8(self.astring()?).map_err(|_| "Invalid UTF-8 in string".into())
    }

    fn mailbox(&mut self) -> R<RawName> {
        self.astring().map(RawName)
    }

    /// A LIST pattern: atom characters plus `%`, `*` and `]`, or a string.
    fn list_pattern(&mut self) -> R<RawName> {
        if matches!(self.peek(), Some(b'"' | b'{')) {
            return self.string().map(RawName);
        }
        let start = self.i;
        while self.peek().is_some_and(|b| is_astring_char(b) || b == b'%' || b == b'*') {
            self.i += 1;
        }
        if start == self.i {
            return Err(format!("Expected a mailbox pattern at byte {start}"));
        }
        Ok(RawName(self.s[start..self.i].to_vec()))
    }

    fn seqset(&mut self) -> R<SeqSet> {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit() || b":,*$".contains(&b)) {
            self.i += 1;
        }
        SeqSet::parse(&self.s[start..self.i]).ok_or_else(|| format!("Invalid sequence set at byte {start}"))
    }

    fn flag(&mut self) -> R<String> {
        if self.eat(b'\\') {
            if self.eat(b'*') {
                return Ok("\\*".into());
            }
            return Ok(format!("\\{}", self.atom()?));
        }
        self.atom()
    }

    fn flag_list(&mut self) -> R<Vec<String>> {
        self.expect(b'(', "'('")?;
        let mut out = Vec::new();
        while !self.eat(b')') {
            if !out.is_empty() {
                self.sp()?;
            }
            out.push(self.flag()?);
        }
        Ok(out)
    }

    fn command(&mut self) -> R<Body> {
        self.sp()?;
        let name = self.word()?;
        let body = match name.as_str() {
            "CAPABILITY" => Body::Capability,
            "NOOP" => Body::Noop,
            "LOGOUT" => Body::Logout,
            "STARTTLS" => Body::StartTls,
            "CHECK" => Body::Check,
            "CLOSE" => Body::Close,
            "UNSELECT" => Body::Unselect,
            "IDLE" => Body::Idle,
            "NAMESPACE" => Body::Namespace,
            "EXPUNGE" => Body::Expunge { uids: None },
            "ID" => {
                // The client's identification is not used: skip it.
                self.i = self.s.len() - if self.s.ends_with(b"\r\n") { 2 } else { 1 };
                Body::Id
            }
            "LOGIN" => {
                self.sp()?;
                let user = self.text_astring()?;
                self.sp()?;
                let password = self.text_astring()?;
                Body::Login { user, password }
            }
            "AUTHENTICATE" => {
                self.sp()?;
                let mechanism = self.word()?;
                let initial = if self.eat(b' ') {
                    let start = self.i;
                    while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)) {
                        self.i += 1;
                    }
                    Some(self.s[start..self.i].to_vec())
                } else {
                    None
                };
                Body::Authenticate { mechanism, initial }
            }
            "NOTIFY" => {
                self.sp()?;
                match self.word()?.as_str() {
                    "NONE" => Body::Notify(None),
                    "SET" => Body::Notify(Some(self.notify_set()?)),
                    other => return Err(format!("Expected SET or NONE after NOTIFY, not {other}")),
                }
            }
            "CANCELUPDATE" => {
                // RFC 5267 section 5: "CANCELUPDATE" 1*(SP quoted)
                let mut tags = Vec::new();
                while self.eat(b' ') {
                    let tag = self.quoted()?;
                    tags.push(String::from_utf8(tag).map_err(|_| "Invalid tag".to_string())?);
                }
                if tags.is_empty() {
                    return Err("CANCELUPDATE needs at least one quoted tag".into());
                }
                Body::CancelUpdate(tags)
            }
            "ENABLE" => {
                let mut caps = Vec::new();
                while self.eat(b' ') {
                    caps.push(self.word()?);
                }
                if caps.is_empty() {
                    return Err("ENABLE needs at least one capability".into());
                }
                Body::Enable(caps)
            }
            "SELECT" | "EXAMINE" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                let (mut condstore, mut qresync) = (false, None);
                if self.eat(b' ') {
                    self.expect(b'(', "'('")?;
                    while !self.eat(b')') {
                        let _ = self.eat(b' ');
                        match self.word()?.as_str() {
                            "CONDSTORE" => condstore = true,
                            "QRESYNC" => qresync = Some(self.qresync_param()?),
                            other => return Err(format!("Unsupported SELECT parameter {other}")),
                        }
                    }
                }
                Body::Select { mailbox, read_only: name == "EXAMINE", condstore, qresync }
            }
            "CREATE" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                let mut special_use = Vec::new();
                if self.eat(b' ') {
                    self.expect(b'(', "'('")?;
                    if self.word()? != "USE" {
                        return Err("Only the USE parameter of CREATE is supported".into());
                    }
                    self.sp()?;
                    special_use = self.flag_list()?;
                    self.expect(b')', "')'")?;
                }
                Body::Create { mailbox, special_use }
            }
            "DELETE" | "SUBSCRIBE" | "UNSUBSCRIBE" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                match name.as_str() {
                    "DELETE" => Body::Delete(mailbox),
                    "SUBSCRIBE" => Body::Subscribe(mailbox),
                    _ => Body::Unsubscribe(mailbox),
                }
            }
            "RENAME" => {
                self.sp()?;
                let from = self.mailbox()?;
                self.sp()?;
                let to = self.mailbox()?;
                Body::Rename { from, to }
            }
            "LIST" | "LSUB" => self.list(name == "LSUB")?,
            "STATUS" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                self.sp()?;
                let items = self.status_items()?;
                Body::Status { mailbox, items }
            }
            "APPEND" => self.append()?,
            "FETCH" | "STORE" | "COPY" | "MOVE" | "SEARCH" => self.message_command(&name, false)?,
            "UID" => {
                self.sp()?;
                let sub = self.word()?;
                match sub.as_str() {
                    "FETCH" | "STORE" | "COPY" | "MOVE" | "SEARCH" => self.message_command(&sub, true)?,
                    "SORT" | "THREAD" => self.sort_or_thread(&sub, true)?,
                    "EXPUNGE" => {
                        self.sp()?;
                        Body::Expunge { uids: Some(self.seqset()?) }
                    }
                    other => return Err(format!("Unknown UID command {other}")),
                }
            }
            other => match self.ext_command(other)? {
                Some(body) => body,
                None => return Err(format!("Unknown command {other}")),
            },
        };
        self.end()?;
        Ok(body)
    }

    fn list(&mut self, lsub: bool) -> R<Body> {
        self.sp()?;
        let mut options = ListOptions { subscribed: lsub, return_subscribed: lsub, ..ListOptions::default() };
        if !lsub && self.eat(b'(') {
            while !self.eat(b')') {
                let _ = self.eat(b' ');
                match self.word()?.as_str() {
                    "SUBSCRIBED" => {
                        options.subscribed = true;
                        options.return_subscribed = true;
                    }
                    "SPECIAL-USE" => options.special_use = true,
                    "RECURSIVEMATCH" => options.recursive = true,
                    "REMOTE" => {}
                    other => return Err(format!("Unsupported LIST selection option {other}")),
                }
            }
            // RFC 5258 section 3.1: RECURSIVEMATCH alone (or with REMOTE)
            // selects nothing to recurse on and is a syntax error.
            if options.recursive && !options.subscribed && !options.special_use {
                return Err("RECURSIVEMATCH needs another selection option".into());
            }
            self.sp()?;
        }
        let reference = self.mailbox()?;
        self.sp()?;
        let mut patterns = Vec::new();
        if !lsub && self.eat(b'(') {
            while !self.eat(b')') {
                let _ = self.eat(b' ');
                patterns.push(self.list_pattern()?);
            }
        } else {
            patterns.push(self.list_pattern()?);
        }
        let mut status = Vec::new();
        if !lsub && self.eat(b' ') {
            if self.word()? != "RETURN" {
                return Err("Expected RETURN".into());
            }
            self.sp()?;
            self.expect(b'(', "'('")?;
            while !self.eat(b')') {
                let _ = self.eat(b' ');
                match self.word()?.as_str() {
                    "SUBSCRIBED" => options.return_subscribed = true,
                    // Children and special uses are always returned.
                    "CHILDREN" | "SPECIAL-USE" => {}
                    "STATUS" => {
                        self.sp()?;
                        status = self.status_items()?;
                    }
                    other => return Err(format!("Unsupported LIST return option {other}")),
                }
            }
        }
        Ok(Body::List { reference, patterns, options, lsub, status })
    }

    fn status_items(&mut self) -> R<Vec<StatusItem>> {
        self.expect(b'(', "'('")?;
        let mut items = Vec::new();
        while !self.eat(b')') {
            if !items.is_empty() {
                self.sp()?;
            }
            items.push(match self.word()?.as_str() {
                "MESSAGES" => StatusItem::Messages,
                "UIDNEXT" => StatusItem::UidNext,
                "UIDVALIDITY" => StatusItem::UidValidity,
                "UNSEEN" => StatusItem::Unseen,
                "DELETED" => StatusItem::Deleted,
                "SIZE" => StatusItem::Size,
                "HIGHESTMODSEQ" => StatusItem::HighestModseq,
                "RECENT" => StatusItem::Recent,
                "MAILBOXID" => StatusItem::MailboxId,
                other => return Err(format!("Unknown STATUS item {other}")),
            });
        }
        Ok(items)
    }

    fn append(&mut self) -> R<Body> {
        self.sp()?;
        let mailbox = self.mailbox()?;
        let AppendItem { flags, date, message, catenate } = self.append_item()?;
        let mut more = Vec::new();
        while self.peek() == Some(b' ') {
            more.push(self.append_item()?);
        }
        Ok(Body::Append { mailbox, flags, date, message, catenate, more })
    }

    /// ` [flags] [date] literal`.
    fn append_item(&mut self) -> R<AppendItem> {
        self.sp()?;
        let mut flags = Vec::new();
        if self.peek() == Some(b'(') {
            flags = self.flag_list()?;
            self.sp()?;
        }
        let mut date = None;
        if self.peek() == Some(b'"') {
            let text = self.quoted()?;
            date = Some(crate::date::parse_date_time(&text).ok_or("Invalid APPEND date-time")?);
            self.sp()?;
        }
        // RFC 6855 section 4 (UTF8=ACCEPT): `append-data =/ "UTF8" SP "("
        // literal8 ")"`, a message whose header may be in UTF-8.
        if matches!(self.peek(), Some(b'U' | b'u')) {
            if self.word()? != "UTF8" {
                return Err("Expected a literal, or UTF8 (literal8)".into());
            }
            self.sp()?;
            self.expect(b'(', "'('")?;
            self.expect(b'~', "a literal8")?;
            let message = self.literal()?;
            self.expect(b')', "')'")?;
            return Ok(AppendItem { flags, date, message, catenate: None });
        }
        // RFC 4469: `"CATENATE" SP "(" cat-part *(SP cat-part) ")"`.
        if matches!(self.peek(), Some(b'C' | b'c')) {
            if self.word()? != "CATENATE" {
                return Err("Expected a literal, or CATENATE".into());
            }
            self.sp()?;
            self.expect(b'(', "'('")?;
            let mut parts = Vec::new();
            loop {
                let part = match self.word()?.as_str() {
                    "TEXT" => {
                        self.sp()?;
                        let _ = self.eat(b'~');
                        CatPart::Text(self.literal()?)
                    }
                    "URL" => {
                        self.sp()?;
                        CatPart::Url(self.text_astring()?)
                    }
                    other => return Err(format!("Unknown CATENATE part {other}")),
                };
                parts.push(part);
                if self.eat(b')') {
                    break;
                }
                self.sp()?;
            }
            return Ok(AppendItem { flags, date, message: Vec::new(), catenate: Some(parts) });
        }
        // A literal8 (BINARY): the message may hold NUL bytes.
        let _ = self.eat(b'~');
        let message = self.literal()?;
        Ok(AppendItem { flags, date, message, catenate: None })
    }

    fn message_command(&mut self, name: &str, uid: bool) -> R<Body> {
        self.sp()?;
        if name == "SEARCH" {
            return self.search(uid);
        }
        let set = self.seqset()?;
        self.sp()?;
        Ok(match name {
            "FETCH" => {
                let items = self.fetch_items()?;
                let (mut changed_since, mut vanished) = (None, false);
                if self.eat(b' ') {
                    self.expect(b'(', "'('")?;
                    while !self.eat(b')') {
                        let _ = self.eat(b' ');
                        match self.word()?.as_str() {
                            "CHANGEDSINCE" => {
                                self.sp()?;
                                changed_since = Some(self.number()?);
                            }
                            "VANISHED" => vanished = true,
                            other => return Err(format!("Unsupported FETCH modifier {other}")),
                        }
                    }
                    if vanished && (!uid || changed_since.is_none()) {
                        return Err("VANISHED needs UID FETCH with CHANGEDSINCE".into());
                    }
                }
                Body::Fetch { uid, set, items, changed_since, vanished }
            }
            "STORE" => {
                let mut unchanged_since = None;
                if self.eat(b'(') {
                    if self.word()? != "UNCHANGEDSINCE" {
                        return Err("Only the UNCHANGEDSINCE modifier of STORE is supported".into());
                    }
                    self.sp()?;
                    unchanged_since = Some(self.number()?);
                    self.expect(b')', "')'")?;
                    self.sp()?;
                }
                let mode = if self.eat(b'+') {
                    StoreMode::Add
                } else if self.eat(b'-') {
                    StoreMode::Remove
                } else {
                    StoreMode::Replace
                };
                let silent = match self.word()?.as_str() {
                    "FLAGS" => false,
                    "FLAGS.SILENT" => true,
                    other => return Err(format!("Unknown STORE item {other}")),
                };
                self.sp()?;
                let flags = if self.peek() == Some(b'(') {
                    self.flag_list()?
                } else {
                    let mut flags = vec![self.flag()?];
                    while self.eat(b' ') {
                        flags.push(self.flag()?);
                    }
                    flags
                };
                Body::Store { uid, set, mode, silent, flags, unchanged_since }
            }
            _ => Body::Copy { uid, set, mailbox: self.mailbox()?, moving: name == "MOVE" },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Body {
        parse_command(text.as_bytes()).unwrap().body
    }

    #[test]
    fn commands_parse_into_plain_data() {
        assert_eq!(
            body("a LOGIN \"claire\\\"x\" {3}\r\npw!\r\n"),
            Body::Login { user: "claire\"x".into(), password: "pw!".into() }
        );
        let Body::Fetch { uid: true, items, .. } =
            body("t UID FETCH 1:* (FLAGS BODY.PEEK[1.2.HEADER.FIELDS.NOT (To Cc)]<0.100>)\r\n")
        else {
            panic!()
        };
        assert_eq!(items[0], FetchItem::Flags);
        let FetchItem::Section { peek: true, section, partial: Some((0, 100)), .. } = &items[1] else { panic!() };
        assert_eq!(section.part, vec![1, 2]);
        assert_eq!(section.text, Some(SectionText::HeaderFields { not: true, fields: vec!["To".into(), "Cc".into()] }));
        let Body::Search { key, .. } = body("s SEARCH CHARSET UTF-8 OR FROM paul NOT SEEN 2:4\r\n") else { panic!() };
        let SearchKey::And(keys) = key else { panic!() };
        assert_eq!(keys.len(), 2);
        assert!(matches!(&keys[0], SearchKey::Or(..)));
        let Body::Append { flags, date, message, .. } =
            body("a APPEND Brouillons (\\Draft) \"05-Mar-2026 10:00:00 +0100\" {2+}\r\nhi\r\n")
        else {
            panic!()
        };
        assert_eq!((flags, date, message), (vec!["\\Draft".to_owned()], Some(1_772_701_200), b"hi".to_vec()));
    }

    #[test]
    fn malformed_commands_say_why() {
        for (input, text) in [
            ("a FETCH 1 (FLAGS\r\n", "unbalanced parentheses"),
            ("a SEARCH ((((((((((((((((((((((((((((((((((ALL\r\n", "nested too deeply"),
            ("a LOGIN \"unterminated\r\n", "Unterminated"),
            ("a SELECT {10}\r\nabc\r\n", "Truncated literal"),
            ("a SEARCH CHARSET KOI8-R ALL\r\n", "BADCHARSET"),
            ("+ NOOP\r\n", "tag"),
        ] {
            let e = parse_command(input.as_bytes()).unwrap_err();
            assert!(e.text.contains(text), "{input:?}: {}", e.text);
        }
    }
}
