//! Readable content: which parts are the body and which are attachments, the
//! decoded text of the body (for the index and the preview), and the
//! decoders this needs (transfer encodings, charsets, HTML to text).

use std::borrow::Cow;

use mail_parser::decoders::charsets::map::charset_decoder;

use super::{AttachmentInfo, BodyPart, MAX_TEXT, PREVIEW_CHARS};

/// Most encoded bytes of one part decoded for its text: [`MAX_TEXT`] of text
/// never needs more, even quoted-printable or wrapped in HTML.
const MAX_DECODE: usize = 4 * MAX_TEXT;

/// What the webmail and the index get from the body parts.
pub(super) struct Content {
    pub preview: String,
    pub text: String,
    pub attachments: Vec<AttachmentInfo>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parent {
    None,
    Mixed,
    Alternative,
    Related,
}

#[derive(Clone, Copy)]
struct Ctx {
    /// Collect the text of readable parts met below.
    collect: bool,
    /// List the attachments met below (not those of attached messages).
    list: bool,
    /// Below an attached message.
    nested: bool,
    parent: Parent,
}

struct Piece {
    html: bool,
    nested: bool,
    text: String,
}

struct Walker<'a> {
    raw: &'a [u8],
    pieces: Vec<Piece>,
    collected: usize,
    attachments: Vec<AttachmentInfo>,
}

impl Content {
    pub fn collect(raw: &[u8], root: &BodyPart) -> Content {
        let mut w = Walker { raw, pieces: Vec::new(), collected: 0, attachments: Vec::new() };
        let ctx = Ctx { collect: true, list: true, nested: false, parent: Parent::None };
        w.visit(root, &mut Vec::new(), ctx);
        // The preview prefers the message's own plain text, then its HTML,
        // then whatever an attached message says.
        let own = |html: bool| w.pieces.iter().filter(move |p| !p.nested && p.html == html);
        let mut preview = String::new();
        for group in
            [own(false).collect::<Vec<_>>(), own(true).collect(), w.pieces.iter().filter(|p| p.nested).collect()]
        {
            preview = make_preview(group.iter().map(|p| p.text.as_str()));
            if !preview.is_empty() {
                break;
            }
        }
        let mut text = String::new();
        for p in &w.pieces {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&p.text);
        }
        truncate(&mut text, MAX_TEXT);
        Content { preview, text, attachments: w.attachments }
    }
}

impl Walker<'_> {
    /// Visits `part`, whose IMAP section is `path` (empty for the top level).
    fn visit(&mut self, part: &BodyPart, path: &mut Vec<u32>, ctx: Ctx) {
        if part.is_multipart() {
            let parent = match part.subtype.as_str() {
                "alternative" => Parent::Alternative,
                "related" => Parent::Related,
                _ => Parent::Mixed,
            };
            let chosen = if parent == Parent::Alternative { pick_alternative(&part.children) } else { usize::MAX };
            for (i, child) in part.children.iter().enumerate() {
                let collect = ctx.collect && (chosen == usize::MAX || chosen == i);
                path.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                self.visit(child, path, Ctx { collect, parent, ..ctx });
                path.pop();
            }
        } else if let Some(message) = &part.message {
            if ctx.list {
                self.attach(part, path);
            }
            if ctx.collect {
                let inner = Ctx { collect: true, list: false, nested: true, parent: Parent::None };
                self.visit(&message.body, path, inner);
            }
        } else if is_attachment(part, ctx.parent) {
            if ctx.list {
                self.attach(part, path);
            }
        } else if ctx.collect && part.media_type == "text" && self.collected < MAX_TEXT {
            let body = &self.raw[part.offsets.body()];
            let body = &body[..body.len().min(MAX_DECODE)];
            let decoded = decode_transfer(&part.encoding, body);
            let mut text = decode_charset(&decoded, part.param("charset"));
            let html = part.subtype == "html";
            if html {
                text = html_to_text(&text);
            }
            let text = clean(&text);
            if !text.is_empty() {
                self.collected += text.len();
                self.pieces.push(Piece { html, nested: ctx.nested, text });
            }
        }
    }

    fn attach(&mut self, part: &BodyPart, path: &[u32]) {
        let section = if path.is_empty() {
            "1".to_owned()
        } else {
            path.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
        };
        self.attachments.push(AttachmentInfo {
            section,
            file_name: part.file_name.clone(),
            content_type: part.mime_type(),
            size: decoded_size(&part.encoding, &self.raw[part.offsets.body()]),
        });
    }
}

