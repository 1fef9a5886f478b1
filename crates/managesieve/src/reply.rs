//! Responses (RFC 5804 section 1.3): `OK`, `NO` and `BYE`, with an optional
//! response code and a human-readable string, French then English.

/// One response line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    kind: &'static str,
    code: Option<String>,
    text: String,
}

impl Reply {
    pub fn ok(text: &str) -> Reply {
        Reply { kind: "OK", code: None, text: text.to_owned() }
    }

    pub fn no(text: &str) -> Reply {
        Reply { kind: "NO", code: None, text: text.to_owned() }
    }

    pub fn bye(text: &str) -> Reply {
        Reply { kind: "BYE", code: None, text: text.to_owned() }
    }

    /// Adds a response code such as `NONEXISTENT` or `QUOTA/MAXSIZE`.
    pub fn with_code(mut self, code: String) -> Reply {
        self.code = Some(code);
        self
    }

    pub fn is_ok(&self) -> bool {
        self.kind == "OK"
    }

    /// The line as sent.
    pub fn wire(&self) -> Vec<u8> {
        let mut out = self.kind.as_bytes().to_vec();
        if let Some(code) = &self.code {
            out.extend_from_slice(format!(" ({code})").as_bytes());
        }
        out.push(b' ');
        out.extend_from_slice(quote(self.text.as_bytes()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// A string as the server sends it: quoted, or a literal when it holds a
/// line break (or is not UTF-8, which quoted strings must be).
pub fn quote(s: &[u8]) -> String {
    match std::str::from_utf8(s) {
        Ok(text) if !text.contains(['\r', '\n', '\0']) => {
            format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
        }
        _ => {
            let text = String::from_utf8_lossy(s);
            format!("{{{}}}\r\n{text}", text.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_on_the_wire() {
        assert_eq!(Reply::ok("Fait").wire(), b"OK \"Fait\"\r\n");
        assert_eq!(
            Reply::no("ligne 2 : « ; » attendu").with_code("QUOTA/MAXSIZE".into()).wire(),
            "NO (QUOTA/MAXSIZE) \"ligne 2 : « ; » attendu\"\r\n".as_bytes()
        );
        assert_eq!(quote(b"a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote(b"a\r\nb"), "{4}\r\na\r\nb");
    }
}
