//! Our stylesheets and scripts as answers: cached for an hour, and sent
//! gzip-compressed to a browser that accepts it (a school's slow line pays
//! for about a quarter of the bytes on a first visit). Each is compressed
//! once, on first use. Only these fixed files are compressed: pages, which
//! carry the session's CSRF token next to text a visitor may have typed,
//! are not (the BREACH attack reads a secret through compressed sizes).

use std::io::Write;
use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// One of our fixed files.
pub struct Asset {
    pub body: &'static str,
    pub content_type: &'static str,
    gzip: OnceLock<Vec<u8>>,
}

impl Asset {
    pub const fn new(body: &'static str, content_type: &'static str) -> Asset {
        Asset { body, content_type, gzip: OnceLock::new() }
    }

    fn gzipped(&self) -> &[u8] {
        self.gzip.get_or_init(|| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            // Writing to a Vec cannot fail.
            let _ = enc.write_all(self.body.as_bytes());
            enc.finish().unwrap_or_default()
        })
    }

    /// The answer to a request with `headers`.
    pub fn respond(&'static self, headers: &HeaderMap) -> Response {
        let mut resp = if accepts_gzip(headers) && !self.gzipped().is_empty() {
            let mut r = ([(header::CONTENT_TYPE, self.content_type)], self.gzipped()).into_response();
            r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        } else {
            ([(header::CONTENT_TYPE, self.content_type)], self.body).into_response()
        };
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        resp
    }
}

/// Whether `Accept-Encoding` lists gzip with a quality above zero.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let q = parts.find_map(|p| p.strip_prefix("q=")).and_then(|q| q.trim().parse::<f32>().ok());
            name.eq_ignore_ascii_case("gzip") && q.is_none_or(|q| q > 0.0)
        })
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    static TEXT: Asset = Asset::new("body { color: #000091; } body { color: #000091; }", "text/css; charset=utf-8");

    fn with(accept: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[test]
    fn gzip_only_when_accepted() {
        assert!(accepts_gzip(&with(Some("gzip, deflate, br, zstd"))));
        assert!(accepts_gzip(&with(Some("br;q=1.0, GZIP;q=0.5"))));
        assert!(!accepts_gzip(&with(Some("gzip;q=0, br"))));
        assert!(!accepts_gzip(&with(Some("identity"))));
        assert!(!accepts_gzip(&with(None)));
        let plain = TEXT.respond(&with(None));
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        let zipped = TEXT.respond(&with(Some("gzip")));
        assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(zipped.headers()[header::VARY], "Accept-Encoding");
        let mut back = String::new();
        flate2::read::GzDecoder::new(TEXT.gzipped()).read_to_string(&mut back).unwrap();
        assert_eq!(back, TEXT.body);
    }
}
