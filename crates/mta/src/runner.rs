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
//! sender's Inbox (for a list's copies, in its moderators': [`crate::reports`],
//! which also says how often). An entry with no pending recipient left is
//! removed, which releases its blob.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use store::{Queued, RcptStatus};
use tokio::sync::watch;

use crate::client::{self, Job, Outcome, SessionError};
use crate::dsn::Kind;
use crate::reports;
use crate::route::{RouteError, Router};
use crate::{Error, Mta, now};

/// How long a runner holds an entry it is working on.
const LEASE_SECS: i64 = 900;
/// After this long on one entry, its lease is renewed before each domain.
const RENEW_AFTER: Duration = Duration::from_secs(60);
/// Deliveries in flight at once (Postfix allows 20 per destination by default).
const PARALLEL: usize = 20;

/// Runs until `shutdown` turns true.
pub async fn run(mta: Arc<Mta>, router: Arc<Router>, mut shutdown: watch::Receiver<bool>) {
    if mta.store.backend() == store::Backend::Sqlite {
        // SQLite means one node: leases left over were held by our previous run.
        match mta.store.release_all_leases().await {
            Ok(n) if n > 0 => tracing::info!(entries = n, "released the queue leases of the previous run"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not release old queue leases"),
        }
    }
    loop {
        if let Err(e) = drain(&mta, &router).await {
            tracing::warn!(error = %e, "queue run failed");
        }
        mta.sessions.expire().await;
        tokio::select! {
            _ = tokio::time::sleep(mta.settings.poll_interval.min(crate::pool::MAX_IDLE)) => {}
            _ = mta.wake.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Works through every due entry, [`PARALLEL`] at a time: a slow server
/// holds one slot, not the whole run. New entries are leased as slots free
/// up (half of them at least, so that the queue is not asked for one entry
/// at a time).
pub async fn drain(mta: &Arc<Mta>, router: &Arc<Router>) -> Result<(), Error> {
    let mut tasks = tokio::task::JoinSet::new();
    let mut exhausted = false;
    loop {
        let free = PARALLEL - tasks.len();
        if !exhausted && (free >= PARALLEL / 2 || tasks.is_empty()) {
            let batch = match mta.store.lease_due(now(), LEASE_SECS, free as i64).await {
                Ok(batch) => batch,
                Err(e) => {
                    // Let the attempts under way finish before reporting.
                    while tasks.join_next().await.is_some() {}
                    return Err(e.into());
                }
            };
            exhausted = batch.len() < free;
            for entry in batch {
                let (mta, router) = (mta.clone(), router.clone());
                tasks.spawn(async move {
                    let id = entry.id;
                    if let Err(e) = attempt(&mta, &router, entry).await {
                        tracing::warn!(queue_id = id, error = %e, "delivery attempt failed");
                    }
                });
            }
        }
        if tasks.join_next().await.is_none() {
            return Ok(());
        }
        // A finished attempt may have made room for entries queued meanwhile.
        if exhausted && tasks.len() < PARALLEL / 2 {
            exhausted = false;
        }
    }
}

/// One delivery attempt of one entry.
async fn attempt(mta: &Mta, router: &Router, entry: Queued) -> Result<(), Error> {
    let store = &mta.store;
    let rcpts = store.queued_recipients(entry.id).await?;
    let mut by_domain: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for r in rcpts.iter().filter(|r| r.status == RcptStatus::Pending) {
        by_domain.entry(r.domain.as_str()).or_default().push(r.rcpt.clone());
    }
    // Failures of earlier attempts not reported yet (see `reports`).
    let failed_before: Vec<(String, String)> = if reports::gathers_failures(&entry) {
        rcpts
            .iter()
            .filter(|r| r.status == RcptStatus::Failed)
            .map(|r| (r.rcpt.clone(), r.last_error.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let message =
        if by_domain.is_empty() && failed_before.is_empty() { Vec::new() } else { mta.blobs.get(&entry.blob).await? };
    let started = std::time::Instant::now();
    let mut failed_now: Vec<(String, String)> = Vec::new();
    let mut pending_now: Vec<(String, String)> = Vec::new();
    let mut unrecorded: Vec<(String, RcptStatus, String)> = Vec::new();
    for (domain, list) in &by_domain {
        // Each domain may take up to a few timeouts: keep the entry ours meanwhile.
        if started.elapsed() > RENEW_AFTER {
            store.renew_lease(entry.id, now() + LEASE_SECS).await?;
        }
        // The previous domain's outcomes are written before the next session,
        // so that a crash repeats at most one domain's transaction.
        if !unrecorded.is_empty() {
            store.record_recipients(entry.id, &unrecorded).await?;
        }
        let outcomes = send_to_domain(mta, router, domain, &entry.sender, list, &message).await;
        unrecorded = list
            .iter()
            .zip(outcomes)
            .map(|(rcpt, outcome)| match outcome {
                Outcome::Sent => (rcpt.clone(), RcptStatus::Sent, String::new()),
                Outcome::Deferred(e) => {
                    pending_now.push((rcpt.clone(), e.clone()));
                    (rcpt.clone(), RcptStatus::Pending, e)
                }
                Outcome::Failed(e) => {
                    failed_now.push((rcpt.clone(), e.clone()));
                    (rcpt.clone(), RcptStatus::Failed, e)
                }
            })
            .collect();
    }
    let outcomes = Outcomes { failed_before, failed: failed_now, pending: pending_now, unrecorded };
    finish(mta, entry, outcomes, &message).await
}

/// What one attempt learnt: recipients refused for good (in an earlier
/// attempt and not reported yet, or in this one), recipients to try again
/// (with the reply), and the last domain's outcomes, not yet written.
struct Outcomes {
    failed_before: Vec<(String, String)>,
    failed: Vec<(String, String)>,
    pending: Vec<(String, String)>,
    unrecorded: Vec<(String, RcptStatus, String)>,
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
    let mut last = String::new();
    for hop in hops {
        let mut result = through_session(mta, hop.addr, &hop.name, true, &job).await;
        if let Err(SessionError::Tls(e)) = &result {
            tracing::info!(server = %hop.addr, error = %e, "STARTTLS failed, trying again in clear text");
            result = through_session(mta, hop.addr, &hop.name, false, &job).await;
        }
        match result {
            Ok(outcomes) => {
                tracing::debug!(%domain, server = %hop.addr, "delivery session done");
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

/// One transaction with the server at `addr`: on a kept session when one
/// waits (and on a fresh one if that turns out closed before the message
/// went out), then the session is kept for the next message if it is clean.
async fn through_session(
    mta: &Mta,
    addr: std::net::SocketAddr,
    name: &str,
    try_tls: bool,
    job: &Job<'_>,
) -> Result<Vec<Outcome>, SessionError> {
    if let Some(mut kept) = mta.sessions.take(addr, try_tls) {
        match kept.send(job).await {
            Ok((outcomes, clean)) => {
                keep_or_quit(mta, addr, try_tls, kept, clean).await;
                return Ok(outcomes);
            }
            // Sent on a session that broke afterwards: the usual retry rules apply.
            Err((e, true)) => return Err(e),
            // The server had closed the kept session: nothing went out, open a new one.
            Err((_, false)) => {}
        }
    }
    let mut session = client::Session::open(addr, name, try_tls, mta.settings.timeout, job.helo).await?;
    match session.send(job).await {
        Ok((outcomes, clean)) => {
            keep_or_quit(mta, addr, try_tls, session, clean).await;
            Ok(outcomes)
        }
        Err((e, _)) => Err(e),
    }
}

async fn keep_or_quit(mta: &Mta, addr: std::net::SocketAddr, try_tls: bool, session: client::Session, clean: bool) {
    if clean {
        mta.sessions.put(addr, try_tls, session).await;
    } else {
        session.quit().await;
    }
}

/// After an attempt: bounce what failed, warn or expire what is late,
/// reschedule or remove the entry. An entry with nothing left to try is
/// removed at once: writing its last outcomes first would cost a durable
/// write per message for rows deleted right after.
async fn finish(mta: &Mta, entry: Queued, outcomes: Outcomes, message: &[u8]) -> Result<(), Error> {
    let store = &mta.store;
    let now = now();
    let Outcomes { failed_before, mut failed, pending, unrecorded } = outcomes;
    let expired = !pending.is_empty() && now >= entry.expires_at;
    if expired {
        failed.extend(pending.iter().map(|(r, e)| (r.clone(), format!("{e} (délai dépassé / expired)"))));
    }
    let done = pending.is_empty() || expired;
    if reports::gathers_failures(&entry) {
        // Reported once, when the entry is done (`reports`).
        if done {
            let all: Vec<(String, String)> = failed_before.into_iter().chain(failed).collect();
            if !all.is_empty() {
                reports::report(mta, &entry, Kind::Failed, &all, message).await;
            }
        }
    } else if !failed.is_empty() {
        reports::report(mta, &entry, Kind::Failed, &failed, message).await;
    }
    if done {
        store.dequeue_finished(entry.id).await?;
        return Ok(());
    }
    store.record_recipients(entry.id, &unrecorded).await?;
    let age = Duration::from_secs((now - entry.created_at).max(0) as u64);
    let mut warned = entry.warned;
    if !warned && age >= mta.settings.delay_warning {
        reports::report(mta, &entry, Kind::Delayed, &pending, message).await;
        warned = true;
    }
    let delay = mta.settings.backoff.delay(entry.attempts as u32 + 1);
    store.reschedule(entry.id, now + delay.as_secs() as i64, warned).await?;
    tracing::info!(queue_id = entry.id, pending = pending.len(), retry_in = delay.as_secs(), "delivery deferred");
    Ok(())
}
