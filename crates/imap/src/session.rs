//! One IMAP connection: the state machine (not authenticated, authenticated,
//! selected, logout), the read loop, and the commands valid in every state
//! plus authentication. Mailbox and message commands live in `mailboxes.rs`
//! and `messages.rs`; errors become responses in `reply.rs` only.

use std::sync::Arc;

use identity::credentials::Refusal;
use mailstore::{Account, MailEvent, Mailstore};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, watch};

use crate::ImapConfig;
use crate::command::{Body, Command};
use crate::parse::parse_command;
use crate::reader::{Event, Reader};
use crate::reply::Done;
use crate::selected::Selected;

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

/// The state of one connection.
pub struct Session<'a, S> {
    /// This session's place under the account's connection cap. Declared
    /// first so that it is freed before the stream closes.
    user_slot: Option<crate::admission::Slot>,
    pub(crate) stream: S,
    pub(crate) reader: Reader,
    pub(crate) cfg: &'a ImapConfig,
    pub(crate) mailstore: Arc<Mailstore>,
    /// Decides logins (LOGIN, AUTHENTICATE).
    pub(crate) identity: Arc<identity::Identity>,
    /// Whether the connection is encrypted (implicit TLS or after STARTTLS).
    pub(crate) tls: bool,
    /// Whether STARTTLS is offered (cleartext listener with TLS material).
    pub(crate) starttls: bool,
    /// Whether LOGIN and AUTHENTICATE are allowed on this connection.
    pub(crate) login_allowed: bool,
    pub(crate) account: Option<Account>,
    /// The secret the login proved: a revocation of it ends the session.
    pub(crate) credential: Option<model::Credential>,
    /// The client's address (login throttling and audit need it).
    pub(crate) peer: Option<std::net::IpAddr>,
    /// The account's events, watched from login on so that a revocation
    /// closes the session even while it waits for a command.
    pub(crate) events: Option<broadcast::Receiver<MailEvent>>,
    pub(crate) selected: Option<Selected>,
    /// UTF8=ACCEPT or IMAP4rev2 was enabled: names and strings go as UTF-8.
    pub(crate) utf8: bool,
    pub(crate) rev2: bool,
    pub(crate) condstore: bool,
    /// QRESYNC was enabled: expunges are reported as VANISHED.
    pub(crate) qresync: bool,
    pub(crate) out: Vec<u8>,
    /// COMPRESS=DEFLATE, once active.
    pub(crate) deflate: Option<Box<crate::compress::Deflate>>,
    /// COMPRESS was accepted: start after its OK is sent.
    start_deflate: bool,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) logout: bool,
    start_tls: bool,
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
        Session {
            stream,
            reader: Reader::with_budget(cfg.limits, cfg.literal_budget.clone()),
            cfg,
            mailstore: services.mail,
            identity: services.identity,
            tls,
            starttls,
            login_allowed: tls || (loopback && cfg.allow_plaintext_loopback),
            account: None,
            credential: None,
            peer: None,
            events: None,
            user_slot: None,
            selected: None,
            utf8: false,
            rev2: false,
            condstore: false,
            qresync: false,
            out: Vec::new(),
            deflate: None,
            start_deflate: false,
            shutdown,
            logout: false,
            start_tls: false,
        }
    }

    /// Records the client's address.
    pub fn with_peer(mut self, peer: std::net::IpAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// Whether a revocation of the account's access, or of the secret this
    /// session logged in with, is waiting (drains the other events: the
    /// change log tells the rest).
    pub(crate) fn revoked(&mut self) -> bool {
        let credential = self.credential;
        let Some(events) = self.events.as_mut() else { return false };
        loop {
            match events.try_recv() {
                Ok(event) if ends(&event, credential) => return true,
                Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(_) => return false,
            }
        }
    }

    /// Runs the session until LOGOUT, a closed connection, a timeout, a
    /// shutdown, or STARTTLS.
    pub async fn run(mut self, greet: bool) -> Ending<S> {
        if greet {
            let greeting =
                format!("* OK [CAPABILITY {}] {} Ardoise IMAP ready\r\n", self.capabilities(), self.cfg.hostname);
            self.out.extend_from_slice(greeting.as_bytes());
            if self.flush().await.is_err() {
                return Ending::Closed;
            }
        }
        let mut bad_in_a_row = 0;
        loop {
            match self.reader.advance() {
                Event::NeedMore => match self.read_more().await {
                    Ok(()) => {}
                    Err(stop) => {
                        self.say_goodbye(stop).await;
                        return Ending::Closed;
                    }
                },
                Event::Continue => {
                    self.out.extend_from_slice(b"+ Ready for literal data\r\n");
                    if self.flush().await.is_err() {
                        return Ending::Closed;
                    }
                }
                Event::Bad { tag, text } => {
                    bad_in_a_row += 1;
                    self.out.extend_from_slice(format!("{tag} BAD {text}\r\n").as_bytes());
                    if self.flush().await.is_err() {
                        return Ending::Closed;
                    }
                }
                Event::No { tag, text } => {
                    self.out.extend_from_slice(format!("{tag} NO {text}\r\n").as_bytes());
                    if self.flush().await.is_err() {
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
                            self.out.extend_from_slice(format!("{} BAD {}\r\n", e.tag, e.text).as_bytes());
                        }
                    }
                    if self.flush().await.is_err() {
                        return Ending::Closed;
                    }
                    if self.logout {
                        let _ = self.stream.shutdown().await;
                        return Ending::Closed;
                    }
                    if self.start_tls {
                        return Ending::StartTls(self.stream);
                    }
                    if std::mem::take(&mut self.start_deflate) {
                        self.deflate = Some(Box::default());
                    }
                    if self.revoked() {
                        self.say_goodbye(ReadStop::Revoked).await;
                        return Ending::Closed;
                    }
                }
            }
            if bad_in_a_row >= MAX_BAD_IN_A_ROW {
                self.out.extend_from_slice(b"* BYE Too many invalid commands\r\n");
                let _ = self.flush().await;
                return Ending::Closed;
            }
        }
    }

    /// Reads more input, within the idle timeout, unless shutting down.
    pub(crate) async fn read_more(&mut self) -> Result<(), ReadStop> {
        let timeout = if self.account.is_some() { self.cfg.idle_timeout } else { self.cfg.login_timeout };
        let deadline = tokio::time::Instant::now() + timeout;
        let mut buf = vec![0u8; READ_CHUNK];
        let mut shutdown = self.shutdown.clone();
        if *shutdown.borrow() {
            return Err(ReadStop::Shutdown);
        }
        if self.revoked() {
            return Err(ReadStop::Revoked);
        }
        // Compressed input already read is inflated a step at a time, the
        // reader taking each step before the next (COMPRESS bombs).
        if let Some(d) = self.deflate.as_mut()
            && d.has_pending()
        {
            let reader = &mut self.reader;
            return d.step(|plain| reader.feed(plain)).map_err(|()| ReadStop::Io);
        }
        loop {
            let event = async {
                match self.events.as_mut() {
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
                    Ok(Ok(n)) => self.feed(&buf[..n]),
                },
                event = event => match event {
                    Ok(event) if ends(&event, self.credential) => return Err(ReadStop::Revoked),
                    Err(broadcast::error::RecvError::Closed) => self.events = None,
                    _ => {}
                },
                _ = shutdown.wait_for(|stop| *stop) => return Err(ReadStop::Shutdown),
            }
        }
    }

    pub(crate) async fn say_goodbye(&mut self, stop: ReadStop) {
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
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<(), ReadStop> {
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
    pub(crate) async fn flush(&mut self) -> std::io::Result<()> {
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

    /// Appends an untagged response line.
    pub(crate) fn untagged(&mut self, line: &str) {
        self.out.extend_from_slice(b"* ");
        self.out.extend_from_slice(line.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    pub(crate) fn capabilities(&self) -> String {
        let mut caps = vec!["IMAP4rev2", "IMAP4rev1"];
        if self.account.is_none() {
            if self.starttls && !self.tls {
                caps.push("STARTTLS");
            }
            if self.login_allowed {
                caps.push("AUTH=PLAIN");
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
            "SEARCHRES",
            "MULTIAPPEND",
            "BINARY",
            "COMPRESS=DEFLATE",
            "STATUS=SIZE",
            "UTF8=ACCEPT",
            "SAVEDATE",
            "OBJECTID",
            "QUOTA",
            "QUOTA=RES-STORAGE",
            "SORT",
            "SORT=DISPLAY",
            "THREAD=ORDEREDSUBJECT",
            "THREAD=REFERENCES",
        ]);
        caps.join(" ")
    }

    async fn execute(&mut self, cmd: Command) {
        let Command { tag, body } = cmd;
        let in_selected = self.selected.is_some();
        // EXPUNGE responses may not interrupt FETCH, STORE or SEARCH by sequence number.
        let may_expunge = !matches!(
            body,
            Body::Fetch { uid: false, .. } | Body::Store { uid: false, .. } | Body::Search { uid: false, .. }
        );
        // Boxed: the nested command futures are large, and polling them unboxed
        // takes more stack than a worker thread has in debug builds.
        let done = Box::pin(self.dispatch(&tag, body)).await;
        if in_selected
            && self.selected.is_some()
            && !self.logout
            && let Err(e) = Box::pin(self.sync(may_expunge)).await
        {
            tracing::warn!(error = %e, "mailbox resynchronisation failed");
        }
        done.write(&tag, &mut self.out);
    }

    async fn dispatch(&mut self, tag: &str, body: Body) -> Done {
        match body {
            Body::Capability => {
                let caps = self.capabilities();
                self.untagged(&format!("CAPABILITY {caps}"));
                Done::ok("CAPABILITY completed")
            }
            Body::Noop | Body::Check => Done::ok("NOOP completed"),
            Body::Logout => {
                self.untagged("BYE Ardoise IMAP server logging out");
                self.logout = true;
                Done::ok("LOGOUT completed")
            }
            Body::Id => {
                self.untagged("ID (\"name\" \"Ardoise\" \"vendor\" \"Ardoise\")");
                Done::ok("ID completed")
            }
            Body::Namespace => {
                // No shared namespace until delegation makes one hold something.
                self.untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
                Done::ok("NAMESPACE completed")
            }
            Body::StartTls => {
                if self.tls || !self.starttls {
                    return Done::bad("TLS is already active or not available here");
                }
                if self.account.is_some() {
                    return Done::bad("STARTTLS is only valid before authentication");
                }
                // Bytes pipelined after STARTTLS came in clear text: drop them.
                self.reader.clear();
                self.start_tls = true;
                Done::ok("Begin TLS negotiation now")
            }
            // Boxed like every large arm, so that the dispatch future a session
            // keeps while it sits in IDLE is only as large as its small arms.
            Body::Login { user, password } => Box::pin(self.login(&user, &password)).await,
            Body::Authenticate { mechanism, initial } => Box::pin(self.authenticate(&mechanism, initial)).await,
            _ if self.account.is_none() => Done::bad("Log in first (LOGIN or AUTHENTICATE)"),
            Body::Enable(caps) => {
                let mut enabled = Vec::new();
                for cap in caps {
                    match cap.as_str() {
                        "UTF8=ACCEPT" => self.utf8 = true,
                        "IMAP4REV2" => {
                            self.rev2 = true;
                            self.utf8 = true;
                        }
                        "CONDSTORE" => self.condstore = true,
                        "QRESYNC" => {
                            self.condstore = true;
                            self.qresync = true;
                        }
                        _ => continue,
                    }
                    enabled.push(cap);
                }
                self.untagged(format!("ENABLED {}", enabled.join(" ")).trim_end());
                Done::ok("ENABLE completed")
            }
            Body::Idle => Box::pin(self.idle()).await,
            Body::Compress(mechanism) => {
                if self.deflate.is_some() {
                    Done::no("[COMPRESSIONACTIVE] Compression is already on")
                } else if mechanism != "DEFLATE" {
                    Done::bad("Only COMPRESS DEFLATE is supported")
                } else {
                    // Anything pipelined after COMPRESS was sent before the client knew the answer.
                    self.reader.clear();
                    self.start_deflate = true;
                    Done::ok("DEFLATE active")
                }
            }
            body => Box::pin(self.mailbox_command(tag, body)).await,
        }
    }

    async fn login(&mut self, user: &str, password: &str) -> Done {
        if self.account.is_some() {
            return Done::bad("Already authenticated");
        }
        if !self.login_allowed {
            return Done::no("[PRIVACYREQUIRED] Use STARTTLS or port 993 first / Utilisez STARTTLS ou le port 993");
        }
        let attempt = identity::credentials::Login {
            login: user,
            secret: password,
            protocol: identity::credentials::Protocol::Imap,
            peer: self.peer.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
            client: None,
            device: None,
        };
        match self.identity.login(&attempt).await.map(|p| (p.account, p.via.credential())) {
            Err(refusal) => {
                tracing::info!(?refusal, "login refused");
                if refusal == Refusal::BadCredentials {
                    tokio::time::sleep(self.cfg.auth_failure_delay).await;
                }
                refused(refusal)
            }
            Ok((account, credential)) => {
                let Some(slot) = self.cfg.admission.for_user(account.id) else {
                    return Done::no(
                        "[LIMIT] Trop de connexions pour ce compte / Too many connections for this account",
                    );
                };
                self.user_slot = Some(slot);
                self.events = Some(self.mailstore.watch(account.id));
                tracing::info!(account = account.id, "logged in");
                self.account = Some(account);
                self.credential = Some(credential);
                self.reader.set_authenticated(true);
                Done::ok(&format!("[CAPABILITY {}] Logged in", self.capabilities()))
            }
        }
    }

    async fn authenticate(&mut self, mechanism: &str, initial: Option<Vec<u8>>) -> Done {
        if self.account.is_some() {
            return Done::bad("Already authenticated");
        }
        if mechanism != "PLAIN" {
            return Done::no("[CANNOT] Only AUTHENTICATE PLAIN is supported");
        }
        if !self.login_allowed {
            return Done::no("[PRIVACYREQUIRED] Use STARTTLS or port 993 first / Utilisez STARTTLS ou le port 993");
        }
        let response = match initial {
            Some(r) if r == b"=" => Vec::new(),
            Some(r) => r,
            None => {
                self.out.extend_from_slice(b"+ \r\n");
                if self.flush().await.is_err() {
                    return Done::bad("Connection lost");
                }
                loop {
                    match self.reader.next_line() {
                        Some(Ok(line)) => break line,
                        Some(Err(())) => return Done::bad("SASL response too long"),
                        None => {
                            if let Err(stop) = self.read_more().await {
                                self.say_goodbye(stop).await;
                                self.logout = true;
                                return Done::bad("Connection lost");
                            }
                        }
                    }
                }
            }
        };
        if response == b"*" {
            return Done::bad("AUTHENTICATE cancelled");
        }
        let Some(decoded) = crate::base64::decode(&response) else {
            return Done::bad("Invalid base64 in SASL response");
        };
        let mut fields = decoded.split(|&b| b == 0);
        let (Some(authz), Some(authc), Some(password), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Done::bad("Malformed PLAIN response");
        };
        let (Ok(authz), Ok(authc), Ok(password)) =
            (std::str::from_utf8(authz), std::str::from_utf8(authc), std::str::from_utf8(password))
        else {
            return Done::bad("PLAIN credentials must be UTF-8");
        };
        if !authz.is_empty() && !authz.eq_ignore_ascii_case(authc) {
            return Done::no("[AUTHORIZATIONFAILED] Acting as another user is not allowed");
        }
        self.login(authc, password).await
    }
}

/// The answer to a refused login, French then English, in ASCII.
fn refused(refusal: Refusal) -> Done {
    match refusal {
        Refusal::BadCredentials => {
            Done::no("[AUTHENTICATIONFAILED] Identifiant ou mot de passe incorrect / Invalid user name or password")
        }
        Refusal::AppPasswordRequired => Done::no(
            "[AUTHENTICATIONFAILED] Validation en deux etapes active : utilisez un mot de passe d'application / \
             Two-step verification is on: use an app password",
        ),
        Refusal::Throttled { .. } => Done::no(
            "[UNAVAILABLE] Connexion ralentie apres des tentatives infructueuses, reessayez dans quelques minutes / \
             Logins slowed down after failed attempts, try again in a few minutes",
        ),
        Refusal::Unavailable => Done::no("[UNAVAILABLE] Service momentanement indisponible / Try again later"),
        Refusal::Provisional => Done::no(
            "[CONTACTADMIN] Compte pas encore active : terminez la premiere connexion sur le webmail / \
             Account not activated yet: complete the first login on the webmail",
        ),
        Refusal::Suspended | Refusal::Closed => Done::no(
            "[AUTHORIZATIONFAILED] Compte suspendu ou ferme : contactez votre administrateur / \
             Account suspended or closed: contact your administrator",
        ),
        Refusal::Student => Done::no(
            "[AUTHORIZATIONFAILED] La messagerie IMAP n'est pas ouverte aux eleves / \
             IMAP access is not available to student accounts",
        ),
        Refusal::PasswordExpired => Done::no(
            "[EXPIRED] Mot de passe expire : changez-le sur la messagerie web / \
             Password expired: change it on the webmail",
        ),
    }
}

/// Whether `event` ends a session of its account opened with `credential`:
/// a revocation of the whole account, or of that secret.
pub(crate) fn ends(event: &MailEvent, credential: Option<model::Credential>) -> bool {
    match event {
        MailEvent::AccessRevoked { .. } => true,
        MailEvent::CredentialRevoked { what, .. } => credential.is_some_and(|c| what.covers(c)),
        _ => false,
    }
}
