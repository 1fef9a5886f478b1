//! Drafts written, read back, edited and cut, and the form's bad input.

use super::*;
use crate::agenda::occurrences_of;
use crate::ical::{self, Expansion};

fn exp() -> Expansion {
    Expansion { zone: "Europe/Paris".parse().unwrap(), cap: 10_000 }
}

fn d(y: i32, m: u8, day: u8) -> Date {
    Date::new(y, m, day).unwrap()
}

/// 2026-09-07T00:00:00Z, a Monday.
const SEPT_7: i64 = 1_788_739_200;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// « Conseil de classe » on Monday 7 September 2026, 17:00-18:30 in Paris,
/// every Monday and Thursday, four times.
fn weekly() -> EventDraft {
    EventDraft {
        summary: "Conseil de classe".into(),
        location: "Salle du conseil".into(),
        description: "Ordre du jour :\n1. résultats; 2. orientation".into(),
        start: Moment { date: d(2026, 9, 7), time: Some((17, 0)) },
        end: Moment { date: d(2026, 9, 7), time: Some((18, 30)) },
        zone: "Europe/Paris".into(),
        recurrence: Some(Recurrence { frequency: Frequency::Weekly(vec![3, 0]), until: Until::Count(4) }),
        alarm: AlarmChoice::Default,
    }
}

#[test]
fn dates_count_days_and_weekdays() {
    assert_eq!(d(2026, 9, 7).days() * DAY, SEPT_7);
    assert_eq!(Date::from_days(SEPT_7 / DAY), d(2026, 9, 7));
    assert_eq!(d(2026, 9, 7).weekday(), 0, "a Monday");
    assert_eq!(d(2026, 12, 6).weekday(), 6, "a Sunday");
    assert_eq!(d(2028, 2, 28).add_days(1), d(2028, 2, 29));
    assert_eq!(d(2026, 12, 31).add_days(1), d(2027, 1, 1));
    assert_eq!(Date::parse("2026-09-07"), Some(d(2026, 9, 7)));
    for bad in ["2026-02-30", "2027-02-29", "2026-13-01", "20260907T", "abcd-ef-gh", "", "1899-12-31", "2026-9-7"] {
        assert_eq!(Date::parse(bad), None, "{bad}");
    }
    assert_eq!(utc_stamp(SEPT_7 + 17 * HOUR + 61), "20260907T170101Z");
}

