//! The reminder of an event as the agenda's form offers it: the calendar's
//! default, none (an `ACTION:NONE` alarm, RFC 9074 section 7, which says
//! « no reminder » to every client and keeps the calendar's default away),
//! or one displayed alarm some minutes before the start. Alarms the form
//! cannot show (several, after the end, by mail...) are kept as they are
//! unless the user picks another choice.

/// The form's reminder choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AlarmChoice {
    /// Leave the object's alarms as they are (ones the form cannot show).
    Keep,
    /// No alarm of its own: the calendar's default reminder applies.
    #[default]
    Default,
    /// No reminder at all.
    Off,
    /// One displayed reminder this many minutes before the start.
    Before(u32),
}

/// The minutes the form offers.
pub const CHOICES: [u32; 8] = [0, 5, 10, 15, 30, 60, 120, 1440];

impl AlarmChoice {
    /// From the form's value: `defaut`, `aucun`, `garder` or minutes.
    pub fn parse(value: &str) -> Option<AlarmChoice> {
        match value {
            "" | "defaut" => Some(AlarmChoice::Default),
            "aucun" => Some(AlarmChoice::Off),
            "garder" => Some(AlarmChoice::Keep),
            n => n.parse::<u32>().ok().filter(|m| CHOICES.contains(m)).map(AlarmChoice::Before),
        }
    }

    /// The form's value of this choice.
    pub fn value(self) -> String {
        match self {
            AlarmChoice::Keep => "garder".into(),
            AlarmChoice::Default => "defaut".into(),
            AlarmChoice::Off => "aucun".into(),
            AlarmChoice::Before(m) => m.to_string(),
        }
    }

    /// The VALARM lines of this choice (none for `Keep` and `Default`).
    pub(crate) fn lines(self, summary: &str) -> Vec<String> {
        let (action, trigger, description) = match self {
            AlarmChoice::Keep | AlarmChoice::Default => return Vec::new(),
            // RFC 9074's own example of a trigger that never comes.
            AlarmChoice::Off => ("NONE", "TRIGGER;VALUE=DATE-TIME:19760401T005545Z".to_owned(), String::new()),
            AlarmChoice::Before(m) => ("DISPLAY", format!("TRIGGER:-PT{m}M"), summary.to_owned()),
        };
        let mut out = vec!["BEGIN:VALARM".to_owned(), format!("ACTION:{action}"), trigger];
        if action == "DISPLAY" {
            out.push(format!(
                "DESCRIPTION:{}",
                super::escape(if description.is_empty() { "Rappel" } else { &description })
            ));
        }
        out.push("END:VALARM".to_owned());
        out
    }
}

/// The choice that reads the alarms of a master event, given as the
/// unfolded lines of each of its VALARM blocks.
pub(crate) fn read(alarms: &[Vec<String>]) -> AlarmChoice {
    let value = |block: &[String], name: &str| {
        block
            .iter()
            .find(|l| super::lines::name_of(l) == name)
            .and_then(|l| super::lines::split_value(l))
            .map(|(params, value)| (params.to_ascii_uppercase(), value.trim().to_ascii_uppercase()))
    };
    match alarms {
        [] => AlarmChoice::Default,
        [one] => {
            let action = value(one, "ACTION").map(|(_, v)| v).unwrap_or_default();
            let Some((params, trigger)) = value(one, "TRIGGER") else { return AlarmChoice::Keep };
            if action == "NONE" {
                return AlarmChoice::Off;
            }
            if action != "DISPLAY" || params.contains("RELATED=END") || params.contains("DATE-TIME") {
                return AlarmChoice::Keep;
            }
            match trigger.strip_prefix('-').and_then(super::lines::duration_secs) {
                Some(secs) if secs % 60 == 0 && CHOICES.contains(&((secs / 60) as u32)) => {
                    AlarmChoice::Before((secs / 60) as u32)
                }
                _ if trigger == "PT0S" || trigger == "PT0M" => AlarmChoice::Before(0),
                _ => AlarmChoice::Keep,
            }
        }
        _ => AlarmChoice::Keep,
    }
}

/// The VALARM blocks directly inside `lines` (a master event's inner lines):
/// their ranges, and their lines.
pub(crate) fn blocks(lines: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut open = None;
    for (i, l) in lines.iter().enumerate() {
        let upper = l.to_ascii_uppercase();
        if upper.starts_with("BEGIN:") {
            if depth == 0 && upper == "BEGIN:VALARM" {
                open = Some(i);
            }
            depth += 1;
        } else if upper.starts_with("END:") {
            depth = depth.saturating_sub(1);
            if depth == 0
                && upper == "END:VALARM"
                && let Some(start) = open.take()
            {
                out.push((start, i + 1));
            }
        }
    }
    out
}
