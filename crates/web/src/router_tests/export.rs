//! « Exporter mes données » (issue 23): the owner downloads the archive
//! once, with A's message in it; the link then answers 404, and another
//! account's request never consumed it.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};

use super::fixture::{Fixture, SUBJECT_A, Who};

async fn download(fx: &Fixture, cookie: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let req = Request::builder()
        .method(Method::GET)
        .uri(format!("/courrier/reglages/export/{}", fx.export))
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let resp = fx.send(req).await;
    let status = resp.status();
    let disposition =
        resp.headers().get(header::CONTENT_DISPOSITION).map(|v| v.to_str().unwrap_or_default().to_owned());
    let body = axum::body::to_bytes(resp.into_body(), 64 << 20).await.unwrap().to_vec();
    (status, disposition, body)
}

#[tokio::test]
async fn the_owner_downloads_the_archive_once_and_nobody_else_ever() {
    let fx = Fixture::new().await;
    let b = fx.session(Who::Other).await.unwrap();
    let (status, _, body) = download(&fx, &b.cookie).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!String::from_utf8_lossy(&body).contains(SUBJECT_A));

    let a = fx.a_cookie().await;
    let (_, page) = fx.request(Method::GET, "/courrier/reglages/export", Some(&a), None).await;
    assert!(page.contains(&format!("/courrier/reglages/export/{}", fx.export)), "{page}");
    let (status, disposition, body) = download(&fx, &a).await;
    assert_eq!(status, StatusCode::OK);
    assert!(disposition.unwrap().starts_with("attachment; filename=\"ardoise-export-alice.martin.zip\""));
    assert!(body.starts_with(b"PK\x03\x04"), "a zip archive");
    // Entry names are stored as they are: A's folders, each message as .eml.
    let text = String::from_utf8_lossy(&body);
    for entry in ["courrier/INBOX.mbox", "courrier/Projets.mbox", "messages/INBOX/", "journal.csv"] {
        assert!(text.contains(entry), "{entry} in the archive");
    }

    let (status, _, _) = download(&fx, &a).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a second download");
    let (_, page) = fx.request(Method::GET, "/courrier/reglages/export", Some(&a), None).await;
    assert!(page.contains("id=\"preparer-export\"") && !page.contains("telecharger-export"), "{page}");
}
