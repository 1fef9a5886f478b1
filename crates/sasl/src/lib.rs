//! The bearer-token SASL mechanisms, read from a decoded client response:
//! `OAUTHBEARER` (RFC 7628) and Google's `XOAUTH2`, for IMAP, SMTP
//! submission and ManageSieve alike (pure: each adapter decodes its own
//! base64 and speaks its own protocol around this). Also the JSON error
//! a server sends as its last challenge when a token is refused.
//!
//! What is accepted is strict: the GS2 header must be `n,` or `y,` (no
//! channel binding, RFC 7628 section 3.1), key-value pairs are separated
//! by `0x01` and the message ends with two of them, `auth` says `Bearer`
//! followed by a token of the RFC 6750 `b64token` alphabet. Anything else
//! is [`SaslError`], never a guess.

use std::fmt;

/// The mechanisms that carry a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerMechanism {
    OAuthBearer,
    XOAuth2,
}

impl BearerMechanism {
    /// The mechanism named `name` (any case), if it carries a token.
    pub fn from_name(name: &str) -> Option<BearerMechanism> {
        if name.eq_ignore_ascii_case("OAUTHBEARER") {
            Some(BearerMechanism::OAuthBearer)
        } else if name.eq_ignore_ascii_case("XOAUTH2") {
            Some(BearerMechanism::XOAuth2)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            BearerMechanism::OAuthBearer => "OAUTHBEARER",
            BearerMechanism::XOAuth2 => "XOAUTH2",
        }
    }
}

/// What a client sent: the user it names (if any) and its token.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerResponse {
    /// The authorization identity (`a=` of OAUTHBEARER, `user=` of XOAUTH2).
    pub user: Option<String>,
    pub token: String,
}

impl fmt::Debug for BearerResponse {
    /// Never shows the token (logs must not hold one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerResponse").field("user", &self.user).field("token", &"…").finish()
    }
}

/// Why a response was refused before any token was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    #[error("the response is not UTF-8")]
    NotUtf8,
    #[error("malformed GS2 header")]
    Gs2Header,
    #[error("channel binding is not supported")]
    ChannelBinding,
    #[error("malformed key-value pairs")]
    Pairs,
    #[error("no auth=Bearer pair")]
    MissingAuth,
    #[error("malformed bearer token")]
    Token,
    #[error("response too long")]
    TooLong,
}

/// Longest response read (a token of ours is 43 characters; other
/// providers' JWTs reach a few kilobytes).
pub const MAX_RESPONSE: usize = 8_192;

/// Reads a decoded response of `mechanism`.
pub fn parse(mechanism: BearerMechanism, decoded: &[u8]) -> Result<BearerResponse, SaslError> {
    if decoded.len() > MAX_RESPONSE {
        return Err(SaslError::TooLong);
    }
    let text = std::str::from_utf8(decoded).map_err(|_| SaslError::NotUtf8)?;
    match mechanism {
        BearerMechanism::OAuthBearer => oauthbearer(text),
        BearerMechanism::XOAuth2 => xoauth2(text),
    }
}

/// `gs2-header kvsep *(kvpair kvsep) kvsep` (RFC 7628 section 3.1).
fn oauthbearer(text: &str) -> Result<BearerResponse, SaslError> {
    let (header, rest) = text.split_once('\x01').ok_or(SaslError::Gs2Header)?;
    // gs2-header = gs2-cbind-flag "," [ authzid ] ","
    let mut parts = header.splitn(3, ',');
    let (Some(flag), Some(authzid), Some("")) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SaslError::Gs2Header);
    };
    match flag {
        "n" | "y" => {}
        f if f.starts_with("p=") => return Err(SaslError::ChannelBinding),
        _ => return Err(SaslError::Gs2Header),
    }
    let user = match authzid {
        "" => None,
        a => Some(saslname(a.strip_prefix("a=").ok_or(SaslError::Gs2Header)?)?),
    };
    let token = bearer_in(rest)?;
    Ok(BearerResponse { user, token })
}

/// `"user=" user 0x01 "auth=Bearer " token 0x01 0x01`.
fn xoauth2(text: &str) -> Result<BearerResponse, SaslError> {
    let user = pairs(text)?.into_iter().find_map(|(k, v)| (k == "user").then(|| v.to_owned()));
    let token = bearer_in(text)?;
    Ok(BearerResponse { user: user.filter(|u| !u.is_empty()), token })
}

