//! Passkeys (WebAuthn): registration from the Sécurité page, and login,
//! either as the second factor after the password (in place of a TOTP
//! code) or alone, passwordless, with a discoverable credential and user
//! verification.
//!
//! Every ceremony starts with [`Identity::passkey_challenge`]: 32 random
//! bytes, kept (hashed) for [`CHALLENGE_SECS`] with what they were given
//! for, and claimed once when the answer comes back, whatever its outcome:
//! a replayed answer finds no challenge. The answer's own checks are in
//! [`super::webauthn`]; here come the store's: the claimed challenge's
//! purpose and account, the credential (known, and the account's), the
//! signature counter (a counter that does not move forward is a cloned
//! authenticator: refused, journaled, the owner mailed), and the account's
//! state (a suspended or closed account, or a student's, gets nothing).
//! Login attempts go to the connection journal like password logins.

use std::net::IpAddr;

use model::{AccountId, AccountStatus, Role};
use store::{Account, NewJournalEntry, NewPasskey, Passkey};

use super::device::source_of;
use super::hash::token_hash;
use super::webauthn::{self, AuthData, Ceremony, Check, PublicKey, b64url, from_b64url};
use super::{Error, Refusal, notify};
use crate::Identity;

/// How long a ceremony may take, in seconds.
pub const CHALLENGE_SECS: i64 = 120;
/// Passkeys one account may hold.
pub const MAX_PASSKEYS: usize = 20;
/// Characters kept of a passkey's name.
pub const MAX_NAME: usize = 60;
/// Longest encoded field of a ceremony's answer accepted.
pub const MAX_FIELD: usize = 16 * 1024;

/// The relying party: the web's host (the RP ID) and the origin its pages
/// are served from (both from the configuration, never from the request).
#[derive(Debug, Clone, Copy)]
pub struct Relying<'a> {
    pub rp_id: &'a str,
    pub origin: &'a str,
}

/// What a challenge is given for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A new passkey for the signed-in account.
    Register,
    /// A passwordless login (no account named).
    Login,
    /// The second factor of an account whose password was just checked.
    Second,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Login => "login",
            Purpose::Second => "second",
        }
    }
}

/// An authentication answer, as the browser's script posts it (base64url).
#[derive(Debug, Clone, Default)]
pub struct Assertion<'a> {
    pub credential_id: &'a str,
    pub client_data: &'a str,
    pub authenticator_data: &'a str,
    pub signature: &'a str,
    /// Empty when the authenticator gave none.
    pub user_handle: &'a str,
}

/// A passkey login that succeeded.
#[derive(Debug, Clone)]
pub struct PasskeyLogin {
    pub account: Account,
    pub passkey: i64,
    /// The authenticator verified the user (PIN, biometrics).
    pub verified: bool,
}

/// Why a ceremony was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyRefusal {
    /// The answer does not have the recommendation's form.
    Malformed,
    /// Another site's page, or a credential of another relying party.
    WrongOrigin,
    /// The challenge is unknown, used already, expired, or not for this.
    Replayed,
    /// No such passkey (or not this account's).
    Unknown,
    /// The signature counter went back: a copied authenticator.
    Cloned,
    /// The signature does not verify.
    BadSignature,
    /// The user was not verified (PIN, biometrics) where it is required.
    Unverified,
    /// A key type we do not verify.
    Unsupported,
    /// This passkey is registered already.
    Duplicate,
    /// The account holds [`MAX_PASSKEYS`] already.
    TooMany,
    /// The passkey is right, the account's state refuses the login.
    Account(Refusal),
    /// The store failed: try again.
    Unavailable,
}

impl From<Check> for PasskeyRefusal {
    fn from(c: Check) -> Self {
        match c {
            Check::Malformed | Check::WrongType => PasskeyRefusal::Malformed,
            Check::WrongOrigin | Check::WrongRelyingParty => PasskeyRefusal::WrongOrigin,
            Check::NoUserPresence | Check::NoUserVerification => PasskeyRefusal::Unverified,
            Check::UnsupportedKey => PasskeyRefusal::Unsupported,
            Check::BadSignature => PasskeyRefusal::BadSignature,
            Check::CounterRegressed => PasskeyRefusal::Cloned,
        }
    }
}

