//! One IMAP connection: the read loop over any stream, and what every
//! command works with. A [`Session`] is the protocol [`State`] (what the
//! client has proved and selected) next to a [`Conn`] (the stream, framing,
//! output, services and negotiated extensions); commands are handlers on
//! `Conn` that receive the parts of the state they need (`dispatch.rs`),
//! so the borrow of one never blocks the other. Errors become responses in
//! `reply.rs` only; untagged responses are written by `untagged.rs`.

use std::sync::Arc;

use mailstore::{MailEvent, Mailstore};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, watch};

use crate::ImapConfig;
use crate::parse::parse_command;
use crate::reader::{Event, Reader};
use crate::state::{Authed, State};
use crate::untagged::Untagged;

/// Consecutive BAD commands tolerated before the connection is closed.
const MAX_BAD_IN_A_ROW: usize = 20;
/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;
/// Output is flushed whenever this much is pending, so that a large FETCH
/// never holds more than this in memory for a client that reads slowly.
pub(crate) const FLUSH_AT: usize = 64 * 1024;

/// How a session ended.
pub enum Ending<S> {
    /// The connection is over.
    Closed,
    /// STARTTLS was accepted: run the TLS handshake on this stream, then a
    /// new session (without greeting).
    StartTls(S),
}

/// Why a read did not give bytes.
pub(crate) enum ReadStop {
    Eof,
    Timeout,
    Shutdown,
    Io,
    /// The account's access was revoked (suspension, closure).
    Revoked,
}

/// Whether the connection is encrypted, or may become so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tls {
    /// Implicit TLS, or after STARTTLS.
    Active,
    /// Cleartext listener with TLS material: STARTTLS is offered.
    Offered,
    Unavailable,
}

/// A change of transport a command accepted, made once its OK is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upgrade {
    StartTls,
    Deflate,
}

/// Extensions the client turned on (ENABLE, or CONDSTORE by using it).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Enabled {
    /// UTF8=ACCEPT or IMAP4rev2: names and strings go as UTF-8.
    pub utf8: bool,
    pub rev2: bool,
    pub condstore: bool,
    /// QRESYNC: expunges are reported as VANISHED.
    pub qresync: bool,
}

impl Enabled {
    /// Turns on a capability named by ENABLE; false for one not known here.
    pub fn enable(&mut self, capability: &str) -> bool {
        match capability {
            "UTF8=ACCEPT" => self.utf8 = true,
            "IMAP4REV2" => (self.rev2, self.utf8) = (true, true),
            "CONDSTORE" => self.condstore = true,
            "QRESYNC" => (self.condstore, self.qresync) = (true, true),
            _ => return false,
        }
        true
    }
}

/// One connection.
pub struct Session<'a, S> {
    /// Declared first: a login's place under the account's connection cap
    /// is freed before the stream closes.
    pub(crate) state: State,
    pub(crate) conn: Conn<'a, S>,
}

