//! Filtering inside delivery: every local recipient's active script decides
//! where its copy goes, then the message is stored once for all of them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use mailstore::{Bytes, Delivered, DeliveryTarget};
use model::{AccountId, Flag, Keyword};
use sieve::Sieve;

use crate::admin::Parts;
use crate::run::{Decision, Facts, Filing, Reply, Stop, execute};
use crate::{Error, Filters};

/// A recipient whose script refused the message (`reject`, `ereject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub account: AccountId,
    pub reason: String,
}

/// What is left to do once the message is stored (by the transfer agent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    /// `redirect`: the message goes on to `to` on behalf of `account`.
    Redirect { account: AccountId, to: String },
    /// `vacation`: a reply, sent unless the same key was answered within
    /// its period.
    Reply { account: AccountId, reply: Reply },
}

/// The outcome of a filtered delivery.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// Stored copies (none when every recipient discarded or refused).
    pub delivered: Vec<Delivered>,
    pub refused: Vec<Refused>,
    pub follow_ups: Vec<FollowUp>,
}

/// The scripts that run before a recipient's own.
#[derive(Default)]
struct Before {
    /// The administrators' script of the account's unit.
    global: Option<Arc<Sieve>>,
    /// The revision of the vacation reply's script, when the reply is on.
    absence: Option<i64>,
}

impl Before {
    fn is_empty(&self) -> bool {
        self.global.is_none() && self.absence.is_none()
    }
}

/// One incoming message and its local recipients.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub message: &'a [u8],
    /// The envelope sender; `None` for the null sender `<>`.
    pub mail_from: Option<&'a str>,
    /// Each recipient address as given (`RCPT TO`) with its account.
    pub recipients: &'a [(String, AccountId)],
    /// What the MX's hygiene checks concluded (nothing for local mail).
    pub screening: Screening,
    /// Recipients whose own spam model judged their copy otherwise: their
    /// verdict instead of `screening` (issue 20, the per-user classifier).
    pub own: &'a [(AccountId, Screening)],
}

impl Incoming<'_> {
    /// The verdict for `account`'s copy.
    pub fn screening_of(&self, account: AccountId) -> Screening {
        self.own.iter().find(|(a, _)| *a == account).map_or(self.screening, |(_, s)| *s)
    }
}

/// The spam and virus verdicts known before filtering (issue 20).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Screening {
    /// File the message in Indésirables: the Inbox of a recipient without
    /// a script, and a script's `keep` (explicit or implicit), become the
    /// Junk folder; a script's `fileinto` still wins (`fileinto "INBOX"`
    /// included).
    pub junk: bool,
    /// Sieve `spamtest` (RFC 5235): 0 not tested, 1 surely not spam ... 10
    /// surely spam.
    pub spamtest: u8,
    /// Sieve `virustest`: 0 not tested, 1 clean ... 5 infected.
    pub virustest: u8,
    /// SPF passed for the envelope sender: a report of the recipients'
    /// refusals sent back to it is not backscatter (`mta::refusals`).
    pub sender_verified: bool,
}

impl Filters {
    /// Filters `incoming` for every recipient, then stores it once for all
    /// the copies decided (from the MX and the transfer agent: it gives way
    /// to interactive writes). Returns once bytes and metadata are durable.
    pub async fn deliver(&self, raw: Bytes, incoming: Incoming<'_>, internal_date: i64) -> Result<Delivery, Error> {
        let (targets, refused, follow_ups) = self.sort(incoming).await?;
        let delivered = if targets.is_empty() {
            Vec::new()
        } else {
            self.mail.deliver_targets_owned(raw, &targets, internal_date).await?
        };
        Ok(Delivery { delivered, refused, follow_ups })
    }

