//! Content lines (RFC 5545 section 3.1): unfolding, folding at 75 octets,
//! text escapes, the blocks of events, and the few values the agenda's
//! form reads back (dates, durations, simple rules).

use super::{Date, Frequency, Moment, Recurrence, Until};

/// The logical lines of `text`, continuation lines joined.
pub fn unfold(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = raw.strip_prefix([' ', '\t'])
            && let Some(last) = out.last_mut()
        {
            last.push_str(rest);
            continue;
        }
        if !raw.is_empty() {
            out.push(raw.to_owned());
        }
    }
    out
}

/// `line` folded at 75 octets (never inside a character), with its CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for ch in line.chars() {
        let len = ch.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push_str("\r\n");
    out
}

/// A TEXT value escaped (backslash, semicolon, comma, newline).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A TEXT value unescaped.
pub fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The property name of a line, upper-case.
pub fn name_of(line: &str) -> String {
    let end = line.find([';', ':']).unwrap_or(line.len());
    line[..end].to_ascii_uppercase()
}

/// (parameters, value) of a line: the value starts after the first colon
/// outside a quoted parameter value.
pub fn split_value(line: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some((&line[..i], &line[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Lines `start..=end` are one VEVENT (its BEGIN and END lines).
#[derive(Debug, Clone, Copy)]
pub struct Block {
    pub start: usize,
    pub end: usize,
}

impl Block {
    /// Every top-level VEVENT of the lines, with its RECURRENCE-ID line if any.
    fn events(lines: &[String]) -> Vec<(Block, Option<&str>)> {
        let mut out = Vec::new();
        let mut open: Option<usize> = None;
        let mut depth = 0usize;
        let mut rid = None;
        for (i, l) in lines.iter().enumerate() {
            let upper = l.to_ascii_uppercase();
            if upper == "BEGIN:VEVENT" && open.is_none() {
                open = Some(i);
                depth = 0;
                rid = None;
            } else if open.is_some() && upper.starts_with("BEGIN:") {
                depth += 1;
            } else if open.is_some() && upper == "END:VEVENT" && depth == 0 {
                if let Some(start) = open.take() {
                    out.push((Block { start, end: i }, rid));
                }
            } else if open.is_some() && upper.starts_with("END:") {
                depth = depth.saturating_sub(1);
            } else if open.is_some() && depth == 0 && name_of(l) == "RECURRENCE-ID" {
                rid = Some(l.as_str());
            }
        }
        out
    }

    /// The event without RECURRENCE-ID (the first one).
    pub fn master(lines: &[String]) -> Option<Block> {
        Block::events(lines).into_iter().find(|(_, rid)| rid.is_none()).map(|(b, _)| b)
    }

    /// The first override whose RECURRENCE-ID line satisfies `which`.
    pub fn override_at(lines: &[String], which: impl Fn(&str) -> bool) -> Option<Block> {
        Block::events(lines).into_iter().find(|(_, rid)| rid.is_some_and(&which)).map(|(b, _)| b)
    }
}

/// A DTSTART/DTEND value: the moment, and its zone (`UTC` for a UTC time,
/// the TZID for a zoned one, `None` for a date or a floating time).
pub fn moment(params: &str, value: &str) -> Option<(Moment, Option<String>)> {
    let value = value.trim();
    let date = Date::parse(value.get(..8)?)?;
    if value.len() == 8 {
        return Some((Moment { date, time: None }, None));
    }
    let time = value.get(8..)?.strip_prefix('T')?;
    let (hms, utc) = match time.strip_suffix('Z') {
        Some(t) => (t, true),
        None => (time, false),
    };
    if hms.len() != 6 || !hms.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = (hms[..2].parse().ok()?, hms[2..4].parse().ok()?);
    let zone = if utc {
        Some("UTC".to_owned())
    } else {
        params.split(';').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.eq_ignore_ascii_case("TZID").then(|| v.trim_matches('"').to_owned())
        })
    };
    Some((Moment { date, time: Some((h, m)) }, zone))
}

/// Seconds of a positive DURATION value (`PT1H30M`, `P1D`, `P2W`).
pub fn duration_secs(value: &str) -> Option<i64> {
    let rest = value.trim().strip_prefix('+').unwrap_or(value.trim()).strip_prefix('P')?;
    let mut total = 0i64;
    let mut number = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' => {}
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                total += n * match unit {
                    'W' => 604_800,
                    'D' => 86_400,
                    'H' => 3_600,
                    'M' => 60,
                    'S' => 1,
                    _ => return None,
                };
            }
        }
    }
    Some(total)
}

/// `m` moved by `secs` (whole days for a date).
pub fn add_seconds(m: Moment, secs: i64) -> Moment {
    match m.time {
        None => Moment { date: m.date.add_days((secs / 86_400).max(1)), time: None },
        Some((h, min)) => {
            let total = i64::from(h) * 3600 + i64::from(min) * 60 + secs;
            let date = m.date.add_days(total.div_euclid(86_400));
            let s = total.rem_euclid(86_400);
            Moment { date, time: Some(((s / 3600) as u8, (s / 60 % 60) as u8)) }
        }
    }
}

/// A recurrence the editor can show, or `None` for any other rule.
pub fn simple_rule(rule: &str) -> Option<Recurrence> {
    let mut freq = None;
    let mut days = Vec::new();
    let mut until = Until::Never;
    for part in rule.trim().split(';') {
        let (k, v) = part.split_once('=')?;
        match k.to_ascii_uppercase().as_str() {
            "FREQ" => freq = Some(v.to_ascii_uppercase()),
            "BYDAY" => {
                for d in v.split(',') {
                    days.push(super::DAYS.iter().position(|n| n.eq_ignore_ascii_case(d))? as u8);
                }
            }
            "COUNT" => until = Until::Count(v.parse().ok()?),
            "UNTIL" => until = Until::Date(Date::parse(v.get(..8)?)?),
            "INTERVAL" if v == "1" => {}
            "WKST" => {}
            _ => return None,
        }
    }
    let frequency = match freq?.as_str() {
        "DAILY" if days.is_empty() => Frequency::Daily,
        "WEEKLY" => Frequency::Weekly(days),
        "MONTHLY" if days.is_empty() => Frequency::Monthly,
        "YEARLY" if days.is_empty() => Frequency::Yearly,
        _ => return None,
    };
    Some(Recurrence { frequency, until })
}
