//! What tells the two SMTP roles apart: the [`Role`] a session core is run with.
//!
//! The session core (`session.rs`) owns the conversation: command parsing,
//! EHLO/HELO, MAIL, RCPT, DATA and BDAT, RSET/NOOP/QUIT/VRFY/HELP, STARTTLS,
//! AUTH's exchanges, limits, deadlines, the spooled body and every reply. A
//! role answers the questions whose answers differ between the MX (anyone
//! may deliver to local mailboxes, nobody logs in) and submission (only a
//! user logged in over TLS may send, to anyone): what EHLO offers, who may
//! start a transaction, which parameters are refused, what a sender and a
//! recipient are worth, and what becomes of a complete message. A role
//! never touches the connection, and refuses only with [`SmtpError`]s, so
//! that every reply code is still chosen in `reply.rs`.

use std::borrow::Cow;
use std::net::IpAddr;

use model::Address;
use smtp_proto::{MailFrom, RcptTo};

use crate::SmtpConfig;
use crate::received::Trace;
use crate::reply::SmtpError;

/// What the session knows when EHLO asks for the offered extensions.
pub(crate) struct Offer<'a> {
    pub cfg: &'a SmtpConfig,
    pub tls: bool,
    pub can_starttls: bool,
    pub authenticated: bool,
}

/// One accepted recipient: the address the client gave and, for the MX, the
/// accounts it reaches (several for a role address such as `postmaster`).
#[derive(Debug, Clone)]
pub(crate) struct Recipient {
    pub address: Address,
    pub accounts: Vec<i64>,
}

/// A complete message's envelope, as the session gathered it.
pub(crate) struct Gathered<'a> {
    pub from: Option<Address>,
    pub recipients: Vec<Recipient>,
    pub helo: &'a str,
    pub remote_ip: IpAddr,
    pub tls: bool,
    /// The queue identifier named in the replies and the logs.
    pub id: &'a str,
}

/// The policy of one SMTP role.
pub(crate) trait Role: Send + Sync {
    /// Whoever logged in (the MX never has anyone).
    type User: Send + Sync;

    /// The greeting after the host name ("ESMTP Ardoise").
    fn banner(&self) -> &'static str;

    /// The role's name in metrics ("mx", "submission").
    fn name(&self) -> &'static str;

    /// The EHLO keywords after the first line, in the order they are sent.
    fn extensions(&self, offer: &Offer<'_>) -> Vec<String>;

    /// The text of the 252 reply to VRFY.
    fn vrfy(&self) -> &'static str;

    /// The text of the 214 reply to HELP.
    fn help(&self) -> &'static str;

    /// Whether BDAT (RFC 3030) is accepted.
    fn chunking(&self) -> bool;

    /// Whether AUTH is offered (when not, the command is not implemented).
    fn offers_auth(&self) -> bool;

    /// Checks a login and password, or a bearer token.
    fn login(
        &self,
        proof: &crate::auth::Proof,
        remote_ip: IpAddr,
    ) -> impl Future<Output = Result<Self::User, SmtpError>> + Send;

    /// The JSON error challenge after a refused token of `mechanism`, or
    /// `None` when the bearer mechanisms are not offered.
    fn bearer_challenge(&self, _mechanism: sasl::BearerMechanism) -> Option<String> {
        None
    }

    /// Resolves when `user`'s access is withdrawn: the session then ends.
    fn revoked(&self, user: &Self::User) -> impl Future<Output = ()> + Send;

    /// Whether MAIL may start a transaction now.
    fn may_start(&self, greeted: bool, authenticated: bool) -> Result<(), SmtpError>;

    /// Refuses the MAIL parameters this role does not take.
    fn mail_parameters(&self, from: &MailFrom<Cow<'_, str>>) -> Result<(), SmtpError>;

    /// Checks the reverse path (`None` is `<>`) at MAIL time.
    fn check_sender(
        &self,
        user: Option<&Self::User>,
        sender: Option<&Address>,
    ) -> impl Future<Output = Result<(), SmtpError>> + Send;

    /// Refuses the RCPT parameters this role does not take.
    fn rcpt_parameters(&self, to: &RcptTo<Cow<'_, str>>) -> Result<(), SmtpError>;

    /// The address `RCPT TO:<postmaster>` (no domain, RFC 5321 section 4.5.1)
    /// stands for, or `None` when this role does not take it.
    fn postmaster(&self, hostname: &str) -> impl Future<Output = Option<String>> + Send;

    /// Checks one recipient at RCPT time; returns the accounts it reaches.
    fn check_recipient(
        &self,
        user: Option<&Self::User>,
        rcpt: &Address,
        declared_size: Option<u64>,
    ) -> impl Future<Output = Result<Vec<i64>, SmtpError>> + Send;

    /// The `Received:` header field prepended to a complete message.
    fn received(&self, trace: &Trace<'_>) -> String;

    /// Takes a complete message (its `Received:` header prepended); returns
    /// once it is durable.
    fn accept(
        &self,
        user: Option<&Self::User>,
        envelope: Gathered<'_>,
        message: Vec<u8>,
    ) -> impl Future<Output = Result<(), SmtpError>> + Send;
}
