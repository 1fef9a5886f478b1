//! Who the client is when a reverse proxy stands in front (issue 24, item 5).
//!
//! Behind a TLS proxy every connection comes from the proxy: without this,
//! the login slow-down would count everyone's guesses together (locking
//! owners out), the journal would name only the proxy and no new-device mail
//! would ever go. The proxy says who it serves in `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`, and over which scheme in `proto=` or
//! `X-Forwarded-Proto`; anyone can write those headers, so they are believed
//! only from the addresses of `[web] trusted_proxies`.
//!
//! The client is found from the right of the chain: each proxy appends the
//! address it received the request from, so the rightmost address that is
//! not one of ours is the one no trusted proxy can have been lied to about;
//! what is left of it was written by the client itself and is ignored. A
//! chain of only trusted proxies gives its leftmost address; an entry that
//! is not an address (`unknown`, an obfuscated name, garbage) stops the walk
//! at the trusted hop after it.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

/// Where a request really comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub ip: IpAddr,
    /// Reached over HTTPS: our own TLS, or a trusted proxy's.
    pub https: bool,
}

impl TrustedProxies {
    /// From `address/prefix` strings (the configuration checked them).
    pub fn parse(list: &[String]) -> Result<TrustedProxies, String> {
        list.iter()
            .map(|s| s.parse::<IpNet>().map_err(|_| format!("réseau invalide : {s}")))
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The origin of a request that reached us from `peer`, over our own TLS or not.
    pub fn origin(&self, peer: IpAddr, tls: bool, headers: &HeaderMap) -> Origin {
        let mine = Origin { ip: peer, https: tls };
        if !self.trusts(peer) {
            return mine;
        }
        let (chain, proto) = match forwarded(headers) {
            Some(found) => found,
            None => (x_forwarded_for(headers), x_forwarded_proto(headers)),
        };
        let mut ip = peer;
        for hop in chain.iter().rev() {
            match hop {
                Some(hop) if self.trusts(*hop) => ip = *hop,
                Some(hop) => {
                    ip = *hop;
                    break;
                }
                None => break,
            }
        }
        let https = tls || proto.is_some_and(|p| p.eq_ignore_ascii_case("https"));
        Origin { ip, https }
    }
}

/// The origin of a request, from the connection's address the listener
/// recorded (`ConnectInfo<Peer>`); unknown when it is missing (never in a
/// served request).
pub fn of_request(app: &crate::App, extensions: &axum::http::Extensions, headers: &HeaderMap) -> Option<Origin> {
    let axum::extract::ConnectInfo(crate::base::Peer(peer)) =
        extensions.get::<axum::extract::ConnectInfo<crate::base::Peer>>()?;
    Some(app.cfg.proxies.origin(peer.ip(), app.cfg.tls, headers))
}

/// HTTPS through a trusted proxy: browsers are told to stay on HTTPS, as
/// our own TLS listener tells them.
pub async fn strict_transport(
    axum::extract::State(app): axum::extract::State<std::sync::Arc<crate::App>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let https = of_request(&app, req.extensions(), req.headers()).is_some_and(|o| o.https);
    let mut resp = next.run(req).await;
    if https {
        resp.headers_mut().insert(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
}

/// The values of every line of `name`, comma-separated lists flattened.
fn list<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::trim)
}

/// `X-Forwarded-For`: addresses, client first.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    list(headers, "x-forwarded-for").filter(|s| !s.is_empty()).map(node).collect()
}

/// `X-Forwarded-Proto`: the last value (the one our proxy wrote).
fn x_forwarded_proto(headers: &HeaderMap) -> Option<String> {
    list(headers, "x-forwarded-proto").filter(|s| !s.is_empty()).last().map(str::to_owned)
}

/// `Forwarded` (RFC 7239 §4): its `for=` chain and the last `proto=`, when
/// the header is there.
fn forwarded(headers: &HeaderMap) -> Option<(Vec<Option<IpAddr>>, Option<String>)> {
    headers.get(axum::http::header::FORWARDED)?;
    let (mut chain, mut proto) = (Vec::new(), None);
    for element in list(headers, "forwarded") {
        for pair in element.split(';') {
            let Some((key, value)) = pair.split_once('=') else { continue };
            let value = value.trim().trim_matches('"');
            match key.trim().to_ascii_lowercase().as_str() {
                "for" => chain.push(node(value)),
                "proto" => proto = Some(value.to_owned()),
                _ => {}
            }
        }
    }
    Some((chain, proto))
}

