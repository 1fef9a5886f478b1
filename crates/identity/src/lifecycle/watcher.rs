//! Immediate suspension across processes. The HR sync and `ardoise admin`
//! run in other processes than the servers, so the servers poll the store
//! (an indexed query on `status_changed_at`, every 250 ms) and publish
//! [`mailstore::MailEvent::AccessRevoked`] for every account that became
//! suspended or closed, or went back to provisional (a helpdesk password
//! reset): open sessions of that account then end.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use model::AccountId;
use tokio::sync::watch;

use crate::Identity;

/// How often the store is asked.
pub const POLL: Duration = Duration::from_millis(250);
/// Changes are looked for this far back, so a commit that lands just after a
/// poll, stamped with an earlier second, is still seen.
const LOOK_BACK_SECS: i64 = 3;

/// Polls the identity service's store until `shutdown` turns true, and
/// publishes through its mail domain.
pub async fn watch_revocations(identity: Arc<Identity>, mut shutdown: watch::Receiver<bool>) {
    let mut seen = Revoked::default();
    loop {
        let since = now() - LOOK_BACK_SECS;
        match identity.store.revoked_since(since).await {
            Ok(rows) => {
                for account in seen.fresh(rows.into_iter().map(|(id, _, at)| (id, at)), since) {
                    tracing::info!(account, "access revoked: closing the account's sessions");
                    identity.mail.revoke_access(account);
                }
            }
            Err(e) => tracing::warn!(error = %e, "polling account statuses failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The revocations already published: `(account, status_changed_at)`.
#[derive(Default)]
struct Revoked(HashMap<AccountId, i64>);

impl Revoked {
    /// The accounts of `rows` not yet published; forgets what fell out of the window.
    fn fresh(&mut self, rows: impl Iterator<Item = (AccountId, i64)>, since: i64) -> Vec<AccountId> {
        self.0.retain(|_, at| *at >= since);
        rows.filter(|(id, at)| self.0.insert(*id, *at) != Some(*at)).map(|(id, _)| id).collect()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_change_is_published_once() {
        let mut r = Revoked::default();
        assert_eq!(r.fresh([(1, 100), (2, 100)].into_iter(), 98), [1, 2]);
        assert_eq!(r.fresh([(1, 100), (2, 100)].into_iter(), 99), Vec::<i64>::new());
        // Account 1 reactivated and suspended again later: published again.
        assert_eq!(r.fresh([(1, 102), (2, 100)].into_iter(), 100), [1]);
        assert_eq!(r.fresh([(1, 102)].into_iter(), 101).len(), 0);
    }
}
