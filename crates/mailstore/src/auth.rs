//! Checking a user's credentials for the mail protocols: superseded by
//! `identity::credentials::login` (journal, brute-force slow-down, app
//! passwords, TOTP), which IMAP and the web call. Kept until the last caller
//! (submission's `ardoise::outbound::login`) has moved, then to be removed.
//!
//! The password is verified against the account's argon2id hash on a
//! blocking thread; the account's state is looked at only once the password
//! is right, so a guesser learns nothing about accounts it cannot open.

use model::{AccountStatus, Address, Role};
use store::Account;

use crate::{Error, Mailstore};

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Unknown login, no password set, or wrong password.
    BadCredentials,
    /// The password is right but the account is not active (provisional
    /// accounts must finish their first login on the web first).
    NotActive(AccountStatus),
    /// Students have no access to the staff mail protocols.
    RoleNotAllowed(Role),
}

impl Mailstore {
    /// Finds the account for `login` (its full address, or its `login` column)
    /// and checks the password. Returns the account when it may open a session.
    pub async fn authenticate(&self, login: &str, password: &str) -> Result<Result<Account, LoginRefusal>, Error> {
        let login = login.trim();
        let mut account = match Address::parse(login) {
            Ok(addr) => self.store.account_by_address(&addr).await?,
            Err(_) => None,
        };
        if account.is_none() {
            account = self.store.account_by_login(login).await?;
        }
        let Some(account) = account else {
            return Ok(Err(LoginRefusal::BadCredentials));
        };
        let Some(hash) = account.password_hash.clone() else {
            return Ok(Err(LoginRefusal::BadCredentials));
        };
        let password = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || verify_password(&hash, &password)).await.unwrap_or(false);
        if !verified {
            return Ok(Err(LoginRefusal::BadCredentials));
        }
        if account.status != AccountStatus::Active {
            return Ok(Err(LoginRefusal::NotActive(account.status)));
        }
        if account.role == Role::Student {
            return Ok(Err(LoginRefusal::RoleNotAllowed(account.role)));
        }
        Ok(Ok(account))
    }
}

/// Whether `password` matches a PHC-formatted argon2 hash.
fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};

    #[test]
    fn verifies_argon2id_hashes() {
        let salt = SaltString::generate(&mut OsRng);
        let hash = argon2::Argon2::default().hash_password(b"Ardoise-Demo-2026", &salt).unwrap().to_string();
        assert!(verify_password(&hash, "Ardoise-Demo-2026"));
        assert!(!verify_password(&hash, "ardoise-demo-2026"));
        assert!(!verify_password("not a hash", "x"));
    }
}
