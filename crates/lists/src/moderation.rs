//! The moderation queue. A held post is its blob (one reference kept) and
//! a row; the list's moderators who may act now (suspended ones skipped)
//! get a French notice in their Inbox, or the académie's administrators
//! when the list has none. A moderator approves (the post is distributed
//! as if it had been let through) or refuses (with a reason); the sender is
//! told either way, in French and English. Holds older than
//! [`HOLD_DAYS`] days are refused by [`Lists::sweep`].
//!
//! An approval distributes first and takes the post out of the queue
//! after, so a crash in between leaves it held (approving it again sends a
//! second copy) rather than losing it.

use mail_builder::MessageBuilder;
use mail_builder::headers::raw::Raw;
use model::{AccountId, Address};
use store::{HeldPost, ListRow};

use crate::post::Reached;
use crate::{Error, Lists, Outcome, bounce_address, headers};

/// How long a post may wait for a moderator.
pub const HOLD_DAYS: i64 = 14;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Lists {
    /// Keeps `message` for the moderators of `list`; returns the hold's id.
    pub(crate) async fn hold(&self, list: &ListRow, message: &[u8], sender: &str) -> Result<i64, Error> {
        let (id, subject) = self.store_held(list, message, sender).await?;
        let (moderators, fallback) = self.moderators_now(list).await?;
        let text = if fallback {
            format!(
                "Un message attend une modération sur la liste {list}, qui n'a aucun modérateur actif : \
                 nommez-en un (ardoise admin list moderators {list} add COMPTE).\n\n",
                list = list.address
            )
        } else {
            format!("Un message attend votre modération sur la liste {}.\n\n", list.address)
        } + &format!(
            "  Expéditeur : {}\n  Objet : {subject}\n  Numéro : {id}\n\n\
             Pour le diffuser : ardoise admin list approve {id}\n\
             Pour le refuser : ardoise admin list refuse {id} --reason \"...\"\n\
             Sans décision, il sera refusé dans {HOLD_DAYS} jours.\n\n\
             A message awaits moderation on the list {list} (held post {id}).\n",
            if sender.is_empty() { "<>" } else { sender },
            list = list.address,
        );
        let title = format!("Modération : message en attente sur {}", list.address);
        let notice = self.notice(list, None, &title, &text);
        if moderators.is_empty() {
            tracing::warn!(list = %list.address, "held post: nobody to tell");
        } else {
            self.mailstore.deliver_owned(notice, &moderators, now()).await?;
        }
        Ok(id)
    }

    /// The moderators who may act now; else the académie's administrators
    /// (then `true`).
    async fn moderators_now(&self, list: &ListRow) -> Result<(Vec<AccountId>, bool), Error> {
        let named = self.store.list_moderators(list.id).await?;
        let ids = self.responsible(list).await?;
        let fallback = !ids.iter().any(|id| named.contains(id));
        Ok((ids, fallback))
    }

    /// The posts waiting on the list at `address`.
    pub async fn held(&self, address: &Address) -> Result<Vec<HeldPost>, Error> {
        let list = self.get(address).await?;
        Ok(self.store.held_posts(list.id).await?)
    }

    /// The held post `id` and its list.
    pub async fn held_post(&self, id: i64) -> Result<(HeldPost, ListRow), Error> {
        let held =
            self.store.held_post(id).await?.ok_or_else(|| Error::NotFound(format!("message en attente {id}")))?;
        let list =
            self.store.list_by_id(held.list).await?.ok_or_else(|| Error::NotFound(format!("liste {}", held.list)))?;
        Ok((held, list))
    }

    /// The lists `account` may moderate now (a named moderator, not
    /// suspended or closed), each with its held posts, by address; empty for
    /// anyone else. The webmail's « À modérer ».
    pub async fn moderated_by(&self, account: AccountId) -> Result<Vec<(ListRow, Vec<HeldPost>)>, Error> {
        if !self.active(account).await? {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for list in self.store.lists_moderated_by(account).await? {
            let held = self.store.held_posts(list.id).await?;
            out.push((list, held));
        }
        Ok(out)
    }

    /// How many posts wait for `account`'s decision; `None` when it may
    /// moderate no list now (the webmail then shows no « À modérer »).
    pub async fn waiting_for(&self, account: AccountId) -> Result<Option<i64>, Error> {
        if !self.active(account).await? {
            return Ok(None);
        }
        Ok(self.store.held_for_moderator(account).await?)
    }

    /// The held post `id` with its list and message, for a moderator of
    /// that list who may act now; anyone else is told it does not exist.
    pub async fn held_for(&self, account: AccountId, id: i64) -> Result<(HeldPost, ListRow, Vec<u8>), Error> {
        let (held, list) = self.moderated_post(account, id).await?;
        let message = self.mailstore.message_bytes(&held.blob).await?;
        Ok((held, list, message))
    }

    /// [`Lists::approve`] by `account`, a moderator of the post's list who
    /// may act now (else [`Error::NotFound`]).
    pub async fn approve_as(&self, account: AccountId, id: i64) -> Result<Outcome, Error> {
        self.moderated_post(account, id).await?;
        tracing::info!(held = id, moderator = account, "held post approved from the webmail");
        self.approve(id).await
    }

    /// [`Lists::refuse`] by `account`, a moderator of the post's list who
    /// may act now (else [`Error::NotFound`]).
    pub async fn refuse_as(&self, account: AccountId, id: i64, reason: Option<&str>) -> Result<(), Error> {
        self.moderated_post(account, id).await?;
        tracing::info!(held = id, moderator = account, "held post refused from the webmail");
        self.refuse(id, reason).await
    }

    /// The held post `id` and its list when `account` may moderate it now.
    async fn moderated_post(&self, account: AccountId, id: i64) -> Result<(HeldPost, ListRow), Error> {
        let (held, list) = self.held_post(id).await?;
        if !self.active(account).await? || !self.store.list_moderators(list.id).await?.contains(&account) {
            return Err(Error::NotFound(format!("message en attente {id}")));
        }
        Ok((held, list))
    }

    /// Whether `account` exists and may act now (not suspended or closed).
    pub(crate) async fn active(&self, account: AccountId) -> Result<bool, Error> {
        Ok(self.store.account(account).await?.is_some_and(|a| crate::may_moderate(&a)))
    }

    /// Distributes a held post to the list's members as they are now, then
    /// tells the sender.
    ///
    /// The post is taken out of the queue *before* it is distributed, so
    /// that two moderators deciding at once (or a moderator and the sweep)
    /// never send it twice, nor refuse what went out: the second finds
    /// [`Error::NotFound`]. Its bytes are read first; if distributing then
    /// fails, the post is held again (as a new post, its clock restarted)
    /// and the error returned: nothing taken from the queue is lost.
    pub async fn approve(&self, id: i64) -> Result<Outcome, Error> {
        let (held, list) = self.held_post(id).await?;
        let message = self.mailstore.message_bytes(&held.blob).await?;
        if !self.store.release_held(id).await? {
            return Err(Error::NotFound(format!("message en attente {id}")));
        }
        let outcome = if headers::is_loop(&message, &list.address) {
            Outcome::Loop
        } else {
            let sent = async {
                let expansion = self.expand(&list).await?;
                self.fan_out(&list, &message, expansion, &mut Reached::default()).await
            };
            match sent.await {
                Ok(outcome) => outcome,
                Err(e) => {
                    self.hold_again(&list, &message, &held.sender, id).await;
                    return Err(e);
                }
            }
        };
        let text = format!(
            "Votre message « {} » a été accepté par les modérateurs de la liste {} et diffusé.\n\n\
             Your message was approved by the moderators of the list and distributed.\n",
            held.subject, list.address
        );
        self.tell_sender(&list, &held, "Message diffusé / Message approved", &text).await;
        tracing::info!(list = %list.address, held = id, ?outcome, "held post approved");
        Ok(outcome)
    }

    /// Stores `message` and holds it for `list`: the hold's id and the
    /// post's subject.
    async fn store_held(&self, list: &ListRow, message: &[u8], sender: &str) -> Result<(i64, String), Error> {
        let subject = subject_of(message);
        let blob = self.blobs.put(mailstore::Bytes::copy_from_slice(message)).await?;
        let id = self.store.hold_post(list.id, &blob, message.len() as i64, sender, &subject).await?;
        Ok((id, subject))
    }

    /// Puts back a post whose distribution failed after it left the queue.
    async fn hold_again(&self, list: &ListRow, message: &[u8], sender: &str, id: i64) {
        match self.store_held(list, message, sender).await {
            Ok((again, _)) => {
                tracing::warn!(list = %list.address, held = id, again, "approved post not distributed: held again")
            }
            Err(e) => {
                tracing::error!(list = %list.address, held = id, error = %e, "approved post neither distributed nor held again")
            }
        }
    }

    /// Refuses a held post and tells the sender why.
    pub async fn refuse(&self, id: i64, reason: Option<&str>) -> Result<(), Error> {
        let (held, list) = self.held_post(id).await?;
        if !self.store.release_held(id).await? {
            return Err(Error::NotFound(format!("message en attente {id}")));
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let text = format!(
            "Votre message « {} » n'a pas été diffusé sur la liste {} : les modérateurs l'ont refusé.\n{}\n\
             Your message was not distributed: the list's moderators refused it.\n",
            held.subject,
            list.address,
            reason.map(|r| format!("\nMotif / reason : {r}\n")).unwrap_or_default()
        );
        self.tell_sender(&list, &held, "Message refusé / Message refused", &text).await;
        tracing::info!(list = %list.address, held = id, "held post refused");
        Ok(())
    }

    /// Refuses every post held longer than [`HOLD_DAYS`] days before `at`;
    /// returns how many.
    pub async fn sweep(&self, at: i64) -> Result<usize, Error> {
        let mut refused = 0;
        for held in self.store.held_before(at - HOLD_DAYS * 24 * 3600).await? {
            let reason = format!("aucune décision en {HOLD_DAYS} jours / no decision within {HOLD_DAYS} days");
            match self.refuse(held.id, Some(&reason)).await {
                Ok(()) => refused += 1,
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(refused)
    }

    /// A notice to the poster; failures are logged (the decision stands).
    async fn tell_sender(&self, list: &ListRow, held: &HeldPost, title: &str, text: &str) {
        let Ok(to) = Address::parse(&held.sender) else {
            return;
        };
        let notice = self.notice(list, Some(&to), title, text);
        if let Err(e) = self.mta.send_notice(list.address.domain().as_str(), &to, notice).await {
            tracing::warn!(error = %e, list = %list.address, "notice to the sender failed");
        }
    }

    /// A plain-text notice from the list's bounce address.
    fn notice(&self, list: &ListRow, to: Option<&Address>, subject: &str, text: &str) -> Vec<u8> {
        let from = bounce_address(&list.address).to_string();
        let to = to.map(Address::to_string).unwrap_or_else(|| list.address.to_string());
        let at = now();
        MessageBuilder::new()
            .from((format!("Liste {}", list.name).as_str(), from.as_str()))
            .to(to.as_str())
            .subject(subject)
            .header("Date", Raw::new(mta::dsn::rfc2822(at)))
            .message_id(format!("liste.{at:x}.{:x}@{}", rand_part(list, text), list.address.domain()))
            .header("Auto-Submitted", Raw::new("auto-generated"))
            .text_body(text)
            .write_to_vec()
            .unwrap_or_default()
    }
}

/// A unique-enough part for a notice's Message-ID (no randomness needed:
/// the time, the list and the text's hash).
fn rand_part(list: &ListRow, text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (list.id, text, std::time::SystemTime::now()).hash(&mut h);
    h.finish()
}

/// A posting's subject, decoded, for the moderators' listing.
fn subject_of(message: &[u8]) -> String {
    let parsed = mail_parser::MessageParser::default().parse_headers(message);
    let subject = parsed.as_ref().and_then(|m| m.subject()).map(str::to_owned);
    subject
        .or_else(|| headers::raw_subject(message))
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}
