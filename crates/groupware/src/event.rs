//! Events as a form edits them: an [`EventDraft`] (title, place, notes,
//! start and end as wall-clock times of one zone or as whole days, and a
//! simple recurrence) written as iCalendar, read back from an object, and
//! the edits a web agenda makes to an existing object: change the master
//! event's fields while keeping everything else it holds (alarms,
//! attendees, overrides, properties of other clients), and exclude one
//! occurrence (EXDATE).
//!
//! Edits work on unfolded content lines, the master event being the VEVENT
//! without RECURRENCE-ID; every result is validated again by
//! [`crate::Groupware::put`] before it is stored.

mod alarm;
mod lines;
mod zones;

pub use alarm::{AlarmChoice, CHOICES as ALARM_CHOICES};

use calcard::icalendar::{ICalendarComponentType, ICalendarProperty};

use lines::{Block, fold, unfold};
pub use lines::{escape, unescape};

/// A calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// `Some` when the day exists (years 1900 to 2200).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let valid = (1900..=2200).contains(&year) && (1..=12).contains(&month) && day >= 1;
        (valid && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days(self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    /// The day `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let (year, month, day) = civil_from_days(days);
        Date { year, month, day }
    }

    /// The day `n` days later (earlier when negative).
    pub fn add_days(self, n: i64) -> Date {
        Date::from_days(self.days() + n)
    }

    /// 0 for Monday to 6 for Sunday.
    pub fn weekday(self) -> u8 {
        // 1970-01-01 was a Thursday (3).
        (self.days() + 3).rem_euclid(7) as u8
    }

    /// `YYYYMMDD`.
    pub fn compact(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// `YYYY-MM-DD`, as an HTML date input gives it.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Reads `YYYY-MM-DD` or `YYYYMMDD`.
    pub fn parse(s: &str) -> Option<Date> {
        let digits: String = s.trim().chars().filter(|c| *c != '-').collect();
        if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Date::new(digits[..4].parse().ok()?, digits[4..6].parse().ok()?, digits[6..8].parse().ok()?)
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}

/// `YYYYMMDDTHHMMSSZ` for unix seconds.
pub fn utc_stamp(unix: i64) -> String {
    let date = Date::from_days(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    format!("{}T{:02}{:02}{:02}Z", date.compact(), secs / 3600, secs / 60 % 60, secs % 60)
}

/// When an event starts or ends: a whole day, or a wall-clock time of the
/// draft's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub date: Date,
    /// Hour and minute; `None` for a whole day.
    pub time: Option<(u8, u8)>,
}

impl Moment {
    fn key(self) -> (Date, u8, u8) {
        let (h, m) = self.time.unwrap_or((0, 0));
        (self.date, h, m)
    }
}

/// How often an event comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    /// On these days (0 Monday to 6 Sunday); the start's day when empty.
    Weekly(Vec<u8>),
    Monthly,
    Yearly,
}

/// Until when it comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Never,
    /// The last day an occurrence may start on.
    Date(Date),
    /// This many occurrences in all.
    Count(u32),
}

/// A simple recurrence: what the agenda's editor offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    pub frequency: Frequency,
    pub until: Until,
}

/// Most occurrences a COUNT may ask for from the editor.
pub const MAX_COUNT: u32 = 1_000;

/// An event as the agenda's form shows and edits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    pub summary: String,
    pub location: String,
    pub description: String,
    pub start: Moment,
    /// Exclusive: the day after the last for whole days.
    pub end: Moment,
    /// The IANA zone of the wall-clock times (`UTC` writes UTC times).
    pub zone: String,
    pub recurrence: Option<Recurrence>,
    /// Its reminder ([`AlarmChoice::Keep`] leaves the object's alarms alone).
    pub alarm: AlarmChoice,
}

/// What [`read_draft`] found besides the draft: what the form cannot show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadDraft {
    pub draft: EventDraft,
    /// The object holds a recurrence the editor cannot show (an interval,
    /// BYMONTHDAY...): saving the form keeps it unless the user changes it.
    pub complex_rule: bool,
    /// The raw RRULE value, kept when the form does not touch it.
    pub rule: Option<String>,
}

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

