//! Calendar objects: validation reasons, bounds of single, all-day and
//! recurring events, and the exact occurrence check.

use super::*;

fn exp() -> Expansion {
    Expansion { zone: "Europe/Paris".parse().unwrap(), cap: 10_000 }
}

fn cal(body: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//FR\r\n{body}END:VCALENDAR\r\n")
}

fn event(uid: &str, dates: &str) -> String {
    format!("BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n{dates}SUMMARY:x\r\nEND:VEVENT\r\n")
}

/// 2026-09-07T00:00:00Z, a Monday.
const SEPT_7: i64 = 1_788_739_200;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

#[test]
fn a_single_event_is_bounded_by_its_dates() {
    let text = cal(&event("a", "DTSTART:20260907T080000Z\r\nDTEND:20260907T090000Z\r\n"));
    let read = read(&text, exp()).unwrap();
    assert_eq!(
        read,
        CalendarObject {
            uid: "a".into(),
            component: "VEVENT",
            first_start: Some(SEPT_7 + 8 * HOUR),
            last_end: Some(SEPT_7 + 9 * HOUR)
        }
    );
    assert!(occurs_between(&text, exp(), SEPT_7, SEPT_7 + DAY));
    assert!(!occurs_between(&text, exp(), SEPT_7 + 9 * HOUR, SEPT_7 + DAY), "ends where the range starts");
}

/// Europe/Paris as Thunderbird and phones send it: STANDARD and DAYLIGHT
/// rules that recur every year without end.
const PARIS: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n\
    BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n\
    DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
    BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n\
    DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
    END:VTIMEZONE\r\n";

#[test]
fn an_event_with_its_time_zone_is_bounded_by_its_own_dates_not_the_zones_rules() {
    let plain = event("tz", "DTSTART;TZID=Europe/Paris:20260907T100000\r\nDTEND;TZID=Europe/Paris:20260907T110000\r\n");
    let text = cal(&format!("{PARIS}{plain}"));
    let once = read(&text, exp()).unwrap();
    assert_eq!((once.first_start, once.last_end), (Some(SEPT_7 + 8 * HOUR), Some(SEPT_7 + 9 * HOUR)));
    // A weekly one with a COUNT ends with it, its zone notwithstanding.
    let weekly = event(
        "tzw",
        "DTSTART;TZID=Europe/Paris:20260907T100000\r\nDTEND;TZID=Europe/Paris:20260907T110000\r\n\
         RRULE:FREQ=WEEKLY;COUNT=2\r\n",
    );
    assert_eq!(read_last_end(&cal(&format!("{PARIS}{weekly}"))), Some(SEPT_7 + 7 * DAY + 9 * HOUR));
    // An endless event stays unbounded.
    let endless = event("tze", "DTSTART;TZID=Europe/Paris:20260907T100000\r\nRRULE:FREQ=WEEKLY\r\n");
    assert_eq!(read_last_end(&cal(&format!("{PARIS}{endless}"))), None);
}

fn read_last_end(text: &str) -> Option<i64> {
    read(text, exp()).unwrap().last_end
}

#[test]
fn an_all_day_event_is_a_day_in_the_local_zone() {
    let text = cal(&event("b", "DTSTART;VALUE=DATE:20260907\r\nDTEND;VALUE=DATE:20260908\r\n"));
    let read = read(&text, exp()).unwrap();
    // Paris is UTC+2 in September.
    assert_eq!((read.first_start, read.last_end), (Some(SEPT_7 - 2 * HOUR), Some(SEPT_7 + DAY - 2 * HOUR)));
}

#[test]
fn a_weekly_event_skips_its_exdate_and_ends_with_its_count() {
    let text = cal(&event(
        "c",
        "DTSTART;TZID=Europe/Paris:20260907T100000\r\nDTEND;TZID=Europe/Paris:20260907T110000\r\n\
         RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;TZID=Europe/Paris:20260914T100000\r\n",
    ));
    let read = read(&text, exp()).unwrap();
    let first = SEPT_7 + 8 * HOUR;
    assert_eq!((read.first_start, read.last_end), (Some(first), Some(first + 21 * DAY + HOUR)));
    assert!(occurs_between(&text, exp(), SEPT_7, SEPT_7 + DAY));
    assert!(!occurs_between(&text, exp(), SEPT_7 + 7 * DAY, SEPT_7 + 8 * DAY), "the EXDATE week");
    assert!(occurs_between(&text, exp(), SEPT_7 + 14 * DAY, SEPT_7 + 15 * DAY));
    assert!(!occurs_between(&text, exp(), SEPT_7 + 28 * DAY, SEPT_7 + 60 * DAY), "after COUNT");
}

#[test]
fn endless_and_huge_recurrences_are_unbounded_and_capped() {
    let endless = cal(&event("d", "DTSTART:20260907T080000Z\r\nRRULE:FREQ=DAILY\r\n"));
    let read_endless = read(&endless, exp()).unwrap();
    assert_eq!((read_endless.first_start, read_endless.last_end), (Some(SEPT_7 + 8 * HOUR), None));
    let billion = cal(&event("e", "DTSTART:20260907T080000Z\r\nRRULE:FREQ=SECONDLY;COUNT=1000000000\r\n"));
    let started = std::time::Instant::now();
    assert_eq!(read(&billion, exp()).unwrap().last_end, None, "cut by the cap");
    assert!(occurs_between(&billion, exp(), SEPT_7 + 8 * HOUR, SEPT_7 + 9 * HOUR));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "bounded work");
}

#[test]
fn a_task_without_dates_meets_every_range() {
    let text = cal("BEGIN:VTODO\r\nUID:t\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:copies\r\nEND:VTODO\r\n");
    let read = read(&text, exp()).unwrap();
    assert_eq!((read.component, read.first_start, read.last_end), ("VTODO", None, None));
    assert!(occurs_between(&text, exp(), 0, 1));
}

#[test]
fn malformed_objects_get_a_reason() {
    let ok = event("a", "DTSTART:20260907T080000Z\r\n");
    let cases = [
        (cal(""), "aucun VEVENT"),
        (cal("BEGIN:VEVENT\r\nDTSTART:20260907T080000Z\r\nEND:VEVENT\r\n"), "VEVENT sans UID"),
        (cal(&format!("{ok}{}", event("b", "DTSTART:20260907T080000Z\r\n"))), "plusieurs UID"),
        (cal(&format!("METHOD:REQUEST\r\n{ok}")), "METHOD"),
        (cal(&format!("{ok}BEGIN:VTODO\r\nUID:a\r\nEND:VTODO\r\n")), "plusieurs types"),
        (cal(&event("f", "DTEND:20260907T080000Z\r\n")), "date ou récurrence invalide"),
        (format!("BEGIN:VCALENDAR\r\n{ok}"), "sans END"),
        ("BEGIN:VCARD\r\nUID:x\r\nEND:VCARD\r\n".into(), "vCard"),
        (format!("{}{}", cal(&ok), cal(&ok)), "un seul VCALENDAR"),
        (String::new(), "contenu vide"),
    ];
    for (text, why) in cases {
        let err = read(&text, exp()).unwrap_err();
        assert!(err.contains(why), "{text:?}: {err:?} should mention {why:?}");
    }
    assert!(read(&cal(&ok), exp()).is_ok());
}
