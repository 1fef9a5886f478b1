//! The submission role (RFC 6409): authenticated users sending mail.
//!
//! AUTH PLAIN and LOGIN (RFC 4954), and OAUTHBEARER and XOAUTH2 when the
//! sink takes tokens, only over TLS, MAIL and RCPT only once
//! authenticated, any recipient domain accepted (this is not relaying: the
//! user is known), and the business decisions (who may send as whom, sending
//! limits, delivery) left to a [`SubmissionSink`]. The replies of its
//! refusals are in `reply.rs` with every other.

use std::borrow::Cow;
use std::net::IpAddr;

use model::Address;
use smtp_proto::{MailFrom, RcptTo};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use crate::SubmissionSink;
use crate::received::Trace;
use crate::reply::SmtpError;
use crate::role::{Gathered, Offer, Role};

/// The envelope of one submitted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionEnvelope {
    pub mail_from: Option<Address>,
    pub recipients: Vec<Address>,
}

/// The submission policy over its sink.
pub(crate) struct Submission<'a, K>(pub &'a K);

impl<K: SubmissionSink> Role for Submission<'_, K> {
    type User = K::User;

    fn name(&self) -> &'static str {
        "submission"
    }

    fn banner(&self) -> &'static str {
        "ESMTP Ardoise (submission)"
    }

    fn extensions(&self, offer: &Offer<'_>) -> Vec<String> {
        let mut lines: Vec<String> =
            ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES"].map(str::to_owned).into();
        lines.push(format!("SIZE {}", offer.cfg.max_message_size));
        if offer.tls && !offer.authenticated {
            match self.0.bearer_challenge(sasl::BearerMechanism::OAuthBearer) {
                Some(_) => lines.push("AUTH PLAIN LOGIN OAUTHBEARER XOAUTH2".to_owned()),
                None => lines.push("AUTH PLAIN LOGIN".to_owned()),
            }
        }
        if offer.can_starttls && !offer.tls {
            lines.push("STARTTLS".to_owned());
        }
        lines
    }

    fn vrfy(&self) -> &'static str {
        "Cannot VRFY user"
    }

    fn help(&self) -> &'static str {
        "Ardoise submission, see RFC 6409"
    }

    fn chunking(&self) -> bool {
        false
    }

    fn offers_auth(&self) -> bool {
        true
    }

    async fn login(&self, proof: &crate::auth::Proof, remote_ip: IpAddr) -> Result<K::User, SmtpError> {
        match proof {
            crate::auth::Proof::Password { login, password } => self.0.authenticate(login, password, remote_ip).await,
            crate::auth::Proof::Bearer { response, .. } => {
                self.0.authenticate_bearer(response.user.as_deref(), &response.token, remote_ip).await
            }
        }
        .map_err(SmtpError::Auth)
    }

    fn bearer_challenge(&self, mechanism: sasl::BearerMechanism) -> Option<String> {
        self.0.bearer_challenge(mechanism)
    }

    async fn revoked(&self, user: &K::User) {
        self.0.revoked(user).await
    }

    fn may_start(&self, _greeted: bool, authenticated: bool) -> Result<(), SmtpError> {
        if authenticated { Ok(()) } else { Err(SmtpError::AuthRequired) }
    }

    fn mail_parameters(&self, _: &MailFrom<Cow<'_, str>>) -> Result<(), SmtpError> {
        Ok(())
    }

    async fn check_sender(&self, user: Option<&K::User>, sender: Option<&Address>) -> Result<(), SmtpError> {
        let user = user.ok_or(SmtpError::AuthRequired)?;
        self.0.check_sender(user, sender).await.map_err(SmtpError::Policy)
    }

    fn rcpt_parameters(&self, _: &RcptTo<Cow<'_, str>>) -> Result<(), SmtpError> {
        Ok(())
    }

    async fn postmaster(&self, _hostname: &str) -> Option<String> {
        None
    }

    async fn check_recipient(
        &self,
        user: Option<&K::User>,
        rcpt: &Address,
        _declared_size: Option<u64>,
    ) -> Result<Vec<i64>, SmtpError> {
        let user = user.ok_or(SmtpError::AuthRequired)?;
        self.0.check_recipient(user, rcpt).await.map_err(SmtpError::Policy)?;
        Ok(Vec::new())
    }

    fn received(&self, trace: &Trace<'_>) -> String {
        let date = OffsetDateTime::now_utc().format(&Rfc2822).unwrap_or_default();
        format!(
            "Received: from {} ([{}])\r\n\tby {} with ESMTPSA id {};\r\n\t{date}\r\n",
            trace.helo, trace.remote_ip, trace.hostname, trace.id
        )
    }

    async fn accept(&self, user: Option<&K::User>, gathered: Gathered<'_>, message: Vec<u8>) -> Result<(), SmtpError> {
        let user = user.ok_or(SmtpError::AuthRequired)?;
        let envelope = SubmissionEnvelope {
            mail_from: gathered.from,
            recipients: gathered.recipients.into_iter().map(|r| r.address).collect(),
        };
        self.0.submit(user, &envelope, message).await.map_err(SmtpError::Policy)
    }
}
