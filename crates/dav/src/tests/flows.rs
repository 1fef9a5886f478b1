//! What a DAV client does, step by step.

use axum::http::StatusCode;

use super::fixture::*;
use crate::auth::CHALLENGE;

const CAL: &str = "/dav/calendars/alice.martin@ac-test.fr/agenda/";

#[tokio::test]
async fn discovery_leads_from_the_well_known_url_to_the_calendars() {
    let fx = Fixture::new().await;
    let r = fx.send("PROPFIND", "/.well-known/caldav", None, &[], "").await;
    assert_eq!((r.status, r.headers["location"].to_str().unwrap()), (StatusCode::MOVED_PERMANENTLY, "/dav/"));
    let r = fx.send("OPTIONS", "/dav/", None, &[], "").await;
    assert!(r.headers["dav"].to_str().unwrap().contains("calendar-access, calendar-auto-schedule, addressbook"));

    let ask = r#"<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#;
    let r = fx.send("PROPFIND", "/dav/", Some(A), &[("Depth", "0")], ask).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert!(r.body.contains("<d:current-user-principal><d:href>/dav/principals/alice.martin@ac-test.fr/</d:href>"));

    let ask = r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:r="urn:ietf:params:xml:ns:carddav">
        <d:prop><c:calendar-home-set/><r:addressbook-home-set/><d:displayname/><x:nope xmlns:x="urn:x"/></d:prop></d:propfind>"#;
    let r = fx.send("PROPFIND", "/dav/principals/alice.martin@ac-test.fr/", Some(A), &[("Depth", "0")], ask).await;
    assert!(
        r.body.contains("<c:calendar-home-set><d:href>/dav/calendars/alice.martin@ac-test.fr/</d:href>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<card:addressbook-home-set><d:href>/dav/addressbooks/alice.martin@ac-test.fr/</d:href>"));
    assert!(r.body.contains("<x:nope xmlns:x=\"urn:x\"/></d:prop><d:status>HTTP/1.1 404 Not Found"));

    let r = fx.send("PROPFIND", "/dav/calendars/alice.martin@ac-test.fr/", Some(A), &[("Depth", "1")], "").await;
    assert!(r.body.contains(&format!("<d:href>{CAL}</d:href>")), "the default « Agenda » exists: {}", r.body);
    assert!(r.body.contains("<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"));
    assert!(r.body.contains("<d:displayname>Agenda</d:displayname>"));
    let r = fx.send("PROPFIND", "/dav/addressbooks/alice.martin@ac-test.fr/", Some(A), &[("Depth", "1")], "").await;
    assert!(r.body.contains("<d:displayname>Contacts</d:displayname>"));

    let r = fx.send("PROPFIND", CAL, Some(A), &[("Depth", "infinity")], "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("<d:propfind-finite-depth/>"));
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_challenged() {
    let fx = Fixture::new().await;
    for login in [None, Some((A, "mauvais")), Some(("personne@ac-test.fr", PASSWORD))] {
        let r = fx.send_with("PROPFIND", "/dav/", login, &[], "").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{login:?}");
        assert_eq!(r.headers["www-authenticate"], CHALLENGE);
    }
}

#[tokio::test]
async fn app_passwords_need_the_dav_scope() {
    let fx = Fixture::new().await;
    let r = fx.send_with("PROPFIND", "/dav/", Some((A, &fx.dav_app_password)), &[], "").await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    let r = fx.send_with("PROPFIND", "/dav/", Some((A, &fx.imap_app_password)), &[], "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "an IMAP-only app password does not open DAV");
}

#[tokio::test]
async fn objects_are_written_under_preconditions() {
    let fx = Fixture::new().await;
    let url = format!("{CAL}conseil.ics");
    let body = event("conseil", "20260907T080000Z", "20260907T090000Z", "");
    let r = fx.send("PUT", &url, Some(A), &[("If-None-Match", "*")], &body).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let etag = r.etag();
    let r = fx.send("GET", &url, Some(A), &[], "").await;
    assert_eq!((r.status, r.etag(), r.body.as_str()), (StatusCode::OK, etag.clone(), body.as_str()));
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/calendar"));
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    let r = fx.send("HEAD", &url, Some(A), &[], "").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, ""));

    let r = fx.send("PUT", &url, Some(A), &[("If-None-Match", "*")], &body).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let changed = event("conseil", "20260907T080000Z", "20260907T100000Z", "");
    let r = fx.send("PUT", &url, Some(A), &[("If-Match", "\"autre\"")], &changed).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = fx.send("PUT", &url, Some(A), &[("If-Match", &etag)], &changed).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_ne!(r.etag(), etag);

    let r = fx.send("PUT", &format!("{CAL}copie.ics"), Some(A), &[], &changed).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("<c:no-uid-conflict/>"));
    let r = fx.send("PUT", &format!("{CAL}casse.ics"), Some(A), &[], "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("<c:valid-calendar-data/>") && r.body.contains("<a:reason>"), "{}", r.body);
    let huge =
        event("gros", "20260907T080000Z", "20260907T090000Z", &format!("DESCRIPTION:{}\r\n", "x".repeat(70_000)));
    let r = fx.send("PUT", &format!("{CAL}gros.ics"), Some(A), &[], &huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = fx.send("PUT", "/dav/calendars/alice.martin@ac-test.fr/absent/x.ics", Some(A), &[], &body).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no PUT into a missing collection");

    let r = fx.send("DELETE", &url, Some(A), &[("If-Match", "\"autre\"")], "").await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = fx.send("DELETE", &url, Some(A), &[], "").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(fx.send("GET", &url, Some(A), &[], "").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reports_query_by_time_range_fetch_by_href_and_sync() {
    let fx = Fixture::new().await;
    let weekly = event(
        "hebdo",
        "20260907T080000Z",
        "20260907T090000Z",
        "RRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE:20260914T080000Z\r\n",
    );
    fx.send("PUT", &format!("{CAL}hebdo.ics"), Some(A), &[], &weekly).await;
    fx.send(
        "PUT",
        &format!("{CAL}octobre.ics"),
        Some(A),
        &[],
        &event("oct", "20261005T080000Z", "20261005T090000Z", ""),
    )
    .await;
    let query = |start: &str, end: &str| {
        format!(
            r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>
            <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="{start}" end="{end}"/>
            </c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#
        )
    };
    let r = fx.send("REPORT", CAL, Some(A), &[("Depth", "1")], &query("20260914T000000Z", "20260915T000000Z")).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert!(!r.body.contains("hebdo.ics"), "the EXDATE week is empty: {}", r.body);
    let r = fx.send("REPORT", CAL, Some(A), &[("Depth", "1")], &query("20261005T000000Z", "20261006T000000Z")).await;
    assert!(r.body.contains("hebdo.ics") && r.body.contains("octobre.ics"));
    assert!(r.body.contains("<c:calendar-data>BEGIN:VCALENDAR"));

    let multiget = r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop>
        <d:href>/dav/calendars/alice.martin@ac-test.fr/agenda/octobre.ics</d:href>
        <d:href>/dav/calendars/alice.martin@ac-test.fr/agenda/absent.ics</d:href>
        <d:href>/dav/calendars/bruno.petit@ac-test.fr/agenda/octobre.ics</d:href></c:calendar-multiget>"#;
    let r = fx.send("REPORT", CAL, Some(A), &[], multiget).await;
    assert_eq!(r.body.matches("<d:getetag>").count(), 1);
    assert_eq!(r.body.matches("404 Not Found").count(), 2);

    let sync = |token: &str| {
        format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>
            <d:prop><d:getetag/></d:prop></d:sync-collection>"#
        )
    };
    let r = fx.send("REPORT", CAL, Some(A), &[], &sync("")).await;
    assert_eq!(r.body.matches("<d:getetag>").count(), 2);
    let token = r.body.split("<d:sync-token>").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let r = fx.send("REPORT", CAL, Some(A), &[], &sync(&token)).await;
    assert!(!r.body.contains("<d:response>"), "nothing changed: {}", r.body);
    fx.send("DELETE", &format!("{CAL}octobre.ics"), Some(A), &[], "").await;
    fx.send(
        "PUT",
        &format!("{CAL}novembre.ics"),
        Some(A),
        &[],
        &event("nov", "20261105T080000Z", "20261105T090000Z", ""),
    )
    .await;
    let r = fx.send("REPORT", CAL, Some(A), &[], &sync(&token)).await;
    assert!(r.body.contains("agenda/octobre.ics</d:href><d:status>HTTP/1.1 404 Not Found"), "{}", r.body);
    assert!(r.body.contains("agenda/novembre.ics</d:href><d:propstat>"));
    assert!(!r.body.contains("hebdo.ics"));
    let r = fx.send("REPORT", CAL, Some(A), &[], &sync("urn:ardoise:sync:999-1")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("<d:valid-sync-token/>"));
}

#[tokio::test]
async fn collections_are_made_changed_and_deleted() {
    let fx = Fixture::new().await;
    let url = "/dav/calendars/alice.martin@ac-test.fr/cours/";
    let make = r#"<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>
        <d:displayname>Cours de 4e</d:displayname><c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>
        </d:prop></d:set></c:mkcalendar>"#;
    assert_eq!(fx.send("MKCALENDAR", url, Some(A), &[], make).await.status, StatusCode::CREATED);
    assert_eq!(fx.send("MKCALENDAR", url, Some(A), &[], make).await.status, StatusCode::METHOD_NOT_ALLOWED);
    let patch = r#"<d:propertyupdate xmlns:d="DAV:" xmlns:i="http://apple.com/ns/ical/"><d:set><d:prop>
        <d:displayname>Cours</d:displayname><i:calendar-color>#E1000F</i:calendar-color></d:prop></d:set></d:propertyupdate>"#;
    let r = fx.send("PROPPATCH", url, Some(A), &[], patch).await;
    assert!(r.body.contains("HTTP/1.1 200 OK"), "{}", r.body);
    let r = fx.send("PROPFIND", url, Some(A), &[], "").await;
    assert!(r.body.contains("<d:displayname>Cours</d:displayname>"));
    let r = fx.send(
        "PROPFIND",
        url,
        Some(A),
        &[],
        r#"<d:propfind xmlns:d="DAV:" xmlns:i="http://apple.com/ns/ical/"><d:prop><i:calendar-color/></d:prop></d:propfind>"#,
    )
    .await;
    assert!(r.body.contains("<ic:calendar-color>#E1000F</ic:calendar-color>"));
    let todo = "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
    let r = fx.send("PUT", &format!("{url}t.ics"), Some(A), &[], todo).await;
    assert!(r.body.contains("<c:supported-calendar-component/>"), "VEVENT only: {}", r.body);
    let protected = r#"<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>X</d:displayname><d:getetag>1</d:getetag></d:prop></d:set></d:propertyupdate>"#;
    let r = fx.send("PROPPATCH", url, Some(A), &[], protected).await;
    assert!(r.body.contains("403 Forbidden") && r.body.contains("424 Failed Dependency"));
    assert_eq!(fx.send("DELETE", url, Some(A), &[], "").await.status, StatusCode::NO_CONTENT);
    assert_eq!(fx.send("PROPFIND", url, Some(A), &[], "").await.status, StatusCode::NOT_FOUND);

    // Extended MKCOL for an address book, a vCard, a query.
    let book = "/dav/addressbooks/alice.martin@ac-test.fr/college/";
    let mkcol = r#"<d:mkcol xmlns:d="DAV:" xmlns:r="urn:ietf:params:xml:ns:carddav"><d:set><d:prop>
        <d:resourcetype><d:collection/><r:addressbook/></d:resourcetype><d:displayname>Collège</d:displayname></d:prop></d:set></d:mkcol>"#;
    assert_eq!(fx.send("MKCOL", book, Some(A), &[], mkcol).await.status, StatusCode::CREATED);
    let wrong = mkcol.replace("<r:addressbook/>", "<c:calendar xmlns:c=\"urn:ietf:params:xml:ns:caldav\"/>");
    let r = fx.send("MKCOL", "/dav/addressbooks/alice.martin@ac-test.fr/autre/", Some(A), &[], &wrong).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        fx.send("PUT", &format!("{book}paul.vcf"), Some(A), &[], &card("paul", "Paul Durand")).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        fx.send("PUT", &format!("{book}lea.vcf"), Some(A), &[], &card("lea", "Léa Petit")).await.status,
        StatusCode::CREATED
    );
    let r = fx.send("PUT", &format!("{book}x.vcf"), Some(A), &[], "BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n").await;
    assert!(r.body.contains("<card:valid-address-data/>"));
    let q = r#"<r:addressbook-query xmlns:d="DAV:" xmlns:r="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><r:address-data/></d:prop>
        <r:filter><r:prop-filter name="FN"><r:text-match match-type="contains">durand</r:text-match></r:prop-filter></r:filter></r:addressbook-query>"#;
    let r = fx.send("REPORT", book, Some(A), &[("Depth", "1")], q).await;
    assert!(r.body.contains("paul.vcf") && !r.body.contains("lea.vcf"), "{}", r.body);
    assert!(r.body.contains("<card:address-data>BEGIN:VCARD"));
}

#[tokio::test]
async fn hostile_xml_is_refused() {
    let fx = Fixture::new().await;
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
        <d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&b;</d:displayname></d:prop></d:propfind>"#;
    let r = fx.send("PROPFIND", CAL, Some(A), &[], bomb).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("DOCTYPE"));
    let deep =
        format!("<d:propfind xmlns:d=\"DAV:\">{}{}</d:propfind>", "<d:prop>".repeat(100), "</d:prop>".repeat(100));
    assert_eq!(fx.send("PROPFIND", CAL, Some(A), &[], &deep).await.status, StatusCode::BAD_REQUEST);
    let big = format!("<d:propfind xmlns:d=\"DAV:\"><!--{}--></d:propfind>", "x".repeat(2 << 20));
    assert_eq!(fx.send("REPORT", CAL, Some(A), &[], &big).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = fx.send("REPORT", CAL, Some(A), &[], "<x:unknown xmlns:x=\"urn:x\"/>").await;
    assert!(r.body.contains("<d:supported-report/>"));
}
