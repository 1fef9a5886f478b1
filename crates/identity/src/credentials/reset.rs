//! "Mot de passe oublié": the identifier and the NUMEN get a single-use link,
//! valid 30 minutes, sent to the secondary address from the HR file. The
//! answer is the same whether or not anything matched, and guesses are
//! journaled and slowed down like password guesses.

use std::net::IpAddr;

use model::{AccountStatus, Address, Role};
use store::{Account, NewJournalEntry};
use subtle::ConstantTimeEq;

use super::change::ChangeError;
use super::hash::{random_token, token_hash};
use super::policy::{Context, PolicyViolation, names_of};
use super::{Error, notify};
use crate::Identity;
use crate::lifecycle::NumenKey;

/// How long a reset link stays valid.
pub const RESET_VALIDITY_SECS: i64 = 30 * 60;
/// Links per account and hour.
const RESETS_PER_HOUR: i64 = 3;

impl Identity {
    /// Handles a reset request. Returns nothing on purpose: the caller shows the
    /// same page whatever happened. `base_url` is the configured public address
    /// of the web service (never the request's Host header).
    pub async fn request_reset(
        &self,
        key: &NumenKey,
        identifier: &str,
        numen: &str,
        peer: IpAddr,
        base_url: &str,
    ) -> Result<(), Error> {
        let store = &self.store;
        let ip = super::device::source_of(peer);
        let now = unix_now();
        let t = self.per_account;
        let (n, last) = store.recent_failures(None, &ip, now - t.window.as_secs() as i64).await?;
        let account = super::login::find_account(store, identifier).await?;
        let journal = |account: Option<&Account>, result: &str| NewJournalEntry {
            account_id: account.map(|a| a.id),
            login: identifier.chars().filter(|c| !c.is_control()).take(64).collect(),
            protocol: "reset".into(),
            ip: ip.clone(),
            client: String::new(),
            result: result.into(),
            device: None,
        };
        if self.per_address.wait(n, last, now).is_some() {
            store.record_login(&journal(account.as_ref(), "throttled")).await?;
            return Ok(());
        }
        let Some(account) = account else {
            store.record_login(&journal(None, "bad")).await?;
            return Ok(());
        };
        let contact = store.reset_contact(account.id).await?;
        let numen_ok =
            contact.as_ref().is_some_and(|(h, _)| bool::from(h.as_bytes().ct_eq(key.hash(numen).as_bytes())));
        if !numen_ok {
            store.record_login(&journal(Some(&account), "bad")).await?;
            return Ok(());
        }
        let usable = account.role != Role::Student
            && matches!(account.status, AccountStatus::Active | AccountStatus::Provisional);
        let secondary = contact.and_then(|(_, s)| s).and_then(|s| Address::parse(&s).ok());
        if !usable || store.reset_tokens_since(account.id, now - 3600).await? >= RESETS_PER_HOUR {
            store.record_login(&journal(Some(&account), "reset-refused")).await?;
            return Ok(());
        }
        let Some(secondary) = secondary else {
            store.record_login(&journal(Some(&account), "reset-no-address")).await?;
            return Ok(());
        };
        let token = random_token(32);
        store.create_reset_token(account.id, &token_hash("reset", &token), now + RESET_VALIDITY_SECS).await?;
        store.record_login(&journal(Some(&account), "reset-sent")).await?;
        let link = format!("{}/mot-de-passe/reinitialiser?jeton={token}", base_url.trim_end_matches('/'));
        let body = format!(
            "Bonjour {},\n\nUne réinitialisation du mot de passe de votre compte {} a été demandée.\n\
         Pour choisir un nouveau mot de passe, ouvrez ce lien (valable 30 minutes, une seule fois) :\n\n{link}\n\n\
         Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n\n\
         (A password reset was requested for your account: the link above is valid 30 minutes, once.)\n",
            account.display_name, account.address
        );
        let raw = mail_builder::MessageBuilder::new()
            .from(("Sécurité Ardoise", format!("securite@{}", account.address.domain()).as_str()))
            .to(secondary.to_string().as_str())
            .subject("Réinitialisation de votre mot de passe")
            .text_body(body)
            .write_to_vec()
            .map_err(|_| Error::Hash)?;
        match store.account_by_address(&secondary).await? {
            Some(local) => {
                self.mail.deliver(&raw, &[local.id], now).await?;
            }
            // Outside mail is not sent from here yet: say so, without the link.
            None => tracing::warn!(account = account.id, "reset link would be sent to an outside address (not sent)"),
        }
        Ok(())
    }

