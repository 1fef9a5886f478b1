//! Immediate suspension across processes. The HR sync and `ardoise admin`
//! run in other processes than the servers, so the servers poll the store
//! (every 250 ms) and publish [`mailstore::MailEvent::AccessRevoked`] for
//! every account that became suspended or closed, or went back to
//! provisional (a helpdesk password reset): open sessions of that account
//! then end.
//!
//! Changes are followed by their number (schema 13), not by their time: each
//! status change takes the next number of a counter in its transaction, in
//! commit order, so remembering the last number seen is enough, and an
//! account suspended, reactivated and suspended again within one second (one
//! timestamp) is published twice.
//!
//! Credential changes (schema 14: a password changed, app passwords
//! revoked) share the counter and are published as
//! [`mailstore::MailEvent::CredentialRevoked`]: only the sessions opened with
//! that secret end.
//!
//! Each event carries its change's number: a session whose login read the
//! account after that change (a login with the new password in the 250 ms
//! before the watcher looked) goes on ([`model::Proof`]).
//!
//! On a cluster every node runs this watcher over the shared store, so what
//! it finds is published on this node only (`revoke_access_here`), never
//! sent over the cluster bus: the node where the change was made published
//! it there already.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::Identity;

/// How often the store is asked.
pub const POLL: Duration = Duration::from_millis(250);

/// Polls the identity service's store until `shutdown` turns true, and
/// publishes through its mail domain.
pub async fn watch_revocations(identity: Arc<Identity>, mut shutdown: watch::Receiver<bool>) {
    // Changes before the start have no session here to end.
    let mut seen: Option<i64> = None;
    loop {
        if let Err(e) = poll(&identity, &mut seen).await {
            tracing::warn!(error = %e, "polling account statuses failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// One look at the store: publishes the revocations numbered after `seen`
/// and moves `seen` on.
async fn poll(identity: &Identity, seen: &mut Option<i64>) -> Result<(), store::Error> {
    let store = &identity.store;
    // Read first: every change numbered up to it is committed, so nothing
    // at or below it can appear later.
    let newest = store.status_sequence().await?;
    let Some(after) = *seen else {
        *seen = Some(newest);
        return Ok(());
    };
    let rows = store.revoked_after(after).await?;
    let mut last = after.max(newest);
    for (account, _, number) in rows {
        tracing::info!(account, "access revoked: closing the account's sessions");
        identity.mail.revoke_access_here(account, number);
        last = last.max(number);
    }
    for (account, what, number) in store.revocations_after(after).await? {
        last = last.max(number);
        tracing::info!(account, ?what, "credential revoked: closing the sessions opened with it");
        identity.mail.revoke_credential_here(account, what, number);
    }
    *seen = Some(last);
    Ok(())
}
