//! The larger grammars of the parser: FETCH items with body sections and
//! partials, and SEARCH keys.

use super::{Cursor, R};
use crate::command::*;

/// Deepest nesting of parenthesised search keys.
const MAX_SEARCH_DEPTH: usize = 32;

impl Cursor<'_> {
    pub(super) fn fetch_items(&mut self) -> R<Vec<FetchItem>> {
        if self.eat(b'(') {
            let mut items = Vec::new();
            while !self.eat(b')') {
                if !items.is_empty() {
                    self.sp()?;
                }
                items.push(self.fetch_item()?);
            }
            return Ok(items);
        }
        let save = self.i;
        let macro_items = match self.word()?.as_str() {
            "ALL" => vec![FetchItem::Flags, FetchItem::InternalDate, FetchItem::Size, FetchItem::Envelope],
            "FAST" => vec![FetchItem::Flags, FetchItem::InternalDate, FetchItem::Size],
            "FULL" => {
                vec![
                    FetchItem::Flags,
                    FetchItem::InternalDate,
                    FetchItem::Size,
                    FetchItem::Envelope,
                    FetchItem::BodyShape,
                ]
            }
            _ => {
                self.i = save;
                return Ok(vec![self.fetch_item()?]);
            }
        };
        Ok(macro_items)
    }

    fn fetch_item(&mut self) -> R<FetchItem> {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.') {
            self.i += 1;
        }
        let name = String::from_utf8_lossy(&self.s[start..self.i]).to_ascii_uppercase();
        let whole = |label| FetchItem::Section { peek: false, section: Section::default(), partial: None, label };
        Ok(match name.as_str() {
            "UID" => FetchItem::Uid,
            "FLAGS" => FetchItem::Flags,
            "INTERNALDATE" => FetchItem::InternalDate,
            "RFC822.SIZE" => FetchItem::Size,
            "ENVELOPE" => FetchItem::Envelope,
            "BODYSTRUCTURE" => FetchItem::BodyStructure,
            "MODSEQ" => FetchItem::Modseq,
            "SAVEDATE" => FetchItem::SaveDate,
            "EMAILID" => FetchItem::EmailId,
            "THREADID" => FetchItem::ThreadId,
            "RFC822" => whole(SectionLabel::Rfc822),
            "RFC822.HEADER" => FetchItem::Section {
                peek: true,
                section: Section { part: vec![], text: Some(SectionText::Header) },
                partial: None,
                label: SectionLabel::Rfc822Header,
            },
            "RFC822.TEXT" => FetchItem::Section {
                peek: false,
                section: Section { part: vec![], text: Some(SectionText::Text) },
                partial: None,
                label: SectionLabel::Rfc822Text,
            },
            "BODY" if self.peek() != Some(b'[') => FetchItem::BodyShape,
            "BODY" | "BODY.PEEK" => {
                let section = self.section()?;
                let partial = self.partial()?;
                FetchItem::Section { peek: name == "BODY.PEEK", section, partial, label: SectionLabel::Body }
            }
            "BINARY" | "BINARY.PEEK" | "BINARY.SIZE" => {
                let section = self.section()?;
                if section.text.is_some() {
                    return Err("BINARY sections are part numbers only".into());
                }
                let size = name == "BINARY.SIZE";
                let partial = if size { None } else { self.partial()? };
                let label = if size { SectionLabel::BinarySize } else { SectionLabel::Binary };
                FetchItem::Section { peek: name != "BINARY", section, partial, label }
            }
            other => return Err(format!("Unknown FETCH item {other}")),
        })
    }

    fn section(&mut self) -> R<Section> {
        self.expect(b'[', "'['")?;
        let mut section = Section::default();
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            let n = self.number()?;
            if n == 0 || n > u64::from(u32::MAX) {
                return Err("Section numbers start at 1".into());
            }
            section.part.push(n as u32);
            if !self.eat(b'.') {
                break;
            }
        }
        if self.peek() != Some(b']') {
            let word = self.word()?;
            section.text = Some(match word.as_str() {
                "HEADER" => SectionText::Header,
                "TEXT" => SectionText::Text,
                "MIME" if !section.part.is_empty() => SectionText::Mime,
                "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
                    self.sp()?;
                    self.expect(b'(', "'('")?;
                    let mut fields = Vec::new();
                    while !self.eat(b')') {
                        if !fields.is_empty() {
                            self.sp()?;
                        }
                        fields.push(self.text_astring()?);
                    }
                    SectionText::HeaderFields { not: word.ends_with(".NOT"), fields }
                }
                other => return Err(format!("Unknown section {other}")),
            });
        }
        self.expect(b']', "']'")?;
        Ok(section)
    }

    fn partial(&mut self) -> R<Option<(u32, u32)>> {
        if !self.eat(b'<') {
            return Ok(None);
        }
        let start = self.number()?;
        self.expect(b'.', "'.'")?;
        let len = self.number()?;
        self.expect(b'>', "'>'")?;
        if len == 0 || start > u64::from(u32::MAX) || len > u64::from(u32::MAX) {
            return Err("Invalid partial range".into());
        }
        Ok(Some((start as u32, len as u32)))
    }

    pub(super) fn search(&mut self, uid: bool) -> R<Body> {
        let esearch = self.return_options()?;
        let key = self.search_program(false)?;
        Ok(Body::Search { uid, key, esearch })
    }

    /// `RETURN (...) SP` before a SEARCH (RFC 4731, RFC 5182) or SORT
    /// (ESORT) program: MIN MAX ALL COUNT SAVE, and CONTEXT, UPDATE and
    /// `PARTIAL n:m` (CONTEXT=SEARCH/SORT, RFC 5267); `None` without it. An
    /// option we do not know is a BAD (RFC 4731 section 3.1), and so is a
    /// PARTIAL beside ALL or another PARTIAL (RFC 5267 section 4.4: "A
    /// single command MUST NOT contain more than one PARTIAL or ALL search
    /// return option").
    pub(super) fn return_options(&mut self) -> R<Option<ReturnOptions>> {
        let save = self.i;
        if self.word().ok().as_deref() != Some("RETURN") {
            self.i = save;
            return Ok(None);
        }
        self.sp()?;
        self.expect(b'(', "'('")?;
        let mut opts = ReturnOptions::default();
        while !self.eat(b')') {
            let _ = self.eat(b' ');
            let opt = self.word()?;
            match opt.as_str() {
                "MIN" | "MAX" | "ALL" | "COUNT" | "SAVE" => opts.items.push(opt),
                "CONTEXT" => {}
                "UPDATE" => opts.update = true,
                "PARTIAL" => {
                    self.sp()?;
                    let first = self.number()?;
                    self.expect(b':', "':'")?;
                    let last = self.number()?;
                    let (first, last) = (first.min(last), first.max(last));
                    if first == 0 || last > u64::from(u32::MAX) || opts.partial.is_some() {
                        return Err("Invalid PARTIAL range".into());
                    }
                    opts.partial = Some((first as u32, last as u32));
                }
                _ => return Err(format!("Unsupported RETURN option {opt}")),
            }
        }
        if opts.partial.is_some() && opts.has("ALL") {
            return Err("PARTIAL and ALL cannot be asked together".into());
        }
        self.sp()?;
        Ok(Some(opts))
    }

    /// `[CHARSET x SP] key *(SP key)`; SORT and THREAD require the charset.
    pub(super) fn search_program(&mut self, charset_required: bool) -> R<SearchKey> {
        let save = self.i;
        if charset_required || self.word().ok().as_deref() == Some("CHARSET") {
            if !charset_required {
                self.sp()?;
            }
            let charset = self.text_astring()?.to_ascii_uppercase();
            if charset != "UTF-8" && charset != "US-ASCII" {
                return Err(format!("[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset {charset}"));
            }
            self.sp()?;
        } else {
            self.i = save;
        }
        let mut keys = vec![self.search_key(0)?];
        while self.eat(b' ') {
            keys.push(self.search_key(0)?);
        }
        Ok(if keys.len() == 1 { keys.remove(0) } else { SearchKey::And(keys) })
    }

    fn search_key(&mut self, depth: usize) -> R<SearchKey> {
        if depth > MAX_SEARCH_DEPTH {
            return Err("Search keys nested too deeply".into());
        }
        if self.eat(b'(') {
            let mut keys = vec![self.search_key(depth + 1)?];
            while self.eat(b' ') {
                keys.push(self.search_key(depth + 1)?);
            }
            self.expect(b')', "')'")?;
            return Ok(SearchKey::And(keys));
        }
        if self.peek().is_some_and(|b| b.is_ascii_digit() || b == b'*' || b == b'$') {
            return Ok(SearchKey::Seq(self.seqset()?));
        }
        let word = self.word()?;
        let flag = |name: &str, set| SearchKey::Flag { name: name.into(), set };
        Ok(match word.as_str() {
            "ALL" => SearchKey::All,
            "SEEN" => flag("\\Seen", true),
            "UNSEEN" => flag("\\Seen", false),
            "FLAGGED" => flag("\\Flagged", true),
            "UNFLAGGED" => flag("\\Flagged", false),
            "DELETED" => flag("\\Deleted", true),
            "UNDELETED" => flag("\\Deleted", false),
            "ANSWERED" => flag("\\Answered", true),
            "UNANSWERED" => flag("\\Answered", false),
            "DRAFT" => flag("\\Draft", true),
            "UNDRAFT" => flag("\\Draft", false),
            "NEW" => SearchKey::New,
            "OLD" => SearchKey::Old,
            "RECENT" => SearchKey::Recent,
            "KEYWORD" | "UNKEYWORD" => {
                self.sp()?;
                SearchKey::Flag { name: self.atom()?, set: word == "KEYWORD" }
            }
            "FROM" | "TO" | "CC" | "BCC" | "SUBJECT" => {
                self.sp()?;
                SearchKey::Header { field: word.clone(), value: self.text_astring()? }
            }
            "HEADER" => {
                self.sp()?;
                let field = self.text_astring()?.to_ascii_uppercase();
                self.sp()?;
                SearchKey::Header { field, value: self.text_astring()? }
            }
            "TEXT" | "BODY" => {
                self.sp()?;
                SearchKey::FullText { body_only: word == "BODY", value: self.text_astring()? }
            }
            "SINCE" | "BEFORE" | "ON" | "SENTSINCE" | "SENTBEFORE" | "SENTON" => {
                self.sp()?;
                let text = self.astring()?;
                let day = crate::date::parse_date(&text).ok_or("Invalid date (expected e.g. 1-Feb-2026)")?;
                let sent = word.starts_with("SENT");
                let op = match word.trim_start_matches("SENT") {
                    "SINCE" => DateOp::Since,
                    "BEFORE" => DateOp::Before,
                    _ => DateOp::On,
                };
                SearchKey::Date { op, day, sent }
            }
            "SAVEDSINCE" | "SAVEDBEFORE" | "SAVEDON" => {
                self.sp()?;
                let text = self.astring()?;
                let day = crate::date::parse_date(&text).ok_or("Invalid date (expected e.g. 1-Feb-2026)")?;
                let op = match word.as_str() {
                    "SAVEDSINCE" => DateOp::Since,
                    "SAVEDBEFORE" => DateOp::Before,
                    _ => DateOp::On,
                };
                SearchKey::SavedDate { op, day }
            }
            "SAVEDATESUPPORTED" => SearchKey::All,
            "EMAILID" | "THREADID" => {
                self.sp()?;
                let id = self.atom()?;
                if word == "EMAILID" { SearchKey::EmailId(id) } else { SearchKey::ThreadId(id) }
            }
            "LARGER" | "SMALLER" => {
                self.sp()?;
                let n = self.number()?;
                if word == "LARGER" { SearchKey::Larger(n) } else { SearchKey::Smaller(n) }
            }
            "UID" => {
                self.sp()?;
                SearchKey::Uid(self.seqset()?)
            }
            "MODSEQ" => {
                self.sp()?;
                // RFC 7162 section 7: `search-modsequence = "MODSEQ"
                // [search-modseq-ext] SP mod-sequence-valzer`, with
                // `search-modseq-ext = SP entry-name SP entry-type-req`.
                // Modseqs are kept per message, not per flag: the entry
                // names a flag of the message, whose modseq is the message's.
                if self.peek() == Some(b'"') {
                    let entry = self.quoted()?;
                    if !entry.to_ascii_lowercase().starts_with(b"/flags/") {
                        return Err("MODSEQ entry names must be /flags/<flag>".into());
                    }
                    self.sp()?;
                    let kind = self.atom()?.to_ascii_lowercase();
                    if !matches!(kind.as_str(), "priv" | "shared" | "all") {
                        return Err("MODSEQ entry type must be priv, shared or all".into());
                    }
                    self.sp()?;
                }
                SearchKey::ModseqAbove(self.number()?)
            }
            "NOT" => {
                self.sp()?;
                SearchKey::Not(Box::new(self.search_key(depth + 1)?))
            }
            "OR" => {
                self.sp()?;
                let a = self.search_key(depth + 1)?;
                self.sp()?;
                let b = self.search_key(depth + 1)?;
                SearchKey::Or(Box::new(a), Box::new(b))
            }
            other => return Err(format!("Unknown search key {other}")),
        })
    }
}
