//! The SMTP session state machine (RFC 5321, with RFC 2920 PIPELINING, RFC 3030
//! CHUNKING, RFC 3207 STARTTLS, RFC 1870 SIZE and RFC 6531 SMTPUTF8).
//!
//! A session reads one command line at a time, answers it through the connection's
//! reply queue, and returns either when the conversation is over or when the client
//! asked for STARTTLS, giving its stream back for the upgrade.

use std::borrow::Cow;
use std::net::IpAddr;

use model::Address;
use smtp_proto::{MailFrom, RcptTo, Request};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use crate::body::Spool;
use crate::conn::{BodyPace, Conn, ConnError, Line};
use crate::received::{Trace, new_queue_id, sanitize_helo};
use crate::reply::{Reply, SmtpError};
use crate::{Envelope, MailSink, RcptVerdict, SmtpConfig};

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
    recipients: Vec<(Address, i64)>,
    /// The body received so far through BDAT.
    chunks: Option<Spool>,
    /// When the transaction must be over, whatever the pace of the client.
    deadline: Instant,
}

/// One SMTP conversation on one stream (a STARTTLS upgrade starts a new one).
pub(crate) struct Session<'a, S, K> {
    conn: Conn<S>,
    cfg: &'a SmtpConfig,
    sink: &'a K,
    remote_ip: IpAddr,
    tls: bool,
    can_starttls: bool,
    greeted: Option<Greeted>,
    tx: Option<Transaction>,
    commands: usize,
    errors: usize,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin + Send, K: MailSink> Session<'a, S, K> {
    pub(crate) fn new(
        conn: Conn<S>,
        cfg: &'a SmtpConfig,
        sink: &'a K,
        remote_ip: IpAddr,
        tls: bool,
        can_starttls: bool,
    ) -> Self {
        Session { conn, cfg, sink, remote_ip, tls, can_starttls, greeted: None, tx: None, commands: 0, errors: 0 }
    }

    /// Runs the conversation; `greet` is false after STARTTLS, where no 220 is due.
    pub(crate) async fn run(mut self, greet: bool) -> Ending<S> {
        if greet {
            let banner = format!("{} ESMTP Ardoise", self.cfg.hostname);
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
            let line = self.conn.read_line(self.cfg.max_line_length).await?;
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
            Request::Mail { from } => self.mail(from)?,
            Request::Rcpt { to } => self.rcpt(to, line).await?,
            Request::Data => self.data().await?,
            Request::Bdat { chunk_size, is_last } => self.bdat(chunk_size, is_last).await?,
            Request::Rset => {
                self.tx = None;
                self.conn.queue(&Reply::ok());
            }
            Request::Noop { .. } => self.conn.queue(&Reply::ok()),
            Request::Vrfy { .. } => self.conn.queue(&Reply::new(
                252,
                "2.5.0",
                "Cannot VRFY user, but will accept message and attempt delivery",
            )),
            Request::Help { .. } => {
                self.conn.queue(&Reply::new(214, "2.0.0", "Ardoise SMTP, see RFC 5321"));
            }
            Request::Quit => {
                self.conn.queue(&Reply::new(221, "2.0.0", format!("{} Bye", self.cfg.hostname)));
                return Ok(Step::Quit);
            }
            Request::StartTls => {
                self.starttls()?;
                return Ok(Step::StartTls);
            }
            Request::Auth { .. } => return Err(SmtpError::NotImplemented("AUTH")),
            Request::Expn { .. } => return Err(SmtpError::NotImplemented("EXPN")),
            Request::Etrn { .. } => return Err(SmtpError::NotImplemented("ETRN")),
            Request::Atrn { .. } => return Err(SmtpError::NotImplemented("ATRN")),
            Request::Burl { .. } => return Err(SmtpError::NotImplemented("BURL")),
            Request::Lhlo { .. } => return Err(SmtpError::NotImplemented("LHLO")),
        }
        Ok(Step::Continue)
    }

    fn hello(&mut self, host: &str, extended: bool) {
        let first = format!("{} Bonjour [{}]", self.cfg.hostname, self.remote_ip);
        let lines = if extended {
            let mut lines = vec![
                first,
                "PIPELINING".to_owned(),
                format!("SIZE {}", self.cfg.max_message_size),
                "8BITMIME".to_owned(),
                "SMTPUTF8".to_owned(),
                "ENHANCEDSTATUSCODES".to_owned(),
                "CHUNKING".to_owned(),
            ];
            if self.can_starttls && !self.tls {
                lines.push("STARTTLS".to_owned());
            }
            lines
        } else {
            vec![first]
        };
        self.conn.queue(&Reply::plain(250, lines));
        self.greeted = Some(Greeted { name: sanitize_helo(host), extended });
        self.tx = None;
    }

    fn mail(&mut self, from: MailFrom<Cow<'_, str>>) -> Result<(), SmtpError> {
        if self.greeted.is_none() {
            return Err(SmtpError::BadSequence("send HELO or EHLO first"));
        }
        if self.tx.is_some() {
            return Err(SmtpError::BadSequence("nested MAIL command"));
        }
        if let Some(param) = unoffered_mail_parameter(&from) {
            return Err(SmtpError::UnsupportedParameter(param.to_owned()));
        }
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
        let Some(tx) = self.tx.as_mut() else {
            return Err(SmtpError::BadSequence("need MAIL before RCPT"));
        };
        if tx.chunks.is_some() {
            return Err(SmtpError::BadSequence("RCPT during a BDAT transfer"));
        }
        if to.orcpt.is_some() || to.flags != 0 || to.rrvs != 0 {
            return Err(SmtpError::UnsupportedParameter("NOTIFY, ORCPT or RRVS".to_owned()));
        }
        let address = if !to.address.is_empty() {
            to.address.into_owned()
        } else if line.windows(12).any(|w| w.eq_ignore_ascii_case(b"<postmaster>")) {
            // RFC 5321 requires accepting the unqualified postmaster address.
            format!("postmaster@{}", self.cfg.hostname)
        } else {
            return Err(SmtpError::BadRecipient);
        };
        if !tx.smtputf8 && !address.is_ascii() {
            return Err(SmtpError::NeedsSmtpUtf8);
        }
        let address = Address::parse(&address).map_err(|_| SmtpError::BadRecipient)?;
        if !tx.recipients.iter().any(|(known, _)| *known == address) {
            if tx.recipients.len() >= self.cfg.max_recipients {
                return Err(SmtpError::TooManyRecipients);
            }
            match self.sink.check_recipient(&address, tx.declared_size).await {
                RcptVerdict::Accept(account) => tx.recipients.push((address, account)),
                RcptVerdict::UnknownUser => return Err(SmtpError::UnknownUser),
                RcptVerdict::NotLocal => return Err(SmtpError::RelayDenied),
                RcptVerdict::OverQuota => return Err(SmtpError::OverQuota),
                RcptVerdict::TemporaryFailure => return Err(SmtpError::RecipientTemporary),
            }
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
        self.deliver(spool).await
    }

    async fn bdat(&mut self, size: usize, last: bool) -> Result<(), SmtpError> {
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
            return self.deliver(chunks).await;
        }
        if let Some(tx) = self.tx.as_mut() {
            tx.chunks = Some(chunks);
        }
        self.conn.queue(&Reply::new(250, "2.0.0", format!("{size} octets received")));
        Ok(())
    }

    /// Hands the complete message to the sink; 250 only once it is durable.
    async fn deliver(&mut self, body: Spool) -> Result<(), SmtpError> {
        let (Some(tx), Some(greeted)) = (self.tx.take(), self.greeted.as_ref()) else {
            return Err(SmtpError::BadSequence("no transaction"));
        };
        let id = new_queue_id();
        let trace = Trace {
            helo: &greeted.name,
            remote_ip: self.remote_ip,
            hostname: &self.cfg.hostname,
            extended: greeted.extended,
            tls: self.tls,
            smtputf8: tx.smtputf8,
            id: &id,
            single_recipient: match tx.recipients.as_slice() {
                [(only, _)] => Some(only),
                _ => None,
            },
        };
        let header = trace.header(OffsetDateTime::now_utc());
        // The message stays charged to the shared budget until the sink is done.
        let (message, _charge) = body.finish(header.as_bytes()).await.map_err(|error| {
            tracing::warn!(%id, %error, "message refused for lack of resources");
            SmtpError::Resources
        })?;

        let size = message.len();
        let envelope = Envelope {
            mail_from: tx.from,
            recipients: tx.recipients,
            helo: greeted.name.clone(),
            remote_ip: self.remote_ip,
            tls: self.tls,
        };
        let message = match self.sink.authenticate(&envelope, &message).await {
            Ok(None) => message,
            Ok(Some(header)) => [header.as_bytes(), &message].concat(),
            Err(reason) => {
                tracing::info!(%id, "message refused by the sender's authentication policy");
                self.conn.queue(&Reply::new(550, "5.7.1", reason));
                return Ok(());
            }
        };
        match self.sink.deliver(&envelope, message).await {
            Ok(()) => {
                tracing::info!(%id, size, recipients = envelope.recipients.len(), "message accepted");
                self.conn.queue(&Reply::new(250, "2.0.0", format!("Ok: queued as {id}")));
                // The command budget guards against sessions that talk without
                // delivering; a sender reusing its connection starts afresh.
                self.commands = 0;
                Ok(())
            }
            Err(error) => {
                tracing::warn!(%id, transience = ?error.transience, %error, "delivery failed");
                Err(error.into())
            }
        }
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

/// Names the first MAIL FROM parameter that belongs to an extension not offered here.
fn unoffered_mail_parameter(from: &MailFrom<Cow<'_, str>>) -> Option<&'static str> {
    use smtp_proto::*;
    let offered = MAIL_BODY_7BIT | MAIL_BODY_8BITMIME | MAIL_SMTPUTF8;
    let flags = from.flags & !offered;
    let checks = [
        (flags & MAIL_BODY_BINARYMIME != 0, "BODY=BINARYMIME"),
        (flags & (MAIL_RET_FULL | MAIL_RET_HDRS) != 0 || from.env_id.is_some(), "RET/ENVID"),
        (flags & MAIL_REQUIRETLS != 0, "REQUIRETLS"),
        (flags & MAIL_CONPERM != 0, "CONPERM"),
        (flags & (MAIL_BY_NOTIFY | MAIL_BY_RETURN | MAIL_BY_TRACE) != 0 || from.by != 0, "BY"),
        (from.hold_for != 0 || from.hold_until != 0, "HOLDFOR/HOLDUNTIL"),
        (from.mt_priority != 0, "MT-PRIORITY"),
        (from.mtrk.is_some(), "MTRK"),
        (from.solicit.is_some(), "SOLICIT"),
        (from.trans_id.is_some(), "TRANSID"),
        (from.auth.is_some(), "AUTH"),
        (flags != 0, "unknown"),
    ];
    checks.into_iter().find_map(|(present, name)| present.then_some(name))
}
