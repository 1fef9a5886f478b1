use super::*;
use crate::ical::parse;

const MEETING: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//FR\r\n\
    BEGIN:VEVENT\r\nUID:conseil@ac-demo.fr\r\nDTSTAMP:20261101T100000Z\r\nSEQUENCE:2\r\n\
    DTSTART:20261126T160000Z\r\nDTEND:20261126T173000Z\r\nSUMMARY:Conseil pédagogique\r\n\
    ORGANIZER;CN=Claire Martin:mailto:Claire.Martin@ac-demo.fr\r\n\
    ATTENDEE;PARTSTAT=ACCEPTED:mailto:claire.martin@ac-demo.fr\r\n\
    ATTENDEE;CN=Paul;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:paul.durand@ac-demo.fr\r\n\
    ATTENDEE;CUTYPE=ROOM:mailto:salle-du-conseil.0541234a@ac-demo.fr\r\n\
    ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:parent@example.org\r\n\
    ATTENDEE:mailto:PAUL.durand@ac-demo.fr\r\n\
    BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Rappel\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n\
    END:VEVENT\r\nEND:VCALENDAR\r\n";

#[test]
fn who_organises_and_attends() {
    let m = meeting(&parse(MEETING).unwrap()).unwrap();
    assert_eq!(m.uid, "conseil@ac-demo.fr");
    assert_eq!(m.organizer.as_deref(), Some("claire.martin@ac-demo.fr"), "mailto: dropped, lower-case");
    assert_eq!((m.sequence, m.method.as_deref(), m.summary.as_str()), (2, None, "Conseil pédagogique"));
    let seen: Vec<_> =
        m.attendees.iter().map(|a| (a.address.as_str(), a.partstat, a.resource, a.client_schedules)).collect();
    assert_eq!(
        seen,
        [
            ("claire.martin@ac-demo.fr", PartStat::Accepted, false, false),
            ("paul.durand@ac-demo.fr", PartStat::NeedsAction, false, false),
            ("salle-du-conseil.0541234a@ac-demo.fr", PartStat::NeedsAction, true, false),
            ("parent@example.org", PartStat::NeedsAction, false, true),
        ],
        "each address once"
    );
}

#[test]
fn partstat_and_schedule_status_are_rewritten() {
    let mut cal = parse(MEETING).unwrap();
    assert!(set_partstat(&mut cal, "Paul.Durand@ac-demo.fr", PartStat::Tentative));
    assert!(!set_partstat(&mut cal, "eve@example.org", PartStat::Accepted), "not an attendee");
    set_schedule_status(&mut cal, "paul.durand@ac-demo.fr", "1.2");
    let text = write(&cal);
    let again = parse(&text).unwrap();
    assert_eq!(partstat_of(&again, "paul.durand@ac-demo.fr"), Some(PartStat::Tentative));
    assert_eq!(partstat_of(&again, "claire.martin@ac-demo.fr"), Some(PartStat::Accepted), "others unchanged");
    assert!(text.contains("SCHEDULE-STATUS=1.2"), "{text}");
    assert!(!text.contains("RSVP"), "answered");
    let mut copy = again.clone();
    strip_server_params(&mut copy);
    assert!(!write(&copy).contains("SCHEDULE-STATUS"));
}

#[test]
fn methods_and_replies() {
    let mut cal = parse(MEETING).unwrap();
    set_method(&mut cal, Some(ICalendarMethod::Request));
    assert_eq!(meeting(&cal).unwrap().method.as_deref(), Some("REQUEST"));
    set_method(&mut cal, Some(ICalendarMethod::Cancel));
    set_cancelled(&mut cal);
    let m = meeting(&cal).unwrap();
    assert_eq!((m.method.as_deref(), m.cancelled), (Some("CANCEL"), true));
    set_method(&mut cal, None);
    assert_eq!(meeting(&cal).unwrap().method, None);
    assert!(
        crate::ical::read(&write(&cal), crate::ical::Expansion { zone: calcard::common::timezone::Tz::UTC, cap: 10 })
            .is_ok()
    );

    let r = reply(&parse(MEETING).unwrap(), "paul.durand@ac-demo.fr");
    let m = meeting(&r).unwrap();
    assert_eq!(m.method.as_deref(), Some("REPLY"));
    assert_eq!(m.attendees.len(), 1, "only the one who answers");
    assert_eq!(m.attendees[0].address, "paul.durand@ac-demo.fr");
    assert!(!write(&r).contains("VALARM"), "alarms are the attendee's own");
}

#[test]
fn bad_invitations_are_refused_with_a_reason() {
    let no_uid = MEETING.replace("UID:conseil@ac-demo.fr\r\n", "");
    assert!(meeting(&parse(&no_uid).unwrap()).unwrap_err().contains("UID"));
    let mut crowd = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20261101T100000Z\r\n\
         DTSTART:20261126T160000Z\r\nORGANIZER:mailto:a@ac-demo.fr\r\n",
    );
    for i in 0..=MAX_ATTENDEES {
        crowd.push_str(&format!("ATTENDEE:mailto:p{i}@example.org\r\n"));
    }
    crowd.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    let err = meeting(&parse(&crowd).unwrap()).unwrap_err();
    assert!(err.contains("500"), "{err}");
    let odd =
        MEETING.replace("mailto:paul.durand@ac-demo.fr", "urn:uuid:1234").replace("mailto:PAUL", "mailto:bad address");
    let m = meeting(&parse(&odd).unwrap()).unwrap();
    assert!(
        m.attendees.iter().all(|a| a.address.contains('@') && !a.address.contains(' ')),
        "not mail addresses: skipped"
    );
}

#[test]
fn the_schedule_tag_follows_the_organisers_changes_not_the_answers() {
    let cal = parse(MEETING).unwrap();
    let tag = schedule_tag(&cal).expect("an organiser: a scheduling object");
    let mut answered = cal.clone();
    assert!(set_partstat(&mut answered, "paul.durand@ac-demo.fr", PartStat::Accepted));
    set_schedule_status(&mut answered, "salle-du-conseil.0541234a@ac-demo.fr", "1.2");
    assert_ne!(write(&answered), write(&cal), "the text changed");
    assert_eq!(schedule_tag(&answered).as_deref(), Some(tag.as_str()), "answers and statuses leave it");
    let moved = parse(&MEETING.replace("DTSTART:20261126T160000Z", "DTSTART:20261126T150000Z")).unwrap();
    assert_ne!(schedule_tag(&moved).unwrap(), tag, "the organiser moved the meeting");
    let plain = MEETING.replace("ORGANIZER;CN=Claire Martin:mailto:Claire.Martin@ac-demo.fr\r\n", "");
    assert_eq!(schedule_tag(&parse(&plain).unwrap()), None, "no organiser, no scheduling object");
}
