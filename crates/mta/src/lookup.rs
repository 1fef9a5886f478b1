//! `A` look-ups for the hygiene checks (DNS blocklists): from the static
//! table of `[outbound] dns_override_file` when there is one (tests, closed
//! networks: a name not in it does not exist), from the system's resolver
//! otherwise.

use std::net::Ipv4Addr;
use std::sync::Arc;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;

use crate::dnstable::DnsTable;

/// Answers `A` questions.
pub struct ALookup {
    table: Option<Arc<DnsTable>>,
    resolver: Option<TokioResolver>,
}

impl ALookup {
    /// Look-ups in `table` only when given, else through the system's
    /// resolver (none when the system has no DNS configuration: every
    /// look-up then fails, and says so).
    pub fn new(table: Option<DnsTable>) -> ALookup {
        let resolver = match &table {
            Some(_) => None,
            None => match TokioResolver::builder_tokio() {
                Ok(builder) => builder.build().ok(),
                Err(error) => {
                    tracing::warn!(%error, "no system DNS configuration for the blocklists");
                    None
                }
            },
        };
        ALookup { table: table.map(Arc::new), resolver }
    }

    /// The addresses of `name` (no final dot); empty when it does not exist.
    pub async fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>, String> {
        if let Some(table) = &self.table {
            return Ok(table.a(name).to_vec());
        }
        let Some(resolver) = &self.resolver else {
            return Err("no DNS resolver".into());
        };
        match resolver.ipv4_lookup(format!("{name}.")).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::A(a) => Some(a.0),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_table_answers_alone() {
        let table = DnsTable::parse("2.0.0.127.zen.example.org A 127.0.0.2").unwrap();
        let lookup = ALookup::new(Some(table));
        assert_eq!(lookup.a("2.0.0.127.zen.example.org").await.unwrap(), ["127.0.0.2".parse::<Ipv4Addr>().unwrap()]);
        assert_eq!(lookup.a("example.com").await.unwrap(), Vec::<Ipv4Addr>::new());
    }
}
