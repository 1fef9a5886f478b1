//! Reminders: when the alarms of calendar objects fire (VALARM, RFC 5545
//! section 3.6.6), and the runner that fires them once.
//!
//! Every occurrence of an event or a task (recurrences expanded as for
//! time-range queries) fires each of its component's alarms: a `TRIGGER`
//! duration from its start (or its end with `RELATED=END`), or an absolute
//! UTC time (once, not per occurrence), repeated `REPEAT` times every
//! `DURATION`. `DISPLAY` and `AUDIO` alarms are shown in the webmail;
//! `EMAIL` alarms are also mailed, to the calendar's owner only (never to
//! the alarm's own `ATTENDEE`s: a calendar object must not make the server
//! send mail to anyone). `PROCEDURE` alarms are ignored. A timed event
//! without alarms of its own gets the calendar's default reminder
//! ([`Collection::reminder_minutes`](store::Collection)); whole-day events
//! and cancelled ones get none.
//!
//! Each object's next firing time is stored with it (computed when it is
//! written, `0` when it must be computed again), so the runner reads only
//! the objects that are due; it claims each by compare and set, so an alarm
//! fires once across nodes and restarts. Alarms found more than
//! [`LATE_LIMIT`] late (a server stopped for a night) are dropped.

use calcard::icalendar::{
    ICalendarAction, ICalendarComponentType, ICalendarParameterName, ICalendarParameterValue, ICalendarProperty,
    ICalendarRelated, ICalendarStatus, ICalendarValue,
};
use model::AccountId;
use store::{DueAlarm, NewReminder, Reminder};

use crate::ical::Expansion;
use crate::{Groupware, Result};

/// The default reminder of an account's « Agenda », in minutes.
pub const DEFAULT_MINUTES: i64 = 15;
/// Alarms found later than this (seconds) after their time are not fired.
pub const LATE_LIMIT: i64 = 6 * 3600;
/// Most alarms of one object fired at once (a long-stopped server).
const MAX_FIRED_PER_OBJECT: usize = 10;
/// Objects handled per batch of the runner, and batches per run.
const BATCH: i64 = 200;
const MAX_BATCHES: usize = 20;
/// Most repetitions of one alarm (`REPEAT`).
const MAX_REPEAT: i64 = 20;

/// One firing of an alarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    /// UTC seconds.
    pub fire_at: i64,
    /// The start of the occurrence it is for (UTC seconds).
    pub starts_at: i64,
    /// An `EMAIL` alarm: mailed to the owner.
    pub email: bool,
    pub title: String,
    pub location: String,
}

