//! Password maximum age: when a password expires, the reminders mailed
//! before that, and what happens after.
//!
//! The age counts from the last change (or the account's creation when the
//! password never changed). With a maximum age set (`[web]
//! password_max_age_days`), a daily task ([`send_reminders`], run by every
//! server and by `ardoise admin password-reminders`) mails each user whose
//! password expires within one of the configured thresholds (14 and 3 days
//! by default), once per threshold and password, and once more when it has
//! expired. After expiry the web forces a change at login, and IMAP/SMTP
//! refuse the password with a message pointing to the web (app passwords,
//! separate secrets, keep working).

use mailstore::Mailstore;
use store::{Account, CredentialState};

use super::{Error, notify};
use crate::Identity;

/// Thresholds of the reminders by default, in days before expiry.
pub const DEFAULT_REMINDER_DAYS: &[u32] = &[14, 3];

const DAY: i64 = 86_400;

/// When the password was set: its last change, else the account's creation.
pub fn set_at(account: &Account, state: &CredentialState) -> i64 {
    state.password_changed_at.unwrap_or(account.created_at)
}

/// When the password expires under a maximum age of `days`.
pub fn expires_at(set_at: i64, days: u32) -> i64 {
    set_at + i64::from(days) * DAY
}

/// Whether the account's password has expired at `now` under a maximum age
/// of `max_age_days` (`None` or zero: passwords never expire).
pub fn expired(max_age_days: Option<u32>, account: &Account, state: &CredentialState, now: i64) -> bool {
    max_age_days.filter(|d| *d > 0).is_some_and(|days| now >= expires_at(set_at(account, state), days))
}

impl Identity {
    /// Mails the password-expiry reminders due at `now` (see [`send_reminders`]).
    pub async fn send_reminders(&self, thresholds: &[u32], web_url: &str, now: i64) -> Result<ReminderReport, Error> {
        send_reminders(self, thresholds, web_url, now).await
    }

    /// Whether the account's password is past the service's maximum age now
    /// (false when the state cannot be read: the login already checked it).
    pub async fn password_expired(&self, account: &Account) -> bool {
        match self.store.credential_state(account.id).await {
            Ok(state) => expired(self.policy.max_age_days, account, &state, unix_now()),
            Err(_) => false,
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// What a reminder run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReminderReport {
    /// Accounts looked at (passwords within the largest threshold of expiry).
    pub candidates: usize,
    /// Reminders mailed before expiry.
    pub reminders: usize,
    /// "Your password has expired" notices mailed.
    pub expired: usize,
}

/// Mails the reminders due at `now`: to each active account whose password
/// expires within one of `thresholds` days (or has expired), once per
/// threshold and password. When several thresholds are due at once (a first
/// run, a server that was down), one mail goes, for the nearest. `web_url`
/// is the public address of the web, given in the mail. The maximum age is
/// the service's policy; without one, nothing is sent.
async fn send_reminders(id: &Identity, thresholds: &[u32], web_url: &str, now: i64) -> Result<ReminderReport, Error> {
    let mut report = ReminderReport::default();
    let Some(max_age_days) = id.policy.max_age_days.filter(|d| *d > 0) else {
        return Ok(report);
    };
    let ms = &*id.mail;
    let widest = thresholds.iter().copied().max().unwrap_or(0);
    let store = &id.store;
    let set_before = now - i64::from(max_age_days) * DAY + i64::from(widest) * DAY;
    for (account, set_at) in store.passwords_set_before(set_before).await? {
        report.candidates += 1;
        let expires = expires_at(set_at, max_age_days);
        let left = expires - now;
        // 0 is the "expired" notice.
        let mut due: Vec<i64> = if left <= 0 {
            vec![0]
        } else {
            thresholds.iter().map(|t| i64::from(*t)).filter(|t| *t > 0 && left <= t * DAY).collect()
        };
        if left <= 0 {
            // Reminders never sent before expiry are not sent after it.
            due.extend(thresholds.iter().map(|t| i64::from(*t)));
        }
        let sent = store.password_reminders_sent(account.id, set_at).await?;
        due.retain(|t| !sent.contains(t));
        due.sort_unstable();
        due.dedup();
        let Some(&nearest) = due.first() else { continue };
        let mut mine = false;
        for t in &due {
            // The claim comes first: with several nodes, one sends.
            let claimed = store.claim_password_reminder(account.id, set_at, *t).await?;
            if *t == nearest {
                mine = claimed;
            }
        }
        if !mine {
            continue;
        }
        if nearest == 0 {
            mail_expired(ms, &account, expires, web_url).await;
            report.expired += 1;
        } else {
            mail_reminder(ms, &account, expires, left, web_url).await;
            report.reminders += 1;
        }
    }
    Ok(report)
}

fn date_fr(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|d| format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year()))
        .unwrap_or_default()
}

fn date_en(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|d| format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
        .unwrap_or_default()
}

async fn mail_reminder(ms: &Mailstore, account: &Account, expires: i64, left: i64, web_url: &str) {
    let days = (left + DAY - 1) / DAY;
    let plural = if days > 1 { "s" } else { "" };
    let body = format!(
        "Le mot de passe de votre compte {address} expire dans {days} jour{plural}, le {date_fr} (UTC).\n\n\
         Changez-le dès maintenant sur la messagerie web, page « Sécurité » :\n\n  {url}/securite/mot-de-passe\n\n\
         Après cette date, la messagerie web vous demandera d'en choisir un nouveau et vos logiciels de \
         messagerie (Thunderbird, Outlook, téléphone) ne pourront plus se connecter avec l'ancien.\n\n\
         (Your password expires in {days} day{plural}, on {date_en} (UTC): change it on the webmail, \
         Security page, at the address above.)",
        address = account.address,
        date_fr = date_fr(expires),
        date_en = date_en(expires),
        url = web_url.trim_end_matches('/'),
    );
    notify::notice(ms, account, &format!("Votre mot de passe expire dans {days} jour{plural}"), &body).await;
}

async fn mail_expired(ms: &Mailstore, account: &Account, expires: i64, web_url: &str) {
    let body = format!(
        "Le mot de passe de votre compte {address} a expiré le {date_fr} (UTC).\n\n\
         Connectez-vous à la messagerie web pour en choisir un nouveau :\n\n  {url}\n\n\
         D'ici là, vos logiciels de messagerie (Thunderbird, Outlook, téléphone) ne peuvent plus se connecter \
         avec ce mot de passe.\n\n\
         (Your password expired on {date_en} (UTC): log in to the webmail to choose a new one; mail clients \
         cannot connect with it until then.)",
        address = account.address,
        date_fr = date_fr(expires),
        date_en = date_en(expires),
        url = web_url.trim_end_matches('/'),
    );
    notify::notice(ms, account, "Votre mot de passe a expiré", &body).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_for_each_language() {
        assert_eq!(date_fr(1_700_000_000), "14/11/2023");
        assert_eq!(date_en(1_700_000_000), "2023-11-14");
        assert_eq!(expires_at(1_000, 1), 1_000 + DAY);
    }
}
