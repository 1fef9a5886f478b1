//! A list's archive: every post a list distributes while its archive is on
//! is kept once, as its members got it (the decorated message, with its
//! `List-Archive` field), in a row of `store::list_archive` holding one
//! reference on the message's blob. Discussion groups archive by default,
//! institutional lists do not; `ardoise admin list archive ADDRESS on|off`
//! changes it. Retention: the archive is kept as long as the list (deleting
//! the list releases it); switching it off keeps what it holds.
//!
//! Reading is for the list's members now (the list's expansion reaches the
//! account: a static member, a member of a nested list, or an account a
//! dynamic list's query finds) and its named moderators, active ones only;
//! anyone else is told the list does not exist ([`Error::NotFound`]), so a
//! list's name cannot be probed.

use mailstore::Bytes;
use model::{AccountId, Address};
use store::{ArchivedPost, ListRow, NewArchived};

use crate::{Error, Lists, headers};

/// Longest `From:` and subject kept for the listing (characters).
const MAX_SHOWN: usize = 200;

/// One page of a list's archive, newest first.
#[derive(Debug, Clone)]
pub struct ArchivePage {
    pub list: ListRow,
    pub posts: Vec<ArchivedPost>,
    /// The id to ask for the next (older) page with, when there is one.
    pub older: Option<i64>,
    /// How many posts the archive holds.
    pub total: i64,
}

impl Lists {
    /// The `List-Archive` address of `list`, when it archives and the web
    /// is served (its public address is known).
    pub fn archive_url(&self, list: &ListRow) -> Option<String> {
        let base = self.archive_base.as_deref().filter(|_| list.archive)?;
        Some(headers::archive_url(base, &list.address))
    }

    /// Turns the archive of the list at `address` on or off.
    pub async fn set_archive(&self, address: &Address, on: bool) -> Result<(), Error> {
        let list = self.get(address).await?;
        Ok(self.store.set_list_archive(list.id, on).await?)
    }

    /// Keeps `decorated`, the message as `list` distributes it, in its
    /// archive (once per Message-ID): the blob first, then the row and its
    /// reference, so a crash in between leaves an unreferenced blob, which
    /// garbage collection removes.
    pub(crate) async fn archive(&self, list: &ListRow, decorated: &Bytes) -> Result<(), Error> {
        let blob = self.blobs.put(decorated.clone()).await?;
        let parsed = mail_parser::MessageParser::default().parse_headers(&decorated[..]);
        let from = parsed
            .as_ref()
            .and_then(|m| m.from())
            .and_then(|f| f.first())
            .map(|a| match (a.name(), a.address()) {
                (Some(name), Some(address)) => format!("{name} <{address}>"),
                (None, Some(address)) => address.to_owned(),
                (Some(name), None) => name.to_owned(),
                (None, None) => String::new(),
            })
            .unwrap_or_default();
        let subject = parsed.as_ref().and_then(|m| m.subject()).unwrap_or_default();
        let message_id = parsed.as_ref().and_then(|m| m.message_id()).unwrap_or_default();
        let (from, subject, message_id) = (shown(&from), shown(subject), shown(message_id));
        let new = NewArchived {
            list: list.id,
            blob: &blob,
            size: decorated.len() as i64,
            from: &from,
            subject: &subject,
            message_id: &message_id,
        };
        let (id, fresh) = self.store.archive_post(&new).await?;
        tracing::info!(list = %list.address, archived = id, fresh, "list post archived");
        Ok(())
    }

    /// A page of the archive of the list at `address` for `account`, newest
    /// first, `limit` posts older than `before` (all when `None`).
    pub async fn archive_page(
        &self,
        account: AccountId,
        address: &Address,
        before: Option<i64>,
        limit: usize,
    ) -> Result<ArchivePage, Error> {
        let list = self.archive_reader(account, address).await?;
        let limit = limit.clamp(1, 500) as i64;
        let mut posts = self.store.archived_posts(list.id, before, limit + 1).await?;
        let older = if posts.len() as i64 > limit {
            posts.truncate(limit as usize);
            posts.last().map(|p| p.id)
        } else {
            None
        };
        let total = self.store.archived_count(list.id).await?;
        Ok(ArchivePage { list, posts, older, total })
    }

    /// The archived post `id` of the list at `address`, with its message,
    /// for a reader of that archive; anything else is [`Error::NotFound`].
    pub async fn archived_for(
        &self,
        account: AccountId,
        address: &Address,
        id: i64,
    ) -> Result<(ListRow, ArchivedPost, Vec<u8>), Error> {
        let list = self.archive_reader(account, address).await?;
        let post =
            self.store.archived_post(list.id, id).await?.ok_or_else(|| Error::NotFound(format!("message {id}")))?;
        let message = self.mailstore.message_bytes(&post.blob).await?;
        Ok((list, post, message))
    }

    /// The list at `address` when `account` may read its archive now: an
    /// active account that the list reaches, or one of its named moderators.
    async fn archive_reader(&self, account: AccountId, address: &Address) -> Result<ListRow, Error> {
        let unknown = || Error::NotFound(address.to_string());
        let list = self.store.list_by_address(address).await?.ok_or_else(unknown)?;
        if !self.active(account).await? {
            return Err(unknown());
        }
        if self.store.list_moderators(list.id).await?.contains(&account) {
            return Ok(list);
        }
        match self.expand(&list).await {
            Ok(reach) if reach.local.binary_search(&account).is_ok() => Ok(list),
            Ok(_) => Err(unknown()),
            // A list too deep or too large to expand reaches nobody now.
            Err(Error::TooDeep { .. } | Error::TooLarge { .. }) => Err(unknown()),
            Err(e) => Err(e),
        }
    }
}

/// A header's text as listed: no control characters, bounded.
fn shown(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(MAX_SHOWN).collect()
}
