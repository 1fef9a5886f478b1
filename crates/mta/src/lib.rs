//! Mail transfer: what happens to a message once a local user has sent it, and
//! the checks on messages that arrive from other servers.
//!
//! - [`Mta::submit`] takes an authenticated user's message: it checks the
//!   sender and the sending limits ([`limits`]), signs it with the domain's
//!   DKIM key ([`dkim`]), delivers the local copies through
//!   [`mailstore::Mailstore::deliver`] (through the recipients' Sieve rules
//!   when the `filter` service is set: `filtering`) and queues the remote
//!   recipients in the store's durable queue, before the client hears 250.
//! - [`runner`] drains the queue: it leases due entries, groups recipients by
//!   domain, finds the servers ([`route`]: a static table first, then MX
//!   records), talks SMTP to them ([`client`]: opportunistic STARTTLS), records
//!   each recipient's outcome as soon as it is known, retries with
//!   exponential backoff ([`backoff`]), warns the sender after a delay and
//!   bounces with an RFC 3464 report ([`dsn`]), read by the entry's account,
//!   or, for a list's copies, by whoever [`reports::ReportRoute`] (installed
//!   by the binary: the lists service) says the sender stands for.
//! - [`inbound`] verifies SPF, DKIM and DMARC of incoming mail and writes the
//!   `Authentication-Results:` header; [`dnstable`] is the static DNS table
//!   used by tests and closed networks.
//!
//! This crate knows SMTP as a client only; it never sees the server side's
//! wire types, and errors are classified temporary or permanent.

pub mod autoreply;
pub mod backoff;
pub mod client;
pub mod dkim;
pub mod dnstable;
pub mod dsn;
mod filtering;
mod headers;
pub mod inbound;
pub mod limits;
pub mod lookup;
mod pool;
pub mod refusals;
pub mod reports;
pub mod route;
pub mod runner;
mod submit;
mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailstore::Mailstore;
use model::{ErrorKind, Transience};

pub use reports::{ReportRoute, ReportTo};
pub use submit::{Destination, Submission, SubmitError};

/// How outgoing mail is handled, resolved from the configuration by the binary.
#[derive(Debug, Clone)]
pub struct OutboundSettings {
    /// The name given in EHLO and in reports.
    pub hostname: String,
    /// Servers to use for a domain instead of its MX records (tests, closed networks).
    pub mx_override: HashMap<String, Vec<SocketAddr>>,
    /// The port of remote SMTP servers found through MX records.
    pub remote_port: u16,
    /// The retry schedule.
    pub backoff: backoff::Backoff,
    /// How long a message may stay queued before it is bounced.
    pub give_up_after: Duration,
    /// After this long in the queue the sender is told the message is delayed.
    pub delay_warning: Duration,
    /// How often the runner looks for due entries.
    pub poll_interval: Duration,
    /// Connection and command deadline when talking to remote servers.
    pub timeout: Duration,
    /// Demo outbox: remote mail is delivered to this local account instead of leaving.
    pub capture: Option<model::AccountId>,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        OutboundSettings {
            hostname: "localhost".into(),
            mx_override: HashMap::new(),
            remote_port: 25,
            backoff: backoff::Backoff::default(),
            give_up_after: Duration::from_secs(5 * 24 * 3600),
            delay_warning: Duration::from_secs(4 * 3600),
            poll_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(120),
            capture: None,
        }
    }
}

/// Errors of the transfer domain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("mail store: {0}")]
    Mailstore(#[from] mailstore::Error),
    #[error("store: {0}")]
    Store(#[from] store::Error),
    #[error("blob storage: {0}")]
    Blob(#[from] std::io::Error),
    #[error("DKIM: {0}")]
    Dkim(String),
    #[error("filter rules: {0}")]
    Filter(#[from] filter::Error),
}

impl ErrorKind for Error {
    fn transience(&self) -> Transience {
        match self {
            Error::Mailstore(e) => e.transience(),
            Error::Store(e) => e.transience(),
            Error::Blob(_) => Transience::Temporary,
            Error::Dkim(_) => Transience::Temporary,
            Error::Filter(e) => e.transience(),
        }
    }
}

/// The transfer service: submission, the queue runner's state and DKIM keys.
pub struct Mta {
    /// Local copies are delivered, and local recipients resolved, through the mail domain.
    pub(crate) mailstore: Arc<Mailstore>,
    /// The durable queue's tables, and the accounts' aliases and vacation replies.
    pub(crate) store: store::Store,
    /// Where queued messages are kept until they leave.
    pub(crate) blobs: blob::BlobStore,
    pub(crate) settings: OutboundSettings,
    pub(crate) dkim: dkim::DkimKeys,
    pub(crate) limits: limits::Limiter,
    /// Wakes the runner when something was queued.
    pub(crate) wake: tokio::sync::Notify,
    /// Sessions kept open between messages to the same server.
    pub(crate) sessions: pool::Sessions,
    /// The recipients' filter rules, once the binary set them: local
    /// copies are delivered through them.
    pub(crate) filters: std::sync::OnceLock<Arc<filter::Filters>>,
    /// Who reads the reports of entries with no account, once the binary
    /// set it (`reports`).
    pub(crate) report_route: std::sync::OnceLock<std::sync::Weak<dyn reports::ReportRoute>>,
}

impl Mta {
    /// `store` and `blobs` are the ones `mailstore` was built on.
    pub fn new(
        mailstore: Arc<Mailstore>,
        store: store::Store,
        blobs: blob::BlobStore,
        settings: OutboundSettings,
        dkim: dkim::DkimKeys,
        limits: limits::Limiter,
    ) -> Arc<Mta> {
        Arc::new(Mta {
            mailstore,
            store,
            blobs,
            settings,
            dkim,
            limits,
            wake: tokio::sync::Notify::new(),
            sessions: Default::default(),
            filters: std::sync::OnceLock::new(),
            report_route: std::sync::OnceLock::new(),
        })
    }

    pub fn mailstore(&self) -> &Arc<Mailstore> {
        &self.mailstore
    }

    /// The store handle the queue uses.
    pub fn store(&self) -> &store::Store {
        &self.store
    }

    pub fn settings(&self) -> &OutboundSettings {
        &self.settings
    }

    pub fn dkim(&self) -> &dkim::DkimKeys {
        &self.dkim
    }
}

/// The current time in unix seconds.
pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
