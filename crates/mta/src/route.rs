//! Where to send a domain's mail: a static table first, then DNS.
//!
//! The static table (`[outbound] mx_override`) names servers by address and
//! is what tests and closed networks use. Otherwise the domain's MX records
//! are looked up and tried by preference; a domain without MX records falls
//! back to its own address (RFC 5321 section 5.1), and a null MX (`.`) means
//! the domain accepts no mail at all, which is a permanent failure.

use std::collections::HashMap;
use std::net::SocketAddr;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;

/// One server to try, with the name used for TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub addr: SocketAddr,
    pub name: String,
}

/// Why no server could be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// DNS failed or timed out: try again later.
    #[error("DNS lookup failed for {0}: {1}")]
    Temporary(String, String),
    /// The domain does not exist or refuses all mail.
    #[error("{0}")]
    Permanent(String),
}

/// Finds servers for domains.
pub struct Router {
    overrides: HashMap<String, Vec<SocketAddr>>,
    port: u16,
    resolver: Option<TokioResolver>,
}

impl Router {
    /// A router with a static table and, unless `dns` is false, the system resolver.
    pub fn new(overrides: HashMap<String, Vec<SocketAddr>>, port: u16, dns: bool) -> Router {
        let resolver = if dns {
            match TokioResolver::builder_tokio() {
                Ok(builder) => Some(builder.build().ok()).flatten(),
                Err(error) => {
                    tracing::warn!(%error, "no system DNS configuration, only the static MX table is used");
                    None
                }
            }
        } else {
            None
        };
        let overrides = overrides.into_iter().map(|(d, a)| (d.to_ascii_lowercase(), a)).collect();
        Router { overrides, port, resolver }
    }

    /// The servers for `domain`, best first.
    pub async fn hops(&self, domain: &str) -> Result<Vec<Hop>, RouteError> {
        let domain = domain.to_ascii_lowercase();
        if let Some(addrs) = self.overrides.get(&domain).or_else(|| self.overrides.get("*")) {
            return Ok(addrs.iter().map(|a| Hop { addr: *a, name: domain.clone() }).collect());
        }
        let Some(resolver) = &self.resolver else {
            return Err(RouteError::Temporary(domain, "no DNS resolver and no static route".into()));
        };
        let temporary = |e: &dyn std::fmt::Display| RouteError::Temporary(domain.clone(), e.to_string());
        let mut hosts: Vec<(u16, String)> = Vec::new();
        match resolver.mx_lookup(format!("{domain}.")).await {
            Ok(lookup) => {
                for record in lookup.answers() {
                    if let RData::MX(mx) = &record.data {
                        let host = mx.exchange.to_ascii().trim_end_matches('.').to_owned();
                        hosts.push((mx.preference, host));
                    }
                }
            }
            Err(e) if e.is_nx_domain() => {
                return Err(RouteError::Permanent(format!("le domaine {domain} n'existe pas / no such domain")));
            }
            Err(e) if e.is_no_records_found() => {}
            Err(e) => return Err(temporary(&e)),
        }
        if hosts.len() == 1 && hosts[0].1.is_empty() {
            return Err(RouteError::Permanent(format!(
                "{domain} n'accepte aucun courriel (null MX) / accepts no mail"
            )));
        }
        if hosts.is_empty() {
            hosts.push((0, domain.clone()));
        }
        hosts.sort();
        let mut hops = Vec::new();
        for (_, host) in hosts {
            match resolver.lookup_ip(format!("{host}.")).await {
                Ok(ips) => {
                    hops.extend(ips.iter().map(|ip| Hop { addr: SocketAddr::new(ip, self.port), name: host.clone() }))
                }
                Err(e) => tracing::debug!(%host, error = %e, "MX host has no address"),
            }
        }
        if hops.is_empty() {
            return Err(RouteError::Temporary(domain, "no address for any MX host".into()));
        }
        Ok(hops)
    }
}

/// Parses `domain=ip:port` entries of the static table (several entries for one
/// domain are tried in order; `*` matches every domain).
pub fn parse_overrides(entries: &[String]) -> Result<HashMap<String, Vec<SocketAddr>>, String> {
    let mut out: HashMap<String, Vec<SocketAddr>> = HashMap::new();
    for entry in entries {
        let Some((domain, addr)) = entry.split_once('=') else {
            return Err(format!("« {entry} » : attendu domaine=adresse:port"));
        };
        let addr: SocketAddr = addr.trim().parse().map_err(|_| format!("« {entry} » : adresse:port invalide"))?;
        out.entry(domain.trim().to_ascii_lowercase()).or_default().push(addr);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_routes_come_first() {
        let table = parse_overrides(&["Exemple.org=127.0.0.3:2525".into(), "*=127.0.0.9:25".into()]).unwrap();
        let router = Router::new(table, 25, false);
        let hops = router.hops("exemple.ORG").await.unwrap();
        assert_eq!(hops, [Hop { addr: "127.0.0.3:2525".parse().unwrap(), name: "exemple.org".into() }]);
        assert_eq!(router.hops("autre.fr").await.unwrap()[0].addr, "127.0.0.9:25".parse().unwrap());
        assert!(parse_overrides(&["nope".into()]).is_err());
        assert!(parse_overrides(&["a.fr=notanaddr".into()]).is_err());
    }

    #[tokio::test]
    async fn no_route_is_temporary() {
        let router = Router::new(HashMap::new(), 25, false);
        assert!(matches!(router.hops("exemple.org").await, Err(RouteError::Temporary(..))));
    }
}
