//! The listener loop on a loopback socket: connection limit and orderly shutdown.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Client, FakeSink, config};
use smtp::SmtpConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[tokio::test]
async fn limits_connections_and_shuts_down_in_order() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cfg = Arc::new(SmtpConfig { max_connections: 1, ..config() });
    let sink = Arc::new(FakeSink::default());
    let (stop, shutdown) = watch::channel(false);
    let server = tokio::spawn(smtp::serve(listener, cfg, sink.clone(), None, shutdown));

    let mut first = Client::new(TcpStream::connect(addr).await.unwrap());
    assert_eq!(first.reply().await, "220 mx.ac-demo.fr ESMTP Ardoise\r\n");
    first.send("EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nDATA\r\n").await;
    for _ in 0..4 {
        first.reply().await;
    }
    assert!(first.ask("hello\r\n.").await.starts_with("250 2.0.0 Ok: queued as "));

    let mut second = Client::new(TcpStream::connect(addr).await.unwrap());
    assert_eq!(second.rest().await, "421 4.7.0 mx.ac-demo.fr Too many connections, try again later\r\n");

    stop.send(true).unwrap();
    assert_eq!(first.rest().await, "421 4.3.2 mx.ac-demo.fr Service shutting down\r\n");
    tokio::time::timeout(Duration::from_secs(10), server).await.expect("serve() returns after shutdown").unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
    assert_eq!(sink.deliveries().len(), 1);
}
