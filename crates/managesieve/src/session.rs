//! One ManageSieve conversation (RFC 5804) over any stream: the greeting,
//! then one command at a time. STARTTLS ends the session with its stream
//! ([`Ending::StartTls`]), which the server wraps in TLS and hands to a new
//! session that re-issues the capabilities (section 2.2).

use std::net::IpAddr;
use std::time::Duration;

use filter::MailEvent;
use model::{AccountId, Proof};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, watch};

use crate::reader::{Caps, Framed, Token, frame};
use crate::reply::{Reply, quote};
use crate::{Config, Services};

/// How a session ended.
pub enum Ending<S> {
    Closed,
    /// The client asked for TLS: the stream, to be wrapped.
    StartTls(S),
}

/// Bad commands in a row before the server hangs up.
const MAX_ERRORS: usize = 20;

/// What the next line turned out to be.
pub(crate) enum Next {
    Line(Vec<Token>),
    /// Refused before it was read whole; the answer is given and the session goes on.
    Answered(Reply),
    /// The session ends with this `BYE` (or silently when `None`).
    End(Option<Reply>),
}

pub struct Session<'a, S> {
    stream: S,
    buf: Vec<u8>,
    out: Vec<u8>,
    cfg: &'a Config,
    pub(crate) services: Services,
    /// STARTTLS is offered (cleartext connection with a TLS acceptor).
    can_starttls: bool,
    /// AUTHENTICATE is allowed: over TLS, or in clear from loopback when the
    /// configuration allows it (as IMAP does).
    login_allowed: bool,
    pub(crate) peer: IpAddr,
    pub(crate) account: Option<AccountId>,
    /// Once logged in: the account's events and the secret the login
    /// proved, to end the session when either is revoked.
    pub(crate) revocations: Option<(broadcast::Receiver<MailEvent>, Proof)>,
    shutdown: watch::Receiver<bool>,
    errors: usize,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin + Send> Session<'a, S> {
    pub fn new(
        stream: S,
        cfg: &'a Config,
        services: Services,
        peer: IpAddr,
        tls: bool,
        can_starttls: bool,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let login_allowed = tls || (peer.is_loopback() && cfg.allow_plaintext_loopback);
        Session {
            stream,
            buf: Vec::new(),
            out: Vec::new(),
            cfg,
            services,
            can_starttls: can_starttls && !tls,
            login_allowed,
            peer,
            account: None,
            revocations: None,
            shutdown,
            errors: 0,
        }
    }

    /// Greets (the capabilities, which also follow a TLS handshake) and
    /// serves commands until LOGOUT, STARTTLS, an error or shutdown.
    pub async fn run(mut self) -> Ending<S> {
        self.capabilities();
        self.out.extend_from_slice(&Reply::ok("Ardoise ManageSieve prêt / ready").wire());
        loop {
            if self.flush().await.is_err() {
                return Ending::Closed;
            }
            let tokens = match self.next_line().await {
                Next::Line(tokens) => tokens,
                Next::Answered(reply) => {
                    self.out.extend_from_slice(&reply.wire());
                    continue;
                }
                Next::End(bye) => {
                    if let Some(bye) = bye {
                        self.out.extend_from_slice(&bye.wire());
                        let _ = self.flush().await;
                    }
                    return Ending::Closed;
                }
            };
            let Some(name) = tokens.first().and_then(Token::as_atom).map(str::to_ascii_uppercase) else {
                self.refuse(Reply::no("Commande attendue / Command expected"));
                continue;
            };
            let args = &tokens[1..];
            let reply = match name.as_str() {
                "CAPABILITY" if args.is_empty() => {
                    self.capabilities();
                    Reply::ok("Fait / Done")
                }
                "LOGOUT" => {
                    self.out.extend_from_slice(&Reply::ok("Au revoir / Bye").wire());
                    let _ = self.flush().await;
                    return Ending::Closed;
                }
                "NOOP" => match args {
                    [] => Reply::ok("Fait / Done"),
                    [Token::Str(tag)] => Reply::ok("Fait / Done").with_code(format!("TAG {}", quote(tag))),
                    _ => Reply::no("Arguments invalides / Bad arguments"),
                },
                "STARTTLS" if self.can_starttls && args.is_empty() => {
                    self.out.extend_from_slice(&Reply::ok("Négociation TLS / Begin TLS negotiation").wire());
                    if self.flush().await.is_err() {
                        return Ending::Closed;
                    }
                    // Anything pipelined after STARTTLS was sent in clear: dropped.
                    self.buf.clear();
                    return Ending::StartTls(self.stream);
                }
                "STARTTLS" => Reply::no("STARTTLS indisponible ici / STARTTLS not available"),
                "AUTHENTICATE" => match self.authenticate(args).await {
                    Ok(reply) => reply,
                    Err(()) => return Ending::Closed,
                },
                _ => match self.account {
                    None if crate::commands::needs_login(&name) => {
                        Reply::no("Authentifiez-vous d'abord / Authenticate first")
                    }
                    None => Reply::no("Commande inconnue / Unknown command"),
                    Some(account) => self.command(account, &name, args).await,
                },
            };
            if reply.is_ok() {
                self.errors = 0;
                self.out.extend_from_slice(&reply.wire());
            } else {
                self.refuse(reply);
            }
            if self.errors > MAX_ERRORS {
                self.out.extend_from_slice(&Reply::bye("Trop d'erreurs / Too many errors").wire());
                let _ = self.flush().await;
                return Ending::Closed;
            }
        }
    }

    /// Writes a refusal and counts it.
    fn refuse(&mut self, reply: Reply) {
        self.errors += 1;
        self.out.extend_from_slice(&reply.wire());
    }

    /// Queues raw response bytes (GETSCRIPT's literal, LISTSCRIPTS lines).
    pub(crate) fn say(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// The capability lines (RFC 5804 section 1.7).
    fn capabilities(&mut self) {
        let sasl = if self.login_allowed && self.account.is_none() { "PLAIN OAUTHBEARER XOAUTH2" } else { "" };
        let mut caps = format!(
            "\"IMPLEMENTATION\" \"Ardoise\"\r\n\"SASL\" \"{sasl}\"\r\n\"SIEVE\" \"{}\"\r\n",
            self.services.filters.extensions()
        );
        if self.can_starttls {
            caps.push_str("\"STARTTLS\"\r\n");
        }
        caps.push_str(&format!("\"MAXREDIRECTS\" \"{}\"\r\n", self.services.filters.settings().limits.redirects));
        caps.push_str("\"VERSION\" \"1.0\"\r\n");
        self.out.extend_from_slice(caps.as_bytes());
    }

    pub(crate) async fn flush(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
        }
        self.stream.flush().await
    }

    /// Reads until a whole line is buffered, or the session must end.
    pub(crate) async fn next_line(&mut self) -> Next {
        let caps = Caps { line: self.cfg.max_line, literal: self.services.filters.settings().max_script_size };
        loop {
            match frame(&self.buf, caps) {
                Framed::Line { tokens, consumed } => {
                    self.buf.drain(..consumed);
                    return Next::Line(tokens);
                }
                Framed::Bad { why, consumed } => {
                    self.buf.drain(..consumed);
                    return Next::Answered(Reply::no(why));
                }
                Framed::LineTooLong => {
                    return Next::End(Some(Reply::bye("Ligne trop longue / Line too long")));
                }
                Framed::LiteralTooLarge { size, header } => {
                    if size > self.cfg.max_discard as u64 {
                        return Next::End(Some(Reply::bye("Littéral démesuré / Literal too large")));
                    }
                    self.buf.drain(..header);
                    return match self.discard(size as usize).await {
                        Ok(()) => Next::Answered(
                            Reply::no("Script trop grand / Script too large").with_code("QUOTA/MAXSIZE".into()),
                        ),
                        Err(end) => end,
                    };
                }
                Framed::Partial => {
                    if let Err(end) = self.read_more().await {
                        return end;
                    }
                }
            }
        }
    }

    /// Drops `size` bytes of a refused literal and the rest of its line.
    async fn discard(&mut self, mut size: usize) -> Result<(), Next> {
        loop {
            let take = size.min(self.buf.len());
            self.buf.drain(..take);
            size -= take;
            if size == 0 {
                if let Some(lf) = self.buf.iter().position(|&b| b == b'\n') {
                    self.buf.drain(..=lf);
                    return Ok(());
                }
                if self.buf.len() > self.cfg.max_line {
                    return Err(Next::End(Some(Reply::bye("Ligne trop longue / Line too long"))));
                }
            }
            self.read_more().await?;
        }
    }

    /// Reads more bytes, within the idle timeout and until shutdown.
    async fn read_more(&mut self) -> Result<(), Next> {
        let mut chunk = [0u8; 8192];
        let read = tokio::select! {
            _ = self.shutdown.wait_for(|stop| *stop) => {
                return Err(Next::End(Some(Reply::bye("Arrêt du serveur / Server shutting down"))));
            }
            () = revoked(self.revocations.as_mut()) => {
                tracing::info!(account = ?self.account, "ManageSieve session closed: access revoked");
                return Err(Next::End(Some(Reply::bye("Accès au compte retiré / Account access revoked"))));
            }
            read = tokio::time::timeout(self.cfg.idle_timeout, self.stream.read(&mut chunk)) => read,
        };
        match read {
            Err(_) => Err(Next::End(Some(Reply::bye("Délai d'inactivité dépassé / Idle timeout")))),
            Ok(Ok(0)) | Ok(Err(_)) => Err(Next::End(None)),
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
        }
    }

    /// The delay after a wrong password, from the configuration.
    pub(crate) fn failure_delay(&self) -> Duration {
        self.cfg.auth_failure_delay
    }

    pub(crate) fn login_allowed(&self) -> bool {
        self.login_allowed
    }
}

/// Returns once the logged-in account is suspended or closed, or the secret
/// its login proved is revoked; never before a login.
async fn revoked(watch: Option<&mut (broadcast::Receiver<MailEvent>, Proof)>) {
    let Some((events, proof)) = watch else {
        return std::future::pending().await;
    };
    loop {
        match events.recv().await {
            Ok(event) if event.ends(*proof) => return,
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}
