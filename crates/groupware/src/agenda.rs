//! What a web agenda needs beyond CalDAV: the occurrences of a calendar's
//! events in a range (recurrences expanded by the same code as time-range
//! queries), and events created, edited and cut from a form
//! ([`crate::event`]), each written through [`Groupware::put`] so that
//! CalDAV clients see exactly what the web wrote.

use std::sync::atomic::{AtomicU64, Ordering};

use calcard::icalendar::{ICalendarComponentType, ICalendarProperty, ICalendarStatus, ICalendarTransparency};

use crate::event::{self, Date, EventDraft};
use crate::{Collection, Error, Groupware, Precondition, Result, Written};

/// One occurrence of an event, as an agenda shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The object's name in its collection.
    pub name: String,
    pub uid: String,
    pub summary: String,
    pub location: String,
    /// UTC seconds.
    pub start: i64,
    pub end: i64,
    /// For a whole-day event: its first day and the day after its last.
    pub days: Option<(Date, Date)>,
    /// Part of a recurrence (the master's or an override's occurrence).
    pub recurring: bool,
    /// Shown as busy in free/busy (not TRANSP:TRANSPARENT, not cancelled).
    pub busy: bool,
}

/// Most occurrences listed for one range of one calendar.
pub const MAX_OCCURRENCES: usize = 2_000;

/// The occurrences of the calendar object `text` that meet `[start, end)`.
pub fn occurrences_of(name: &str, text: &str, exp: crate::ical::Expansion, start: i64, end: i64) -> Vec<Occurrence> {
    let Ok(cal) = crate::ical::parse(text) else { return Vec::new() };
    let expanded = cal.expand_dates(crate::ical::zone_for(&cal, exp.zone), exp.cap);
    let recurring = cal.components.iter().any(|c| c.is_recurrent_or_override());
    let mut out = Vec::new();
    for e in &expanded.events {
        let Some(comp) = cal.component_by_id(e.comp_id) else { continue };
        if comp.component_type != ICalendarComponentType::VEvent {
            continue;
        }
        let (s, en) = e.timestamps();
        let meets = if en > s { s < end && en > start } else { start <= s && s < end };
        if !meets {
            continue;
        }
        let text_of = |p: &ICalendarProperty| {
            comp.property(p).and_then(|e| e.values.first()).and_then(|v| v.as_text()).unwrap_or("").to_owned()
        };
        let whole_day = comp
            .property(&ICalendarProperty::Dtstart)
            .and_then(|e| e.values.first())
            .and_then(|v| v.as_partial_date_time())
            .is_some_and(|dt| dt.hour.is_none());
        let days = whole_day
            .then(|| {
                let first = Date::parse(&e.start.format("%Y%m%d").to_string())?;
                let n = ((en - s) / 86_400).max(1);
                Some((first, first.add_days(n)))
            })
            .flatten();
        let transparent = comp.transparency() == Some(&ICalendarTransparency::Transparent);
        let cancelled = comp.status() == Some(&ICalendarStatus::Cancelled);
        out.push(Occurrence {
            name: name.to_owned(),
            uid: comp.uid().unwrap_or("").to_owned(),
            summary: text_of(&ICalendarProperty::Summary),
            location: text_of(&ICalendarProperty::Location),
            start: s,
            end: en.max(s),
            days,
            recurring,
            busy: !transparent && !cancelled,
        });
    }
    out
}

/// A fresh UID: unpredictable enough to never meet another (the time, a
/// process counter and the collection, hashed), under our domain-less form.
fn new_uid(c: &Collection, now: i64) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let seed = format!("{}:{now}:{nanos}:{n}:{}", c.id, std::process::id());
    let hash = blake3::hash(seed.as_bytes());
    let hex = hex::encode(&hash.as_bytes()[..16]);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

impl Groupware {
    /// The occurrences of the calendar's events that meet `[start, end)`
    /// (UTC seconds), by start; at most [`MAX_OCCURRENCES`].
    pub async fn occurrences(&self, c: &Collection, start: i64, end: i64) -> Result<Vec<Occurrence>> {
        let rows = self.store.collection_objects_between(c.id, "VEVENT", start, end).await?;
        let mut out = Vec::new();
        for o in rows {
            out.extend(occurrences_of(&o.name, &o.content, self.expansion, start, end));
            if out.len() >= MAX_OCCURRENCES {
                break;
            }
        }
        out.sort_by(|a, b| (a.start, &a.summary).cmp(&(b.start, &b.summary)));
        out.truncate(MAX_OCCURRENCES);
        Ok(out)
    }

    /// A new event in `c` from a form; returns its object name.
    pub async fn create_event(&self, c: &Collection, draft: &EventDraft, now: i64) -> Result<String> {
        let uid = new_uid(c, now);
        let text = event::write_new(&uid, draft, now).map_err(Error::Invalid)?;
        let name = format!("{uid}.ics");
        self.put(c, &name, &text, Precondition::Absent).await?;
        Ok(name)
    }

    /// The event `name` of `c` changed to `draft`, if it is still at `etag`
    /// (someone else's change in between is [`Error::PreconditionFailed`]).
    /// `keep_rule`: the object's own RRULE, when the form left the recurrence alone.
    pub async fn edit_event(
        &self,
        c: &Collection,
        name: &str,
        etag: &str,
        draft: &EventDraft,
        keep_rule: Option<&str>,
        now: i64,
    ) -> Result<Written> {
        let current = self.get(c, name).await?;
        if current.component != "VEVENT" {
            return Err(Error::NotFound);
        }
        let text = event::write_edit(&current.content, draft, keep_rule, now).map_err(Error::Invalid)?;
        self.put(c, name, &text, Precondition::Matches(etag)).await
    }

    /// Removes one occurrence (starting at `start`, UTC seconds) from the
    /// recurring event `name` of `c`.
    pub async fn exclude_occurrence(&self, c: &Collection, name: &str, start: i64) -> Result<Written> {
        let current = self.get(c, name).await?;
        let text = event::exclude_occurrence(&current.content, start, self.expansion).map_err(Error::Invalid)?;
        self.put(c, name, &text, Precondition::Matches(&current.etag)).await
    }
}
