//! Feeds arbitrary bytes, as a client would send them, through a whole SMTP session.
//!
//! The first byte picks how the input is cut into reads, so that line endings, the
//! end-of-data mark and BDAT chunks fall across read boundaries. The session must
//! neither panic nor hang, and must never deliver a message over the size limit.

#![no_main]

use std::io;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use libfuzzer_sys::fuzz_target;
use smtp::{DeliverError, Envelope, MailSink, RcptVerdict, SmtpConfig};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Small limits, so that the fuzzer reaches them quickly.
const MAX_MESSAGE: usize = 256;

/// Client input served in pieces; the server's replies are thrown away.
struct Scripted<'a> {
    input: &'a [u8],
    piece: usize,
}

impl AsyncRead for Scripted<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.input.len().min(buf.remaining()).min(self.piece);
        let (head, tail) = self.input.split_at(n);
        buf.put_slice(head);
        self.input = tail;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Scripted<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Accepts one local domain and checks what it is given.
struct Sink;

impl MailSink for Sink {
    async fn check_recipient(&self, rcpt: &model::Address, _size: Option<u64>) -> RcptVerdict {
        match rcpt.domain().as_str() {
            "a.fr" if rcpt.local().len() % 2 == 0 => RcptVerdict::Accept(1),
            "a.fr" => RcptVerdict::UnknownUser,
            _ => RcptVerdict::NotLocal,
        }
    }

    async fn deliver(&self, envelope: &Envelope, message: Vec<u8>) -> Result<(), DeliverError> {
        assert!(!envelope.recipients.is_empty());
        assert!(message.starts_with(b"Received: "));
        // The trace header is bounded by the HELO name (255) and the address (~320).
        assert!(
            message.len() <= MAX_MESSAGE + 1024,
            "{} bytes delivered",
            message.len()
        );
        Ok(())
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else {
        return;
    };
    let cfg = SmtpConfig {
        hostname: "mx.a.fr".into(),
        max_message_size: MAX_MESSAGE,
        max_line_length: 128,
        max_recipients: 4,
        max_commands: 500,
        max_errors: 100,
        ..SmtpConfig::default()
    };
    let (_keep, shutdown) = tokio::sync::watch::channel(false);
    let mut stream = Scripted {
        input,
        piece: usize::from(first) + 1,
    };
    runtime().block_on(smtp::handle_connection(
        &mut stream,
        [192, 0, 2, 1].into(),
        &cfg,
        &Sink,
        None,
        shutdown,
    ));
});
