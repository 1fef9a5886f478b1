//! The scheduling inbox and outbox (RFC 6638 section 2) and the
//! Schedule-Tag (section 3.2.10): an invitation leaves a REQUEST in the
//! attendee's inbox and their answer a REPLY in the organiser's, each read
//! and deleted by its owner only; the tag of the attendee's copy changes
//! with the organiser's change, not with an answer, so a client answering
//! an outdated copy under `If-Schedule-Tag-Match` gets a 412.

use axum::http::StatusCode;

use super::fixture::*;

const A_CAL: &str = "/dav/calendars/alice.martin@ac-test.fr/agenda/";
const B_CAL: &str = "/dav/calendars/bruno.petit@ac-test.fr/agenda/";
const A_INBOX: &str = "/dav/calendars/alice.martin@ac-test.fr/inbox/";
const B_INBOX: &str = "/dav/calendars/bruno.petit@ac-test.fr/inbox/";

const PROPS: &str = r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop>
    <d:resourcetype/><d:current-user-privilege-set/><c:schedule-default-calendar-URL/><d:getetag/>
    <d:sync-token/></d:prop></d:propfind>"#;

fn meeting(start: &str) -> String {
    meeting_seq(start, 0)
}

fn meeting_seq(start: &str, sequence: u32) -> String {
    event(
        "conseil@ac-test.fr",
        start,
        "20261126T173000Z",
        &format!(
            "SEQUENCE:{sequence}\r\nORGANIZER:mailto:{A}\r\nATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{B}\r\n"
        ),
    )
}

