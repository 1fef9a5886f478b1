//! Authentication of incoming mail: SPF, DKIM, ARC and DMARC (mail-auth).
//!
//! The MX calls [`Verifier::check`] once the message is received: the result is
//! an `Authentication-Results:` header (RFC 8601) to prepend, a short summary
//! for the stored metadata, and whether DMARC asks for the message to be
//! refused (`p=reject` and neither SPF nor DKIM aligned), which the MX turns
//! into `550 5.7.1` at SMTP time. DNS failures never refuse a message: they
//! give `temperror` results and the message is accepted.

use std::net::IpAddr;
use std::sync::Arc;

use mail_auth::common::headers::HeaderWriter;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, DmarcResult, MessageAuthenticator, Parameters};

use crate::dnstable::{DnsTable, EmptyCache, TxtCache};

/// The outcome of the checks on one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The full header line(s), ending in CRLF, to prepend to the message.
    pub header: String,
    pub spf: String,
    pub dkim: String,
    pub dmarc: String,
    /// DMARC failed under a `p=reject` policy: refuse the message.
    pub reject: bool,
    /// DMARC failed under a `p=quarantine` policy: file it in Indésirables.
    pub quarantine: bool,
}

/// Checks incoming messages; cheap to share.
pub struct Verifier {
    auth: MessageAuthenticator,
    table: Option<Arc<DnsTable>>,
    hostname: String,
}

/// An authenticator that never reaches a name server (used with a static table).
pub fn offline_authenticator() -> MessageAuthenticator {
    use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
    let config = ResolverConfig::from_parts(None, Vec::new(), Vec::new());
    let mut opts = ResolverOpts::default();
    opts.timeout = std::time::Duration::from_millis(100);
    opts.attempts = 0;
    MessageAuthenticator::new(config, opts).expect("a resolver without name servers always builds")
}

impl Verifier {
    /// With a table, DNS is never used; without, the system resolver is.
    pub fn new(hostname: &str, table: Option<DnsTable>) -> Verifier {
        let auth = match &table {
            Some(_) => offline_authenticator(),
            None => MessageAuthenticator::new_system_conf().unwrap_or_else(|error| {
                tracing::warn!(%error, "no system DNS configuration for SPF/DKIM/DMARC checks");
                offline_authenticator()
            }),
        };
        Verifier { auth, table: table.map(Arc::new), hostname: hostname.to_owned() }
    }

