//! Submission: a local user's message, from the end of DATA to "durable".
//!
//! The sender checks happen here (envelope sender, every `From:` and `Sender:`
//! address, and any address written in their display names must be the
//! user's address or one of their aliases, or an address whose owner gave
//! them « send as », or « on behalf » with their own address in `Sender:`:
//! `mailstore`'s delegation decides; exactly one `From:` field; see
//! `headers.rs`), then the hourly
//! allowance, then DKIM signing with the From domain's key. Remote recipients
//! are delivered through the mail store, then remote ones are queued (blob
//! fsync'd, then the queue row committed); only then does the caller answer
//! 250. A crash between the two steps makes the client resend the message, so
//! a local recipient could get it twice; the window is one queue insert.

use mailstore::{Bytes, RecipientStatus};
use model::{AccountId, Address, ErrorKind, Transience};
use store::{Account, NewQueued};

use crate::headers::{self, Authors, normalize_line_endings};
use crate::limits::Exceeded;
use crate::{Error, Mta, now};

/// A message handed over by an authenticated user.
#[derive(Debug)]
pub struct Submission<'a> {
    pub account: &'a Account,
    /// The envelope sender; `None` is `<>`, which users may not use.
    pub mail_from: Option<&'a Address>,
    pub recipients: &'a [Address],
    /// The message, trace header included.
    pub message: Vec<u8>,
}

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The sender is not the user nor one of their aliases (553 5.7.1).
    #[error("not allowed to send as {0}")]
    ForgedSender(String),
    /// The hourly allowance is used up (450 4.7.1).
    #[error("sending limit reached")]
    LimitExceeded(Exceeded),
    /// Anything else, temporary or permanent.
    #[error("{1}")]
    Failed(Transience, String),
}

impl From<Error> for SubmitError {
    fn from(e: Error) -> SubmitError {
        tracing::error!(error = %e, "submission failed");
        SubmitError::Failed(e.transience(), "submission failed".into())
    }
}

/// The owner a delegate sends for, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Delegated {
    owner: AccountId,
    on_behalf: bool,
}

/// What a recipient address means to the submission service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The local accounts that get a copy: one, or the domain's
    /// administrators for its `postmaster@` and `abuse@`.
    Local(Vec<AccountId>),
    /// A local domain without such a mailbox.
    UnknownLocal,
    Remote,
}

impl Mta {
    /// Whether `account` may use `address` as a sender.
    pub async fn may_send_as(&self, account: &Account, address: &Address) -> Result<bool, Error> {
        if account.address == *address {
            return Ok(true);
        }
        let aliases = self.store.list_aliases(account.id).await?;
        Ok(aliases.contains(address))
    }

    /// Whether `account` may use `address` as the envelope sender: its own,
    /// or that of an account that gave it a sending right (send as or on
    /// behalf: bounces of what it sends for them go back to them).
    pub async fn may_use_envelope(&self, account: &Account, address: &Address) -> Result<bool, Error> {
        Ok(self.may_send_as(account, address).await?
            || self.mailstore.send_rights(account.id, address).await?.is_some())
    }

