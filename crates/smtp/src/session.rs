//! The SMTP session core shared by the MX and submission roles (RFC 5321, with
//! RFC 2920 PIPELINING, RFC 3030 CHUNKING, RFC 3207 STARTTLS, RFC 1870 SIZE,
//! RFC 6531 SMTPUTF8 and RFC 4954 AUTH).
//!
//! A session reads one command line at a time, answers it through the connection's
//! reply queue, and returns either when the conversation is over or when the client
//! asked for STARTTLS, giving its stream back for the upgrade. What differs between
//! the roles is asked of its [`Role`]; refusals are [`SmtpError`]s, turned into
//! replies in `reply.rs` only.

use std::borrow::Cow;
use std::net::IpAddr;

use model::Address;
use smtp_proto::{MailFrom, RcptTo, Request};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use crate::SmtpConfig;
use crate::body::Spool;
use crate::conn::{BodyPace, Conn, ConnError, Line};
use crate::received::{Trace, new_queue_id, sanitize_helo};
use crate::reply::{Reply, SmtpError};
use crate::role::{Gathered, Offer, Recipient, Role};

/// How a session ended.
pub(crate) enum Ending<S> {
    /// The connection is closed (QUIT, error, timeout, shutdown or the client left).
    Closed,
    /// The client asked for TLS: 220 was sent and the stream awaits the handshake.
    StartTls(S),
}

/// What the command loop does after a command.
enum Step {
    Continue,
    Quit,
    StartTls,
}

/// What HELO or EHLO told us.
struct Greeted {
    name: String,
    extended: bool,
}

/// One mail transaction, from MAIL FROM to the end of the data.
struct Transaction {
    from: Option<Address>,
    smtputf8: bool,
    declared_size: Option<u64>,
    recipients: Vec<Recipient>,
    /// The body received so far through BDAT.
    chunks: Option<Spool>,
    /// When the transaction must be over, whatever the pace of the client.
    deadline: Instant,
}

/// Where the session stands, apart from its connection.
pub(crate) struct Stage<'a> {
    pub cfg: &'a SmtpConfig,
    pub remote_ip: IpAddr,
    /// Whether the stream is encrypted.
    pub tls: bool,
    /// Whether STARTTLS may be offered.
    pub can_starttls: bool,
}

