//! The MIME structure scanner: finds every part's header block, body and end
//! in the raw bytes, with bounded depth and linear work.
//!
//! It keeps a stack of the boundaries of the multiparts it is inside. Every
//! line is looked at once, and a line starting with "--" is compared with the
//! boundaries of the stack, innermost first; a delimiter of an outer
//! multipart also ends the inner ones, which is how a missing close delimiter
//! is recovered from. Recursion follows nesting, which is capped at
//! [`MAX_DEPTH`], so the call stack stays small whatever the input.
//!
//! Both CRLF and bare LF line ends are accepted.

use super::header::{self, Field, Fields, Known};
use super::{BodyPart, MAX_DEPTH, MAX_PARTS, NestedMessage, Offsets};

/// A boundary delimiter line.
#[derive(Debug, Clone, Copy)]
struct Delim {
    /// Index in the boundary stack of the multipart it belongs to.
    level: usize,
    /// A close delimiter (`--boundary--`).
    close: bool,
    /// Where the line starts (its "--").
    start: usize,
    /// Just past its line break.
    next: usize,
}

/// A parsed entity (a message or a body part).
pub(super) struct Entity {
    pub part: BodyPart,
    /// Its header fields, for the envelope of a message.
    pub fields: Vec<Field>,
    /// The delimiter that ended it, None at the end of the input.
    stop: Option<Delim>,
}

pub(super) struct Parser<'a> {
    raw: &'a [u8],
    bounds: Vec<Vec<u8>>,
    parts: usize,
}

