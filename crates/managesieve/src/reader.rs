//! Framing of client lines without I/O (RFC 5804 section 4): atoms, quoted
//! strings and literals (`{n+}` and `{n}`, both read at once: ManageSieve
//! has no continuation for them), every length capped.

/// One element of a client line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A command name, `ACTIVE`, a number: ASCII, as sent.
    Atom(String),
    /// A quoted string or a literal, its bytes.
    Str(Vec<u8>),
}

impl Token {
    pub fn as_atom(&self) -> Option<&str> {
        match self {
            Token::Atom(a) => Some(a),
            Token::Str(_) => None,
        }
    }
}

/// What the buffer holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Framed {
    /// A whole line (literals included) of `consumed` bytes.
    Line { tokens: Vec<Token>, consumed: usize },
    /// Not a whole line yet.
    Partial,
    /// A literal larger than allowed was announced (`size` bytes, after the
    /// first `header` bytes of the buffer): none of it was read.
    LiteralTooLarge { size: u64, header: usize },
    /// The line (without its literals) is longer than allowed.
    LineTooLong,
    /// A malformed line of `consumed` bytes (up to its end).
    Bad { why: &'static str, consumed: usize },
}

/// Caps on what one line may hold.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Bytes of a line outside its literals.
    pub line: usize,
    /// Bytes of one literal.
    pub literal: usize,
}

/// Frames the first line of `buf`.
pub fn frame(buf: &[u8], caps: Caps) -> Framed {
    let mut tokens = Vec::new();
    let mut pos = 0;
    let mut outside = 0; // bytes outside literals
    loop {
        if outside > caps.line {
            return Framed::LineTooLong;
        }
        let Some(&b) = buf.get(pos) else {
            return if buf.len() - literal_bytes(&tokens) > caps.line { Framed::LineTooLong } else { Framed::Partial };
        };
        match b {
            b' ' => {
                pos += 1;
                outside += 1;
            }
            b'\r' | b'\n' => {
                let end = if b == b'\r' {
                    match buf.get(pos + 1) {
                        None => return Framed::Partial,
                        Some(b'\n') => pos + 2,
                        Some(_) => return bad(buf, pos, "CR without LF"),
                    }
                } else {
                    pos + 1
                };
                return Framed::Line { tokens, consumed: end };
            }
            b'"' => match quoted(&buf[pos + 1..]) {
                Quoted::Done(s, len) => {
                    tokens.push(Token::Str(s));
                    pos += 1 + len;
                    outside += 1 + len;
                }
                Quoted::Partial => {
                    return if buf.len() - pos > caps.line { Framed::LineTooLong } else { Framed::Partial };
                }
                Quoted::Bad(why) => return bad(buf, pos, why),
            },
            b'{' => {
                let Some(close) = buf[pos..].iter().position(|&c| c == b'}') else {
                    return if buf.len() - pos > 24 { bad(buf, pos, "bad literal") } else { Framed::Partial };
                };
                let inner = &buf[pos + 1..pos + close];
                let digits = inner.strip_suffix(b"+").unwrap_or(inner);
                let size = match std::str::from_utf8(digits).ok().filter(|d| !d.is_empty() && d.len() <= 19) {
                    Some(d) if d.bytes().all(|c| c.is_ascii_digit()) => d.parse::<u64>().unwrap_or(u64::MAX),
                    _ => return bad(buf, pos, "bad literal"),
                };
                let after = pos + close + 1;
                let start = match (buf.get(after), buf.get(after + 1)) {
                    (Some(b'\r'), Some(b'\n')) => after + 2,
                    (Some(b'\n'), _) => after + 1,
                    (None, _) | (Some(b'\r'), None) => return Framed::Partial,
                    _ => return bad(buf, pos, "literal not followed by CRLF"),
                };
                if size > caps.literal as u64 {
                    return Framed::LiteralTooLarge { size, header: start };
                }
                let end = start + size as usize;
                if buf.len() < end {
                    return Framed::Partial;
                }
                tokens.push(Token::Str(buf[start..end].to_vec()));
                outside += start - pos;
                pos = end;
            }
            _ => {
                let len = buf[pos..].iter().position(|&c| matches!(c, b' ' | b'\r' | b'\n')).unwrap_or(buf.len() - pos);
                if pos + len == buf.len() {
                    return if len > caps.line { Framed::LineTooLong } else { Framed::Partial };
                }
                let atom = &buf[pos..pos + len];
                if !atom.iter().all(|c| c.is_ascii_graphic() && !b"\"{}()".contains(c)) {
                    return bad(buf, pos, "bad atom");
                }
                tokens.push(Token::Atom(String::from_utf8_lossy(atom).into_owned()));
                pos += len;
                outside += len;
            }
        }
    }
}

