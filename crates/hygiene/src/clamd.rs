//! ClamAV's daemon, asked with `INSTREAM` (the message sent in chunks, each
//! after its length as four big-endian bytes, then four zero bytes) over TCP
//! or a Unix socket.
//!
//! Connections are kept: each is a clamd session (`IDSESSION`, where every
//! answer starts with the number of its request), used by one scan at a
//! time and put back for the next, so a busy MX does not open a connection
//! (and clamd does not accept one) per message. A kept connection that
//! clamd closed meanwhile (its `IdleTimeout`) is noticed by the scan that
//! takes it, which then asks again on a new one.
//!
//! Every exchange has one deadline ([`Clamd::timeout`]), messages larger
//! than [`Clamd::max_size`] are not sent (clamd would stop reading at its
//! own `StreamMaxLength` and could answer `OK` for what it did not see), and
//! the answer is read up to 4 KiB: a slow, silent, absent or babbling daemon
//! is a [`ScanError`], which the caller turns into a temporary refusal (or
//! an acceptance marked `unknown`, by policy).
//!
//! Files ([`Clamd::scan_file`], the shared files of the `sharing` domain) are
//! streamed from the disk chunk by chunk, never held in memory; their
//! deadline grows with their size, since clamd reads the whole stream
//! before it scans it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::{ErrorKind, Transience};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes sent per chunk.
const CHUNK: usize = 64 * 1024;
/// Longest answer read.
const MAX_ANSWER: usize = 4096;
/// Idle connections kept at most (more are closed after their scan).
const MAX_IDLE: usize = 32;
/// A connection idle longer is not reused: clamd's own `IdleTimeout`
/// (30 s by default) may have closed it.
const IDLE_FOR: Duration = Duration::from_secs(10);
/// A streamed file's deadline is [`Clamd::timeout`] plus one second per
/// this many bytes (2 GiB: 8 min 32 s more), for clamd to receive, store and
/// scan it.
const STREAM_BYTES_PER_SECOND: u64 = 4 << 20;

/// Where clamd listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// `host:port`.
    Tcp(String),
    Unix(PathBuf),
}

impl Address {
    /// `tcp:host:port`, `unix:/path` or an absolute path.
    pub fn parse(text: &str) -> Result<Address, String> {
        let text = text.trim();
        if let Some(hostport) = text.strip_prefix("tcp:") {
            let hostport = hostport.trim_start_matches("//");
            match hostport.rsplit_once(':') {
                Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                    Ok(Address::Tcp(hostport.to_owned()))
                }
                _ => Err(format!("« {text} » : attendu tcp:hôte:port / expected tcp:host:port")),
            }
        } else if let Some(path) = text.strip_prefix("unix:") {
            Ok(Address::Unix(PathBuf::from(path)))
        } else if text.starts_with('/') {
            Ok(Address::Unix(PathBuf::from(text)))
        } else {
            Err(format!(
                "« {text} » : attendu tcp:hôte:port ou un chemin absolu / expected tcp:host:port or an absolute path"
            ))
        }
    }
}

/// A clamd to ask, with the connections it keeps.
#[derive(Debug, Clone)]
pub struct Clamd {
    pub address: Address,
    /// For the whole exchange: connection, sending, answer.
    pub timeout: Duration,
    /// Larger messages are not scanned (a [`ScanError::TooBig`]).
    pub max_size: usize,
    idle: Arc<Mutex<Vec<Session>>>,
}

/// Two clamds are the same when they are configured alike (whatever
/// connections each holds).
impl PartialEq for Clamd {
    fn eq(&self, other: &Clamd) -> bool {
        (&self.address, self.timeout, self.max_size) == (&other.address, other.timeout, other.max_size)
    }
}

impl Eq for Clamd {}

impl Clamd {
    pub fn new(address: Address) -> Clamd {
        Clamd { address, timeout: Duration::from_secs(30), max_size: 25 * 1024 * 1024, idle: Arc::default() }
    }

    pub fn with_timeout(self, timeout: Duration) -> Clamd {
        Clamd { timeout, ..self }
    }

    /// The largest stream sent, which must not exceed clamd's own
    /// `StreamMaxLength` (past it clamd stops reading and answers an error).
    pub fn with_max_size(self, max_size: usize) -> Clamd {
        Clamd { max_size, ..self }
    }

    /// Connections kept for the next scans.
    pub fn idle_connections(&self) -> usize {
        self.idle.lock().map(|idle| idle.len()).unwrap_or(0)
    }
}

