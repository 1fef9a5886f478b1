//! SMTP replies, and the one place where errors become reply codes, for both roles.
//!
//! Whether a refusal is temporary (4xx, the client retries) or permanent (5xx, the
//! client bounces) is decided here and nowhere else, from the error's variant and, for
//! delivery failures, from the [`model::Transience`] the business side reported.
//! The submission refusals have these codes:
//!
//! | refusal | reply |
//! |---|---|
//! | sender not the user nor an alias | `553 5.7.1` |
//! | hourly sending limit reached | `450 4.7.1` (temporary: the client keeps the message) |
//! | unknown local recipient | `550 5.1.1` |
//! | AUTH before TLS | `538 5.7.11` |
//! | MAIL before AUTH | `530 5.7.0` |
//! | wrong credentials | `535 5.7.8` |

use std::fmt::Write as _;

use model::Transience;

use crate::conn::ConnError;
use crate::{AuthFailure, DeliverError, SubmitRefusal};

/// One reply: a code, an enhanced status code (RFC 3463) and one or more lines of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    code: u16,
    status: Option<&'static str>,
    lines: Vec<String>,
}

impl Reply {
    /// A one-line reply with an enhanced status code.
    pub(crate) fn new(code: u16, status: &'static str, text: impl Into<String>) -> Reply {
        Reply { code, status: Some(status), lines: vec![text.into()] }
    }

    /// A reply without enhanced status code (greeting, HELO and EHLO, per RFC 2034).
    pub(crate) fn plain(code: u16, lines: Vec<String>) -> Reply {
        Reply { code, status: None, lines }
    }

    pub(crate) fn ok() -> Reply {
        Reply::new(250, "2.0.0", "Ok")
    }

    /// Appends the reply in wire form, `-` marking every line but the last.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        let mut text = String::new();
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            let _ = write!(text, "{}{}", self.code, sep);
            if let Some(status) = self.status {
                let _ = write!(text, "{status} ");
            }
            text.push_str(line);
            text.push_str("\r\n");
        }
        out.extend_from_slice(text.as_bytes());
    }
}

