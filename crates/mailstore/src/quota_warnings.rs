//! Quota warnings by mail (issue 20): at 80, 90 and 95 % of the quota, a
//! French notice (with English) in the account's Inbox, once per crossing.
//! IMAP-only users never see the webmail's gauge; this is how they learn
//! before mail is refused.
//!
//! The level last warned of is kept per account (`accounts.quota_warned`)
//! and claimed by compare and set, so two nodes never both mail. It comes
//! down, without a mail, once usage is [`HYSTERESIS`] points below a
//! threshold, so that a mailbox hovering around 80 % does not get a mail
//! at every delivery and deletion; crossing the threshold again warns
//! again. The notice is delivered even to a full mailbox: delivery checks no
//! quota (only the MX's recipient check does).

use store::{Account, QuotaState};

use crate::{Error, Mailstore};

/// The thresholds, in per cent of the quota, in increasing order.
pub const THRESHOLDS: [i64; 3] = [80, 90, 95];
/// Points below a threshold at which its warning is forgotten.
pub const HYSTERESIS: i64 = 2;

/// What to do for one account: the level to record, and the threshold to
/// warn of now, if any.
pub fn quota_step(used: i64, quota: i64, warned: i64) -> (i64, Option<i64>) {
    if quota <= 0 {
        return (0, None);
    }
    let at = |percent: i64| used.saturating_mul(100) >= quota.saturating_mul(percent);
    let reached = THRESHOLDS.iter().rev().copied().find(|t| at(*t)).unwrap_or(0);
    if reached > warned {
        return (reached, Some(reached));
    }
    let kept = THRESHOLDS.iter().rev().copied().find(|t| at(*t - HYSTERESIS)).unwrap_or(0);
    (kept.min(warned), None)
}

impl Mailstore {
    /// Mails the warnings due and lowers the levels of accounts whose usage
    /// fell; returns how many warnings went out.
    pub async fn warn_quotas(&self) -> Result<u64, Error> {
        let lowest = THRESHOLDS[0] - HYSTERESIS;
        let mut sent = 0;
        for QuotaState { account, used_bytes, quota_bytes, warned } in self.store.quota_states(lowest).await? {
            let (level, warn) = quota_step(used_bytes, quota_bytes, warned);
            if level == warned || !self.store.set_quota_warned(account, warned, level).await? {
                continue;
            }
            let Some(percent) = warn else { continue };
            let Some(acc) = self.store.account(account).await? else { continue };
            if let Err(e) = self.deliver_quota_warning(&acc, percent).await {
                tracing::warn!(account, error = %e, "quota warning not delivered");
                // Back to the level before, so that the next run tries again.
                let _ = self.store.set_quota_warned(account, level, warned).await;
                continue;
            }
            tracing::info!(account, percent, "quota warning mailed");
            sent += 1;
        }
        Ok(sent)
    }

    async fn deliver_quota_warning(&self, account: &Account, percent: i64) -> Result<(), Error> {
        let raw = warning_mail(account, percent).map_err(Error::Blob)?;
        let now = crate::deleted::store_now();
        self.deliver_owned(raw, &[account.id], now).await?;
        Ok(())
    }
}

/// Bytes as a French reader writes them: « 1,5 Go », « 820 Mo » (also the
/// quota requests' notices, `identity::admin::requests`).
pub fn human(bytes: i64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    let b = bytes.max(0) as f64;
    if b >= 1024.0 * MB {
        format!("{:.1} Go", b / (1024.0 * MB)).replace('.', ",")
    } else {
        format!("{:.0} Mo", (b / MB).ceil())
    }
}

/// The notice itself (French first, then English).
fn warning_mail(account: &Account, percent: i64) -> std::io::Result<Vec<u8>> {
    let used = human(account.used_bytes);
    let quota = human(account.quota_bytes.unwrap_or(0));
    let urgent = if percent >= 95 {
        "Au-delà de 100 %, les nouveaux messages vous seront refusés (temporairement, l'expéditeur \
         réessaie) jusqu'à ce que de la place soit libérée.\n\n"
    } else {
        ""
    };
    let urgent_en = if percent >= 95 { "Above 100 %, new mail is refused until space is freed. " } else { "" };
    let text = format!(
        "Bonjour {name},\n\n\
         Votre boîte aux lettres est remplie à {percent} % : {used} utilisés sur {quota}.\n\n\
         {urgent}\
         Pour libérer de la place : videz la Corbeille et les Indésirables, supprimez les messages \
         volumineux (les pièces jointes surtout) ou enregistrez-les ailleurs. Si vous avez besoin de \
         plus d'espace, adressez-vous à l'assistance de votre académie.\n\n\
         ---\n\
         Your mailbox is {percent} % full ({used} of {quota}). {urgent_en}Empty the Trash and Junk \
         folders, delete large messages, or ask your helpdesk for more space.\n\n\
         -- \nArdoise, messagerie académique (message automatique, ne pas répondre)\n",
        name = account.display_name
    );
    let from = format!("postmaster@{}", account.address.domain());
    mail_builder::MessageBuilder::new()
        .from(("Messagerie Ardoise", from.as_str()))
        .to((account.display_name.as_str(), account.address.to_string().as_str()))
        .subject(format!("Votre boîte aux lettres est pleine à {percent} % / Mailbox {percent}% full"))
        .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
        .text_body(text)
        .write_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_threshold_is_warned_once_per_crossing() {
        let q = 1000;
        assert_eq!(quota_step(700, q, 0), (0, None));
        assert_eq!(quota_step(800, q, 0), (80, Some(80)));
        assert_eq!(quota_step(850, q, 80), (80, None));
        // Straight past two thresholds: one mail, of the higher.
        assert_eq!(quota_step(960, q, 80), (95, Some(95)));
        assert_eq!(quota_step(1200, q, 95), (95, None));
        // Just below 95: still within the margin, nothing changes.
        assert_eq!(quota_step(940, q, 95), (95, None));
        // Clearly below: the level comes down without a mail...
        assert_eq!(quota_step(920, q, 95), (90, None));
        assert_eq!(quota_step(500, q, 95), (0, None));
        // ...and crossing again warns again.
        assert_eq!(quota_step(955, q, 90), (95, Some(95)));
        assert_eq!(quota_step(10, 0, 80), (0, None));
        assert_eq!(quota_step(i64::MAX, i64::MAX, 0), (95, Some(95)));
    }

    #[test]
    fn sizes_read_in_french() {
        assert_eq!(human(1536 * 1024 * 1024), "1,5 Go");
        assert_eq!(human(820 * 1024 * 1024), "820 Mo");
        assert_eq!(human(1), "1 Mo");
    }
}
