//! Buffered, deadline-bound I/O on the client's stream.
//!
//! Replies are queued and written only before the session blocks on a read (or when
//! the queue grows large): this is the reply batching that PIPELINING expects, and it
//! bounds the memory a client can make the server hold by sending thousands of
//! commands without reading the answers, since each read is bounded too.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::reply::Reply;

/// How much one read may add to the input buffer.
const READ_CHUNK: usize = 16 * 1024;
/// Queued replies beyond this size are written even if more input is buffered.
const WRITE_HIGH_WATER: usize = 32 * 1024;
/// How long the final flush and close may take once the session is over.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the stream could not be used any longer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnError {
    #[error("the client closed the connection")]
    Closed,
    #[error("the client was idle for too long")]
    Timeout,
    #[error("the command or transaction took too long")]
    Deadline,
    #[error("the client sent its message too slowly")]
    TooSlow,
    #[error("the server is shutting down")]
    Shutdown,
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// One complete command line, or the news that it was too long (and skipped).
pub(crate) enum Line {
    Complete(Vec<u8>),
    TooLong,
}

/// The client's stream with its input and output buffers.
pub(crate) struct Conn<S> {
    stream: S,
    input: Vec<u8>,
    consumed: usize,
    output: Vec<u8>,
    idle: Duration,
    shutdown: watch::Receiver<bool>,
    /// When the current command or transaction must be complete, whatever the
    /// pace of the reads (a client trickling one byte at a time is cut here).
    deadline: Option<Instant>,
    /// The rate kept while a message body is being read.
    body: Option<BodyPace>,
}

/// A minimum average rate for a message body, enforced after a grace period.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyPace {
    start: Instant,
    received: u64,
    min_rate: u64,
    grace: Duration,
}

impl BodyPace {
    /// A body whose first byte is awaited from now.
    pub(crate) fn new(min_rate: u64, grace: Duration) -> BodyPace {
        BodyPace { start: Instant::now(), received: 0, min_rate, grace }
    }

    /// The instant past which the average rate falls below the minimum if no
    /// more bytes arrive; `None` when no rate is required.
    fn due(&self) -> Option<Instant> {
        if self.min_rate == 0 {
            return None;
        }
        let earned = Duration::from_secs_f64(self.received as f64 / self.min_rate as f64);
        Some(self.start + self.grace.max(earned))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub(crate) fn new(stream: S, idle: Duration, shutdown: watch::Receiver<bool>) -> Self {
        Conn { stream, input: Vec::new(), consumed: 0, output: Vec::new(), idle, shutdown, deadline: None, body: None }
    }

    /// Sets (or lifts) the instant by which the current command or transaction must
    /// be complete.
    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Starts (or stops) enforcing a minimum rate on the bytes read.
    pub(crate) fn set_body_pace(&mut self, pace: Option<BodyPace>) {
        self.body = pace;
    }

    /// Input received but not consumed yet.
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.input[self.consumed..]
    }

    /// Marks `n` buffered bytes as used.
    pub(crate) fn consume(&mut self, n: usize) {
        self.consumed += n;
        debug_assert!(self.consumed <= self.input.len());
    }

    /// Queues a reply; it is written before the next blocking read.
    pub(crate) fn queue(&mut self, reply: &Reply) {
        reply.write_to(&mut self.output);
    }

    /// Writes the queued replies.
    pub(crate) async fn flush(&mut self) -> Result<(), ConnError> {
        if self.output.is_empty() {
            return Ok(());
        }
        let write = async {
            self.stream.write_all(&self.output).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.idle, write).await {
            Ok(result) => result?,
            Err(_) => return Err(ConnError::Timeout),
        }
        self.output.clear();
        Ok(())
    }

