//! App passwords: named, revocable, scoped to IMAP, SMTP, DAV and/or ManageSieve, for the
//! desktop and phone clients that cannot type a TOTP code. The server makes
//! them (16 random characters, about 80 bits), shows them once and keeps
//! only a hash.

use store::Account;

use super::hash::{random_token, token_hash};
use super::login::normalise_app_password;
use super::{Error, notify};
use crate::Identity;

/// The scopes an app password may carry.
pub const SCOPES: &[&str] = &["imap", "smtp", "dav", "sieve"];

/// Creates an app password; returns it in clear, formatted `abcd-efgh-jkmn-pqrs`.
/// Unknown scopes are dropped; no scope at all gives IMAP and SMTP.
impl Identity {
    pub async fn create_app_password(&self, account: &Account, name: &str, scopes: &[&str]) -> Result<String, Error> {
        let mut chosen: Vec<&str> = SCOPES.iter().copied().filter(|s| scopes.contains(s)).collect();
        if chosen.is_empty() {
            chosen = vec!["imap", "smtp"];
        }
        let name: String = name.chars().filter(|c| !c.is_control()).take(60).collect();
        let name = if name.trim().is_empty() { "Application".to_owned() } else { name.trim().to_owned() };
        let raw = random_token(16);
        let shown = format!("{}-{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..12], &raw[12..]);
        self.store
            .create_app_password(account.id, &name, &chosen, &token_hash("app", &normalise_app_password(&shown)))
            .await?;
        self.cache.forget(account.id);
        notify::notify(
            &self.mail,
            account,
            "Nouveau mot de passe d'application",
            &format!(
                "Un mot de passe d'application nommé « {name} » ({}) vient d'être créé.\n\n\
             (A new app password was created.)",
                chosen.join(", ").to_uppercase()
            ),
        )
        .await;
        Ok(shown)
    }

    /// Revokes one of the account's app passwords; false when there was none.
    pub async fn revoke_app_password(&self, account: &Account, id: i64) -> Result<bool, Error> {
        let done = self.store.revoke_app_password(account.id, id).await?;
        self.cache.forget(account.id);
        if done {
            // Here at once; other processes through the store (the watcher).
            self.revoke_credential_here(account.id, model::Revocation::AppPassword(id));
            notify::notify(
                &self.mail,
                account,
                "Mot de passe d'application révoqué",
                "Un mot de passe d'application vient d'être révoqué : le client qui l'utilisait ne peut plus se \
             connecter.\n\n(An app password was revoked.)",
            )
            .await;
        }
        Ok(done)
    }

    /// Revokes every app password of the account (« révoquer aussi les mots
    /// de passe d'application »): the sessions opened with them end. Returns
    /// how many there were; the owner is mailed when there were any.
    pub async fn revoke_app_passwords(&self, account: &Account) -> Result<u64, Error> {
        let n = self.store.revoke_app_passwords(account.id).await?;
        self.cache.forget(account.id);
        self.revoke_credential_here(account.id, model::Revocation::AppPasswords);
        if n > 0 {
            notify::notify(
                &self.mail,
                account,
                "Mots de passe d'application révoqués",
                &format!(
                    "Vos {n} mots de passe d'application viennent d'être révoqués : les logiciels qui les utilisaient \
                 doivent être reconnectés avec un nouveau.\n\n({n} app passwords were revoked.)"
                ),
            )
            .await;
        }
        Ok(n)
    }
}
