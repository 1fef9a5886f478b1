//! The sharing matrix over DAV: A's « Agenda » shared read with B, write
//! with C, free/busy with D, not with E. Shared calendars live in the
//! sharee's home as `<owner>~<segment>`; what a right does not allow is a
//! 403, what is not shared a 404, and A's own paths stay A's alone.

use axum::http::StatusCode;
use groupware::{CollectionKind, Right};

use super::fixture::*;

const PRIVILEGES: &str =
    r#"<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-privilege-set/><d:displayname/></d:prop></d:propfind>"#;

/// A calendar-query for every object's ETag.
const QUERY: &str = r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop>
        <c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>"#;

fn shared(user: &str) -> String {
    format!("/dav/calendars/{user}/alice.martin@ac-test.fr~agenda/")
}

async fn fixture() -> Fixture {
    let fx = Fixture::new().await;
    let secret = event("conseil", "20260907T080000Z", "20260907T090000Z", "");
    let own = "/dav/calendars/alice.martin@ac-test.fr/agenda/conseil.ics";
    assert_eq!(fx.send("PUT", own, Some(A), &[], &secret).await.status, StatusCode::CREATED);
    let cal = fx.groupware.collection(fx.a.id, CollectionKind::Calendar, "agenda").await.unwrap();
    for (who, right) in [(B, Right::Read), (C, Right::Write), (D, Right::FreeBusy)] {
        fx.groupware.share(&cal, who, right).await.unwrap();
    }
    fx
}

#[tokio::test]
async fn a_read_share_reads_and_never_writes() {
    let fx = fixture().await;
    let home = fx.send("PROPFIND", "/dav/calendars/bruno.petit@ac-test.fr/", Some(B), &[("Depth", "1")], "").await;
    assert_eq!(home.status, StatusCode::MULTI_STATUS);
    assert!(home.body.contains("alice.martin@ac-test.fr~agenda/"), "{}", home.body);
    let r = fx.send("GET", &format!("{}conseil.ics", shared(B)), Some(B), &[], "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("UID:conseil"));
    let r = fx.send("PROPFIND", &shared(B), Some(B), &[("Depth", "0")], PRIVILEGES).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert!(r.body.contains("<d:read/>") && !r.body.contains("<d:write/>"), "{}", r.body);
    let r = fx.send("REPORT", &shared(B), Some(B), &[("Depth", "1")], QUERY).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert!(r.body.contains("conseil.ics"), "{}", r.body);
    let other = event("autre", "20260908T080000Z", "20260908T090000Z", "");
    for (method, path, body) in [
        ("PUT", format!("{}autre.ics", shared(B)), other.as_str()),
        ("PUT", format!("{}conseil.ics", shared(B)), other.as_str()),
        ("DELETE", format!("{}conseil.ics", shared(B)), ""),
        ("DELETE", shared(B), ""),
        ("PROPPATCH", shared(B), ""),
        ("MKCALENDAR", shared(B), ""),
    ] {
        let r = fx.send(method, &path, Some(B), &[], body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    // The owner's own path is still a 404 for B.
    let r = fx.send("GET", "/dav/calendars/alice.martin@ac-test.fr/agenda/conseil.ics", Some(B), &[], "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = fx.send("GET", "/dav/calendars/alice.martin@ac-test.fr/agenda/conseil.ics", Some(A), &[], "").await;
    assert!(r.body.contains("UID:conseil") && !r.body.contains("autre"));
}

#[tokio::test]
async fn a_write_share_writes_events_but_not_the_calendar() {
    let fx = fixture().await;
    let other = event("autre", "20260908T080000Z", "20260908T090000Z", "");
    let path = format!("{}autre.ics", shared(C));
    assert_eq!(fx.send("PUT", &path, Some(C), &[], &other).await.status, StatusCode::CREATED);
    let r = fx.send("PROPFIND", &shared(C), Some(C), &[("Depth", "0")], PRIVILEGES).await;
    assert!(r.body.contains("<d:write/>"), "{}", r.body);
    // The owner sees what C wrote.
    let r = fx.send("GET", "/dav/calendars/alice.martin@ac-test.fr/agenda/autre.ics", Some(A), &[], "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(fx.send("DELETE", &path, Some(C), &[], "").await.status, StatusCode::NO_CONTENT);
    for method in ["DELETE", "PROPPATCH"] {
        assert_eq!(fx.send(method, &shared(C), Some(C), &[], "").await.status, StatusCode::FORBIDDEN, "{method}");
    }
}

#[tokio::test]
async fn free_busy_shares_and_outsiders_get_nothing() {
    let fx = fixture().await;
    for who in [D, E] {
        let home = format!("/dav/calendars/{who}/");
        let r = fx.send("PROPFIND", &home, Some(who), &[("Depth", "1")], "").await;
        assert_eq!(r.status, StatusCode::MULTI_STATUS);
        assert!(!r.body.contains("~agenda"), "{who}: {}", r.body);
        for (method, path) in [
            ("GET", format!("{}conseil.ics", shared(who))),
            ("PROPFIND", shared(who)),
            ("REPORT", shared(who)),
            ("PUT", format!("{}x.ics", shared(who))),
            ("DELETE", format!("{}conseil.ics", shared(who))),
        ] {
            // Each request is well formed, so that only the missing share can refuse it.
            let body = match method {
                "PUT" => event("x", "20260908T080000Z", "20260908T090000Z", ""),
                "REPORT" => QUERY.to_owned(),
                _ => String::new(),
            };
            let r = fx.send(method, &path, Some(who), &[], &body).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} {method} {path}");
            assert!(!r.body.contains("Conseil"));
        }
    }
    // Another sharee's path, or a made-up owner: 404 too.
    let r = fx.send("GET", &format!("{}conseil.ics", shared(B)), Some(C), &[], "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = fx
        .send("GET", "/dav/calendars/emma.blanc@ac-test.fr/personne@ac-test.fr~agenda/conseil.ics", Some(E), &[], "")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Nobody makes a calendar of their own whose name looks shared.
    let r = fx
        .send("MKCALENDAR", "/dav/calendars/emma.blanc@ac-test.fr/alice.martin@ac-test.fr~agenda/", Some(E), &[], "")
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    // Revoked: B's view is gone.
    let cal = fx.groupware.collection(fx.a.id, CollectionKind::Calendar, "agenda").await.unwrap();
    let b = fx.groupware.shares(&cal).await.unwrap().into_iter().find(|s| s.label == B).unwrap();
    fx.groupware.unshare(&cal, b.grantee).await.unwrap();
    let r = fx.send("GET", &format!("{}conseil.ics", shared(B)), Some(B), &[], "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
