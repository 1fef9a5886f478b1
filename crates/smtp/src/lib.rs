//! SMTP, both roles of Ardoise: the MX (incoming mail) and submission (users sending).
//!
//! This crate is the only one that knows the SMTP wire format. It accepts connections,
//! runs one session per client on one session core (`session.rs`: EHLO, MAIL, RCPT,
//! DATA/BDAT, STARTTLS, AUTH, pipelining, limits and deadlines) and a role
//! (`role.rs`) that says what differs: the MX (`mx.rs`) hands each accepted message to
//! a [`MailSink`], the business side, which decides who is local and stores the
//! message durably; submission (`submission.rs`) asks a [`SubmissionSink`] who logs in,
//! who may send as whom and what becomes of the message. Commands are parsed with
//! `smtp-proto`; framing, dot-unstuffing, limits and replies are done here.
//!
//! Sessions are generic over their stream so that tests drive them in memory, and the
//! STARTTLS upgrade happens in place on the same stream. Every refusal of either role
//! goes through one error type whose mapping to reply codes lives in `reply.rs`.

mod auth;
mod body;
mod conn;
mod data;
mod mx;
mod received;
mod reply;
mod role;
mod server;
mod session;
mod submission;
mod submission_server;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use body::BodyBudget;
pub use net::Admission;
pub use server::{handle_connection, serve};
pub use submission::SubmissionEnvelope;
pub use submission_server::{handle_submission, serve_submission};

/// Limits and identity of the SMTP listener.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Name announced in the greeting, EHLO reply and `Received:` header.
    pub hostname: String,
    /// Largest accepted message, in bytes, before the `Received:` header is added.
    pub max_message_size: usize,
    /// Most recipients accepted in one transaction.
    pub max_recipients: usize,
    /// Longest command line, CRLF included (message lines are not limited by this).
    pub max_line_length: usize,
    /// Most commands accepted between two accepted messages (a client that
    /// talks without delivering is cut off; one reusing its connection is not).
    pub max_commands: usize,
    /// Client errors tolerated before the session is closed with a 421.
    pub max_errors: usize,
    /// How long the server waits for the client before a 421 and a close.
    pub idle_timeout: Duration,
    /// Most simultaneous connections handled by [`serve`].
    pub max_connections: usize,
    /// Connections per client address (an IPv6 /64), counted across every
    /// listener given this configuration (the MX and submission alike).
    pub admission: Arc<Admission>,
    /// How long one whole command line may take to arrive, however often the
    /// client sends a byte.
    pub command_timeout: Duration,
    /// How long one transaction may take, from MAIL FROM to the end of the data.
    pub transaction_timeout: Duration,
    /// Lowest average rate of a message body, in bytes per second, once
    /// [`SmtpConfig::data_grace`] has passed (0: no minimum).
    pub data_min_rate: u64,
    /// How long a body may take before its rate is checked.
    pub data_grace: Duration,
    /// Memory for the bodies of every SMTP session of the process.
    pub body_budget: Arc<BodyBudget>,
    /// Largest body held in memory while it arrives; longer ones go to a file.
    pub body_memory_threshold: usize,
    /// Folder of those temporary files (the system's temporary folder if unset).
    pub spool_dir: Option<PathBuf>,
}

/// Connections from one address by default.
pub const DEFAULT_PER_IP: usize = 20;

impl SmtpConfig {
    /// The instant by which the next command must have arrived: the command
    /// deadline, or the transaction's if that comes first.
    pub(crate) fn command_deadline(&self, transaction: Option<tokio::time::Instant>) -> tokio::time::Instant {
        let command = tokio::time::Instant::now() + self.command_timeout;
        transaction.map_or(command, |t| t.min(command))
    }

    pub(crate) fn spool_settings(&self) -> body::SpoolSettings {
        body::SpoolSettings {
            budget: self.body_budget.clone(),
            dir: self.spool_dir.clone(),
            threshold: self.body_memory_threshold,
            limit: self.max_message_size,
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            hostname: "localhost".to_owned(),
            max_message_size: 20 * 1024 * 1024,
            max_recipients: 1000,
            max_line_length: 4096,
            max_commands: 1000,
            max_errors: 10,
            idle_timeout: Duration::from_secs(300),
            max_connections: 1000,
            admission: Admission::new(DEFAULT_PER_IP, usize::MAX),
            // RFC 5321 section 4.5.3.2.7: five minutes for a command.
            command_timeout: Duration::from_secs(300),
            transaction_timeout: Duration::from_secs(30 * 60),
            data_min_rate: 1024,
            data_grace: Duration::from_secs(60),
            body_budget: BodyBudget::new(128 << 20),
            body_memory_threshold: 256 << 10,
            spool_dir: None,
        }
    }
}

