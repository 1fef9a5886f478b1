//! The scheduling inbox (RFC 6638 section 2.2): a copy of every iTIP
//! message scheduling delivers to a local account (an invitation or its
//! update, a cancellation, an attendee's reply that reached the organiser's
//! copy, an iMIP REPLY applied), for the account's CalDAV client to read
//! and delete once processed. Only the newest [`INBOX_KEEP`] messages of
//! an account are kept: each delivery drops the older ones. A deposit that
//! fails is logged and never fails the scheduling it records (the
//! calendars are already written).

use calcard::icalendar::{ICalendar, ICalendarMethod};
use model::AccountId;
use store::{InboxItem, NewInboxItem};

use super::itip;
use crate::{Error, Groupware, Result, etag_of};

/// Messages kept per inbox; the oldest beyond are dropped.
pub const INBOX_KEEP: i64 = 100;

impl Groupware {
    /// The messages of `owner`'s inbox, oldest first, without their text.
    pub async fn inbox(&self, owner: AccountId) -> Result<Vec<InboxItem>> {
        Ok(self.store.inbox_items(owner).await?)
    }

    /// The message `name` of `owner`'s inbox.
    pub async fn inbox_item(&self, owner: AccountId, name: &str) -> Result<InboxItem> {
        self.store.inbox_item(owner, name).await?.ok_or(Error::NotFound)
    }

    /// Deletes the message `name` of `owner`'s inbox (its etag `if_match` when given).
    pub async fn inbox_delete(&self, owner: AccountId, name: &str, if_match: Option<&str>) -> Result<()> {
        if self.store.inbox_delete(owner, name, if_match).await? {
            return Ok(());
        }
        match self.store.inbox_item(owner, name).await? {
            Some(_) => Err(Error::PreconditionFailed),
            None => Err(Error::NotFound),
        }
    }

    /// Places `cal` with METHOD `method` in `owner`'s inbox.
    pub(super) async fn deposit(&self, owner: AccountId, cal: &ICalendar, method: ICalendarMethod) {
        let mut message = cal.clone();
        itip::set_method(&mut message, Some(method));
        let text = itip::write(&message);
        let Ok(meeting) = itip::meeting(&message) else { return };
        let method_name = meeting.method.clone().unwrap_or_default();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let seed = format!("{owner}\n{method_name}\n{nanos}\n{text}");
        let name = format!("{}.ics", &hex::encode(blake3::hash(seed.as_bytes()).as_bytes())[..32]);
        let item = NewInboxItem {
            name: &name,
            uid: &meeting.uid,
            method: &method_name,
            etag: &etag_of(&text),
            content: &text,
        };
        if let Err(e) = self.store.inbox_put(owner, &item, INBOX_KEEP).await {
            tracing::warn!(error = %e, "scheduling: the message could not be placed in the inbox");
        }
    }
}
