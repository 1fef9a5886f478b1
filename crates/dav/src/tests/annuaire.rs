//! The académie directory as a read-only address book.

use axum::http::StatusCode;

use super::fixture::*;

const BOOK: &str = "/dav/addressbooks/alice.martin@ac-test.fr/annuaire/";
const NS: &str = r#"xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav""#;

/// A's directory with B, a student and a suspended colleague beside them.
async fn with_others() -> Fixture {
    let fx = Fixture::new().await;
    account_as(&fx.store, "eleve.test@ac-test.fr", model::Role::Student).await;
    let s = account(&fx.store, "sam.suspendu@ac-test.fr").await;
    fx.store.set_account_status(s.id, model::AccountStatus::Suspended).await.unwrap();
    account_as(&fx.store, "secretariat.0541234a@ac-test.fr", model::Role::Functional).await;
    fx
}

fn query(text: &str) -> String {
    format!(
        r#"<card:addressbook-query {NS}><d:prop><d:getetag/><card:address-data/></d:prop>
        <card:filter test="anyof"><card:prop-filter name="FN"><card:text-match>{text}</card:text-match></card:prop-filter>
        <card:prop-filter name="EMAIL"><card:text-match>{text}</card:text-match></card:prop-filter></card:filter>
        </card:addressbook-query>"#
    )
}

