//! Whose turn it is at SQLite's one writer connection: a lock with two queues.
//!
//! A user's own write (a flag change, an expunge, an APPEND, a folder made
//! or renamed) is waited for by a person; a delivery from the MX or the
//! transfer agent is waited for by another server, which already allows
//! minutes. With one first-come-first-served queue, a STORE arriving behind
//! twenty queued deliveries waited for all twenty transactions (and their
//! group's durable write). Here [`Urgency::Interactive`] writers go before
//! every waiting [`Urgency::Bulk`] one, so they wait for at most the write in
//! progress; and so that a steady stream of interactive writes cannot starve
//! deliveries, a bulk writer is let through after [`INTERACTIVE_RUN`]
//! interactive turns in a row while one waits. Within a class, turns follow
//! arrival order.
//!
//! The lock is cancel-safe: a waiter dropped while queued (a timeout, a
//! closed session) leaves the queue, and one dropped just as the lock was
//! handed to it passes it on.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// How long a write may be kept waiting, which decides its place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// Someone is waiting for the answer: IMAP commands, the webmail,
    /// administration. The default of every write.
    Interactive,
    /// Mail arriving from another server or leaving through the queue.
    Bulk,
}

/// Interactive turns granted in a row while a bulk writer waits, before it
/// gets one.
pub(crate) const INTERACTIVE_RUN: u32 = 8;

/// The lock. Cheap to share through an `Arc`.
#[derive(Debug, Default)]
pub(crate) struct Turns {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    held: bool,
    interactive: VecDeque<oneshot::Sender<()>>,
    bulk: VecDeque<oneshot::Sender<()>>,
    /// Interactive turns granted in a row while bulk writers waited.
    run: u32,
}

/// The turn, held until dropped.
#[derive(Debug)]
pub(crate) struct Turn {
    turns: Arc<Turns>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.turns.pass_on();
    }
}

/// A queued waiter; dropped before its turn came, it leaves or passes it on.
struct Waiting {
    turns: Arc<Turns>,
    rx: Option<oneshot::Receiver<()>>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(mut rx) = self.rx.take() {
            // After close, no turn can be handed to us any more; one handed
            // over before it is still in the channel and must be passed on.
            rx.close();
            if rx.try_recv().is_ok() {
                self.turns.pass_on();
            }
        }
    }
}

impl Turns {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the turn; `urgency` decides the queue.
    pub(crate) async fn take(self: &Arc<Self>, urgency: Urgency) -> Turn {
        let rx = {
            let mut s = self.state();
            if !s.held && s.interactive.is_empty() && s.bulk.is_empty() {
                s.held = true;
                return Turn { turns: self.clone() };
            }
            let (tx, rx) = oneshot::channel();
            match urgency {
                Urgency::Interactive => s.interactive.push_back(tx),
                Urgency::Bulk => s.bulk.push_back(tx),
            }
            rx
        };
        let mut waiting = Waiting { turns: self.clone(), rx: Some(rx) };
        let handed = waiting.rx.as_mut().expect("set above").await;
        waiting.rx = None;
        // The sender is only dropped unsent when the lock itself is gone,
        // which cannot happen while we hold an `Arc` on it.
        debug_assert!(handed.is_ok());
        Turn { turns: self.clone() }
    }

    /// Hands the turn to the next waiter, or frees the lock.
    fn pass_on(&self) {
        let mut s = self.state();
        loop {
            let bulk_due = !s.bulk.is_empty() && (s.interactive.is_empty() || s.run >= INTERACTIVE_RUN);
            let next = if bulk_due {
                s.run = 0;
                s.bulk.pop_front()
            } else {
                let next = s.interactive.pop_front();
                if next.is_some() && !s.bulk.is_empty() {
                    s.run += 1;
                }
                next
            };
            let Some(tx) = next else {
                s.held = false;
                s.run = 0;
                return;
            };
            // The waiter got it: the lock stays held, now by them. Else that
            // waiter gave up meanwhile: try the next one.
            if tx.send(()).is_ok() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The order in which queued writers of the given classes get the turn
    /// once the current holder lets it go.
    async fn order(classes: &[Urgency]) -> Vec<usize> {
        let turns = Arc::new(Turns::default());
        let held = turns.take(Urgency::Bulk).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for (i, class) in classes.iter().enumerate() {
            let (turns, tx) = (turns.clone(), tx.clone());
            let class = *class;
            tasks.push(tokio::spawn(async move {
                let _turn = turns.take(class).await;
                tx.send(i).unwrap();
            }));
            // Let it queue before the next one.
            tokio::task::yield_now().await;
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        drop(tx);
        let mut out = Vec::new();
        while let Some(i) = rx.recv().await {
            out.push(i);
        }
        out
    }

    #[tokio::test]
    async fn interactive_writers_go_before_queued_deliveries() {
        use Urgency::{Bulk, Interactive};
        assert_eq!(order(&[Bulk, Bulk, Bulk, Interactive, Bulk, Interactive]).await, vec![3, 5, 0, 1, 2, 4]);
        assert_eq!(order(&[Interactive, Interactive, Bulk]).await, vec![0, 1, 2]);
    }

    #[tokio::test]
    async fn deliveries_are_not_starved() {
        let mut classes = vec![Urgency::Bulk];
        classes.extend([Urgency::Interactive; 20]);
        let got = order(&classes).await;
        let bulk_at = got.iter().position(|&i| i == 0).unwrap();
        assert_eq!(bulk_at, INTERACTIVE_RUN as usize, "{got:?}");
    }

    /// A waiter that gives up (here: a timeout) neither keeps its place nor
    /// loses the turn for the others.
    #[tokio::test]
    async fn a_waiter_that_gives_up_does_not_wedge_the_lock() {
        let turns = Arc::new(Turns::default());
        let held = turns.take(Urgency::Interactive).await;
        let gave_up = tokio::time::timeout(Duration::from_millis(10), turns.take(Urgency::Interactive)).await;
        assert!(gave_up.is_err());
        drop(held);
        let again = tokio::time::timeout(Duration::from_secs(5), turns.take(Urgency::Bulk)).await;
        assert!(again.is_ok(), "the lock was freed");
    }

    /// Many writers of both classes, some giving up: every one that did not
    /// give up gets the turn, and never two at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mutual_exclusion_under_churn() {
        let turns = Arc::new(Turns::default());
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..200u64 {
            let (turns, inside) = (turns.clone(), inside.clone());
            tasks.spawn(async move {
                let class = if n % 3 == 0 { Urgency::Interactive } else { Urgency::Bulk };
                let wait = if n % 7 == 0 { Duration::from_micros(50) } else { Duration::from_secs(30) };
                let Ok(_turn) = tokio::time::timeout(wait, turns.take(class)).await else { return false };
                assert_eq!(inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst), 0);
                tokio::task::yield_now().await;
                inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                true
            });
        }
        let mut done = 0;
        while let Some(r) = tasks.join_next().await {
            done += usize::from(r.unwrap());
        }
        assert!(done >= 200 - 29);
        let state = turns.state();
        assert!(!state.held && state.interactive.is_empty() && state.bulk.is_empty());
    }
}