impl PasskeyRefusal {
    /// The connection journal's word.
    pub fn as_str(self) -> &'static str {
        match self {
            PasskeyRefusal::Malformed => "passkey-malformed",
            PasskeyRefusal::WrongOrigin => "passkey-origin",
            PasskeyRefusal::Replayed => "passkey-replayed",
            PasskeyRefusal::Unknown => "passkey-unknown",
            PasskeyRefusal::Cloned => "passkey-cloned",
            PasskeyRefusal::BadSignature => "passkey-signature",
            PasskeyRefusal::Unverified => "passkey-unverified",
            PasskeyRefusal::Unsupported => "passkey-unsupported",
            PasskeyRefusal::Duplicate => "passkey-duplicate",
            PasskeyRefusal::TooMany => "passkey-too-many",
            PasskeyRefusal::Account(r) => r.as_str(),
            PasskeyRefusal::Unavailable => "unavailable",
        }
    }

    pub fn message_fr(self) -> &'static str {
        match self {
            PasskeyRefusal::Malformed => "La réponse de la clé d'accès est illisible. Réessayez.",
            PasskeyRefusal::WrongOrigin => {
                "Cette clé d'accès n'a pas été utilisée depuis la messagerie académique : connexion refusée."
            }
            PasskeyRefusal::Replayed => {
                "Cette demande de clé d'accès a expiré ou a déjà servi. Recommencez depuis la page de connexion."
            }
            PasskeyRefusal::Unknown => "Clé d'accès inconnue : elle a peut-être été révoquée.",
            PasskeyRefusal::Cloned => {
                "Cette clé d'accès semble avoir été copiée : connexion refusée. Contactez l'assistance de votre académie."
            }
            PasskeyRefusal::BadSignature => "La signature de la clé d'accès n'est pas valide : connexion refusée.",
            PasskeyRefusal::Unverified => {
                "La clé d'accès n'a pas vérifié votre identité (code ou empreinte) : connexion refusée."
            }
            PasskeyRefusal::Unsupported => "Ce type de clé d'accès n'est pas pris en charge.",
            PasskeyRefusal::Duplicate => "Cette clé d'accès est déjà enregistrée.",
            PasskeyRefusal::TooMany => "Vous avez atteint le nombre maximal de clés d'accès : révoquez-en une d'abord.",
            PasskeyRefusal::Account(r) => r.message_fr(),
            PasskeyRefusal::Unavailable => Refusal::Unavailable.message_fr(),
        }
    }

    pub fn message_en(self) -> &'static str {
        match self {
            PasskeyRefusal::Malformed => "The passkey's answer cannot be read. Try again.",
            PasskeyRefusal::WrongOrigin => "This passkey was not used from the academic webmail: login refused.",
            PasskeyRefusal::Replayed => {
                "This passkey request expired or was used already. Start again from the login page."
            }
            PasskeyRefusal::Unknown => "Unknown passkey: it may have been revoked.",
            PasskeyRefusal::Cloned => "This passkey seems to have been copied: login refused. Contact your helpdesk.",
            PasskeyRefusal::BadSignature => "The passkey's signature is not valid: login refused.",
            PasskeyRefusal::Unverified => "The passkey did not verify you (PIN or fingerprint): login refused.",
            PasskeyRefusal::Unsupported => "This kind of passkey is not supported.",
            PasskeyRefusal::Duplicate => "This passkey is registered already.",
            PasskeyRefusal::TooMany => "You have the most passkeys allowed: revoke one first.",
            PasskeyRefusal::Account(r) => r.message_en(),
            PasskeyRefusal::Unavailable => Refusal::Unavailable.message_en(),
        }
    }
}

fn unavailable(e: store::Error) -> PasskeyRefusal {
    tracing::warn!(error = %e, "passkey: store unavailable");
    PasskeyRefusal::Unavailable
}