    /// Where each recipient's copy goes. Recipients without an active
    /// script get the Inbox; a script that fails, too (and it is logged).
    pub async fn sort(
        &self,
        incoming: Incoming<'_>,
    ) -> Result<(Vec<DeliveryTarget>, Vec<Refused>, Vec<FollowUp>), Error> {
        let mut seen = HashSet::new();
        let recipients: Vec<(String, AccountId)> =
            incoming.recipients.iter().filter(|(_, id)| seen.insert(*id)).cloned().collect();
        let ids: Vec<AccountId> = recipients.iter().map(|(_, id)| *id).collect();
        let scripts = self.store.delivery_sieve_scripts_among(&ids, crate::absence::SCRIPT_NAME).await?;
        let active: HashMap<AccountId, (String, i64)> =
            scripts.iter().filter(|s| s.active).map(|s| (s.account, (s.name.clone(), s.revision))).collect();
        let absences: HashMap<AccountId, i64> =
            scripts.iter().filter(|s| s.name == crate::absence::SCRIPT_NAME).map(|s| (s.account, s.revision)).collect();
        let admin = self.store.admin_sieve_scripts_among(&ids).await?;
        let (mut targets, mut refused, mut follow_ups) = (Vec::new(), Vec::new(), Vec::new());
        for (rcpt, account) in recipients {
            let incoming = Incoming { screening: incoming.screening_of(account), ..incoming };
            let personal = active.get(&account).map(|(name, rev)| (name.as_str(), *rev));
            // Active itself, the reply's script runs as the personal one.
            let absence = absences
                .get(&account)
                .copied()
                .filter(|_| personal.is_none_or(|(name, _)| name != crate::absence::SCRIPT_NAME));
            let global = match admin.get(&account) {
                Some((unit, rev)) => match self.admin_compiled(*unit, *rev).await {
                    Ok(script) => Some(script),
                    Err(why) => {
                        tracing::error!(account, unit, error = %why, "administrators' Sieve script unusable: skipped");
                        None
                    }
                },
                None => None,
            };
            let before = Before { global, absence };
            if personal.is_none() && before.is_empty() {
                targets.extend(self.targets(account, &[Filing::inbox()], incoming.screening.junk).await?);
                continue;
            }
            let mut outcome = self.decide(account, personal, &before, &rcpt, incoming).await;
            if let (Err(why), false) = (&outcome, before.is_empty()) {
                // Whose script failed? The account's own, run alone, tells: a
                // broken administrators' script never
                // costs a user their rules.
                tracing::error!(account, error = %why, "Sieve run with the scripts before the user's failed: own script alone");
                outcome = match personal {
                    Some(_) => self.decide(account, personal, &Before::default(), &rcpt, incoming).await,
                    None => Ok(Decision { filings: vec![Filing::inbox()], ..Decision::default() }),
                };
            }
            let decision = match (outcome, personal) {
                (Ok(d), _) => d,
                (Err(why), Some((name, revision))) => {
                    tracing::warn!(account, script = %name, error = %why, "Sieve script failed: message kept in the Inbox");
                    self.tell_failure(account, name, revision, &why).await;
                    Decision { filings: vec![Filing::inbox()], ..Decision::default() }
                }
                (Err(why), None) => {
                    tracing::error!(account, error = %why, "Sieve run failed: message kept in the Inbox");
                    Decision { filings: vec![Filing::inbox()], ..Decision::default() }
                }
            };
            if let Some(reason) = decision.reject.clone().filter(|_| decision.filings.is_empty()) {
                tracing::info!(account, "message refused by the recipient's Sieve script");
                refused.push(Refused { account, reason });
            } else if decision.filings.is_empty() {
                tracing::info!(account, "message discarded by the recipient's Sieve script");
            }
            targets.extend(self.targets(account, &decision.filings, incoming.screening.junk).await?);
            follow_ups.extend(decision.redirects.into_iter().map(|to| FollowUp::Redirect { account, to }));
            // Spam gets no vacation reply (it would answer forged senders);
            // at most one reply per message (RFC 5230 section 4.7), the last
            // one asked: the account's own script runs after the reply set
            // in Réglages, and says better what it wants.
            if !incoming.screening.junk
                && let Some(reply) = decision.replies.into_iter().last()
            {
                follow_ups.push(FollowUp::Reply { account, reply });
            }
        }
        Ok((targets, refused, follow_ups))
    }

    /// Runs the active script (`personal`: its name and revision) for one
    /// recipient, after the scripts that run `before` it, looking up the
    /// scripts they include as they ask for them. `Err` is a failure to log.
    async fn decide(
        &self,
        account: AccountId,
        personal: Option<(&str, i64)>,
        before: &Before,
        rcpt: &str,
        incoming: Incoming<'_>,
    ) -> Result<Decision, String> {
        let mut includes = HashMap::new();
        let own = match personal {
            Some((name, revision)) => match self.compiled(account, name, Some(revision)).await? {
                Some(script) => Some((name, script)),
                None => return Err("active script vanished".into()),
            },
            None => None,
        };
        let absence = match before.absence {
            Some(revision) => self.compiled(account, crate::absence::SCRIPT_NAME, Some(revision)).await?,
            None => None,
        };
        let global = before.global.clone();
        let parts = Parts { admin: global.is_some(), absence: absence.is_some(), personal: own.is_some() };
        let (name, script) = match own {
            Some(own) if !parts.admin && !parts.absence => own,
            _ if !parts.admin && !parts.absence => {
                return Ok(Decision { filings: vec![Filing::inbox()], ..Decision::default() });
            }
            own => {
                let wrapper = self.wrapper(parts)?;
                if let Some((_, script)) = own {
                    includes.insert(crate::admin::PERSONAL_NAME.to_owned(), Some(script));
                }
                if let Some(script) = absence {
                    includes.insert(crate::admin::ABSENCE_NAME.to_owned(), Some(script));
                }
                ("ardoise-avant-personnel", wrapper)
            }
        };
        let user = self.store.account(account).await.map_err(|e| e.to_string())?.ok_or("no such account")?;
        let user_address = user.address.to_string();
        let folders: HashSet<String> =
            self.mail.mailboxes(account).await.map_err(|e| e.to_string())?.into_iter().map(|m| m.name).collect();
        // Each round looks up one more included script: at most one per
        // script the account may have, plus the last, complete run.
        for _ in 0..=self.settings.max_scripts {
            let facts = Facts {
                user_address: &user_address,
                user_name: &user.display_name,
                mail_from: incoming.mail_from,
                rcpt_to: rcpt,
                folders: &folders,
                includes: &includes,
                screening: incoming.screening,
                global: global.clone(),
            };
            match execute(&self.runtime, name, script.clone(), incoming.message, &facts) {
                Ok(decision) => return Ok(decision),
                Err(Stop::Failed(why)) => return Err(why),
                Err(Stop::NeedInclude(other)) => {
                    let found = self.compiled(account, &other, None).await?;
                    includes.insert(other, found);
                }
            }
        }
        Err("too many included scripts".into())
    }