/// One SMTP conversation on one stream (a STARTTLS upgrade starts a new one).
pub(crate) struct Session<'a, S, R: Role> {
    conn: Conn<S>,
    cfg: &'a SmtpConfig,
    role: R,
    remote_ip: IpAddr,
    tls: bool,
    can_starttls: bool,
    greeted: Option<Greeted>,
    user: Option<R::User>,
    tx: Option<Transaction>,
    commands: usize,
    errors: usize,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin + Send, R: Role> Session<'a, S, R> {
    pub(crate) fn new(conn: Conn<S>, stage: Stage<'a>, role: R) -> Self {
        let Stage { cfg, remote_ip, tls, can_starttls } = stage;
        Session {
            conn,
            cfg,
            role,
            remote_ip,
            tls,
            can_starttls,
            greeted: None,
            user: None,
            tx: None,
            commands: 0,
            errors: 0,
        }
    }

    /// Runs the conversation; `greet` is false after STARTTLS, where no 220 is due.
    pub(crate) async fn run(mut self, greet: bool) -> Ending<S> {
        if greet {
            let banner = format!("{} {}", self.cfg.hostname, self.role.banner());
            self.conn.queue(&Reply::plain(220, vec![banner]));
        }
        match self.serve_commands().await {
            Ok(Step::StartTls) => match self.conn.into_stream().await {
                Ok((stream, dropped)) => {
                    if dropped > 0 {
                        tracing::warn!(dropped, "discarded clear-text input pipelined after STARTTLS");
                    }
                    Ending::StartTls(stream)
                }
                Err(error) => {
                    tracing::debug!(%error, "connection lost before the TLS handshake");
                    Ending::Closed
                }
            },
            Ok(_) => {
                self.conn.close().await;
                Ending::Closed
            }
            Err(error) => {
                match &error {
                    SmtpError::Connection(ConnError::Closed) => {
                        tracing::debug!("client closed the connection")
                    }
                    error => tracing::info!(%error, "closing the session"),
                }
                if let Some(reply) = error.reply(&self.cfg.hostname) {
                    metrics::counter!("ardoise_smtp_refusals_total", "role" => self.role.name(), "reason" => error.label())
                        .increment(1);
                    self.conn.queue(&reply);
                }
                self.conn.close().await;
                Ending::Closed
            }
        }
    }

    async fn serve_commands(&mut self) -> Result<Step, SmtpError> {
        loop {
            self.conn.set_deadline(Some(self.cfg.command_deadline(self.tx.as_ref().map(|tx| tx.deadline))));
            let max = self.cfg.max_line_length;
            let line = match &self.user {
                // A withdrawn access ends the session even while the client is idle.
                Some(user) => tokio::select! {
                    line = self.conn.read_line(max) => line?,
                    () = self.role.revoked(user) => return Err(SmtpError::Revoked),
                },
                None => self.conn.read_line(max).await?,
            };
            self.commands += 1;
            if self.commands > self.cfg.max_commands {
                return Err(SmtpError::TooManyCommands);
            }
            let outcome = match line {
                Line::Complete(line) => self.command(&line).await,
                Line::TooLong => Err(SmtpError::LineTooLong),
            };
            match outcome {
                Ok(Step::Continue) => {}
                Ok(step) => return Ok(step),
                Err(error) if error.ends_session() => return Err(error),
                Err(error) => self.refuse(error)?,
            }
        }
    }

    /// Answers a refused command, and ends the session once the client made too many
    /// mistakes.
    fn refuse(&mut self, error: SmtpError) -> Result<(), SmtpError> {
        tracing::debug!(%error, "command refused");
        if let Some(reply) = error.reply(&self.cfg.hostname) {
            metrics::counter!("ardoise_smtp_refusals_total", "role" => self.role.name(), "reason" => error.label())
                .increment(1);
            self.conn.queue(&reply);
        }
        if error.counts_as_error() {
            self.errors += 1;
            if self.errors >= self.cfg.max_errors {
                return Err(SmtpError::TooManyErrors);
            }
        }
        Ok(())
    }

    async fn command(&mut self, line: &[u8]) -> Result<Step, SmtpError> {
        let request = Request::parse(&mut line.iter()).map_err(SmtpError::from_parse)?;
        tracing::trace!(command = request.name(), "command");
        match request {
            Request::Ehlo { host } => self.hello(&host, true),
            Request::Helo { host } => self.hello(&host, false),
            Request::Mail { from } => self.mail(from).await?,
            Request::Rcpt { to } => self.rcpt(to, line).await?,
            Request::Data => self.data().await?,
            Request::Bdat { chunk_size, is_last } => self.bdat(chunk_size, is_last).await?,
            Request::Auth { mechanism, initial_response } => self.auth(mechanism, &initial_response).await?,
            Request::Rset => {
                self.tx = None;
                self.conn.queue(&Reply::ok());
            }
            Request::Noop { .. } => self.conn.queue(&Reply::ok()),
            Request::Vrfy { .. } => self.conn.queue(&Reply::new(252, "2.5.0", self.role.vrfy())),
            Request::Help { .. } => self.conn.queue(&Reply::new(214, "2.0.0", self.role.help())),
            Request::Quit => {
                self.conn.queue(&Reply::new(221, "2.0.0", format!("{} Bye", self.cfg.hostname)));
                return Ok(Step::Quit);
            }
            Request::StartTls => {
                self.starttls()?;
                return Ok(Step::StartTls);
            }
            Request::Expn { .. } => return Err(SmtpError::NotImplemented("EXPN")),
            Request::Etrn { .. } => return Err(SmtpError::NotImplemented("ETRN")),
            Request::Atrn { .. } => return Err(SmtpError::NotImplemented("ATRN")),
            Request::Burl { .. } => return Err(SmtpError::NotImplemented("BURL")),
            Request::Lhlo { .. } => return Err(SmtpError::NotImplemented("LHLO")),
        }
        Ok(Step::Continue)
    }

    fn hello(&mut self, host: &str, extended: bool) {
        let mut lines = vec![format!("{} Bonjour [{}]", self.cfg.hostname, self.remote_ip)];
        if extended {
            let offer = Offer {
                cfg: self.cfg,
                tls: self.tls,
                can_starttls: self.can_starttls,
                authenticated: self.user.is_some(),
            };
            lines.extend(self.role.extensions(&offer));
        }
        self.conn.queue(&Reply::plain(250, lines));
        self.greeted = Some(Greeted { name: sanitize_helo(host), extended });
        self.tx = None;
    }

    async fn auth(&mut self, mechanism: u64, initial: &str) -> Result<(), SmtpError> {
        if !self.role.offers_auth() {
            return Err(SmtpError::NotImplemented("AUTH"));
        }
        if self.greeted.is_none() {
            return Err(SmtpError::BadSequence("send EHLO first"));
        }
        if !self.tls {
            return Err(SmtpError::EncryptionRequired);
        }
        if self.user.is_some() {
            return Err(SmtpError::AlreadyAuthenticated);
        }
        let bearer = self.role.bearer_challenge(sasl::BearerMechanism::OAuthBearer).is_some();
        let proof = crate::auth::exchange(&mut self.conn, self.cfg, mechanism, initial, bearer).await?;
        match self.role.login(&proof, self.remote_ip).await {
            Ok(user) => {
                self.user = Some(user);
                self.conn.queue(&Reply::new(235, "2.7.0", "Authentification reussie / Authentication successful"));
                Ok(())
            }
            Err(error) => {
                tracing::info!(%error, "login refused");
                if let (crate::auth::Proof::Bearer { mechanism, .. }, SmtpError::Auth(_)) = (&proof, &error)
                    && let Some(json) = self.role.bearer_challenge(*mechanism)
                {
                    crate::auth::error_challenge(&mut self.conn, self.cfg, &json).await?;
                }
                Err(error)
            }
        }
    }

    async fn mail(&mut self, from: MailFrom<Cow<'_, str>>) -> Result<(), SmtpError> {
        self.role.may_start(self.greeted.is_some(), self.user.is_some())?;
        if self.tx.is_some() {
            return Err(SmtpError::BadSequence("nested MAIL command"));
        }
        self.role.mail_parameters(&from)?;
        if from.size > self.cfg.max_message_size {
            return Err(SmtpError::MessageTooBig);
        }
        let smtputf8 = from.flags & smtp_proto::MAIL_SMTPUTF8 != 0;
        let sender = if from.address.is_empty() {
            None
        } else {
            if !smtputf8 && !from.address.is_ascii() {
                return Err(SmtpError::NeedsSmtpUtf8);
            }
            Some(Address::parse(&from.address).map_err(|_| SmtpError::BadSender)?)
        };
        self.role.check_sender(self.user.as_ref(), sender.as_ref()).await?;
        self.tx = Some(Transaction {
            from: sender,
            smtputf8,
            declared_size: (from.size > 0).then_some(from.size as u64),
            recipients: Vec::new(),
            chunks: None,
            deadline: Instant::now() + self.cfg.transaction_timeout,
        });
        self.conn.queue(&Reply::new(250, "2.1.0", "Ok"));
        Ok(())
    }

    async fn rcpt(&mut self, to: RcptTo<Cow<'_, str>>, line: &[u8]) -> Result<(), SmtpError> {
        let Some(tx) = self.tx.as_ref() else {
            return Err(SmtpError::BadSequence("need MAIL before RCPT"));
        };
        if tx.chunks.is_some() {
            return Err(SmtpError::BadSequence("RCPT during a BDAT transfer"));
        }
        self.role.rcpt_parameters(&to)?;
        let address = if !to.address.is_empty() {
            to.address.into_owned()
        } else if line.windows(12).any(|w| w.eq_ignore_ascii_case(b"<postmaster>")) {
            // RFC 5321 requires accepting the unqualified postmaster address.
            self.role.postmaster(&self.cfg.hostname).await.ok_or(SmtpError::BadRecipient)?
        } else {
            return Err(SmtpError::BadRecipient);
        };
        let Some(tx) = self.tx.as_mut() else {
            return Err(SmtpError::BadSequence("need MAIL before RCPT"));
        };
        if !tx.smtputf8 && !address.is_ascii() {
            return Err(SmtpError::NeedsSmtpUtf8);
        }
        let address = Address::parse(&address).map_err(|_| SmtpError::BadRecipient)?;
        if !tx.recipients.iter().any(|known| known.address == address) {
            if tx.recipients.len() >= self.cfg.max_recipients {
                return Err(SmtpError::TooManyRecipients);
            }
            let accounts = self.role.check_recipient(self.user.as_ref(), &address, tx.declared_size).await?;
            tx.recipients.push(Recipient { address, accounts });
        }
        self.conn.queue(&Reply::new(250, "2.1.5", "Ok"));
        Ok(())
    }

    async fn data(&mut self) -> Result<(), SmtpError> {
        let Some(tx) = self.tx.as_ref() else {
            return Err(SmtpError::BadSequence("need MAIL and RCPT before DATA"));
        };
        if tx.chunks.is_some() {
            return Err(SmtpError::BadSequence("DATA during a BDAT transfer"));
        }
        if tx.recipients.is_empty() {
            return Err(SmtpError::NoValidRecipients);
        }
        if self.cfg.body_budget.spent() {
            // Every byte of the shared budget is held: refuse now rather than read
            // a body that could not be delivered.
            self.tx = None;
            return Err(SmtpError::Resources);
        }
        let deadline = tx.deadline;
        self.conn.queue(&Reply::new(354, "2.0.0", "End data with <CR><LF>.<CR><LF>"));
        let spool = match crate::body::read_dot_body(&mut self.conn, self.cfg, deadline).await {
            Ok(spool) => spool,
            Err(error) => {
                tracing::info!(%error, "connection lost during DATA, nothing delivered");
                return Err(error.into());
            }
        };
        if spool.too_big() {
            self.tx = None;
            return Err(SmtpError::MessageTooBig);
        }
        self.finish(spool).await
    }

    async fn bdat(&mut self, size: usize, last: bool) -> Result<(), SmtpError> {
        if !self.role.chunking() {
            return Err(SmtpError::NotImplemented("BDAT"));
        }
        let problem = match &self.tx {
            None => Some(SmtpError::BadSequence("need MAIL and RCPT before BDAT")),
            Some(tx) if tx.recipients.is_empty() => Some(SmtpError::NoValidRecipients),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            // RFC 3030: the chunk is read (and dropped) even when the command fails.
            self.conn.read_exact_with(size, |_| {}).await?;
            return Err(problem);
        }
        let Some(tx) = self.tx.as_mut() else {
            return Err(SmtpError::BadSequence("no transaction"));
        };
        let deadline = tx.deadline;
        let mut chunks = tx.chunks.take().unwrap_or_else(|| Spool::new(self.cfg.spool_settings()));
        self.conn.set_deadline(Some(deadline));
        self.conn.set_body_pace(Some(BodyPace::new(self.cfg.data_min_rate, self.cfg.data_grace)));
        let mut left = size;
        while left > 0 {
            if self.conn.buffered().is_empty()
                && let Err(error) = self.conn.fill().await
            {
                tracing::info!(%error, "connection lost during BDAT, nothing delivered");
                return Err(error.into());
            }
            let piece = self.conn.buffered().len().min(left);
            chunks.write(&self.conn.buffered()[..piece]).await;
            self.conn.consume(piece);
            left -= piece;
        }
        self.conn.set_body_pace(None);
        if chunks.too_big() {
            self.tx = None;
            return Err(SmtpError::MessageTooBig);
        }
        if last {
            return self.finish(chunks).await;
        }
        if let Some(tx) = self.tx.as_mut() {
            tx.chunks = Some(chunks);
        }
        self.conn.queue(&Reply::new(250, "2.0.0", format!("{size} octets received")));
        Ok(())
    }

    /// Hands the complete message to the role; 250 only once it is durable.
    async fn finish(&mut self, body: Spool) -> Result<(), SmtpError> {
        let (Some(tx), Some(greeted)) = (self.tx.take(), self.greeted.as_ref()) else {
            return Err(SmtpError::BadSequence("no transaction"));
        };
        let id = new_queue_id();
        let single_recipient = match tx.recipients.as_slice() {
            [only] => Some(&only.address),
            _ => None,
        };
        let trace = Trace {
            helo: &greeted.name,
            remote_ip: self.remote_ip,
            hostname: &self.cfg.hostname,
            extended: greeted.extended,
            tls: self.tls,
            smtputf8: tx.smtputf8,
            id: &id,
            single_recipient,
        };
        let header = self.role.received(&trace);
        // The message stays charged to the shared budget until the role is done.
        let (message, _charge) = body.finish(header.as_bytes()).await.map_err(|error| {
            tracing::warn!(%id, %error, "message refused for lack of resources");
            SmtpError::Resources
        })?;
        let size = message.len();
        let recipients = tx.recipients.len();
        let envelope = Gathered {
            from: tx.from,
            recipients: tx.recipients,
            helo: &greeted.name,
            remote_ip: self.remote_ip,
            tls: self.tls,
            id: &id,
        };
        self.role.accept(self.user.as_ref(), envelope, message).await?;
        tracing::info!(%id, size, recipients, "message accepted");
        metrics::counter!("ardoise_smtp_messages_total", "role" => self.role.name()).increment(1);
        metrics::counter!("ardoise_smtp_recipients_total", "role" => self.role.name()).increment(recipients as u64);
        self.conn.queue(&Reply::new(250, "2.0.0", format!("Ok: queued as {id}")));
        // The command budget guards against sessions that talk without
        // delivering; a sender reusing its connection starts afresh.
        self.commands = 0;
        Ok(())
    }

    fn starttls(&mut self) -> Result<(), SmtpError> {
        if self.tls {
            return Err(SmtpError::BadSequence("TLS already active"));
        }
        if !self.can_starttls {
            return Err(SmtpError::NotImplemented("STARTTLS"));
        }
        self.conn.queue(&Reply::new(220, "2.0.0", "Ready to start TLS"));
        Ok(())
    }
}
