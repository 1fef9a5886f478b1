//! Message submission (RFC 6409): authenticated users sending mail.
//!
//! The same wire machinery as the MX ([`Conn`], the DATA decoder, the reply
//! type), with its own state machine: AUTH PLAIN and LOGIN (RFC 4954) only over
//! TLS, MAIL and RCPT only once authenticated, any recipient domain accepted
//! (this is not relaying: the user is known), and the business decisions
//! (who may send as whom, sending limits, delivery) left to a
//! [`SubmissionSink`]. Refusals become replies in [`Refusal::reply`], the one
//! place where submission errors get their codes:
//!
//! | refusal | reply |
//! |---|---|
//! | sender not the user nor an alias | `553 5.7.1` |
//! | hourly sending limit reached | `450 4.7.1` (temporary: the client keeps the message) |
//! | unknown local recipient | `550 5.1.1` |
//! | AUTH before TLS | `538 5.7.11` |
//! | MAIL before AUTH | `530 5.7.0` |
//! | wrong credentials | `535 5.7.8` |

use std::borrow::Cow;
use std::net::IpAddr;

use model::Address;
use smtp_proto::{MailFrom, Request};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::conn::{Conn, Line};
use crate::received::new_queue_id;
use crate::reply::{Reply, SmtpError};
use crate::session::Ending;
use crate::submission_reply::Refusal;
use crate::{AuthFailure, SmtpConfig, SubmissionSink};

/// The envelope of one submitted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionEnvelope {
    pub mail_from: Option<Address>,
    pub recipients: Vec<Address>,
}

struct Transaction {
    from: Option<Address>,
    smtputf8: bool,
    recipients: Vec<Address>,
    /// When the transaction must be over, whatever the pace of the client.
    deadline: tokio::time::Instant,
}

/// One submission conversation on one stream.
pub(crate) struct SubmissionSession<'a, S, K: SubmissionSink> {
    conn: Conn<S>,
    cfg: &'a SmtpConfig,
    sink: &'a K,
    remote_ip: IpAddr,
    tls: bool,
    can_starttls: bool,
    helo: Option<String>,
    user: Option<K::User>,
    tx: Option<Transaction>,
    commands: usize,
    errors: usize,
}

enum Step {
    Continue,
    Quit,
    StartTls,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin + Send, K: SubmissionSink> SubmissionSession<'a, S, K> {
    pub(crate) fn new(
        conn: Conn<S>,
        cfg: &'a SmtpConfig,
        sink: &'a K,
        remote_ip: IpAddr,
        tls: bool,
        can_starttls: bool,
    ) -> Self {
        SubmissionSession {
            conn,
            cfg,
            sink,
            remote_ip,
            tls,
            can_starttls,
            helo: None,
            user: None,
            tx: None,
            commands: 0,
            errors: 0,
        }
    }

    pub(crate) async fn run(mut self, greet: bool) -> Ending<S> {
        if greet {
            let banner = format!("{} ESMTP Ardoise (submission)", self.cfg.hostname);
            self.conn.queue(&Reply::plain(220, vec![banner]));
        }
        let outcome = self.serve_commands().await;
        match outcome {
            Ok(Step::StartTls) => match self.conn.into_stream().await {
                Ok((stream, _)) => Ending::StartTls(stream),
                Err(_) => Ending::Closed,
            },
            Ok(_) => {
                self.conn.close().await;
                Ending::Closed
            }
            Err(error) => {
                if let Some(reply) = error.reply(&self.cfg.hostname) {
                    self.conn.queue(&reply);
                }
                self.conn.close().await;
                Ending::Closed
            }
        }
    }

    async fn serve_commands(&mut self) -> Result<Step, Refusal> {
        loop {
            let max = self.cfg.max_line_length;
            self.conn.set_deadline(Some(self.cfg.command_deadline(self.tx.as_ref().map(|tx| tx.deadline))));
            let line = match &self.user {
                Some(user) => tokio::select! {
                    line = self.conn.read_line(max) => line?,
                    () = self.sink.revoked(user) => return Err(Refusal::Revoked),
                },
                None => self.conn.read_line(max).await?,
            };
            self.commands += 1;
            if self.commands > self.cfg.max_commands {
                return Err(SmtpError::TooManyCommands.into());
            }
            let outcome = match line {
                Line::Complete(line) => self.command(&line).await,
                Line::TooLong => Err(SmtpError::LineTooLong.into()),
            };
            match outcome {
                Ok(Step::Continue) => {}
                Ok(step) => return Ok(step),
                Err(error) if error.ends_session() => return Err(error),
                Err(error) => {
                    tracing::debug!(?error, "submission command refused");
                    if let Some(reply) = error.reply(&self.cfg.hostname) {
                        self.conn.queue(&reply);
                    }
                    if error.counts_as_error() {
                        self.errors += 1;
                        if self.errors >= self.cfg.max_errors {
                            return Err(SmtpError::TooManyErrors.into());
                        }
                    }
                }
            }
        }
    }

