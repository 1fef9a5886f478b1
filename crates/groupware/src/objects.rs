//! The objects of a collection: validated writes under preconditions,
//! reads, time-range queries and changes since a sync token.

use store::{DeleteOutcome, PutOutcome};

use crate::{
    Collection, CollectionKind, CollectionObject, Error, Groupware, ObjectTag, Precondition, Result, ical, valid_name,
    vcard,
};

/// What a put did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub created: bool,
    pub etag: String,
}

/// A calendar-query: objects of one component type (any when `None`)
/// with an occurrence in `[start, end)` (UTC seconds; open sides unbounded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub component: Option<String>,
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// What changed since a sync token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Objects created or changed, with their current etag.
    pub changed: Vec<ObjectTag>,
    /// Names deleted.
    pub deleted: Vec<String>,
    /// The token to give next time.
    pub token: i64,
}

/// The etag of a text: its hash (a strong validator, never quoted here).
pub fn etag_of(text: &str) -> String {
    hex::encode(&blake3::hash(text.as_bytes()).as_bytes()[..16])
}

impl Groupware {
    /// Names and etags of every object of the collection.
    pub async fn tags(&self, c: &Collection) -> Result<Vec<ObjectTag>> {
        Ok(self.store.collection_tags(c.id).await?)
    }

    /// The object named `name`.
    pub async fn get(&self, c: &Collection, name: &str) -> Result<CollectionObject> {
        self.store.collection_object(c.id, name).await?.ok_or(Error::NotFound)
    }

    /// The objects among `names` (the others do not exist).
    pub async fn multiget(&self, c: &Collection, names: &[String]) -> Result<Vec<CollectionObject>> {
        let mut out = Vec::new();
        for chunk in names.chunks(1_000) {
            out.extend(self.store.collection_objects_named(c.id, chunk).await?);
        }
        Ok(out)
    }

    /// Validates `text` and stores it as `name` if `pre` holds.
    pub async fn put(&self, c: &Collection, name: &str, text: &str, pre: Precondition<'_>) -> Result<Written> {
        if !valid_name(name) {
            return Err(Error::Invalid("nom d'objet invalide".into()));
        }
        if text.len() > self.settings.max_object_bytes {
            return Err(Error::TooLarge(self.settings.max_object_bytes));
        }
        let etag = etag_of(text);
        let mut object = CollectionObject {
            name: name.to_owned(),
            uid: String::new(),
            etag: etag.clone(),
            component: String::new(),
            content: text.to_owned(),
            first_start: None,
            last_end: None,
            modseq: 0,
            next_alarm: None,
        };
        match c.kind {
            CollectionKind::Calendar => {
                let read = ical::read(text, self.expansion).map_err(Error::Invalid)?;
                if !c.components.split(',').any(|k| k == read.component) {
                    return Err(Error::UnsupportedComponent(read.component.to_owned()));
                }
                object.uid = read.uid;
                object.component = read.component.to_owned();
                object.first_start = read.first_start;
                object.last_end = read.last_end;
                let now = crate::reminders::unix_now();
                object.next_alarm =
                    crate::reminders::next_alarm(text, self.expansion, now, c.reminder_minutes).map(|a| a.fire_at);
            }
            CollectionKind::AddressBook => {
                object.uid = vcard::read(text).map_err(Error::Invalid)?;
                object.component = "VCARD".to_owned();
            }
        }
        match self.store.put_collection_object(c.id, &object, pre).await? {
            PutOutcome::Created { .. } => Ok(Written { created: true, etag }),
            PutOutcome::Replaced { .. } => Ok(Written { created: false, etag }),
            PutOutcome::PreconditionFailed => Err(Error::PreconditionFailed),
            PutOutcome::UidTaken(other) => Err(Error::UidConflict(other)),
        }
    }

    /// Deletes the object `name`, if its etag is `if_match` when given.
    pub async fn delete(&self, c: &Collection, name: &str, if_match: Option<&str>) -> Result<()> {
        match self.store.delete_collection_object(c.id, name, if_match).await? {
            DeleteOutcome::Deleted => Ok(()),
            DeleteOutcome::NotFound => Err(Error::NotFound),
            DeleteOutcome::PreconditionFailed => Err(Error::PreconditionFailed),
        }
    }

    /// The objects matching `q`, by name. Rows are pre-filtered on their
    /// stored bounds, then each candidate's occurrences are checked: a
    /// plain event's one occurrence is its stored bounds
    /// ([`single_occurrence`]), anything else is parsed and expanded.
    pub async fn query(&self, c: &Collection, q: &Query) -> Result<Vec<CollectionObject>> {
        let component = q.component.as_deref().unwrap_or("");
        let (start, end) = (q.start.unwrap_or(i64::MIN), q.end.unwrap_or(i64::MAX));
        let rows = self.store.collection_objects_between(c.id, component, start, end).await?;
        if q.start.is_none() && q.end.is_none() || c.kind == CollectionKind::AddressBook {
            return Ok(rows);
        }
        Ok(rows
            .into_iter()
            .filter(|o| match single_occurrence(o) {
                Some((s, e)) => ical::overlaps(s, e, start, end),
                None => ical::occurs_between(&o.content, self.expansion, start, end),
            })
            .collect())
    }

    /// What changed after `since` (everything present when `None`).
    pub async fn changes(&self, c: &Collection, since: Option<i64>) -> Result<Changes> {
        let token = c.sync_counter;
        let Some(since) = since else {
            return Ok(Changes { changed: self.tags(c).await?, deleted: Vec::new(), token });
        };
        if since < 0 || since > token {
            return Err(Error::InvalidSyncToken);
        }
        let log = self.store.collection_changes_since(c.id, since).await?;
        // The log may be newer than `c`, read before it: report its last number.
        let token = log.iter().map(|ch| ch.modseq).fold(token, i64::max);
        let (gone, present): (Vec<_>, Vec<_>) = log.into_iter().partition(|ch| ch.deleted);
        let names: Vec<String> = present.into_iter().map(|ch| ch.name).collect();
        let changed = self
            .multiget(c, &names)
            .await?
            .into_iter()
            .map(|o| ObjectTag { name: o.name, etag: o.etag, component: o.component })
            .collect();
        Ok(Changes { changed, deleted: gone.into_iter().map(|ch| ch.name).collect(), token })
    }
}

/// The one occurrence of a plain event, read off its stored bounds with no
/// parsing (a month's calendar-query meets hundreds of them: R10): an
/// object holding a single VEVENT and nothing that recurs (no RRULE, RDATE,
/// EXDATE or RECURRENCE-ID anywhere in its text, which errs on the side of
/// parsing), whose bounds were computed from that one occurrence when it was
/// stored. `None`: read the object.
pub(crate) fn single_occurrence(o: &CollectionObject) -> Option<(i64, i64)> {
    if o.component != "VEVENT" {
        return None;
    }
    let (s, e) = (o.first_start?, o.last_end?);
    let text = &o.content;
    if text.matches("BEGIN:VEVENT").count() != 1 {
        return None;
    }
    if ["RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"].iter().any(|w| text.contains(w)) {
        return None;
    }
    Some((s, e))
}