impl EventDraft {
    /// `Err` with a short French reason when the draft cannot be written.
    pub fn check(&self) -> Result<(), String> {
        let summary = self.summary.trim();
        if summary.is_empty() {
            return Err("donnez un titre à l'événement".into());
        }
        if summary.chars().count() > 500 || self.location.chars().count() > 500 {
            return Err("titre ou lieu trop long (500 caractères au plus)".into());
        }
        if self.description.len() > 20_000 {
            return Err("description trop longue".into());
        }
        if self.start.time.is_some() != self.end.time.is_some() {
            return Err("début et fin doivent être tous deux des journées entières, ou tous deux des heures".into());
        }
        for (h, m) in [self.start.time, self.end.time].into_iter().flatten() {
            if h > 23 || m > 59 {
                return Err("heure invalide".into());
            }
        }
        if self.end.key() <= self.start.key() {
            return Err("la fin doit suivre le début".into());
        }
        if self.end.date.days() - self.start.date.days() > 366 {
            return Err("un événement dure au plus un an".into());
        }
        if zones::vtimezone(&self.zone).is_none() {
            return Err(format!("fuseau horaire non pris en charge : {}", self.zone));
        }
        if let Some(r) = &self.recurrence {
            if let Frequency::Weekly(days) = &r.frequency
                && days.iter().any(|d| *d > 6)
            {
                return Err("jour de la semaine invalide".into());
            }
            match r.until {
                Until::Count(n) if n == 0 || n > MAX_COUNT => {
                    return Err(format!("nombre de répétitions entre 1 et {MAX_COUNT}"));
                }
                Until::Date(d) if d < self.start.date => {
                    return Err("la répétition doit finir après le début".into());
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The RRULE value of the recurrence.
    fn rule(&self) -> Option<String> {
        let r = self.recurrence.as_ref()?;
        let mut rule = match &r.frequency {
            Frequency::Daily => "FREQ=DAILY".to_owned(),
            Frequency::Weekly(days) => {
                let mut days = days.clone();
                if days.is_empty() {
                    days.push(self.start.date.weekday());
                }
                days.sort_unstable();
                days.dedup();
                let names: Vec<&str> = days.iter().filter_map(|d| DAYS.get(usize::from(*d)).copied()).collect();
                format!("FREQ=WEEKLY;BYDAY={}", names.join(","))
            }
            Frequency::Monthly => "FREQ=MONTHLY".to_owned(),
            Frequency::Yearly => "FREQ=YEARLY".to_owned(),
        };
        match r.until {
            Until::Never => {}
            Until::Count(n) => rule.push_str(&format!(";COUNT={n}")),
            // The end of that day in the event's own terms: a DATE for whole
            // days, else the last second of the day (UTC when the start is
            // UTC, local otherwise, as RFC 5545 asks for UNTIL).
            Until::Date(d) if self.start.time.is_none() => rule.push_str(&format!(";UNTIL={}", d.compact())),
            Until::Date(d) => rule.push_str(&format!(";UNTIL={}T235959{}", d.compact(), self.utc_suffix())),
        }
        Some(rule)
    }

    fn utc_suffix(&self) -> &'static str {
        if self.zone == "UTC" { "Z" } else { "" }
    }

    /// `DTSTART`/`DTEND`-style property line for `m`.
    fn moment_line(&self, name: &str, m: Moment) -> String {
        match m.time {
            None => format!("{name};VALUE=DATE:{}", m.date.compact()),
            Some((h, min)) if self.zone == "UTC" => format!("{name}:{}T{h:02}{min:02}00Z", m.date.compact()),
            Some((h, min)) => format!("{name};TZID={}:{}T{h:02}{min:02}00", self.zone, m.date.compact()),
        }
    }

    /// The property lines the form owns, in order.
    fn owned_lines(&self, rule: Option<String>) -> Vec<String> {
        let mut out = vec![format!("SUMMARY:{}", escape(self.summary.trim()))];
        if !self.location.trim().is_empty() {
            out.push(format!("LOCATION:{}", escape(self.location.trim())));
        }
        if !self.description.trim().is_empty() {
            out.push(format!("DESCRIPTION:{}", escape(self.description.trim())));
        }
        out.push(self.moment_line("DTSTART", self.start));
        out.push(self.moment_line("DTEND", self.end));
        if let Some(rule) = rule {
            out.push(format!("RRULE:{rule}"));
        }
        out
    }
}

/// Properties of the master event that the form writes: an edit replaces them.
const OWNED: &[&str] =
    &["SUMMARY", "LOCATION", "DESCRIPTION", "DTSTART", "DTEND", "DURATION", "RRULE", "DTSTAMP", "LAST-MODIFIED"];

/// A new calendar object for `draft` with this UID, stamped at `now`.
pub fn write_new(uid: &str, draft: &EventDraft, now: i64) -> Result<String, String> {
    draft.check()?;
    let stamp = utc_stamp(now);
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Ardoise//Agenda//FR".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
    ];
    if draft.start.time.is_some()
        && let Some(tz) = zones::vtimezone(&draft.zone).filter(|t| !t.is_empty())
    {
        lines.extend(tz.lines().map(str::to_owned));
    }
    lines.push("BEGIN:VEVENT".to_owned());
    lines.push(format!("UID:{}", escape(uid)));
    lines.push(format!("DTSTAMP:{stamp}"));
    lines.push(format!("CREATED:{stamp}"));
    lines.push(format!("LAST-MODIFIED:{stamp}"));
    lines.push("SEQUENCE:0".to_owned());
    lines.extend(draft.owned_lines(draft.rule()));
    lines.extend(draft.alarm.lines(draft.summary.trim()));
    lines.push("END:VEVENT".to_owned());
    lines.push("END:VCALENDAR".to_owned());
    Ok(lines.iter().map(|l| fold(l)).collect())
}

/// `text` with its master event's fields replaced by `draft`'s, SEQUENCE
/// raised and stamped at `now`; everything else is kept. When the
/// recurrence is unchanged from what [`read_draft`] gave (`keep_rule`),
/// the original RRULE and EXDATEs stay; when it changed, the EXDATEs go.
pub fn write_edit(text: &str, draft: &EventDraft, keep_rule: Option<&str>, now: i64) -> Result<String, String> {
    draft.check()?;
    let mut lines = unfold(text);
    let master = Block::master(&lines).ok_or("aucun événement principal dans cet objet")?;
    let rule = keep_rule.map(str::to_owned).or_else(|| draft.rule());
    let rule_changed = keep_rule.is_none();
    let mut kept = Vec::new();
    let mut sequence = 0i64;
    for line in &lines[master.start + 1..master.end] {
        let name = lines::name_of(line);
        if name == "SEQUENCE" {
            sequence = line.rsplit(':').next().and_then(|n| n.trim().parse().ok()).unwrap_or(0);
            continue;
        }
        if OWNED.contains(&name.as_str()) || (rule_changed && (name == "EXDATE" || name == "RDATE")) {
            continue;
        }
        kept.push(line.clone());
    }
    let stamp = utc_stamp(now);
    let mut body =
        vec![format!("DTSTAMP:{stamp}"), format!("LAST-MODIFIED:{stamp}"), format!("SEQUENCE:{}", sequence + 1)];
    body.extend(draft.owned_lines(rule));
    // Sub-components (alarms) stay after the properties.
    if draft.alarm != AlarmChoice::Keep {
        for (start, end) in alarm::blocks(&kept).into_iter().rev() {
            kept.drain(start..end);
        }
        kept.extend(draft.alarm.lines(draft.summary.trim()));
    }
    let split = kept.iter().position(|l| l.to_ascii_uppercase().starts_with("BEGIN:")).unwrap_or(kept.len());
    let mut inner: Vec<String> = kept[..split].to_vec();
    inner.extend(body);
    inner.extend_from_slice(&kept[split..]);
    lines.splice(master.start + 1..master.end, inner);
    if draft.start.time.is_some() {
        add_vtimezone(&mut lines, &draft.zone);
    }
    Ok(lines.iter().map(|l| fold(l)).collect())
}

/// Adds the VTIMEZONE of `zone` when the object has none of that TZID.
fn add_vtimezone(lines: &mut Vec<String>, zone: &str) {
    let Some(tz) = zones::vtimezone(zone).filter(|t| !t.is_empty()) else { return };
    let tzid = format!("TZID:{zone}");
    let mut depth_tz = false;
    for l in lines.iter() {
        let upper = l.to_ascii_uppercase();
        if upper == "BEGIN:VTIMEZONE" {
            depth_tz = true;
        } else if upper == "END:VTIMEZONE" {
            depth_tz = false;
        } else if depth_tz && l.eq_ignore_ascii_case(&tzid) {
            return;
        }
    }
    let at = lines.iter().position(|l| l.eq_ignore_ascii_case("BEGIN:VEVENT")).unwrap_or(lines.len());
    lines.splice(at..at, tz.lines().map(str::to_owned));
}

/// `text` with the occurrence that starts at `start` (UTC seconds) of its
/// recurring master event excluded (an EXDATE in the start's own form),
/// and any override of that occurrence removed.
pub fn exclude_occurrence(text: &str, start: i64, exp: crate::ical::Expansion) -> Result<String, String> {
    let cal = crate::ical::parse(text)?;
    let Some(master_id) = cal.components.iter().position(|c| {
        c.component_type == ICalendarComponentType::VEvent && c.is_recurrent() && !c.is_recurrence_override()
    }) else {
        return Err("cet événement ne se répète pas".into());
    };
    let expanded = cal.expand_dates(crate::ical::zone_for(&cal, exp.zone), exp.cap);
    // Only the master's own occurrences: an override listed at its moved start is not one.
    let Some(occurrence) =
        expanded.events.iter().find(|e| e.comp_id as usize == master_id && e.timestamps().0 == start)
    else {
        return Err("aucune occurrence ne commence à cette heure".into());
    };
    let master = &cal.components[master_id];
    let Some(dtstart) = master.property(&ICalendarProperty::Dtstart) else {
        return Err("DTSTART absent".into());
    };
    let tzid = dtstart.tz_id().map(str::to_owned);
    let is_date = matches!(
        dtstart.values.first(),
        Some(calcard::icalendar::ICalendarValue::PartialDateTime(dt)) if dt.hour.is_none()
    );
    let is_utc = !is_date
        && tzid.is_none()
        && matches!(dtstart.values.first(),
            Some(calcard::icalendar::ICalendarValue::PartialDateTime(dt)) if dt.tz_hour.is_some());
    let (exdate, value) = if is_date {
        ("EXDATE;VALUE=DATE".to_owned(), occurrence.start.format("%Y%m%d").to_string())
    } else if is_utc {
        ("EXDATE".to_owned(), occurrence.start.naive_utc().format("%Y%m%dT%H%M%SZ").to_string())
    } else if let Some(tz) = &tzid {
        (format!("EXDATE;TZID={tz}"), occurrence.start.format("%Y%m%dT%H%M%S").to_string())
    } else {
        ("EXDATE".to_owned(), occurrence.start.format("%Y%m%dT%H%M%S").to_string())
    };
    let mut lines = unfold(text);
    // Overrides of that occurrence go: their RECURRENCE-ID is the same instant.
    while let Some(block) = Block::override_at(&lines, |rid| rid_matches(rid, &value)) {
        lines.drain(block.start..=block.end);
    }
    let master = Block::master(&lines).ok_or("aucun événement principal dans cet objet")?;
    lines.insert(master.end, format!("{exdate}:{value}"));
    Ok(lines.iter().map(|l| fold(l)).collect())
}

/// Whether a RECURRENCE-ID line's value names the occurrence `value`.
fn rid_matches(rid_line: &str, value: &str) -> bool {
    rid_line.rsplit(':').next().is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
}

/// The form's view of the object's master event.
pub fn read_draft(text: &str, default_zone: &str) -> Result<ReadDraft, String> {
    let lines = unfold(text);
    let master = Block::master(&lines).ok_or("aucun événement principal dans cet objet")?;
    let mut summary = String::new();
    let mut location = String::new();
    let mut description = String::new();
    let mut start = None;
    let mut end = None;
    let mut duration = None;
    let mut rule = None;
    let inner = &lines[master.start + 1..master.end];
    let alarms: Vec<Vec<String>> = alarm::blocks(inner).into_iter().map(|(s, e)| inner[s..e].to_vec()).collect();
    for line in inner {
        if line.to_ascii_uppercase().starts_with("BEGIN:") {
            break;
        }
        let name = lines::name_of(line);
        let Some((params, value)) = lines::split_value(line) else { continue };
        match name.as_str() {
            "SUMMARY" => summary = unescape(value),
            "LOCATION" => location = unescape(value),
            "DESCRIPTION" => description = unescape(value),
            "DTSTART" => start = lines::moment(params, value),
            "DTEND" => end = lines::moment(params, value),
            "DURATION" => duration = lines::duration_secs(value),
            "RRULE" => rule = Some(value.to_owned()),
            _ => {}
        }
    }
    let (start, zone) = start.ok_or("DTSTART illisible")?;
    let zone = zone.unwrap_or_else(|| default_zone.to_owned());
    let end = match (end, duration) {
        (Some((e, _)), _) => e,
        (None, Some(secs)) => lines::add_seconds(start, secs),
        (None, None) if start.time.is_none() => Moment { date: start.date.add_days(1), time: None },
        (None, None) => start,
    };
    let (recurrence, complex_rule) = match &rule {
        None => (None, false),
        Some(r) => match lines::simple_rule(r) {
            Some(rec) => (Some(rec), false),
            None => (None, true),
        },
    };
    let alarm = alarm::read(&alarms);
    let draft = EventDraft { summary, location, description, start, end, zone, recurrence, alarm };
    Ok(ReadDraft { draft, complex_rule, rule })
}

#[cfg(test)]
mod tests;