    /// The account of a valid, unused reset token (without spending it).
    pub async fn reset_account(&self, token: &str) -> Result<Option<Account>, Error> {
        if token.len() > 64 {
            return Ok(None);
        }
        let Some(id) = self.store.reset_token(&token_hash("reset", token), false).await? else { return Ok(None) };
        Ok(self.store.account(id).await?)
    }

    /// Sets a new password with a reset token: the token is spent only when the
    /// password is accepted. Every web session of the account ends.
    pub async fn reset_password(&self, token: &str, new: &str, confirm: &str) -> Result<Option<Account>, ChangeError> {
        let policy = &self.policy;
        let Some(account) = self.reset_account(token).await? else { return Ok(None) };
        let mut problems = policy.check(new, &Context { names: names_of(&account), numen: None });
        if new != confirm {
            problems.push(PolicyViolation::Mismatch);
        }
        if !problems.is_empty() {
            return Err(ChangeError::Policy(problems));
        }
        let store = &self.store;
        if store.reset_token(&token_hash("reset", token), true).await?.is_none() {
            return Ok(None);
        }
        let hash = self.hash_password(new).await.ok_or(Error::Hash)?;
        let provisional = account.status == AccountStatus::Provisional;
        store.change_password(account.id, &hash, policy.history, provisional).await?;
        self.revoke_tokens_after_password_change(account.id).await;
        self.cache.forget(account.id);
        self.revoke_credential_here(account.id, model::Revocation::Password);
        store.delete_web_sessions(account.id, None).await?;
        notify::notify(
            &self.mail,
            &account,
            "Votre mot de passe a été réinitialisé",
            "Le mot de passe de votre compte vient d'être réinitialisé avec un lien envoyé à votre adresse \
         secondaire. Toutes vos sessions web ont été fermées.\n\n(Your password was reset.)",
        )
        .await;
        Ok(Some(account))
    }

    /// A helpdesk reset: a new random provisional password, returned in clear
    /// to be given to the user once (it is kept only as an argon2id hash). The
    /// account goes back to `provisional`, so the web forces a change at the
    /// next login and IMAP/SMTP refuse it until then; its web sessions end and
    /// the user is mailed. Suspended and closed accounts are refused (not found).
    pub async fn helpdesk_reset(&self, account: &Account) -> Result<String, Error> {
        let raw = random_token(16);
        let password = format!("{}-{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..12], &raw[12..]);
        let hash = self.hash_password(&password).await.ok_or(Error::Hash)?;
        self.store.set_provisional_password(account.id, &hash).await?;
        self.cache.forget(account.id);
        // The store revoked the app passwords too (a reset means the secrets
        // may be known to someone else); here at once, elsewhere by the watcher.
        self.mail.revoke_access(account.id);
        notify::notify(
            &self.mail,
            account,
            "Votre mot de passe a été réinitialisé par l'assistance",
            "L'assistance vient de réinitialiser le mot de passe de votre compte et vous a communiqué un mot de passe \
         provisoire. À votre prochaine connexion sur la messagerie web, vous devrez choisir un nouveau mot de \
         passe ; d'ici là, vos logiciels de messagerie ne peuvent plus se connecter avec l'ancien. Toutes vos \
         sessions ont été fermées et vos mots de passe d'application révoqués.\n\n(The helpdesk reset your password and gave you a provisional one: \
         choose a new password at your next login on the webmail.)",
        )
        .await;
        Ok(password)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