/// The hrefs of the messages of an inbox listing (the inbox itself left out).
fn messages(body: &str, inbox: &str) -> Vec<String> {
    body.split("<d:href>")
        .skip(1)
        .filter_map(|s| s.split("</d:href>").next())
        .filter(|h| h.starts_with(inbox) && *h != inbox)
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_inbox_receives_invitations_and_answers_for_its_owner_only() {
    let fx = Fixture::new().await;
    // The principal names both boxes; the calendar home lists them.
    let principal = fx
        .send("PROPFIND", "/dav/principals/bruno.petit@ac-test.fr/", Some(B), &[("Depth", "0")],
            r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:schedule-inbox-URL/><c:schedule-outbox-URL/></d:prop></d:propfind>"#)
        .await;
    assert!(
        principal.body.contains(&format!("<c:schedule-inbox-URL><d:href>{B_INBOX}</d:href>")),
        "{}",
        principal.body
    );
    let home = fx.send("PROPFIND", "/dav/calendars/bruno.petit@ac-test.fr/", Some(B), &[("Depth", "1")], PROPS).await;
    assert!(home.body.contains("<c:schedule-inbox/>") && home.body.contains("<c:schedule-outbox/>"), "{}", home.body);

    let empty = fx.send("PROPFIND", B_INBOX, Some(B), &[("Depth", "1")], PROPS).await;
    assert_eq!(empty.status, StatusCode::MULTI_STATUS);
    assert!(empty.body.contains("<d:collection/><c:schedule-inbox/>"), "{}", empty.body);
    assert!(empty.body.contains("<c:schedule-deliver/>") && empty.body.contains("<d:unbind/>"), "{}", empty.body);
    assert!(!empty.body.contains("<d:write/>"), "nobody writes into an inbox: {}", empty.body);
    assert!(empty.body.contains(&format!("<c:schedule-default-calendar-URL><d:href>{B_CAL}</d:href>")));
    assert!(messages(&empty.body, B_INBOX).is_empty());
    let outbox =
        fx.send("PROPFIND", "/dav/calendars/bruno.petit@ac-test.fr/outbox/", Some(B), &[("Depth", "0")], PROPS).await;
    assert!(
        outbox.body.contains("<c:schedule-outbox/>") && outbox.body.contains("<c:schedule-send/>"),
        "{}",
        outbox.body
    );

    // Alice invites Bruno: a REQUEST in his inbox.
    let r = fx.send("PUT", &format!("{A_CAL}conseil.ics"), Some(A), &[], &meeting("20261126T160000Z")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let listing = fx.send("PROPFIND", B_INBOX, Some(B), &[("Depth", "1")], PROPS).await;
    let hrefs = messages(&listing.body, B_INBOX);
    assert_eq!(hrefs.len(), 1, "{}", listing.body);
    let request = fx.send("GET", &hrefs[0], Some(B), &[], "").await;
    assert_eq!(request.status, StatusCode::OK);
    assert!(request.body.contains("METHOD:REQUEST") && request.body.contains("UID:conseil@ac-test.fr"));
    assert!(request.body.contains("PARTSTAT=NEEDS-ACTION"), "{}", request.body);

    // A multiget and a first sync give it too; an old token is refused.
    let multiget = format!(
        r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>{}</d:href><d:href>{B_INBOX}absent.ics</d:href></c:calendar-multiget>"#,
        hrefs[0]
    );
    let r = fx.send("REPORT", B_INBOX, Some(B), &[], &multiget).await;
    assert!(r.body.contains("METHOD:REQUEST") && r.body.contains("404 Not Found"), "{}", r.body);
    let sync = r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#;
    let r = fx.send("REPORT", B_INBOX, Some(B), &[], sync).await;
    assert!(r.body.contains(&hrefs[0]) && r.body.contains("urn:ardoise:inbox:"), "{}", r.body);
    let old = sync.replace("<d:sync-token/>", "<d:sync-token>urn:ardoise:inbox:0-0</d:sync-token>");
    assert_eq!(fx.send("REPORT", B_INBOX, Some(B), &[], &old).await.status, StatusCode::FORBIDDEN);

    // Nobody else reads or deletes it, nor writes into an inbox.
    assert_eq!(fx.send("GET", &hrefs[0], Some(A), &[], "").await.status, StatusCode::NOT_FOUND);
    assert_eq!(fx.send("DELETE", &hrefs[0], Some(A), &[], "").await.status, StatusCode::NOT_FOUND);
    assert_eq!(fx.send("PROPFIND", B_INBOX, Some(A), &[("Depth", "1")], PROPS).await.status, StatusCode::NOT_FOUND);
    let own = hrefs[0].replace("bruno.petit", "alice.martin");
    assert_eq!(fx.send("GET", &own, Some(A), &[], "").await.status, StatusCode::NOT_FOUND, "not in Alice's");
    let put = fx.send("PUT", &format!("{B_INBOX}x.ics"), Some(B), &[], &meeting("20261126T160000Z")).await;
    assert_eq!(put.status, StatusCode::FORBIDDEN);
    let mk = fx.send("MKCALENDAR", "/dav/calendars/bruno.petit@ac-test.fr/outbox/", Some(B), &[], "").await;
    assert_eq!(mk.status, StatusCode::FORBIDDEN);

    // Bruno accepts in his calendar: a REPLY in Alice's inbox.
    let name = groupware::scheduling::object_name("conseil@ac-test.fr");
    assert_eq!(name, "conseil@ac-test.fr.ics", "named as clients name their objects");
    let copy = fx.send("GET", &format!("{B_CAL}{name}"), Some(B), &[], "").await;
    let accepted = copy.body.replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED");
    let r = fx.send("PUT", &format!("{B_CAL}{name}"), Some(B), &[], &accepted).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let listing = fx.send("PROPFIND", A_INBOX, Some(A), &[("Depth", "1")], PROPS).await;
    let replies = messages(&listing.body, A_INBOX);
    assert_eq!(replies.len(), 1, "{}", listing.body);
    let reply = fx.send("GET", &replies[0], Some(A), &[], "").await;
    assert!(reply.body.contains("METHOD:REPLY") && reply.body.contains("PARTSTAT=ACCEPTED"), "{}", reply.body);

    // The owner deletes a processed message (If-Match honoured).
    let r = fx.send("DELETE", &hrefs[0], Some(B), &[("If-Match", "\"autre\"")], "").await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(fx.send("DELETE", &hrefs[0], Some(B), &[], "").await.status, StatusCode::NO_CONTENT);
    assert_eq!(fx.send("GET", &hrefs[0], Some(B), &[], "").await.status, StatusCode::NOT_FOUND);
    assert_eq!(fx.send("DELETE", B_INBOX, Some(B), &[], "").await.status, StatusCode::FORBIDDEN);

    // Cancelling leaves a CANCEL.
    assert_eq!(
        fx.send("DELETE", &format!("{A_CAL}conseil.ics"), Some(A), &[], "").await.status,
        StatusCode::NO_CONTENT
    );
    let listing = fx.send("PROPFIND", B_INBOX, Some(B), &[("Depth", "1")], PROPS).await;
    let left = messages(&listing.body, B_INBOX);
    assert_eq!(left.len(), 1, "{}", listing.body);
    assert!(fx.send("GET", &left[0], Some(B), &[], "").await.body.contains("METHOD:CANCEL"));
}

#[tokio::test]
async fn the_schedule_tag_changes_with_the_organiser_not_with_answers() {
    let fx = Fixture::new().await;
    let r = fx.send("PUT", &format!("{A_CAL}conseil.ics"), Some(A), &[], &meeting("20261126T160000Z")).await;
    assert!(r.headers.get("Schedule-Tag").is_some(), "a scheduling object's PUT gives its tag");
    let name = groupware::scheduling::object_name("conseil@ac-test.fr");
    let url = format!("{B_CAL}{name}");
    let copy = fx.send("GET", &url, Some(B), &[], "").await;
    let tag = copy.headers.get("Schedule-Tag").expect("the attendee's copy has a tag").to_str().unwrap().to_owned();
    let prop = fx
        .send("PROPFIND", &url, Some(B), &[("Depth", "0")],
            r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:schedule-tag/></d:prop></d:propfind>"#)
        .await;
    assert!(
        prop.body.contains(&format!("<c:schedule-tag>{}</c:schedule-tag>", tag.replace('"', "&quot;"))),
        "{}",
        prop.body
    );

    // Bruno answers from the webmail: the server changes his PARTSTAT, not the tag.
    let bruno = fx.store.account_by_address(&model::Address::parse(B).unwrap()).await.unwrap().unwrap();
    let who =
        groupware::scheduling::Principal { id: bruno.id, address: bruno.address, display_name: bruno.display_name };
    let request = meeting("20261126T160000Z");
    fx.groupware.respond(&who, &request, groupware::scheduling::PartStat::Tentative).await.unwrap();
    let now = fx.send("GET", &url, Some(B), &[], "").await;
    assert!(now.body.contains("PARTSTAT=TENTATIVE"), "{}", now.body);
    assert_ne!(now.etag(), copy.etag(), "the text changed");
    assert_eq!(now.headers.get("Schedule-Tag").unwrap().to_str().unwrap(), tag, "an answer keeps the tag");

    // Alice moves the meeting: the copy's tag changes.
    let moved = meeting_seq("20261126T150000Z", 1);
    let r = fx.send("PUT", &format!("{A_CAL}conseil.ics"), Some(A), &[], &moved).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let after = fx.send("GET", &url, Some(B), &[], "").await;
    let new_tag = after.headers.get("Schedule-Tag").unwrap().to_str().unwrap().to_owned();
    assert_ne!(new_tag, tag, "the organiser's change is a new tag");

    // Bruno's client answers the copy it had: 412, and nothing is lost.
    let stale = copy.body.replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED");
    let r = fx.send("PUT", &url, Some(B), &[("If-Schedule-Tag-Match", &tag)], &stale).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert!(fx.send("GET", &url, Some(B), &[], "").await.body.contains("150000Z"), "the move stands");
    let r = fx.send("DELETE", &url, Some(B), &[("If-Schedule-Tag-Match", &tag)], "").await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    // With the current tag, the answer is taken.
    assert!(after.body.contains("PARTSTAT=NEEDS-ACTION"), "{}", after.body);
    let fresh = after.body.replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED");
    let r = fx.send("PUT", &url, Some(B), &[("If-Schedule-Tag-Match", &new_tag)], &fresh).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let organiser = fx.send("GET", &format!("{A_CAL}conseil.ics"), Some(A), &[], "").await;
    assert!(organiser.body.replace("\r\n ", "").contains("PARTSTAT=ACCEPTED"), "{}", organiser.body);
    // An object without an organiser has no tag, and the header then fails.
    let plain = event("seul", "20261126T080000Z", "20261126T090000Z", "");
    let r = fx.send("PUT", &format!("{B_CAL}seul.ics"), Some(B), &[], &plain).await;
    assert!(r.headers.get("Schedule-Tag").is_none());
    let r = fx.send("PUT", &format!("{B_CAL}seul.ics"), Some(B), &[("If-Schedule-Tag-Match", &new_tag)], &plain).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
}
