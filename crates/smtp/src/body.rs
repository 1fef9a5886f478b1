//! Where a message body waits while it arrives: in memory while it is small,
//! in a temporary file past a threshold, and under one memory budget shared by
//! every SMTP session of the process.
//!
//! Without this, each connection could make the server hold a whole message
//! (up to the size limit) in memory before the final dot, so thirty clients
//! that never finish their DATA could take gigabytes. Bodies still under the
//! threshold are charged to the [`BodyBudget`]; a body that crosses the
//! threshold, or that cannot get more budget, moves to an unnamed temporary
//! file (deleted by the kernel when closed, so a crash leaves nothing) and
//! gives its memory back. The complete message is read back into memory only
//! for its delivery, charged to the budget too: when that charge cannot be
//! had, the client hears `452 4.3.1` and retries later.

use std::fmt;
use std::io::{self, SeekFrom};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};

use crate::SmtpConfig;
use crate::conn::{BodyPace, Conn, ConnError};
use crate::data::DotDecoder;

/// Bytes of message bodies held in memory, shared by every session.
pub struct BodyBudget {
    limit: usize,
    used: Mutex<usize>,
}

impl fmt::Debug for BodyBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyBudget").field("limit", &self.limit).field("used", &self.used()).finish()
    }
}

impl BodyBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<BodyBudget> {
        Arc::new(BodyBudget { limit, used: Mutex::new(0) })
    }

    /// Bytes currently charged.
    pub fn used(&self) -> usize {
        *self.used.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether nothing at all is left.
    pub(crate) fn spent(&self) -> bool {
        self.used() >= self.limit
    }

    fn take(&self, n: usize) -> bool {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if used.saturating_add(n) > self.limit {
            return false;
        }
        *used += n;
        true
    }

    fn give(&self, n: usize) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(n);
    }
}

/// Budget held by one body or message; given back when dropped.
#[derive(Debug)]
pub(crate) struct Charge {
    budget: Arc<BodyBudget>,
    bytes: usize,
}

impl Charge {
    pub(crate) fn none(budget: &Arc<BodyBudget>) -> Charge {
        Charge { budget: budget.clone(), bytes: 0 }
    }

    /// Takes `n` more bytes of budget, if there are.
    pub(crate) fn grow(&mut self, n: usize) -> bool {
        let ok = self.budget.take(n);
        if ok {
            self.bytes += n;
        }
        ok
    }

    fn release(&mut self) {
        self.budget.give(self.bytes);
        self.bytes = 0;
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.release();
    }
}

/// Why a body could not be kept.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SpoolError {
    /// The memory budget cannot hold the complete message now.
    #[error("memory budget for message bodies spent")]
    Busy,
    /// The temporary file could not be written or read.
    #[error("temporary file: {0}")]
    Io(#[from] io::Error),
}

/// Where bodies go and how much of them stays in memory.
#[derive(Debug, Clone)]
pub(crate) struct SpoolSettings {
    pub(crate) budget: Arc<BodyBudget>,
    /// Folder of the temporary files (the system's when `None`).
    pub(crate) dir: Option<PathBuf>,
    /// Largest body kept in memory while it arrives.
    pub(crate) threshold: usize,
    /// Largest body kept at all; past it the body is dropped and reading goes on.
    pub(crate) limit: usize,
}

/// One body as it arrives.
pub(crate) struct Spool {
    settings: SpoolSettings,
    memory: Vec<u8>,
    charge: Charge,
    file: Option<tokio::fs::File>,
    len: usize,
    too_big: bool,
    failed: Option<io::Error>,
}

impl Spool {
    pub(crate) fn new(settings: SpoolSettings) -> Spool {
        let charge = Charge::none(&settings.budget);
        Spool { settings, memory: Vec::new(), charge, file: None, len: 0, too_big: false, failed: None }
    }

    /// Whether the body went over the size limit (and was dropped).
    pub(crate) fn too_big(&self) -> bool {
        self.too_big
    }

    /// Appends decoded body bytes. A write error is kept and reported by
    /// [`Spool::finish`], so that the session still reads the client's data
    /// to its end.
    pub(crate) async fn write(&mut self, bytes: &[u8]) {
        if bytes.is_empty() || self.too_big || self.failed.is_some() {
            return;
        }
        if self.len + bytes.len() > self.settings.limit {
            self.too_big = true;
            self.memory = Vec::new();
            self.charge.release();
            self.file = None;
            return;
        }
        self.len += bytes.len();
        if self.file.is_none() {
            let fits = self.memory.len() + bytes.len() <= self.settings.threshold;
            if fits && self.charge.grow(bytes.len()) {
                self.memory.extend_from_slice(bytes);
                return;
            }
            if let Err(error) = self.spill().await {
                self.failed = Some(error);
                return;
            }
        }
        if let Some(file) = self.file.as_mut()
            && let Err(error) = file.write_all(bytes).await
        {
            self.failed = Some(error);
        }
    }

