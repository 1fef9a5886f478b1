//! Idle timeouts and shutdown notices, on tokio's paused clock.

mod common;

use std::time::Duration;

use common::{CLIENT_IP, Client, EHLO_REPLY, FakeSink, config};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn idle_client_gets_421_after_the_timeout() {
    let (cfg, sink) = (config(), FakeSink::default());
    let (client, server) = tokio::io::duplex(4096);
    let (_keep, shutdown) = watch::channel(false);
    let session = smtp::handle_connection(server, CLIENT_IP.parse().unwrap(), &cfg, &sink, None, shutdown);
    let dialogue = async {
        let mut client = Client::new(client);
        assert_eq!(client.reply().await, "220 mx.ac-demo.fr ESMTP Ardoise\r\n");
        assert_eq!(client.ask("EHLO c").await, EHLO_REPLY);
        let start = Instant::now();
        assert_eq!(client.rest().await, "421 4.4.2 mx.ac-demo.fr Idle timeout, closing connection\r\n");
        assert!(start.elapsed() >= Duration::from_secs(300), "{:?}", start.elapsed());
        assert!(start.elapsed() < Duration::from_secs(301), "{:?}", start.elapsed());
    };
    tokio::join!(session, dialogue);
}

#[tokio::test(start_paused = true)]
async fn stalled_data_times_out_without_delivery() {
    let (cfg, sink) = (config(), FakeSink::default());
    let (client, server) = tokio::io::duplex(4096);
    let (_keep, shutdown) = watch::channel(false);
    let session = smtp::handle_connection(server, CLIENT_IP.parse().unwrap(), &cfg, &sink, None, shutdown);
    let dialogue = async {
        let mut client = Client::new(client);
        client.reply().await;
        client.send("EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nDATA\r\n").await;
        for _ in 0..4 {
            client.reply().await;
        }
        // The client keeps trickling, which used to reset the clock each time; now
        // its rate, far below the minimum, ends the session after the grace period.
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(200)).await;
            let _ = client.stream.get_mut().write_all(b"still here\r\n").await;
        }
        assert_eq!(
            client.rest().await,
            "421 4.4.2 mx.ac-demo.fr Message recu trop lentement / Message data too slow\r\n"
        );
    };
    tokio::join!(session, dialogue);
    assert!(sink.deliveries().is_empty());
}

#[tokio::test(start_paused = true)]
async fn shutdown_sends_421_to_waiting_sessions() {
    let (cfg, sink) = (config(), FakeSink::default());
    let (client, server) = tokio::io::duplex(4096);
    let (stop, shutdown) = watch::channel(false);
    let session = smtp::handle_connection(server, CLIENT_IP.parse().unwrap(), &cfg, &sink, None, shutdown);
    let dialogue = async {
        let mut client = Client::new(client);
        client.reply().await;
        client
            .send("EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nDATA\r\npartial\r\n")
            .await;
        for _ in 0..4 {
            client.reply().await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        stop.send(true).unwrap();
        assert_eq!(client.rest().await, "421 4.3.2 mx.ac-demo.fr Service shutting down\r\n");
    };
    tokio::join!(session, dialogue);
    assert!(sink.deliveries().is_empty(), "an interrupted DATA delivers nothing");
}
