//! DNS blocklists (`[hygiene] dnsbl`, `dnsbl_domains`; off by default).
//!
//! The client's address is looked up in each IP list (IPv4 as reversed
//! octets, `2.0.0.127.zen.example.org`; IPv6 as 32 reversed nibbles) and
//! the From domain in each domain list (`dbl`-style, `example.com.dbl.
//! example.org`), all at once and within one deadline. An `A` answer in
//! `127.0.0.0/8` means listed and adds a [`Reason`] worth
//! [`Dnsbl::points`]; `127.255.255.x` are the lists' error codes (query
//! refused, public resolver) and mean nothing. A list that does not answer
//! in time is skipped: a slow list never delays mail past the deadline.
//!
//! The look-ups go through [`Resolve`], which the binary implements with
//! the MX's resolver (the static table of `[outbound] dns_override_file`
//! in tests and closed networks, the system's otherwise): this crate does
//! no DNS of its own. Private and link-local client addresses are never
//! looked up (they mean nothing to a public list); loopback is, since
//! `127.0.0.2` is every list's test entry.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::Reason;

/// The answer to one `A` look-up: the addresses, empty when the name does
/// not exist; `Err` when the resolver could not tell.
pub type Answer = Result<Vec<Ipv4Addr>, String>;

/// `A` look-ups, implemented by the binary with the MX's resolver.
pub trait Resolve: Send + Sync {
    /// The `A` records of `name` (no final dot).
    fn a<'a>(&'a self, name: &'a str) -> Pin<Box<dyn Future<Output = Answer> + Send + 'a>>;
}

/// The configured lists.
#[derive(Clone)]
pub struct Dnsbl {
    /// Zones listing client addresses (`zen.spamhaus.org`-style).
    pub ip_lists: Vec<String>,
    /// Zones listing domains (`dbl.spamhaus.org`-style), asked about the
    /// From domain.
    pub domain_lists: Vec<String>,
    /// Points each listing adds.
    pub points: f64,
    /// For all the look-ups of one message together.
    pub timeout: Duration,
    pub resolver: Arc<dyn Resolve>,
}

impl fmt::Debug for Dnsbl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dnsbl")
            .field("ip_lists", &self.ip_lists)
            .field("domain_lists", &self.domain_lists)
            .field("points", &self.points)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Dnsbl {
    fn eq(&self, other: &Dnsbl) -> bool {
        self.ip_lists == other.ip_lists
            && self.domain_lists == other.domain_lists
            && self.points == other.points
            && self.timeout == other.timeout
            && Arc::ptr_eq(&self.resolver, &other.resolver)
    }
}

/// The name asked of `zone` about `ip`.
pub fn ip_query(ip: IpAddr, zone: &str) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.{zone}")
        }
        IpAddr::V6(v6) => {
            let mut name = String::with_capacity(64 + zone.len());
            for byte in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            name.push_str(zone);
            name
        }
    }
}

/// The name asked of `zone` about `domain` (lower-case, no final dot).
pub fn domain_query(domain: &str, zone: &str) -> String {
    format!("{}.{zone}", domain.trim_end_matches('.').to_ascii_lowercase())
}

/// Whether an answer means "listed" (`127.0.0.0/8` but the lists' error
/// codes `127.255.255.0/24`).
pub fn listed(answer: &[Ipv4Addr]) -> Option<Ipv4Addr> {
    answer.iter().copied().find(|a| a.octets()[0] == 127 && a.octets()[1..3] != [255, 255])
}

/// Whether `ip` is worth asking a public list about.
fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_private() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast()),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80)
        }
    }
}

impl Dnsbl {
    /// Whether any list is configured.
    pub fn is_empty(&self) -> bool {
        self.ip_lists.is_empty() && self.domain_lists.is_empty()
    }