/// The connection a session runs on, and what its commands work with.
pub(crate) struct Conn<'a, S> {
    pub stream: S,
    pub reader: Reader,
    pub cfg: &'a ImapConfig,
    pub mailstore: Arc<Mailstore>,
    /// Decides logins (LOGIN, AUTHENTICATE).
    pub identity: Arc<identity::Identity>,
    pub tls: Tls,
    /// Whether LOGIN and AUTHENTICATE are allowed on this connection.
    pub login_allowed: bool,
    /// The client's address (login throttling and audit need it).
    pub peer: Option<std::net::IpAddr>,
    pub enabled: Enabled,
    pub out: Vec<u8>,
    /// COMPRESS=DEFLATE, once active.
    pub deflate: Option<Box<crate::compress::Deflate>>,
    /// STARTTLS or COMPRESS accepted: switch after the OK is sent.
    pub upgrade: Option<Upgrade>,
    /// What NOTIFY SET asked to be told of (RFC 5465).
    pub notify: Option<Box<crate::notify::Notify>>,
    /// When the client last sent something: the inactivity timeout runs from it.
    pub last_input: tokio::time::Instant,
    pub shutdown: watch::Receiver<bool>,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin + Send> Session<'a, S> {
    /// A session on a fresh (or freshly TLS-upgraded) stream. `loopback` tells
    /// whether the peer is on this host (cleartext logins may then be allowed).
    pub fn new(
        stream: S,
        cfg: &'a ImapConfig,
        services: crate::Services,
        tls: bool,
        starttls: bool,
        loopback: bool,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let conn = Conn {
            stream,
            reader: Reader::with_budget(cfg.limits, cfg.literal_budget.clone()),
            cfg,
            mailstore: services.mail,
            identity: services.identity,
            tls: match (tls, starttls) {
                (true, _) => Tls::Active,
                (false, true) => Tls::Offered,
                (false, false) => Tls::Unavailable,
            },
            login_allowed: tls || (loopback && cfg.allow_plaintext_loopback),
            peer: None,
            enabled: Enabled::default(),
            out: Vec::new(),
            deflate: None,
            upgrade: None,
            notify: None,
            last_input: tokio::time::Instant::now(),
            shutdown,
        };
        Session { state: State::NotAuthenticated, conn }
    }

    /// Records the client's address.
    pub fn with_peer(mut self, peer: std::net::IpAddr) -> Self {
        self.conn.peer = Some(peer);
        self
    }

    /// Runs the session until LOGOUT, a closed connection, a timeout, a
    /// shutdown, or STARTTLS.
    pub async fn run(mut self, greet: bool) -> Ending<S> {
        if greet {
            let caps = self.conn.capabilities(&self.state);
            let greeting = format!("* OK [CAPABILITY {caps}] {} Ardoise IMAP ready\r\n", self.conn.cfg.hostname);
            self.conn.out.extend_from_slice(greeting.as_bytes());
            if self.conn.flush().await.is_err() {
                return Ending::Closed;
            }
        }
        let mut bad_in_a_row = 0;
        loop {
            let conn = &mut self.conn;
            match conn.reader.advance() {
                Event::NeedMore => {
                    // NOTIFY and updating searches make the session listen
                    // to its account's events between commands.
                    let listening = conn.notify.is_some()
                        || matches!(&self.state, State::Selected(_, sel) if !sel.contexts.is_empty());
                    match conn.read_more(self.state.authed_mut(), listening).await {
                        Err(stop) => {
                            conn.say_goodbye(stop).await;
                            return Ending::Closed;
                        }
                        Ok(None) => {}
                        Ok(Some(event)) => {
                            if let Some((authed, sel)) = self.state.parts() {
                                Box::pin(self.conn.push_event(authed, sel, event, false)).await;
                            }
                            if self.conn.flush().await.is_err() {
                                return Ending::Closed;
                            }
                        }
                    }
                }
                Event::Continue => {
                    conn.out.extend_from_slice(b"+ Ready for literal data\r\n");
                    if conn.flush().await.is_err() {
                        return Ending::Closed;
                    }
                }
                Event::Bad { tag, text } => {
                    bad_in_a_row += 1;
                    conn.out.extend_from_slice(format!("{tag} BAD {text}\r\n").as_bytes());
                    if conn.flush().await.is_err() {
                        return Ending::Closed;
                    }
                }
                Event::No { tag, text } => {
                    conn.out.extend_from_slice(format!("{tag} NO {text}\r\n").as_bytes());
                    if conn.flush().await.is_err() {
                        return Ending::Closed;
                    }
                }
                Event::Command(bytes) => {
                    match parse_command(&bytes) {
                        Ok(cmd) => {
                            bad_in_a_row = 0;
                            self.execute(cmd).await;
                        }
                        Err(e) => {
                            bad_in_a_row += 1;
                            self.conn.out.extend_from_slice(format!("{} BAD {}\r\n", e.tag, e.text).as_bytes());
                        }
                    }
                    if self.conn.flush().await.is_err() {
                        return Ending::Closed;
                    }
                    if matches!(self.state, State::Logout) {
                        let _ = self.conn.stream.shutdown().await;
                        return Ending::Closed;
                    }
                    match self.conn.upgrade.take() {
                        Some(Upgrade::StartTls) => return Ending::StartTls(self.conn.stream),
                        Some(Upgrade::Deflate) => self.conn.deflate = Some(Box::default()),
                        None => {}
                    }
                    if self.state.authed_mut().is_some_and(Authed::revoked) {
                        self.conn.say_goodbye(ReadStop::Revoked).await;
                        return Ending::Closed;
                    }
                }
            }
            if bad_in_a_row >= MAX_BAD_IN_A_ROW {
                self.conn.out.extend_from_slice(b"* BYE Too many invalid commands\r\n");
                let _ = self.conn.flush().await;
                return Ending::Closed;
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// Reads more input, within the idle timeout (the login timeout before
    /// a login), unless shutting down or the login's access is revoked.
    /// When `listening`, an event of the account comes back instead
    /// (`Ok(Some)`), for the session to report it.
    pub async fn read_more(
        &mut self,
        mut authed: Option<&mut Authed>,
        listening: bool,
    ) -> Result<Option<Result<MailEvent, broadcast::error::RecvError>>, ReadStop> {
        let timeout = if authed.is_some() { self.cfg.idle_timeout } else { self.cfg.login_timeout };
        // From the client's last bytes: events told to a listening session
        // (NOTIFY) do not keep a silent client logged in.
        let deadline = self.last_input + timeout;
        let mut buf = vec![0u8; READ_CHUNK];
        let mut shutdown = self.shutdown.clone();
        if *shutdown.borrow() {
            return Err(ReadStop::Shutdown);
        }
        if authed.as_deref_mut().is_some_and(Authed::revoked) {
            return Err(ReadStop::Revoked);
        }
        // Events taken aside while looking for a revocation come first.
        if let Some(a) = authed.as_deref_mut() {
            if !listening {
                a.pending.clear();
            } else if let Some(event) = a.pending.pop_front() {
                return Ok(Some(event));
            }
        }
        let fed = |r: Result<(), ReadStop>| r.map(|()| None);
        // Compressed input already read is inflated a step at a time, the
        // reader taking each step before the next (COMPRESS bombs).
        if let Some(d) = self.deflate.as_mut()
            && d.has_pending()
        {
            let reader = &mut self.reader;
            return d.step(|plain| reader.feed(plain)).map_err(|()| ReadStop::Io).map(|()| None);
        }
        loop {
            let proof = authed.as_ref().map(|a| a.proof);
            let events = authed.as_deref_mut().and_then(|a| a.events.as_mut());
            let event = async {
                match events {
                    Some(events) => events.recv().await,
                    None => std::future::pending().await,
                }
            };
            // Reading is cancel-safe: an event in between loses no bytes.
            tokio::select! {
                read = tokio::time::timeout_at(deadline, self.stream.read(&mut buf)) => return match read {
                    Err(_) => Err(ReadStop::Timeout),
                    Ok(Err(_)) => Err(ReadStop::Io),
                    Ok(Ok(0)) => Err(ReadStop::Eof),
                    Ok(Ok(n)) => {
                        self.last_input = tokio::time::Instant::now();
                        fed(self.feed(&buf[..n]))
                    }
                },
                event = event => match (event, proof) {
                    (Ok(event), Some(proof)) if event.ends(proof) => return Err(ReadStop::Revoked),
                    (Err(broadcast::error::RecvError::Closed), _) => {
                        if let Some(a) = authed.as_deref_mut() {
                            a.events = None;
                        }
                    }
                    (event, _) if listening => return Ok(Some(event)),
                    _ => {}
                },
                _ = shutdown.wait_for(|stop| *stop) => return Err(ReadStop::Shutdown),
            }
        }
    }

    pub async fn say_goodbye(&mut self, stop: ReadStop) {
        let text: &[u8] = match stop {
            ReadStop::Timeout => b"* BYE Idle timeout, closing\r\n",
            ReadStop::Shutdown => b"* BYE [UNAVAILABLE] Server shutting down, try again soon\r\n",
            ReadStop::Revoked => b"* BYE Acces au compte retire / Account access revoked\r\n",
            ReadStop::Eof | ReadStop::Io => return,
        };
        self.out.extend_from_slice(text);
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
    }

    /// Hands bytes read from the client to the reader, inflating them
    /// when COMPRESS is active.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), ReadStop> {
        match self.deflate.as_mut() {
            None => {
                self.reader.feed(bytes);
                Ok(())
            }
            Some(d) => {
                d.push(bytes);
                let reader = &mut self.reader;
                d.step(|plain| reader.feed(plain)).map_err(|()| ReadStop::Io)
            }
        }
    }

    /// Sends pending output, within the idle timeout.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let mut out = std::mem::take(&mut self.out);
        if let Some(d) = self.deflate.as_mut() {
            out = d.deflate(&out);
        }
        let write = async {
            self.stream.write_all(&out).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.cfg.idle_timeout, write).await {
            Ok(result) => result,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "client does not read")),
        }
    }

    /// Appends an untagged response.
    pub fn say(&mut self, response: Untagged<'_>) {
        response.write(&mut self.out);
    }

    /// Appends an untagged response line written as text.
    pub fn untagged(&mut self, line: &str) {
        self.say(Untagged::Line(line));
    }

    /// What the server offers in this state (STARTTLS and the login
    /// mechanisms before login only).
    pub fn capabilities(&self, state: &State) -> String {
        let mut caps = vec!["IMAP4rev2", "IMAP4rev1"];
        if !state.is_authenticated() {
            if self.tls == Tls::Offered {
                caps.push("STARTTLS");
            }
            if self.login_allowed {
                caps.extend(["AUTH=PLAIN", "AUTH=OAUTHBEARER", "AUTH=XOAUTH2"]);
            } else {
                caps.push("LOGINDISABLED");
            }
        }
        caps.extend([
            "SASL-IR",
            "LITERAL+",
            "ID",
            "ENABLE",
            "IDLE",
            "NAMESPACE",
            "UNSELECT",
            "UIDPLUS",
            "MOVE",
            "SPECIAL-USE",
            "CREATE-SPECIAL-USE",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "CONDSTORE",
            "QRESYNC",
            "ESEARCH",
            "ESORT",
            "CONTEXT=SEARCH",
            "CONTEXT=SORT",
            "NOTIFY",
            "SEARCHRES",
            "MULTIAPPEND",
            "CATENATE",
            "BINARY",
            "COMPRESS=DEFLATE",
            "STATUS=SIZE",
            "UTF8=ACCEPT",
            "SAVEDATE",
            "OBJECTID",
            "QUOTA",
            "QUOTA=RES-STORAGE",
            "ACL",
            "RIGHTS=texk",
            "SORT",
            "SORT=DISPLAY",
            "THREAD=ORDEREDSUBJECT",
            "THREAD=REFERENCES",
        ]);
        caps.join(" ")
    }
}