#[test]
fn a_weekly_event_is_valid_icalendar_with_its_zone() {
    let text = write_new("u-1", &weekly(), SEPT_7).unwrap();
    assert!(text.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"), "{text}");
    assert!(text.contains("DTSTART;TZID=Europe/Paris:20260907T170000\r\n"), "{text}");
    assert!(text.contains("RRULE:FREQ=WEEKLY;BYDAY=MO,TH;COUNT=4\r\n"), "{text}");
    assert!(text.contains("DESCRIPTION:Ordre du jour :\\n1. résultats\\; 2. orientation\r\n"), "{text}");
    let read = ical::read(&text, exp()).unwrap();
    assert_eq!((read.uid.as_str(), read.component), ("u-1", "VEVENT"));
    // Mondays 7 and 14, Thursdays 10 and 17 September, 17:00 Paris = 15:00 UTC.
    let all = occurrences_of("u-1.ics", &text, exp(), SEPT_7, SEPT_7 + 30 * DAY);
    let starts: Vec<i64> = all.iter().map(|o| (o.start - SEPT_7 - 15 * HOUR) / DAY).collect();
    assert_eq!(starts, [0, 3, 7, 10]);
    assert!(all.iter().all(|o| o.end - o.start == 90 * 60 && o.recurring && o.busy && o.days.is_none()));
    assert_eq!(all[0].summary, "Conseil de classe");
    assert_eq!(all[0].location, "Salle du conseil");
}

#[test]
fn whole_days_and_other_zones() {
    let mut draft = weekly();
    draft.start = Moment { date: d(2026, 10, 19), time: None };
    draft.end = Moment { date: d(2026, 10, 21), time: None };
    draft.recurrence = Some(Recurrence { frequency: Frequency::Yearly, until: Until::Date(d(2028, 12, 31)) });
    let text = write_new("vacances", &draft, SEPT_7).unwrap();
    assert!(!text.contains("VTIMEZONE"), "whole days need no zone");
    assert!(text.contains("DTSTART;VALUE=DATE:20261019\r\nDTEND;VALUE=DATE:20261021\r\n"), "{text}");
    assert!(text.contains("RRULE:FREQ=YEARLY;UNTIL=20281231\r\n"), "{text}");
    let all = occurrences_of("v.ics", &text, exp(), SEPT_7, SEPT_7 + 800 * DAY);
    // 800 days from 7 September 2026 reach into November 2028: three autumns.
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].days, Some((d(2026, 10, 19), d(2026, 10, 21))));
    assert_eq!(all[1].days, Some((d(2027, 10, 19), d(2027, 10, 21))));
    assert_eq!(all[2].days, Some((d(2028, 10, 19), d(2028, 10, 21))));

    let mut reunion = weekly();
    reunion.zone = "Indian/Reunion".into();
    reunion.recurrence = None;
    let text = write_new("r", &reunion, SEPT_7).unwrap();
    let all = occurrences_of("r.ics", &text, exp(), SEPT_7, SEPT_7 + DAY);
    assert_eq!(all[0].start, SEPT_7 + 13 * HOUR, "17:00 at UTC+4");
    let mut utc = reunion.clone();
    utc.zone = "UTC".into();
    let text = write_new("u", &utc, SEPT_7).unwrap();
    assert!(text.contains("DTSTART:20260907T170000Z\r\n") && !text.contains("VTIMEZONE"), "{text}");
}

