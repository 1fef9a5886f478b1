//! The PostgreSQL backend, for a cluster without NATS: `NOTIFY` on one
//! channel ([`crate::CHANNEL`]) of the store's database, `LISTEN` on a
//! connection of its own. A lost listening connection is logged and made
//! again (1 s, doubling to 30 s); once listening again the listeners hear
//! [`Heard::Reconnected`] and rescan, since notifications sent meanwhile
//! are gone. A notification's text is limited by PostgreSQL to 8,000 bytes;
//! the domain's events are a few dozen.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::{broadcast, mpsc};

use crate::{Bus, CHANNEL, Error, Heard, QUEUE, hear};

/// The longest wait between two connection attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Listens on `url`'s database (the first connection must succeed) and
/// starts the sending and receiving tasks.
pub(crate) async fn join(url: &str) -> Result<Arc<Bus>, Error> {
    let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
    let (bus, heard) = Bus::with(Some(tx), "postgres");
    let bus = Arc::new(bus);
    let listener = listen(url).await?;
    let _ = heard.send(Heard::Reconnected);
    tokio::spawn(receive(url.to_owned(), bus.node().to_owned(), listener, heard));
    let pool = PgPoolOptions::new().max_connections(2).connect_lazy(url)?;
    tokio::spawn(async move {
        // Ends when the bus is dropped.
        while let Some(frame) = rx.recv().await {
            let sent = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(&frame).execute(&pool).await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "cluster bus: PostgreSQL NOTIFY failed");
            }
        }
    });
    Ok(bus)
}

async fn listen(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Hands on every notification; after a loss, connects again and says so.
async fn receive(url: String, node: String, mut listener: PgListener, heard: broadcast::Sender<Heard>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                hear(&node, &heard, notification.payload());
                continue;
            }
            Ok(None) => tracing::warn!("cluster bus: PostgreSQL listening connection lost, reconnecting"),
            Err(e) => tracing::warn!(error = %e, "cluster bus: PostgreSQL listening failed, reconnecting"),
        }
        let mut wait = Duration::from_secs(1);
        listener = loop {
            tokio::time::sleep(wait).await;
            match listen(&url).await {
                Ok(listener) => break listener,
                Err(e) => tracing::warn!(error = %e, "cluster bus: PostgreSQL still unreachable"),
            }
            wait = (wait * 2).min(BACKOFF_MAX);
        };
        tracing::info!("cluster bus: listening on PostgreSQL again");
        let _ = heard.send(Heard::Reconnected);
    }
}
