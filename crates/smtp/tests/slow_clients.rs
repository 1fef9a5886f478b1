//! Clients that hold a connection without using it (issue 25, item 14): a
//! command trickled one byte at a time, a transaction kept open with NOOPs, a
//! body sent at a crawl, and one address opening every connection. Apart from
//! the last, on tokio's paused clock, with the default configuration.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{CLIENT_IP, FakeSink, config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::Instant;

/// Runs `talk` against a session on an in-memory stream; returns everything
/// the server wrote after the greeting and EHLO reply, and when it hung up.
async fn session_with<F, Fut>(talk: F) -> (String, Duration)
where
    F: FnOnce(tokio::io::WriteHalf<tokio::io::DuplexStream>) -> Fut,
    Fut: Future<Output = ()>,
{
    let (cfg, sink) = (config(), FakeSink::default());
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (_keep, shutdown) = watch::channel(false);
    let session = smtp::handle_connection(server, CLIENT_IP.parse().unwrap(), &cfg, &sink, None, shutdown);
    let (mut reader, mut writer) = tokio::io::split(client);
    let start = Instant::now();
    writer.write_all(b"EHLO c\r\n").await.unwrap();
    let read = async {
        let mut out = Vec::new();
        let _ = reader.read_to_end(&mut out).await;
        (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
    };
    let ((), (), (out, closed)) = tokio::join!(session, talk(writer), read);
    assert!(sink.deliveries().is_empty(), "nothing is delivered");
    let after_ehlo = out.split_once("250 CHUNKING\r\n").map_or(out.as_str(), |(_, rest)| rest).to_owned();
    (after_ehlo, closed)
}

#[tokio::test(start_paused = true)]
async fn a_command_trickled_byte_by_byte_is_cut_at_its_deadline() {
    let (out, closed) = session_with(|mut w| async move {
        // One byte every 40 s: each read comes well within the idle timeout.
        for &b in b"MAIL FROM:<lent@example.org>" {
            tokio::time::sleep(Duration::from_secs(40)).await;
            if w.write_all(&[b]).await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(out.starts_with("421 4.4.2 mx.ac-demo.fr Delai depasse"), "{out:?}");
    assert!(closed <= Duration::from_secs(301), "cut after {closed:?}");
}

#[tokio::test(start_paused = true)]
async fn a_transaction_kept_open_with_noops_is_cut_at_its_deadline() {
    let (out, closed) = session_with(|mut w| async move {
        let _ = w.write_all(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\n").await;
        // Each command arrives within its own deadline; together they last 40 minutes.
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_secs(240)).await;
            if w.write_all(b"NOOP\r\n").await.is_err() {
                return;
            }
        }
        let _ = w.write_all(b"QUIT\r\n").await;
    })
    .await;
    assert!(out.ends_with("Command or transaction too slow\r\n"), "{out:?}");
    assert!(!out.contains("221"), "{out:?}");
    assert!(closed <= Duration::from_secs(30 * 60 + 1), "cut after {closed:?}");
}

#[tokio::test(start_paused = true)]
async fn a_body_sent_at_a_crawl_is_cut() {
    let (out, closed) = session_with(|mut w| async move {
        let _ = w.write_all(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nDATA\r\n").await;
        // 100 bytes every 10 s, far below the default minimum of 1 KiB/s.
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_secs(10)).await;
            if w.write_all(&[b'x'; 100]).await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(
        out.ends_with("421 4.4.2 mx.ac-demo.fr Message recu trop lentement / Message data too slow\r\n"),
        "{out:?}"
    );
    assert!(closed <= Duration::from_secs(61), "cut after {closed:?}");
}

/// Reads the first line the server sends.
async fn first_line(stream: &mut tokio::net::TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        match stream.read(&mut byte).await {
            Ok(1) => line.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&line).into_owned()
}

#[tokio::test]
async fn one_address_gets_its_share_of_connections_only() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop, shutdown) = watch::channel(false);
    let cfg = Arc::new(config());
    tokio::spawn(smtp::serve(listener, cfg, Arc::new(FakeSink::default()), None, shutdown));
    let mut held = Vec::new();
    // The default share of one address is 20 connections.
    for _ in 0..20 {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(first_line(&mut c).await.starts_with("220 "));
        held.push(c);
    }
    let mut extra = tokio::net::TcpStream::connect(addr).await.unwrap();
    let refused = first_line(&mut extra).await;
    assert!(refused.starts_with("421 4.7.0 mx.ac-demo.fr Trop de connexions depuis votre adresse"), "{refused:?}");
    // A connection that ends gives its slot back.
    let mut one = held.pop().unwrap();
    one.write_all(b"QUIT\r\n").await.unwrap();
    let mut rest = Vec::new();
    one.read_to_end(&mut rest).await.unwrap();
    let mut again = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(first_line(&mut again).await.starts_with("220 "));
}
