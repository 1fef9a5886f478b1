//! Invitations (`text/calendar` parts, `.ics` attachments) shown readably on
//! the reading page: what, when, where, who invites.
//!
//! A small reader of our own for the few VEVENT properties shown (RFC 5545:
//! line unfolding, parameters, text escapes, DATE and DATE-TIME values);
//! calendars are not stored or answered here, so a full iCalendar library
//! would bring much for little. Input and output are bounded.

use crate::base::clock::Clock;

/// When an event starts or ends, as written in the invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// A whole day: (year, month, day).
    Day(i32, u8, u8),
    /// A time: (year, month, day, hour, minute), in UTC (`Z`), in a named
    /// zone (`TZID`), or floating (neither).
    Time { date: (i32, u8, u8), hour: u8, minute: u8, zone: Zone },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    Utc,
    Named(String),
    Floating,
}

/// One event of an invitation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub summary: String,
    pub start: Option<When>,
    pub end: Option<When>,
    pub location: String,
    /// "Name <address>" or the address.
    pub organizer: String,
    pub description: String,
    pub uid: String,
    /// The attendees' addresses, lower-case (at most `MAX_ATTENDEES`).
    pub attendees: Vec<String>,
}

/// A calendar object: its method (`REQUEST`, `CANCEL`, `REPLY`...) and events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    pub method: String,
    pub events: Vec<Event>,
}

/// Largest calendar read, events kept, and characters kept per property.
const MAX_INPUT: usize = 1 << 20;
const MAX_EVENTS: usize = 20;
const MAX_VALUE: usize = 2_000;
const MAX_ATTENDEES: usize = 500;

/// Reads the events of an iCalendar text. Unknown or broken lines are
/// skipped: what can be read is shown.
pub fn parse(text: &str) -> Calendar {
    let text = &text[..floor_char_boundary(text, MAX_INPUT)];
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "").replace("\n\t", "");
    let mut cal = Calendar::default();
    // The components we are in, innermost last.
    let mut stack: Vec<String> = Vec::new();
    let mut current: Option<Event> = None;
    for line in unfolded.lines() {
        let Some((name, params, value)) = split_line(line) else { continue };
        match name.as_str() {
            "BEGIN" => {
                let kind = value.trim().to_ascii_uppercase();
                if kind == "VEVENT" && cal.events.len() < MAX_EVENTS {
                    current = Some(Event::default());
                }
                stack.push(kind);
                continue;
            }
            "END" => {
                if stack.pop().as_deref() == Some("VEVENT")
                    && let Some(e) = current.take()
                {
                    cal.events.push(e);
                }
                continue;
            }
            _ => {}
        }
        let innermost = stack.last().map(String::as_str);
        if innermost == Some("VCALENDAR") && name == "METHOD" {
            cal.method = value.trim().to_ascii_uppercase();
        }
        let Some(e) = current.as_mut().filter(|_| innermost == Some("VEVENT")) else { continue };
        match name.as_str() {
            "SUMMARY" => e.summary = unescape(value),
            "LOCATION" => e.location = unescape(value),
            "DESCRIPTION" => e.description = unescape(value),
            "UID" => e.uid = value.trim().chars().take(255).collect(),
            "ATTENDEE" if e.attendees.len() < MAX_ATTENDEES => {
                let address = value.trim();
                let address =
                    address.get(..7).filter(|p| p.eq_ignore_ascii_case("mailto:")).map_or(address, |_| &address[7..]);
                e.attendees.push(address.chars().take(254).collect::<String>().to_ascii_lowercase());
            }
            "DTSTART" => e.start = when(&params, value),
            "DTEND" => e.end = when(&params, value),
            "ORGANIZER" => {
                let address = value.trim();
                let address =
                    address.get(..7).filter(|p| p.eq_ignore_ascii_case("mailto:")).map_or(address, |_| &address[7..]);
                let cn = params.iter().find(|(k, _)| k == "CN").map(|(_, v)| v.trim().to_owned());
                e.organizer = match cn {
                    Some(n) if !n.is_empty() && !address.is_empty() => format!("{n} <{address}>"),
                    Some(n) if !n.is_empty() => n,
                    _ => address.to_owned(),
                };
                e.organizer = e.organizer.chars().take(MAX_VALUE).collect();
            }
            _ => {}
        }
    }
    cal
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0)
}

/// Parameters of a content line: (upper-case name, value).
type Params = Vec<(String, String)>;

