//! iCalendar objects: what a calendar accepts (one VCALENDAR holding
//! components of one type that share one UID, no METHOD) and when their
//! occurrences fall, recurrences expanded by calcard up to a cap.

use calcard::common::timezone::Tz;
use calcard::icalendar::{ICalendar, ICalendarComponentType, ICalendarProperty, ICalendarValue};
use calcard::{Entry, Parser};

/// What a valid calendar object is, for storing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarObject {
    pub uid: String,
    /// `VEVENT`, `VTODO` or `VJOURNAL`.
    pub component: &'static str,
    /// UTC seconds bounding its occurrences; `None` when unbounded.
    pub first_start: Option<i64>,
    pub last_end: Option<i64>,
}

/// How far recurrences are expanded and in which zone floating times are read.
#[derive(Debug, Clone, Copy)]
pub struct Expansion {
    pub zone: Tz,
    /// Occurrences computed at most per object.
    pub cap: usize,
}

/// Reads `text` as one calendar object resource (RFC 4791 section 4.1).
/// `Err` gives a short reason in French.
pub fn read(text: &str, exp: Expansion) -> Result<CalendarObject, String> {
    let cal = parse(text)?;
    let Some(top) = cal.components.first().filter(|c| c.component_type == ICalendarComponentType::VCalendar) else {
        return Err("VCALENDAR attendu".into());
    };
    if top.property(&ICalendarProperty::Method).is_some() {
        return Err("METHOD n'a pas sa place dans un agenda (RFC 4791, 4.1)".into());
    }
    let mut kind: Option<&'static str> = None;
    let mut uid: Option<&str> = None;
    for c in &cal.components[1..] {
        let this = match c.component_type {
            ICalendarComponentType::VEvent => "VEVENT",
            ICalendarComponentType::VTodo => "VTODO",
            ICalendarComponentType::VJournal => "VJOURNAL",
            ICalendarComponentType::VTimezone
            | ICalendarComponentType::Standard
            | ICalendarComponentType::Daylight
            | ICalendarComponentType::VAlarm
            | ICalendarComponentType::Other(_)
            | ICalendarComponentType::Participant
            | ICalendarComponentType::VLocation
            | ICalendarComponentType::VResource => continue,
            ref other => return Err(format!("composant {} non pris en charge", other.as_str())),
        };
        if kind.is_some_and(|k| k != this) {
            return Err("un objet ne mélange pas plusieurs types de composants".into());
        }
        kind = Some(this);
        let Some(this_uid) = c.uid().filter(|u| !u.is_empty()) else {
            return Err(format!("{this} sans UID"));
        };
        if uid.is_some_and(|u| u != this_uid) {
            return Err("plusieurs UID dans un même objet".into());
        }
        uid = Some(this_uid);
    }
    let (Some(component), Some(uid)) = (kind, uid) else {
        return Err("aucun VEVENT, VTODO ni VJOURNAL".into());
    };
    if uid.len() > 255 {
        return Err("UID de plus de 255 octets".into());
    }
    let (first_start, last_end) = bounds(&cal, exp)?;
    Ok(CalendarObject { uid: uid.to_owned(), component, first_start, last_end })
}

/// Whether an occurrence of the object `text` meets `[start, end)` (UTC
/// seconds), by the rules of RFC 4791 section 9.9: an occurrence without
/// duration meets the range if it starts in it. Objects without any date
/// (a task with none) meet every range.
pub fn occurs_between(text: &str, exp: Expansion, start: i64, end: i64) -> bool {
    let Ok(cal) = parse(text) else { return false };
    let expanded = cal.expand_dates(zone_for(&cal, exp.zone), exp.cap);
    if expanded.events.is_empty() {
        return expanded.errors.is_empty();
    }
    expanded.events.iter().any(|e| {
        let (s, e) = e.timestamps();
        overlaps(s, e, start, end)
    })
}

/// Whether an occurrence `[s, e)` meets `[start, end)` (RFC 4791 section
/// 9.9): one without duration meets the range it starts in.
pub fn overlaps(s: i64, e: i64, start: i64, end: i64) -> bool {
    if e > s { s < end && e > start } else { start <= s && s < end }
}

/// The occurrences of the object `text` as UTC `[start, end)` seconds, at
/// most `max` (scheduling compares a room's events with them). An
/// occurrence without duration lasts a second, so that it still overlaps.
pub fn occurrences(text: &str, exp: Expansion, max: usize) -> Vec<(i64, i64)> {
    let Ok(cal) = parse(text) else { return Vec::new() };
    let expanded = cal.expand_dates(zone_for(&cal, exp.zone), exp.cap.min(max));
    expanded
        .events
        .iter()
        .map(|e| {
            let (s, e) = e.timestamps();
            (s, e.max(s + 1))
        })
        .collect()
}

