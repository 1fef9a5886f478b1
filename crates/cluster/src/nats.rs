//! The NATS backend: every node publishes to and subscribes to one subject
//! ([`crate::CHANNEL`]) of a NATS server. The client (`async-nats`) keeps the
//! connection: it reconnects by itself after a loss and subscribes again;
//! its connection events are logged here, and each `Connected` is told to
//! the listeners as [`Heard::Reconnected`] so that they rescan.
//!
//! Core NATS only (no JetStream): what is published while a node is away
//! is not kept for it, which is right for hints.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::{Bus, CHANNEL, Error, Heard, QUEUE, hear};

/// Connects to the NATS server(s) at `url` (retrying in the background if
/// none answers yet) and starts the sending and receiving tasks.
pub(crate) async fn join(url: &str) -> Result<Arc<Bus>, Error> {
    let (tx, mut rx) = mpsc::channel::<String>(QUEUE);
    let (bus, heard) = Bus::with(Some(tx), "nats");
    let bus = Arc::new(bus);
    let told = heard.clone();
    let client = async_nats::ConnectOptions::new()
        .name(format!("ardoise-{}", bus.node()))
        .retry_on_initial_connect()
        .event_callback(move |event| {
            let told = told.clone();
            async move {
                match event {
                    async_nats::Event::Connected => {
                        tracing::info!("cluster bus: connected to NATS");
                        let _ = told.send(Heard::Reconnected);
                    }
                    async_nats::Event::Disconnected => {
                        tracing::warn!("cluster bus: NATS connection lost, reconnecting")
                    }
                    other => tracing::info!(event = %other, "cluster bus: NATS"),
                }
            }
        })
        .connect(url)
        .await
        .map_err(|e| Error::Nats(e.to_string()))?;
    let mut subscriber = client.subscribe(CHANNEL).await.map_err(|e| Error::Nats(e.to_string()))?;
    let node = bus.node().to_owned();
    tokio::spawn(async move {
        while let Some(message) = subscriber.next().await {
            match std::str::from_utf8(&message.payload) {
                Ok(frame) => hear(&node, &heard, frame),
                Err(_) => tracing::debug!("cluster bus: non-UTF-8 NATS message ignored"),
            }
        }
        tracing::warn!("cluster bus: NATS subscription ended");
    });
    tokio::spawn(async move {
        // Ends when the bus is dropped.
        while let Some(frame) = rx.recv().await {
            if let Err(e) = client.publish(CHANNEL, frame.into()).await {
                tracing::warn!(error = %e, "cluster bus: NATS publish failed");
            }
        }
    });
    Ok(bus)
}