fn field(text: &str) -> Result<Vec<u8>, PasskeyRefusal> {
    if text.len() > MAX_FIELD {
        return Err(PasskeyRefusal::Malformed);
    }
    Ok(from_b64url(text)?)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The state rule every login applies once the secret is right.
fn state_allows(account: &Account) -> Result<(), PasskeyRefusal> {
    if account.role == Role::Student {
        return Err(PasskeyRefusal::Account(Refusal::Student));
    }
    match account.status {
        AccountStatus::Suspended => Err(PasskeyRefusal::Account(Refusal::Suspended)),
        AccountStatus::Closed => Err(PasskeyRefusal::Account(Refusal::Closed)),
        AccountStatus::Provisional => Err(PasskeyRefusal::Account(Refusal::Provisional)),
        _ => Ok(()),
    }
}

impl Identity {
    /// A new challenge for `purpose` (base64url), kept for
    /// [`CHALLENGE_SECS`]; `account` is the signed-in account (registration)
    /// or the one whose password was just checked (second factor).
    pub async fn passkey_challenge(&self, purpose: Purpose, account: Option<AccountId>) -> Result<String, Error> {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let challenge = b64url(&bytes);
        let hash = token_hash("passkey challenge", &challenge);
        self.store.put_passkey_challenge(&hash, purpose.as_str(), account, now() + CHALLENGE_SECS).await?;
        Ok(challenge)
    }

    /// The WebAuthn user handle of an account (base64url): a keyed hash of
    /// its id, so that it names nobody outside this installation.
    pub fn passkey_user_handle(&self, account: AccountId) -> String {
        let key = self.totp_key.derive("ardoise 2026 passkey user handle");
        let mut h = blake3::Hasher::new_keyed(&key);
        h.update(&account.to_be_bytes());
        b64url(&h.finalize().as_bytes()[..16])
    }

    /// The account's passkeys, oldest first.
    pub async fn passkeys(&self, account: AccountId) -> Result<Vec<Passkey>, store::Error> {
        self.store.passkeys(account).await
    }

    /// Whether the account has a passkey (the login then asks for a second factor).
    pub async fn has_passkeys(&self, account: AccountId) -> Result<bool, store::Error> {
        Ok(self.store.passkey_count(account).await? > 0)
    }

    /// Claims the challenge signed in `client_data` for `purpose` (and
    /// `account`, when one was named).
    async fn claim(
        &self,
        challenge: &[u8],
        purpose: Purpose,
        account: Option<AccountId>,
    ) -> Result<(), PasskeyRefusal> {
        let hash = token_hash("passkey challenge", &b64url(challenge));
        match self.store.claim_passkey_challenge(&hash).await.map_err(unavailable)? {
            Some(c) if c.purpose == purpose.as_str() && c.account_id == account => Ok(()),
            _ => Err(PasskeyRefusal::Replayed),
        }
    }

    /// Registers a new passkey of `account` named `name` from the browser's
    /// answer to a [`Purpose::Register`] challenge (user verification
    /// required: the passkey will open the account alone).
    pub async fn register_passkey(
        &self,
        account: &Account,
        name: &str,
        rp: Relying<'_>,
        client_data: &str,
        attestation_object: &str,
    ) -> Result<i64, PasskeyRefusal> {
        let outcome = self.register(account, name, rp, client_data, attestation_object).await;
        match &outcome {
            Ok(id) => {
                tracing::info!(account = account.id, passkey = id, "passkey registered");
                notify::notify(
                    &self.mail,
                    account,
                    "Clé d'accès ajoutée",
                    &format!(
                        "Une clé d'accès nommée « {} » vient d'être ajoutée à votre compte. Si ce n'est pas vous, \
                         révoquez-la sur la page Sécurité et changez votre mot de passe.\n\n(A passkey was added to your account.)",
                        clean_name(name)
                    ),
                )
                .await;
            }
            Err(r) => tracing::warn!(account = account.id, refusal = r.as_str(), "passkey registration refused"),
        }
        outcome
    }

    async fn register(
        &self,
        account: &Account,
        name: &str,
        rp: Relying<'_>,
        client_data: &str,
        attestation_object: &str,
    ) -> Result<i64, PasskeyRefusal> {
        let json = field(client_data)?;
        let challenge = webauthn::client_data(&json, Ceremony::Create, rp.origin)?;
        self.claim(&challenge, Purpose::Register, Some(account.id)).await?;
        let auth = AuthData::parse(&webauthn::attestation_auth_data(&field(attestation_object)?)?)?;
        auth.check(rp.rp_id, true)?;
        let attested = auth.attested.ok_or(PasskeyRefusal::Malformed)?;
        PublicKey::from_cose(&attested.public_key)?;
        if self.store.passkey_count(account.id).await.map_err(unavailable)? >= MAX_PASSKEYS as i64 {
            return Err(PasskeyRefusal::TooMany);
        }
        let new = NewPasskey {
            account_id: account.id,
            credential_id: &b64url(&attested.credential_id),
            public_key: &b64url(&attested.public_key),
            sign_count: i64::from(auth.sign_count),
            name: &clean_name(name),
        };
        match self.store.add_passkey(&new).await {
            Ok(id) => Ok(id),
            Err(store::Error::Conflict(_)) => Err(PasskeyRefusal::Duplicate),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Checks a login with a passkey: passwordless when `second` is `None`
    /// (the account is the credential's, the user verified), or the second
    /// factor of `second`, whose password was just checked. Journaled.
    pub async fn passkey_login(
        &self,
        rp: Relying<'_>,
        answer: &Assertion<'_>,
        second: Option<&Account>,
        peer: IpAddr,
        client: &str,
    ) -> Result<PasskeyLogin, PasskeyRefusal> {
        let mut named = second.cloned();
        let outcome = self.assert(rp, answer, second, &mut named).await;
        let result = match &outcome {
            Ok(_) => "ok",
            Err(r) => r.as_str(),
        };
        let entry = NewJournalEntry {
            account_id: named.as_ref().map(|a| a.id),
            login: named.as_ref().map_or_else(|| "(clé d'accès)".to_owned(), |a| a.address.to_string()),
            protocol: PASSKEY_PROTOCOL.into(),
            ip: source_of(peer),
            client: client.chars().filter(|c| !c.is_control()).take(64).collect(),
            result: result.into(),
            device: None,
        };
        if let Err(e) = self.store.record_login(&entry).await {
            tracing::warn!(error = %e, "passkey login: journal write failed");
            return Err(PasskeyRefusal::Unavailable);
        }
        match &outcome {
            Err(PasskeyRefusal::Cloned) => {
                tracing::warn!(account = ?entry.account_id, "passkey refused: its signature counter went back (cloned?)");
                if let Some(a) = &named {
                    notify::notify(
                        &self.mail,
                        a,
                        "Clé d'accès refusée : copie probable",
                        "Une connexion avec l'une de vos clés d'accès a été refusée : son compteur de signatures est \
                         revenu en arrière, ce qui indique une copie de la clé. Révoquez-la sur la page Sécurité et \
                         prévenez l'assistance.\n\n(A login with one of your passkeys was refused: it looks copied.)",
                    )
                    .await;
                }
            }
            Err(r) => tracing::info!(account = ?entry.account_id, refusal = r.as_str(), "passkey login refused"),
            Ok(l) => tracing::info!(account = l.account.id, passkey = l.passkey, "passkey login"),
        }
        outcome
    }

    async fn assert(
        &self,
        rp: Relying<'_>,
        answer: &Assertion<'_>,
        second: Option<&Account>,
        named: &mut Option<Account>,
    ) -> Result<PasskeyLogin, PasskeyRefusal> {
        // The credential names the account the journal files the attempt under
        // (nothing is decided on it before the challenge is claimed).
        let credential = field(answer.credential_id)?;
        let stored = self.store.passkey_by_credential(&b64url(&credential)).await.map_err(unavailable)?;
        let holder = match &stored {
            Some(p) => self.store.account(p.account_id).await.map_err(unavailable)?,
            None => None,
        };
        if named.is_none() {
            named.clone_from(&holder);
        }
        let json = field(answer.client_data)?;
        let challenge = webauthn::client_data(&json, Ceremony::Get, rp.origin)?;
        let purpose = if second.is_some() { Purpose::Second } else { Purpose::Login };
        self.claim(&challenge, purpose, second.map(|a| a.id)).await?;
        let (Some(stored), Some(account)) = (stored, holder) else { return Err(PasskeyRefusal::Unknown) };
        if second.is_some_and(|a| a.id != stored.account_id) {
            return Err(PasskeyRefusal::Unknown);
        }
        // A discoverable credential names its user: it must be the holder.
        let handle = field(answer.user_handle)?;
        if (second.is_none() && handle.is_empty())
            || (!handle.is_empty() && b64url(&handle) != self.passkey_user_handle(account.id))
        {
            return Err(PasskeyRefusal::Unknown);
        }
        let auth_bytes = field(answer.authenticator_data)?;
        let auth = AuthData::parse(&auth_bytes)?;
        auth.check(rp.rp_id, second.is_none())?;
        let key = PublicKey::from_cose(&field(&stored.public_key).map_err(|_| PasskeyRefusal::Unsupported)?)?;
        key.verify(&auth_bytes, &json, &field(answer.signature)?)?;
        let seen = u32::try_from(stored.sign_count).unwrap_or(u32::MAX);
        webauthn::counter_moves_on(seen, auth.sign_count)?;
        if !self
            .store
            .passkey_used(stored.id, stored.sign_count, i64::from(auth.sign_count))
            .await
            .map_err(unavailable)?
        {
            // Another login with the same counter came first.
            return Err(PasskeyRefusal::Cloned);
        }
        state_allows(&account)?;
        Ok(PasskeyLogin { account, passkey: stored.id, verified: auth.verified() })
    }

    /// Revokes one passkey of the account; false when it has none of that id.
    /// A passkey is revoked because its device is lost or no longer
    /// trusted: every web session but `keep` (the one revoking) ends with
    /// it, since any of them may have been opened with that key.
    pub async fn revoke_passkey(&self, account: &Account, id: i64, keep: Option<&str>) -> Result<bool, Error> {
        let done = self.store.delete_passkey(account.id, id).await?;
        if done {
            let ended = self.store.delete_web_sessions(account.id, keep).await?;
            tracing::info!(account = account.id, sessions = ended, "passkey revoked: other web sessions ended");
            notify::notify(
                &self.mail,
                account,
                "Clé d'accès révoquée",
                "Une clé d'accès vient d'être révoquée sur votre compte : elle n'ouvre plus votre messagerie, et vos \
                 autres sessions web ont été fermées.\n\n(A passkey was revoked on your account; your other web \
                 sessions were closed.)",
            )
            .await;
        }
        Ok(done)
    }

    /// Deletes every passkey of the account (a lost device: the helpdesk's
    /// reset) and ends every web session of the account, any of which may
    /// have been opened with one of them; the owner is mailed. Returns how
    /// many passkeys went.
    pub(crate) async fn reset_passkeys(&self, account: &Account) -> Result<u64, Error> {
        let n = self.store.delete_passkeys(account.id).await?;
        self.store.delete_web_sessions(account.id, None).await?;
        notify::notify(
            &self.mail,
            account,
            "Clés d'accès réinitialisées",
            "L'assistance a supprimé les clés d'accès de votre compte. Vous pourrez en ajouter de nouvelles sur la \
             page Sécurité.\n\n(The helpdesk removed the passkeys of your account.)",
        )
        .await;
        Ok(n)
    }
}

/// The journal's protocol of passkey logins (a web login).
pub const PASSKEY_PROTOCOL: &str = "passkey";

/// A passkey's name as kept: printable, trimmed, at most [`MAX_NAME`]
/// characters, « Clé d'accès » when empty.
pub fn clean_name(name: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control()).take(MAX_NAME).collect();
    match name.trim() {
        "" => "Clé d'accès".to_owned(),
        n => n.to_owned(),
    }
}
