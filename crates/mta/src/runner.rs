//! The queue runner: leases due entries and tries to deliver them.
//!
//! For each entry the pending recipients are grouped by domain; each domain's
//! servers are tried in order until one answers. Every recipient's outcome is
//! written to the store right after the server's reply to the final dot, in
//! one transaction: a crash loses at most that tiny window (the remote server
//! has the message but we did not record it), in which case it is sent again
//! after restart, as with every MTA. Recipients still pending are retried with
//! exponential backoff; after the delay-warning age the sender is told once,
//! and when the entry expires (or a server says 5xx) a bounce lands in the
//! sender's Inbox. An entry with no pending recipient left is removed, which
//! releases its blob.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use store::{Queued, RcptStatus};
use tokio::sync::watch;

use crate::client::{self, Job, Outcome, SessionError};
use crate::dsn::{self, Kind};
use crate::route::{RouteError, Router};
use crate::{Error, Mta, now};

/// How long a runner holds an entry it is working on.
const LEASE_SECS: i64 = 900;
/// Entries claimed at once.
const BATCH: i64 = 16;

/// Runs until `shutdown` turns true.
pub async fn run(mta: Arc<Mta>, router: Arc<Router>, mut shutdown: watch::Receiver<bool>) {
    if mta.mailstore.store().backend() == store::Backend::Sqlite {
        // SQLite means one node: leases left over were held by our previous run.
        match mta.mailstore.store().release_all_leases().await {
            Ok(n) if n > 0 => tracing::info!(entries = n, "released the queue leases of the previous run"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not release old queue leases"),
        }
    }
    loop {
        if let Err(e) = drain(&mta, &router).await {
            tracing::warn!(error = %e, "queue run failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(mta.settings.poll_interval) => {}
            _ = mta.wake.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Works through every due entry.
pub async fn drain(mta: &Arc<Mta>, router: &Arc<Router>) -> Result<(), Error> {
    loop {
        let batch = mta.mailstore.store().lease_due(now(), LEASE_SECS, BATCH).await?;
        if batch.is_empty() {
            return Ok(());
        }
        let mut tasks = tokio::task::JoinSet::new();
        for entry in batch {
            let (mta, router) = (mta.clone(), router.clone());
            tasks.spawn(async move {
                let id = entry.id;
                if let Err(e) = attempt(&mta, &router, entry).await {
                    tracing::warn!(queue_id = id, error = %e, "delivery attempt failed");
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// One delivery attempt of one entry.
async fn attempt(mta: &Mta, router: &Router, entry: Queued) -> Result<(), Error> {
    let store = mta.mailstore.store();
    let rcpts = store.queued_recipients(entry.id).await?;
    let mut by_domain: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for r in rcpts.iter().filter(|r| r.status == RcptStatus::Pending) {
        by_domain.entry(r.domain.as_str()).or_default().push(r.rcpt.clone());
    }
    let message = if by_domain.is_empty() { Vec::new() } else { mta.mailstore.blobs().get(&entry.blob).await? };
    let mut failed_now: Vec<(String, String)> = Vec::new();
    for (domain, list) in &by_domain {
        // Each domain may take up to a few timeouts: keep the entry ours meanwhile.
        store.renew_lease(entry.id, now() + LEASE_SECS).await?;
        let outcomes = send_to_domain(mta, router, domain, &entry.sender, list, &message).await;
        let rows: Vec<(String, RcptStatus, String)> = list
            .iter()
            .zip(outcomes)
            .map(|(rcpt, outcome)| match outcome {
                Outcome::Sent => (rcpt.clone(), RcptStatus::Sent, String::new()),
                Outcome::Deferred(e) => (rcpt.clone(), RcptStatus::Pending, e),
                Outcome::Failed(e) => {
                    failed_now.push((rcpt.clone(), e.clone()));
                    (rcpt.clone(), RcptStatus::Failed, e)
                }
            })
            .collect();
        store.record_recipients(entry.id, &rows).await?;
    }
    finish(mta, entry, failed_now, &message).await
}

/// Delivers to one domain; one outcome per recipient, in order.
async fn send_to_domain(
    mta: &Mta,
    router: &Router,
    domain: &str,
    sender: &str,
    rcpts: &[String],
    message: &[u8],
) -> Vec<Outcome> {
    let hops = match router.hops(domain).await {
        Ok(hops) => hops,
        Err(RouteError::Temporary(..)) => {
            let e = format!("451 4.4.3 recherche DNS en échec pour {domain} / DNS lookup failed");
            return vec![Outcome::Deferred(e); rcpts.len()];
        }
        Err(RouteError::Permanent(why)) => return vec![Outcome::Failed(format!("550 5.1.2 {why}")); rcpts.len()],
    };
    let job = Job { helo: &mta.settings.hostname, sender, recipients: rcpts, message };
    let timeout = mta.settings.timeout;
    let mut last = String::new();
    for hop in hops {
        let mut result = client::deliver(hop.addr, &hop.name, true, timeout, &job).await;
        if let Err(SessionError::Tls(e)) = &result {
            tracing::info!(server = %hop.addr, error = %e, "STARTTLS failed, trying again in clear text");
            result = client::deliver(hop.addr, &hop.name, false, timeout, &job).await;
        }
        match result {
            Ok(outcomes) => {
                tracing::info!(%domain, server = %hop.addr, "delivery session done");
                return outcomes;
            }
            Err(e) => {
                tracing::info!(%domain, server = %hop.addr, error = %e, "delivery session failed");
                last = match e {
                    SessionError::Refused(reply) => reply.line(),
                    other => format!("{} : {other}", hop.addr),
                };
            }
        }
    }
    vec![Outcome::Deferred(last); rcpts.len()]
}

/// After an attempt: bounce what failed, warn or expire what is late,
/// reschedule or remove the entry.
async fn finish(mta: &Mta, entry: Queued, mut failed: Vec<(String, String)>, message: &[u8]) -> Result<(), Error> {
    let store = mta.mailstore.store();
    let now = now();
    let pending: Vec<(String, String)> = store
        .queued_recipients(entry.id)
        .await?
        .into_iter()
        .filter(|r| r.status == RcptStatus::Pending)
        .map(|r| (r.rcpt, r.last_error))
        .collect();
    let expired = !pending.is_empty() && now >= entry.expires_at;
    if expired {
        let rows: Vec<(String, RcptStatus, String)> = pending
            .iter()
            .map(|(r, e)| (r.clone(), RcptStatus::Failed, format!("{e} (délai dépassé / expired)")))
            .collect();
        store.record_recipients(entry.id, &rows).await?;
        failed.extend(rows.into_iter().map(|(r, _, e)| (r, e)));
    }
    if !failed.is_empty() {
        report(mta, &entry, Kind::Failed, &failed, message).await;
    }
    if pending.is_empty() || expired {
        store.dequeue(entry.id).await?;
        return Ok(());
    }
    let age = Duration::from_secs((now - entry.created_at).max(0) as u64);
    let mut warned = entry.warned;
    if !warned && age >= mta.settings.delay_warning {
        report(mta, &entry, Kind::Delayed, &pending, message).await;
        warned = true;
    }
    let delay = mta.settings.backoff.delay(entry.attempts as u32 + 1);
    store.reschedule(entry.id, now + delay.as_secs() as i64, warned).await?;
    tracing::info!(queue_id = entry.id, pending = pending.len(), retry_in = delay.as_secs(), "delivery deferred");
    Ok(())
}

/// Delivers a DSN to the sender's Inbox (never for the null sender).
async fn report(mta: &Mta, entry: &Queued, kind: Kind, recipients: &[(String, String)], message: &[u8]) {
    let Some(account) = entry.account.filter(|_| !entry.sender.is_empty()) else {
        return;
    };
    let dsn = dsn::build(&dsn::Report {
        kind,
        reporting_mta: &mta.settings.hostname,
        to: &entry.sender,
        arrival: entry.created_at,
        now: now(),
        retry_until: (kind == Kind::Delayed).then_some(entry.expires_at),
        recipients,
        original: message,
    });
    match mta.mailstore.deliver(&dsn, &[account], now()).await {
        Ok(_) => tracing::info!(queue_id = entry.id, ?kind, recipients = recipients.len(), "delivery report sent"),
        Err(e) => tracing::error!(queue_id = entry.id, error = %e, "could not deliver the delivery report"),
    }
}
