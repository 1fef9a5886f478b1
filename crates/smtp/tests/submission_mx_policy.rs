//! The MX's authentication hook (used for SPF/DKIM/DMARC): a header prepended to
//! accepted mail, `550 5.7.1` for a refused one, and nothing stored then.

mod common;

use std::sync::Mutex;

use model::Address;
use smtp::{DeliverError, Envelope, MailSink, RcptVerdict};

#[derive(Default)]
struct Checked {
    delivered: Mutex<Vec<Vec<u8>>>,
}

impl MailSink for Checked {
    async fn check_recipient(&self, _rcpt: &Address, _size: Option<u64>) -> RcptVerdict {
        RcptVerdict::Accept(1)
    }

    async fn deliver(&self, _envelope: &Envelope, message: Vec<u8>) -> Result<(), DeliverError> {
        self.delivered.lock().unwrap().push(message);
        Ok(())
    }

    async fn authenticate(&self, envelope: &Envelope, message: &[u8]) -> Result<Option<String>, String> {
        let forged = message.windows(5).any(|w| w == b"forge");
        match (&envelope.mail_from, forged) {
            (_, true) => Err("rejected by the sender's DMARC policy".into()),
            (Some(from), false) => Ok(Some(format!("Authentication-Results: mx; spf=pass smtp.mailfrom={from}\r\n"))),
            (None, false) => Ok(None),
        }
    }
}

async fn converse(sink: &Checked, input: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cfg = common::config();
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (_keep, shutdown) = tokio::sync::watch::channel(false);
    let session = smtp::handle_connection(server, common::CLIENT_IP.parse().unwrap(), &cfg, sink, None, shutdown);
    let (mut reader, mut writer) = tokio::io::split(client);
    let write = async {
        let _ = writer.write_all(input.as_bytes()).await;
        let _ = writer.shutdown().await;
    };
    let read = async {
        let mut out = String::new();
        reader.read_to_string(&mut out).await.unwrap();
        out
    };
    let ((), (), out) = tokio::join!(session, write, read);
    out
}

#[tokio::test]
async fn refused_mail_is_550_571_and_accepted_mail_gets_the_header() {
    let sink = Checked::default();
    let input = "EHLO c\r\nMAIL FROM:<a@forge.example>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nDATA\r\n\
                 From: a@forge.example\r\n\r\nhi\r\n.\r\n\
                 MAIL FROM:<p@exemple.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nDATA\r\n\
                 From: p@exemple.org\r\n\r\nhi\r\n.\r\nQUIT\r\n";
    let output = converse(&sink, input).await;
    let finals: Vec<&str> = output.lines().filter(|l| l.starts_with("550") || l.starts_with("250 2.0.0")).collect();
    assert_eq!(finals.len(), 2, "{output}");
    assert_eq!(finals[0], "550 5.7.1 rejected by the sender's DMARC policy");
    assert!(output.contains("550 5.7.1 rejected by the sender's DMARC policy\r\n"));
    assert!(finals[1].starts_with("250 2.0.0 Ok: queued as "), "{output}");
    let delivered = sink.delivered.lock().unwrap();
    assert_eq!(delivered.len(), 1, "the refused message is not stored");
    let text = String::from_utf8(delivered[0].clone()).unwrap();
    assert!(
        text.starts_with("Authentication-Results: mx; spf=pass smtp.mailfrom=p@exemple.org\r\nReceived: "),
        "{text}"
    );
}
