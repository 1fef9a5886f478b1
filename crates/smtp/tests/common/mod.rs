//! Shared test helpers: an in-memory mail sink and a transcript runner.

#![allow(dead_code)]

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use model::Address;
use smtp::{DeliverError, Envelope, MailSink, RcptVerdict, SmtpConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

pub const HOST: &str = "mx.ac-demo.fr";
pub const CLIENT_IP: &str = "192.0.2.7";

/// The EHLO reply of a plain-text session with the test configuration.
pub const EHLO_REPLY: &str = "250-mx.ac-demo.fr Bonjour [192.0.2.7]\r\n250-PIPELINING\r\n250-SIZE 20971520\r\n\
250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n";

pub fn config() -> SmtpConfig {
    SmtpConfig { hostname: HOST.to_owned(), idle_timeout: Duration::from_secs(300), ..SmtpConfig::default() }
}

/// A mail sink whose directory is a fixed list and whose store is a vector.
#[derive(Default)]
pub struct FakeSink {
    pub delivered: Mutex<Vec<(Envelope, Vec<u8>)>>,
    pub declared_sizes: Mutex<Vec<Option<u64>>>,
    pub fail_with: Mutex<Option<DeliverError>>,
}

impl FakeSink {
    pub fn deliveries(&self) -> Vec<(Envelope, Vec<u8>)> {
        self.delivered.lock().unwrap().clone()
    }

    /// The only delivered message, as text.
    pub fn single_message(&self) -> (Envelope, String) {
        let delivered = self.deliveries();
        assert_eq!(delivered.len(), 1, "expected exactly one delivery");
        let (envelope, message) = delivered.into_iter().next().unwrap();
        (envelope, String::from_utf8(message).unwrap())
    }
}

impl MailSink for FakeSink {
    async fn check_recipient(&self, rcpt: &Address, size: Option<u64>) -> RcptVerdict {
        self.declared_sizes.lock().unwrap().push(size);
        match (rcpt.local(), rcpt.domain().as_str()) {
            ("postmaster", _) => RcptVerdict::Accept(3),
            ("claire.martin", "ac-demo.fr") => RcptVerdict::Accept(1),
            ("paul.durand", "ac-demo.fr") => RcptVerdict::Accept(2),
            ("hélène", "ac-demo.fr") => RcptVerdict::Accept(4),
            ("plein", "ac-demo.fr") => RcptVerdict::OverQuota,
            ("panne", "ac-demo.fr") => RcptVerdict::TemporaryFailure,
            (_, "ac-demo.fr") => RcptVerdict::UnknownUser,
            _ => RcptVerdict::NotLocal,
        }
    }

    async fn deliver(&self, envelope: &Envelope, message: Vec<u8>) -> Result<(), DeliverError> {
        if let Some(error) = self.fail_with.lock().unwrap().clone() {
            return Err(error);
        }
        self.delivered.lock().unwrap().push((envelope.clone(), message));
        Ok(())
    }
}

/// Sends all of `input` at once (pipelined), closes the sending side, and returns
/// everything the server wrote until it closed the connection.
pub async fn converse(cfg: &SmtpConfig, sink: &FakeSink, input: &[u8]) -> Vec<u8> {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (_keep, shutdown) = watch::channel(false);
    let ip: IpAddr = CLIENT_IP.parse().unwrap();
    let session = smtp::handle_connection(server, ip, cfg, sink, None, shutdown);
    let (mut reader, mut writer) = tokio::io::split(client);
    let write = async {
        // The server may hang up first (too many errors...): a failed write is expected then.
        let _ = writer.write_all(input).await;
        let _ = writer.shutdown().await;
    };
    let read = async {
        let mut output = Vec::new();
        reader.read_to_end(&mut output).await.unwrap();
        output
    };
    let ((), (), output) = tokio::join!(session, write, read);
    output
}

/// Runs a transcript: `C:` lines are sent (CRLF added), `S:` lines are the expected
/// reply lines, byte for byte; an `S:` line ending in `*` only has to start with what
/// precedes the star, and `S: <ehlo>` stands for the whole EHLO reply.
pub async fn check_with(cfg: &SmtpConfig, sink: &FakeSink, transcript: &str) {
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for line in transcript.lines().map(str::trim_start).filter(|l| !l.is_empty()) {
        if let Some(sent) = line.strip_prefix("C: ").or(line.strip_prefix("C:")) {
            input.extend_from_slice(sent.as_bytes());
            input.extend_from_slice(b"\r\n");
        } else if line == "S: <ehlo>" {
            expected.extend(EHLO_REPLY.lines().map(str::to_owned));
        } else if let Some(reply) = line.strip_prefix("S: ") {
            expected.push(reply.to_owned());
        } else {
            panic!("transcript lines start with C: or S:, not {line:?}");
        }
    }
    let output = String::from_utf8(converse(cfg, sink, &input).await).unwrap();
    assert!(output.is_empty() || output.ends_with("\r\n"), "unterminated reply in {output:?}");
    let actual: Vec<&str> = output.split_terminator("\r\n").collect();
    for line in &actual {
        assert!(!line.contains('\n') && !line.contains('\r'), "bare line ending in {output:?}");
    }
    let matches = actual.len() == expected.len()
        && actual.iter().zip(&expected).all(|(got, want)| match want.strip_suffix('*') {
            Some(prefix) => got.starts_with(prefix),
            None => got == want,
        });
    assert!(matches, "server replies differ\n--- expected\n{}\n--- actual\n{}", expected.join("\n"), actual.join("\n"));
}

/// [`check_with`] on the default test configuration and a fresh sink, which is returned.
pub async fn check(transcript: &str) -> FakeSink {
    let sink = FakeSink::default();
    check_with(&config(), &sink, transcript).await;
    sink
}

/// An interactive client: sends text and reads whole (multi-line) replies.
pub struct Client<S> {
    pub stream: tokio::io::BufReader<S>,
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Client<S> {
    pub fn new(stream: S) -> Self {
        Client { stream: tokio::io::BufReader::new(stream) }
    }

    /// Reads one reply, every line of it, CRLFs included.
    pub async fn reply(&mut self) -> String {
        use tokio::io::AsyncBufReadExt;
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let n = self.stream.read_line(&mut line).await.unwrap();
            assert!(n > 0, "connection closed while reading a reply; got {reply:?}");
            reply.push_str(&line);
            if line.as_bytes().get(3) == Some(&b' ') {
                return reply;
            }
        }
    }

    pub async fn send(&mut self, text: &str) {
        self.stream.get_mut().write_all(text.as_bytes()).await.unwrap();
        self.stream.get_mut().flush().await.unwrap();
    }

    /// Sends a command and returns its reply.
    pub async fn ask(&mut self, command: &str) -> String {
        self.send(&format!("{command}\r\n")).await;
        self.reply().await
    }

    /// Everything the server still sends until it closes the connection.
    pub async fn rest(&mut self) -> String {
        let mut rest = String::new();
        self.stream.read_to_string(&mut rest).await.unwrap();
        rest
    }
}
