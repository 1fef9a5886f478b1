//! Standard base64 (RFC 4648) decoding, for SASL (encoding, also used for
//! RFC 2047 encoded words, is `mailstore::imap_form::base64_encode`).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Decodes padded base64; `None` on any invalid character or length.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (q, quad) in text.chunks(4).enumerate() {
        let last = q + 1 == text.len() / 4;
        let pad = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &b in &quad[..4 - pad] {
            n = n << 6 | ALPHABET.iter().position(|&a| a == b)? as u32;
        }
        n <<= 6 * pad as u32;
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips() {
        for s in [&b""[..], b"a", b"ab", b"abc", b"\0claire\0pw"] {
            assert_eq!(super::decode(mailstore::imap_form::base64_encode(s).as_bytes()).unwrap(), s);
        }
        assert_eq!(mailstore::imap_form::base64_encode(b"\0u\0p"), "AHUAcA==");
        assert!(super::decode(b"A=A=").is_none());
    }
}