    async fn command(&mut self, line: &[u8]) -> Result<Step, Refusal> {
        let request = Request::parse(&mut line.iter()).map_err(SmtpError::from_parse)?;
        match request {
            Request::Ehlo { host } => self.hello(&host, true),
            Request::Helo { host } => self.hello(&host, false),
            Request::StartTls => {
                if self.tls || !self.can_starttls {
                    return Err(SmtpError::BadSequence("TLS already active").into());
                }
                self.conn.queue(&Reply::new(220, "2.0.0", "Ready to start TLS"));
                return Ok(Step::StartTls);
            }
            Request::Auth { mechanism, initial_response } => self.auth(mechanism, &initial_response).await?,
            Request::Mail { from } => self.mail(from).await?,
            Request::Rcpt { to } => self.rcpt(&to.address).await?,
            Request::Data => self.data().await?,
            Request::Rset => {
                self.tx = None;
                self.conn.queue(&Reply::ok());
            }
            Request::Noop { .. } => self.conn.queue(&Reply::ok()),
            Request::Quit => {
                self.conn.queue(&Reply::new(221, "2.0.0", format!("{} Bye", self.cfg.hostname)));
                return Ok(Step::Quit);
            }
            Request::Vrfy { .. } => self.conn.queue(&Reply::new(252, "2.5.0", "Cannot VRFY user")),
            Request::Help { .. } => self.conn.queue(&Reply::new(214, "2.0.0", "Ardoise submission, see RFC 6409")),
            Request::Bdat { .. } => return Err(SmtpError::NotImplemented("BDAT").into()),
            _ => return Err(SmtpError::UnknownCommand.into()),
        }
        Ok(Step::Continue)
    }

    fn hello(&mut self, host: &str, extended: bool) {
        let first = format!("{} Bonjour [{}]", self.cfg.hostname, self.remote_ip);
        let mut lines = vec![first];
        if extended {
            lines.extend(["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES"].map(str::to_owned));
            lines.push(format!("SIZE {}", self.cfg.max_message_size));
            if self.tls && self.user.is_none() {
                lines.push("AUTH PLAIN LOGIN".to_owned());
            }
            if self.can_starttls && !self.tls {
                lines.push("STARTTLS".to_owned());
            }
        }
        self.conn.queue(&Reply::plain(250, lines));
        self.helo = Some(crate::received::sanitize_helo(host));
        self.tx = None;
    }

    async fn auth(&mut self, mechanism: u64, initial: &str) -> Result<(), Refusal> {
        if self.helo.is_none() {
            return Err(SmtpError::BadSequence("send EHLO first").into());
        }
        if !self.tls {
            return Err(Refusal::EncryptionRequired);
        }
        if self.user.is_some() {
            return Err(Refusal::AlreadyAuthenticated);
        }
        let (login, password) = if mechanism == smtp_proto::AUTH_PLAIN {
            let response = if initial.is_empty() { self.challenge("").await? } else { initial.to_owned() };
            let decoded = decode(&response)?;
            let mut parts = decoded.split(|&b| b == 0);
            let (Some(authz), Some(authc), Some(pass), None) = (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(Refusal::BadBase64);
            };
            if !authz.is_empty() && authz != authc {
                return Err(Refusal::Auth(AuthFailure::BadCredentials));
            }
            (String::from_utf8_lossy(authc).into_owned(), String::from_utf8_lossy(pass).into_owned())
        } else if mechanism == smtp_proto::AUTH_LOGIN {
            let user = if initial.is_empty() { self.challenge("VXNlcm5hbWU6").await? } else { initial.to_owned() };
            let user = decode(&user)?;
            let pass = decode(&self.challenge("UGFzc3dvcmQ6").await?)?;
            (String::from_utf8_lossy(&user).into_owned(), String::from_utf8_lossy(&pass).into_owned())
        } else {
            return Err(Refusal::UnsupportedMechanism);
        };
        match self.sink.authenticate(&login, &password, self.remote_ip).await {
            Ok(user) => {
                self.user = Some(user);
                self.conn.queue(&Reply::new(235, "2.7.0", "Authentification reussie / Authentication successful"));
                Ok(())
            }
            Err(failure) => {
                tracing::info!(?failure, "submission login refused");
                Err(Refusal::Auth(failure))
            }
        }
    }

