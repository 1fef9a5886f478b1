//! The outbound SMTP client: sessions with remote servers, one transaction
//! at a time.
//!
//! A [`Session`] is opened once (greeting, EHLO, STARTTLS when offered) and
//! may carry several transactions: after a transaction that ended cleanly
//! the runner keeps it in [`crate::pool::Sessions`] for the next message to
//! the same server, as Postfix's connection cache does.
//!
//! Opportunistic TLS: STARTTLS is used when the server offers it, without
//! checking the certificate (RFC 7435: an unauthenticated encrypted channel
//! beats clear text, and most MX certificates would not match anyway). If the
//! handshake fails, the caller may try again in clear text.
//!
//! The result is per recipient: a 250 to the final dot marks every accepted
//! recipient as sent, a refused RCPT keeps its own code. Connection problems
//! (refused, timeout, garbage, a close in the middle) are temporary for every
//! recipient. Replies are read with a line and a line-count limit, so a
//! hostile server cannot make us hold unbounded input.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest reply line we read.
const MAX_REPLY_LINE: usize = 4096;
/// Most lines in one reply.
const MAX_REPLY_LINES: usize = 100;

/// What to send.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    /// Our name for EHLO.
    pub helo: &'a str,
    /// The envelope sender (empty for `<>`).
    pub sender: &'a str,
    pub recipients: &'a [String],
    pub message: &'a [u8],
}

/// A remote server's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    /// The whole reply on one line, as recorded in the queue and in bounces.
    pub fn line(&self) -> String {
        format!("{} {}", self.code, self.text)
    }
}

/// The fate of one recipient in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted: the server took responsibility for it.
    Sent,
    /// Refused for now: try again later.
    Deferred(String),
    /// Refused for good.
    Failed(String),
}

impl Outcome {
    fn of(reply: &Reply) -> Outcome {
        match reply.code {
            200..=299 => Outcome::Sent,
            500..=599 => Outcome::Failed(reply.line()),
            _ => Outcome::Deferred(reply.line()),
        }
    }
}

/// Why a session failed as a whole (every recipient is deferred).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("connection failed: {0}")]
    Connect(std::io::Error),
    #[error("timed out")]
    Timeout,
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server closed the connection")]
    Closed,
    #[error("unreadable reply from the server")]
    Garbage,
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
    #[error("server refused the session: {}", .0.line())]
    Refused(Reply),
}

/// A byte stream to a server: TCP, or TLS over TCP.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Talks to one server over any stream.
struct Wire<S> {
    stream: S,
    input: Vec<u8>,
    timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    fn new(stream: S, timeout: Duration) -> Self {
        Wire { stream, input: Vec::new(), timeout }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        let write = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        tokio::time::timeout(self.timeout, write).await.map_err(|_| SessionError::Timeout)??;
        Ok(())
    }

