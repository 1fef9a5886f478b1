//! ClamAV's daemon, asked with `INSTREAM` (the message sent in chunks, each
//! after its length as four big-endian bytes, then four zero bytes) over TCP
//! or a Unix socket.
//!
//! Every exchange has one deadline ([`Clamd::timeout`]), messages larger
//! than [`Clamd::max_size`] are not sent (clamd would stop reading at its
//! own `StreamMaxLength` and could answer `OK` for what it did not see), and
//! the answer is read up to 4 KiB: a slow, silent, absent or babbling daemon
//! is a [`ScanError`], which the caller turns into a temporary refusal (or
//! an acceptance marked `unknown`, by policy).

use std::path::PathBuf;
use std::time::Duration;

use model::{ErrorKind, Transience};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes sent per chunk.
const CHUNK: usize = 64 * 1024;
/// Longest answer read.
const MAX_ANSWER: usize = 4096;

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

/// A clamd to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clamd {
    pub address: Address,
    /// For the whole exchange: connection, sending, answer.
    pub timeout: Duration,
    /// Larger messages are not scanned (a [`ScanError::TooBig`]).
    pub max_size: usize,
}

impl Clamd {
    pub fn new(address: Address) -> Clamd {
        Clamd { address, timeout: Duration::from_secs(30), max_size: 25 * 1024 * 1024 }
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
        let result = self.ask(data).await;
        match &result {
            Ok(Scan::Clean) => {}
            Ok(Scan::Infected(signature)) => {
                metrics::counter!("ardoise_viruses_total").increment(1);
                tracing::warn!(%signature, size = data.len(), "clamd: virus found");
            }
            Err(error) => {
                metrics::counter!("ardoise_clamd_failures_total", "reason" => error.label()).increment(1);
                tracing::error!(%error, address = ?self.address, "clamd: NO VIRUS SCAN, clamd failed");
            }
        }
        result
    }

    async fn ask(&self, data: &[u8]) -> Result<Scan, ScanError> {
        if data.len() > self.max_size {
            return Err(ScanError::TooBig(data.len()));
        }
        let exchange = async {
            match &self.address {
                Address::Tcp(hostport) => {
                    let stream = tokio::net::TcpStream::connect(hostport).await.map_err(ScanError::Unreachable)?;
                    instream(stream, data).await
                }
                Address::Unix(path) => {
                    let stream = tokio::net::UnixStream::connect(path).await.map_err(ScanError::Unreachable)?;
                    instream(stream, data).await
                }
            }
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| ScanError::Timeout)?
    }
}

/// One `INSTREAM` exchange on a connected stream.
pub async fn instream<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, data: &[u8]) -> Result<Scan, ScanError> {
    let io = ScanError::Unreachable;
    stream.write_all(b"zINSTREAM\0").await.map_err(io)?;
    for chunk in data.chunks(CHUNK) {
        let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX).to_be_bytes();
        stream.write_all(&len).await.map_err(io)?;
        stream.write_all(chunk).await.map_err(io)?;
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
    parse_answer(&answer)
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

    /// A fake clamd that reads one INSTREAM and answers `answer` after `delay`.
    async fn fake(answer: &'static [u8], delay: Duration) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut command = [0u8; 10];
            s.read_exact(&mut command).await.unwrap();
            assert_eq!(&command, b"zINSTREAM\0");
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
            tokio::time::sleep(delay).await;
            let _ = s.write_all(answer).await;
            got
        });
        (addr, task)
    }

    #[tokio::test]
    async fn a_whole_exchange_over_tcp() {
        let (addr, task) = fake(b"stream: Ardoise.Test.Signature FOUND\0", Duration::ZERO).await;
        let clamd = Clamd::new(Address::Tcp(addr));
        let data = vec![b'x'; 3 * CHUNK + 17];
        assert_eq!(clamd.scan(&data).await.unwrap(), Scan::Infected("Ardoise.Test.Signature".into()));
        assert_eq!(task.await.unwrap(), data);
    }

    #[tokio::test]
    async fn slow_absent_babbling_or_oversized_is_an_error() {
        let (addr, _task) = fake(b"stream: OK\0", Duration::from_secs(5)).await;
        let clamd = Clamd { timeout: Duration::from_millis(200), ..Clamd::new(Address::Tcp(addr)) };
        assert!(matches!(clamd.scan(b"x").await, Err(ScanError::Timeout)));

        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = closed.local_addr().unwrap().to_string();
        drop(closed);
        let clamd = Clamd::new(Address::Tcp(addr));
        let err = clamd.scan(b"x").await.unwrap_err();
        assert!(matches!(err, ScanError::Unreachable(_)), "{err:?}");
        assert_eq!(err.transience(), Transience::Temporary);

        let (addr, _task) = fake(b"HTTP/1.1 400 Bad Request\r\n\r\n", Duration::ZERO).await;
        assert!(matches!(Clamd::new(Address::Tcp(addr)).scan(b"x").await, Err(ScanError::Garbage(_))));

        let small = Clamd { max_size: 4, ..Clamd::new(Address::Tcp("127.0.0.1:9".into())) };
        assert!(matches!(small.scan(b"12345").await, Err(ScanError::TooBig(5))));
    }
}
