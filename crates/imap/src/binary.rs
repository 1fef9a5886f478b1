//! BINARY (RFC 3516): body parts with their content-transfer-encoding
//! undone, so a client gets the attachment's bytes without decoding.

/// The decoded content of a part in `encoding`; `None` when the encoding
/// is unknown (answered `[UNKNOWN-CTE]`).
pub fn decode(encoding: &str, data: &[u8]) -> Option<Vec<u8>> {
    match encoding.to_ascii_lowercase().as_str() {
        "" | "7bit" | "8bit" | "binary" => Some(data.to_vec()),
        "base64" => Some(base64(data)),
        "quoted-printable" => Some(quoted_printable(data)),
        _ => None,
    }
}

/// Lenient base64: line breaks and stray characters are skipped, decoding
/// stops at padding (what mail clients do with slightly broken senders).
fn base64(data: &[u8]) -> Vec<u8> {
    let value = |b: u8| match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(data.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0);
    for &b in data {
        if b == b'=' {
            break;
        }
        let Some(v) = value(b) else { continue };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Quoted-printable (RFC 2045 section 6.7), line by line: white space at
/// the end of a line is transport padding and is deleted (rule 3), a line
/// that then ends in `=` is a soft line break (rule 5, `qp-segment
/// transport-padding CRLF`), `=XX` is an octet; a malformed escape is kept
/// as it is. Line ends are kept as sent (CRLF, or a bare LF).
fn quoted_printable(data: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(data.len());
    for line in data.split_inclusive(|&b| b == b'\n') {
        let (text, end): (&[u8], &[u8]) = if let Some(t) = line.strip_suffix(b"\r\n") {
            (t, b"\r\n")
        } else if let Some(t) = line.strip_suffix(b"\n") {
            (t, b"\n")
        } else {
            (line, b"")
        };
        let kept = text.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(0, |p| p + 1);
        let text = &text[..kept];
        let (text, end) = match text.strip_suffix(b"=") {
            Some(t) => (t, &b""[..]),
            None => (text, end),
        };
        let mut i = 0;
        while i < text.len() {
            match (text[i], text.get(i + 1).and_then(|&h| hex(h)), text.get(i + 2).and_then(|&l| hex(l))) {
                (b'=', Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                (b, ..) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        out.extend_from_slice(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn transfer_encodings_are_undone() {
        assert_eq!(decode("BASE64", b"SnVz\r\ndGUg\r\nw6dh\r\n").unwrap(), "Juste ça".as_bytes());
        assert_eq!(decode("base64", b"AAEC").unwrap(), [0, 1, 2]);
        assert_eq!(
            decode("quoted-printable", b"R=C3=A9union=\r\n du =3D jour=ZZ").unwrap(),
            "Réunion du = jour=ZZ".as_bytes()
        );
        assert_eq!(decode("7bit", b"texte").unwrap(), b"texte");
        // RFC 2045 section 6.7: trailing white space is transport padding,
        // also after the `=` of a soft line break; white space before that
        // `=` is text.
        assert_eq!(decode("quoted-printable", b"a  \r\nb = \t\r\nc=\nd\n e\t").unwrap(), b"a\r\nb cd\n e");
        assert_eq!(decode("quoted-printable", b"fin=").unwrap(), b"fin");
        assert_eq!(decode("x-uuencode", b"x"), None);
    }
}
