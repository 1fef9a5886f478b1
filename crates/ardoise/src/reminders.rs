//! The reminder runner every server runs: every [`EVERY`], the groupware
//! fires the calendar alarms that are due (each once, claimed in the
//! store), the owners' open webmails are told (on every node), and the
//! reminders to mail are claimed and delivered to their owners' Inbox.

use std::sync::Arc;
use std::time::Duration;

use groupware::Groupware;
use mailstore::Mailstore;
use store::Store;
use tokio::sync::watch;

/// How often due alarms are looked for: one indexed query when none is due.
pub const EVERY: Duration = Duration::from_secs(10);

pub async fn run_periodically(
    groupware: Arc<Groupware>,
    mailstore: Arc<Mailstore>,
    store: Store,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut last_purge = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => return,
        }
        let now = groupware::reminders::unix_now();
        match groupware.run_reminders(now).await {
            Ok(fired) => {
                let mut accounts: Vec<_> = fired.iter().map(|f| f.account).collect();
                accounts.sort_unstable();
                accounts.dedup();
                for account in accounts {
                    mailstore.announce_reminder(account);
                }
                if !fired.is_empty() {
                    tracing::info!(fired = fired.len(), "calendar reminders fired");
                }
            }
            Err(e) => tracing::warn!(error = %e, "calendar reminders could not be fired"),
        }
        mail_reminders(&groupware, &mailstore, &store, now).await;
        if now - last_purge > 24 * 3600 {
            match groupware.purge_reminders(now).await {
                Ok(n) if n > 0 => tracing::info!(purged = n, "old reminders forgotten"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "old reminders not purged"),
            }
            last_purge = now;
        }
    }
}

/// Delivers the reminders waiting to be mailed, each claimed first (so
/// that two nodes never mail one twice) and given back if delivery fails.
async fn mail_reminders(groupware: &Groupware, mailstore: &Mailstore, store: &Store, now: i64) {
    let waiting = match groupware.reminders_to_mail().await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "reminders to mail not read");
            return;
        }
    };
    for r in waiting {
        match groupware.claim_reminder_mail(r.id).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "reminder mail not claimed");
                continue;
            }
        }
        let account = match store.account(r.account_id).await {
            Ok(Some(a)) if a.status.receives_mail() => a,
            // A closed or vanished account: the claim consumes the reminder.
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "reminder's account not read");
                let _ = groupware.unclaim_reminder_mail(r.id).await;
                continue;
            }
        };
        let (address, domain) = (account.address.to_string(), account.address.domain().to_string());
        let delivered = match groupware.reminder_mail(&account.display_name, &address, &domain, &r) {
            Ok(raw) => mailstore.deliver_owned(raw, &[account.id], now).await.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match delivered {
            Ok(()) => tracing::info!(account = account.id, reminder = r.id, "reminder mailed"),
            Err(e) => {
                tracing::warn!(account = account.id, reminder = r.id, error = %e, "reminder not mailed, tried again later");
                let _ = groupware.unclaim_reminder_mail(r.id).await;
            }
        }
    }
}
