//! Messages this process did not index at delivery: filed by another
//! process (`ardoise backup restore`, `ardoise import`, `ardoise migrate
//! imap` while the server runs: the index has one writer, this one) or by
//! another node of a cluster (each node keeps its own index).
//!
//! They are found by row id, from a mark: every row above the last one
//! looked at. On PostgreSQL an id is drawn when the row is inserted, and
//! transactions commit in any order: a delivery on another node may take
//! id 100 and commit after the one that took 101. A pass that saw 101 and
//! moved its mark there would never read 100. So the ids missing below the
//! mark are kept as **holes** and asked for again at every pass, for
//! [`HOLE_WAIT`] (a delivery's transaction is over well before; after it,
//! the id was rolled back or its row deleted).
//!
//! A pass runs every [`super::OUTSIDE_EVERY`], and before every search
//! ([`Mailstore::search_text`]): a message acknowledged anywhere before the
//! search is committed, so it is above the mark or in a hole, and indexed
//! before the search reads the index. Passes run one at a time.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use model::MessageId;

use super::Found;
use crate::Mailstore;

/// How long an id missing below the mark is asked for again.
pub const HOLE_WAIT: Duration = Duration::from_secs(120);
/// Holes kept at most (the oldest go first beyond).
const MAX_HOLES: usize = 50_000;

/// What the passes know, and the lock that runs them one at a time.
#[derive(Default)]
pub(crate) struct Outside {
    pub(super) state: std::sync::Mutex<State>,
    pass: tokio::sync::Mutex<()>,
}

#[derive(Default)]
pub(crate) struct State {
    /// The last row id looked at; `None` until the start's catch-up is done.
    pub(super) mark: Option<i64>,
    /// Rows above the mark this process indexed itself at delivery (skipped once).
    pub(super) ours: HashSet<MessageId>,
    /// Ids below the mark not seen yet, and when they were first missed.
    holes: BTreeMap<MessageId, Instant>,
}

impl State {
    /// Notes the ids a pass found missing below its new mark.
    pub(super) fn missing(&mut self, ids: &[MessageId], now: Instant) {
        for id in ids {
            self.holes.entry(*id).or_insert(now);
        }
        let excess = self.holes.len().saturating_sub(MAX_HOLES);
        if excess > 0 {
            let mut by_age: Vec<(Instant, MessageId)> = self.holes.iter().map(|(id, t)| (*t, *id)).collect();
            by_age.sort_unstable();
            for (_, id) in &by_age[..excess] {
                self.holes.remove(id);
            }
            tracing::warn!(given_up = excess, "search index: too many missing row ids, the oldest given up");
        }
    }

    /// The holes still worth asking for (the others are forgotten).
    pub(super) fn holes_to_ask(&mut self, now: Instant) -> Vec<MessageId> {
        self.holes.retain(|_, since| now.duration_since(*since) < HOLE_WAIT);
        self.holes.keys().copied().collect()
    }

    /// Whether `id` was indexed at delivery here (and forgets it).
    fn was_ours(&mut self, id: MessageId) -> bool {
        self.ours.remove(&id)
    }
}

/// Looks for other processes' messages every [`super::OUTSIDE_EVERY`]
/// while the mail domain lives.
pub(super) async fn outside_loop(me: std::sync::Weak<Mailstore>) {
    let mut tick = tokio::time::interval(super::OUTSIDE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(me) = me.upgrade() else { return };
        me.index_outside().await;
    }
}

impl Mailstore {
    /// One pass: indexes the holes that are now rows, then every row after
    /// the mark that this process did not index at delivery. Returns how
    /// many were indexed.
    pub(crate) async fn index_outside(&self) -> u64 {
        let Some(index) = self.search.get().cloned() else { return 0 };
        let _one_at_a_time = self.outside.pass.lock().await;
        let state = &self.outside.state;
        let Some(mark) = state.lock().ok().and_then(|s| s.mark) else { return 0 };
        let holes = state.lock().map(|mut s| s.holes_to_ask(Instant::now())).unwrap_or_default();
        let skip = |id: MessageId| state.lock().map(|mut s| s.was_ours(id)).unwrap_or(false);
        let mut indexed = 0;
        if !holes.is_empty() {
            match self.store.messages_among(&holes).await {
                Ok(rows) => {
                    let found: Vec<MessageId> = rows.iter().map(|r| r.id).collect();
                    indexed += self.index_rows(&index, rows, &skip).await;
                    if let Ok(mut s) = state.lock() {
                        for id in found {
                            s.holes.remove(&id);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "search index: asking for missing rows failed"),
            }
        }
        match self.index_after(&index, mark, &skip).await {
            Ok(Found { indexed: n, last, missing }) => {
                indexed += n;
                if let Ok(mut s) = state.lock() {
                    s.mark = Some(last);
                    s.ours.retain(|id| *id > last);
                    s.missing(&missing, Instant::now());
                }
            }
            Err(e) => tracing::warn!(error = %e, "search index: looking for other processes' messages failed"),
        }
        if indexed > 0 {
            let ix = index.clone();
            let _ = tokio::task::spawn_blocking(move || ix.commit()).await;
            tracing::info!(messages = indexed, "search index: messages filed by another process indexed");
        }
        indexed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_are_asked_for_until_they_are_too_old() {
        let mut s = State::default();
        let start = Instant::now();
        s.missing(&[100, 102], start);
        s.missing(&[102, 105], start + Duration::from_secs(60));
        assert_eq!(s.holes_to_ask(start + Duration::from_secs(1)), vec![100, 102, 105]);
        // 102 keeps the time it was first missed.
        assert_eq!(s.holes_to_ask(start + HOLE_WAIT), vec![105]);
        assert!(s.holes_to_ask(start + HOLE_WAIT + Duration::from_secs(60)).is_empty());
    }

    #[test]
    fn holes_beyond_the_bound_drop_the_oldest() {
        let mut s = State::default();
        let start = Instant::now();
        s.missing(&[1], start);
        let many: Vec<MessageId> = (2..=MAX_HOLES as i64 + 1).collect();
        s.missing(&many, start + Duration::from_secs(1));
        let asked = s.holes_to_ask(start + Duration::from_secs(2));
        assert_eq!(asked.len(), MAX_HOLES);
        assert_eq!(asked[0], 2, "the oldest hole went first");
    }
}