/// The alternative to read: plain text first, then a nested multipart (say,
/// HTML with its images), then HTML, else the last one.
fn pick_alternative(children: &[BodyPart]) -> usize {
    let find = |f: &dyn Fn(&BodyPart) -> bool| children.iter().position(f);
    find(&|c| c.media_type == "text" && c.subtype == "plain" && !is_attachment(c, Parent::Mixed))
        .or_else(|| find(&|c| c.is_multipart()))
        .or_else(|| find(&|c| c.media_type == "text" && c.subtype == "html"))
        .unwrap_or(children.len().saturating_sub(1))
}

/// Whether a leaf is a file for the user rather than part of the body.
fn is_attachment(part: &BodyPart, parent: Parent) -> bool {
    let disposition = part.disposition.as_ref().map(|d| d.kind.as_str());
    if disposition == Some("attachment") {
        return true;
    }
    if part.media_type == "text" && matches!(part.subtype.as_str(), "plain" | "html") {
        return part.file_name.is_some() && disposition != Some("inline");
    }
    if parent == Parent::Related && (part.id.is_some() || disposition == Some("inline")) {
        // An image the HTML shows, not a file.
        return false;
    }
    !(parent == Parent::Alternative && part.media_type == "text")
}

/// Decodes a transfer encoding leniently: bytes that do not fit are kept or
/// skipped, never an error.
pub(super) fn decode_transfer<'a>(encoding: &str, body: &'a [u8]) -> Cow<'a, [u8]> {
    let mut out = Vec::new();
    match encoding {
        "base64" => base64_walk(body, |b| out.push(b)),
        "quoted-printable" => qp_walk(body, |b| out.push(b)),
        _ => return Cow::Borrowed(body),
    }
    Cow::Owned(out)
}

/// The decoded size of a body, without keeping the decoded bytes.
pub(super) fn decoded_size(encoding: &str, body: &[u8]) -> usize {
    let mut n = 0;
    match encoding {
        "base64" => base64_walk(body, |_| n += 1),
        "quoted-printable" => qp_walk(body, |_| n += 1),
        _ => n = body.len(),
    }
    n
}

fn base64_walk(body: &[u8], mut emit: impl FnMut(u8)) {
    let (mut acc, mut n) = (0u32, 0u8);
    for &b in body {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                // Padding ends a group; another may follow (concatenated chunks).
                match n {
                    2 => emit((acc >> 4) as u8),
                    3 => {
                        emit((acc >> 10) as u8);
                        emit((acc >> 2) as u8);
                    }
                    _ => {}
                }
                (acc, n) = (0, 0);
                continue;
            }
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            emit((acc >> 16) as u8);
            emit((acc >> 8) as u8);
            emit(acc as u8);
            (acc, n) = (0, 0);
        }
    }
    match n {
        2 => emit((acc >> 4) as u8),
        3 => {
            emit((acc >> 10) as u8);
            emit((acc >> 2) as u8);
        }
        _ => {}
    }
}

fn qp_walk(body: &[u8], mut emit: impl FnMut(u8)) {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b != b'=' {
            emit(b);
            i += 1;
            continue;
        }
        if let (Some(h), Some(l)) = (body.get(i + 1).and_then(|&c| hex(c)), body.get(i + 2).and_then(|&c| hex(c))) {
            emit(h << 4 | l);
            i += 3;
            continue;
        }
        // A soft line break: '=', maybe trailing blanks, then the line end.
        let mut j = i + 1;
        while j < body.len() && matches!(body[j], b' ' | b'\t') {
            j += 1;
        }
        if body[j..].starts_with(b"\r\n") {
            i = j + 2;
        } else if j == body.len() || body[j] == b'\n' {
            i = (j + 1).min(body.len());
        } else {
            emit(b'=');
            i += 1;
        }
    }
}

/// Text in `charset` (None when undeclared) as UTF-8. Undeclared or ASCII text
/// that is not valid UTF-8 is read as Windows-1252 (a superset of Latin-1);
/// an unknown charset falls back the same way.
pub(super) fn decode_charset(bytes: &[u8], charset: Option<&str>) -> String {
    let charset = charset.map(|c| c.trim().trim_matches('"').to_ascii_lowercase()).unwrap_or_default();
    match charset.as_str() {
        // Valid UTF-8 is checked much faster than it is repaired.
        "utf-8" | "utf8" => match std::str::from_utf8(bytes) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        },
        "" | "us-ascii" | "ascii" => utf8_or_latin(bytes),
        c => match charset_decoder(c.as_bytes()) {
            Some(decode) => decode(bytes),
            None => utf8_or_latin(bytes),
        },
    }
}