/// What the business side says about one `RCPT TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptVerdict {
    /// A local mailbox; the value is its account id.
    Accept(i64),
    /// A local address that reaches several accounts (`postmaster@` and `abuse@`
    /// reach the domain's administrators); none at all reads as an unknown user.
    AcceptFor(Vec<i64>),
    /// A local address that the sink expands itself at delivery (a
    /// distribution list): it comes in the envelope with the account id
    /// [`EXPANDED`].
    AcceptExpanded,
    /// A local domain, but no such mailbox.
    UnknownUser,
    /// Not a domain this server receives mail for (relaying is denied).
    NotLocal,
    /// The mailbox exists but is full.
    OverQuota,
    /// The answer is unknown right now (database unavailable...): the client should retry.
    TemporaryFailure,
}

/// The account id that an envelope gives an address accepted with
/// [`RcptVerdict::AcceptExpanded`] (no account has it: ids start at 1).
pub const EXPANDED: i64 = 0;

/// The SMTP envelope of one accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse path; `None` is the null sender `<>` (bounces).
    pub mail_from: Option<model::Address>,
    /// Accepted recipients with the account id their verdict gave: one entry per
    /// account, so an address accepted for several accounts comes once for each
    /// (and an address the sink expands itself once, with [`EXPANDED`]).
    pub recipients: Vec<(model::Address, i64)>,
    /// The name given in HELO/EHLO (sanitised).
    pub helo: String,
    /// The client's address.
    pub remote_ip: IpAddr,
    /// Whether the message travelled over TLS.
    pub tls: bool,
}

/// Why the business side could not store a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliverError {
    /// Temporary errors become 451 (the client retries), permanent ones 554.
    pub transience: model::Transience,
    /// Sent to the client after the status code: no secrets, one line.
    pub message: String,
    /// The recipients' own rules refused the message (a Sieve `reject`):
    /// `550 5.7.1` with `message` as the reason.
    pub refused: bool,
    /// The virus scan's outcome, when it is why the message is refused.
    pub scan: Option<ScanRefusal>,
}

/// Why the virus scan refused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanRefusal {
    /// A virus was found: `554 5.7.0`.
    Infected,
    /// The scanner gave no answer: `451 4.7.1`.
    Unscanned,
}

impl DeliverError {
    /// The message could not be stored.
    pub fn failed(transience: model::Transience, message: impl Into<String>) -> DeliverError {
        DeliverError { transience, message: message.into(), refused: false, scan: None }
    }

    /// Every recipient refused the message, for `reason`.
    pub fn refused(reason: impl Into<String>) -> DeliverError {
        DeliverError { transience: model::Transience::Permanent, message: reason.into(), refused: true, scan: None }
    }

    /// A virus was found (`reason` must not name it: the sender is outside).
    pub fn infected(reason: impl Into<String>) -> DeliverError {
        let scan = Some(ScanRefusal::Infected);
        DeliverError { transience: model::Transience::Permanent, message: reason.into(), refused: true, scan }
    }

    /// The virus scanner could not judge the message: try again later.
    pub fn unscanned(reason: impl Into<String>) -> DeliverError {
        let scan = Some(ScanRefusal::Unscanned);
        DeliverError { transience: model::Transience::Temporary, message: reason.into(), refused: false, scan }
    }
}

