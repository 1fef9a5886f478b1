//! The cluster bus: how several `ardoise serve` nodes sharing one PostgreSQL
//! database hear of each other's events (a new message for an IDLE session
//! on another node, a suspension, a revoked password).
//!
//! One interface ([`Bus`]): a node [publishes](Bus::publish) short texts and
//! [listens](Bus::listen) to the other nodes' texts. What the texts mean is
//! the domain's business (`mailstore` encodes its `MailEvent`s); this crate
//! only carries them. Three backends:
//!
//! - [`Bus::alone`]: one node, nothing leaves the process (the default,
//!   today's behaviour: the domain's in-process channels are the whole story);
//! - NATS (`[cluster] nats = "nats://…"`, [`nats`]), through `async-nats`;
//! - PostgreSQL `LISTEN/NOTIFY` ([`postgres`]), when the store is PostgreSQL
//!   and no NATS is configured.
//!
//! Every text goes out with this node's random id, and a node drops the
//! texts that carry its own (NATS and PostgreSQL both echo a publisher's
//! messages to its own subscription): a node's events are applied once, by
//! the in-process path. Events are hints, the store stays the truth: a lost
//! connection is logged and retried, and once back the bus says
//! [`Heard::Reconnected`] so that the node rescans what its sessions watch
//! (events sent meanwhile are lost). A publish never waits for the network:
//! texts queue (up to [`QUEUE`]) and are dropped with a warning beyond.

pub mod nats;
pub mod postgres;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{broadcast, mpsc};

/// Texts waiting to be sent before new ones are dropped.
pub const QUEUE: usize = 4096;
/// Texts heard and not yet read by a slow listener before it lags.
const HEARD: usize = 4096;
/// The NATS subject and the PostgreSQL channel the nodes share.
pub const CHANNEL: &str = "ardoise_events";

/// What a node hears from the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Another node's text.
    Text(Arc<str>),
    /// The connection came back after a loss (or was made): texts may have
    /// been missed, the listener should rescan from the store.
    Reconnected,
}

/// Where the bus runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// One node: nothing is sent anywhere.
    Alone,
    /// A NATS server, `nats://host:port` (several separated by commas).
    Nats(String),
    /// PostgreSQL `LISTEN/NOTIFY` on the store's database (`postgres://…`).
    Postgres(String),
}

impl Backend {
    /// The backend a node's configuration asks for: NATS when set, else
    /// PostgreSQL's own notifications when the store is PostgreSQL, else none.
    pub fn choose(nats: Option<&str>, store_url: &str) -> Backend {
        match nats.filter(|n| !n.trim().is_empty()) {
            Some(nats) => Backend::Nats(nats.trim().to_owned()),
            None if store_url.starts_with("postgres://") || store_url.starts_with("postgresql://") => {
                Backend::Postgres(store_url.to_owned())
            }
            None => Backend::Alone,
        }
    }
}

/// Errors met while joining a bus.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("NATS: {0}")]
    Nats(String),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] sqlx::Error),
}

/// This node's end of the bus. Cheap to share behind an `Arc`.
pub struct Bus {
    node: String,
    kind: &'static str,
    out: Option<mpsc::Sender<String>>,
    heard: broadcast::Sender<Heard>,
    dropped: AtomicU64,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus").field("node", &self.node).field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl Bus {
    /// A bus of one node: publishing does nothing, nothing is ever heard.
    pub fn alone() -> Arc<Bus> {
        Arc::new(Bus::with(None, "alone").0)
    }

    /// Joins the bus `backend` names; the connection is kept (and remade
    /// after a loss) by tasks of the current runtime while the bus lives.
    pub async fn join(backend: &Backend) -> Result<Arc<Bus>, Error> {
        match backend {
            Backend::Alone => Ok(Bus::alone()),
            Backend::Nats(url) => nats::join(url).await,
            Backend::Postgres(url) => postgres::join(url).await,
        }
    }

    /// A bus whose texts go to `out` (when connected somewhere), and the
    /// sender its receiving side hands what it hears to.
    fn with(out: Option<mpsc::Sender<String>>, kind: &'static str) -> (Bus, broadcast::Sender<Heard>) {
        use rand::RngCore;
        let mut id = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let node = id.iter().map(|b| format!("{b:02x}")).collect();
        let (heard, _) = broadcast::channel(HEARD);
        (Bus { node, kind, out, heard: heard.clone(), dropped: AtomicU64::new(0) }, heard)
    }

    /// This node's random id, drawn at start.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// `alone`, `nats` or `postgres`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Sends `text` to the other nodes, without waiting; dropped (and
    /// counted) when too many are waiting already.
    pub fn publish(&self, text: &str) {
        let Some(out) = &self.out else { return };
        if out.try_send(frame(&self.node, text)).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, bus = self.kind, "cluster bus: events dropped (bus unreachable or slow)");
            }
        }
    }

    /// What the other nodes publish from now on.
    pub fn listen(&self) -> broadcast::Receiver<Heard> {
        self.heard.subscribe()
    }
}

/// A text as it travels: the sender's id, a space, the text.
fn frame(node: &str, text: &str) -> String {
    format!("{node} {text}")
}

/// Hands a received frame to the listeners unless this node sent it.
fn hear(node: &str, heard: &broadcast::Sender<Heard>, frame: &str) {
    match frame.split_once(' ') {
        Some((from, _)) if from == node => {}
        Some((_, text)) => {
            // No listener is not an error.
            let _ = heard.send(Heard::Text(text.into()));
        }
        None => tracing::debug!("cluster bus: malformed frame ignored"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nodes_own_frames_are_not_heard_again() {
        let (bus, heard) = Bus::with(None, "test");
        let mut rx = bus.listen();
        hear(bus.node(), &heard, &frame(bus.node(), "D 1 2 3 4 0"));
        hear(bus.node(), &heard, &frame("0123456789abcdef", "D 1 2 3 4 0"));
        hear(bus.node(), &heard, "no-space-at-all");
        assert_eq!(rx.try_recv().unwrap(), Heard::Text("D 1 2 3 4 0".into()));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn the_backend_follows_the_configuration() {
        assert_eq!(Backend::choose(None, "sqlite:///x.db"), Backend::Alone);
        assert_eq!(Backend::choose(Some(" "), "sqlite:///x.db"), Backend::Alone);
        assert_eq!(
            Backend::choose(Some("nats://127.0.0.1:4222"), "postgres://h/db"),
            Backend::Nats("nats://127.0.0.1:4222".into())
        );
        assert_eq!(Backend::choose(None, "postgres://h/db"), Backend::Postgres("postgres://h/db".into()));
    }

    #[test]
    fn a_lone_bus_sends_nothing_and_two_nodes_have_two_ids() {
        let bus = Bus::alone();
        bus.publish("A 7");
        assert_ne!(bus.node(), Bus::alone().node());
        assert_eq!(bus.kind(), "alone");
    }
}
