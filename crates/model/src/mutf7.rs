//! Modified UTF-7 (RFC 3501 section 5.1.3), how IMAP4rev1 clients and
//! servers spell mailbox names that are not ASCII: `Envoyés` is
//! `Envoy&AOk-s`. Maildir++ folder names on disk use it too. Here because
//! both the IMAP server and the migration's IMAP client and Maildir reader
//! need it, and adapters do not build on each other.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Encodes a UTF-8 name.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
            let chars = (chunk.len() * 8).div_ceil(6);
            for i in 0..chars {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Decodes a modified UTF-7 name; `None` if it is not valid.
pub fn decode(raw: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if !(0x20..0x7f).contains(&b) {
            return None;
        }
        if b != b'&' {
            out.push(b as char);
            i += 1;
            continue;
        }
        let end = i + 1 + raw[i + 1..].iter().position(|&c| c == b'-')?;
        let run = &raw[i + 1..end];
        i = end + 1;
        if run.is_empty() {
            out.push('&');
            continue;
        }
        let mut bits = 0u32;
        let mut nbits = 0;
        let mut units = Vec::new();
        for &c in run {
            let v = B64.iter().position(|&x| x == c)? as u32;
            bits = bits << 6 | v;
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                units.push((bits >> nbits) as u16);
                bits &= (1 << nbits) - 1;
            }
        }
        if nbits >= 6 || bits != 0 {
            return None;
        }
        let text = String::from_utf16(&units).ok()?;
        // ASCII printable characters must not be encoded.
        if text.chars().any(|c| (' '..='~').contains(&c)) {
            return None;
        }
        out.push_str(&text);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_names_round_trip() {
        for (utf8, utf7) in [
            ("Envoyés", "Envoy&AOk-s"),
            ("Indésirables", "Ind&AOk-sirables"),
            ("A & B", "A &- B"),
            ("日本語", "&ZeVnLIqe-"),
            ("INBOX", "INBOX"),
        ] {
            assert_eq!(encode(utf8), utf7);
            assert_eq!(decode(utf7.as_bytes()).as_deref(), Some(utf8));
        }
        for bad in ["&AOk", "&ZeVnLIq-", "&AGE-", "caf\u{e9}"] {
            assert!(decode(bad.as_bytes()).is_none(), "{bad}");
        }
    }
}
