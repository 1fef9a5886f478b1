//! What an administrator changes on an account. Each operation checks the
//! role and scope ([`Identity::admin_target`]), changes, and audits with the
//! real actor; the audit log never holds a password.

use model::{AccountId, AccountStatus, OrgUnitId, Role};
use store::NewJournalEntry;

use super::{AdminError, Administrator, refused};
use crate::Identity;
use crate::lifecycle::{Action, AdminRole};

/// The largest quota accepted (10 TiB): anything above is a typing mistake.
pub(super) const MAX_QUOTA: i64 = 10 << 40;

/// A quota as typed by an administrator: `0`, `illimité` or `unlimited` for
/// none, else a number of bytes with an optional K, M, G or T (powers of
/// 1024; `Mo`/`Go` and `MB`/`GB` accepted).
pub fn parse_quota(s: &str) -> Result<Option<i64>, AdminError> {
    let bad = || refused("quota invalide (ex. 500M, 2G, 0 = illimité)", "invalid quota (e.g. 500M, 2G, 0 = unlimited)");
    let t = s.trim().to_lowercase();
    if matches!(t.as_str(), "0" | "illimité" | "unlimited") {
        return Ok(None);
    }
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let n: i64 = number.parse().map_err(|_| bad())?;
    let shift = match unit.trim() {
        "" | "o" | "b" => 0,
        "k" | "ko" | "kb" => 10,
        "m" | "mo" | "mb" => 20,
        "g" | "go" | "gb" => 30,
        "t" | "to" | "tb" => 40,
        _ => return Err(bad()),
    };
    let bytes = n.checked_mul(1 << shift).filter(|b| *b > 0 && *b <= MAX_QUOTA).ok_or_else(bad)?;
    Ok(Some(bytes))
}

impl Identity {
    /// Suspends the account: every login refused, its sessions and
    /// connections end now (here; other processes through the watcher),
    /// applications signed in through Ardoise lose their tokens. Mail is
    /// still accepted.
    pub async fn admin_suspend(&self, who: &Administrator, id: AccountId) -> Result<(), AdminError> {
        let a = self.admin_target(who, id, Action::ManageAccount).await?;
        if who.account() == Some(id) {
            return Err(refused(
                "vous ne pouvez pas suspendre votre propre compte",
                "you cannot suspend your own account",
            ));
        }
        self.store.set_account_status(id, AccountStatus::Suspended).await?;
        self.store.revoke_sso_account(id).await?;
        self.cache.forget(id);
        self.mail.revoke_access(id);
        self.admin_audit(who, "account.suspend", &a.address.to_string(), "").await?;
        Ok(())
    }

    /// Reactivates a suspended account.
    pub async fn admin_reactivate(&self, who: &Administrator, id: AccountId) -> Result<(), AdminError> {
        let a = self.admin_target(who, id, Action::ManageAccount).await?;
        if a.status != AccountStatus::Suspended {
            return Err(refused("ce compte n'est pas suspendu", "this account is not suspended"));
        }
        self.store.set_account_status(id, AccountStatus::Active).await?;
        self.admin_audit(who, "account.activate", &a.address.to_string(), "").await?;
        Ok(())
    }

    /// Sets the quota (`None`: unlimited).
    pub async fn admin_set_quota(
        &self,
        who: &Administrator,
        id: AccountId,
        quota: Option<i64>,
    ) -> Result<(), AdminError> {
        let a = self.admin_target(who, id, Action::ManageAccount).await?;
        if quota.is_some_and(|q| q <= 0 || q > MAX_QUOTA) {
            return Err(refused("quota invalide", "invalid quota"));
        }
        self.store.set_quota(id, quota).await?;
        let detail = quota.map_or_else(|| "illimité".to_owned(), |q| format!("{q} octets"));
        self.admin_audit(who, "account.quota", &a.address.to_string(), &detail).await?;
        Ok(())
    }