    /// The listings of `ip` and `from_domain`, one reason per list that
    /// lists them.
    pub async fn check(&self, ip: IpAddr, from_domain: Option<&str>) -> Vec<Reason> {
        let mut queries: Vec<(&'static str, String, String)> = Vec::new();
        if public(ip) {
            for zone in &self.ip_lists {
                queries.push(("DNSBL_LISTED", zone.clone(), ip_query(ip, zone)));
            }
        }
        let domain = from_domain.filter(|d| d.contains('.') && d.is_ascii() && d.len() < 200);
        if let Some(domain) = domain {
            for zone in &self.domain_lists {
                queries.push(("DBL_LISTED", zone.clone(), domain_query(domain, zone)));
            }
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (_, _, name)) in queries.iter().enumerate() {
            let resolver = self.resolver.clone();
            let name = name.clone();
            tasks.spawn(async move { (i, resolver.a(&name).await) });
        }
        let mut found: Vec<(usize, Ipv4Addr)> = Vec::new();
        let deadline = tokio::time::sleep(self.timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = tasks.join_next() => match next {
                    None => break,
                    Some(Ok((i, Ok(answer)))) => found.extend(listed(&answer).map(|a| (i, a))),
                    Some(Ok((i, Err(e)))) => tracing::warn!(list = %queries[i].1, error = %e, "DNS blocklist look-up failed"),
                    Some(Err(_)) => {}
                },
                () = &mut deadline => {
                    tracing::warn!(pending = tasks.len(), "DNS blocklists did not all answer in time");
                    tasks.abort_all();
                    break;
                }
            }
        }
        found.sort_unstable();
        found
            .into_iter()
            .map(|(i, answer)| {
                let (code, zone) = (queries[i].0, &queries[i].1);
                let detail = if code == "DBL_LISTED" {
                    format!("{} {zone} {answer}", domain.unwrap_or_default())
                } else {
                    format!("{zone} {answer}")
                };
                Reason { code, points: self.points, detail }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Table(HashMap<String, Answer>);

    impl Resolve for Table {
        fn a<'a>(&'a self, name: &'a str) -> Pin<Box<dyn Future<Output = Answer> + Send + 'a>> {
            Box::pin(async move {
                if name.starts_with("slow.") || name.contains(".slow.") {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                self.0.get(name).cloned().unwrap_or(Ok(Vec::new()))
            })
        }
    }

    fn lists(entries: &[(&str, Answer)]) -> Dnsbl {
        let table = entries.iter().map(|(n, a)| (n.to_string(), a.clone())).collect();
        Dnsbl {
            ip_lists: vec!["zen.example.org".into(), "bl.example.net".into()],
            domain_lists: vec!["dbl.example.org".into()],
            points: 3.0,
            timeout: Duration::from_millis(300),
            resolver: Arc::new(Table(table)),
        }
    }

    #[test]
    fn query_names_follow_the_conventions() {
        assert_eq!(ip_query("192.0.2.99".parse().unwrap(), "zen.example.org"), "99.2.0.192.zen.example.org");
        assert_eq!(
            ip_query("2001:db8::1".parse().unwrap(), "bl.example.net"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example.net"
        );
        assert_eq!(domain_query("Spam.Example.COM.", "dbl.example.org"), "spam.example.com.dbl.example.org");
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(listed(&[ip("127.0.0.2")]), Some(ip("127.0.0.2")));
        assert_eq!(listed(&[ip("127.255.255.254")]), None);
        assert_eq!(listed(&[ip("192.0.2.1")]), None);
        assert_eq!(listed(&[]), None);
    }

    #[tokio::test]
    async fn listed_addresses_and_domains_add_points() {
        let bl = lists(&[
            ("2.0.0.127.zen.example.org", Ok(vec!["127.0.0.2".parse().unwrap()])),
            ("2.0.0.127.bl.example.net", Ok(vec!["127.255.255.254".parse().unwrap()])),
            ("spam.example.com.dbl.example.org", Ok(vec!["127.0.1.2".parse().unwrap()])),
        ]);
        let reasons = bl.check("127.0.0.2".parse().unwrap(), Some("spam.example.com")).await;
        let got: Vec<(&str, f64, &str)> = reasons.iter().map(|r| (r.code, r.points, r.detail.as_str())).collect();
        assert_eq!(
            got,
            [
                ("DNSBL_LISTED", 3.0, "zen.example.org 127.0.0.2"),
                ("DBL_LISTED", 3.0, "spam.example.com dbl.example.org 127.0.1.2")
            ]
        );
        // Not listed anywhere, or a resolver error: nothing.
        assert!(bl.check("192.0.2.7".parse().unwrap(), Some("example.com")).await.is_empty());
        let failing = lists(&[("7.2.0.192.zen.example.org", Err("SERVFAIL".into()))]);
        assert!(failing.check("192.0.2.7".parse().unwrap(), None).await.is_empty());
    }

    #[tokio::test]
    async fn private_addresses_are_never_asked() {
        let bl = lists(&[("5.0.168.192.zen.example.org", Ok(vec!["127.0.0.2".parse().unwrap()]))]);
        assert!(bl.check("192.168.0.5".parse().unwrap(), None).await.is_empty());
        assert!(bl.check("fe80::1".parse().unwrap(), None).await.is_empty());
    }

    #[tokio::test]
    async fn a_slow_list_is_skipped_at_the_deadline() {
        let mut bl = lists(&[("2.0.0.127.zen.example.org", Ok(vec!["127.0.0.2".parse().unwrap()]))]);
        bl.ip_lists.push("slow.example.org".into());
        let started = std::time::Instant::now();
        let reasons = bl.check("127.0.0.2".parse().unwrap(), None).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].detail, "zen.example.org 127.0.0.2");
    }
}
