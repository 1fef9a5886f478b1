//! `postmaster` and `abuse` (issue 25 item 19): an unqualified `<postmaster>`
//! (RFC 5321 section 4.5.1) goes where the sink says, and a role address that
//! reaches several accounts is delivered once for each.

use std::net::IpAddr;
use std::sync::Mutex;

use model::Address;
use smtp::{DeliverError, Envelope, MailSink, RcptVerdict};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

mod common;

/// A server called `mx.ac-demo.fr` whose domain is `ac-demo.fr`, with two
/// administrators.
#[derive(Default)]
struct Directory {
    asked: Mutex<Vec<String>>,
    delivered: Mutex<Vec<Envelope>>,
}

impl MailSink for Directory {
    async fn check_recipient(&self, rcpt: &Address, _size: Option<u64>) -> RcptVerdict {
        self.asked.lock().unwrap().push(rcpt.to_string());
        match (rcpt.local(), rcpt.domain().as_str()) {
            ("postmaster" | "abuse", "ac-demo.fr") => RcptVerdict::AcceptFor(vec![7, 9]),
            ("personne", "ac-demo.fr") => RcptVerdict::AcceptFor(Vec::new()),
            ("claire.martin", "ac-demo.fr") => RcptVerdict::Accept(7),
            ("cdi", "ac-demo.fr") => RcptVerdict::AcceptExpanded,
            _ => RcptVerdict::NotLocal,
        }
    }

    async fn postmaster(&self, hostname: &str) -> String {
        assert_eq!(hostname, common::HOST);
        "postmaster@ac-demo.fr".to_owned()
    }

    async fn deliver(&self, envelope: &Envelope, _message: Vec<u8>) -> Result<(), DeliverError> {
        self.delivered.lock().unwrap().push(envelope.clone());
        Ok(())
    }
}

async fn converse(sink: &Directory, input: &str) -> String {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (_keep, shutdown) = watch::channel(false);
    let ip: IpAddr = common::CLIENT_IP.parse().unwrap();
    let cfg = common::config();
    let session = smtp::handle_connection(server, ip, &cfg, sink, None, shutdown);
    let (mut reader, mut writer) = tokio::io::split(client);
    let write = async {
        writer.write_all(input.replace('\n', "\r\n").as_bytes()).await.unwrap();
        writer.shutdown().await.unwrap();
    };
    let read = async {
        let mut output = String::new();
        reader.read_to_string(&mut output).await.unwrap();
        output
    };
    let ((), (), output) = tokio::join!(session, write, read);
    output
}

#[tokio::test]
async fn unqualified_postmaster_is_the_sinks_and_reaches_every_administrator() {
    let sink = Directory::default();
    let output = converse(
        &sink,
        "HELO client.example.org\nMAIL FROM:<rapports@example.org>\nRCPT TO:<Postmaster>\nDATA\n\
         Subject: DMARC\n\nrapport\n.\nQUIT\n",
    )
    .await;
    let replies: Vec<&str> = output.lines().collect();
    assert_eq!(replies[2..5], ["250 2.1.0 Ok", "250 2.1.5 Ok", "354 2.0.0 End data with <CR><LF>.<CR><LF>"]);
    assert!(replies[5].starts_with("250 2.0.0 Ok: queued as "), "{output}");
    assert_eq!(*sink.asked.lock().unwrap(), ["postmaster@ac-demo.fr"]);
    let delivered = sink.delivered.lock().unwrap();
    let rcpts: Vec<_> = delivered[0].recipients.iter().map(|(a, id)| (a.to_string(), *id)).collect();
    assert_eq!(rcpts, [("postmaster@ac-demo.fr".to_owned(), 7), ("postmaster@ac-demo.fr".to_owned(), 9)]);
}

#[tokio::test]
async fn role_addresses_count_once_and_an_empty_list_is_unknown() {
    let sink = Directory::default();
    let output = converse(
        &sink,
        "EHLO c\nMAIL FROM:<a@example.org>\nRCPT TO:<abuse@ac-demo.fr>\nRCPT TO:<ABUSE@ac-demo.fr>\n\
         RCPT TO:<personne@ac-demo.fr>\nRCPT TO:<postmaster@ailleurs.example>\nRCPT TO:<claire.martin@ac-demo.fr>\n\
         DATA\nSubject: x\n\n.\nQUIT\n",
    )
    .await;
    let replies: Vec<&str> = output.lines().skip_while(|l| l.starts_with("250-") || l.starts_with("220")).collect();
    assert_eq!(
        replies[..7],
        [
            "250 CHUNKING",
            "250 2.1.0 Ok",
            "250 2.1.5 Ok",
            "250 2.1.5 Ok",
            "550 5.1.1 No such user here",
            "554 5.7.1 Relaying denied",
            "250 2.1.5 Ok",
        ],
        "{output}"
    );
    let delivered = sink.delivered.lock().unwrap();
    let ids: Vec<i64> = delivered[0].recipients.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids, [7, 9, 7], "one entry per account; the sink deduplicates accounts");
}

/// A distribution list is accepted at RCPT and reaches the sink once, marked
/// as an address it expands itself (issue 22).
#[tokio::test]
async fn a_list_address_reaches_the_sink_once_as_expanded() {
    let sink = Directory::default();
    let output = converse(
        &sink,
        "HELO client.example.org\nMAIL FROM:<parent@example.org>\nRCPT TO:<cdi@ac-demo.fr>\n\
         RCPT TO:<claire.martin@ac-demo.fr>\nDATA\nSubject: Sortie\n\nBonjour\n.\nQUIT\n",
    )
    .await;
    let replies: Vec<&str> = output.lines().collect();
    assert_eq!(replies[3..5], ["250 2.1.5 Ok", "250 2.1.5 Ok"], "{output}");
    let delivered = sink.delivered.lock().unwrap();
    let rcpts: Vec<_> = delivered[0].recipients.iter().map(|(a, id)| (a.to_string(), *id)).collect();
    assert_eq!(rcpts, [("cdi@ac-demo.fr".to_owned(), smtp::EXPANDED), ("claire.martin@ac-demo.fr".to_owned(), 7)]);
}