    /// Checks that every author address, and every address written in a
    /// display name or group name, is one `account` may send as: its own,
    /// an owner's that granted it « send as », or an owner's that granted
    /// it « on behalf » when the address is in `From:` and a `Sender:` names
    /// the user (RFC 5322 section 3.6.2). Returns the owner it sends for,
    /// if any (one at most: one `From:` address is checked per owner).
    async fn check_authors(&self, account: &Account, authors: &Authors) -> Result<Option<Delegated>, SubmitError> {
        let mut claimed = Vec::new();
        for author in authors.from.iter().chain(&authors.sender) {
            claimed.push(author.address.clone());
            claimed.extend(author.name.as_deref().map(headers::addresses_in_name).unwrap_or_default());
        }
        for name in &authors.group_names {
            claimed.extend(headers::addresses_in_name(name));
        }
        claimed.sort();
        claimed.dedup();
        // The user named in Sender: (on behalf needs one, and only theirs).
        let mut sender_is_user = !authors.sender.is_empty();
        for s in &authors.sender {
            let own = match Address::parse(&s.address) {
                Ok(a) => self.may_send_as(account, &a).await?,
                Err(_) => false,
            };
            sender_is_user &= own;
        }
        let mut delegated = None;
        for address in claimed {
            let Ok(parsed) = Address::parse(&address) else { return Err(SubmitError::ForgedSender(address)) };
            if self.may_send_as(account, &parsed).await? {
                continue;
            }
            let in_from = authors.from.iter().any(|a| a.address.eq_ignore_ascii_case(&address));
            match self.mailstore.send_rights(account.id, &parsed).await.map_err(Error::from)? {
                Some((owner, rights)) if rights.send_as => {
                    delegated = Some(Delegated { owner, on_behalf: false });
                }
                Some((owner, rights)) if rights.on_behalf && in_from && sender_is_user => {
                    delegated = Some(Delegated { owner, on_behalf: true });
                }
                _ => return Err(SubmitError::ForgedSender(address)),
            }
        }
        Ok(delegated)
    }

    /// Files the copy of what a delegate sent in the owner's Envoyés (seen)
    /// and writes it in the owner's delegation journal. Failures are logged:
    /// the message was accepted.
    async fn file_for_owner(&self, account: &Account, delegated: Delegated, message: &Bytes, recipients: &[Address]) {
        let sent = self.mailstore.mailbox_with_use(delegated.owner, model::SpecialUse::Sent).await;
        let target = mailstore::DeliveryTarget {
            account: delegated.owner,
            mailbox: sent.ok().flatten().map(|m| m.id),
            flags: model::Flag::Seen.bit(),
            keywords: Vec::new(),
        };
        // Without an Envoyés, the owner's Inbox keeps the copy.
        if let Err(e) = self.mailstore.deliver_to_owned(message.clone(), &[target], now()).await {
            tracing::warn!(error = %e, owner = delegated.owner, "the owner's copy of a delegated message was not filed");
        }
        let how = if delegated.on_behalf { "de la part de" } else { "en tant que" };
        let to: Vec<String> = recipients.iter().map(ToString::to_string).collect();
        let detail = format!("{how} ; à {}", to.join(", "));
        self.mailstore.journal(delegated.owner, account.id, "envoi", &detail).await;
    }

    /// Classifies a recipient at RCPT time. Local addresses resolve as for
    /// mail from outside ([`Mailstore::check_recipient`](mailstore::Mailstore::check_recipient)),
    /// but a full mailbox still gets a local user's copy, as before the quota was checked.
    pub async fn destination(&self, rcpt: &Address) -> Result<Destination, Error> {
        Ok(match self.mailstore.check_recipient(rcpt, None).await? {
            RecipientStatus::Local(id) | RecipientStatus::OverQuota(id) => Destination::Local(vec![id]),
            RecipientStatus::Administrators(ids) => Destination::Local(ids),
            RecipientStatus::Unknown => Destination::UnknownLocal,
            RecipientStatus::NotLocal => Destination::Remote,
        })
    }

    /// Checks, signs, delivers and queues one message; returns once durable.
    pub async fn submit(&self, sub: Submission<'_>) -> Result<(), SubmitError> {
        self.submit_signed(sub).await.map(drop)
    }

