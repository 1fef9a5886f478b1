//! The web login delegated to an upstream identity provider (the académie's
//! OpenID Connect provider or CAS server, `sso::upstream`): once the
//! provider's answer is checked, [`Identity::login_upstream`] finds the
//! account its claim names (an address, an alias or a login) and applies
//! the account's state as for a password: a student, a suspended or a
//! closed account is refused whatever the provider says. Every attempt,
//! refused answers of the provider included, goes to the connection journal
//! (protocol `externe`, client « <provider> <browser> »), never with a
//! token or ticket.
//!
//! The slow-down of password guessing does not apply: nothing is guessed
//! here (the provider vouched, or its answer was refused on its signature),
//! so refusals are journaled with their own words, never as `bad`.

use std::net::IpAddr;

use model::{AccountStatus, Role};
use store::{Account, NewJournalEntry};

use super::device::source_of;
use super::login::{find_account, guessed_login, journal_text};
use crate::Identity;

/// The journal's protocol for upstream logins.
pub const UPSTREAM_PROTOCOL: &str = "externe";

/// One login through a provider.
pub struct UpstreamLogin<'a> {
    /// The provider's identifier.
    pub provider: &'a str,
    /// What the provider's answer came to: the claim's value, or the word
    /// of its refusal (`upstream-id-token-nonce`, `upstream-state`…).
    pub outcome: Result<&'a str, &'a str>,
    pub peer: IpAddr,
    /// The browser, for the journal.
    pub client: &'a str,
}

/// Why an upstream login opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamRefusal {
    /// The provider's answer was refused (see the journal for why).
    Answer,
    /// The claim names no account here.
    Unknown,
    Suspended,
    Closed,
    Student,
    Unavailable,
}

impl UpstreamRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamRefusal::Answer => "upstream-refused",
            UpstreamRefusal::Unknown => "unknown-account",
            UpstreamRefusal::Suspended => "suspended",
            UpstreamRefusal::Closed => "closed",
            UpstreamRefusal::Student => "student",
            UpstreamRefusal::Unavailable => "unavailable",
        }
    }

    pub fn message_fr(self) -> &'static str {
        match self {
            UpstreamRefusal::Answer => {
                "La connexion par le fournisseur d'identité de l'académie n'a pas abouti. Recommencez depuis la page de connexion."
            }
            UpstreamRefusal::Unknown => {
                "Le fournisseur d'identité vous a reconnu, mais aucun compte de messagerie ne correspond à votre identité. Contactez l'assistance de votre établissement."
            }
            UpstreamRefusal::Suspended => "Ce compte est suspendu. Contactez l'assistance de votre établissement.",
            UpstreamRefusal::Closed => "Ce compte est fermé.",
            UpstreamRefusal::Student => "Les comptes élèves n'ont pas accès à cette messagerie.",
            UpstreamRefusal::Unavailable => "Le service est momentanément indisponible. Réessayez dans un instant.",
        }
    }

    pub fn message_en(self) -> &'static str {
        match self {
            UpstreamRefusal::Answer => {
                "The login through the académie's identity provider failed. Start again from the login page."
            }
            UpstreamRefusal::Unknown => {
                "The identity provider recognised you, but no mail account matches your identity. Contact your school's helpdesk."
            }
            UpstreamRefusal::Suspended => "This account is suspended. Contact your school's helpdesk.",
            UpstreamRefusal::Closed => "This account is closed.",
            UpstreamRefusal::Student => "Student accounts have no access to this mail service.",
            UpstreamRefusal::Unavailable => "The service is temporarily unavailable. Try again in a moment.",
        }
    }
}

impl Identity {
    /// The account a provider's answer names, if it may sign in: see the
    /// module documentation. Journaled.
    pub async fn login_upstream(&self, attempt: &UpstreamLogin<'_>) -> Result<Account, UpstreamRefusal> {
        let found = match attempt.outcome {
            Ok(value) => find_account(&self.store, value).await.map_err(|_| UpstreamRefusal::Unavailable),
            Err(_) => Ok(None),
        };
        let outcome = match (&found, attempt.outcome) {
            (Err(r), _) => Err(*r),
            (_, Err(_)) => Err(UpstreamRefusal::Answer),
            (Ok(None), Ok(_)) => Err(UpstreamRefusal::Unknown),
            (Ok(Some(a)), Ok(_)) => judge(a).map(|()| a.clone()),
        };
        let result = match (&outcome, attempt.outcome) {
            (Ok(_), _) => "ok".to_owned(),
            (Err(UpstreamRefusal::Answer), Err(word)) => journal_text(word),
            (Err(r), _) => r.as_str().to_owned(),
        };
        let account = found.ok().flatten();
        let entry = NewJournalEntry {
            account_id: account.as_ref().map(|a| a.id),
            login: match (&account, attempt.outcome) {
                (Some(a), _) => journal_text(&a.address.to_string()),
                (None, Ok(value)) => guessed_login(value),
                (None, Err(_)) => journal_text(&format!("({})", attempt.provider)),
            },
            protocol: UPSTREAM_PROTOCOL.to_owned(),
            ip: source_of(attempt.peer),
            client: journal_text(&format!("{} {}", attempt.provider, attempt.client)),
            result: result.clone(),
            device: None,
        };
        if let Err(e) = self.store.record_login(&entry).await {
            tracing::warn!(error = %e, "upstream login: journal write failed");
            return Err(UpstreamRefusal::Unavailable);
        }
        let protocol = UPSTREAM_PROTOCOL;
        let word = if outcome.is_ok() { "ok" } else { "refused" };
        metrics::counter!("ardoise_logins_total", "protocol" => protocol, "result" => word).increment(1);
        tracing::info!(provider = attempt.provider, ip = %entry.ip, result, account = ?entry.account_id, "upstream login");
        outcome
    }
}

/// The account's state decides, whatever the provider said.
fn judge(a: &Account) -> Result<(), UpstreamRefusal> {
    if a.role == Role::Student {
        return Err(UpstreamRefusal::Student);
    }
    match a.status {
        AccountStatus::Active | AccountStatus::Provisional => Ok(()),
        AccountStatus::Suspended => Err(UpstreamRefusal::Suspended),
        AccountStatus::Closed => Err(UpstreamRefusal::Closed),
    }
}
