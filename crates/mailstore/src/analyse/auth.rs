//! The verdict of our own MX on a message's origin, read back from the
//! `Authentication-Results:` field it prepended (RFC 8601), so that later
//! work (anti-spam, the webmail's warnings) finds SPF, DKIM, DMARC and ARC
//! results in the stored metadata without parsing the message again.
//!
//! Only the **first** field of the message is read: the MX prepends its
//! result above everything, including its own `Received:` line, and when the
//! checks are off the first field is that `Received:` line. A field of the same
//! name written by the sender further down is never believed.

use serde::{Deserialize, Serialize};

/// Results of the checks, one word each (`pass`, `fail`, `none`, `temperror`...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResults {
    /// The authserv-id: the host name of the server that checked.
    pub server: String,
    pub spf: Option<String>,
    pub dkim: Option<String>,
    pub dmarc: Option<String>,
    pub arc: Option<String>,
}

const NAME: &str = "authentication-results";
/// Longest field read; ours are a few hundred bytes.
const MAX_FIELD: usize = 8 * 1024;

/// The results in the first header field of `raw`, when it is one.
pub fn first_field(raw: &[u8]) -> Option<AuthResults> {
    let head = &raw[..raw.len().min(MAX_FIELD)];
    let colon = head.iter().position(|b| *b == b':')?;
    if !head[..colon].eq_ignore_ascii_case(NAME.as_bytes()) {
        return None;
    }
    // The value runs until a line that does not start with white space.
    let mut end = head.len();
    let mut i = colon;
    while let Some(nl) = head[i..].iter().position(|b| *b == b'\n') {
        let next = i + nl + 1;
        if !matches!(head.get(next), Some(b' ' | b'\t')) {
            end = next;
            break;
        }
        i = next;
    }
    let value = String::from_utf8_lossy(&head[colon + 1..end]);
    let value: String = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut parts = value.split(';');
    let server = parts.next()?.split_whitespace().next().unwrap_or_default().to_owned();
    let mut out = AuthResults { server, ..AuthResults::default() };
    for part in parts {
        let Some((method, rest)) = part.trim().split_once('=') else { continue };
        let result: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let slot = match method.trim().to_ascii_lowercase().as_str() {
            "spf" => &mut out.spf,
            "dkim" => &mut out.dkim,
            "dmarc" => &mut out.dmarc,
            "arc" => &mut out.arc,
            _ => continue,
        };
        if slot.is_none() && !result.is_empty() {
            *slot = Some(result.to_ascii_lowercase());
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_prepended_field_is_read() {
        let raw = b"Authentication-Results: mx.ac-demo.fr;\r\n\tdkim=pass header.d=ac-autre.fr header.s=ardoise;\r\n\
\tspf=pass smtp.mailfrom=a@ac-autre.fr; dmarc=pass header.from=ac-autre.fr\r\nReceived: from x\r\n\r\nbody";
        let r = first_field(raw).unwrap();
        assert_eq!(r.server, "mx.ac-demo.fr");
        assert_eq!(
            (r.spf.as_deref(), r.dkim.as_deref(), r.dmarc.as_deref(), r.arc.as_deref()),
            (Some("pass"), Some("pass"), Some("pass"), None)
        );
        let none = first_field(b"Authentication-Results: mx.ac-demo.fr; none (unparsable message)\r\n\r\n").unwrap();
        assert_eq!((none.server.as_str(), none.spf), ("mx.ac-demo.fr", None));
    }

    #[test]
    fn a_field_further_down_is_not_believed() {
        let forged = b"Received: from x\r\nAuthentication-Results: mx.ac-demo.fr; spf=pass; dkim=pass\r\n\r\nhi";
        assert_eq!(first_field(forged), None);
        assert_eq!(first_field(b""), None);
        assert_eq!(first_field(b"no colon at all"), None);
    }
}
