//! A posting to one or more lists: loop check, post policy, then fan-out or
//! hold, list by list. A person reached through several lists of the same
//! message, or named directly beside them, gets one copy: each list hands
//! on only those no earlier list (nor the direct delivery) reached.

use std::collections::HashSet;

use mailstore::Bytes;
use model::{AccountId, Address};
use store::ListRow;

use crate::headers::{self, ListHeaders};
use crate::policy::{self, Decision, PostPolicy, PosterFacts};
use crate::{Error, Expansion, Lists, bounce_address};

/// Who posted, as far as the entry point knows.
#[derive(Debug, Clone, Copy)]
pub enum Poster<'a> {
    /// An account logged in to submission or the webmail.
    Account(&'a store::Account),
    /// The MX's envelope sender (`None` is `<>`).
    Envelope(Option<&'a Address>),
}

/// What happened to a posting for one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handed to `local` accounts and queued for `remote` outside addresses
    /// (those reached earlier by the same message not counted).
    Distributed { local: usize, remote: usize },
    /// Waiting for a moderator, under this id.
    Held(i64),
    /// The message already went through this list: not expanded again.
    Loop,
    /// A bounce: lists never distribute them.
    Dropped,
}

/// The people one message has already reached.
#[derive(Debug, Default)]
pub(crate) struct Reached {
    local: HashSet<AccountId>,
    remote: HashSet<Address>,
}

impl Lists {
    /// Posts `message` to `lists` (their addresses); `direct` are the
    /// accounts that got the message directly in the same transaction.
    /// Returns once every distributed copy is durable (stored or queued)
    /// and every hold is written.
    pub async fn post(
        &self,
        message: Bytes,
        poster: Poster<'_>,
        lists: &[Address],
        direct: &[AccountId],
    ) -> Result<Vec<(Address, Outcome)>, Error> {
        let mut reached = Reached { local: direct.iter().copied().collect(), remote: HashSet::new() };
        let mut outcomes = Vec::new();
        let mut done = HashSet::new();
        for address in lists {
            if !done.insert(address.clone()) {
                continue;
            }
            let list = self.get(address).await?;
            let outcome = self.post_one(&message, poster, &list, &mut reached).await?;
            tracing::info!(list = %address, ?outcome, size = message.len(), "list posting");
            outcomes.push((address.clone(), outcome));
        }
        Ok(outcomes)
    }

    async fn post_one(
        &self,
        message: &Bytes,
        poster: Poster<'_>,
        list: &ListRow,
        reached: &mut Reached,
    ) -> Result<Outcome, Error> {
        if headers::is_loop(message, &list.address) {
            return Ok(Outcome::Loop);
        }
        let expansion = self.expand(list).await?;
        let facts = self.facts(list, poster, &expansion).await?;
        let policy: PostPolicy = list.post_policy.parse().map_err(Error::Corrupt)?;
        Ok(match policy::decide(policy, facts) {
            Decision::Drop => Outcome::Dropped,
            Decision::Hold => Outcome::Held(self.hold(list, message, &poster_address(poster)).await?),
            Decision::Distribute => self.fan_out(list, message, expansion, reached).await?,
        })
    }

    /// What the policy needs to know of the poster (see `policy`'s doc for
    /// what an MX sender on a local domain is worth).
    async fn facts(&self, list: &ListRow, poster: Poster<'_>, expansion: &Expansion) -> Result<PosterFacts, Error> {
        let senders = self.store.list_senders(list.id).await?;
        Ok(match poster {
            Poster::Envelope(None) => PosterFacts { null_sender: true, ..PosterFacts::default() },
            Poster::Envelope(Some(from)) => {
                if self.store.is_local_domain(from.domain()).await? {
                    PosterFacts::default()
                } else {
                    PosterFacts {
                        member: expansion.remote.contains(from),
                        named_sender: senders.contains(&from.to_string()),
                        ..PosterFacts::default()
                    }
                }
            }
            Poster::Account(account) => {
                let mut named_sender = false;
                for sender in &senders {
                    if let Ok(s) = Address::parse(sender)
                        && self.mta.may_send_as(account, &s).await?
                    {
                        named_sender = true;
                        break;
                    }
                }
                PosterFacts {
                    authenticated: true,
                    of_the_academie: {
                        let scope = self.store.list_scope(list).await?;
                        self.store.in_scope(account, &scope).await?
                    },
                    member: expansion.local.binary_search(&account.id).is_ok(),
                    named_sender,
                    moderator: self.store.list_moderators(list.id).await?.contains(&account.id),
                    null_sender: false,
                }
            }
        })
    }

    /// Hands the decorated message to the people of `expansion` that this
    /// message has not reached yet: local ones in one delivery (through
    /// their filter rules: one blob for all), outside ones in one queue
    /// entry with the list's bounce address as envelope sender; when the
    /// list archives, its archive keeps it once (`archive`).
    pub(crate) async fn fan_out(
        &self,
        list: &ListRow,
        message: &[u8],
        expansion: Expansion,
        reached: &mut Reached,
    ) -> Result<Outcome, Error> {
        let local: Vec<AccountId> = expansion.local.into_iter().filter(|id| reached.local.insert(*id)).collect();
        let remote: Vec<Address> = expansion.remote.into_iter().filter(|a| reached.remote.insert(a.clone())).collect();
        let archive = self.archive_url(list);
        let decorated = Bytes::from(headers::decorate(
            message,
            &ListHeaders {
                address: &list.address,
                name: &list.name,
                discussion: list.discussion,
                tag: list.tag.as_deref(),
                archive: archive.as_deref(),
            },
        ));
        // Archived before anyone gets it: a failure here fails the posting
        // cleanly (the sender tries again), and a failure after it leaves a
        // post that, tried again, is not archived twice (its Message-ID).
        if list.archive {
            self.archive(list, &decorated).await?;
        }
        let bounces = bounce_address(&list.address);
        if !local.is_empty() {
            let to = list.address.to_string();
            let recipients: Vec<(String, AccountId)> = local.iter().map(|id| (to.clone(), *id)).collect();
            let delivery = self.mta.deliver_local(decorated.clone(), Some(&bounces.to_string()), &recipients).await?;
            // Redirects the members' rules ask for; their vacation replies
            // are not sent to list mail (RFC 3834: `Precedence: list`).
            let redirects =
                delivery.follow_ups.into_iter().filter(|f| matches!(f, filter::FollowUp::Redirect { .. })).collect();
            self.mta.follow_up(decorated.clone(), redirects).await;
        }
        self.mta.enqueue_expanded(&bounces, &remote, decorated).await?;
        Ok(Outcome::Distributed { local: local.len(), remote: remote.len() })
    }
}

/// The address a poster is known by (empty for `<>`).
fn poster_address(poster: Poster<'_>) -> String {
    match poster {
        Poster::Account(a) => a.address.to_string(),
        Poster::Envelope(Some(a)) => a.to_string(),
        Poster::Envelope(None) => String::new(),
    }
}