/// A node of RFC 7239 §6: `192.0.2.43`, `192.0.2.43:47011`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711` (and a bare IPv6 address, as X-Forwarded-For has it);
/// `None` for `unknown`, obfuscated names and anything else.
fn node(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    let (host, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_itself_whatever_it_writes() {
        let p = proxies(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "198.51.100.7"), ("x-forwarded-proto", "https")]);
        assert_eq!(p.origin(ip("203.0.113.9"), false, &h), Origin { ip: ip("203.0.113.9"), https: false });
        let h = headers(&[("forwarded", "for=198.51.100.7;proto=https")]);
        assert_eq!(p.origin(ip("203.0.113.9"), false, &h).ip, ip("203.0.113.9"));
        // No proxy configured: nobody is believed.
        assert_eq!(proxies(&[]).origin(ip("10.0.0.1"), false, &h).ip, ip("10.0.0.1"));
    }

    #[test]
    fn behind_our_proxies_the_client_is_the_rightmost_untrusted_address() {
        let p = proxies(&["10.0.0.0/8", "127.0.0.1/32"]);
        // The client wrote a fake first entry; our proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.5"), ("x-forwarded-proto", "https")]);
        assert_eq!(p.origin(ip("127.0.0.1"), false, &h), Origin { ip: ip("198.51.100.7"), https: true });
        // Several header lines are one list.
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(p.origin(ip("10.1.1.1"), false, &h), Origin { ip: ip("198.51.100.7"), https: false });
        // Only proxies in the chain: the leftmost; no header at all: the proxy.
        let h = headers(&[("x-forwarded-for", "10.0.0.9, 10.0.0.5")]);
        assert_eq!(p.origin(ip("127.0.0.1"), false, &h).ip, ip("10.0.0.9"));
        assert_eq!(p.origin(ip("127.0.0.1"), false, &HeaderMap::new()).ip, ip("127.0.0.1"));
        // Garbage stops the walk at the trusted hop after it.
        let h = headers(&[("x-forwarded-for", "198.51.100.7, pas-une-adresse, 10.0.0.5")]);
        assert_eq!(p.origin(ip("127.0.0.1"), false, &h).ip, ip("10.0.0.5"));
    }

    #[test]
    fn forwarded_is_read_as_rfc_7239_writes_it() {
        let p = proxies(&["127.0.0.1/32"]);
        // RFC 7239 §4's examples: quoted IPv6 with a port, several elements.
        let h = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=http;by=203.0.113.43, for=\"[2001:db8:cafe::17]:4711\";proto=https",
        )]);
        assert_eq!(p.origin(ip("127.0.0.1"), false, &h), Origin { ip: ip("2001:db8:cafe::17"), https: true });
        let h = headers(&[("forwarded", "For=\"192.0.2.43:47011\"")]);
        assert_eq!(p.origin(ip("127.0.0.1"), false, &h).ip, ip("192.0.2.43"));
        // `Forwarded` wins over X-Forwarded-For when both are there.
        let h = headers(&[("forwarded", "for=192.0.2.43"), ("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(p.origin(ip("127.0.0.1"), false, &h).ip, ip("192.0.2.43"));
        // `unknown` and obfuscated identifiers name nobody: the proxy stays.
        for value in ["for=unknown", "for=_hidden", "for=\"_SEVKISEK\""] {
            let h = headers(&[("forwarded", value)]);
            assert_eq!(p.origin(ip("127.0.0.1"), false, &h).ip, ip("127.0.0.1"), "{value}");
        }
    }

    #[test]
    fn our_own_tls_is_https_whatever_a_proxy_says() {
        let p = proxies(&["127.0.0.1/32"]);
        let h = headers(&[("x-forwarded-proto", "http")]);
        assert!(p.origin(ip("127.0.0.1"), true, &h).https);
        // IPv4-mapped IPv6 peers are matched as the IPv4 address they are.
        assert_eq!(
            p.origin(ip("::ffff:127.0.0.1"), false, &headers(&[("x-forwarded-for", "198.51.100.7")])).ip,
            ip("198.51.100.7")
        );
    }
}