/// The business side of incoming mail, implemented by the domain layer.
pub trait MailSink: Send + Sync + 'static {
    /// Decides whether `rcpt` may receive mail here; `size` is the SIZE= parameter when
    /// the client declared one.
    fn check_recipient(&self, rcpt: &model::Address, size: Option<u64>) -> impl Future<Output = RcptVerdict> + Send;

    /// The address that `RCPT TO:<postmaster>`, with no domain (RFC 5321 section
    /// 4.5.1), stands for; by default `postmaster@` the configured host name. It is
    /// then checked as any other recipient.
    fn postmaster(&self, hostname: &str) -> impl Future<Output = String> + Send {
        let address = format!("postmaster@{hostname}");
        async move { address }
    }

    /// Stores `message` (the `Received:` header already prepended) for every recipient
    /// of `envelope`; returns only once the message and its metadata are durable on disk.
    fn deliver(&self, envelope: &Envelope, message: Vec<u8>) -> impl Future<Output = Result<(), DeliverError>> + Send;

    /// Checks the sender's authentication (SPF, DKIM, DMARC) of a complete message
    /// before it is delivered: `Ok(Some(header))` is prepended to the message,
    /// `Err(reason)` refuses it with `550 5.7.1` (ASCII text). By default nothing
    /// is checked.
    fn authenticate(
        &self,
        envelope: &Envelope,
        message: &[u8],
    ) -> impl Future<Output = Result<Option<String>, String>> + Send {
        let _ = (envelope, message);
        async { Ok(None) }
    }
}

/// Why a login failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// Unknown user or wrong password (never says which).
    BadCredentials,
    /// The account may not use submission (student, suspended...).
    NotAllowed,
    /// The check could not be made (database down): try again later.
    Temporary,
    /// Logins to this account, or from this address, are slowed down after
    /// failed attempts: try again in a few minutes (`454 4.7.0`, saying so).
    Throttled,
    /// Right password, but it has passed its maximum age: change it on the web.
    PasswordExpired,
}

/// Why the business side refused a submitted command or message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitRefusal {
    /// The sender is not the user nor one of their aliases: `553 5.7.1`.
    ForgedSender(String),
    /// A sending limit is reached (the text says which): `450 4.7.1`.
    RateLimited(String),
    /// A local recipient that does not exist: `550 5.1.1`.
    UnknownRecipient,
    /// Try again later: `451 4.3.0`.
    Temporary(String),
    /// Refused for good: `554 5.6.0`.
    Permanent(String),
}

/// The business side of submission, implemented by the domain layer.
pub trait SubmissionSink: Send + Sync + 'static {
    /// Whoever logged in.
    type User: Send + Sync;

    /// Checks a login (AUTH PLAIN or LOGIN); `remote_ip` is for throttling.
    fn authenticate(
        &self,
        login: &str,
        password: &str,
        remote_ip: IpAddr,
    ) -> impl Future<Output = Result<Self::User, AuthFailure>> + Send;

    /// Checks a bearer token (AUTH OAUTHBEARER or XOAUTH2), `user` being the
    /// account the client names, if any. Only asked when
    /// [`SubmissionSink::bearer_challenge`] says the mechanisms are offered.
    fn authenticate_bearer(
        &self,
        _user: Option<&str>,
        _token: &str,
        _remote_ip: IpAddr,
    ) -> impl Future<Output = Result<Self::User, AuthFailure>> + Send {
        async { Err(AuthFailure::BadCredentials) }
    }

    /// The JSON error challenge sent after a refused token of `mechanism`;
    /// `None` (the default) when tokens are not taken, and the bearer
    /// mechanisms are then neither offered nor accepted.
    fn bearer_challenge(&self, _mechanism: sasl::BearerMechanism) -> Option<String> {
        None
    }

    /// Resolves when `user`'s access is withdrawn (a suspension): the session
    /// then ends at once with 421, even while the client is idle. Asked
    /// afresh before each command is read. The default never resolves.
    fn revoked(&self, _user: &Self::User) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }

    /// Checks the envelope sender at MAIL time (`None` is `<>`).
    fn check_sender(
        &self,
        user: &Self::User,
        sender: Option<&model::Address>,
    ) -> impl Future<Output = Result<(), SubmitRefusal>> + Send;

    /// Checks one recipient at RCPT time.
    fn check_recipient(
        &self,
        user: &Self::User,
        rcpt: &model::Address,
    ) -> impl Future<Output = Result<(), SubmitRefusal>> + Send;

    /// Checks the headers, then delivers and queues the message; returns once
    /// it is durable.
    fn submit(
        &self,
        user: &Self::User,
        envelope: &SubmissionEnvelope,
        message: Vec<u8>,
    ) -> impl Future<Output = Result<(), SubmitRefusal>> + Send;
}
