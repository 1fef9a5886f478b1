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

/// Quoted-printable (RFC 2045 section 6.7): `=XX` escapes and soft line
/// breaks; a malformed escape is kept as it is.
fn quoted_printable(data: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        match (data.get(i + 1), data.get(i + 2)) {
            (Some(b'\r'), Some(b'\n')) => i += 3,
            (Some(b'\n'), _) => i += 2,
            (Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push(hex(h).unwrap_or(0) << 4 | hex(l).unwrap_or(0));
                i += 3;
            }
            _ => {
                out.push(b'=');
                i += 1;
            }
        }
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
        assert_eq!(decode("x-uuencode", b"x"), None);
    }
}