    /// Verifies `message` received from `ip` (which said `helo`) with envelope
    /// sender `mail_from` (empty for `<>`).
    pub async fn check(&self, message: &[u8], ip: IpAddr, helo: &str, mail_from: &str) -> Verdict {
        let Some(parsed) = AuthenticatedMessage::parse(message) else {
            let header = format!("Authentication-Results: {}; none (unparsable message)\r\n", self.hostname);
            let none = || "none".to_owned();
            return Verdict { header, spf: none(), dkim: none(), dmarc: none(), reject: false, quarantine: false };
        };
        let txt = TxtCache(self.table.clone());
        let empty = EmptyCache(self.table.is_some());
        macro_rules! params {
            ($p:expr) => {
                Parameters::new($p)
                    .with_txt_cache(&txt)
                    .with_mx_cache(&empty)
                    .with_ipv4_cache(&empty)
                    .with_ipv6_cache(&empty)
                    .with_ptr_cache(&empty)
            };
        }
        let dkim = self.auth.verify_dkim(params!(&parsed)).await;
        let arc = self.auth.verify_arc(params!(&parsed)).await;
        let helo_domain = if helo.is_empty() { "unknown" } else { helo };
        let spf = if mail_from.is_empty() {
            self.auth.verify_spf(params!(SpfParameters::verify_ehlo(ip, helo_domain, &self.hostname))).await
        } else {
            self.auth
                .verify_spf(params!(SpfParameters::verify_mail_from(ip, helo_domain, &self.hostname, mail_from)))
                .await
        };
        let mail_from_domain = mail_from.rsplit_once('@').map_or(helo_domain, |(_, d)| d);
        let dmarc = self.auth.verify_dmarc(params!(DmarcParameters::new(&parsed, &dkim, mail_from_domain, &spf))).await;
        let header_from = parsed.from.first().map(String::as_str).unwrap_or("");
        let results = AuthenticationResults::new(&self.hostname)
            .with_dkim_results(&dkim, header_from)
            .with_spf_mailfrom_result(&spf, ip, mail_from, helo_domain)
            .with_arc_result(&arc, ip)
            .with_dmarc_result(&dmarc);
        let dmarc_failed = matches!(dmarc.dkim_result(), DmarcResult::Fail(_) | DmarcResult::None)
            && matches!(dmarc.spf_result(), DmarcResult::Fail(_) | DmarcResult::None)
            && !dmarc.domain().is_empty();
        let reject = dmarc_failed && dmarc.policy() == Policy::Reject;
        let quarantine = dmarc_failed && dmarc.policy() == Policy::Quarantine;
        let word = |s: String| s.split([' ', '(', ';']).next().unwrap_or("").to_ascii_lowercase();
        let dkim_word = if dkim.is_empty() {
            "none".to_owned()
        } else if dkim.iter().any(|d| matches!(d.result(), mail_auth::DkimResult::Pass)) {
            "pass".to_owned()
        } else {
            word(dkim[0].result().to_string())
        };
        let dmarc_word = if dmarc.domain().is_empty() {
            "none".to_owned()
        } else if dmarc_failed {
            "fail".to_owned()
        } else {
            "pass".to_owned()
        };
        Verdict {
            header: results.to_header(),
            spf: word(spf.result().to_string()),
            dkim: dkim_word,
            dmarc: dmarc_word,
            reject,
            quarantine,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::DkimKeys;

    const MESSAGE: &[u8] = b"From: Paul Durand <paul.durand@ac-autre.fr>\r\nTo: claire.martin@ac-demo.fr\r\n\
        Subject: Conseil de classe\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <c1@ac-autre.fr>\r\n\r\n\
        Bonjour Claire,\r\n";

    fn table(dkim_record: &str, dmarc: &str) -> DnsTable {
        let mut t = DnsTable::default();
        t.add_txt("ac-autre.fr", "v=spf1 ip4:127.0.0.2 -all");
        t.add_txt("ardoise._domainkey.ac-autre.fr", dkim_record);
        t.add_txt("_dmarc.ac-autre.fr", dmarc);
        t
    }

    #[tokio::test]
    async fn pass_and_fail_with_a_static_table() {
        let dir = tempfile::tempdir().unwrap();
        let keys = DkimKeys::load_or_create(dir.path(), "ardoise", &["ac-autre.fr".into()]).unwrap();
        let signed = keys.sign("ac-autre.fr", MESSAGE.to_vec());
        let record = keys.txt_record("ac-autre.fr").unwrap();
        let v = Verifier::new("mx.ac-demo.fr", Some(table(&record, "v=DMARC1; p=reject")));
        let good = "127.0.0.2".parse().unwrap();
        let bad = "192.0.2.9".parse().unwrap();

        let ok = v.check(&signed, good, "mx.ac-autre.fr", "paul.durand@ac-autre.fr").await;
        assert_eq!((ok.spf.as_str(), ok.dkim.as_str(), ok.dmarc.as_str(), ok.reject), ("pass", "pass", "pass", false));
        assert!(ok.header.starts_with("Authentication-Results: mx.ac-demo.fr;"), "{}", ok.header);
        assert!(ok.header.contains("dkim=pass"), "{}", ok.header);
        assert!(ok.header.contains("spf=pass"), "{}", ok.header);
        assert!(ok.header.contains("dmarc=pass"), "{}", ok.header);

        // From a wrong address but DKIM-signed: DMARC passes through DKIM.
        let aligned = v.check(&signed, bad, "evil.example", "paul.durand@ac-autre.fr").await;
        assert_eq!((aligned.spf.as_str(), aligned.dkim.as_str(), aligned.reject), ("fail", "pass", false));

        // Unsigned from a wrong address under p=reject: refused.
        let forged = v.check(MESSAGE, bad, "evil.example", "paul.durand@ac-autre.fr").await;
        assert_eq!((forged.spf.as_str(), forged.dkim.as_str(), forged.dmarc.as_str()), ("fail", "none", "fail"));
        assert!(forged.reject);
        assert!(forged.header.contains("dmarc=fail"), "{}", forged.header);

        // The same under p=none is only reported.
        let lenient = Verifier::new("mx.ac-demo.fr", Some(table(&record, "v=DMARC1; p=none")));
        let reported = lenient.check(MESSAGE, bad, "evil.example", "paul.durand@ac-autre.fr").await;
        assert_eq!((reported.dmarc.as_str(), reported.reject, reported.quarantine), ("fail", false, false));

        // Under p=quarantine: accepted, for the Junk folder.
        let strict = Verifier::new("mx.ac-demo.fr", Some(table(&record, "v=DMARC1; p=quarantine")));
        let held = strict.check(MESSAGE, bad, "evil.example", "paul.durand@ac-autre.fr").await;
        assert_eq!((held.reject, held.quarantine), (false, true));
        let fine = strict.check(&signed, good, "mx.ac-autre.fr", "paul.durand@ac-autre.fr").await;
        assert_eq!((fine.reject, fine.quarantine), (false, false));
    }

    #[tokio::test]
    async fn unknown_domains_are_none_not_errors() {
        let v = Verifier::new("mx.ac-demo.fr", Some(DnsTable::default()));
        let out = v.check(MESSAGE, "192.0.2.9".parse().unwrap(), "x.example", "paul.durand@ac-autre.fr").await;
        assert_eq!((out.spf.as_str(), out.dkim.as_str(), out.reject), ("none", "none", false));
    }
}
