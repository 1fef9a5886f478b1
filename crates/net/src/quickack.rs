//! Quick acknowledgements on accepted TCP connections.
//!
//! A client that writes one command in two segments (imaplib sends an APPEND
//! literal and its final CRLF apart; many SMTP clients send the end of DATA on
//! its own) holds the second segment back under Nagle's algorithm until the
//! first is acknowledged. Linux delays that acknowledgement by up to ~40 ms
//! when it has no reply to carry it, so such a command waited ~44 ms. Quick-ACK
//! mode makes the kernel acknowledge at once, but the kernel leaves that mode on
//! its own after a while, so [`QuickAck`] re-arms it after every read that
//! returned data, as Dovecot does.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A TCP stream that keeps the socket in quick-ACK mode across reads.
#[derive(Debug)]
pub struct QuickAck {
    inner: TcpStream,
}

impl QuickAck {
    /// Wraps an accepted stream and arms quick-ACK mode for its first read.
    pub fn new(inner: TcpStream) -> QuickAck {
        arm(&inner);
        QuickAck { inner }
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &TcpStream {
        &self.inner
    }

    /// The underlying stream, consuming the wrapper.
    pub fn into_inner(self) -> TcpStream {
        self.inner
    }
}

/// Asks the kernel to acknowledge the next segments at once. A failure (a
/// platform without the option, a closed socket) only costs latency.
pub fn arm(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let _ = SockRef::from(stream).set_tcp_quickack(true);
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = SockRef::from(stream);
    }
}

impl AsyncRead for QuickAck {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            arm(&self.inner);
        }
        polled
    }
}

impl AsyncWrite for QuickAck {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::QuickAck;

    /// A client with Nagle's algorithm on sends commands in two pieces, as
    /// imaplib does with an APPEND literal, and waits for each reply. Once the
    /// server has answered, the kernel treats the connection as interactive
    /// and delays its acknowledgements again (quick-ACK mode off); the wrapper
    /// must have switched it back on after every read (read through
    /// getsockopt), which is what lets the client's second piece leave at once.
    #[tokio::test]
    async fn quick_ack_is_rearmed_after_every_read() {
        const ROUNDS: usize = 6;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut stream = QuickAck::new(stream);
            let mut armed_after_reads = Vec::new();
            for _ in 0..ROUNDS {
                let mut seen = Vec::new();
                while !seen.ends_with(b"\r\n") {
                    let mut buf = [0u8; 64];
                    let n = stream.read(&mut buf).await.unwrap();
                    assert!(n > 0);
                    seen.extend_from_slice(&buf[..n]);
                    armed_after_reads.push(socket2::SockRef::from(stream.get_ref()).tcp_quickack().unwrap());
                }
                stream.write_all(b"OK\r\n").await.unwrap();
            }
            armed_after_reads
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.set_nodelay(false).unwrap();
        let start = Instant::now();
        for _ in 0..ROUNDS {
            client.write_all(b"a APPEND x {3}\r\nabc").await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
            client.write_all(b"\r\n").await.unwrap();
            let mut reply = [0u8; 4];
            client.read_exact(&mut reply).await.unwrap();
            assert_eq!(&reply, b"OK\r\n");
        }
        let armed = server.await.unwrap();
        assert!(armed.iter().all(|a| *a), "quick-ACK mode not re-armed after a read: {armed:?}");
        // Informative only (no timing assertion: the machines are noisy).
        eprintln!("{ROUNDS} split commands answered in {:?}", start.elapsed());
    }
}