#[tokio::test]
async fn the_directory_is_listed_beside_the_personal_books_and_is_read_only() {
    let fx = with_others().await;
    let home = "/dav/addressbooks/alice.martin@ac-test.fr/";
    let r = fx.send("PROPFIND", home, Some(A), &[("Depth", "1")], "").await;
    assert!(r.body.contains(&format!("<d:href>{BOOK}</d:href>")), "{}", r.body);
    assert!(r.body.contains("<d:displayname>Annuaire de l'académie</d:displayname>"));

    let ask = format!(
        r#"<d:propfind {NS}><d:prop><d:resourcetype/><d:current-user-privilege-set/><d:sync-token/></d:prop></d:propfind>"#
    );
    let r = fx.send("PROPFIND", BOOK, Some(A), &[("Depth", "0")], &ask).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert!(r.body.contains("<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>"), "{}", r.body);
    assert!(r.body.contains("<d:privilege><d:read/></d:privilege>"));
    assert!(!r.body.contains("<d:write"), "read only: {}", r.body);
    assert!(r.body.contains("<d:sync-token>urn:ardoise:annuaire:"), "a sync token: {}", r.body);

    let card = card("x", "Intrus");
    for (method, path, body) in [
        ("PUT", format!("{BOOK}x.vcf"), card.as_str()),
        ("DELETE", format!("{BOOK}compte-1.vcf"), ""),
        ("DELETE", BOOK.to_owned(), ""),
        ("MKCOL", BOOK.to_owned(), ""),
        (
            "PROPPATCH",
            BOOK.to_owned(),
            r#"<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>x</d:displayname></d:prop></d:set></d:propertyupdate>"#,
        ),
    ] {
        let r = fx.send(method, &path, Some(A), &[], body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert!(r.body.contains("<d:need-privileges/>"), "{method} {path}: {}", r.body);
    }
}

#[tokio::test]
async fn cards_are_active_staff_only_with_a_stable_uid() {
    let fx = with_others().await;
    let ask = format!(r#"<d:propfind {NS}><d:prop><d:getetag/><card:address-data/></d:prop></d:propfind>"#);
    let r = fx.send("PROPFIND", BOOK, Some(A), &[("Depth", "1")], &ask).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    for present in ["EMAIL;TYPE=work:alice.martin@ac-test.fr", "EMAIL;TYPE=work:bruno.petit@ac-test.fr", "KIND:org"] {
        assert!(r.body.contains(present), "{present}: {}", r.body);
    }
    for absent in ["eleve.test", "sam.suspendu"] {
        assert!(!r.body.contains(absent), "{absent} listed");
    }
    assert!(r.body.trim_end().ends_with("</d:multistatus>"));
    crate::xml::parse(r.body.as_bytes()).expect("the streamed body is one XML document");

    let r = fx.send("REPORT", BOOK, Some(A), &[], &query("bruno")).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    let href = r.body.split("<d:href>").nth(1).unwrap().split("</d:href>").next().unwrap().to_owned();
    assert!(href.starts_with(BOOK) && href.ends_with(".vcf"), "{href}");
    assert_eq!(r.body.matches("<d:response>").count(), 1, "{}", r.body);

    let got = fx.send("GET", &href, Some(A), &[], "").await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.headers["content-type"].to_str().unwrap().starts_with("text/vcard"));
    let uid = groupware::vcard::read(&got.body).expect("a valid vCard");
    assert!(uid.starts_with("urn:ardoise:annuaire:compte-"), "{uid}");
    assert_eq!(fx.send("GET", &href, Some(A), &[], "").await.etag(), got.etag(), "the same card, the same etag");
    // It can be copied into a personal address book as it is.
    let r =
        fx.send("PUT", "/dav/addressbooks/alice.martin@ac-test.fr/contacts/bruno.vcf", Some(A), &[], &got.body).await;
    assert_eq!(r.status, StatusCode::CREATED);

    // A multiget: one card, one name of nothing, one other account's path.
    let multiget = format!(
        r#"<card:addressbook-multiget {NS}><d:prop><d:getetag/></d:prop><d:href>{href}</d:href>
        <d:href>{BOOK}compte-999999.vcf</d:href><d:href>{BOOK}nimportequoi.vcf</d:href>
        <d:href>/dav/addressbooks/bruno.petit@ac-test.fr/annuaire/compte-1.vcf</d:href></card:addressbook-multiget>"#
    );
    let r = fx.send("REPORT", BOOK, Some(A), &[], &multiget).await;
    assert_eq!(r.body.matches("<d:getetag>").count(), 1, "{}", r.body);
    assert_eq!(r.body.matches("404 Not Found").count(), 3, "{}", r.body);

    // The suspension is seen at the next request.
    let bruno = fx.store.account_by_address(&model::Address::parse(B).unwrap()).await.unwrap().unwrap();
    fx.store.set_account_status(bruno.id, model::AccountStatus::Suspended).await.unwrap();
    assert_eq!(fx.send("GET", &href, Some(A), &[], "").await.status, StatusCode::NOT_FOUND);
    let r = fx.send("REPORT", BOOK, Some(A), &[], &query("bruno")).await;
    assert!(!r.body.contains("<d:response>"), "{}", r.body);
}

#[tokio::test]
async fn hostile_queries_and_other_paths() {
    let fx = with_others().await;
    for text in ["%", "_", "&lt;script&gt;", &"a".repeat(5000)] {
        let r = fx.send("REPORT", BOOK, Some(A), &[], &query(text)).await;
        assert_eq!(r.status, StatusCode::MULTI_STATUS, "{text}");
        assert!(!r.body.contains("<d:response>"), "{text}: {}", r.body);
    }
    // Someone else's directory is a 404, as for any path of theirs.
    let theirs = "/dav/addressbooks/bruno.petit@ac-test.fr/annuaire/";
    assert_eq!(fx.send("PROPFIND", theirs, Some(A), &[("Depth", "1")], "").await.status, StatusCode::NOT_FOUND);
    for name in ["compte-1", "compte-abc.vcf", "liste-.vcf", "..", "compte-1.vcf.vcf"] {
        let r = fx.send("GET", &format!("{BOOK}{name}"), Some(A), &[], "").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}");
    }
    let r = fx.send("PROPFIND", BOOK, Some(A), &[("Depth", "infinity")], "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_query_without_text_is_bounded() {
    let fx = Fixture::new().await;
    for i in 0..(crate::annuaire::QUERY_LIMIT + 5) {
        account(&fx.store, &format!("agent{i:03}@ac-test.fr")).await;
    }
    let all = format!(
        r#"<card:addressbook-query {NS}><d:prop><d:getetag/></d:prop>
        <card:filter><card:prop-filter name="FN"/></card:filter></card:addressbook-query>"#
    );
    let r = fx.send("REPORT", BOOK, Some(A), &[], &all).await;
    assert_eq!(r.body.matches("<d:getetag>").count(), crate::annuaire::QUERY_LIMIT);
    assert!(r.body.contains("HTTP/1.1 507 Insufficient Storage"), "truncation is said");
    // The full listing streams them all, with the fixture's five colleagues.
    let r = fx.send("PROPFIND", BOOK, Some(A), &[("Depth", "1")], "").await;
    assert_eq!(r.body.matches("<d:getetag>").count(), crate::annuaire::QUERY_LIMIT + 5 + 5);
}

fn sync(token: &str, extra: &str) -> String {
    format!(
        r#"<d:sync-collection {NS}><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>{extra}
        <d:prop><d:getetag/><card:address-data/></d:prop></d:sync-collection>"#
    )
}

/// The token that ends a sync-collection answer.
fn token_of(body: &str) -> String {
    let tail = body.rsplit("<d:sync-token>").next().unwrap();
    tail.split("</d:sync-token>").next().unwrap().to_owned()
}

fn href_of(store_id: i64) -> String {
    format!("{BOOK}compte-{store_id}.vcf")
}

#[tokio::test]
async fn sync_collection_gives_everything_then_only_what_changed() {
    let fx = with_others().await;
    // The home lists the book with its token, which PROPFIND on it repeats.
    let ask = format!(
        r#"<d:propfind {NS}><d:prop><d:sync-token/><cs:getctag xmlns:cs="http://calendarserver.org/ns/"/></d:prop></d:propfind>"#
    );
    let home =
        fx.send("PROPFIND", "/dav/addressbooks/alice.martin@ac-test.fr/", Some(A), &[("Depth", "1")], &ask).await;
    let listed = home.body.split(&format!("<d:href>{BOOK}</d:href>")).nth(1).expect("the book is listed");
    let first = token_of(listed);
    assert!(first.starts_with("urn:ardoise:annuaire:"), "{first}");

    // Full sync: every card the reader sees, the token at the end.
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync("", "")).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    crate::xml::parse(r.body.as_bytes()).expect("one XML document");
    for present in ["alice.martin@ac-test.fr", "bruno.petit@ac-test.fr", "KIND:org"] {
        assert!(r.body.contains(present), "{present}: {}", r.body);
    }
    assert!(!r.body.contains("eleve.test") && !r.body.contains("sam.suspendu"), "{}", r.body);
    assert!(!r.body.contains("404 Not Found"), "{}", r.body);
    let t1 = token_of(&r.body);
    assert_eq!(t1, first);

    // Nothing changed: nothing answered, the same token.
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync(&t1, "")).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert!(!r.body.contains("<d:response>"), "{}", r.body);
    assert_eq!(token_of(&r.body), t1);

    // A suspension comes back as a 404 entry, a newcomer as a card.
    let bruno = fx.store.account_by_address(&model::Address::parse(B).unwrap()).await.unwrap().unwrap();
    fx.store.set_account_status(bruno.id, model::AccountStatus::Suspended).await.unwrap();
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync(&t1, "")).await;
    assert_eq!(r.body.matches("<d:response>").count(), 1, "{}", r.body);
    assert!(
        r.body.contains(&format!("<d:href>{}</d:href><d:status>HTTP/1.1 404 Not Found", href_of(bruno.id))),
        "{}",
        r.body
    );
    let t2 = token_of(&r.body);
    assert_ne!(t2, t1);
    let newcomer = account(&fx.store, "nora.nouvelle@ac-test.fr").await;
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync(&t2, "")).await;
    assert_eq!(r.body.matches("<d:response>").count(), 1, "{}", r.body);
    assert!(r.body.contains(&format!("<d:href>{}</d:href>", href_of(newcomer.id))), "{}", r.body);
    assert!(r.body.contains("<d:getetag>") && r.body.contains("EMAIL;TYPE=work:nora.nouvelle@ac-test.fr"));
    // The old token still answers both, as one answer per card.
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync(&t1, "")).await;
    assert_eq!(r.body.matches("<d:response>").count(), 2, "{}", r.body);
    // A student or someone of another domain changing is not the reader's business.
    let t3 = token_of(&r.body);
    account_as(&fx.store, "eleve.deux@ac-test.fr", model::Role::Student).await;
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync(&t3, "")).await;
    assert!(!r.body.contains("<d:getetag>") && !r.body.contains("eleve.deux"), "a student is never a card: {}", r.body);
}

