//! The owner's side of the attached-message routes (the table drives the
//! signed-out and other-account sides): the message attached to A's message
//! reads inline, its HTML cleaned in a frame without script; a file that is
//! not a message, and a chain that leads nowhere, are the 404 page.

use axum::http::{Method, StatusCode};

use super::fixture::{ATTACHED_A, Fixture, Who};

async fn get(fx: &Fixture, cookie: &str, path: &str) -> (StatusCode, String) {
    fx.request(Method::GET, &fx.fill(path), Some(cookie), None).await
}

#[tokio::test]
async fn the_owner_reads_an_attached_message_and_nothing_else_opens_as_one() {
    let fx = Fixture::new().await;
    let session = fx.session(Who::Owner).await.unwrap();
    let get = |path: &'static str| get(&fx, &session.cookie, path);

    let (status, page) = get("/courrier/{inbox}/{uid}").await;
    assert_eq!(status, StatusCode::OK);
    let read = fx.fill("href=\"/courrier/{inbox}/{uid}/joint/1\"");
    assert!(page.contains(&read), "a « Lire » link for the attached message: {page}");
    assert_eq!(page.matches("class=\"lire-pj\"").count(), 1, "the PDF has none");

    let (status, page) = get("/courrier/{inbox}/{uid}/joint/1").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<h1 id=\"objet\">Note jointe</h1>"), "{page}");
    assert!(page.contains("direction@ac-test.fr"));
    assert!(page.contains(&fx.fill("src=\"/courrier/{inbox}/{uid}/joint/1/contenu\"")));
    assert!(page.contains(&fx.fill("href=\"/courrier/{inbox}/{uid}/pj/1\"")), "downloadable as a whole");

    let (status, frame) = get("/courrier/{inbox}/{uid}/joint/1/contenu").await;
    assert_eq!(status, StatusCode::OK);
    assert!(frame.contains(ATTACHED_A), "{frame}");
    // Cleaned: the only script is our height script, under the frame's nonce.
    assert_eq!(frame.matches("<script").count(), 1, "{frame}");
    assert!(frame.contains("<script nonce=\"") && !frame.contains("alert(1)"), "cleaned: {frame}");

    for path in [
        "/courrier/{inbox}/{uid}/joint/0",
        "/courrier/{inbox}/{uid}/joint/0/contenu",
        "/courrier/{inbox}/{uid}/joint/2",
        "/courrier/{inbox}/{uid}/joint/1.0",
        "/courrier/{inbox}/{uid}/joint/1/pj/0",
        "/courrier/{inbox}/{uid}/joint/x",
        "/courrier/{inbox}/{uid}/joint/1.1.1.1",
    ] {
        let (status, body) = get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body.contains("<h1>Page introuvable</h1>"), "{path}: {body}");
    }
}