    async fn line(&mut self) -> Result<String, SessionError> {
        loop {
            if let Some(pos) = self.input.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.input.drain(..=pos).collect();
                let text = String::from_utf8_lossy(&line);
                return Ok(text.trim_end_matches(['\r', '\n']).to_owned());
            }
            if self.input.len() > MAX_REPLY_LINE {
                return Err(SessionError::Garbage);
            }
            let mut buf = [0u8; 4096];
            let n = tokio::time::timeout(self.timeout, self.stream.read(&mut buf))
                .await
                .map_err(|_| SessionError::Timeout)??;
            if n == 0 {
                return Err(SessionError::Closed);
            }
            self.input.extend_from_slice(&buf[..n]);
        }
    }

    /// Reads one (possibly multi-line) reply.
    async fn reply(&mut self) -> Result<(Reply, Vec<String>), SessionError> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await?;
            let code = line.get(..3).and_then(|c| c.parse::<u16>().ok()).filter(|c| (200..600).contains(c));
            let Some(code) = code else {
                return Err(SessionError::Garbage);
            };
            let sep = line.as_bytes().get(3).copied();
            lines.push(line.get(4..).unwrap_or("").to_owned());
            match sep {
                None | Some(b' ') => {
                    let text = lines.last().cloned().unwrap_or_default();
                    return Ok((Reply { code, text }, lines));
                }
                Some(b'-') if lines.len() < MAX_REPLY_LINES => {}
                _ => return Err(SessionError::Garbage),
            }
        }
    }

    async fn command(&mut self, line: &str) -> Result<Reply, SessionError> {
        self.send(format!("{line}\r\n").as_bytes()).await?;
        Ok(self.reply().await?.0)
    }

    /// EHLO (HELO if refused); returns whether STARTTLS is offered.
    async fn hello(&mut self, name: &str) -> Result<bool, SessionError> {
        self.send(format!("EHLO {name}\r\n").as_bytes()).await?;
        let (reply, lines) = self.reply().await?;
        if reply.code == 250 {
            return Ok(lines.iter().any(|l| l.trim().eq_ignore_ascii_case("STARTTLS")));
        }
        let reply = self.command(&format!("HELO {name}")).await?;
        if reply.code != 250 {
            return Err(SessionError::Refused(reply));
        }
        Ok(false)
    }

    /// MAIL, RCPT for each recipient, DATA; one outcome per recipient, and
    /// whether the session is ready for another transaction. `body_sent`
    /// turns true once the message itself went out: a failure before that
    /// may be retried on another session without risk of a duplicate.
    async fn transaction(&mut self, job: &Job<'_>, body_sent: &mut bool) -> Result<(Vec<Outcome>, bool), SessionError> {
        let mail = self.command(&format!("MAIL FROM:<{}>", job.sender)).await?;
        if mail.code != 250 {
            let outcome = Outcome::of(&mail);
            return Ok((vec![outcome; job.recipients.len()], self.reset().await));
        }
        let mut outcomes = Vec::with_capacity(job.recipients.len());
        for rcpt in job.recipients {
            let reply = self.command(&format!("RCPT TO:<{rcpt}>")).await?;
            outcomes.push(if reply.code / 100 == 2 { None } else { Some(Outcome::of(&reply)) });
        }
        if outcomes.iter().all(Option::is_some) {
            let clean = self.reset().await;
            return Ok((outcomes.into_iter().flatten().collect(), clean));
        }
        let data = self.command("DATA").await?;
        let (after_data, clean) = if data.code == 354 {
            *body_sent = true;
            self.send(&dot_stuff(job.message)).await?;
            // After the reply to the final dot the server is ready for a new MAIL.
            (self.reply().await?.0, true)
        } else {
            let clean = self.reset().await;
            (data, clean)
        };
        Ok((outcomes.into_iter().map(|o| o.unwrap_or_else(|| Outcome::of(&after_data))).collect(), clean))
    }

    /// RSET after a refused transaction; whether the session is usable again.
    async fn reset(&mut self) -> bool {
        matches!(self.command("RSET").await, Ok(r) if r.code == 250)
    }

    async fn greeting(&mut self) -> Result<(), SessionError> {
        let (reply, _) = self.reply().await?;
        if reply.code != 220 {
            return Err(SessionError::Refused(reply));
        }
        Ok(())
    }
}

