//! Text values and content lines of vCard (RFC 6350 sections 3.2 and 3.4),
//! written the same way by the personal address books (`groupware`) and the
//! académie directory (`identity`).

/// Escapes a text value: backslash, comma, semicolon, and line breaks as
/// `\n`; other controls are dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `content` folded at 75 octets (never inside a character), then CRLF.
pub fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_long_lines_folded_between_characters() {
        assert_eq!(escape("a,b;c\\d\ne\u{7}"), "a\\,b\\;c\\\\d\\ne");
        let mut out = String::new();
        line(&mut out, &format!("NOTE:{}", "é".repeat(40)));
        let first = out.split("\r\n").next().unwrap();
        assert!(first.len() <= 75 && out.contains("\r\n é"), "{out}");
        assert!(out.ends_with("\r\n"));
    }
}