    /// The delivery targets of `filings` for `account`: folders looked up,
    /// made when the script said `:create`, else the Inbox; one copy per
    /// folder, flags merged. With `junk`, a keep is the Junk folder (the
    /// Inbox if the account has none).
    async fn targets(&self, account: AccountId, filings: &[Filing], junk: bool) -> Result<Vec<DeliveryTarget>, Error> {
        let mut out: Vec<DeliveryTarget> = Vec::new();
        for filing in filings {
            let mailbox = match &filing.folder {
                None if junk => self.mail.mailbox_with_use(account, model::SpecialUse::Junk).await?.map(|m| m.id),
                None => None,
                Some(name) => self.folder(account, name, filing.create).await?,
            };
            let (flags, keywords) = flags_of(&filing.flags);
            match out.iter_mut().find(|t| t.mailbox == mailbox) {
                Some(t) => {
                    t.flags |= flags;
                    for k in keywords {
                        if !t.keywords.contains(&k) {
                            t.keywords.push(k);
                        }
                    }
                }
                None => out.push(DeliveryTarget { account, mailbox, flags, keywords }),
            }
        }
        Ok(out)
    }

    /// The folder `name` of `account`, made if `create`; `None` (the Inbox)
    /// when it does not exist and may not be made, or its name is invalid.
    async fn folder(&self, account: AccountId, name: &str, create: bool) -> Result<Option<model::MailboxId>, Error> {
        if let Some(m) = self.mail.mailbox_named(account, name).await? {
            return Ok(Some(m.id));
        }
        if !create {
            tracing::info!(account, "Sieve fileinto a missing folder without :create: Inbox");
            return Ok(None);
        }
        match self.mail.create_mailbox(account, name, None).await {
            Ok(m) => Ok(Some(m.id)),
            // Made by a delivery running beside this one.
            Err(mailstore::Error::Conflict(_)) => Ok(self.mail.mailbox_named(account, name).await?.map(|m| m.id)),
            Err(mailstore::Error::Invalid(why)) => {
                tracing::info!(account, %why, "Sieve fileinto an invalid folder name: Inbox");
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// System flag bits and keywords of `imap4flags` names; unknown system flags
/// and invalid keywords are left out.
fn flags_of(names: &[String]) -> (i64, Vec<String>) {
    let (mut bits, mut keywords) = (0, Vec::new());
    for name in names.iter().flat_map(|n| n.split(' ')).filter(|n| !n.is_empty()) {
        if name.starts_with('\\') {
            if let Some(flag) = Flag::ALL.into_iter().find(|f| f.imap_name().eq_ignore_ascii_case(name)) {
                bits |= flag.bit();
            }
        } else if let Some(k) = Keyword::new(name)
            && !keywords.iter().any(|have: &String| have.eq_ignore_ascii_case(name))
        {
            keywords.push(k.as_str().to_owned());
        }
    }
    (bits, keywords)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap4flags_become_bits_and_keywords() {
        let (bits, keywords) = flags_of(&["\\Seen \\flagged".into(), "$Important".into(), "\\Recent".into()]);
        assert_eq!(bits, Flag::Seen.bit() | Flag::Flagged.bit());
        assert_eq!(keywords, ["$Important"]);
        let (bits, keywords) = flags_of(&["bad(word".into(), "$important".into(), "$Important".into()]);
        assert_eq!((bits, keywords), (0, vec!["$important".to_string()]));
    }
}
