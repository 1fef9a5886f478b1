//! Another account's collections: 404 on every method, and nothing of
//! theirs in any answer.

use axum::http::StatusCode;

use super::fixture::*;

#[tokio::test]
async fn another_accounts_paths_are_not_found_on_every_method() {
    let fx = Fixture::new().await;
    let cal = "/dav/calendars/alice.martin@ac-test.fr/agenda/";
    let secret = event("secret", "20260907T080000Z", "20260907T090000Z", "");
    assert_eq!(fx.send("PUT", &format!("{cal}secret.ics"), Some(A), &[], &secret).await.status, StatusCode::CREATED);
    let query = r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-data/></d:prop>
        <c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>"#;
    let paths = [
        "/dav/principals/alice.martin@ac-test.fr/",
        "/dav/calendars/alice.martin@ac-test.fr/",
        cal,
        "/dav/calendars/alice.martin@ac-test.fr/agenda/secret.ics",
        "/dav/calendars/ALICE.MARTIN%40ac-test.fr/agenda/secret.ics",
        "/dav/addressbooks/alice.martin@ac-test.fr/contacts/",
        "/dav/calendars/alice.martin@ac-test.fr/nouveau/",
        "/dav/calendars/alice.martin@ac-test.fr/outbox/",
    ];
    let methods = ["PROPFIND", "PROPPATCH", "MKCALENDAR", "MKCOL", "GET", "HEAD", "PUT", "DELETE", "REPORT", "POST"];
    for path in paths {
        for method in methods {
            let body = match method {
                "PUT" => secret.as_str(),
                "REPORT" => query,
                _ => "",
            };
            let r = fx.send(method, path, Some(B), &[], body).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
            assert!(!r.body.contains("secret") && !r.body.contains("Conseil"), "{method} {path}: {}", r.body);
        }
    }
    // Alice's calendar is untouched, and Bruno's own space is his.
    let r = fx.send("GET", &format!("{cal}secret.ics"), Some(A), &[], "").await;
    assert_eq!((r.status, r.body), (StatusCode::OK, secret));
    let r = fx.send("PROPFIND", "/dav/calendars/bruno.petit@ac-test.fr/agenda/", Some(B), &[("Depth", "1")], "").await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert!(!r.body.contains("secret"));
}