/// `NAME;P1=V1;P2="V,2":value` as (upper-case name, params, value).
fn split_line(line: &str) -> Option<(String, Params, &str)> {
    // The value starts at the first ':' outside double quotes.
    let mut quoted = false;
    let colon = line.char_indices().find_map(|(i, c)| match c {
        '"' => {
            quoted = !quoted;
            None
        }
        ':' if !quoted => Some(i),
        _ => None,
    })?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.trim().to_ascii_uppercase();
    if name.is_empty() {
        return None;
    }
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_uppercase(), v.trim().trim_matches('"').to_owned()))
        .collect();
    Some((name, params, value))
}

/// RFC 5545 TEXT: `\n`, `\,`, `\;`, `\\`.
fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
        if out.len() >= MAX_VALUE {
            break;
        }
    }
    out.trim().to_owned()
}

/// A DATE or DATE-TIME value with its parameters.
fn when(params: &[(String, String)], value: &str) -> Option<When> {
    let v = value.trim();
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let date = |s: &str| -> Option<(i32, u8, u8)> {
        if s.len() != 8 || !digits(s) {
            return None;
        }
        let (y, m, d) = (s[..4].parse().ok()?, s[4..6].parse().ok()?, s[6..8].parse().ok()?);
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
    };
    let all_day = params.iter().any(|(k, v)| k == "VALUE" && v.eq_ignore_ascii_case("DATE"));
    if all_day || v.len() == 8 {
        let (y, m, d) = date(v)?;
        return Some(When::Day(y, m, d));
    }
    let (d, t) = v.split_once(['T', 't'])?;
    let (t, utc) = match t.strip_suffix(['Z', 'z']) {
        Some(t) => (t, true),
        None => (t, false),
    };
    if t.len() != 6 || !digits(t) {
        return None;
    }
    let (hour, minute): (u8, u8) = (t[..2].parse().ok()?, t[2..4].parse().ok()?);
    if hour > 23 || minute > 59 {
        return None;
    }
    let zone = if utc {
        Zone::Utc
    } else if let Some((_, tz)) = params.iter().find(|(k, _)| k == "TZID") {
        Zone::Named(tz.chars().filter(|c| !c.is_control()).take(64).collect())
    } else {
        Zone::Floating
    };
    Some(When::Time { date: date(d)?, hour, minute, zone })
}

impl When {
    /// The time in the reader's zone (`clock`): `24/11/2026 14:00`, with the
    /// event's own time and zone after it when they differ
    /// (`24/11/2026 19:00 (14:00 America/Martinique)`); `24/11/2026` for a
    /// whole day; a zone no one knows is named as written. English dates are
    /// written the same way.
    pub fn show(&self, clock: &Clock) -> String {
        match self {
            When::Day(y, m, d) => format!("{d:02}/{m:02}/{y}"),
            When::Time { date: (y, m, d), hour, minute, zone } => {
                let written = format!("{d:02}/{m:02}/{y} {hour:02}:{minute:02}");
                let (yy, mm, dd, hh, mi) = (
                    i16::try_from(*y).unwrap_or(0),
                    i8::try_from(*m).unwrap_or(0),
                    i8::try_from(*d).unwrap_or(0),
                    i8::try_from(*hour).unwrap_or(0),
                    i8::try_from(*minute).unwrap_or(0),
                );
                match zone {
                    Zone::Floating => written,
                    Zone::Utc => match Clock::wall_time_in("UTC", yy, mm, dd, hh, mi) {
                        Some(t) => clock.full(t),
                        None => format!("{written} (UTC)"),
                    },
                    Zone::Named(n) => match Clock::wall_time_in(n, yy, mm, dd, hh, mi) {
                        Some(t) if clock.is_zone(n) => clock.full(t),
                        Some(t) => format!("{} ({hour:02}:{minute:02} {n})", clock.full(t)),
                        None => format!("{written} ({n})"),
                    },
                }
            }
        }
    }