impl<'a> Parser<'a> {
    pub fn new(raw: &'a [u8]) -> Parser<'a> {
        Parser { raw, bounds: Vec::new(), parts: 0 }
    }

    /// Parses the whole input as one message.
    pub fn parse(mut self) -> Entity {
        self.entity(0, 0, false)
    }

    /// Just past the line break of the line at `p`, or the end of the input.
    fn line_end(&self, p: usize) -> usize {
        match self.raw[p..].iter().position(|&b| b == b'\n') {
            Some(i) => p + i + 1,
            None => self.raw.len(),
        }
    }

    /// The delimiter the line at `p` is, if any, among the first `levels`
    /// boundaries of the stack, innermost first.
    fn delimiter(&self, p: usize, levels: usize) -> Option<Delim> {
        let raw = self.raw;
        if !raw[p..].starts_with(b"--") {
            return None;
        }
        for level in (0..levels).rev() {
            let b = &self.bounds[level];
            if !raw[p + 2..].starts_with(b) {
                continue;
            }
            let mut q = p + 2 + b.len();
            let close = raw[q..].starts_with(b"--");
            if close {
                q += 2;
            }
            // Only transport padding may follow on the line.
            while q < raw.len() && matches!(raw[q], b' ' | b'\t' | b'\r') {
                q += 1;
            }
            if q < raw.len() && raw[q] != b'\n' {
                continue;
            }
            return Some(Delim { level, close, start: p, next: (q + 1).min(raw.len()) });
        }
        None
    }

    /// The first delimiter line at or after `from` (a line start) among the
    /// stack's first `levels` boundaries.
    fn scan(&self, from: usize, levels: usize) -> Option<Delim> {
        if levels == 0 {
            return None;
        }
        let mut p = from;
        while p < self.raw.len() {
            if self.raw[p] == b'-'
                && let Some(d) = self.delimiter(p, levels)
            {
                return Some(d);
            }
            p = self.line_end(p);
        }
        None
    }

    /// Where a body starting at `body_start` ends when `stop` ends it: the
    /// line break before a delimiter belongs to the delimiter.
    fn end_before(&self, body_start: usize, stop: Option<Delim>) -> usize {
        let Some(d) = stop else { return self.raw.len() };
        let mut e = d.start;
        if e > body_start && self.raw[e - 1] == b'\n' {
            e -= 1;
            if e > body_start && self.raw[e - 1] == b'\r' {
                e -= 1;
            }
        }
        e.max(body_start)
    }

    /// Reads the header block at `start`: fields until a blank line (which
    /// belongs to the block), a delimiter line, or a line that is no header
    /// field (where the body then starts, as for a message without headers).
    fn header_block(&self, start: usize) -> (Vec<Field>, usize) {
        let raw = self.raw;
        let mut fields: Vec<Field> = Vec::new();
        let mut p = start;
        while p < raw.len() {
            let e = self.line_end(p);
            let line = &raw[p..e];
            if line == b"\n" || line == b"\r\n" {
                return (fields, e);
            }
            if line[0] == b'-' && self.delimiter(p, self.bounds.len()).is_some() {
                let d = Delim { level: 0, close: false, start: p, next: e };
                return (fields, self.end_before(start, Some(d)));
            }
            if matches!(line[0], b' ' | b'\t') && !fields.is_empty() {
                if let Some(last) = fields.last_mut() {
                    last.value.end = e;
                }
            } else if let Some(colon) = field_name_len(line) {
                let name_end = line[..colon].iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
                fields.push(Field { name: p..p + name_end, value: p + colon + 1..e });
            } else {
                return (fields, p);
            }
            p = e;
        }
        (fields, raw.len())
    }

    /// Parses the entity whose header starts at `start`.
    fn entity(&mut self, start: usize, depth: usize, in_digest: bool) -> Entity {
        self.parts += 1;
        let raw = self.raw;
        let (fields, body_start) = self.header_block(start);
        let f = Fields::scan(raw, &fields);
        let mut part = BodyPart {
            encoding: f.encoding(raw),
            id: f.unfolded(raw, Known::ContentId),
            description: f.unfolded(raw, Known::ContentDescription),
            disposition: f.disposition(raw),
            language: f.language(raw),
            location: f.location(raw),
            offsets: Offsets { header_start: start, body_start, end: body_start },
            ..BodyPart::default()
        };
        match f.content_type(raw) {
            Some((t, s, params)) => (part.media_type, part.subtype, part.params) = (t, s, params),
            None if in_digest => (part.media_type, part.subtype) = ("message".into(), "rfc822".into()),
            None => {
                (part.media_type, part.subtype) = ("text".into(), "plain".into());
                part.params = vec![("charset".into(), "us-ascii".into())];
            }
        }
        part.file_name = header::file_name(part.disposition.as_ref(), &part.params);
        let is_message = part.media_type == "message" && matches!(part.subtype.as_str(), "rfc822" | "global");
        let may_descend = depth < MAX_DEPTH && self.parts < MAX_PARTS;
        if (part.media_type == "multipart" || is_message) && !may_descend {
            // Too deep (or too many parts): an opaque leaf over the same bytes.
            (part.media_type, part.subtype) = ("application".into(), "octet-stream".into());
            part.params.clear();
        }
        let stop = if part.media_type == "multipart" {
            self.multipart(&mut part, depth)
        } else if is_message && may_descend && matches!(part.encoding.as_str(), "7bit" | "8bit" | "binary") {
            self.message(&mut part, depth)
        } else {
            self.leaf(&mut part)
        };
        Entity { part, fields, stop }
    }

    fn leaf(&self, part: &mut BodyPart) -> Option<Delim> {
        let body_start = part.offsets.body_start;
        let stop = self.scan(body_start, self.bounds.len());
        self.finish(part, stop);
        stop
    }

    /// Sets the end, size and line count of a part whose body `stop` ends.
    fn finish(&self, part: &mut BodyPart, stop: Option<Delim>) {
        part.offsets.end = self.end_before(part.offsets.body_start, stop);
        part.size = part.offsets.end - part.offsets.body_start;
        if part.media_type == "text" || part.message.is_some() {
            part.lines = Some(count_lines(&self.raw[part.offsets.body()]));
        }
    }

    fn message(&mut self, part: &mut BodyPart, depth: usize) -> Option<Delim> {
        let inner = self.entity(part.offsets.body_start, depth + 1, false);
        let envelope = header::envelope(self.raw, &Fields::scan(self.raw, &inner.fields));
        part.message = Some(Box::new(NestedMessage { envelope, body: inner.part }));
        self.finish(part, inner.stop);
        inner.stop
    }

    fn multipart(&mut self, part: &mut BodyPart, depth: usize) -> Option<Delim> {
        let boundary = part.param("boundary").filter(|b| !b.is_empty()).map(|b| b.as_bytes().to_vec());
        let Some(boundary) = boundary else {
            // No boundary: nothing to split on, so the body is read as text.
            as_text(part);
            return self.leaf(part);
        };
        self.bounds.push(boundary);
        let own = self.bounds.len() - 1;
        let first = self.scan(part.offsets.body_start, own + 1);
        let mut delim = match first {
            Some(d) if d.level == own && !d.close => d,
            other => {
                // The boundary never opens a part: the body is read as text,
                // up to the next delimiter of an enclosing multipart.
                self.bounds.pop();
                as_text(part);
                let stop = match other {
                    Some(d) if d.level == own => self.scan(d.next, own),
                    other => other,
                };
                self.finish(part, stop);
                return stop;
            }
        };
        let digest = part.subtype == "digest";
        let stop = loop {
            let next = if self.parts < MAX_PARTS {
                let child = self.entity(delim.next, depth + 1, digest);
                part.children.push(child.part);
                child.stop
            } else {
                // Past the part budget the rest is skipped, not analysed.
                self.scan(delim.next, own + 1)
            };
            match next {
                Some(d) if d.level == own && !d.close => delim = d,
                Some(d) if d.level == own => {
                    // The epilogue runs to the next delimiter of an enclosing multipart.
                    self.bounds.pop();
                    break self.scan(d.next, own);
                }
                other => {
                    self.bounds.pop();
                    break other;
                }
            }
        };
        self.finish(part, stop);
        stop
    }
}

/// A multipart that cannot be split is reported as text/plain.
/// The header fields of the message's own header block, without looking at its body.
pub(super) fn top_fields(raw: &[u8]) -> Vec<Field> {
    Parser::new(raw).header_block(0).0
}

fn as_text(part: &mut BodyPart) {
    (part.media_type, part.subtype) = ("text".into(), "plain".into());
    part.params.retain(|(n, _)| n != "boundary");
}

/// The position of the colon if `line` starts a header field ("Name:" with
/// printable ASCII in the name, whitespace allowed before the colon).
fn field_name_len(line: &[u8]) -> Option<usize> {
    let name_len = line.iter().position(|&b| !(33..=126).contains(&b) || b == b':')?;
    if name_len == 0 {
        return None;
    }
    let colon = name_len + line[name_len..].iter().position(|&b| b != b' ' && b != b'\t')?;
    (line[colon] == b':').then_some(colon)
}

/// Lines of a body: its line breaks, plus one for a last line without one.
fn count_lines(body: &[u8]) -> usize {
    let breaks = body.iter().filter(|&&b| b == b'\n').count();
    breaks + usize::from(body.last().is_some_and(|&b| b != b'\n'))
}