/// The default zone to expand `cal` with: `local` when a start is floating
/// (no zone, not UTC: an all-day event, a local time), else UTC. calcard
/// 0.3 reads the occurrences of a recurring UTC start in the default zone,
/// so that default must be UTC for them.
pub(crate) fn zone_for(cal: &ICalendar, local: Tz) -> Tz {
    let floating = cal.components.iter().flat_map(|c| &c.entries).any(|e| {
        e.name == ICalendarProperty::Dtstart
            && e.tz_id().is_none()
            && matches!(e.values.first(), Some(ICalendarValue::PartialDateTime(dt))
                if dt.to_date_time().is_some_and(|d| d.offset.is_none()))
    });
    if floating { local } else { Tz::UTC }
}

/// Parses exactly one iCalendar stream: nothing may follow it, and it must
/// end (calcard 0.3 accepts a VCALENDAR cut before its END).
pub(crate) fn parse(text: &str) -> Result<ICalendar, String> {
    let mut parser = Parser::new(text);
    let cal = match parser.entry() {
        Entry::ICalendar(_) if !ends_with_line(text, "END:VCALENDAR") => {
            return Err("BEGIN:VCALENDAR sans END".into());
        }
        Entry::ICalendar(cal) => cal,
        Entry::VCard(_) => return Err("vCard reçue là où un iCalendar est attendu".into()),
        other => return Err(entry_error(other)),
    };
    match parser.entry() {
        Entry::Eof => Ok(cal),
        _ => Err("un seul VCALENDAR par objet".into()),
    }
}

/// Whether the last non-blank line of `text` is `line` (any case).
pub(crate) fn ends_with_line(text: &str, line: &str) -> bool {
    text.trim_end().rsplit('\n').next().is_some_and(|l| l.trim().eq_ignore_ascii_case(line))
}

/// A short reason for what the parser found instead of a component.
pub(crate) fn entry_error(entry: Entry) -> String {
    match entry {
        Entry::InvalidLine(line) => {
            let line: String = line.chars().take(60).collect();
            format!("ligne invalide : {line}")
        }
        Entry::UnexpectedComponentEnd { expected, found } => {
            format!("END:{} inattendu (END:{} attendu)", found.as_str(), expected.as_str())
        }
        Entry::UnterminatedComponent(name) => format!("BEGIN:{name} sans END"),
        Entry::TooManyComponents => "trop de composants".into(),
        Entry::Eof => "contenu vide".into(),
        _ => "objet inattendu".into(),
    }
}

/// The first start and last end of the object's occurrences.
fn bounds(cal: &ICalendar, exp: Expansion) -> Result<(Option<i64>, Option<i64>), String> {
    let expanded = cal.expand_dates(zone_for(cal, exp.zone), exp.cap);
    if let Some(e) = expanded.errors.first() {
        return Err(format!("date ou récurrence invalide ({:?})", e.error));
    }
    let mut first: Option<i64> = None;
    let mut last: Option<i64> = None;
    for e in &expanded.events {
        let (s, end) = e.timestamps();
        first = Some(first.map_or(s, |f| f.min(s)));
        last = Some(last.map_or(end.max(s), |l| l.max(end).max(s)));
    }
    // A recurrence without end, or one cut by the cap, is unbounded. Only the
    // object's own components count: a VTIMEZONE's STANDARD and DAYLIGHT
    // rules recur forever (every Thunderbird or phone event carries one), and
    // taking them for the event's left every such event unbounded.
    let mut endless = false;
    let mut exdates = 0usize;
    let own = |c: &&calcard::icalendar::ICalendarComponent| {
        matches!(
            c.component_type,
            ICalendarComponentType::VEvent | ICalendarComponentType::VTodo | ICalendarComponentType::VJournal
        )
    };
    for c in cal.components.iter().filter(own) {
        for entry in &c.entries {
            match (&entry.name, entry.values.first()) {
                (ICalendarProperty::Rrule, Some(ICalendarValue::RecurrenceRule(rule))) => {
                    endless |= rule.until.is_none() && rule.count.is_none();
                }
                (ICalendarProperty::Exdate, _) => exdates += entry.values.len(),
                _ => {}
            }
        }
    }
    if endless || expanded.events.len() + exdates >= exp.cap {
        last = None;
    }
    Ok((first, last))
}

#[cfg(test)]
mod tests;