    /// [`Mta::submit`], returning the message as it was delivered (dated,
    /// signed): the binary hands it on to the distribution lists the user
    /// wrote to, whose addresses it took out of `sub.recipients` (which may
    /// then be empty: the checks still run).
    pub async fn submit_signed(&self, sub: Submission<'_>) -> Result<Bytes, SubmitError> {
        let Some(sender) = sub.mail_from else {
            return Err(SubmitError::ForgedSender("<>".into()));
        };
        if !self.may_use_envelope(sub.account, sender).await? {
            return Err(SubmitError::ForgedSender(sender.to_string()));
        }
        let message = normalize_line_endings(sub.message);
        let authors =
            headers::authors(&message).map_err(|problem| SubmitError::Failed(Transience::Permanent, problem.text()))?;
        let delegated = self.check_authors(sub.account, &authors).await?;
        self.limits
            .take(sub.account.id, sub.account.role, sub.recipients.len() as u32)
            .await
            .map_err(SubmitError::LimitExceeded)?;

        let signing_domain = authors.from[0].address.rsplit_once('@').map_or("", |(_, d)| d).to_ascii_lowercase();
        let message = complete_header(message, &signing_domain, now());
        // Shared from here on: the local delivery and the queue write their
        // blob from these bytes, with no copy.
        let message = Bytes::from(self.dkim.sign(&signing_domain, message));

        let mut local: Vec<(String, AccountId)> = Vec::new();
        let mut remote = Vec::new();
        for rcpt in sub.recipients {
            match self.destination(rcpt).await? {
                Destination::Local(ids) => local.extend(ids.into_iter().map(|id| (rcpt.to_string(), id))),
                Destination::UnknownLocal => {
                    return Err(SubmitError::Failed(Transience::Permanent, format!("no such user: {rcpt}")));
                }
                Destination::Remote => remote.push(rcpt),
            }
        }
        if let Some(outbox) = self.settings.capture.filter(|_| !remote.is_empty()) {
            // Demo: nothing leaves; the outbox account gets the copy instead.
            local.push((remote[0].to_string(), outbox));
            remote.clear();
        }
        // Local copies first: their delivery writes the blob's shared metadata
        // (subject, structure) that the queue's reference then reuses. Each
        // recipient's filter rules decide where its copy goes; a refusal by
        // one of them is reported to the sender (`refusals`).
        local.sort_unstable_by_key(|(_, id)| *id);
        local.dedup_by_key(|(_, id)| *id);
        if !local.is_empty() {
            let from = sender.to_string();
            let delivery = self.deliver_local(message.clone(), Some(&from), &local).await?;
            let refusals: Vec<crate::refusals::Refusal> = delivery
                .refused
                .iter()
                .filter_map(|r| {
                    local.iter().find(|(_, id)| *id == r.account).map(|(a, _)| (a.clone(), r.reason.clone()))
                })
                .collect();
            if !refusals.is_empty() {
                tracing::info!(refused = refusals.len(), "local copies refused by the recipients' Sieve rules");
                if let Err(e) = self.report_refusals(sender, &refusals, &message, now()).await {
                    tracing::warn!(error = %e, "the refusal report to the sender failed");
                }
            }
            // Redirects and vacation replies (rare): done before the reply,
            // their failures only logged.
            self.follow_up(message.clone(), delivery.follow_ups).await;
        }
        if !remote.is_empty() {
            self.enqueue_from(&sender.to_string(), Some(sub.account.id), &remote, message.clone()).await?;
        }
        if let Some(delegated) = delegated {
            self.file_for_owner(sub.account, delegated, &message, sub.recipients).await;
        }
        tracing::info!(
            account = sub.account.id,
            local = local.len(),
            remote = remote.len(),
            size = message.len(),
            "message submitted"
        );
        Ok(message)
    }

    /// Queues a distribution list's copy for its outside members, with the
    /// list's bounce address as envelope sender so that SPF passes for our
    /// domain and bounces come back to the list (the demo outbox, when set,
    /// gets it instead). The copy is signed with the list domain's key.
    pub async fn enqueue_expanded(
        &self,
        bounce_sender: &Address,
        remote: &[Address],
        message: Bytes,
    ) -> Result<(), Error> {
        if remote.is_empty() {
            return Ok(());
        }
        let domain = bounce_sender.domain().as_str().to_ascii_lowercase();
        let message = Bytes::from(self.dkim.sign(&domain, message.to_vec()));
        if let Some(outbox) = self.settings.capture {
            self.mailstore.deliver_owned(message, &[outbox], now()).await?;
            return Ok(());
        }
        let refs: Vec<&Address> = remote.iter().collect();
        self.enqueue_from(&bounce_sender.to_string(), None, &refs, message).await
    }