#[tokio::test]
async fn many_changes_come_in_bounded_answers() {
    let fx = Fixture::new().await;
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync("", "")).await;
    let mut token = token_of(&r.body);
    let mut made = Vec::new();
    for i in 0..(crate::annuaire::SYNC_LIMIT * 2 + 1) {
        made.push(account(&fx.store, &format!("agent{i:02}@ac-test.fr")).await.id);
    }
    let mut seen = Vec::new();
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 10, "the feed ends");
        let r = fx.send("REPORT", BOOK, Some(A), &[], &sync(&token, "")).await;
        assert_eq!(r.status, StatusCode::MULTI_STATUS);
        let cards = r.body.matches("<d:getetag>").count();
        assert!(cards <= crate::annuaire::SYNC_LIMIT, "{}", r.body);
        for id in &made {
            if r.body.contains(&href_of(*id)) {
                seen.push(*id);
            }
        }
        token = token_of(&r.body);
        if !r.body.contains("507 Insufficient Storage") {
            break;
        }
    }
    assert_eq!(seen, made, "every newcomer once, in order");
    assert_eq!(rounds, 3);
    // The client's own limit is honoured when it is lower.
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync(&token, "")).await;
    assert!(!r.body.contains("<d:response>"));
    account(&fx.store, "encore.un@ac-test.fr").await;
    account(&fx.store, "et.deux@ac-test.fr").await;
    let limit = "<d:limit><d:nresults>1</d:nresults></d:limit>";
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync(&token, limit)).await;
    assert_eq!(r.body.matches("<d:getetag>").count(), 1, "{}", r.body);
    assert!(r.body.contains("507 Insufficient Storage"));
    // A limit on the full sync is not supported: said so.
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync("", limit)).await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(r.body.contains("<d:number-of-matches-within-limits/>"), "{}", r.body);
}

