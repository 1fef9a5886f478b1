//! Thousands of pseudo-random inputs (fixed seed) through whole sessions: no panic,
//! every session terminates, and everything written is well-formed reply lines.
//!
//! This is the deterministic cousin of the cargo-fuzz target in `fuzz/`.

mod common;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use common::FakeSink;
use smtp::SmtpConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

/// A stream that yields a fixed input in pieces of varying size, then end of file,
/// and records what the server writes.
struct Scripted {
    input: Vec<u8>,
    pos: usize,
    piece: usize,
    output: Vec<u8>,
}

impl AsyncRead for Scripted {
    fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let n = (this.input.len() - this.pos).min(buf.remaining()).min(this.piece);
        buf.put_slice(&this.input[this.pos..this.pos + n]);
        this.pos += n;
        // Vary the piece size so that terminators fall across read boundaries.
        this.piece = this.piece % 23 + 1;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.output.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// xorshift64*: small, deterministic, good enough to pick fragments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FRAGMENTS: &[&[u8]] = &[
    b"EHLO c\r\n",
    b"HELO x\r\n",
    b"MAIL FROM:<a@example.org>\r\n",
    b"MAIL FROM:<> SIZE=99 BODY=8BITMIME SMTPUTF8\r\n",
    b"RCPT TO:<claire.martin@ac-demo.fr>\r\n",
    b"RCPT TO:<inconnu@ac-demo.fr>\r\n",
    b"RCPT TO:<postmaster>\r\n",
    b"DATA\r\n",
    b"\r\n.\r\n",
    b".\r\n",
    b"..\r\n",
    b"BDAT 5\r\n",
    b"BDAT 3 LAST\r\n",
    b"BDAT 18446744073709551616 LAST\r\n",
    b"RSET\r\n",
    b"NOOP\r\n",
    b"VRFY x\r\n",
    b"\r\n",
    b"\n",
    b"\r",
    b"MAIL FROM:<\"quoted\\\"\"@x.fr> RET=HDRS ENVID=x\r\n",
    b"RCPT TO:<@route:a@b.fr> NOTIFY=NEVER\r\n",
];

/// Fragments that end the clear-text session, kept rare so that walks get deep.
const ENDINGS: &[&[u8]] = &[b"STARTTLS\r\n", b"QUIT\r\n"];

fn random_input(rng: &mut Rng) -> Vec<u8> {
    let mut input = Vec::new();
    if rng.below(2) == 0 {
        input.extend_from_slice(b"EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\n");
    }
    for _ in 0..rng.below(40) {
        if rng.below(30) == 0 {
            input.extend_from_slice(ENDINGS[rng.below(ENDINGS.len())]);
        } else if rng.below(3) == 0 {
            for _ in 0..rng.below(80) {
                input.push(rng.next() as u8);
            }
        } else {
            input.extend_from_slice(FRAGMENTS[rng.below(FRAGMENTS.len())]);
        }
    }
    input
}

#[tokio::test]
async fn random_inputs_never_panic_and_always_terminate() {
    let data = tempfile::tempdir().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(net::server_tls(data.path(), None, None, "mx").unwrap());
    let cfg = SmtpConfig {
        hostname: "mx".into(),
        max_message_size: 64,
        max_line_length: 48,
        max_recipients: 3,
        max_errors: 50,
        max_commands: 200,
        ..SmtpConfig::default()
    };
    let sink = FakeSink::default();
    let (_keep, shutdown) = watch::channel(false);
    let mut rng = Rng(0x5EED_A4D0_15E5_2026);
    let (mut upgrades, mut data_phases) = (0, 0);
    for round in 0..3000 {
        let input = random_input(&mut rng);
        let mut stream = Scripted { input, pos: 0, piece: 1 + round % 7, output: Vec::new() };
        let session =
            smtp::handle_connection(&mut stream, [192, 0, 2, 1].into(), &cfg, &sink, Some(&acceptor), shutdown.clone());
        tokio::time::timeout(Duration::from_secs(10), session).await.expect("the session terminates");

        // Replies are CRLF-terminated lines starting with a code, except after STARTTLS
        // where the server may have written TLS records.
        let output = stream.output;
        const UPGRADE: &[u8] = b"220 2.0.0 Ready to start TLS\r\n";
        let text_end =
            output.windows(UPGRADE.len()).position(|w| w == UPGRADE).map_or(output.len(), |p| p + UPGRADE.len());
        let text = &output[..text_end];
        upgrades += usize::from(text_end < output.len());
        data_phases += usize::from(text.windows(4).any(|w| w == b"354 "));
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            assert!(line.ends_with(b"\r"), "round {round}: {:?}", String::from_utf8_lossy(line));
            assert!(line.len() >= 5 && line[..3].iter().all(u8::is_ascii_digit) && matches!(line[3], b' ' | b'-'));
        }
    }
    // The dictionary makes the random walks reach the interesting states.
    assert!(upgrades > 100 && data_phases > 100, "upgrades {upgrades}, DATA {data_phases}");
    assert!(sink.deliveries().len() > 20, "deliveries {}", sink.deliveries().len());
    // Every accepted message respected the size limit (plus the trace header).
    for (envelope, message) in sink.deliveries() {
        assert!(!envelope.recipients.is_empty());
        assert!(message.starts_with(b"Received: ") && message.len() <= 64 + 300);
    }
}
