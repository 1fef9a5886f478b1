//! Security headers on every response: a strict CSP (no inline script or
//! style, no framing), no MIME sniffing, no referrer, and no caching of pages.

use axum::http::{HeaderValue, header};
use axum::response::Response;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A page whose forms end, through our redirects, at another site: the
/// login and second-factor pages of an application's sign-in, and the
/// consent page. Browsers apply the page's `form-action` to every redirect
/// that follows the submission (Chromium blocks the last hop to the
/// application otherwise), so that one origin is added to it.
#[derive(Debug, Clone)]
pub struct FormTarget(pub String);

/// The origin (`scheme://host[:port]`) of an http(s) URL, if it has a plain one.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || ".-:[]".contains(c);
    (!authority.is_empty() && authority.chars().all(plain)).then(|| format!("{scheme}://{authority}"))
}

pub async fn secure(mut resp: Response) -> Response {
    let target = resp.extensions_mut().remove::<FormTarget>().and_then(|t| origin_of(&t.0));
    let h = resp.headers_mut();
    let csp = match target {
        Some(origin) => {
            HeaderValue::from_str(&CSP.replace("form-action 'self'", &format!("form-action 'self' {origin}")))
                .unwrap_or(HeaderValue::from_static(CSP))
        }
        None => HeaderValue::from_static(CSP),
    };
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Over HTTPS only: browsers stay on HTTPS for a year.
pub async fn strict_transport(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    resp
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins_are_plain_or_nothing() {
        assert_eq!(origin_of("https://ent.ac-exemple.fr/oidc/cb?x=1").as_deref(), Some("https://ent.ac-exemple.fr"));
        assert_eq!(origin_of("http://localhost:8080").as_deref(), Some("http://localhost:8080"));
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("https://a.fr;script-src *"), None);
        assert_eq!(origin_of("https:///x"), None);
    }
}