#[test]
fn a_draft_reads_back_as_written() {
    let text = write_new("u-1", &weekly(), SEPT_7).unwrap();
    let back = read_draft(&text, "Europe/Paris").unwrap();
    let mut expected = weekly();
    expected.recurrence = Some(Recurrence { frequency: Frequency::Weekly(vec![0, 3]), until: Until::Count(4) });
    assert_eq!(back.draft, expected);
    assert!(!back.complex_rule);
    assert_eq!(back.rule.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=4"));
}

#[test]
fn another_clients_event_reads_with_duration_and_a_rule_the_form_cannot_show() {
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTAMP:20260101T000000Z\r\n\
                DTSTART:20260907T150000Z\r\nDURATION:PT2H\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=7,21\r\n\
                SUMMARY:Réunion\\, équipe\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let back = read_draft(text, "Europe/Paris").unwrap();
    assert_eq!(back.draft.summary, "Réunion, équipe");
    assert_eq!(back.draft.zone, "UTC");
    assert_eq!(back.draft.end, Moment { date: d(2026, 9, 7), time: Some((17, 0)) });
    assert!(back.complex_rule && back.draft.recurrence.is_none());
    // Saved unchanged, the rule stays as it was.
    let edited = write_edit(text, &back.draft, back.rule.as_deref(), SEPT_7).unwrap();
    assert!(edited.contains("RRULE:FREQ=MONTHLY;BYMONTHDAY=7,21\r\n"), "{edited}");
    assert!(!edited.contains("DURATION"), "DTEND replaces DURATION: {edited}");
    ical::read(&edited, exp()).unwrap();
}

#[test]
fn an_edit_keeps_what_the_form_does_not_show() {
    let original = write_new("u-1", &weekly(), SEPT_7).unwrap();
    // A client added an alarm, an attendee and a property of its own, and cut one date.
    let original = original.replacen(
        "END:VEVENT",
        "ATTENDEE;CN=Paul Durand:mailto:paul.durand@ac-demo.fr\r\nX-CLIENT-COLOR:#123456\r\n\
         EXDATE;TZID=Europe/Paris:20260910T170000\r\n\
         BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Rappel\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT",
        1,
    );
    let mut draft = read_draft(&original, "Europe/Paris").unwrap();
    draft.draft.summary = "Conseil de classe (3e B)".into();
    draft.draft.start.time = Some((16, 0));
    let edited = write_edit(&original, &draft.draft, draft.rule.as_deref(), SEPT_7 + DAY).unwrap();
    for kept in ["ATTENDEE;CN=Paul Durand", "X-CLIENT-COLOR:#123456", "BEGIN:VALARM", "TRIGGER:-PT15M", "EXDATE;"] {
        assert!(edited.contains(kept), "{kept} lost: {edited}");
    }
    assert!(edited.contains("SUMMARY:Conseil de classe (3e B)\r\n") && edited.contains("SEQUENCE:1\r\n"));
    assert_eq!(edited.matches("SUMMARY:").count(), 1, "one summary: {edited}");
    assert!(edited.contains("DTSTAMP:20260908T000000Z"), "{edited}");
    ical::read(&edited, exp()).unwrap();
    // A changed recurrence drops the dates cut from the old one.
    let mut daily = draft.draft.clone();
    daily.recurrence = Some(Recurrence { frequency: Frequency::Daily, until: Until::Count(3) });
    let edited = write_edit(&original, &daily, None, SEPT_7).unwrap();
    assert!(!edited.contains("EXDATE") && edited.contains("RRULE:FREQ=DAILY;COUNT=3\r\n"), "{edited}");
}

#[test]
fn one_occurrence_is_excluded_and_its_override_goes_with_it() {
    let text = write_new("u-1", &weekly(), SEPT_7).unwrap();
    let thursday = SEPT_7 + 3 * DAY + 15 * HOUR;
    // An override moving that Thursday to 18:00.
    let with_override = text.replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:u-1\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Paris:20260910T170000\r\n\
         DTSTART;TZID=Europe/Paris:20260910T180000\r\nDTEND;TZID=Europe/Paris:20260910T190000\r\nSUMMARY:Déplacé\r\n\
         END:VEVENT\r\nEND:VCALENDAR",
    );
    ical::read(&with_override, exp()).unwrap();
    let cut = exclude_occurrence(&text, thursday, exp()).unwrap();
    assert!(cut.contains("EXDATE;TZID=Europe/Paris:20260910T170000\r\n"), "{cut}");
    let all = occurrences_of("u", &cut, exp(), SEPT_7, SEPT_7 + 30 * DAY);
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|o| o.start != thursday));
    // Excluding the override's original time removes the override too.
    let moved = thursday + HOUR;
    assert!(occurrences_of("u", &with_override, exp(), SEPT_7, SEPT_7 + 30 * DAY).iter().any(|o| o.start == moved));
    let cut = exclude_occurrence(&with_override, moved, exp());
    assert!(cut.is_err(), "the override's own start is not an occurrence of the rule");
    let cut = exclude_occurrence(&with_override, thursday, exp());
    // calcard lists the override at its new time: the rule's time is no occurrence then.
    if let Ok(cut) = cut {
        assert!(!cut.contains("Déplacé"), "{cut}");
    }
    // Not an occurrence, not recurring.
    assert!(exclude_occurrence(&text, thursday + 60, exp()).is_err());
    let mut single = weekly();
    single.recurrence = None;
    let single = write_new("s", &single, SEPT_7).unwrap();
    assert!(exclude_occurrence(&single, SEPT_7 + 15 * HOUR, exp()).is_err());
}

