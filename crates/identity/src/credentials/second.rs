//! The second factor: TOTP enrolment and checks (a code is accepted once:
//! the last used step is remembered), and single-use recovery codes. Seeds
//! are stored encrypted ([`super::at_rest`]): every function that reads or
//! writes one uses the service's key ([`crate::Identity::totp_key`]).

use store::Account;

use super::at_rest::is_clear_seed;
use super::hash::{random_token, token_hash};
use super::{Error, notify, totp};
use crate::Identity;

/// Recovery codes handed out at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// What the enrolment page shows: the seed (for typing), its URL and QR code.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    pub secret: String,
    pub url: String,
    pub qr_svg: String,
}

impl Identity {
    /// Starts an enrolment: a new seed, kept pending until a first good code.
    pub async fn begin_totp(&self, account: &Account, issuer: &str) -> Result<TotpEnrolment, Error> {
        let secret = totp::new_secret();
        self.store.set_totp_pending(account.id, &self.totp_key.seal(account.id, &secret)).await?;
        Ok(enrolment(&secret, account, issuer))
    }

    /// The seed of a pending enrolment (to show the page again), if any.
    pub async fn pending_secret(&self, account: &Account) -> Result<Option<String>, Error> {
        let state = self.store.credential_state(account.id).await?;
        match state.totp_secret.filter(|_| state.totp_enabled_at.is_none()) {
            Some(stored) => Ok(self.seed(account, &stored).await),
            None => Ok(None),
        }
    }

    /// The clear seed of a stored value; a seed an earlier version kept clear
    /// is encrypted now. `None` (and a warning, without the value) when it does
    /// not open: the key file is not the one the seed was sealed with.
    async fn seed(&self, account: &Account, stored: &str) -> Option<String> {
        let key = &self.totp_key;
        let Some(seed) = key.open(account.id, stored) else {
            tracing::warn!(account = account.id, "TOTP seed does not decrypt with the key of totp.key");
            return None;
        };
        if is_clear_seed(stored) {
            let _ = self.store.replace_totp_secret(account.id, stored, &key.seal(account.id, &seed)).await;
        }
        Some(seed)
    }
}

/// The enrolment view of a pending seed (to show the page again).
pub fn enrolment(secret: &str, account: &Account, issuer: &str) -> TotpEnrolment {
    let url = totp::otpauth_url(secret, issuer, &account.address.to_string());
    let qr_svg = totp::qr_svg(&url).unwrap_or_default();
    TotpEnrolment { secret: secret.to_owned(), url, qr_svg }
}

impl Identity {
    /// Confirms a pending enrolment with a first code; on success TOTP is on and
    /// the new recovery codes are returned (shown once, stored hashed).
    pub async fn confirm_totp(&self, account: &Account, code: &str) -> Result<Option<Vec<String>>, Error> {
        let store = &self.store;
        let Some(secret) = self.pending_secret(account).await? else {
            return Ok(None);
        };
        let Some(step) = totp::matching_step(&secret, code, unix_now()) else { return Ok(None) };
        if !store.claim_totp_step(account.id, step).await? {
            return Ok(None);
        }
        store.enable_totp(account.id).await?;
        self.cache.forget(account.id);
        let codes = self.new_recovery_codes(account).await?;
        notify::notify(
            &self.mail,
            account,
            "Validation en deux étapes activée",
            "La validation en deux étapes (application d'authentification) vient d'être activée sur votre compte.\n\
         Conservez vos codes de secours en lieu sûr.\n\n(Two-step verification was turned on.)",
        )
        .await;
        Ok(Some(codes))
    }

    /// Replaces the recovery codes and returns the new ones in clear.
    pub async fn new_recovery_codes(&self, account: &Account) -> Result<Vec<String>, Error> {
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| {
                let t = random_token(10);
                format!("{}-{}", &t[..5], &t[5..])
            })
            .collect();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(account, c)).collect();
        self.store.replace_recovery_codes(account.id, &hashes).await?;
        Ok(codes)
    }
}

fn recovery_hash(account: &Account, code: &str) -> String {
    let normal: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    token_hash("recovery", &format!("{}:{normal}", account.id))
}

impl Identity {
    /// Checks a TOTP code (never the same step twice) or, failing that, a
    /// recovery code (spent by this use).
    pub async fn verify_second_factor(&self, account: &Account, code: &str) -> Result<bool, Error> {
        let store = &self.store;
        let state = store.credential_state(account.id).await?;
        let Some(stored) = state.totp_secret.filter(|_| state.totp_enabled_at.is_some()) else {
            return Ok(false);
        };
        if code.len() > 64 {
            return Ok(false);
        }
        // A seed that does not open still lets a recovery code through.
        let secret = self.seed(account, &stored).await;
        if let Some(step) = secret.and_then(|s| totp::matching_step(&s, code, unix_now())) {
            return Ok(store.claim_totp_step(account.id, step).await?);
        }
        if store.use_recovery_code(account.id, &recovery_hash(account, code)).await? {
            let left = store.recovery_codes_left(account.id).await?;
            notify::notify(
                &self.mail,
                account,
                "Code de secours utilisé",
                &format!(
                    "Un code de secours vient d'être utilisé pour vous connecter. Il vous en reste {left}.\n\n\
                 (A recovery code was used to log in.)"
                ),
            )
            .await;
            return Ok(true);
        }
        Ok(false)
    }

    /// Turns TOTP off (the page asks for the password first).
    pub async fn disable_totp(&self, account: &Account) -> Result<(), Error> {
        self.store.disable_totp(account.id).await?;
        self.cache.forget(account.id);
        notify::notify(
            &self.mail,
            account,
            "Validation en deux étapes désactivée",
            "La validation en deux étapes vient d'être désactivée sur votre compte.\n\n\
         (Two-step verification was turned off.)",
        )
        .await;
        Ok(())
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