/// The pairs of `*(kvpair kvsep) kvsep` (the final separator required,
/// nothing after it).
fn pairs(text: &str) -> Result<Vec<(&str, &str)>, SaslError> {
    let body = text.strip_suffix('\x01').ok_or(SaslError::Pairs)?;
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let body = body.strip_suffix('\x01').ok_or(SaslError::Pairs)?;
    body.split('\x01')
        .map(|kv| {
            let (k, v) = kv.split_once('=').ok_or(SaslError::Pairs)?;
            if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(SaslError::Pairs);
            }
            Ok((k, v))
        })
        .collect()
}

/// The token of the one `auth` pair (other pairs, `host`, `port` or
/// unknown ones, are ignored as RFC 7628 asks).
fn bearer_in(text: &str) -> Result<String, SaslError> {
    let pairs = pairs(text)?;
    let mut auth = pairs.iter().filter(|(k, _)| *k == "auth");
    let (Some((_, value)), None) = (auth.next(), auth.next()) else {
        return Err(SaslError::MissingAuth);
    };
    let (scheme, token) = value.split_once(' ').ok_or(SaslError::MissingAuth)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(SaslError::MissingAuth);
    }
    if !is_b64token(token) {
        return Err(SaslError::Token);
    }
    Ok(token.to_owned())
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(t: &str) -> bool {
    let body = t.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// A GS2 `saslname`: `=2C` is ',' and `=3D` is '='; any other '=' is an error.
fn saslname(s: &str) -> Result<String, SaslError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        match rest.get(i..i + 3) {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return Err(SaslError::Gs2Header),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    if out.is_empty() || out.chars().any(char::is_control) {
        return Err(SaslError::Gs2Header);
    }
    Ok(out)
}

/// The JSON a server sends as its challenge after refusing a token (RFC
/// 7628 section 3.2.2): `status`, `scope` (what a token needs) and, for
/// OAUTHBEARER, `openid-configuration` (where to get one). XOAUTH2 clients
/// expect Google's shape (`status`, `schemes`, `scope`).
pub fn error_challenge(mechanism: BearerMechanism, scope: &str, discovery: Option<&str>) -> String {
    match mechanism {
        BearerMechanism::OAuthBearer => {
            let mut out = format!("{{\"status\":\"invalid_token\",\"scope\":{}", json_string(scope));
            if let Some(url) = discovery {
                out.push_str(&format!(",\"openid-configuration\":{}", json_string(url)));
            }
            out.push('}');
            out
        }
        BearerMechanism::XOAuth2 => {
            format!("{{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":{}}}", json_string(scope))
        }
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use BearerMechanism::{OAuthBearer, XOAuth2};

    fn ok(m: BearerMechanism, s: &str) -> (Option<String>, String) {
        let r = parse(m, s.as_bytes()).unwrap();
        (r.user, r.token)
    }

    fn err(m: BearerMechanism, s: &[u8]) -> SaslError {
        parse(m, s).unwrap_err()
    }

    #[test]
    fn the_rfc_7628_example_is_read() {
        let s = "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01";
        assert_eq!(
            ok(OAuthBearer, s),
            (Some("user@example.com".into()), "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==".into())
        );
        assert_eq!(ok(OAuthBearer, "n,,\x01auth=Bearer abc\x01\x01"), (None, "abc".into()));
        assert_eq!(ok(OAuthBearer, "y,a=a=2Cb=3Dc,\x01auth=bearer abc\x01\x01").0.unwrap(), "a,b=c");
    }

    #[test]
    fn the_xoauth2_form_is_read() {
        let s = "user=claire.martin@ac-demo.fr\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg\x01\x01";
        assert_eq!(ok(XOAuth2, s).0.as_deref(), Some("claire.martin@ac-demo.fr"));
        assert_eq!(ok(XOAuth2, "auth=Bearer abc\x01\x01"), (None, "abc".into()));
    }

    #[test]
    fn a_wrong_gs2_header_is_refused() {
        assert_eq!(err(OAuthBearer, b"auth=Bearer abc\x01\x01"), SaslError::Gs2Header, "no header");
        assert_eq!(err(OAuthBearer, b"x,,\x01auth=Bearer abc\x01\x01"), SaslError::Gs2Header);
        assert_eq!(err(OAuthBearer, b"n,\x01auth=Bearer abc\x01\x01"), SaslError::Gs2Header, "one comma");
        assert_eq!(err(OAuthBearer, b"n,user@x,\x01auth=Bearer abc\x01\x01"), SaslError::Gs2Header, "no a=");
        assert_eq!(err(OAuthBearer, b"n,a=x=41,\x01auth=Bearer abc\x01\x01"), SaslError::Gs2Header, "bad escape");
        assert_eq!(err(OAuthBearer, b"n,a=,\x01auth=Bearer abc\x01\x01"), SaslError::Gs2Header, "empty authzid");
        assert_eq!(err(OAuthBearer, b"p=tls-unique,,\x01auth=Bearer abc\x01\x01"), SaslError::ChannelBinding);
    }

    #[test]
    fn a_missing_or_doubled_auth_is_refused() {
        assert_eq!(err(OAuthBearer, b"n,,\x01host=x\x01\x01"), SaslError::MissingAuth);
        assert_eq!(err(OAuthBearer, b"n,,\x01\x01"), SaslError::MissingAuth);
        assert_eq!(err(OAuthBearer, b"n,,\x01auth=Basic abc\x01\x01"), SaslError::MissingAuth);
        assert_eq!(err(OAuthBearer, b"n,,\x01auth=Bearerabc\x01\x01"), SaslError::MissingAuth);
        assert_eq!(err(OAuthBearer, b"n,,\x01auth=Bearer a\x01auth=Bearer b\x01\x01"), SaslError::MissingAuth);
        assert_eq!(err(XOAuth2, b"user=a@b\x01\x01"), SaslError::MissingAuth);
    }

    #[test]
    fn malformed_pairs_and_tokens_are_refused() {
        assert_eq!(err(OAuthBearer, b"n,,\x01auth=Bearer abc\x01"), SaslError::Pairs, "one final 0x01");
        assert_eq!(err(OAuthBearer, b"n,,\x01auth=Bearer abc"), SaslError::Pairs);
        assert_eq!(err(OAuthBearer, b"n,,\x01auth=Bearer abc\x01\x01x"), SaslError::Pairs, "text after the end");
        assert_eq!(err(OAuthBearer, b"n,,\x01nokey\x01auth=Bearer a\x01\x01"), SaslError::Pairs);
        assert_eq!(err(XOAuth2, b"user=a@b\x01\x01auth=Bearer a\x01\x01"), SaslError::Pairs, "empty pair");
        assert_eq!(err(OAuthBearer, b"n,,\x01auth=Bearer a b\x01\x01"), SaslError::Token);
        assert_eq!(err(OAuthBearer, b"n,,\x01auth=Bearer \x01\x01"), SaslError::Token);
        assert_eq!(err(OAuthBearer, b"n,,\x01auth=Bearer ==\x01\x01"), SaslError::Token);
        assert_eq!(err(OAuthBearer, b"n,,\x01auth=Bearer \xff\x01\x01"), SaslError::NotUtf8);
        assert_eq!(err(XOAuth2, &vec![b'a'; MAX_RESPONSE + 1]), SaslError::TooLong);
        assert_eq!(err(XOAuth2, b""), SaslError::Pairs);
    }

    #[test]
    fn the_error_challenge_is_json_and_never_echoes_the_token() {
        let j = error_challenge(OAuthBearer, "openid mail", Some("https://m.ac/.well-known/openid-configuration"));
        assert_eq!(
            j,
            r#"{"status":"invalid_token","scope":"openid mail","openid-configuration":"https://m.ac/.well-known/openid-configuration"}"#
        );
        assert_eq!(error_challenge(XOAuth2, "a\"b", None), r#"{"status":"401","schemes":"bearer","scope":"a\"b"}"#);
        let r = parse(XOAuth2, b"auth=Bearer secret-token\x01\x01").unwrap();
        assert!(!format!("{r:?}").contains("secret-token"));
    }
}
