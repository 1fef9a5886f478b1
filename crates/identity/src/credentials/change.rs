//! Changing a password: the current one proves the person is there (at first
//! login it is the provisional password, that is the NUMEN, so the new one
//! can be checked not to contain it), the policy and the history decide.

use model::AccountStatus;
use store::Account;

use super::policy::{Context, PolicyViolation, names_of};
use super::{Error, notify};
use crate::Identity;

/// Why a change was refused.
#[derive(Debug)]
pub enum ChangeError {
    /// The current password given is wrong.
    WrongCurrent,
    Policy(Vec<PolicyViolation>),
    Internal(Error),
}

impl From<Error> for ChangeError {
    fn from(e: Error) -> Self {
        ChangeError::Internal(e)
    }
}

impl From<store::Error> for ChangeError {
    fn from(e: store::Error) -> Self {
        ChangeError::Internal(e.into())
    }
}

impl Identity {
    /// Changes the password of `account` (re-read from the store first) under
    /// the service's policy. A provisional account becomes active.
    pub async fn change_password(
        &self,
        account: &Account,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> Result<(), ChangeError> {
        let (store, policy) = (&self.store, &self.policy);
        let account = store.account(account.id).await?.ok_or(Error::Store(store::Error::NotFound("account")))?;
        if !self.verify_password(account.password_hash.clone(), current).await {
            return Err(ChangeError::WrongCurrent);
        }
        let provisional = account.status == AccountStatus::Provisional;
        let ctx = Context { names: names_of(&account), numen: provisional.then_some(current) };
        let mut problems = policy.check(new, &ctx);
        if new != confirm {
            problems.push(PolicyViolation::Mismatch);
        }
        if problems.is_empty() && policy.history > 0 {
            let mut previous: Vec<String> = account.password_hash.iter().cloned().collect();
            previous
                .extend(store.password_history(account.id).await?.into_iter().take(policy.history.saturating_sub(1)));
            for h in previous {
                if self.verify_password(Some(h), new).await {
                    problems.push(PolicyViolation::Reused);
                    break;
                }
            }
        }
        if !problems.is_empty() {
            return Err(ChangeError::Policy(problems));
        }
        let hash = self.hash_password(new).await.ok_or(Error::Hash)?;
        store.change_password(account.id, &hash, policy.history, provisional).await?;
        self.revoke_tokens_after_password_change(account.id).await;
        self.cache.forget(account.id);
        self.revoke_credential_here(account.id, model::Revocation::Password);
        notify::notify(
            &self.mail,
            &account,
            "Votre mot de passe a été changé",
            "Le mot de passe de votre compte vient d'être changé.\n\n(Your password was just changed.)",
        )
        .await;
        Ok(())
    }

    /// Sets the password of `account` for an administrator (`ardoise admin
    /// account password`): no policy check and no current password, the old
    /// one goes to the history. The sessions opened with the old password
    /// end, in every process, and so do the web sessions; with
    /// `revoke_apps`, every app password too.
    pub async fn set_password(&self, account: &Account, new: &str, revoke_apps: bool) -> Result<(), Error> {
        let hash = self.hash_password(new).await.ok_or(Error::Hash)?;
        self.store.change_password(account.id, &hash, self.policy.history, false).await?;
        self.revoke_tokens_after_password_change(account.id).await;
        self.cache.forget(account.id);
        self.revoke_credential_here(account.id, model::Revocation::Password);
        self.store.delete_web_sessions(account.id, None).await?;
        if revoke_apps {
            self.revoke_app_passwords(account).await?;
        }
        notify::notify(
            &self.mail,
            account,
            "Votre mot de passe a été changé par l'assistance",
            "L'assistance vient de changer le mot de passe de votre compte. Les connexions ouvertes avec l'ancien \
         ont été fermées.\n\n(The helpdesk changed your password; connections opened with the old one were closed.)",
        )
        .await;
        Ok(())
    }

    /// A new password ends what the old one opened for applications: the
    /// OAuth access and refresh tokens and CAS tickets of our own provider
    /// (issue 27). A failure is logged; the password change stands.
    pub(super) async fn revoke_tokens_after_password_change(&self, account: model::AccountId) {
        match self.store.revoke_sso_account(account).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(account, revoked = n, "password changed: OAuth tokens revoked"),
            Err(e) => tracing::warn!(account, error = %e, "password changed: OAuth tokens not revoked"),
        }
    }
}
