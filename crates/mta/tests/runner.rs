//! The queue runner against a scripted remote SMTP server on loopback: a
//! message to 100 recipients in five domains where three are refused and one
//! domain has no route. Every accepted recipient gets it exactly once, the
//! refused ones make one bounce in the sender's Inbox, the unroutable one
//! stays queued, and running the queue again sends nothing twice.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mailstore::Mailstore;
use model::{AccountStatus, Address, Domain, Role};
use mta::limits::{Limiter, RoleLimits};
use mta::route::Router;
use mta::{Mta, OutboundSettings, Submission};
use store::{NewAccount, RcptStatus, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One transaction the fake server accepted: its recipients and message.
type Received = Arc<Mutex<Vec<(Vec<String>, Vec<u8>)>>>;

/// A remote server that refuses recipients whose local part starts with
/// `refuse` (550) and accepts everything else. No STARTTLS, no pipelining.
async fn remote_server() -> (SocketAddr, Received) {
    let (addr, received, _) = remote_server_hanging_up_after(usize::MAX).await;
    (addr, received)
}

/// The same server, which also hangs up without a word after `limit`
/// messages on one connection (as busy servers do with idle or old
/// sessions), and counts the connections it accepted.
async fn remote_server_hanging_up_after(limit: usize) -> (SocketAddr, Received, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received: Received = Arc::default();
    let connections = Arc::new(AtomicUsize::new(0));
    let (log, count) = (received.clone(), connections.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            count.fetch_add(1, Ordering::SeqCst);
            let log = log.clone();
            tokio::spawn(async move {
                let mut messages = 0;
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read);
                write.write_all(b"220 mx.exterieur.example ESMTP\r\n").await.unwrap();
                let mut rcpts = Vec::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-mx.exterieur.example\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL") {
                        rcpts.clear();
                        b"250 2.1.0 ok\r\n"
                    } else if upper.starts_with("RCPT") {
                        let addr = line[line.find('<').unwrap() + 1..line.find('>').unwrap()].to_owned();
                        if addr.starts_with("refuse") {
                            b"550 5.1.1 no such user here\r\n"
                        } else {
                            rcpts.push(addr);
                            b"250 2.1.5 ok\r\n"
                        }
                    } else if upper.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut message = Vec::new();
                        loop {
                            let mut data = Vec::new();
                            if lines.read_until(b'\n', &mut data).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if data == b".\r\n" {
                                break;
                            }
                            message.extend_from_slice(&data);
                        }
                        log.lock().unwrap().push((std::mem::take(&mut rcpts), message));
                        messages += 1;
                        if messages == limit {
                            let _ = write.write_all(b"250 2.0.0 queued\r\n").await;
                            return;
                        }
                        b"250 2.0.0 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
                        return;
                    } else {
                        b"250 2.0.0 ok\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (addr, received, connections)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_recipients_three_refused_one_unroutable() {
    let (dir, store, ms, sender) = store_with_sender().await;
    let (remote, received) = remote_server().await;
    let domains = ["un.example", "deux.example", "trois.example", "quatre.example", "cinq.example"];
    let overrides: HashMap<String, Vec<SocketAddr>> = domains.iter().map(|d| (d.to_string(), vec![remote])).collect();
    let settings = OutboundSettings {
        hostname: "mx.ac-test.fr".into(),
        mx_override: overrides.clone(),
        timeout: std::time::Duration::from_secs(10),
        ..OutboundSettings::default()
    };
    let mta = mta_for(&dir, &store, &ms, settings);
    let router = Arc::new(Router::new(overrides, 25, false));

    // 99 recipients spread over the five routed domains, three of them refused,
    // and one in a domain with no route at all (no MX, no static entry).
    let mut recipients: Vec<Address> = (0..99)
        .map(|i| {
            let local = if i % 33 == 7 { format!("refuse{i}") } else { format!("agent{i}") };
            Address::parse(&format!("{local}@{}", domains[i % 5])).unwrap()
        })
        .collect();
    recipients.push(Address::parse("personne@sans-route.example").unwrap());
    let from = sender.address.clone();
    let message = b"From: Claire Martin <claire.martin@ac-test.fr>\r\nTo: undisclosed-recipients:;\r\n\
Subject: Conseil pedagogique\r\n\r\nBonjour a toutes et a tous.\r\n"
        .to_vec();
    mta.submit(Submission { account: &sender, mail_from: Some(&from), recipients: &recipients, message })
        .await
        .unwrap();

    let entries = store.queue_entries().await.unwrap();
    assert_eq!(entries.len(), 1, "one queue entry for the whole message");
    mta::runner::drain(&mta, &router).await.unwrap();

    let accepted: Vec<String> = received.lock().unwrap().iter().flat_map(|(r, _)| r.clone()).collect();
    let mut unique = accepted.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((accepted.len(), unique.len()), (96, 96), "96 accepted, each exactly once");
    assert_eq!(received.lock().unwrap().len(), 5, "one transaction per domain");
    for (_, body) in received.lock().unwrap().iter() {
        let text = String::from_utf8_lossy(body);
        assert!(text.contains("DKIM-Signature:") && text.contains("Subject: Conseil pedagogique"), "{text}");
    }

    let rcpts = store.queued_recipients(entries[0].id).await.unwrap();
    let count = |s: RcptStatus| rcpts.iter().filter(|r| r.status == s).count();
    assert_eq!((count(RcptStatus::Sent), count(RcptStatus::Failed), count(RcptStatus::Pending)), (96, 3, 1));
    let pending = rcpts.iter().find(|r| r.status == RcptStatus::Pending).unwrap();
    assert_eq!(pending.rcpt, "personne@sans-route.example");
    assert!(pending.last_error.starts_with("451 4.4.3"), "{}", pending.last_error);
    for failed in rcpts.iter().filter(|r| r.status == RcptStatus::Failed) {
        assert!(failed.rcpt.starts_with("refuse") && failed.last_error.contains("550 5.1.1"), "{failed:?}");
    }

    // One bounce in Claire's Inbox naming the three refused recipients only.
    let inbox = store.mailbox_by_name(sender.id, "INBOX").await.unwrap().unwrap();
    let rows = store.messages_between(inbox.id, 1, i64::MAX).await.unwrap();
    assert_eq!(rows.len(), 1, "exactly one delivery report");
    let dsn = String::from_utf8(ms.message_bytes(&rows[0].blob_hash).await.unwrap()).unwrap();
    assert!(dsn.contains("multipart/report") && dsn.contains("message/delivery-status"), "{dsn}");
    for failed in rcpts.iter().filter(|r| r.status == RcptStatus::Failed) {
        assert!(dsn.contains(&format!("Final-Recipient: rfc822; {}", failed.rcpt)), "{dsn}");
    }
    assert!(!dsn.contains("Final-Recipient: rfc822; agent"), "delivered recipients are not reported");
    assert!(!dsn.contains("sans-route.example"), "the pending recipient is not bounced yet");

    // Running the queue again (as after a restart) retries only the pending one.
    store.retry_now(entries[0].id, None).await.unwrap();
    mta::runner::drain(&mta, &router).await.unwrap();
    let again: usize = received.lock().unwrap().iter().map(|(r, _)| r.len()).sum();
    assert_eq!(again, 96, "nothing is sent twice");
    assert_eq!(store.messages_between(inbox.id, 1, i64::MAX).await.unwrap().len(), 1, "no second bounce");
    assert_eq!(store.queue_entries().await.unwrap().len(), 1, "the unroutable recipient waits");
}

/// A fresh store with the domain `ac-test.fr` and Claire as a sender.
async fn store_with_sender() -> (tempfile::TempDir, Store, Arc<Mailstore>, store::Account) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let sender = store
        .create_account(&NewAccount {
            address: Address::parse("claire.martin@ac-test.fr").unwrap(),
            login: None,
            display_name: "Claire Martin".into(),
            role: Role::Teacher,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap();
    let ms = Mailstore::new(store.clone(), blob::BlobStore::open(dir.path().join("blobs")).unwrap());

    (dir, store, ms, sender)
}

fn mta_for(dir: &tempfile::TempDir, store: &Store, ms: &Arc<Mailstore>, settings: OutboundSettings) -> Arc<Mta> {
    let dkim =
        mta::dkim::DkimKeys::load_or_create(&dir.path().join("dkim"), "ardoise", &["ac-test.fr".into()]).unwrap();
    let plenty = RoleLimits { messages_per_hour: 1000, recipients_per_hour: 10_000 };
    let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
    Mta::new(ms.clone(), store.clone(), blobs, settings, dkim, Limiter::new(plenty, HashMap::new()))
}

/// Forty messages to one partner domain, in four runs of ten, go over kept
/// sessions, not forty connections; the server hangs up after the third
/// message on a connection, and each
/// message still arrives exactly once (a kept session found closed is
/// replaced before anything is sent on it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_kept_between_messages_and_replaced_when_the_server_hangs_up() {
    let (dir, store, ms, sender) = store_with_sender().await;
    let (remote, received, connections) = remote_server_hanging_up_after(3).await;
    let overrides: HashMap<String, Vec<SocketAddr>> = [("partenaire.example".to_string(), vec![remote])].into();
    let settings = OutboundSettings {
        hostname: "mx.ac-test.fr".into(),
        mx_override: overrides.clone(),
        timeout: std::time::Duration::from_secs(10),
        ..OutboundSettings::default()
    };
    let mta = mta_for(&dir, &store, &ms, settings);
    let router = Arc::new(Router::new(overrides, 25, false));
    let from = sender.address.clone();
    for round in 0..4 {
        for i in 0..10 {
            let n = round * 10 + i;
            let rcpt = [Address::parse(&format!("agent{n}@partenaire.example")).unwrap()];
            let message = format!("From: <claire.martin@ac-test.fr>\r\nSubject: convocation {n}\r\n\r\nBonjour.\r\n");
            let sub =
                Submission { account: &sender, mail_from: Some(&from), recipients: &rcpt, message: message.into() };
            mta.submit(sub).await.unwrap();
        }
        // Each run finds the sessions the previous one kept; in the fourth
        // the server has hung up on all of them.
        mta::runner::drain(&mta, &router).await.unwrap();
    }
    let got = received.lock().unwrap().clone();
    let mut subjects: Vec<String> = got
        .iter()
        .map(|(_, body)| {
            let text = String::from_utf8_lossy(body);
            text.lines().find(|l| l.starts_with("Subject:")).unwrap().to_owned()
        })
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!((got.len(), subjects.len()), (40, 40), "each message exactly once");
    let opened = connections.load(Ordering::SeqCst);
    // Three messages per connection at most (the server's limit): at least 14
    // connections; at most 10 per round that found no open session (the
    // first and the fourth); without reuse it would be 40.
    assert!((14..=20).contains(&opened), "{opened} connections for 40 messages");
    assert!(store.queue_entries().await.unwrap().is_empty(), "the queue is empty");
}
