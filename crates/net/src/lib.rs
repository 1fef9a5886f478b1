//! Network plumbing shared by every listener: the TLS material, quick
//! acknowledgements on accepted connections ([`QuickAck`]) and the connection
//! caps per address and per account ([`Admission`]).
//!
//! Each protocol adapter (SMTP, IMAP, HTTP...) needs the same server certificate and
//! the same rustls settings; this crate builds them once so that no adapter reads PEM
//! files or picks cipher suites on its own. When the administrator gives no
//! certificate, a self-signed one is generated on first start in the data folder and
//! reused afterwards, so that a fresh install (and the demo) speaks TLS at once.
//! The pair in use can be replaced while the listeners run ([`Certificates`],
//! for ACME renewals), and the web's HTTPS listeners answer ACME's
//! TLS-ALPN-01 validations ([`AlpnChallenges`]).

pub mod admission;
mod alpn;
mod certs;
mod live;
mod quickack;
mod tls;

pub use admission::{Admission, Slot};
pub use alpn::{ACME_TLS_ALPN, AlpnChallenges, is_acme_tls, with_tls_alpn};
pub use live::Live;
pub use quickack::{QuickAck, arm as arm_quick_ack};

pub use certs::{Certificates, parse_pem};
pub use tls::{
    CertificateFacts, NetError, certificate_facts, load_certs, load_private_key, replaceable_server_tls, server_tls,
    write_atomically,
};