/// The message with leading dots doubled, CRLF line ends and the final dot.
///
/// Every line ending is made CRLF, a bare CR as well as a bare LF: a bare CR
/// passed through would let `\r.\r\n` end the data early at a receiver that
/// reads line endings loosely, and what follows be taken as a second message
/// (SMTP smuggling). A dot that starts a line after any of these endings is
/// doubled.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 5);
    let mut line_start = true;
    let mut i = 0;
    while let Some(&b) = message.get(i) {
        match b {
            b'\r' | b'\n' => {
                out.extend_from_slice(b"\r\n");
                if b == b'\r' && message.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                line_start = true;
            }
            _ => {
                if line_start && b == b'.' {
                    out.push(b'.');
                }
                out.push(b);
                line_start = false;
            }
        }
        i += 1;
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// An open session with one server, between transactions.
pub struct Session {
    wire: Wire<Box<dyn Io>>,
    /// Transactions carried so far.
    pub(crate) uses: u32,
    /// When the last transaction ended.
    pub(crate) idle_since: std::time::Instant,
}

impl Session {
    /// Connects to `addr`, reads the greeting and says EHLO; with `try_tls`,
    /// switches to TLS when STARTTLS is offered. `tls_name` is the name
    /// given in SNI (the MX host name).
    pub async fn open(
        addr: SocketAddr,
        tls_name: &str,
        try_tls: bool,
        timeout: Duration,
        helo: &str,
    ) -> Result<Session, SessionError> {
        let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| SessionError::Timeout)?
            .map_err(SessionError::Connect)?;
        let _ = tcp.set_nodelay(true);
        let mut wire = Wire::new(tcp, timeout);
        wire.greeting().await?;
        let starttls = wire.hello(helo).await?;
        if !(starttls && try_tls) || wire.command("STARTTLS").await?.code != 220 {
            return Ok(Session::over(Wire { stream: Box::new(wire.stream), input: wire.input, timeout }));
        }
        let name = rustls::pki_types::ServerName::try_from(tls_name.to_owned())
            .unwrap_or_else(|_| rustls::pki_types::ServerName::IpAddress(addr.ip().into()));
        let connector = tokio_rustls::TlsConnector::from(crate::tls::opportunistic());
        // A handshake that hangs is a TLS failure too: the caller may then try in clear text.
        let tls = tokio::time::timeout(timeout, connector.connect(name, wire.stream))
            .await
            .map_err(|_| SessionError::Tls(std::io::ErrorKind::TimedOut.into()))?
            .map_err(SessionError::Tls)?;
        let mut wire: Wire<Box<dyn Io>> = Wire::new(Box::new(tls), timeout);
        wire.hello(helo).await?;
        Ok(Session::over(wire))
    }

    fn over(wire: Wire<Box<dyn Io>>) -> Session {
        Session { wire, uses: 0, idle_since: std::time::Instant::now() }
    }

    /// One transaction. On success, also whether the session may carry
    /// another one. On failure, whether the message body had gone out.
    pub async fn send(&mut self, job: &Job<'_>) -> Result<(Vec<Outcome>, bool), (SessionError, bool)> {
        let mut body_sent = false;
        let result = self.wire.transaction(job, &mut body_sent).await;
        self.uses += 1;
        self.idle_since = std::time::Instant::now();
        result.map_err(|e| (e, body_sent))
    }

    /// Says goodbye (best effort, bounded by the session's timeout).
    pub async fn quit(mut self) {
        let _ = self.wire.command("QUIT").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `job` to the server at `addr` on a session of its own, then quits.
    async fn deliver(
        addr: SocketAddr,
        tls_name: &str,
        try_tls: bool,
        timeout: Duration,
        job: &Job<'_>,
    ) -> Result<Vec<Outcome>, SessionError> {
        let mut session = Session::open(addr, tls_name, try_tls, timeout, job.helo).await?;
        let result = session.send(job).await;
        session.quit().await;
        result.map(|(outcomes, _)| outcomes).map_err(|(e, _)| e)
    }

    #[test]
    fn dots_are_stuffed_and_lines_end_in_crlf() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n..c\nd"), b"a\r\n..b\r\n...c\r\nd\r\n.\r\n");
        assert_eq!(dot_stuff(b".\r\n"), b"..\r\n.\r\n");
        // A bare CR ends a line too (SMTP smuggling: "\r.\r\n" must not reach a lax
        // receiver as an end of data), and the dot after it is stuffed.
        assert_eq!(dot_stuff(b"a\r.\r\nMAIL FROM:<x@y>\r"), b"a\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n");
        assert_eq!(dot_stuff(b"a\n.\nb\r\r\n.c"), b"a\r\n..\r\nb\r\n\r\n..c\r\n.\r\n");
    }

    /// Drives a transaction against a scripted server in memory.
    async fn scripted(server_lines: &'static [u8], rcpts: &[&str]) -> (Result<Vec<Outcome>, SessionError>, String) {
        let (client, mut server) = tokio::io::duplex(1 << 16);
        let recipients: Vec<String> = rcpts.iter().map(|s| s.to_string()).collect();
        let job = Job {
            helo: "mx.test",
            sender: "a@ac-demo.fr",
            recipients: &recipients,
            message: b"Subject: x\r\n\r\nhi\r\n",
        };
        let serve = async move {
            server.write_all(server_lines).await.unwrap();
            let mut seen = Vec::new();
            let _ = tokio::time::timeout(Duration::from_millis(300), server.read_to_end(&mut seen)).await;
            String::from_utf8(seen).unwrap()
        };
        let talk = async {
            let mut wire = Wire::new(client, Duration::from_secs(2));
            wire.greeting().await?;
            wire.hello(job.helo).await?;
            let out = wire.transaction(&job, &mut false).await.map(|(outcomes, _)| outcomes);
            if out.is_ok() {
                let _ = wire.command("QUIT").await;
            }
            drop(wire);
            out
        };
        let (out, seen) = tokio::join!(talk, serve);
        (out, seen)
    }

    #[tokio::test]
    async fn one_refused_recipient_among_several() {
        let (out, seen) = scripted(
            b"220 hi\r\n250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n550 5.1.1 nobody\r\n451 4.2.0 later\r\n354 go\r\n250 2.0.0 queued\r\n221 bye\r\n",
            &["a@x.fr", "b@x.fr", "c@x.fr"],
        )
        .await;
        assert_eq!(
            out.unwrap(),
            [Outcome::Sent, Outcome::Failed("550 5.1.1 nobody".into()), Outcome::Deferred("451 4.2.0 later".into())]
        );
        assert!(seen.contains("MAIL FROM:<a@ac-demo.fr>\r\nRCPT TO:<a@x.fr>\r\n"), "{seen}");
        assert!(seen.contains("DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n"), "{seen}");
    }

    #[tokio::test]
    async fn temporary_failure_after_data_defers_everyone() {
        let (out, _) =
            scripted(b"220 hi\r\n250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n452 4.3.1 full\r\n221 bye\r\n", &["a@x.fr"])
                .await;
        assert_eq!(out.unwrap(), [Outcome::Deferred("452 4.3.1 full".into())]);
    }

    #[tokio::test]
    async fn garbage_and_early_close_are_session_errors() {
        let (out, _) = scripted(b"220 hi\r\n250 mx\r\nhello there\r\n", &["a@x.fr"]).await;
        assert!(matches!(out, Err(SessionError::Garbage)), "{out:?}");
        let (out, _) = scripted(b"220 hi\r\n250 mx\r\n250 ok\r\n", &["a@x.fr"]).await;
        assert!(matches!(out, Err(SessionError::Closed | SessionError::Timeout)), "{out:?}");
    }

    /// A one-connection TCP server that plays `script` for each connection it accepts.
    async fn tcp_server(scripts: Vec<&'static [u8]>) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for script in scripts {
                let (mut conn, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let _ = conn.write_all(script).await;
                    let mut sink = Vec::new();
                    let _ = tokio::time::timeout(Duration::from_secs(2), conn.read_to_end(&mut sink)).await;
                });
            }
        });
        addr
    }

    fn job(recipients: &[String]) -> Job<'_> {
        Job { helo: "mx.test", sender: "a@ac-demo.fr", recipients, message: b"Subject: x\r\n\r\nhi\r\n" }
    }

    #[tokio::test]
    async fn broken_tls_is_reported_so_the_caller_can_go_clear() {
        // The server offers STARTTLS, says yes, then answers the handshake with garbage.
        let addr = tcp_server(vec![b"220 hi\r\n250-mx\r\n250 STARTTLS\r\n220 go\r\nthis is not TLS\r\n"]).await;
        let rcpts = vec!["p@x.fr".to_owned()];
        let out = deliver(addr, "mx.x.fr", true, Duration::from_secs(2), &job(&rcpts)).await;
        assert!(matches!(out, Err(SessionError::Tls(_))), "{out:?}");
        // Without TLS the same kind of server takes the message.
        let addr = tcp_server(vec![
            b"220 hi\r\n250-mx\r\n250 STARTTLS\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n221 bye\r\n",
        ])
        .await;
        let out = deliver(addr, "mx.x.fr", false, Duration::from_secs(2), &job(&rcpts)).await.unwrap();
        assert_eq!(out, [Outcome::Sent]);
    }

    #[tokio::test]
    async fn silent_servers_time_out() {
        let addr = tcp_server(vec![b""]).await;
        let rcpts = vec!["p@x.fr".to_owned()];
        let out = deliver(addr, "mx.x.fr", true, Duration::from_millis(300), &job(&rcpts)).await;
        assert!(matches!(out, Err(SessionError::Timeout)), "{out:?}");
        let refused = deliver("127.0.0.1:9".parse().unwrap(), "x", true, Duration::from_secs(2), &job(&rcpts)).await;
        assert!(matches!(refused, Err(SessionError::Connect(_))), "{refused:?}");
    }
}
