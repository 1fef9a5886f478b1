//! Modified UTF-7 (RFC 3501 section 5.1.3), the form IMAP servers without
//! UTF8=ACCEPT give folder names in: `&` starts a base64 run of UTF-16 (with
//! `,` for `/`), `-` ends it, `&-` is a literal `&`. Maildir++ folder names
//! on disk use it too.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

/// Decodes a name; `None` when it is not valid modified UTF-7 (the caller
/// then keeps the name as it came, which is what a client would show).
pub fn decode(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('-')?;
        let run = &after[..end];
        if run.is_empty() {
            out.push('&');
        } else {
            let b64: String = run.chars().map(|c| if c == ',' { '/' } else { c }).collect();
            let bytes = STANDARD_NO_PAD.decode(b64.as_bytes()).ok()?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes.chunks(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
            let text = String::from_utf16(&units).ok()?;
            // Printable ASCII must not be encoded (RFC 3501): a run of it is not the canonical form.
            if text.chars().all(|c| (' '..='~').contains(&c)) {
                return None;
            }
            out.push_str(&text);
        }
        rest = &after[end + 1..];
    }
    if rest.chars().any(|c| !(' '..='~').contains(&c)) {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

/// Encodes a name (for commands naming a folder the server listed in UTF-8
/// would not need it; used for `EXAMINE` of names decoded earlier).
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut run: Vec<u16> = Vec::new();
    let flush = |run: &mut Vec<u16>, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&STANDARD_NO_PAD.encode(bytes).replace('/', ","));
        out.push('-');
        run.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut run, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_rfc_examples_and_french_names() {
        // RFC 3501 section 5.1.3's example.
        assert_eq!(decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").unwrap(), "~peter/mail/台北/日本語");
        assert_eq!(decode("&AMk-l&AOk-ments envoy&AOk-s").unwrap(), "Éléments envoyés");
        assert_eq!(decode("Ann&AOk-e 2025-2026").unwrap(), "Année 2025-2026");
        assert_eq!(decode("R&AOk-unions & co").as_deref(), None, "a bare & is not modified UTF-7");
        assert_eq!(decode("Tom &- Jerry").unwrap(), "Tom & Jerry");
        assert_eq!(decode("plain").unwrap(), "plain");
        assert_eq!(decode("&AGEAYgBj-"), None, "encoded ASCII is refused");
        assert_eq!(decode("&AOk"), None, "unterminated run");
        assert_eq!(decode("&2D3eAA-").unwrap(), "😀", "surrogate pairs");
    }

    #[test]
    fn encoding_round_trips() {
        for name in ["Éléments envoyés", "Tom & Jerry", "台北/日本語", "Réunions/Conseil de classe", "😀 x"]
        {
            assert_eq!(decode(&encode(name)).unwrap(), name);
        }
        assert_eq!(encode("Éléments envoyés"), "&AMk-l&AOk-ments envoy&AOk-s");
    }
}