fn utf8_or_latin(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => match charset_decoder(b"windows-1252") {
            Some(decode) => decode(bytes),
            None => String::from_utf8_lossy(bytes).into_owned(),
        },
    }
}

/// Text fit for the index: line ends normalised, control characters (NUL...)
/// turned into spaces, surrounding whitespace trimmed.
///
/// Byte by byte, copying runs of ordinary text whole: going through
/// `chars()` one at a time cost about 4% of the server's CPU under 75 KB
/// APPENDs (bench/notes.md, R3). The control characters (`char::is_control`)
/// are U+0000 to U+001F and U+007F, one byte each in UTF-8, and U+0080 to
/// U+009F, the two bytes `C2 80` to `C2 9F`.
fn clean(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        let width = if b < 0x20 || b == 0x7f {
            1
        } else if b == 0xc2 && bytes.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)) {
            2
        } else {
            i += 1;
            continue;
        };
        out.push_str(&s[run..i]);
        match b {
            b'\r' => {}
            b'\n' | b'\t' => out.push(char::from(b)),
            _ => out.push(' '),
        }
        i += width;
        run = i;
    }
    out.push_str(&s[run..]);
    let end = out.trim_end().len();
    out.truncate(end);
    let start = out.len() - out.trim_start().len();
    out.drain(..start);
    out
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// The first [`PREVIEW_CHARS`] characters of `texts`, whitespace collapsed,
/// quoted lines and the attribution line before them left out.
fn make_preview<'a>(texts: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for text in texts {
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            let t = line.trim();
            let quoted = |l: &str| l.trim_start().starts_with('>');
            if quoted(t) || (is_attribution(t) && lines.peek().is_some_and(|n| quoted(n))) {
                continue;
            }
            for word in t.split_whitespace() {
                let len = word.chars().count();
                if chars + usize::from(chars > 0) + len > PREVIEW_CHARS {
                    if chars == 0 {
                        out.extend(word.chars().take(PREVIEW_CHARS));
                    }
                    return out;
                }
                if chars > 0 {
                    out.push(' ');
                    chars += 1;
                }
                out.push_str(word);
                chars += len;
            }
        }
    }
    out
}

fn is_attribution(line: &str) -> bool {
    let l = line.trim_end();
    l.ends_with("a écrit :") || l.ends_with("a écrit:") || l.ends_with("wrote:")
}

/// HTML to readable text: tags dropped, scripts, styles and the head skipped,
/// entities decoded, block elements on their own lines, blockquotes prefixed
/// with "> " so that previews leave them out.
pub(super) fn html_to_text(html: &str) -> String {
    let b = html.as_bytes();
    let mut out = Lines::default();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            // A '<' that opens no tag ("2 < 3") is text, as browsers read it.
            b'<' if b.get(i + 1).is_some_and(|&c| c.is_ascii_alphabetic() || c == b'/' || c == b'!') => {
                i = out.tag(html, i);
            }
            b'<' => {
                out.text("<");
                i += 1;
            }
            b'&' => {
                let (c, next) = entity(&html[i..]);
                out.text(&c);
                i += next;
            }
            _ => {
                let end = b[i..].iter().position(|&c| c == b'<' || c == b'&').map_or(b.len(), |n| i + n);
                out.text(&html[i..end]);
                i = end;
            }
        }
    }
    out.finish()
}

/// The text of an HTML document, line by line.
#[derive(Default)]
struct Lines {
    out: String,
    line: String,
    quote: usize,
    line_quoted: bool,
    blank: bool,
}

impl Lines {
    fn text(&mut self, s: &str) {
        for c in s.chars() {
            if c.is_whitespace() && c != '\u{a0}' {
                if !self.line.is_empty() && !self.line.ends_with(' ') {
                    self.line.push(' ');
                }
            } else {
                if self.line.is_empty() {
                    self.line_quoted = self.quote > 0;
                }
                self.line.push(if c == '\u{a0}' { ' ' } else { c });
            }
        }
    }

    fn newline(&mut self) {
        let line = self.line.trim();
        if line.is_empty() {
            // At most one blank line in a row.
            if !self.blank && !self.out.is_empty() {
                self.out.push('\n');
                self.blank = true;
            }
        } else {
            if self.line_quoted {
                self.out.push_str("> ");
            }
            self.out.push_str(line);
            self.out.push('\n');
            self.blank = false;
        }
        self.line.clear();
    }