/// A byte stream to clamd (TCP or Unix).
trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// One clamd session (`IDSESSION`) and the number its next request gets.
struct Session {
    stream: Box<dyn Stream>,
    next: u64,
    since: Instant,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("next", &self.next).finish_non_exhaustive()
    }
}

/// What clamd found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    Clean,
    /// The signature's name (for the log, never for the sender).
    Infected(String),
}

/// Why there is no answer.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("clamd unreachable: {0}")]
    Unreachable(std::io::Error),
    #[error("clamd did not answer in time")]
    Timeout,
    #[error("message of {0} bytes over the scanning limit")]
    TooBig(usize),
    #[error("clamd reported an error: {0}")]
    Failed(String),
    #[error("clamd answered something unexpected: {0:?}")]
    Garbage(String),
    /// clamd closed the connection without a word (a kept connection it
    /// timed out: the scan asks again on a new one).
    #[error("clamd closed the connection")]
    Closed,
    /// The file to scan could not be read.
    #[error("could not read what to scan: {0}")]
    Read(std::io::Error),
}

impl ScanError {
    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            ScanError::Unreachable(_) => "unreachable",
            ScanError::Timeout => "timeout",
            ScanError::TooBig(_) => "too_big",
            ScanError::Failed(_) => "error",
            ScanError::Garbage(_) => "garbage",
            ScanError::Closed => "closed",
            ScanError::Read(_) => "read",
        }
    }
}

impl ErrorKind for ScanError {
    fn transience(&self) -> Transience {
        match self {
            ScanError::TooBig(_) => Transience::Permanent,
            _ => Transience::Temporary,
        }
    }
}

impl Clamd {
    /// Scans `data`, within [`Clamd::timeout`]. A failure is logged loudly
    /// and counted (`ardoise_clamd_failures_total`), a virus counted
    /// (`ardoise_viruses_total`) and its signature logged.
    pub async fn scan(&self, data: &[u8]) -> Result<Scan, ScanError> {
        let result = if data.len() > self.max_size {
            Err(ScanError::TooBig(data.len()))
        } else {
            self.ask(self.timeout, || async { Ok(data) }).await
        };
        self.report(&result, data.len() as u64);
        result
    }

    /// Scans the file at `path`, streamed from the disk in chunks (never
    /// held in memory), within [`Clamd::timeout`] plus one second per 4 MiB.
    /// A file larger than [`Clamd::max_size`] is [`ScanError::TooBig`]
    /// without a byte sent. Logged and counted like [`Clamd::scan`].
    pub async fn scan_file(&self, path: &Path) -> Result<Scan, ScanError> {
        let (result, size) = match tokio::fs::metadata(path).await {
            Err(e) => (Err(ScanError::Read(e)), 0),
            Ok(meta) if meta.len() > self.max_size as u64 => {
                (Err(ScanError::TooBig(usize::try_from(meta.len()).unwrap_or(usize::MAX))), meta.len())
            }
            Ok(meta) => {
                let deadline = self.timeout + Duration::from_secs(meta.len() / STREAM_BYTES_PER_SECOND);
                (self.ask(deadline, || async { tokio::fs::File::open(path).await }).await, meta.len())
            }
        };
        self.report(&result, size);
        result
    }

    /// Logs and counts a scan's outcome.
    fn report(&self, result: &Result<Scan, ScanError>, size: u64) {
        match result {
            Ok(Scan::Clean) => {}
            Ok(Scan::Infected(signature)) => {
                metrics::counter!("ardoise_viruses_total").increment(1);
                tracing::warn!(%signature, size, "clamd: virus found");
            }
            Err(error) => {
                metrics::counter!("ardoise_clamd_failures_total", "reason" => error.label()).increment(1);
                tracing::error!(%error, address = ?self.address, "clamd: NO VIRUS SCAN, clamd failed");
            }
        }
    }

    /// One `INSTREAM` of what `open` reads (opened again when a kept
    /// connection turns out closed), within `deadline`.
    async fn ask<R, F, Fut>(&self, deadline: Duration, open: F) -> Result<Scan, ScanError>
    where
        R: AsyncRead + Unpin,
        F: Fn() -> Fut,
        Fut: Future<Output = std::io::Result<R>>,
    {
        let exchange = async {
            // A kept connection first; if clamd closed it meanwhile (no
            // answer at all), once more on a new one.
            if let Some(mut session) = self.take_idle() {
                let data = open().await.map_err(ScanError::Read)?;
                match session_instream(&mut session, data, self.max_size).await {
                    Ok(scan) => {
                        self.keep(session);
                        return Ok(scan);
                    }
                    Err(ScanError::Unreachable(_) | ScanError::Closed) => {}
                    Err(e) => return Err(e),
                }
            }
            let mut session = self.connect().await?;
            let data = open().await.map_err(ScanError::Read)?;
            let scan = session_instream(&mut session, data, self.max_size).await?;
            self.keep(session);
            Ok(scan)
        };
        tokio::time::timeout(deadline, exchange).await.map_err(|_| ScanError::Timeout)?
    }

