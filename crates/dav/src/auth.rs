//! HTTP Basic authentication through the identity service's one login
//! (protocol `dav`: app passwords with the `dav` scope; the main password
//! refused once 2FA is on). Every request logs in (HTTP has no session
//! here), through `Identity::login_per_request`: a success is kept a minute
//! for the same credentials and address, until a revocation.
//!
//! `Authorization: Bearer` (RFC 6750) takes an access token of our OpenID
//! Connect provider with the `mail` scope instead, through
//! `Identity::login_bearer` on every request (not remembered: a token is
//! refused the second it expires); a refused token gets
//! `WWW-Authenticate: Bearer error="invalid_token"` besides Basic.

use std::net::{IpAddr, Ipv4Addr};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use identity::credentials::{BearerLogin, Login, Protocol, Refusal};
use identity::{Account, Identity};

/// The client's address, put in the request's extensions by whoever serves
/// the router (the binary, from the connection); unspecified without it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// The challenge of every 401.
pub const CHALLENGE: &str = "Basic realm=\"Ardoise\", charset=\"UTF-8\"";

/// Logs the request in; `Err` is the response to send.
pub async fn authenticate(
    identity: &Identity,
    headers: &HeaderMap,
    peer: Option<ClientAddr>,
) -> Result<Account, Response> {
    let client = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    if let Some(token) = bearer(headers) {
        let attempt = BearerLogin {
            user: None,
            token: &token,
            protocol: Protocol::Dav,
            peer: peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.0),
            client,
        };
        return match identity.login_bearer(&attempt).await {
            Ok(principal) => Ok(principal.account),
            Err(Refusal::BadCredentials) => {
                let mut resp = challenge(Refusal::BadCredentials.message_fr());
                resp.headers_mut().append(header::WWW_AUTHENTICATE, HeaderValue::from_static(BEARER_REFUSED));
                Err(resp)
            }
            Err(refusal) => Err(refused(refusal)),
        };
    }
    let Some((user, secret)) = credentials(headers) else {
        return Err(challenge("Identification requise."));
    };
    let attempt = Login {
        login: &user,
        secret: &secret,
        protocol: Protocol::Dav,
        peer: peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.0),
        client,
        device: None,
    };
    match identity.login_per_request(&attempt).await {
        Ok(principal) => Ok(principal.account),
        Err(refusal) => Err(refused(refusal)),
    }
}

/// The answer's second challenge when a bearer token was refused.
const BEARER_REFUSED: &str = "Bearer realm=\"Ardoise\", error=\"invalid_token\", scope=\"openid mail\"";

/// The token of a Bearer `Authorization` header (RFC 6750 section 2.1).
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && token.len() <= 4_096).then(|| token.trim().to_owned())
}

/// The user and secret of a Basic `Authorization` header.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > 4_096 {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, secret) = decoded.split_once(':')?;
    Some((user.to_owned(), secret.to_owned()))
}

fn challenge(message: &str) -> Response {
    let mut resp = (StatusCode::UNAUTHORIZED, message.to_owned()).into_response();
    resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
    resp
}

/// A refusal's answer: a wrong secret asks again, a temporary refusal says
/// when to come back, an account that may not use DAV is forbidden.
fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::BadCredentials => challenge(refusal.message_fr()),
        Refusal::Throttled { retry_after } => {
            let mut resp = (StatusCode::TOO_MANY_REQUESTS, refusal.message_fr()).into_response();
            if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, refusal.message_fr()).into_response(),
        Refusal::Provisional
        | Refusal::AppPasswordRequired
        | Refusal::Suspended
        | Refusal::Closed
        | Refusal::Student
        | Refusal::PasswordExpired => (StatusCode::FORBIDDEN, refusal.message_fr()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_read() {
        let mut h = HeaderMap::new();
        assert_eq!(credentials(&h), None);
        // "claire:mot:de:passe é"
        let encoded = base64::engine::general_purpose::STANDARD.encode("claire:mot:de:passe é");
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Basic {encoded}")).unwrap());
        assert_eq!(credentials(&h), Some(("claire".into(), "mot:de:passe é".into())));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(credentials(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(credentials(&h), None);
    }

    #[test]
    fn bearer_tokens_are_read() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc.def"));
        assert_eq!(bearer(&h).as_deref(), Some("abc.def"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer xyz"));
        assert_eq!(bearer(&h).as_deref(), Some("xyz"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic Y2xhaXJlOng="));
        assert_eq!(bearer(&h), None);
    }
}