/// Every way a command, a message or the session itself can be refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SmtpError {
    #[error("bad sequence of commands: {0}")]
    BadSequence(&'static str),
    #[error("unknown command")]
    UnknownCommand,
    #[error("command not implemented: {0}")]
    NotImplemented(&'static str),
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error("unsupported parameter: {0}")]
    UnsupportedParameter(String),
    #[error("command line too long")]
    LineTooLong,
    #[error("malformed sender address")]
    BadSender,
    #[error("malformed recipient address")]
    BadRecipient,
    #[error("non-ASCII address without SMTPUTF8")]
    NeedsSmtpUtf8,
    #[error("no such user")]
    UnknownUser,
    #[error("relaying denied")]
    RelayDenied,
    #[error("mailbox full")]
    OverQuota,
    #[error("recipient lookup failed temporarily")]
    RecipientTemporary,
    #[error("too many recipients")]
    TooManyRecipients,
    #[error("message too big")]
    MessageTooBig,
    #[error("no valid recipients")]
    NoValidRecipients,
    #[error("delivery failed: {0}")]
    Delivery(#[from] DeliverError),
    #[error("too many errors")]
    TooManyErrors,
    #[error("too many commands")]
    TooManyCommands,
    #[error("no memory or temporary file for the message now")]
    Resources,
    #[error("refused by the sender's authentication policy: {0}")]
    SenderPolicy(String),
    #[error("login refused: {0:?}")]
    Auth(AuthFailure),
    #[error("submission refused: {0:?}")]
    Policy(SubmitRefusal),
    #[error("authentication required")]
    AuthRequired,
    #[error("authentication requires TLS")]
    EncryptionRequired,
    #[error("already authenticated")]
    AlreadyAuthenticated,
    #[error("unsupported authentication mechanism")]
    UnsupportedMechanism,
    #[error("authentication cancelled")]
    AuthCancelled,
    #[error("malformed base64")]
    BadBase64,
    /// An OAUTHBEARER or XOAUTH2 response that does not parse.
    #[error("malformed authentication response")]
    MalformedAuth,
    /// The account was suspended while the session was open.
    #[error("account access revoked")]
    Revoked,
    #[error(transparent)]
    Connection(#[from] ConnError),
}

impl SmtpError {
    /// The refusal's name in metrics (a fixed set, never the client's text).
    pub(crate) fn label(&self) -> &'static str {
        use SmtpError::*;
        match self {
            BadSequence(_) => "bad_sequence",
            UnknownCommand => "unknown_command",
            NotImplemented(_) => "not_implemented",
            Syntax(_) => "syntax",
            UnsupportedParameter(_) => "unsupported_parameter",
            LineTooLong => "line_too_long",
            BadSender => "bad_sender",
            BadRecipient => "bad_recipient",
            NeedsSmtpUtf8 => "needs_smtputf8",
            UnknownUser => "unknown_user",
            RelayDenied => "relay_denied",
            OverQuota => "over_quota",
            RecipientTemporary => "recipient_temporary",
            TooManyRecipients => "too_many_recipients",
            MessageTooBig => "message_too_big",
            NoValidRecipients => "no_valid_recipients",
            Delivery(e) if e.scan == Some(crate::ScanRefusal::Infected) => "virus",
            Delivery(e) if e.scan == Some(crate::ScanRefusal::Unscanned) => "unscanned",
            Delivery(_) => "delivery",
            TooManyErrors => "too_many_errors",
            TooManyCommands => "too_many_commands",
            Resources => "resources",
            SenderPolicy(_) => "sender_policy",
            Auth(_) => "auth",
            Policy(_) => "submission_policy",
            AuthRequired => "auth_required",
            EncryptionRequired => "encryption_required",
            AlreadyAuthenticated => "already_authenticated",
            UnsupportedMechanism => "unsupported_mechanism",
            AuthCancelled => "auth_cancelled",
            BadBase64 => "bad_base64",
            MalformedAuth => "malformed_auth",
            Revoked => "revoked",
            Connection(_) => "connection",
        }
    }

    /// The reply sent to the client, if the connection can still carry one.
    pub(crate) fn reply(&self, hostname: &str) -> Option<Reply> {
        use SmtpError::*;
        let reply = match self {
            BadSequence(why) => Reply::new(503, "5.5.1", format!("Bad sequence of commands: {why}")),
            UnknownCommand => Reply::new(500, "5.5.2", "Command unrecognized"),
            NotImplemented(what) => Reply::new(502, "5.5.1", format!("{what} not implemented")),
            Syntax(usage) => Reply::new(501, "5.5.4", format!("Syntax error: {usage}")),
            UnsupportedParameter(param) => Reply::new(555, "5.5.4", format!("Unsupported parameter {param}")),
            LineTooLong => Reply::new(500, "5.5.6", "Line too long"),
            BadSender => Reply::new(501, "5.1.7", "Bad sender address syntax"),
            BadRecipient => Reply::new(501, "5.1.3", "Bad recipient address syntax"),
            NeedsSmtpUtf8 => Reply::new(553, "5.6.7", "Non-ASCII address requires SMTPUTF8"),
            UnknownUser => Reply::new(550, "5.1.1", "No such user here"),
            RelayDenied => Reply::new(554, "5.7.1", "Relaying denied"),
            OverQuota => Reply::new(452, "4.2.2", "Mailbox full, try again later"),
            RecipientTemporary => Reply::new(451, "4.3.0", "Temporary failure, try again later"),
            TooManyRecipients => Reply::new(452, "4.5.3", "Too many recipients"),
            MessageTooBig => Reply::new(552, "5.3.4", "Message too big for system"),
            NoValidRecipients => Reply::new(554, "5.5.1", "No valid recipients"),
            Delivery(e) if e.scan == Some(crate::ScanRefusal::Infected) => {
                Reply::new(554, "5.7.0", one_line(&e.message))
            }
            Delivery(e) if e.scan == Some(crate::ScanRefusal::Unscanned) => {
                Reply::new(451, "4.7.1", one_line(&e.message))
            }
            Delivery(e) if e.refused => Reply::new(550, "5.7.1", one_line(&e.message)),
            Delivery(e) => match e.transience {
                Transience::Temporary => {
                    Reply::new(451, "4.3.0", format!("Temporary failure: {}", one_line(&e.message)))
                }
                Transience::Permanent => Reply::new(554, "5.6.0", one_line(&e.message)),
            },
            Resources => Reply::new(
                452,
                "4.3.1",
                "Ressources insuffisantes, reessayez plus tard / Insufficient system resources, try again later",
            ),
            TooManyErrors => Reply::new(421, "4.7.0", format!("{hostname} Too many errors, closing connection")),
            TooManyCommands => Reply::new(421, "4.7.0", format!("{hostname} Too many commands, closing connection")),
            Connection(ConnError::Timeout) => {
                Reply::new(421, "4.4.2", format!("{hostname} Idle timeout, closing connection"))
            }
            Connection(ConnError::Deadline) => Reply::new(
                421,
                "4.4.2",
                format!(
                    "{hostname} Delai depasse pour la commande ou la transaction / Command or transaction too slow"
                ),
            ),
            Connection(ConnError::TooSlow) => {
                Reply::new(421, "4.4.2", format!("{hostname} Message recu trop lentement / Message data too slow"))
            }
            Connection(ConnError::Shutdown) => Reply::new(421, "4.3.2", format!("{hostname} Service shutting down")),
            Connection(ConnError::Closed | ConnError::Io(_)) => return None,
            SenderPolicy(reason) => Reply::new(550, "5.7.1", one_line(reason)),
            Auth(AuthFailure::BadCredentials) => {
                Reply::new(535, "5.7.8", "Identifiants incorrects / Authentication credentials invalid")
            }
            Auth(AuthFailure::NotAllowed) => {
                Reply::new(535, "5.7.8", "Compte non autorise a envoyer / Account not allowed to send")
            }
            Auth(AuthFailure::Temporary) => Reply::new(454, "4.7.0", "Temporary authentication failure"),
            Auth(AuthFailure::Throttled) => Reply::new(
                454,
                "4.7.0",
                "Connexion ralentie apres des tentatives infructueuses, reessayez dans quelques minutes / \
                 Logins slowed down after failed attempts, try again in a few minutes",
            ),
            Auth(AuthFailure::PasswordExpired) => Reply::new(
                535,
                "5.7.8",
                "Mot de passe expire : changez-le sur la messagerie web / Password expired: change it on the webmail",
            ),
            AuthRequired => Reply::new(530, "5.7.0", "Authentification requise / Authentication required"),
            EncryptionRequired => Reply::new(
                538,
                "5.7.11",
                "Chiffrement requis : STARTTLS d'abord / Encryption required (STARTTLS first)",
            ),
            AlreadyAuthenticated => Reply::new(503, "5.5.1", "Already authenticated"),
            UnsupportedMechanism => Reply::new(504, "5.5.4", "Unrecognized authentication type"),
            AuthCancelled => Reply::new(501, "5.0.0", "Authentication cancelled"),
            BadBase64 => Reply::new(501, "5.5.2", "Cannot decode base64 response"),
            MalformedAuth => Reply::new(501, "5.5.2", "Malformed authentication response"),
            Revoked => Reply::new(421, "4.7.0", "Acces au compte retire / Account access revoked"),
            Policy(refusal) => match refusal {
                SubmitRefusal::ForgedSender(who) => Reply::new(
                    553,
                    "5.7.1",
                    format!("Adresse d'expediteur non autorisee / Sender address not owned by user: {}", one_line(who)),
                ),
                SubmitRefusal::RateLimited(why) => Reply::new(450, "4.7.1", one_line(why)),
                SubmitRefusal::UnknownRecipient => Reply::new(550, "5.1.1", "Destinataire inconnu / No such user here"),
                SubmitRefusal::Temporary(why) => {
                    Reply::new(451, "4.3.0", format!("Temporary failure: {}", one_line(why)))
                }
                SubmitRefusal::Permanent(why) => Reply::new(554, "5.6.0", one_line(why)),
            },
        };
        Some(reply)
    }

    /// Whether the session must end after this error's reply.
    pub(crate) fn ends_session(&self) -> bool {
        use SmtpError::*;
        matches!(self, TooManyErrors | TooManyCommands | Revoked | Connection(_))
    }

    /// Whether this is a client mistake counted towards `max_errors`: the 5xx replies
    /// to commands, unknown users included (they are what address harvesting produces).
    pub(crate) fn counts_as_error(&self) -> bool {
        use SmtpError::*;
        matches!(
            self,
            BadSequence(_)
                | UnknownCommand
                | NotImplemented(_)
                | Syntax(_)
                | UnsupportedParameter(_)
                | LineTooLong
                | BadSender
                | BadRecipient
                | NeedsSmtpUtf8
                | UnknownUser
                | RelayDenied
                | Auth(_)
                | AuthRequired
                | EncryptionRequired
                | BadBase64
                | MalformedAuth
        )
    }

    /// Maps a parse failure from `smtp-proto`.
    pub(crate) fn from_parse(error: smtp_proto::Error) -> SmtpError {
        use smtp_proto::Error as E;
        match error {
            E::UnknownCommand => SmtpError::UnknownCommand,
            E::InvalidSenderAddress => SmtpError::BadSender,
            E::InvalidRecipientAddress => SmtpError::BadRecipient,
            E::SyntaxError { syntax } => SmtpError::Syntax(syntax.to_owned()),
            E::InvalidParameter { param } => SmtpError::Syntax(format!("invalid {param} parameter")),
            E::UnsupportedParameter { param } => SmtpError::UnsupportedParameter(param),
            E::NeedsMoreData { .. } | E::ResponseTooLong | E::InvalidResponse { .. } => {
                SmtpError::Syntax("malformed command".to_owned())
            }
        }
    }
}

/// Keeps a message from the business side on one line of reasonable length.
fn one_line(message: &str) -> String {
    message.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(reply: &Reply) -> String {
        let mut out = Vec::new();
        reply.write_to(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn multi_line_replies_use_dashes() {
        let reply = Reply::plain(250, vec!["mx".into(), "PIPELINING".into(), "CHUNKING".into()]);
        assert_eq!(wire(&reply), "250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
        assert_eq!(wire(&Reply::ok()), "250 2.0.0 Ok\r\n");
    }

    #[test]
    fn delivery_errors_follow_their_transience() {
        let temporary = SmtpError::Delivery(DeliverError::failed(Transience::Temporary, "disk"));
        assert_eq!(wire(&temporary.reply("mx").unwrap()), "451 4.3.0 Temporary failure: disk\r\n");
        let permanent = SmtpError::Delivery(DeliverError::failed(Transience::Permanent, "no\r\n250 ok"));
        assert_eq!(wire(&permanent.reply("mx").unwrap()), "554 5.6.0 no  250 ok\r\n");
        let refused = SmtpError::Delivery(DeliverError::refused("Pas de publicité.\r\n250 ok"));
        assert_eq!(wire(&refused.reply("mx").unwrap()), "550 5.7.1 Pas de publicité.  250 ok\r\n");
        let virus = SmtpError::Delivery(DeliverError::infected("Virus"));
        assert_eq!(wire(&virus.reply("mx").unwrap()), "554 5.7.0 Virus\r\n");
        assert_eq!(virus.label(), "virus");
        let unscanned = SmtpError::Delivery(DeliverError::unscanned("Later"));
        assert_eq!(wire(&unscanned.reply("mx").unwrap()), "451 4.7.1 Later\r\n");
        assert_eq!(unscanned.label(), "unscanned");
    }
}