#[tokio::test]
async fn bad_pruned_and_foreign_tokens_are_refused() {
    let fx = with_others().await;
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync("", "")).await;
    let good = token_of(&r.body);
    let (scope, counter) = good.strip_prefix("urn:ardoise:annuaire:").unwrap().rsplit_once('-').unwrap();
    let future = format!("urn:ardoise:annuaire:{scope}-{}", counter.parse::<i64>().unwrap() + 50);
    let other_scope = format!("urn:ardoise:annuaire:a999999-{counter}");
    for bad in [
        "nimportequoi",
        "urn:ardoise:sync:1-1",
        "urn:ardoise:annuaire:",
        "urn:ardoise:annuaire:-1",
        &format!("urn:ardoise:annuaire:{scope}--1"),
        &format!("urn:ardoise:annuaire:{scope}-+1"),
        &format!("urn:ardoise:annuaire:{scope}-99999999999999999999999"),
        &future,
        &other_scope,
    ] {
        let r = fx.send("REPORT", BOOK, Some(A), &[], &sync(bad, "")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{bad}");
        assert!(r.body.contains("<d:valid-sync-token/>"), "{bad}: {}", r.body);
    }
    // Pruned: the feed no longer reaches back to the token (pruning keeps
    // the newest change, so two are made).
    account(&fx.store, "apres.coup@ac-test.fr").await;
    account(&fx.store, "encore.apres@ac-test.fr").await;
    let newest = token_of(&fx.send("REPORT", BOOK, Some(A), &[], &sync(&good, "")).await.body);
    fx.store.prune_directory_changes(i64::MAX).await.unwrap();
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync(&good, "")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("<d:valid-sync-token/>"));
    let r = fx.send("REPORT", BOOK, Some(A), &[], &sync(&newest, "")).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS, "the newest token stays good: {}", r.body);
    // Only sync-level 1.
    let deep = sync("", "").replace("<d:sync-level>1</d:sync-level>", "<d:sync-level>infinite</d:sync-level>");
    let r = fx.send("REPORT", BOOK, Some(A), &[], &deep).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("<d:sync-traversal-supported/>"), "{}", r.body);
}