#[test]
fn whole_day_and_utc_occurrences_are_excluded_in_their_own_form() {
    let mut days = weekly();
    days.start = Moment { date: d(2026, 9, 7), time: None };
    days.end = Moment { date: d(2026, 9, 8), time: None };
    days.recurrence = Some(Recurrence { frequency: Frequency::Daily, until: Until::Count(3) });
    let text = write_new("j", &days, SEPT_7).unwrap();
    let second = occurrences_of("j", &text, exp(), SEPT_7, SEPT_7 + 10 * DAY)[1].start;
    let cut = exclude_occurrence(&text, second, exp()).unwrap();
    assert!(cut.contains("EXDATE;VALUE=DATE:20260908\r\n"), "{cut}");
    assert_eq!(occurrences_of("j", &cut, exp(), SEPT_7, SEPT_7 + 10 * DAY).len(), 2);
    let mut utc = weekly();
    utc.zone = "UTC".into();
    let text = write_new("z", &utc, SEPT_7).unwrap();
    let cut = exclude_occurrence(&text, SEPT_7 + 17 * HOUR, exp()).unwrap();
    assert!(cut.contains("EXDATE:20260907T170000Z\r\n"), "{cut}");
    assert_eq!(occurrences_of("z", &cut, exp(), SEPT_7, SEPT_7 + 30 * DAY).len(), 3);
}

/// A change that spoils a good draft.
type Spoil = Box<dyn Fn(&mut EventDraft)>;

#[test]
fn bad_drafts_are_refused_with_a_reason() {
    let cases: Vec<(&str, Spoil)> = vec![
        ("titre", Box::new(|d| d.summary = "  ".into())),
        ("trop long", Box::new(|d| d.summary = "x".repeat(501))),
        ("suivre", Box::new(|d| d.end = d.start)),
        ("suivre", Box::new(|d| d.end.date = d.start.date.add_days(-1))),
        ("heure", Box::new(|d| d.start.time = Some((24, 0)))),
        ("tous deux", Box::new(|d| d.end.time = None)),
        ("un an", Box::new(|d| d.end.date = d.start.date.add_days(400))),
        ("fuseau", Box::new(|d| d.zone = "Asia/Tokyo".into())),
        ("fuseau", Box::new(|d| d.zone = "Europe/Paris\r\nX:y".into())),
        (
            "jour",
            Box::new(|d| {
                d.recurrence = Some(Recurrence { frequency: Frequency::Weekly(vec![7]), until: Until::Never })
            }),
        ),
        (
            "répétitions",
            Box::new(|d| d.recurrence = Some(Recurrence { frequency: Frequency::Daily, until: Until::Count(0) })),
        ),
        (
            "répétitions",
            Box::new(|d| {
                d.recurrence = Some(Recurrence { frequency: Frequency::Daily, until: Until::Count(1_000_000_000) })
            }),
        ),
        (
            "finir après",
            Box::new(|d| {
                d.recurrence =
                    Some(Recurrence { frequency: Frequency::Daily, until: Until::Date(Date::new(2026, 1, 1).unwrap()) })
            }),
        ),
    ];
    for (reason, change) in cases {
        let mut draft = weekly();
        change(&mut draft);
        let err = write_new("u", &draft, SEPT_7).unwrap_err();
        assert!(err.contains(reason), "{reason}: {err}");
    }
}

#[test]
fn hostile_text_stays_inside_its_property() {
    let mut draft = weekly();
    draft.summary = "Fin\r\nEND:VEVENT\r\nBEGIN:VTODO\nUID:pirate".into();
    draft.location = "a,b;c\\d".into();
    let text = write_new("u", &draft, SEPT_7).unwrap();
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 1);
    assert!(!text.contains("VTODO\r\n"), "{text}");
    assert!(text.contains("LOCATION:a\\,b\\;c\\\\d\r\n"));
    let back = read_draft(&text, "Europe/Paris").unwrap().draft;
    assert_eq!(back.location, "a,b;c\\d");
    assert_eq!(back.summary, "Fin\nEND:VEVENT\nBEGIN:VTODO\nUID:pirate");
    // A long line is folded at 75 octets without splitting a character.
    draft.summary = "é".repeat(200);
    let text = write_new("u", &draft, SEPT_7).unwrap();
    assert!(text.split("\r\n").all(|l| l.len() <= 75));
    assert_eq!(read_draft(&text, "Europe/Paris").unwrap().draft.summary, "é".repeat(200));
    ical::read(&text, exp()).unwrap();
}