    /// Sends a 334 challenge and reads the client's answer ("*" cancels).
    async fn challenge(&mut self, text: &str) -> Result<String, Refusal> {
        self.conn.queue(&Reply::plain(334, vec![text.to_owned()]));
        let line = match self.conn.read_line(self.cfg.max_line_length).await? {
            Line::Complete(line) => line,
            Line::TooLong => return Err(SmtpError::LineTooLong.into()),
        };
        let text = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_owned();
        if text == "*" {
            return Err(Refusal::AuthCancelled);
        }
        Ok(text)
    }

    async fn mail(&mut self, from: MailFrom<Cow<'_, str>>) -> Result<(), Refusal> {
        let Some(user) = self.user.as_ref() else {
            return Err(Refusal::AuthRequired);
        };
        if self.tx.is_some() {
            return Err(SmtpError::BadSequence("nested MAIL command").into());
        }
        if from.size > self.cfg.max_message_size {
            return Err(SmtpError::MessageTooBig.into());
        }
        let smtputf8 = from.flags & smtp_proto::MAIL_SMTPUTF8 != 0;
        let sender = if from.address.is_empty() {
            None
        } else {
            Some(Address::parse(&from.address).map_err(|_| SmtpError::BadSender)?)
        };
        self.sink.check_sender(user, sender.as_ref()).await.map_err(Refusal::Policy)?;
        let deadline = tokio::time::Instant::now() + self.cfg.transaction_timeout;
        self.tx = Some(Transaction { from: sender, smtputf8, recipients: Vec::new(), deadline });
        self.conn.queue(&Reply::new(250, "2.1.0", "Ok"));
        Ok(())
    }

    async fn rcpt(&mut self, address: &str) -> Result<(), Refusal> {
        let (Some(user), Some(tx)) = (self.user.as_ref(), self.tx.as_mut()) else {
            return Err(SmtpError::BadSequence("need MAIL before RCPT").into());
        };
        if !tx.smtputf8 && !address.is_ascii() {
            return Err(SmtpError::NeedsSmtpUtf8.into());
        }
        let address = Address::parse(address).map_err(|_| SmtpError::BadRecipient)?;
        if !tx.recipients.contains(&address) {
            if tx.recipients.len() >= self.cfg.max_recipients {
                return Err(SmtpError::TooManyRecipients.into());
            }
            self.sink.check_recipient(user, &address).await.map_err(Refusal::Policy)?;
            tx.recipients.push(address);
        }
        self.conn.queue(&Reply::new(250, "2.1.5", "Ok"));
        Ok(())
    }

    async fn data(&mut self) -> Result<(), Refusal> {
        let deadline = match &self.tx {
            Some(tx) if !tx.recipients.is_empty() => tx.deadline,
            Some(_) => return Err(SmtpError::NoValidRecipients.into()),
            None => return Err(SmtpError::BadSequence("need MAIL and RCPT before DATA").into()),
        };
        if self.cfg.body_budget.spent() {
            self.tx = None;
            return Err(SmtpError::Resources.into());
        }
        self.conn.queue(&Reply::new(354, "2.0.0", "End data with <CR><LF>.<CR><LF>"));
        let body = crate::body::read_dot_body(&mut self.conn, self.cfg, deadline).await?;
        let tx = self.tx.take();
        let (Some(tx), Some(user)) = (tx, self.user.as_ref()) else {
            return Err(SmtpError::BadSequence("no transaction").into());
        };
        if body.too_big() {
            return Err(SmtpError::MessageTooBig.into());
        }
        let id = new_queue_id();
        let date = OffsetDateTime::now_utc().format(&Rfc2822).unwrap_or_default();
        let helo = self.helo.as_deref().unwrap_or("unknown");
        let ip = self.remote_ip;
        let header = format!(
            "Received: from {helo} ([{ip}])\r\n\tby {} with ESMTPSA id {id};\r\n\t{date}\r\n",
            self.cfg.hostname
        );
        // The message stays charged to the shared budget until the sink is done.
        let (message, _charge) = body.finish(header.as_bytes()).await.map_err(|error| {
            tracing::warn!(%id, %error, "message refused for lack of resources");
            SmtpError::Resources
        })?;
        let envelope = SubmissionEnvelope { mail_from: tx.from, recipients: tx.recipients };
        self.sink.submit(user, &envelope, message).await.map_err(Refusal::Policy)?;
        tracing::info!(%id, recipients = envelope.recipients.len(), "message submitted");
        self.conn.queue(&Reply::new(250, "2.0.0", format!("Ok: queued as {id}")));
        self.commands = 0;
        Ok(())
    }
}

fn decode(text: &str) -> Result<Vec<u8>, Refusal> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| Refusal::BadBase64)
}