    /// Writes pending replies, then waits for more input (at least one byte).
    pub(crate) async fn fill(&mut self) -> Result<(), ConnError> {
        self.flush().await?;
        if self.consumed > 0 {
            self.input.drain(..self.consumed);
            self.consumed = 0;
        }
        // The read may wait for the idle timeout, but never past the command or
        // transaction deadline, nor past the time when the body's rate would fall
        // below its minimum.
        let now = Instant::now();
        let mut wait = self.idle;
        let mut on_timeout = ConnError::Timeout;
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(now);
            if left < wait {
                (wait, on_timeout) = (left, ConnError::Deadline);
            }
        }
        if let Some(due) = self.body.as_ref().and_then(BodyPace::due) {
            let left = due.saturating_duration_since(now);
            if left < wait {
                (wait, on_timeout) = (left, ConnError::TooSlow);
            }
        }
        if wait.is_zero() {
            return Err(on_timeout);
        }
        let start = self.input.len();
        self.input.resize(start + READ_CHUNK, 0);
        let Conn { stream, input, shutdown, .. } = self;
        let outcome = tokio::select! {
            biased;
            _ = wait_for_shutdown(shutdown) => Err(ConnError::Shutdown),
            read = tokio::time::timeout(wait, stream.read(&mut input[start..])) => match read {
                Err(_) => Err(on_timeout),
                Ok(Err(e)) => Err(ConnError::Io(e)),
                Ok(Ok(0)) => Err(ConnError::Closed),
                Ok(Ok(n)) => Ok(n),
            },
        };
        let n = outcome.as_ref().copied().unwrap_or(0);
        self.input.truncate(start + n);
        if let Some(pace) = self.body.as_mut() {
            pace.received += n as u64;
        }
        outcome.map(|_| ())
    }

    /// Reads one line ending in LF, of at most `max` bytes with its line ending.
    ///
    /// A longer line is read to its end and thrown away, so that the session can
    /// answer it and carry on with the next command.
    pub(crate) async fn read_line(&mut self, max: usize) -> Result<Line, ConnError> {
        if self.output.len() >= WRITE_HIGH_WATER {
            self.flush().await?;
        }
        loop {
            let pending = self.buffered();
            if let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                let line = (pos < max).then(|| pending[..=pos].to_vec());
                self.consume(pos + 1);
                return Ok(line.map_or(Line::TooLong, Line::Complete));
            }
            if pending.len() >= max {
                self.skip_line().await?;
                return Ok(Line::TooLong);
            }
            self.fill().await?;
        }
    }

    /// Discards input up to and including the next LF.
    async fn skip_line(&mut self) -> Result<(), ConnError> {
        loop {
            let pending = self.buffered();
            if let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                self.consume(pos + 1);
                return Ok(());
            }
            self.consume(pending.len());
            self.fill().await?;
        }
    }

    /// Passes exactly `n` input bytes to `take`, piece by piece, as they arrive.
    pub(crate) async fn read_exact_with(&mut self, mut n: usize, mut take: impl FnMut(&[u8])) -> Result<(), ConnError> {
        loop {
            let pending = self.buffered();
            let piece = pending.len().min(n);
            take(&pending[..piece]);
            self.consume(piece);
            n -= piece;
            if n == 0 {
                return Ok(());
            }
            self.fill().await?;
        }
    }

    /// Writes what is queued and closes the stream (sending TLS close_notify if any).
    pub(crate) async fn close(mut self) {
        let close = async {
            let _ = self.flush().await;
            let _ = self.stream.shutdown().await;
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, close).await;
    }

    /// Writes what is queued and gives the stream back, dropping any buffered input.
    ///
    /// Dropping the input is what STARTTLS needs: commands pipelined in clear text after
    /// it must never be executed inside the TLS session (RFC 3207, section 4.2).
    pub(crate) async fn into_stream(mut self) -> Result<(S, usize), ConnError> {
        self.flush().await?;
        let dropped = self.buffered().len();
        Ok((self.stream, dropped))
    }
}

/// Completes once shutdown is requested (or its sender is gone, which means the same).
pub(crate) async fn wait_for_shutdown(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|&stop| stop).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(input: &[u8]) -> Conn<io::Cursor<Vec<u8>>> {
        let (_tx, rx) = watch::channel(false);
        // The sender is dropped at once: that reads as a shutdown, so the tests below
        // only use input that is already buffered or an empty stream.
        let mut c = Conn::new(io::Cursor::new(Vec::new()), Duration::from_secs(1), rx);
        c.input = input.to_vec();
        c
    }

    #[tokio::test]
    async fn long_lines_are_skipped_whole() {
        let mut c = conn(b"0123456789\r\nNOOP\r\n");
        assert!(matches!(c.read_line(8).await.unwrap(), Line::TooLong));
        assert!(matches!(c.read_line(8).await.unwrap(), Line::Complete(l) if l == b"NOOP\r\n"));
    }

    #[tokio::test]
    async fn exact_reads_stop_at_the_count() {
        let mut c = conn(b"helloQUIT\r\n");
        let mut got = Vec::new();
        c.read_exact_with(5, |p| got.extend_from_slice(p)).await.unwrap();
        assert_eq!(got, b"hello");
        assert_eq!(c.buffered(), b"QUIT\r\n");
    }
}
