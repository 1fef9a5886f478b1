use calcard::common::timezone::Tz;

use super::*;

fn exp() -> Expansion {
    Expansion { zone: "Europe/Paris".parse::<Tz>().unwrap(), cap: 10_000 }
}

/// 2026-12-07 17:00 UTC.
const START: i64 = 1_796_662_800;

fn event(extra: &str, alarms: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//FR\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20261201T000000Z\r\n\
         DTSTART:20261207T170000Z\r\nDTEND:20261207T180000Z\r\nSUMMARY:Conseil de classe\r\nLOCATION:Salle 12\r\n\
         {extra}{alarms}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn alarm(trigger: &str, action: &str) -> String {
    format!("BEGIN:VALARM\r\nACTION:{action}\r\nDESCRIPTION:Rappel\r\nTRIGGER{trigger}\r\nEND:VALARM\r\n")
}

#[test]
fn a_relative_trigger_fires_before_the_start() {
    let text = event("", &alarm(":-PT15M", "DISPLAY"));
    let a = next_alarm(&text, exp(), START - 3600, None).expect("an alarm");
    assert_eq!((a.fire_at, a.starts_at, a.email), (START - 900, START, false));
    assert_eq!((a.title.as_str(), a.location.as_str()), ("Conseil de classe", "Salle 12"));
    // Once it is past, nothing is left.
    assert_eq!(next_alarm(&text, exp(), START - 900, None), None);
}

#[test]
fn related_end_absolute_email_and_repeat() {
    let text = event("", &alarm(";RELATED=END:-PT5M", "EMAIL"));
    let a = next_alarm(&text, exp(), 0, None).unwrap();
    assert_eq!((a.fire_at, a.email), (START + 3600 - 300, true));
    let text = event("", &alarm(";VALUE=DATE-TIME:20261207T080000Z", "AUDIO"));
    assert_eq!(next_alarm(&text, exp(), 0, None).unwrap().fire_at, START - 9 * 3600);
    let repeated = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nTRIGGER:-PT30M\r\nREPEAT:2\r\nDURATION:PT10M\r\nEND:VALARM\r\n";
    let all: Vec<i64> =
        alarms_between(&event("", repeated), exp(), 0, i64::MAX, None).iter().map(|a| a.fire_at).collect();
    assert_eq!(all, [START - 1800, START - 1200, START - 600]);
    // A procedure (a program to run) is never fired.
    assert_eq!(next_alarm(&event("", &alarm(":-PT5M", "PROCEDURE")), exp(), 0, None), None);
}

#[test]
fn the_calendar_default_applies_only_to_timed_events_without_alarms() {
    let bare = event("", "");
    assert_eq!(next_alarm(&bare, exp(), 0, None), None);
    assert_eq!(next_alarm(&bare, exp(), 0, Some(15)).unwrap().fire_at, START - 900);
    // The event's own alarm wins over the default.
    let own = event("", &alarm(":-PT1H", "DISPLAY"));
    let all = alarms_between(&own, exp(), 0, i64::MAX, Some(15));
    assert_eq!(all.iter().map(|a| a.fire_at).collect::<Vec<_>>(), [START - 3600]);
    let whole_day = bare.replace("DTSTART:20261207T170000Z\r\nDTEND:20261207T180000Z", "DTSTART;VALUE=DATE:20261207");
    assert_eq!(next_alarm(&whole_day, exp(), 0, Some(15)), None);
    let cancelled = event("STATUS:CANCELLED\r\n", &alarm(":-PT15M", "DISPLAY"));
    assert_eq!(next_alarm(&cancelled, exp(), 0, Some(15)), None);
}

#[test]
fn a_recurring_event_fires_for_each_occurrence_in_turn() {
    let text = event("RRULE:FREQ=DAILY;COUNT=3\r\n", &alarm(":-PT10M", "DISPLAY"));
    let first = next_alarm(&text, exp(), 0, None).unwrap();
    assert_eq!(first.starts_at, START);
    let second = next_alarm(&text, exp(), first.fire_at, None).unwrap();
    assert_eq!((second.starts_at, second.fire_at), (START + 86_400, START + 86_400 - 600));
    let third = next_alarm(&text, exp(), second.fire_at, None).unwrap();
    assert_eq!(next_alarm(&text, exp(), third.fire_at, None), None);
    // An absolute trigger on a recurrence fires once.
    let once = event("RRULE:FREQ=DAILY;COUNT=3\r\n", &alarm(";VALUE=DATE-TIME:20261207T080000Z", "DISPLAY"));
    assert_eq!(alarms_between(&once, exp(), 0, i64::MAX, None).len(), 1);
}

#[test]
fn hostile_objects_cost_little_and_fire_nothing_strange() {
    assert_eq!(next_alarm("not a calendar", exp(), 0, Some(15)), None);
    let huge = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nTRIGGER:-PT1M\r\nREPEAT:1000000\r\nDURATION:PT1S\r\nEND:VALARM\r\n";
    let all = alarms_between(&event("", huge), exp(), 0, i64::MAX, None);
    assert_eq!(all.len(), 1 + MAX_REPEAT as usize, "REPEAT is capped");
    let endless = event("RRULE:FREQ=MINUTELY;COUNT=1000000000\r\n", &alarm(":-PT1M", "DISPLAY"));
    assert!(alarms_between(&endless, exp(), 0, i64::MAX, None).len() <= 10_000, "expansion is capped");
}

#[test]
fn the_mail_is_dated_in_the_zone_and_says_what_and_where() {
    let r = Reminder {
        id: 1,
        account_id: 2,
        collection_id: 3,
        object_name: "e1.ics".into(),
        title: "Conseil de classe".into(),
        location: "Salle 12".into(),
        starts_at: START,
        fire_at: START - 900,
        dismissed_at: None,
    };
    let raw =
        String::from_utf8(reminder_mail("Claire Martin", "claire@ac-demo.fr", "ac-demo.fr", &r, exp().zone).unwrap())
            .unwrap();
    assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
    assert!(raw.contains("postmaster@ac-demo.fr"), "{raw}");
    // 17:00 UTC is 18:00 in Paris in December.
    assert!(raw.contains("07/12/2026 =C3=A0 18:00") || raw.contains("07/12/2026 à 18:00"), "{raw}");
}
