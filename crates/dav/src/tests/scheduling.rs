//! Scheduling over DAV: a PUT with ATTENDEEs delivers to the other local
//! account (and gives no ETag, the organiser's copy having been rewritten),
//! the attendee's PUT of their answer reaches the organiser's copy, the
//! principal names its outbox, and a VFREEBUSY POST there answers busy
//! time only.

use axum::http::{StatusCode, header};

use super::fixture::*;

const A_CAL: &str = "/dav/calendars/alice.martin@ac-test.fr/agenda/";
const B_CAL: &str = "/dav/calendars/bruno.petit@ac-test.fr/agenda/";

fn invitation(partstat: &str) -> String {
    event(
        "reunion@ac-test.fr",
        "20261126T160000Z",
        "20261126T173000Z",
        &format!("ORGANIZER:mailto:{A}\r\nATTENDEE;PARTSTAT={partstat}:mailto:{B}\r\n"),
    )
}

#[tokio::test]
async fn an_invitation_stored_over_dav_reaches_the_attendee_and_back() {
    let fx = Fixture::new().await;
    let r = fx.send("PUT", &format!("{A_CAL}reunion.ics"), Some(A), &[], &invitation("NEEDS-ACTION")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.headers.get(header::ETAG).is_none(), "rewritten with SCHEDULE-STATUS: no ETag");
    let organiser = fx.send("GET", &format!("{A_CAL}reunion.ics"), Some(A), &[], "").await;
    assert!(organiser.body.replace("\r\n ", "").contains("SCHEDULE-STATUS=1.2"), "{}", organiser.body);

    // Bruno finds it in his calendar, under the name scheduling gave it.
    let listing = fx.send("PROPFIND", B_CAL, Some(B), &[("Depth", "1")], "").await;
    let name = groupware::scheduling::object_name("reunion@ac-test.fr");
    assert!(listing.body.contains(&name), "{}", listing.body);
    let copy = fx.send("GET", &format!("{B_CAL}{name}"), Some(B), &[], "").await;
    assert!(copy.body.contains("PARTSTAT=NEEDS-ACTION") && !copy.body.contains("SCHEDULE-STATUS"));

    // He accepts by storing his copy with his answer.
    let answered = copy.body.replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED");
    let etag = copy.etag();
    let r = fx.send("PUT", &format!("{B_CAL}{name}"), Some(B), &[("If-Match", &etag)], &answered).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let organiser = fx.send("GET", &format!("{A_CAL}reunion.ics"), Some(A), &[], "").await;
    assert!(organiser.body.replace("\r\n ", "").contains("PARTSTAT=ACCEPTED"), "{}", organiser.body);

    // The organiser deletes it: Bruno's copy goes too.
    assert_eq!(
        fx.send("DELETE", &format!("{A_CAL}reunion.ics"), Some(A), &[], "").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(fx.send("GET", &format!("{B_CAL}{name}"), Some(B), &[], "").await.status, StatusCode::NOT_FOUND);

    // Too many attendees: a clear refusal, nothing stored.
    let crowd: String = (0..=500).map(|i| format!("ATTENDEE:mailto:p{i}@example.org\r\n")).collect();
    let big = event("foule", "20261126T160000Z", "20261126T173000Z", &format!("ORGANIZER:mailto:{A}\r\n{crowd}"));
    let r = fx.send("PUT", &format!("{A_CAL}foule.ics"), Some(A), &[], &big).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(fx.send("GET", &format!("{A_CAL}foule.ics"), Some(A), &[], "").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn free_busy_is_busy_time_only() {
    let fx = Fixture::new().await;
    let private = event("prive", "20261126T080000Z", "20261126T090000Z", "CLASS:PRIVATE\r\n");
    let light = event("leger", "20261126T100000Z", "20261126T110000Z", "TRANSP:TRANSPARENT\r\n");
    for (name, text) in [("prive.ics", &private), ("leger.ics", &light)] {
        assert_eq!(fx.send("PUT", &format!("{B_CAL}{name}"), Some(B), &[], text).await.status, StatusCode::CREATED);
    }
    let principal = fx
        .send("PROPFIND", "/dav/principals/alice.martin@ac-test.fr/", Some(A), &[("Depth", "0")],
            r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:schedule-outbox-URL/><c:calendar-user-address-set/></d:prop></d:propfind>"#)
        .await;
    assert!(principal.body.contains("/dav/calendars/alice.martin@ac-test.fr/outbox/"), "{}", principal.body);
    assert!(principal.body.contains(&format!("mailto:{A}")));
    let request = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:fb\r\n\
         DTSTAMP:20261101T000000Z\r\nDTSTART:20261126T000000Z\r\nDTEND:20261127T000000Z\r\n\
         ORGANIZER:mailto:{A}\r\nATTENDEE:mailto:{B}\r\nATTENDEE:mailto:inconnu@example.org\r\n\
         END:VFREEBUSY\r\nEND:VCALENDAR\r\n"
    );
    let outbox = "/dav/calendars/alice.martin@ac-test.fr/outbox/";
    let r = fx.send("POST", outbox, Some(A), &[("Content-Type", "text/calendar")], &request).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("FREEBUSY;FBTYPE=BUSY:20261126T080000Z/20261126T090000Z"), "{}", r.body);
    assert!(!r.body.contains("100000Z/"), "transparent time is free: {}", r.body);
    assert!(!r.body.contains("Conseil"), "never a title");
    assert!(r.body.contains("3.7;"), "an outside address is not answered");
    // Bad requests are refused.
    let r = fx.send("POST", outbox, Some(A), &[], &request.replace("DTEND:20261127", "DTEND:20301127")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = fx.send("POST", A_CAL, Some(A), &[], &request).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}