    /// A new connection, in a session.
    async fn connect(&self) -> Result<Session, ScanError> {
        let mut stream: Box<dyn Stream> = match &self.address {
            Address::Tcp(hostport) => {
                let stream = tokio::net::TcpStream::connect(hostport).await.map_err(ScanError::Unreachable)?;
                let _ = stream.set_nodelay(true);
                Box::new(stream)
            }
            Address::Unix(path) => {
                Box::new(tokio::net::UnixStream::connect(path).await.map_err(ScanError::Unreachable)?)
            }
        };
        stream.write_all(b"zIDSESSION\0").await.map_err(ScanError::Unreachable)?;
        Ok(Session { stream, next: 1, since: Instant::now() })
    }

    /// The most recently used idle connection young enough to trust; older
    /// ones are closed.
    fn take_idle(&self) -> Option<Session> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(session) = idle.pop() {
            if session.since.elapsed() < IDLE_FOR {
                return Some(session);
            }
        }
        None
    }

    fn keep(&self, mut session: Session) {
        session.since = Instant::now();
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(session);
        }
    }
}

/// One `INSTREAM` request in a session: the answer must carry the
/// request's number. [`ScanError::Closed`] when clamd closed the connection
/// before answering anything.
async fn session_instream<R: AsyncRead + Unpin>(
    session: &mut Session,
    data: R,
    max_size: usize,
) -> Result<Scan, ScanError> {
    let id = session.next;
    session.next += 1;
    let answer = exchange(&mut session.stream, data, max_size).await?;
    if answer.is_empty() {
        return Err(ScanError::Closed);
    }
    let prefix = format!("{id}: ");
    match answer.strip_prefix(prefix.as_bytes()) {
        Some(rest) => parse_answer(rest),
        None => Err(ScanError::Garbage(printable(&answer))),
    }
}

/// One `INSTREAM` exchange on a connected stream, outside any session.
pub async fn instream<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, data: &[u8]) -> Result<Scan, ScanError> {
    parse_answer(&exchange(&mut stream, data, usize::MAX).await?)
}

/// Sends what `data` reads with `INSTREAM`, in chunks of at most 64 KiB, and
/// reads the answer, up to its NUL. More than `max_size` bytes (a file that
/// grew since it was measured) is [`ScanError::TooBig`].
async fn exchange<S: AsyncRead + AsyncWrite + Unpin + ?Sized, R: AsyncRead + Unpin>(
    stream: &mut S,
    mut data: R,
    max_size: usize,
) -> Result<Vec<u8>, ScanError> {
    let io = ScanError::Unreachable;
    stream.write_all(b"zINSTREAM\0").await.map_err(io)?;
    let mut chunk = vec![0u8; CHUNK];
    let mut sent = 0usize;
    loop {
        // A full chunk when the source has it (a file gives less per read).
        let mut filled = 0;
        while filled < CHUNK {
            let n = data.read(&mut chunk[filled..]).await.map_err(ScanError::Read)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        sent += filled;
        if sent > max_size {
            return Err(ScanError::TooBig(sent));
        }
        let len = u32::try_from(filled).unwrap_or(u32::MAX).to_be_bytes();
        stream.write_all(&len).await.map_err(io)?;
        stream.write_all(&chunk[..filled]).await.map_err(io)?;
    }
    stream.write_all(&[0, 0, 0, 0]).await.map_err(io)?;
    stream.flush().await.map_err(io)?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = stream.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.contains(&0) || answer.len() >= MAX_ANSWER {
            break;
        }
    }
    Ok(answer)
}