#[test]
fn broken_objects_are_errors_not_panics() {
    for text in ["", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "\r\n \r\n"] {
        assert!(read_draft(text, "Europe/Paris").is_err(), "{text:?}");
        assert!(write_edit(text, &weekly(), None, SEPT_7).is_err(), "{text:?}");
        assert!(exclude_occurrence(text, SEPT_7, exp()).is_err(), "{text:?}");
    }
    // A lone event with a broken DTSTART: the form's times replace it, so
    // `write_edit` goes through; what it gives is still no calendar, which
    // `put` refuses (it reads every object with `ical::read`).
    let lone = "BEGIN:VEVENT\r\nDTSTART:x\r\nEND:VEVENT";
    assert!(read_draft(lone, "Europe/Paris").is_err());
    assert!(exclude_occurrence(lone, SEPT_7, exp()).is_err());
    let edited = write_edit(lone, &weekly(), None, SEPT_7).expect("the form's times replace the broken ones");
    assert!(ical::read(&edited, exp()).is_err(), "{edited}");
}

#[test]
fn the_reminder_choice_is_written_read_back_and_replaced() {
    let mut draft = weekly();
    draft.alarm = AlarmChoice::Before(30);
    let text = write_new("u-1", &draft, SEPT_7).unwrap();
    assert!(text.contains("BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT30M\r\n"), "{text}");
    ical::read(&text, exp()).unwrap();
    let back = read_draft(&text, "Europe/Paris").unwrap();
    assert_eq!(back.draft.alarm, AlarmChoice::Before(30));
    // « Aucun rappel »: one alarm that does nothing, which keeps the calendar's default away.
    let mut off = back.draft.clone();
    off.alarm = AlarmChoice::Off;
    let edited = write_edit(&text, &off, back.rule.as_deref(), SEPT_7).unwrap();
    assert_eq!(edited.matches("BEGIN:VALARM").count(), 1, "{edited}");
    assert!(edited.contains("ACTION:NONE") && !edited.contains("-PT30M"), "{edited}");
    assert_eq!(read_draft(&edited, "Europe/Paris").unwrap().draft.alarm, AlarmChoice::Off);
    assert_eq!(crate::reminders::next_alarm(&edited, exp(), 0, Some(15)), None);
    // Back to the calendar's default: no alarm of its own.
    let mut default = off.clone();
    default.alarm = AlarmChoice::Default;
    let edited = write_edit(&edited, &default, back.rule.as_deref(), SEPT_7).unwrap();
    assert!(!edited.contains("VALARM"), "{edited}");
    assert_eq!(read_draft(&edited, "Europe/Paris").unwrap().draft.alarm, AlarmChoice::Default);
    // Alarms the form cannot show are kept while the user leaves them.
    let two = text.replacen(
        "END:VEVENT",
        "BEGIN:VALARM\r\nACTION:EMAIL\r\nDESCRIPTION:x\r\nSUMMARY:x\r\nATTENDEE:mailto:a@b.fr\r\n\
         TRIGGER;RELATED=END:PT0S\r\nEND:VALARM\r\nEND:VEVENT",
        1,
    );
    let read = read_draft(&two, "Europe/Paris").unwrap();
    assert_eq!(read.draft.alarm, AlarmChoice::Keep);
    let kept = write_edit(&two, &read.draft, read.rule.as_deref(), SEPT_7).unwrap();
    assert_eq!(kept.matches("BEGIN:VALARM").count(), 2, "{kept}");
    for junk in ["7", "-5", "x", "99999"] {
        assert_eq!(AlarmChoice::parse(junk), None, "{junk}");
    }
    assert_eq!(AlarmChoice::parse("1440"), Some(AlarmChoice::Before(1440)));
    assert_eq!(AlarmChoice::parse(&AlarmChoice::Off.value()), Some(AlarmChoice::Off));
}