    /// Moves what is in memory to a new temporary file.
    async fn spill(&mut self) -> io::Result<()> {
        let dir = self.settings.dir.clone().unwrap_or_else(std::env::temp_dir);
        let file = tokio::task::spawn_blocking(move || tempfile::tempfile_in(dir))
            .await
            .map_err(|e| io::Error::other(e.to_string()))??;
        let mut file = tokio::fs::File::from_std(file);
        file.write_all(&self.memory).await?;
        self.memory = Vec::new();
        self.charge.release();
        self.file = Some(file);
        Ok(())
    }

    /// The complete message: `header` then the body, in memory and charged to
    /// the budget until the returned [`Charge`] is dropped.
    pub(crate) async fn finish(mut self, header: &[u8]) -> Result<(Vec<u8>, Charge), SpoolError> {
        if let Some(error) = self.failed.take() {
            return Err(error.into());
        }
        let total = header.len() + self.len;
        // The message is charged as a whole; the charge of a body still in memory is
        // given back first, so that a small message never competes with itself.
        self.charge.release();
        let mut charge = Charge::none(&self.settings.budget);
        if !charge.grow(total) {
            return Err(SpoolError::Busy);
        }
        let mut message = Vec::with_capacity(total);
        message.extend_from_slice(header);
        match self.file.take() {
            None => message.extend_from_slice(&self.memory),
            Some(mut file) => {
                file.flush().await?;
                file.seek(SeekFrom::Start(0)).await?;
                file.read_to_end(&mut message).await?;
            }
        }
        Ok((message, charge))
    }
}

/// Reads a DATA body up to its terminating dot into a new spool, under the
/// transaction's `deadline` and the configured minimum rate.
pub(crate) async fn read_dot_body<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    cfg: &SmtpConfig,
    deadline: tokio::time::Instant,
) -> Result<Spool, ConnError> {
    let mut spool = Spool::new(cfg.spool_settings());
    let mut decoder = DotDecoder::new();
    let mut decoded = Vec::new();
    conn.set_deadline(Some(deadline));
    conn.set_body_pace(Some(BodyPace::new(cfg.data_min_rate, cfg.data_grace)));
    loop {
        decoded.clear();
        let (used, done) = decoder.feed(conn.buffered(), &mut decoded);
        conn.consume(used);
        spool.write(&decoded).await;
        if done {
            break;
        }
        conn.fill().await?;
    }
    conn.set_body_pace(None);
    Ok(spool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(budget: usize, threshold: usize, limit: usize) -> SpoolSettings {
        SpoolSettings { budget: BodyBudget::new(budget), dir: None, threshold, limit }
    }

    #[tokio::test]
    async fn small_bodies_stay_in_memory_and_are_charged() {
        let s = settings(1000, 100, 10_000);
        let mut spool = Spool::new(s.clone());
        spool.write(b"hello ").await;
        spool.write(b"world").await;
        assert!(spool.file.is_none());
        assert_eq!(s.budget.used(), 11);
        let (message, charge) = spool.finish(b"H: 1\r\n").await.unwrap();
        assert_eq!(message, b"H: 1\r\nhello world");
        assert_eq!(s.budget.used(), 17, "only the message is charged once the spool is gone");
        drop(charge);
        assert_eq!(s.budget.used(), 0);
    }

    #[tokio::test]
    async fn large_bodies_go_to_a_file_and_free_their_memory() {
        let s = settings(1000, 100, 100_000);
        let mut spool = Spool::new(s.clone());
        let piece = [b'x'; 60];
        for _ in 0..10 {
            spool.write(&piece).await;
        }
        assert!(spool.file.is_some());
        assert_eq!(s.budget.used(), 0, "a body on disk holds no budget");
        let (message, _charge) = spool.finish(b"").await.unwrap();
        assert_eq!(message.len(), 600);
        assert!(message.iter().all(|&b| b == b'x'));
    }

    #[tokio::test]
    async fn a_spent_budget_sends_bodies_to_disk_and_refuses_to_load_them() {
        let s = settings(50, 100, 100_000);
        let _held = {
            let mut c = Charge::none(&s.budget);
            assert!(c.grow(50));
            c
        };
        let mut spool = Spool::new(s.clone());
        spool.write(b"abc").await;
        assert!(spool.file.is_some(), "no budget: to disk at once");
        assert!(matches!(spool.finish(b"").await, Err(SpoolError::Busy)));
    }

    #[tokio::test]
    async fn over_the_limit_keeps_nothing() {
        let s = settings(1000, 4, 10);
        let mut spool = Spool::new(s.clone());
        spool.write(b"0123456").await;
        spool.write(b"789ab").await;
        assert!(spool.too_big());
        assert_eq!(s.budget.used(), 0);
    }
}
