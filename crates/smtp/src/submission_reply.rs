//! Submission refusals and the one place where they become reply codes (the
//! table is in the `submission` module's documentation).

use crate::SubmitRefusal;
use crate::conn::ConnError;
use crate::reply::{Reply, SmtpError};

/// Why a login failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// Unknown user or wrong password (never says which).
    BadCredentials,
    /// The account may not use submission (student, suspended...).
    NotAllowed,
    /// The check could not be made (database down): try again later.
    Temporary,
    /// Right password, but it has passed its maximum age: change it on the web.
    PasswordExpired,
}

/// Every way a submission command is refused.
#[derive(Debug)]
pub(crate) enum Refusal {
    Smtp(SmtpError),
    Auth(AuthFailure),
    Policy(SubmitRefusal),
    AuthRequired,
    EncryptionRequired,
    AlreadyAuthenticated,
    UnsupportedMechanism,
    AuthCancelled,
    /// The account was suspended while the session was open.
    Revoked,
    BadBase64,
}

impl From<SmtpError> for Refusal {
    fn from(e: SmtpError) -> Refusal {
        Refusal::Smtp(e)
    }
}

impl From<ConnError> for Refusal {
    fn from(e: ConnError) -> Refusal {
        Refusal::Smtp(SmtpError::Connection(e))
    }
}

impl Refusal {
    /// The reply for this refusal (the one mapping of submission errors to codes).
    pub(crate) fn reply(&self, hostname: &str) -> Option<Reply> {
        Some(match self {
            Refusal::Smtp(e) => return e.reply(hostname),
            Refusal::Auth(AuthFailure::BadCredentials) => {
                Reply::new(535, "5.7.8", "Identifiants incorrects / Authentication credentials invalid")
            }
            Refusal::Auth(AuthFailure::NotAllowed) => {
                Reply::new(535, "5.7.8", "Compte non autorise a envoyer / Account not allowed to send")
            }
            Refusal::Auth(AuthFailure::Temporary) => Reply::new(454, "4.7.0", "Temporary authentication failure"),
            Refusal::Auth(AuthFailure::PasswordExpired) => Reply::new(
                535,
                "5.7.8",
                "Mot de passe expire : changez-le sur la messagerie web / Password expired: change it on the webmail",
            ),
            Refusal::AuthRequired => Reply::new(530, "5.7.0", "Authentification requise / Authentication required"),
            Refusal::EncryptionRequired => Reply::new(
                538,
                "5.7.11",
                "Chiffrement requis : STARTTLS d'abord / Encryption required (STARTTLS first)",
            ),
            Refusal::AlreadyAuthenticated => Reply::new(503, "5.5.1", "Already authenticated"),
            Refusal::UnsupportedMechanism => Reply::new(504, "5.5.4", "Unrecognized authentication type"),
            Refusal::AuthCancelled => Reply::new(501, "5.0.0", "Authentication cancelled"),
            Refusal::Revoked => Reply::new(421, "4.7.0", "Acces au compte retire / Account access revoked"),
            Refusal::BadBase64 => Reply::new(501, "5.5.2", "Cannot decode base64 response"),
            Refusal::Policy(p) => match p {
                SubmitRefusal::ForgedSender(who) => Reply::new(
                    553,
                    "5.7.1",
                    format!("Adresse d'expediteur non autorisee / Sender address not owned by user: {}", clean(who)),
                ),
                SubmitRefusal::RateLimited(why) => Reply::new(450, "4.7.1", clean(why)),
                SubmitRefusal::UnknownRecipient => Reply::new(550, "5.1.1", "Destinataire inconnu / No such user here"),
                SubmitRefusal::Temporary(why) => Reply::new(451, "4.3.0", format!("Temporary failure: {}", clean(why))),
                SubmitRefusal::Permanent(why) => Reply::new(554, "5.6.0", clean(why)),
            },
        })
    }

    pub(crate) fn ends_session(&self) -> bool {
        matches!(self, Refusal::Revoked) || matches!(self, Refusal::Smtp(e) if e.ends_session())
    }

    pub(crate) fn counts_as_error(&self) -> bool {
        match self {
            Refusal::Smtp(e) => e.counts_as_error(),
            Refusal::Auth(_) | Refusal::AuthRequired | Refusal::EncryptionRequired | Refusal::BadBase64 => true,
            _ => false,
        }
    }
}

/// One line, no control characters, bounded.
fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect()
}