fn printable(answer: &[u8]) -> String {
    String::from_utf8_lossy(answer).chars().take(200).map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// `stream: OK`, `stream: <name> FOUND`, `<text> ERROR`; anything else is
/// garbage.
pub fn parse_answer(answer: &[u8]) -> Result<Scan, ScanError> {
    let end = answer.iter().position(|b| *b == 0).unwrap_or(answer.len()).min(MAX_ANSWER);
    let text = String::from_utf8_lossy(&answer[..end]);
    let text = text.trim();
    let printable: String = text.chars().take(200).map(|c| if c.is_control() { '?' } else { c }).collect();
    if let Some(rest) = text.strip_suffix(" ERROR") {
        return Err(ScanError::Failed(rest.chars().take(200).collect()));
    }
    let Some(result) = text.strip_prefix("stream:").map(str::trim) else {
        return Err(ScanError::Garbage(printable));
    };
    if result == "OK" {
        return Ok(Scan::Clean);
    }
    match result.strip_suffix(" FOUND") {
        Some(name) if !name.trim().is_empty() && name.len() <= 200 => {
            Ok(Scan::Infected(name.trim().chars().filter(|c| !c.is_control()).collect()))
        }
        _ => Err(ScanError::Garbage(printable)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn addresses() {
        assert_eq!(Address::parse("tcp:127.0.0.1:3310"), Ok(Address::Tcp("127.0.0.1:3310".into())));
        assert_eq!(Address::parse("/run/clamav/clamd.ctl"), Ok(Address::Unix("/run/clamav/clamd.ctl".into())));
        assert_eq!(Address::parse("unix:/x"), Ok(Address::Unix("/x".into())));
        assert!(Address::parse("tcp:nohost").is_err());
        assert!(Address::parse("clamd").is_err());
    }

    #[test]
    fn answers() {
        assert_eq!(parse_answer(b"stream: OK\0").unwrap(), Scan::Clean);
        assert_eq!(parse_answer(b"stream: Eicar-Signature FOUND\0").unwrap(), Scan::Infected("Eicar-Signature".into()));
        assert!(matches!(parse_answer(b"INSTREAM size limit exceeded. ERROR\0"), Err(ScanError::Failed(_))));
        assert!(matches!(parse_answer(b"\xff\xfe garbage"), Err(ScanError::Garbage(_))));
        assert!(matches!(parse_answer(b""), Err(ScanError::Garbage(_))));
        assert!(matches!(parse_answer(b"stream:  FOUND"), Err(ScanError::Garbage(_))));
    }

    /// A fake clamd: accepts connections one after the other; in each,
    /// reads `IDSESSION` (or a lone `INSTREAM`), then answers every
    /// `INSTREAM` with `answer` after `delay` (numbered inside a session),
    /// closing the connection after `per_connection` requests. Returns
    /// the address, the bytes scanned and the number of connections.
    async fn fake(
        answer: &'static [u8],
        delay: Duration,
        per_connection: usize,
    ) -> (String, Arc<Mutex<(Vec<Vec<u8>>, usize)>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen: Arc<Mutex<(Vec<Vec<u8>>, usize)>> = Arc::default();
        let record = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else { return };
                record.lock().unwrap().1 += 1;
                let mut command = [0u8; 10];
                if s.read_exact(&mut command).await.is_err() {
                    continue;
                }
                let session = &command == b"zIDSESSION";
                if session {
                    let mut nul = [0u8; 1];
                    s.read_exact(&mut nul).await.unwrap();
                }
                for id in 1..=per_connection {
                    if session {
                        let mut command = [0u8; 10];
                        if s.read_exact(&mut command).await.is_err() {
                            break;
                        }
                        assert_eq!(&command, b"zINSTREAM\0");
                    } else {
                        assert_eq!(&command, b"zINSTREAM\0");
                    }
                    let mut got = Vec::new();
                    loop {
                        let mut len = [0u8; 4];
                        s.read_exact(&mut len).await.unwrap();
                        let len = u32::from_be_bytes(len) as usize;
                        if len == 0 {
                            break;
                        }
                        let mut chunk = vec![0; len];
                        s.read_exact(&mut chunk).await.unwrap();
                        got.extend(chunk);
                    }
                    record.lock().unwrap().0.push(got);
                    tokio::time::sleep(delay).await;
                    let numbered = if session { format!("{id}: ").into_bytes() } else { Vec::new() };
                    let _ = s.write_all(&[numbered.as_slice(), answer].concat()).await;
                    if !session {
                        break;
                    }
                }
            }
        });
        (addr, seen)
    }

    #[tokio::test]
    async fn a_whole_exchange_over_tcp() {
        let (addr, seen) = fake(b"stream: Ardoise.Test.Signature FOUND\0", Duration::ZERO, 10).await;
        let clamd = Clamd::new(Address::Tcp(addr));
        let data = vec![b'x'; 3 * CHUNK + 17];
        assert_eq!(clamd.scan(&data).await.unwrap(), Scan::Infected("Ardoise.Test.Signature".into()));
        assert_eq!(seen.lock().unwrap().0, vec![data]);
    }

    #[tokio::test]
    async fn a_file_is_streamed_from_the_disk() {
        let (addr, seen) = fake(b"stream: OK\0", Duration::ZERO, 10).await;
        let clamd = Clamd::new(Address::Tcp(addr));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rapport.bin");
        let data: Vec<u8> = (0..5 * CHUNK + 4093).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        assert_eq!(clamd.scan_file(&path).await.unwrap(), Scan::Clean);
        // On the same kept connection, a second file and a message.
        std::fs::write(&path, b"second").unwrap();
        assert_eq!(clamd.scan_file(&path).await.unwrap(), Scan::Clean);
        assert_eq!(clamd.scan(b"third").await.unwrap(), Scan::Clean);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.0, vec![data, b"second".to_vec(), b"third".to_vec()]);
        assert_eq!(seen.1, 1);
    }

    #[tokio::test]
    async fn a_file_over_the_limit_or_missing_is_not_sent() {
        let (addr, seen) = fake(b"stream: OK\0", Duration::ZERO, 10).await;
        let clamd = Clamd::new(Address::Tcp(addr)).with_max_size(1000);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gros.bin");
        std::fs::write(&path, vec![b'x'; 1001]).unwrap();
        let err = clamd.scan_file(&path).await.unwrap_err();
        assert!(matches!(err, ScanError::TooBig(1001)), "{err:?}");
        assert_eq!(err.transience(), Transience::Permanent);
        let err = clamd.scan_file(&dir.path().join("absent")).await.unwrap_err();
        assert!(matches!(err, ScanError::Read(_)), "{err:?}");
        assert_eq!(err.transience(), Transience::Temporary);
        std::fs::write(&path, vec![b'x'; 1000]).unwrap();
        assert_eq!(clamd.scan_file(&path).await.unwrap(), Scan::Clean, "at the limit exactly");
        assert_eq!(seen.lock().unwrap().0.len(), 1, "only the file within the limit was sent");
    }

    #[tokio::test]
    async fn one_connection_serves_scan_after_scan() {
        let (addr, seen) = fake(b"stream: OK\0", Duration::ZERO, 100).await;
        let clamd = Clamd::new(Address::Tcp(addr));
        for i in 0..5u8 {
            assert_eq!(clamd.scan(&[i; 100]).await.unwrap(), Scan::Clean);
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen.0.len(), 5);
        assert_eq!(seen.1, 1, "five scans, one connection");
        assert_eq!(clamd.idle_connections(), 1);
    }

    #[tokio::test]
    async fn a_connection_clamd_closed_is_replaced() {
        // clamd ends each session after two requests (as its IdleTimeout
        // would): the third scan finds the kept connection closed and asks
        // again on a new one.
        let (addr, seen) = fake(b"stream: OK\0", Duration::ZERO, 2).await;
        let clamd = Clamd::new(Address::Tcp(addr));
        for i in 0..5u8 {
            assert_eq!(clamd.scan(&[i; 10]).await.unwrap(), Scan::Clean, "scan {i}");
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen.0.len(), 5, "every message scanned once");
        assert_eq!(seen.1, 3);
    }

    #[tokio::test]
    async fn an_answer_to_another_request_is_garbage() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 11 + 10 + 4 + 1 + 4];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(b"7: stream: OK\0").await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let err = Clamd::new(Address::Tcp(addr)).scan(b"x").await.unwrap_err();
        assert!(matches!(err, ScanError::Garbage(_)), "{err:?}");
    }

    #[tokio::test]
    async fn slow_absent_babbling_or_oversized_is_an_error() {
        let (addr, _seen) = fake(b"stream: OK\0", Duration::from_secs(5), 10).await;
        let clamd = Clamd::new(Address::Tcp(addr)).with_timeout(Duration::from_millis(200));
        assert!(matches!(clamd.scan(b"x").await, Err(ScanError::Timeout)));
        assert_eq!(clamd.idle_connections(), 0, "an exchange cut short is not kept");

        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = closed.local_addr().unwrap().to_string();
        drop(closed);
        let clamd = Clamd::new(Address::Tcp(addr));
        let err = clamd.scan(b"x").await.unwrap_err();
        assert!(matches!(err, ScanError::Unreachable(_)), "{err:?}");
        assert_eq!(err.transience(), Transience::Temporary);

        let (addr, _seen) = fake(b"HTTP/1.1 400 Bad Request\r\n\r\n", Duration::ZERO, 1).await;
        assert!(matches!(Clamd::new(Address::Tcp(addr)).scan(b"x").await, Err(ScanError::Garbage(_))));

        let small = Clamd { max_size: 4, ..Clamd::new(Address::Tcp("127.0.0.1:9".into())) };
        assert!(matches!(small.scan(b"12345").await, Err(ScanError::TooBig(5))));
    }
}
