//! The MX role: anyone may deliver to local mailboxes, nobody logs in, and a
//! [`MailSink`] decides who is local and stores what arrives.

use std::borrow::Cow;
use std::convert::Infallible;
use std::net::IpAddr;

use model::Address;
use smtp_proto::{MailFrom, RcptTo};
use time::OffsetDateTime;

use crate::received::Trace;
use crate::reply::SmtpError;
use crate::role::{Gathered, Offer, Role};
use crate::{Envelope, MailSink, RcptVerdict};

/// The MX policy over its sink.
pub(crate) struct Mx<'a, K>(pub &'a K);

impl<K: MailSink> Role for Mx<'_, K> {
    type User = Infallible;

    fn name(&self) -> &'static str {
        "mx"
    }

    fn banner(&self) -> &'static str {
        "ESMTP Ardoise"
    }

    fn extensions(&self, offer: &Offer<'_>) -> Vec<String> {
        let mut lines = vec![
            "PIPELINING".to_owned(),
            format!("SIZE {}", offer.cfg.max_message_size),
            "8BITMIME".to_owned(),
            "SMTPUTF8".to_owned(),
            "ENHANCEDSTATUSCODES".to_owned(),
            "CHUNKING".to_owned(),
        ];
        if offer.can_starttls && !offer.tls {
            lines.push("STARTTLS".to_owned());
        }
        lines
    }

    fn vrfy(&self) -> &'static str {
        "Cannot VRFY user, but will accept message and attempt delivery"
    }

    fn help(&self) -> &'static str {
        "Ardoise SMTP, see RFC 5321"
    }

    fn chunking(&self) -> bool {
        true
    }

    fn offers_auth(&self) -> bool {
        false
    }

    async fn login(&self, _: &crate::auth::Proof, _: IpAddr) -> Result<Infallible, SmtpError> {
        Err(SmtpError::NotImplemented("AUTH"))
    }

    async fn revoked(&self, user: &Infallible) {
        match *user {}
    }

    fn may_start(&self, greeted: bool, _authenticated: bool) -> Result<(), SmtpError> {
        if greeted { Ok(()) } else { Err(SmtpError::BadSequence("send HELO or EHLO first")) }
    }

    fn mail_parameters(&self, from: &MailFrom<Cow<'_, str>>) -> Result<(), SmtpError> {
        match unoffered_mail_parameter(from) {
            Some(param) => Err(SmtpError::UnsupportedParameter(param.to_owned())),
            None => Ok(()),
        }
    }

    async fn check_sender(&self, _: Option<&Infallible>, _: Option<&Address>) -> Result<(), SmtpError> {
        Ok(())
    }

    fn rcpt_parameters(&self, to: &RcptTo<Cow<'_, str>>) -> Result<(), SmtpError> {
        if to.orcpt.is_some() || to.flags != 0 || to.rrvs != 0 {
            return Err(SmtpError::UnsupportedParameter("NOTIFY, ORCPT or RRVS".to_owned()));
        }
        Ok(())
    }

    async fn postmaster(&self, hostname: &str) -> Option<String> {
        Some(self.0.postmaster(hostname).await)
    }

    async fn check_recipient(
        &self,
        _: Option<&Infallible>,
        rcpt: &Address,
        declared_size: Option<u64>,
    ) -> Result<Vec<i64>, SmtpError> {
        match self.0.check_recipient(rcpt, declared_size).await {
            RcptVerdict::Accept(account) => Ok(vec![account]),
            RcptVerdict::AcceptFor(accounts) if !accounts.is_empty() => Ok(accounts),
            RcptVerdict::AcceptExpanded => Ok(vec![crate::EXPANDED]),
            RcptVerdict::AcceptFor(_) | RcptVerdict::UnknownUser => Err(SmtpError::UnknownUser),
            RcptVerdict::NotLocal => Err(SmtpError::RelayDenied),
            RcptVerdict::OverQuota => Err(SmtpError::OverQuota),
            RcptVerdict::TemporaryFailure => Err(SmtpError::RecipientTemporary),
        }
    }

    fn received(&self, trace: &Trace<'_>) -> String {
        trace.header(OffsetDateTime::now_utc())
    }

    async fn accept(&self, _: Option<&Infallible>, gathered: Gathered<'_>, message: Vec<u8>) -> Result<(), SmtpError> {
        let id = gathered.id;
        let envelope = Envelope {
            mail_from: gathered.from,
            recipients: gathered
                .recipients
                .into_iter()
                .flat_map(|r| r.accounts.into_iter().map(move |account| (r.address.clone(), account)))
                .collect(),
            helo: gathered.helo.to_owned(),
            remote_ip: gathered.remote_ip,
            tls: gathered.tls,
        };
        let message = match self.0.authenticate(&envelope, &message).await {
            Ok(None) => message,
            Ok(Some(header)) => [header.as_bytes(), &message].concat(),
            Err(reason) => {
                tracing::info!(%id, "message refused by the sender's authentication policy");
                return Err(SmtpError::SenderPolicy(reason));
            }
        };
        self.0.deliver(&envelope, message).await.map_err(|error| {
            tracing::warn!(%id, transience = ?error.transience, %error, "delivery failed");
            SmtpError::Delivery(error)
        })
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