    pub fn all_day(&self) -> bool {
        matches!(self, When::Day(..))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//FR\r\nMETHOD:REQUEST\r\n\
        BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
        BEGIN:VEVENT\r\nUID:1@x\r\nSUMMARY:Conseil de classe\\, 3e B\r\n\
        DTSTART;TZID=Europe/Paris:20261126T170000\r\nDTEND;TZID=Europe/Paris:20261126T183000\r\n\
        LOCATION:Salle 12\\; bâtiment B\r\n\
        ORGANIZER;CN=\"Martin, Claire\":mailto:claire.martin@ac-demo.fr\r\n\
        DESCRIPTION:Ordre du jour :\\n- bilans\\n- orienta\r\n tion\r\n\
        BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Rappel\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n";

    fn paris() -> Clock {
        Clock::default()
    }

    #[test]
    fn an_invitation_reads_well() {
        let cal = parse(INVITE);
        assert_eq!(cal.method, "REQUEST");
        assert_eq!(cal.events.len(), 1);
        let e = &cal.events[0];
        assert_eq!(e.summary, "Conseil de classe, 3e B");
        assert_eq!(e.location, "Salle 12; bâtiment B");
        assert_eq!(e.organizer, "Martin, Claire <claire.martin@ac-demo.fr>");
        assert_eq!(e.description, "Ordre du jour :\n- bilans\n- orientation", "folded line joined, alarm ignored");
        assert_eq!(e.start.as_ref().unwrap().show(&paris()), "26/11/2026 17:00", "the reader's own zone is not named");
        assert_eq!(e.end.as_ref().unwrap().show(&paris()), "26/11/2026 18:30");
        let reunion = Clock::new("Indian/Reunion").unwrap();
        assert_eq!(e.start.as_ref().unwrap().show(&reunion), "26/11/2026 20:00 (17:00 Europe/Paris)");
    }

    #[test]
    fn dates_in_every_form() {
        let cal = parse(
            "BEGIN:VEVENT\nSUMMARY:Sortie\nDTSTART;VALUE=DATE:20270312\nDTEND:20270313T093000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nSUMMARY:Flottant\nDTSTART:20270312T080000\nORGANIZER:MAILTO:paul@x.fr\nEND:VEVENT\n",
        );
        assert_eq!(cal.events.len(), 2);
        let s = cal.events[0].start.as_ref().unwrap();
        assert!(s.all_day());
        assert_eq!(s.show(&paris()), "12/03/2027");
        assert_eq!(cal.events[0].end.as_ref().unwrap().show(&paris()), "13/03/2027 10:30", "UTC shown in Paris time");
        assert_eq!(cal.events[1].start.as_ref().unwrap().show(&paris()), "12/03/2027 08:00");
        let unknown = When::Time { date: (2027, 3, 12), hour: 8, minute: 0, zone: Zone::Named("Mars/Olympus".into()) };
        assert_eq!(unknown.show(&paris()), "12/03/2027 08:00 (Mars/Olympus)");
        assert_eq!(cal.events[1].organizer, "paul@x.fr");
    }

    #[test]
    fn broken_input_is_skipped_not_fatal() {
        let cal = parse(
            "BEGIN:VEVENT\nDTSTART:2027-03-12\nDTEND:20271340T250000\nno colon here\n:empty name\nSUMMARY:Reste\n",
        );
        assert_eq!(cal.events.len(), 0, "an unclosed event is not shown");
        let cal = parse("BEGIN:VEVENT\nDTSTART:2027-03-12\nDTEND:20271312T250000\nSUMMARY:Reste\nEND:VEVENT");
        let e = &cal.events[0];
        assert_eq!((e.summary.as_str(), e.start.clone(), e.end.clone()), ("Reste", None, None));
        let many = "BEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\n".repeat(50);
        assert_eq!(parse(&many).events.len(), MAX_EVENTS);
        let long = format!("BEGIN:VEVENT\nSUMMARY:{}\nEND:VEVENT", "é".repeat(5_000));
        assert!(parse(&long).events[0].summary.len() <= MAX_VALUE + 2);
        assert_eq!(parse("").events.len(), 0);
    }

    /// Random content lines: never a panic, bounded output.
    #[test]
    fn random_input_is_bounded() {
        const PIECES: &[&str] = &[
            "BEGIN:VEVENT\r\n",
            "END:VEVENT\r\n",
            "BEGIN:VALARM\n",
            "END:VALARM\n",
            "SUMMARY",
            "DTSTART",
            ";TZID=\"Europe/Paris\"",
            ";VALUE=DATE",
            ":",
            "20270312",
            "T0830",
            "00Z",
            "\\",
            "\\n",
            "é",
            "\r\n ",
            "\n\t",
            "ORGANIZER;CN=\"a:b\":mailto:",
            "LOCATION:",
            "\"",
            ";",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut events = 0;
        for _ in 0..3_000 {
            let mut text = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
            }
            let cal = parse(&text);
            assert!(cal.events.len() <= MAX_EVENTS);
            events += cal.events.len();
            for e in &cal.events {
                assert!(e.summary.len() <= MAX_VALUE + 4 && e.organizer.chars().count() <= MAX_VALUE);
                if let Some(w) = &e.start {
                    assert!(!w.show(&paris()).is_empty());
                }
            }
        }
        assert!(events > 100, "the generator makes events: {events}");
    }
}