    /// A new provisional password, returned to be shown once (the audit log
    /// records the reset, never the password); see [`Identity::helpdesk_reset`].
    pub async fn admin_reset_password(&self, who: &Administrator, id: AccountId) -> Result<String, AdminError> {
        let a = self.admin_target(who, id, Action::ResetCredentials).await?;
        if a.role == Role::Student {
            return Err(refused("compte élève, sans accès à la messagerie", "student account, no access to mail"));
        }
        if who.account() == Some(id) {
            return Err(refused(
                "changez votre propre mot de passe depuis la page Sécurité",
                "change your own password on the Security page",
            ));
        }
        let password = match self.helpdesk_reset(&a).await {
            Ok(p) => p,
            Err(crate::credentials::Error::Store(store::Error::NotFound(_))) => {
                return Err(refused("compte suspendu ou fermé", "account suspended or closed"));
            }
            Err(e) => return Err(e.into()),
        };
        self.admin_audit(who, "account.reset-password", &a.address.to_string(), "mot de passe provisoire").await?;
        Ok(password)
    }

    /// Turns the account's second factor off (a lost phone); the user is
    /// mailed, and sets it up again at the next login when it is required.
    pub async fn admin_reset_totp(&self, who: &Administrator, id: AccountId) -> Result<(), AdminError> {
        let a = self.admin_target(who, id, Action::ResetCredentials).await?;
        if who.account() == Some(id) {
            return Err(refused(
                "votre propre validation en deux étapes se gère depuis la page Sécurité",
                "manage your own two-step verification on the Security page",
            ));
        }
        self.disable_totp(&a).await?;
        self.admin_audit(who, "account.reset-2fa", &a.address.to_string(), "").await?;
        Ok(())
    }

    /// Deletes every passkey of the account (a lost or stolen device); the
    /// user is mailed and may register new ones. Returns how many went.
    pub async fn admin_reset_passkeys(&self, who: &Administrator, id: AccountId) -> Result<u64, AdminError> {
        let a = self.admin_target(who, id, Action::ResetCredentials).await?;
        if who.account() == Some(id) {
            return Err(refused(
                "vos propres clés d'accès se gèrent depuis la page Sécurité",
                "manage your own passkeys on the Security page",
            ));
        }
        let n = self.reset_passkeys(&a).await?;
        self.admin_audit(who, "account.reset-passkeys", &a.address.to_string(), &format!("{n} clé(s)")).await?;
        Ok(n)
    }

    /// Unlocks a throttled account: failed logins before now no longer slow
    /// down its logins, from any address or device (the guessing address's
    /// own count stays). Written in the connection journal, which the user reads.
    pub async fn admin_unlock(&self, who: &Administrator, id: AccountId) -> Result<(), AdminError> {
        let a = self.admin_target(who, id, Action::ResetCredentials).await?;
        let entry = NewJournalEntry {
            account_id: Some(id),
            login: a.address.to_string(),
            protocol: "admin".into(),
            ip: String::new(),
            client: who.actor().chars().take(64).collect(),
            result: store::UNLOCK.into(),
            device: None,
        };
        self.store.record_login(&entry).await?;
        self.admin_audit(who, "account.unlock", &a.address.to_string(), "").await?;
        Ok(())
    }

    /// Grants `role` on `unit` to the account. Needs the right to govern that
    /// unit; nobody changes their own roles.
    pub async fn admin_grant(
        &self,
        who: &Administrator,
        id: AccountId,
        role: AdminRole,
        unit: OrgUnitId,
    ) -> Result<(), AdminError> {
        let a = self.admin_target(who, id, Action::Read).await?;
        if who.account() == Some(id) {
            let detail = format!("refusé : {role}@{unit} sur son propre compte");
            self.admin_audit(who, "grant.refused", &a.address.to_string(), &detail).await?;
            return Err(refused(
                "vos propres rôles sont changés par un autre administrateur",
                "your own roles are changed by another administrator",
            ));
        }
        if who.unit(unit).is_none() || !who.may(Action::Read, Some(unit)) {
            return Err(AdminError::NotFound);
        }
        who.check(Action::Govern, Some(unit))?;
        self.store.grant_role(id, role.as_str(), unit).await?;
        self.admin_audit(who, "grant.add", &a.address.to_string(), &format!("{role}@{unit}")).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_as_typed() {
        assert_eq!(parse_quota("0").unwrap(), None);
        assert_eq!(parse_quota(" illimité ").unwrap(), None);
        assert_eq!(parse_quota("500M").unwrap(), Some(500 << 20));
        assert_eq!(parse_quota("2 Go").unwrap(), Some(2 << 30));
        assert_eq!(parse_quota("1024").unwrap(), Some(1024));
        for bad in ["", "-1G", "2X", "1.5G", "99999999999T", "G", "1e9", "２G"] {
            assert!(parse_quota(bad).is_err(), "{bad}");
        }
    }
}
