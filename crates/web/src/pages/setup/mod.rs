//! Mail clients set up without typing (issue 24, item 3): Thunderbird's
//! autoconfig ([`thunderbird`]), Outlook's autodiscover, XML and JSON
//! ([`outlook`]), an Apple configuration profile and a help page with the
//! account's exact settings ([`guide`]).
//!
//! Thunderbird and Outlook ask before any login, so their answers hold
//! nothing personal: they are the same for every address of a domain this
//! server hosts (never saying whether an address exists), and a domain it
//! does not host gets the error page. The profile and the help page are for
//! a signed-in visitor.
//!
//! What is announced comes from the listeners actually bound (so ephemeral
//! ports in tests are right), implicit TLS first as RFC 8314 §3.3 asks
//! ("implicit TLS ... in preference to STARTTLS"), on the host name of
//! `[web] mail_host`.

pub mod guide;
pub mod outlook;
pub mod thunderbird;

use model::{Address, Domain};

use crate::App;

/// How a listener protects its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (993, 465).
    Tls,
    /// Cleartext, then STARTTLS (143, 587).
    StartTls,
}

/// One port a client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub port: u16,
    pub security: Security,
}

impl Endpoint {
    /// Thunderbird's `socketType`.
    pub fn socket_type(&self) -> &'static str {
        match self.security {
            Security::Tls => "SSL",
            Security::StartTls => "STARTTLS",
        }
    }

    /// Outlook's `Encryption` (SSL: from the first byte; TLS: STARTTLS).
    pub fn encryption(&self) -> &'static str {
        match self.security {
            Security::Tls => "SSL",
            Security::StartTls => "TLS",
        }
    }

    /// For people: « SSL/TLS » or « STARTTLS », as clients' forms name them.
    pub fn label(&self) -> &'static str {
        match self.security {
            Security::Tls => "SSL/TLS",
            Security::StartTls => "STARTTLS",
        }
    }
}

/// What mail clients are told: the host and the ports of IMAP and of
/// submission, each list with implicit TLS first.
#[derive(Debug, Clone, Default)]
pub struct MailSetup {
    pub host: String,
    pub imap: Vec<Endpoint>,
    pub submission: Vec<Endpoint>,
}

impl MailSetup {
    /// From the listeners bound (`imap`, `imaps`, `submission`,
    /// `submissions`, as the binary names them); other services are ignored.
    pub fn new(host: &str, bound: &[(String, std::net::SocketAddr)]) -> MailSetup {
        let mut setup = MailSetup { host: host.to_owned(), ..MailSetup::default() };
        for (service, addr) in bound {
            let (list, security) = match service.as_str() {
                "imaps" => (&mut setup.imap, Security::Tls),
                "imap" => (&mut setup.imap, Security::StartTls),
                "submissions" => (&mut setup.submission, Security::Tls),
                "submission" => (&mut setup.submission, Security::StartTls),
                _ => continue,
            };
            let e = Endpoint { port: addr.port(), security };
            if !list.contains(&e) {
                list.push(e);
            }
        }
        for list in [&mut setup.imap, &mut setup.submission] {
            list.sort_by_key(|e| e.security != Security::Tls);
        }
        setup
    }

    /// Whether clients can be told anything (IMAP and submission both listen).
    pub fn usable(&self) -> bool {
        !self.host.is_empty() && !self.imap.is_empty() && !self.submission.is_empty()
    }
}

/// The domain of `address` when this server hosts it.
async fn hosted(app: &App, address: &str) -> Option<Address> {
    let address = Address::parse(address.trim()).ok()?;
    hosts(app, address.domain()).await.then_some(address)
}

/// Whether this server receives mail for `domain`.
async fn hosts(app: &App, domain: &Domain) -> bool {
    match app.ms.local_domains().await {
        Ok(domains) => domains.iter().any(|d| d == domain),
        Err(e) => {
            tracing::warn!(error = %e, "local domains unreadable for client setup");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_tls_comes_first_and_other_services_are_left_out() {
        let bound: Vec<(String, std::net::SocketAddr)> = [
            ("smtp", "127.0.0.1:25"),
            ("imap", "127.0.0.1:143"),
            ("imaps", "127.0.0.1:993"),
            ("submission", "127.0.0.1:587"),
            ("submissions", "127.0.0.1:465"),
            ("http", "127.0.0.1:80"),
        ]
        .iter()
        .map(|(s, a)| (s.to_string(), a.parse().unwrap()))
        .collect();
        let s = MailSetup::new("mail.ac-test.fr", &bound);
        assert_eq!(
            s.imap,
            vec![Endpoint { port: 993, security: Security::Tls }, Endpoint { port: 143, security: Security::StartTls }]
        );
        assert_eq!(
            s.submission,
            vec![Endpoint { port: 465, security: Security::Tls }, Endpoint { port: 587, security: Security::StartTls }]
        );
        assert!(s.usable());
        assert!(!MailSetup::new("mail.ac-test.fr", &bound[..2]).usable(), "no submission: nothing to announce");
    }
}
