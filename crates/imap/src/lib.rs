//! IMAP4rev2 (RFC 9051) with IMAP4rev1 (RFC 3501) compatibility: how staff
//! read their mail from Thunderbird, Outlook and phones.
//!
//! The crate is layered like the SMTP one. [`reader`] frames client input
//! into commands without doing any I/O (literals are explicit states, every
//! length is capped), `parse` turns a framed command into plain data,
//! and [`Session`] runs over any stream, so tests drive it in memory: its
//! protocol state is a type (`state.rs`), and `dispatch.rs` hands each
//! command the part of it the command needs. The mail domain ([`mailstore::Mailstore`]) is the only seam to
//! storage; domain errors become responses in `reply.rs` only.
//!
//! What is there: LOGIN, AUTHENTICATE PLAIN (SASL-IR), STARTTLS and implicit
//! TLS, LOGINDISABLED on cleartext, ID, ENABLE, NAMESPACE (with the declared
//! shared namespace), LIST (LIST-EXTENDED with SUBSCRIBED, RECURSIVEMATCH and CHILDINFO, SPECIAL-USE, LIST-STATUS; `list.rs` decides the names and attributes), LSUB, STATUS, CREATE,
//! DELETE, RENAME, SUBSCRIBE, SELECT, EXAMINE, FETCH (envelope, body
//! structure and body sections served from stored offsets, BINARY, SAVEDATE,
//! EMAILID/THREADID), STORE, EXPUNGE, UIDPLUS, APPEND, MULTIAPPEND and CATENATE
//! (`catenate.rs`: parts and IMAP URLs of the user's own messages), COPY,
//! MOVE, SEARCH over every key (TEXT and BODY through the full-text index of
//! the `search` crate, never a scan), ESEARCH and SEARCHRES, SORT (and ESORT)
//! and THREAD (`sort.rs`), CONDSTORE and QRESYNC (`qresync.rs`), QUOTA and a minimal ACL
//! (`quota.rs`), COMPRESS=DEFLATE (`compress.rs`), IDLE. A session watches
//! its account from login on and ends with `* BYE` within a second of
//! [`mailstore::Mailstore::revoke_access`].
//!
//! CONTEXT=SEARCH and CONTEXT=SORT (`context.rs`: PARTIAL, searches kept
//! up to date with ADDTO/REMOVEFROM, CANCELUPDATE) and NOTIFY (`notify.rs`:
//! the selected mailbox and others told of between commands and in IDLE).
//!
//! Not there yet: ACL changes (SETACL; sharing comes with delegation),
//! relative and URLAUTH URLs in CATENATE; LITERAL- is not advertised
//! (LITERAL+, a superset, is).

mod acl;
mod admission;
mod base64;
mod binary;
mod catenate;
pub mod command;
mod compress;
mod context;
pub mod date;
mod dispatch;
mod envelope;
mod fetch;
mod list;
mod login;
mod mailboxes;
mod messages;
mod notify;
pub mod parse;
pub(crate) mod pattern;
mod qresync;
mod quota;
pub mod reader;
mod reply;
mod resp;
mod search;
mod sections;
mod selected;
pub mod seqset;
mod server;
mod session;
mod sort;
mod state;
mod untagged;

use std::sync::Arc;
use std::time::Duration;

/// Default cap of simultaneous connections from one address.
pub const DEFAULT_PER_IP: usize = 100;
/// Default memory for APPEND literals in flight, all sessions together: 16
/// messages at the largest default size, far more at usual sizes.
pub const DEFAULT_LITERAL_BUDGET: usize = 1 << 30;
/// Default cap of simultaneous sessions of one account (a phone, a laptop
/// and a desktop client each keep several).
pub const DEFAULT_PER_USER: usize = 30;

pub use admission::Admission;
pub use envelope::envelope_forms;
pub use reader::{Limits, LiteralBudget};
pub use server::{Services, handle_connection, serve};
pub use session::{Ending, Session};

/// Limits and identity of the IMAP listeners.
#[derive(Debug, Clone)]
pub struct ImapConfig {
    /// Name announced in the greeting.
    pub hostname: String,
    pub limits: Limits,
    /// Largest message accepted by APPEND.
    pub max_message_size: usize,
    /// Silence allowed from an authenticated client (RFC 9051: at least 30 minutes).
    pub idle_timeout: Duration,
    /// Silence allowed before authentication.
    pub login_timeout: Duration,
    /// Allow LOGIN without TLS from 127.0.0.1/::1 (tests, a local proxy).
    pub allow_plaintext_loopback: bool,
    /// Most simultaneous connections per listener.
    pub max_connections: usize,
    /// Pause before answering a wrong password.
    pub auth_failure_delay: Duration,
    /// Connections per client address and sessions per account: the
    /// counters are shared by every listener given this configuration.
    pub admission: Arc<Admission>,
    /// Memory that APPEND literals in flight may hold, all sessions together.
    pub literal_budget: Arc<LiteralBudget>,
    /// The installation's zone (`[web] time_zone`): SEARCH BEFORE/ON/SINCE
    /// read a message's internal date "disregarding time and timezone" (RFC
    /// 9051 section 6.4.4) as the day it was in this zone, the day the
    /// webmail shows, as Dovecot reads it in the server's zone.
    pub time_zone: jiff::tz::TimeZone,
}

impl Default for ImapConfig {
    fn default() -> Self {
        ImapConfig {
            hostname: "localhost".into(),
            limits: Limits::default(),
            max_message_size: 64 << 20,
            idle_timeout: Duration::from_secs(30 * 60),
            login_timeout: Duration::from_secs(60),
            allow_plaintext_loopback: false,
            max_connections: 10_000,
            auth_failure_delay: Duration::from_secs(1),
            admission: Admission::new(DEFAULT_PER_IP, DEFAULT_PER_USER),
            literal_budget: LiteralBudget::new(DEFAULT_LITERAL_BUDGET),
            time_zone: jiff::tz::TimeZone::UTC,
        }
    }
}