/// The current time, UTC seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Every firing of the alarms of `text`, in no particular order.
fn firings(text: &str, exp: Expansion, default_minutes: Option<i64>) -> Vec<Alarm> {
    let Ok(cal) = crate::ical::parse(text) else { return Vec::new() };
    let expanded = cal.expand_dates(crate::ical::zone_for(&cal, exp.zone), exp.cap);
    let mut out: Vec<Alarm> = Vec::new();
    let mut absolute_seen: Vec<(u32, i64)> = Vec::new();
    for e in &expanded.events {
        let Some(comp) = cal.component_by_id(e.comp_id) else { continue };
        if !matches!(comp.component_type, ICalendarComponentType::VEvent | ICalendarComponentType::VTodo)
            || comp.status() == Some(&ICalendarStatus::Cancelled)
        {
            continue;
        }
        let (start, end) = e.timestamps();
        let text_of = |p: &ICalendarProperty| {
            comp.property(p).and_then(|e| e.values.first()).and_then(|v| v.as_text()).unwrap_or("").to_owned()
        };
        let title = text_of(&ICalendarProperty::Summary);
        let location = text_of(&ICalendarProperty::Location);
        let mut push = |fire_at: i64, email: bool| {
            out.push(Alarm { fire_at, starts_at: start, email, title: title.clone(), location: location.clone() });
        };
        let alarms: Vec<_> = cal.alarms_for_id(e.comp_id).collect();
        if alarms.is_empty() {
            let whole_day = comp
                .property(&ICalendarProperty::Dtstart)
                .and_then(|e| e.values.first())
                .and_then(|v| v.as_partial_date_time())
                .is_some_and(|dt| dt.hour.is_none());
            if let Some(minutes) = default_minutes.filter(|_| comp.component_type == ICalendarComponentType::VEvent)
                && !whole_day
            {
                push(start - minutes.clamp(0, 40 * 24 * 60) * 60, false);
            }
            continue;
        }
        for alarm in alarms {
            let email = match alarm.property(&ICalendarProperty::Action).and_then(|a| a.values.first()) {
                Some(ICalendarValue::Action(ICalendarAction::Display | ICalendarAction::Audio)) => false,
                Some(ICalendarValue::Action(ICalendarAction::Email)) => true,
                _ => continue,
            };
            let Some(trigger) = alarm.property(&ICalendarProperty::Trigger) else { continue };
            let first = match trigger.values.first() {
                Some(ICalendarValue::Duration(d)) => {
                    let from_end = trigger.params.iter().any(|p| {
                        p.name == ICalendarParameterName::Related
                            && p.value == ICalendarParameterValue::Related(ICalendarRelated::End)
                    });
                    (if from_end { end.max(start) } else { start }).saturating_add(d.as_seconds())
                }
                Some(ICalendarValue::PartialDateTime(dt)) => {
                    let Some(at) = dt.to_timestamp() else { continue };
                    // An absolute trigger fires once, whatever the recurrence.
                    let key = (e.comp_id, at);
                    if absolute_seen.contains(&key) {
                        continue;
                    }
                    absolute_seen.push(key);
                    at
                }
                _ => continue,
            };
            push(first, email);
            let repeat = alarm
                .property(&ICalendarProperty::Repeat)
                .and_then(|r| r.values.first())
                .and_then(|v| if let ICalendarValue::Integer(n) = v { Some(*n) } else { None })
                .unwrap_or(0)
                .clamp(0, MAX_REPEAT);
            let every = alarm
                .property(&ICalendarProperty::Duration)
                .and_then(|d| d.values.first())
                .and_then(|v| if let ICalendarValue::Duration(d) = v { Some(d.as_seconds()) } else { None })
                .unwrap_or(0);
            if every > 0 {
                for k in 1..=repeat {
                    push(first.saturating_add(k * every), email);
                }
            }
        }
    }
    out
}

/// The first firing of the alarms of `text` strictly after `after`.
pub fn next_alarm(text: &str, exp: Expansion, after: i64, default_minutes: Option<i64>) -> Option<Alarm> {
    firings(text, exp, default_minutes).into_iter().filter(|a| a.fire_at > after).min_by_key(|a| a.fire_at)
}

/// The firings of the alarms of `text` in `[from, until]`, by time.
pub fn alarms_between(text: &str, exp: Expansion, from: i64, until: i64, default_minutes: Option<i64>) -> Vec<Alarm> {
    let mut out: Vec<Alarm> =
        firings(text, exp, default_minutes).into_iter().filter(|a| from <= a.fire_at && a.fire_at <= until).collect();
    out.sort_by_key(|a| (a.fire_at, a.starts_at));
    out
}

/// An alarm the runner fired, for the caller to announce (and mail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub account: AccountId,
    pub reminder: NewReminder,
}

impl Groupware {
    /// Fires the alarms due at `now`: each object due is claimed, what fired
    /// is recorded for its owner, and its next firing is stored. Objects
    /// whose next firing was not computed yet get it without firing.
    pub async fn run_reminders(&self, now: i64) -> Result<Vec<Fired>> {
        let mut out = Vec::new();
        for _ in 0..MAX_BATCHES {
            let due = self.store.due_alarms(now, BATCH).await?;
            let full = due.len() as i64 == BATCH;
            for d in due {
                out.extend(self.fire(&d, now).await?);
            }
            if !full {
                break;
            }
        }
        Ok(out)
    }

