//! A list's archive (issue 22): A, a moderator of the discussion group
//! `sorties@ac-test.fr`, reads its archive and the archived post, whose HTML
//! is cleaned in the sandboxed frame (its scripts never reach a page); B,
//! neither member nor moderator, gets the 404 page for the list, the post
//! and its frame, exactly as for a list that does not exist, until B becomes
//! a member, and then finds the archive linked from the next post's page.

use axum::http::{Method, StatusCode, header};

use super::fixture::{ARCHIVED_A, ARCHIVED_BODY_A, Fixture, Session, Who};

async fn get(fx: &Fixture, s: &Session, path: &str) -> (StatusCode, String) {
    fx.request(Method::GET, path, Some(&s.cookie), None).await
}

const LIST: &str = "/listes/sorties@ac-test.fr/archives";

#[tokio::test]
async fn a_moderator_reads_the_archive_and_the_post_is_shown_cleaned() {
    let fx = Fixture::new().await;
    let a = fx.session(Who::Owner).await.unwrap();

    let (status, page) = get(&fx, &a, LIST).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Archives de la liste") && page.contains("sorties@ac-test.fr"), "{page}");
    let link = format!("href=\"{LIST}/{}\"", fx.archived);
    assert!(page.contains(ARCHIVED_A) && page.contains(&link) && page.contains("doc@example.org"), "{page}");
    assert!(!page.contains("archives-anciennes"), "one page only");

    // The post frames its HTML body; neither the page nor the frame runs the post's scripts.
    let (status, post) = get(&fx, &a, &format!("{LIST}/{}", fx.archived)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(post.contains(ARCHIVED_A) && post.contains(&format!("src=\"{LIST}/{}/contenu\"", fx.archived)));
    assert!(!post.contains("alert(") && !post.contains(ARCHIVED_BODY_A), "the body is in the frame only: {post}");
    let resp = fx
        .send(
            axum::http::Request::builder()
                .uri(format!("{LIST}/{}/contenu", fx.archived))
                .header(header::COOKIE, &a.cookie)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp.headers().get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let frame = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    let frame = String::from_utf8_lossy(&frame);
    assert!(frame.contains(ARCHIVED_BODY_A), "{frame}");
    assert!(!frame.contains("alert(") && !frame.contains("onerror"), "{frame}");
    assert_eq!(frame.matches("<script").count(), 1, "only our height script, under its nonce: {frame}");

    // Older than the only post: an empty page with a link back to the newest.
    let (status, older) = get(&fx, &a, &format!("{LIST}?avant={}", fx.archived)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!older.contains(ARCHIVED_A) && older.contains("id=\"archives-recentes\""), "{older}");
}

#[tokio::test]
async fn anyone_else_gets_the_404_page_until_a_member() {
    let fx = Fixture::new().await;
    let b = fx.session(Who::Other).await.unwrap();
    let post = format!("{LIST}/{}", fx.archived);
    for path in [
        LIST.to_owned(),
        post.clone(),
        format!("{post}/contenu"),
        "/listes/inconnue@ac-test.fr/archives".into(),
        "/listes/pas-une-adresse/archives".into(),
        // A list that exists, where B is a member: the post of another list is not there.
        format!("/listes/conseil@ac-test.fr/archives/{}", fx.archived),
    ] {
        let (status, body) = get(&fx, &b, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains(ARCHIVED_A) && !body.contains("sorties@"), "{path}: {body}");
    }
    // B is a member of `conseil`, which does not archive: its (empty) archive is B's to read.
    let (status, conseil) = get(&fx, &b, "/listes/conseil@ac-test.fr/archives").await;
    assert_eq!(status, StatusCode::OK);
    assert!(conseil.contains("id=\"aucune-archive\"") && conseil.contains("id=\"archives-arretees\""), "{conseil}");

    // Made a member, B reads the archive, the earlier posts included.
    let lists = fx.app.lists.as_ref().unwrap();
    let list = model::Address::parse("sorties@ac-test.fr").unwrap();
    lists.add_member(&list, &fx.b.address).await.unwrap();
    let (status, page) = get(&fx, &b, &post).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(ARCHIVED_A), "{page}");

    // The next post reaches B with `List-Archive`, which the reader offers as a link.
    let sender = model::Address::parse("doc@example.org").unwrap();
    let next = "From: doc@example.org\r\nSubject: Suite\r\nMessage-ID: <suite@example.org>\r\n\r\nLa suite.\r\n";
    lists.post(mailstore::Bytes::from(next), lists::Poster::Envelope(Some(&sender)), &[list], &[]).await.unwrap();
    let inbox = fx.app.ms.mailbox_with_use(fx.b.id, model::SpecialUse::Inbox).await.unwrap().unwrap().id;
    let uid = fx.app.ms.messages(inbox).await.unwrap().last().unwrap().uid;
    let (status, read) = get(&fx, &b, &format!("/courrier/{inbox}/{uid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(read.contains(&format!("id=\"archives-liste\" href=\"{LIST}\"")), "{read}");
    let (_, archive) = get(&fx, &b, LIST).await;
    assert!(archive.contains("Suite") && archive.contains(ARCHIVED_A), "{archive}");
}
