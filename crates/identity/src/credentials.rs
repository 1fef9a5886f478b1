//! Credentials: how people prove who they are, on every protocol.
//!
//! **The one login function.** IMAP, SMTP submission, the web and DAV all call
//! [`crate::Identity::login`] with a [`Login`] (identifier, secret, protocol,
//! client address, client name) and get a [`Principal`] or a [`Refusal`]:
//!
//! ```ignore
//! use identity::credentials::{Login, Protocol};
//! let attempt = Login { login: user, secret: password, protocol: Protocol::Imap, peer: ip, client: None, device: None };
//! match identity.login(&attempt).await {
//!     Ok(principal) => { /* principal.account is the logged-in account */ }
//!     Err(refusal) if refusal.is_temporary() => { /* 4xx / NO [UNAVAILABLE] */ }
//!     Err(refusal) => { /* refusal.public_message(protocol) for the wire */ }
//! }
//! ```
//!
//! What it does, in order: caps the input (a 1 MB password is refused before
//! argon2 ever sees it), finds the account by address, alias or login,
//! applies the brute-force slow-down ([`throttle`]: per account and source
//! address, and per source address unless the account already logged in
//! from there), verifies the secret (argon2id password, or an app password
//! on IMAP/SMTP/DAV; the main password is refused there once TOTP is on),
//! then the account state (students, suspended and closed accounts are
//! refused; a provisional account may log in only on the web, to change its
//! password). Every attempt goes to the connection journal (kept 90 days),
//! and a success from a source never seen before mails the owner.
//!
//! argon2 runs at most once per core at a time, in reused memory ([`pool`],
//! the service's bounded pool); a successful password check is remembered
//! for a few minutes ([`cache`], never the password itself), which skips
//! only argon2, never throttling, the account's state or the journal. With a
//! maximum age ([`expiry`], the policy's `max_age_days`) an expired password
//! opens only the web, to be changed, and reminders are mailed before. All
//! of these are fields of the [`crate::Identity`] service, not statics.
//!
//! Mail clients may present an access token of our OpenID Connect provider
//! instead ([`crate::Identity::login_bearer`], [`bearer`]): same slow-down,
//! same account checks, same journal.
//!
//! The web's second factor (TOTP seeds encrypted at rest, [`at_rest`]),
//! password changes, helpdesk resets, app passwords and recovery codes live
//! in the submodules; each change mails the user ([`notify`]). Passkeys
//! ([`passkey`], checked by [`webauthn`]) are a second factor in place of
//! the TOTP code, or a passwordless web login.

mod apppass;
pub mod at_rest;
pub mod bearer;
pub mod cache;
mod change;
pub mod device;
pub mod expiry;
pub mod foreign;
pub mod hash;
mod login;
pub mod notify;
pub mod passkey;
pub mod policy;
pub mod pool;
pub mod reauth;
mod reset;
mod second;
pub mod throttle;
pub mod totp;
pub mod upstream;
pub(crate) mod verdicts;
pub mod webauthn;

use std::net::IpAddr;
use std::time::Duration;

pub use at_rest::TotpKey;
pub use bearer::BearerLogin;
pub use change::ChangeError;
pub use expiry::ReminderReport;
pub use login::JOURNAL_RETENTION_DAYS;
pub use policy::{PasswordPolicy, PolicyViolation};
pub use pool::{Argon2Pool, Argon2Stats};
pub use reset::RESET_VALIDITY_SECS;
pub use second::{TotpEnrolment, enrolment as second_enrolment};
pub use throttle::Throttle;

use store::Account;

/// The protocol a login comes through: recorded in the journal, and it
/// decides which secrets are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Imap,
    Smtp,
    Web,
    Dav,
    /// ManageSieve (RFC 5804): the filter scripts.
    Sieve,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Smtp => "smtp",
            Protocol::Web => "web",
            Protocol::Dav => "dav",
            Protocol::Sieve => "sieve",
        }
    }
    /// The app-password scope of this protocol (the web has none).
    pub fn scope(self) -> Option<&'static str> {
        match self {
            Protocol::Web => None,
            other => Some(other.as_str()),
        }
    }
}

/// One login attempt.
#[derive(Debug, Clone)]
pub struct Login<'a> {
    /// Address, alias or short login, as typed.
    pub login: &'a str,
    /// Password or app password, as typed.
    pub secret: &'a str,
    pub protocol: Protocol,
    /// The client's address: brute force is counted per address.
    pub peer: IpAddr,
    /// What the client says it is (User-Agent, IMAP ID), for the journal.
    pub client: Option<&'a str>,
    /// The web's device cookie, when the browser has one (see [`device`]).
    pub device: Option<&'a str>,
}

/// How the secret was proven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Password,
    /// An app password, by id and name.
    AppPassword {
        id: i64,
        name: String,
    },
    /// An access token of our OpenID Connect provider, given to `client`
    /// (see [`bearer`]).
    Token {
        client: String,
    },
}