    async fn fire(&self, d: &DueAlarm, now: i64) -> Result<Vec<Fired>> {
        let next = next_alarm(&d.content, self.expansion, now, d.reminder_minutes).map(|a| a.fire_at);
        let fired: Vec<NewReminder> = if d.next_alarm == 0 {
            Vec::new()
        } else {
            let from = d.next_alarm.max(now - LATE_LIMIT);
            let all = alarms_between(&d.content, self.expansion, from, now, d.reminder_minutes);
            let skip = all.len().saturating_sub(MAX_FIRED_PER_OBJECT);
            all.into_iter()
                .skip(skip)
                .map(|a| NewReminder {
                    title: a.title,
                    location: a.location,
                    starts_at: a.starts_at,
                    fire_at: a.fire_at,
                    mail: a.email || d.reminder_mail,
                })
                .collect()
        };
        if !self.store.fire_alarm(d, next, &fired).await? {
            return Ok(Vec::new());
        }
        Ok(fired.into_iter().map(|reminder| Fired { account: d.account_id, reminder }).collect())
    }

    /// The reminders of `account` fired within the last day and not dismissed.
    pub async fn pending_reminders(&self, account: AccountId, now: i64) -> Result<Vec<Reminder>> {
        Ok(self.store.pending_reminders(account, now - 24 * 3600).await?)
    }

    /// Dismisses one reminder of `account` (`false`: none such).
    pub async fn dismiss_reminder(&self, account: AccountId, id: i64) -> Result<bool> {
        Ok(self.store.dismiss_reminder(account, id).await?)
    }

    /// Dismisses every reminder of `account`.
    pub async fn dismiss_all_reminders(&self, account: AccountId) -> Result<u64> {
        Ok(self.store.dismiss_all_reminders(account).await?)
    }

    /// Sets the default reminder of the calendar `c` (minutes before, or
    /// none) and whether its reminders are mailed; its objects' next
    /// firings are computed again by the runner.
    pub async fn set_reminders(&self, c: &store::Collection, minutes: Option<i64>, mail: bool) -> Result<()> {
        if c.kind != store::CollectionKind::Calendar {
            return Err(crate::Error::Invalid("seul un agenda a des rappels".into()));
        }
        if minutes.is_some_and(|m| !(0..=40 * 24 * 60).contains(&m)) {
            return Err(crate::Error::Invalid("rappel entre 0 minute et 40 jours avant".into()));
        }
        if self.store.set_collection_reminders(c.id, minutes, mail).await? {
            Ok(())
        } else {
            Err(crate::Error::NotFound)
        }
    }

    /// Reminders waiting to be mailed; each is to be claimed
    /// ([`Groupware::claim_reminder_mail`]) before it is sent.
    pub async fn reminders_to_mail(&self) -> Result<Vec<Reminder>> {
        Ok(self.store.reminders_to_mail(100).await?)
    }

    /// Claims a reminder for mailing: `true` once.
    pub async fn claim_reminder_mail(&self, id: i64) -> Result<bool> {
        Ok(self.store.claim_reminder_mail(id).await?)
    }

    /// Gives back a claimed reminder whose mail could not be delivered.
    pub async fn unclaim_reminder_mail(&self, id: i64) -> Result<()> {
        Ok(self.store.unclaim_reminder_mail(id).await?)
    }

    /// Forgets reminders fired more than 30 days before `now`.
    pub async fn purge_reminders(&self, now: i64) -> Result<u64> {
        Ok(self.store.purge_reminders(now - 30 * 24 * 3600).await?)
    }
}

mod mail;
pub use mail::{local_time, reminder_mail};

#[cfg(test)]
mod tests;

impl Groupware {
    /// The mail of reminder `r` to its owner `(name, address)`, dated in
    /// the service's zone.
    pub fn reminder_mail(&self, name: &str, address: &str, domain: &str, r: &Reminder) -> std::io::Result<Vec<u8>> {
        reminder_mail(name, address, domain, r, self.expansion.zone)
    }
}
