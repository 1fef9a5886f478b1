//! A static DNS table for message authentication and blocklists, for tests
//! and closed networks.
//!
//! With a table, every SPF, DKIM and DMARC lookup, and every DNS blocklist
//! query ([`crate::lookup`]), is answered from it and never from the network:
//! a name that is not in the table does not exist. The file format is one
//! record per line, `name TXT value` (the value may be quoted) or `name A
//! address`; `#` starts a comment:
//!
//! ```text
//! ac-demo.fr                      TXT "v=spf1 ip4:127.0.0.2 -all"
//! ardoise._domainkey.ac-demo.fr   TXT "v=DKIM1; k=rsa; p=MIIB..."
//! _dmarc.ac-demo.fr               TXT "v=DMARC1; p=reject"
//! 2.0.0.127.zen.example.org       A   127.0.0.2
//! ```

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dmarc::Dmarc;
use mail_auth::spf::Spf;
use mail_auth::{DnssecStatus, MX, RecordSet, ResolverCache, Txt};

/// TXT records by lower-case name without the final dot.
#[derive(Debug, Default, Clone)]
pub struct DnsTable {
    txt: HashMap<String, Vec<String>>,
    /// The same records under `name.` and `name`, the keys mail-auth asks for.
    by_fqdn: HashMap<Box<str>, Vec<String>>,
    /// A records by lower-case name without the final dot.
    a: HashMap<String, Vec<Ipv4Addr>>,
}

impl DnsTable {
    /// Adds one TXT record.
    pub fn add_txt(&mut self, name: &str, value: &str) {
        let name = normalise(name);
        self.txt.entry(name.clone()).or_default().push(value.to_owned());
        for key in [format!("{name}."), name] {
            self.by_fqdn.entry(key.into_boxed_str()).or_default().push(value.to_owned());
        }
    }

    /// Adds one A record.
    pub fn add_a(&mut self, name: &str, address: Ipv4Addr) {
        self.a.entry(normalise(name)).or_default().push(address);
    }

    /// The A records of `name` (empty: no such name).
    pub fn a(&self, name: &str) -> &[Ipv4Addr] {
        self.a.get(&normalise(name)).map_or(&[], Vec::as_slice)
    }

    /// Reads a table file; reports the first malformed line.
    pub fn parse(text: &str) -> Result<DnsTable, String> {
        let mut table = DnsTable::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, rest) = word(line);
            let (kind, rest) = word(rest);
            if name.is_empty() || kind.is_empty() {
                return Err(format!("ligne {} : attendu « nom TXT valeur »", n + 1));
            }
            if kind.eq_ignore_ascii_case("A") {
                let address = rest.parse().map_err(|_| format!("ligne {} : adresse IPv4 attendue après A", n + 1))?;
                table.add_a(name, address);
                continue;
            }
            if !kind.eq_ignore_ascii_case("TXT") {
                return Err(format!("ligne {} : seuls les enregistrements TXT et A sont pris en charge", n + 1));
            }
            let value = rest.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(rest);
            table.add_txt(name, value);
        }
        Ok(table)
    }

    /// The cache adapter mail-auth asks before the network.
    pub(crate) fn txt_cache(self: &Arc<Self>) -> TxtCache {
        TxtCache(Some(self.clone()))
    }

    /// Checks only the DKIM signatures of `message` (tests and diagnostics):
    /// `pass`, `fail`, `none`...
    pub async fn verify_dkim_only(&self, message: &[u8]) -> String {
        let Some(parsed) = mail_auth::AuthenticatedMessage::parse(message) else {
            return "permerror".into();
        };
        let table = Arc::new(self.clone());
        let auth = crate::inbound::offline_authenticator();
        let txt = table.txt_cache();
        let params = mail_auth::Parameters::new(&parsed).with_txt_cache(&txt);
        let out = auth.verify_dkim(params).await;
        match out.first() {
            None => "none".into(),
            Some(o) => o.result().to_string().split([' ', ';', '(']).next().unwrap_or("").to_owned(),
        }
    }
}

fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The first word of `text` and what follows it, both without the white
/// space around them.
fn word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.split_once(char::is_whitespace) {
        Some((first, rest)) => (first, rest.trim()),
        None => (text, ""),
    }
}

/// Answers TXT lookups from an optional table; without one, every lookup goes
/// to the network.
pub(crate) struct TxtCache(pub(crate) Option<Arc<DnsTable>>);

fn parsed<T: TxtRecordParser + Into<Txt>>(records: &[String]) -> Txt {
    let mut last = Txt::Error(mail_auth::Error::Dns(mail_auth::DnsError::InvalidRecordType));
    for r in records {
        match T::parse(r.as_bytes()) {
            Ok(v) => return v.into(),
            Err(e) => last = Txt::Error(e),
        }
    }
    last
}