impl Via {
    /// The secret, as sessions remember it to know which revocations end them.
    pub fn credential(&self) -> model::Credential {
        match self {
            Via::Password => model::Credential::Password,
            Via::AppPassword { id, .. } => model::Credential::AppPassword(*id),
            Via::Token { .. } => model::Credential::Token,
        }
    }
}

/// Who logged in.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: Account,
    pub via: Via,
    /// The password is provisional, or expired (web only): it must be changed now.
    pub must_change_password: bool,
    /// TOTP is on: the web asks for a code before opening the session.
    pub totp_enabled: bool,
    /// The number of the last change of state or secret committed before
    /// the login read the account ([`model::Proof::checked`]).
    pub checked: i64,
}

impl Principal {
    /// What the login proved, as a session keeps it to know which
    /// revocations end it.
    pub fn proof(&self) -> model::Proof {
        model::Proof { credential: self.via.credential(), checked: self.checked }
    }
}

/// Why a login was refused. Wrong identifier and wrong secret are the same
/// refusal, so nobody learns whether an account exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    BadCredentials,
    /// Too many failures lately (from this address, or for this account):
    /// try again later. Answered without looking at the secret.
    Throttled {
        retry_after: Duration,
    },
    /// Right password, but the account must finish its first login on the web.
    Provisional,
    /// TOTP is on: IMAP and SMTP take an app password, not the main password.
    AppPasswordRequired,
    Suspended,
    Closed,
    /// Students have no access to staff mail.
    Student,
    /// The password is past the policy's maximum age: IMAP and SMTP refuse
    /// it until it is changed on the web.
    PasswordExpired,
    /// The store failed: a temporary error, try again.
    Unavailable,
}

impl Refusal {
    pub fn is_temporary(self) -> bool {
        matches!(self, Refusal::Unavailable | Refusal::Throttled { .. })
    }

    /// The journal's word for this refusal.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::BadCredentials => "bad",
            Refusal::Throttled { .. } => "throttled",
            Refusal::Provisional => "provisional",
            Refusal::AppPasswordRequired => "app-password-required",
            Refusal::Suspended => "suspended",
            Refusal::Closed => "closed",
            Refusal::Student => "student",
            Refusal::PasswordExpired => "password-expired",
            Refusal::Unavailable => "unavailable",
        }
    }

    /// A clear French message for the web (the mail protocols give a
    /// generic one: they map the refusal themselves).
    pub fn message_fr(self) -> &'static str {
        match self {
            Refusal::BadCredentials => "Identifiant ou mot de passe incorrect.",
            Refusal::Throttled { .. } => {
                "Connexion ralentie après plusieurs tentatives infructueuses. Patientez quelques minutes avant de réessayer."
            }
            Refusal::Provisional => "Terminez d'abord votre première connexion sur la messagerie web.",
            Refusal::AppPasswordRequired => {
                "La validation en deux étapes est active : utilisez un mot de passe d'application."
            }
            Refusal::Suspended => {
                "Votre compte est suspendu. Contactez l'assistance de votre académie ou votre administrateur."
            }
            Refusal::Closed => "Ce compte est fermé.",
            Refusal::Student => {
                "La messagerie académique est réservée aux personnels : les comptes élèves ne peuvent pas s'y connecter."
            }
            Refusal::PasswordExpired => {
                "Votre mot de passe a expiré : changez-le sur la messagerie web, puis reconnectez votre logiciel."
            }
            Refusal::Unavailable => "Service momentanément indisponible. Réessayez dans un instant.",
        }
    }

    pub fn message_en(self) -> &'static str {
        match self {
            Refusal::BadCredentials => "Wrong identifier or password.",
            Refusal::Throttled { .. } => {
                "Logins are slowed down after failed attempts. Wait a few minutes and try again."
            }
            Refusal::Provisional => "Complete your first login on the webmail first.",
            Refusal::AppPasswordRequired => "Two-step verification is on: use an app password.",
            Refusal::Suspended => "Your account is suspended. Contact your helpdesk or administrator.",
            Refusal::Closed => "This account is closed.",
            Refusal::Student => "Academic mail is for staff only: student accounts cannot log in.",
            Refusal::PasswordExpired => {
                "Your password has expired: change it on the webmail, then reconnect your client."
            }
            Refusal::Unavailable => "Service temporarily unavailable. Try again in a moment.",
        }
    }
}

/// Errors of the credential operations other than login.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("store: {0}")]
    Store(#[from] store::Error),
    #[error("mail: {0}")]
    Mail(#[from] mailstore::Error),
    #[error("hashing failed")]
    Hash,
}

impl model::ErrorKind for Error {
    fn transience(&self) -> model::Transience {
        match self {
            Error::Store(e) => e.transience(),
            Error::Mail(e) => e.transience(),
            Error::Hash => model::Transience::Temporary,
        }
    }
}
