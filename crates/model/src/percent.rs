//! Strict percent-decoding (RFC 3986 section 2.1) of URL parts that name
//! something: DAV paths and IMAP URLs. Unlike a lenient decoder, a `%` not
//! followed by two hex digits, or bytes that are not UTF-8, are refused
//! (`None`) rather than passed through, so two spellings never name the
//! same thing.

/// The decoded text, or `None` for a bad escape or invalid UTF-8.
pub fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // Two hex digits exactly (`from_str_radix` alone would take "+1").
            let hex = bytes.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn strict() {
        assert_eq!(decode("Envoy%C3%A9s").as_deref(), Some("Envoyés"));
        assert_eq!(decode("a%2Fb").as_deref(), Some("a/b"));
        for bad in ["%", "%4", "%ZZ", "%+1x", "%FF"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