impl ResolverCache<Box<str>, Txt> for TxtCache {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let table = self.0.as_ref()?;
        let Some((found, records)) = table.by_fqdn.get_key_value(name) else {
            return Some(Txt::Error(mail_auth::Error::Dns(mail_auth::DnsError::RecordNotFound(
                mail_auth::hickory_resolver::proto::op::ResponseCode::NXDomain,
            ))));
        };
        let found: &str = found;
        let label = found.split('.').find(|l| l.starts_with('_')).unwrap_or("");
        Some(if found.contains("._domainkey") {
            parsed::<DomainKey>(records)
        } else if label == "_dmarc" {
            parsed::<Dmarc>(records)
        } else {
            parsed::<Spf>(records)
        })
    }

    fn remove<Q>(&self, _: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: Box<str>, _: Txt, _: std::time::Instant) {}
}

/// Answers every other lookup (MX, A, AAAA, PTR) with "no records" when a table
/// is in use, so that a closed network never waits on DNS.
pub(crate) struct EmptyCache(pub(crate) bool);

macro_rules! empty_cache {
    ($key:ty, $value:ty) => {
        impl ResolverCache<$key, RecordSet<$value>> for EmptyCache {
            fn get<Q>(&self, _: &Q) -> Option<RecordSet<$value>>
            where
                $key: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                self.0.then(|| RecordSet { rrset: Arc::from(Vec::new()), dnssec_status: DnssecStatus::Indeterminate })
            }
            fn remove<Q>(&self, _: &Q) -> Option<RecordSet<$value>>
            where
                $key: Borrow<Q>,
                Q: Hash + Eq + ?Sized,
            {
                None
            }
            fn insert(&self, _: $key, _: RecordSet<$value>, _: std::time::Instant) {}
        }
    };
}

empty_cache!(Box<str>, MX);
empty_cache!(Box<str>, Ipv4Addr);
empty_cache!(Box<str>, Ipv6Addr);
empty_cache!(IpAddr, Box<str>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_files_parse() {
        let t = DnsTable::parse(
            "# test\nAc-Demo.fr. TXT \"v=spf1 ip4:127.0.0.2 -all\"\n_dmarc.ac-demo.fr TXT v=DMARC1; p=reject\n",
        )
        .unwrap();
        assert_eq!(t.txt["ac-demo.fr"], ["v=spf1 ip4:127.0.0.2 -all"]);
        assert_eq!(t.txt["_dmarc.ac-demo.fr"], ["v=DMARC1; p=reject"]);
        assert!(DnsTable::parse("a.fr MX 10 mx.a.fr").is_err());
        let t =
            DnsTable::parse("2.0.0.127.zen.example.org. A 127.0.0.2\n2.0.0.127.Zen.example.org A 127.0.0.4").unwrap();
        assert_eq!(
            t.a("2.0.0.127.zen.example.org"),
            ["127.0.0.2".parse::<Ipv4Addr>().unwrap(), "127.0.0.4".parse().unwrap()]
        );
        assert!(t.a("3.0.0.127.zen.example.org").is_empty());
        assert!(DnsTable::parse("x.example.org A ::1").is_err());
        assert!(DnsTable::parse("lonely").is_err());
    }

    /// The module's own example aligns its columns with several spaces
    /// (and files written by hand use tabs): the kind was read as "" and
    /// the line refused.
    #[test]
    fn aligned_columns_as_the_module_doc_shows() {
        let t = DnsTable::parse(
            "ac-demo.fr                      TXT \"v=spf1 ip4:127.0.0.2 -all\"\n\
             _dmarc.ac-demo.fr\tTXT\t\t\"v=DMARC1; p=reject\"\n\
             TXT.example.org   TXT   \"TXT  inside\"\n\
             2.0.0.127.zen.example.org.   A    127.0.0.2\n",
        )
        .unwrap();
        assert_eq!(t.txt["ac-demo.fr"], ["v=spf1 ip4:127.0.0.2 -all"]);
        assert_eq!(t.txt["_dmarc.ac-demo.fr"], ["v=DMARC1; p=reject"]);
        assert_eq!(t.txt["txt.example.org"], ["TXT  inside"]);
        assert_eq!(t.a("2.0.0.127.zen.example.org"), ["127.0.0.2".parse::<Ipv4Addr>().unwrap()]);
        assert!(DnsTable::parse("name TXT").is_ok_and(|t| t.txt["name"] == [""]));
    }

    #[test]
    fn lookups_are_typed_by_name() {
        let mut t = DnsTable::default();
        t.add_txt("_dmarc.ac-demo.fr", "v=DMARC1; p=reject");
        t.add_txt("ac-demo.fr", "v=spf1 -all");
        let cache = Arc::new(t).txt_cache();
        assert!(matches!(cache.get("_dmarc.ac-demo.fr."), Some(Txt::Dmarc(_))));
        assert!(matches!(cache.get("ac-demo.fr."), Some(Txt::Spf(_))));
        assert!(matches!(cache.get("absent.fr."), Some(Txt::Error(_))));
        assert!(TxtCache(None).get("ac-demo.fr.").is_none());
    }
}