fn literal_bytes(tokens: &[Token]) -> usize {
    tokens.iter().map(|t| if let Token::Str(s) = t { s.len() } else { 0 }).sum()
}

/// A malformed line: skip to its end (or to the buffer's end when no end
/// has come yet, which the caller sees as still partial).
fn bad(buf: &[u8], from: usize, why: &'static str) -> Framed {
    match buf[from..].iter().position(|&c| c == b'\n') {
        Some(lf) => Framed::Bad { why, consumed: from + lf + 1 },
        None => Framed::Partial,
    }
}

enum Quoted {
    Done(Vec<u8>, usize),
    Partial,
    Bad(&'static str),
}

/// A quoted string's content after its opening quote: `\"` and `\\` are the
/// only escapes; CR and LF are not allowed inside.
fn quoted(rest: &[u8]) -> Quoted {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = rest.get(i) {
        match c {
            b'"' => return Quoted::Done(out, i + 1),
            b'\\' => match rest.get(i + 1) {
                Some(&e @ (b'"' | b'\\')) => {
                    out.push(e);
                    i += 2;
                }
                Some(_) => return Quoted::Bad("bad escape in quoted string"),
                None => return Quoted::Partial,
            },
            b'\r' | b'\n' => return Quoted::Bad("line break in quoted string"),
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Quoted::Partial
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPS: Caps = Caps { line: 64, literal: 100 };

    fn line(s: &[u8]) -> Vec<Token> {
        match frame(s, CAPS) {
            Framed::Line { tokens, consumed } => {
                assert_eq!(consumed, s.len());
                tokens
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn atoms_strings_and_literals() {
        assert_eq!(
            line(b"PUTSCRIPT \"r\\\"\xc3\xa9\" {5+}\r\nkeep;\r\n"),
            [Token::Atom("PUTSCRIPT".into()), Token::Str("r\"é".as_bytes().to_vec()), Token::Str(b"keep;".to_vec())]
        );
        assert_eq!(line(b"HAVESPACE \"a\" 100\r\n")[2], Token::Atom("100".into()));
        assert_eq!(line(b"CHECKSCRIPT {2}\r\nab\r\n")[1], Token::Str(b"ab".to_vec()));
        assert_eq!(line(b"LOGOUT\n"), [Token::Atom("LOGOUT".into())]);
    }

    #[test]
    fn partial_lines_wait_for_more() {
        for cut in [&b"PUTSCR"[..], b"PUTSCRIPT \"a", b"PUTSCRIPT \"a\" {5+", b"PUTSCRIPT \"a\" {5+}\r\nke", b"NOOP\r"]
        {
            assert_eq!(frame(cut, CAPS), Framed::Partial, "{cut:?}");
        }
    }

    #[test]
    fn absurd_literals_are_refused_before_reading() {
        assert_eq!(
            frame(b"PUTSCRIPT \"a\" {99999999999+}\r\n", CAPS),
            Framed::LiteralTooLarge { size: 99_999_999_999, header: 30 }
        );
        assert!(matches!(frame(b"PUTSCRIPT \"a\" {99999999999999999999999+}\r\n", CAPS), Framed::Bad { .. }));
    }

    #[test]
    fn long_lines_and_bad_input() {
        assert_eq!(frame(&[b'A'; 100], CAPS), Framed::LineTooLong);
        let long_quoted = [&b"NOOP \""[..], &[b'x'; 100]].concat();
        assert_eq!(frame(&long_quoted, CAPS), Framed::LineTooLong);
        assert!(matches!(frame(b"NOOP \"a\rb\"\r\nNOOP\r\n", CAPS), Framed::Bad { consumed: 12, .. }));
        assert!(matches!(frame(b"NOOP {x}\r\n", CAPS), Framed::Bad { .. }));
        assert!(matches!(frame(b"NOOP \"\\n\"\r\n", CAPS), Framed::Bad { .. }));
    }
}