    /// Handles the tag at `i`; returns where the text goes on.
    fn tag(&mut self, html: &str, i: usize) -> usize {
        let b = html.as_bytes();
        if b[i..].starts_with(b"<!--") {
            return find(b, i + 4, b"-->").map_or(b.len(), |e| e + 3);
        }
        let end = tag_end(b, i);
        // `end` is past the '>', or the end of the input for an unclosed tag.
        let inner_end = if b[end - 1] == b'>' && end > i + 1 { end - 1 } else { end };
        let inner = &html[i + 1..inner_end];
        let closing = inner.starts_with('/');
        let name: String = inner
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match name.as_str() {
            "script" | "style" | "head" | "title" | "noscript" | "template" if !closing => {
                // Skip the content up to the matching close tag.
                let close = format!("</{name}");
                return find_ci(b, end, close.as_bytes()).map_or(b.len(), |e| tag_end(b, e));
            }
            "br" | "p" | "div" | "li" | "tr" | "table" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
            | "hr" | "pre" | "section" | "article" | "header" | "footer" | "dd" | "dt" | "address" => self.newline(),
            "blockquote" => {
                self.newline();
                if closing {
                    self.quote = self.quote.saturating_sub(1);
                } else {
                    self.quote += 1;
                }
            }
            "td" | "th" => self.text(" "),
            _ => {}
        }
        end
    }

    fn finish(mut self) -> String {
        self.newline();
        while self.out.ends_with('\n') {
            self.out.pop();
        }
        self.out
    }
}

/// Just past the '>' closing the tag at `i` (quoted attributes skipped).
fn tag_end(b: &[u8], i: usize) -> usize {
    let mut quote = None;
    for (j, &c) in b.iter().enumerate().skip(i + 1) {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            (None, b'>') => return j + 1,
            _ => {}
        }
    }
    b.len()
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)).map(|p| from + p)
}

/// The text an entity at the start of `s` stands for, and its length; an
/// unknown or broken entity is a literal '&'.
fn entity(s: &str) -> (Cow<'static, str>, usize) {
    let literal = (Cow::Borrowed("&"), 1);
    let Some(semi) = s.bytes().take(12).position(|c| c == b';') else { return literal };
    let name = &s[1..semi];
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => num.parse().ok(),
        };
        return match code.and_then(char::from_u32) {
            Some(c) => (Cow::Owned(c.to_string()), semi + 1),
            None => literal,
        };
    }
    let named = match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => "\u{a0}",
        "eacute" => "é",
        "egrave" => "è",
        "ecirc" => "ê",
        "euml" => "ë",
        "agrave" => "à",
        "acirc" => "â",
        "ccedil" => "ç",
        "icirc" => "î",
        "iuml" => "ï",
        "ocirc" => "ô",
        "ugrave" => "ù",
        "ucirc" => "û",
        "uuml" => "ü",
        "oelig" => "œ",
        "Eacute" => "É",
        "Egrave" => "È",
        "Ecirc" => "Ê",
        "Agrave" => "À",
        "Ccedil" => "Ç",
        "laquo" => "«",
        "raquo" => "»",
        "rsquo" => "’",
        "lsquo" => "‘",
        "ldquo" => "“",
        "rdquo" => "”",
        "hellip" => "…",
        "ndash" => "–",
        "mdash" => "—",
        "euro" => "€",
        "copy" => "©",
        "reg" => "®",
        "deg" => "°",
        "middot" => "·",
        "bull" => "•",
        _ => return literal,
    };
    (Cow::Borrowed(named), semi + 1)
}

#[cfg(test)]
mod tests {
    use super::clean;

    /// The definition `clean` implements, one character at a time.
    fn reference(s: &str) -> String {
        let kept: String = s
            .chars()
            .filter(|&c| c != '\r')
            .map(|c| if c.is_control() && c != '\n' && c != '\t' { ' ' } else { c })
            .collect();
        kept.trim().to_owned()
    }

    #[test]
    fn clean_matches_its_definition() {
        let mut every = String::new();
        for u in 0..0x800u32 {
            if let Some(c) = char::from_u32(u) {
                every.push(c);
                every.push('x');
            }
        }
        for text in [
            "",
            "  \r\n ",
            "Bonjour,\r\n\r\nLa réunion\u{0}est à 8h\u{7f}30\u{85}, salle\u{9f}\u{a0}B.\r\n",
            "\u{80}début et fin\u{9f}",
            "\télève\t",
            "漢字 🙂 \u{c2}\u{80}",
            every.as_str(),
        ] {
            assert_eq!(clean(text), reference(text), "{text:?}");
        }
    }
}