    /// Sends a message the platform writes itself (a list's moderation
    /// notices): signed with `domain`'s key, delivered locally or queued
    /// with the null sender, so that it never bounces back.
    pub async fn send_notice(&self, domain: &str, to: &Address, message: Vec<u8>) -> Result<(), Error> {
        let message = self.dkim.sign(&domain.to_ascii_lowercase(), message);
        match self.destination(to).await? {
            Destination::Local(ids) => {
                self.mailstore.deliver_owned(message, &ids, now()).await?;
            }
            Destination::UnknownLocal => tracing::info!("notice to an unknown local address dropped"),
            Destination::Remote => match self.settings.capture {
                Some(outbox) => {
                    self.mailstore.deliver_owned(message, &[outbox], now()).await?;
                }
                None => self.enqueue_from("", None, &[to], message.into()).await?,
            },
        }
        Ok(())
    }

    /// Queues `message` for remote recipients. `sender` is the envelope
    /// sender (empty for `<>`); `account`, when given, receives the bounces.
    pub(crate) async fn enqueue_from(
        &self,
        sender: &str,
        account: Option<AccountId>,
        remote: &[&Address],
        message: Bytes,
    ) -> Result<(), Error> {
        let size = message.len() as i64;
        let blob = self.blobs.put(message).await?;
        let expires_at = now() + self.settings.give_up_after.as_secs() as i64;
        let entry = NewQueued {
            blob,
            size,
            sender: sender.to_owned(),
            account,
            recipients: remote.iter().map(|r| (r.to_string(), r.domain().as_str().to_owned())).collect(),
            expires_at,
        };
        let id = self.store.enqueue(&entry).await?;
        tracing::info!(queue_id = id, recipients = remote.len(), "queued for remote delivery");
        self.wake.notify_one();
        Ok(())
    }
}

/// Adds the `Date:` and `Message-ID:` fields a client left out (RFC 6409
/// section 8.3), after the trace header, so that the signature covers them.
fn complete_header(message: Vec<u8>, domain: &str, now: i64) -> Vec<u8> {
    let Some(parsed) = mail_parser::MessageParser::default().parse_headers(&message) else {
        return message;
    };
    let mut added = String::new();
    if parsed.date().is_none() {
        added.push_str(&format!("Date: {}\r\n", crate::dsn::rfc2822(now)));
    }
    if parsed.message_id().is_none() {
        added.push_str(&format!("Message-ID: <{:x}.{:016x}@{domain}>\r\n", now, rand::random::<u64>()));
    }
    if added.is_empty() {
        return message;
    }
    // Keep the trace header the session prepended on top.
    let at = if message.starts_with(b"Received:") {
        message
            .windows(2)
            .enumerate()
            .find(|(i, w)| *w == b"\r\n" && !matches!(message.get(i + 2), Some(b' ' | b'\t')))
            .map_or(0, |(i, _)| i + 2)
    } else {
        0
    };
    let mut out = Vec::with_capacity(message.len() + added.len());
    out.extend_from_slice(&message[..at]);
    out.extend_from_slice(added.as_bytes());
    out.extend_from_slice(&message[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_date_and_message_id_are_added_below_the_trace() {
        let m = b"Received: from poste ([192.0.2.7])\r\n\tby mx with ESMTPSA id 1;\r\n\tMon, 23 Nov 2026 10:00:00 +0000\r\nFrom: a@ac-demo.fr\r\n\r\nhi\r\n";
        let out = String::from_utf8(complete_header(m.to_vec(), "ac-demo.fr", 1_795_000_000)).unwrap();
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert!(lines[0].starts_with("Received: ") && lines[2].starts_with("\tMon"), "{out}");
        assert!(
            lines[3].starts_with("Date: ")
                && lines[4].starts_with("Message-ID: <")
                && lines[4].ends_with("@ac-demo.fr>"),
            "{out}"
        );
        assert!(out.ends_with("From: a@ac-demo.fr\r\n\r\nhi\r\n"));
        let complete = b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <x@y>\r\nFrom: a@b.fr\r\n\r\nhi";
        assert_eq!(complete_header(complete.to_vec(), "b.fr", 0), complete);
    }
}
