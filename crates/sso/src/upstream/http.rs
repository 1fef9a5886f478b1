//! The HTTP client of the upstream login: GET discovery documents, key
//! sets and CAS validations, POST token requests. HTTPS with the system's
//! roots (hyper-rustls, ring), plain HTTP allowed only to the loopback
//! (a provider on the same host, tests). Every exchange has a deadline and
//! an answer is capped in size; no body or header is ever logged.

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, Uri, header};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::UpstreamError;

/// Largest answer read (a discovery document, a key set, a token).
const MAX_ANSWER: usize = 256 * 1024;
/// Deadline of one exchange, connection included.
const DEADLINE: Duration = Duration::from_secs(10);

pub(crate) struct Client {
    inner: HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// What an answer was.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Client {
    pub(crate) fn new() -> Result<Client, UpstreamError> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| UpstreamError::Unreachable(format!("racines TLS du système : {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Client { inner: HyperClient::builder(TokioExecutor::new()).build(https) })
    }

    pub(crate) async fn get(&self, url: &str, bearer: Option<&str>) -> Result<Answer, UpstreamError> {
        let mut req = Request::builder().method(Method::GET).uri(checked(url)?).header(header::ACCEPT, "*/*");
        if let Some(token) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(req.body(Full::default()).map_err(|e| UpstreamError::Invalid(e.to_string()))?).await
    }

    /// POSTs a form, with HTTP Basic client authentication when given.
    pub(crate) async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Result<Answer, UpstreamError> {
        let body = form_encode(form);
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(checked(url)?)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some((id, secret)) = basic {
            use base64::Engine;
            // RFC 6749 section 2.3.1: both parts form-encoded first.
            let pair = format!("{}:{}", form_encode_one(id), form_encode_one(secret));
            let value = base64::engine::general_purpose::STANDARD.encode(pair);
            req = req.header(header::AUTHORIZATION, format!("Basic {value}"));
        }
        self.send(req.body(Full::new(Bytes::from(body))).map_err(|e| UpstreamError::Invalid(e.to_string()))?).await
    }

    async fn send(&self, req: Request<Full<Bytes>>) -> Result<Answer, UpstreamError> {
        let host = req.uri().host().unwrap_or("").to_owned();
        let exchange = async {
            let resp =
                self.inner.request(req).await.map_err(|e| UpstreamError::Unreachable(format!("{host} : {e}")))?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| UpstreamError::Unreachable(format!("{host} : {e}")))?
                .to_bytes();
            Ok(Answer { status, body })
        };
        tokio::time::timeout(DEADLINE, exchange)
            .await
            .map_err(|_| UpstreamError::Unreachable(format!("{host} : pas de réponse en {} s", DEADLINE.as_secs())))?
    }
}

/// A URL we may call: https, or http to the loopback only.
pub(crate) fn checked(url: &str) -> Result<Uri, UpstreamError> {
    let uri: Uri = url.parse().map_err(|_| UpstreamError::Invalid(format!("adresse invalide : {url}")))?;
    let loopback = matches!(uri.host(), Some("127.0.0.1" | "localhost" | "[::1]" | "::1"));
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if loopback => Ok(uri),
        _ => Err(UpstreamError::Invalid(format!("adresse https:// attendue : {url}"))),
    }
}

/// `application/x-www-form-urlencoded` of the pairs.
pub(crate) fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", form_encode_one(k), form_encode_one(v))).collect::<Vec<_>>().join("&")
}

pub(crate) fn form_encode_one(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_the_loopback() {
        assert!(checked("https://idp.ac-exemple.fr/").is_ok());
        assert!(checked("http://127.0.0.1:8080/.well-known/openid-configuration").is_ok());
        assert!(checked("http://idp.ac-exemple.fr/").is_err());
        assert!(checked("ftp://127.0.0.1/").is_err());
        assert!(checked("pas une adresse").is_err());
    }

    #[test]
    fn forms_are_encoded() {
        assert_eq!(form_encode(&[("a b", "c&d=é")]), "a+b=c%26d%3D%C3%A9");
    }
}
