//! « Partage de fichiers » (issue 22) through the router: the tus protocol
//! (creation, offsets, resumption, wrong offsets and lengths, the CSRF
//! header, another account's upload), then the public link (ranges, the
//! file name, the password, revocation).

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};

use super::fixture::{Fixture, SHARED_A, Session, Who};

/// One tus request as `who`; the status, headers and body.
async fn tus(
    fx: &Fixture,
    s: &Session,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(path).header(header::COOKIE, &s.cookie);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = fx.send(req.body(Body::from(body.to_vec())).unwrap()).await;
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, headers, String::from_utf8_lossy(&bytes).into_owned())
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// Creates an upload of `length` bytes named « rapport.pdf »; its path.
async fn create(fx: &Fixture, s: &Session, length: &str) -> (StatusCode, String) {
    let headers = [
        ("tus-resumable", "1.0.0"),
        ("x-csrf-token", s.csrf.as_str()),
        ("upload-length", length),
        ("upload-metadata", "filename cmFwcG9ydC5wZGY="),
    ];
    let (status, h, _) = tus(fx, s, Method::POST, "/partage/televersement/", &headers, b"").await;
    (status, header(&h, "location").to_owned())
}

async fn patch(fx: &Fixture, s: &Session, path: &str, offset: &str, body: &[u8]) -> (StatusCode, String) {
    let headers = [
        ("tus-resumable", "1.0.0"),
        ("x-csrf-token", s.csrf.as_str()),
        ("upload-offset", offset),
        ("content-type", "application/offset+octet-stream"),
    ];
    let (status, h, _) = tus(fx, s, Method::PATCH, path, &headers, body).await;
    (status, header(&h, "upload-offset").to_owned())
}

async fn offset(fx: &Fixture, s: &Session, path: &str) -> (StatusCode, String) {
    let (status, h, _) = tus(fx, s, Method::HEAD, path, &[("tus-resumable", "1.0.0")], b"").await;
    (status, header(&h, "upload-offset").to_owned())
}

#[tokio::test]
async fn an_upload_resumes_from_the_offset_the_server_acknowledged() {
    let fx = Fixture::new().await;
    let a = fx.session(Who::Owner).await.unwrap();
    let (status, h, _) = tus(&fx, &a, Method::OPTIONS, "/partage/televersement/", &[], b"").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(header(&h, "tus-version"), "1.0.0");
    assert_eq!(header(&h, "tus-extension"), "creation,termination");

    let (status, path) = create(&fx, &a, "10").await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(path.starts_with("/partage/televersement/") && path.len() == 23 + 32, "{path}");
    assert_eq!(offset(&fx, &a, &path).await, (StatusCode::OK, "0".into()));
    assert_eq!(patch(&fx, &a, &path, "0", b"0123").await, (StatusCode::NO_CONTENT, "4".into()));
    // A client that lost the answer sends the same piece again: 409, nothing changes.
    assert_eq!(patch(&fx, &a, &path, "0", b"0123").await.0, StatusCode::CONFLICT);
    assert_eq!(patch(&fx, &a, &path, "7", b"789").await.0, StatusCode::CONFLICT);
    assert_eq!(offset(&fx, &a, &path).await, (StatusCode::OK, "4".into()));
    // More than announced: refused, and the file holds only the announced bytes.
    assert_eq!(patch(&fx, &a, &path, "4", b"456789XYZ").await.0, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(offset(&fx, &a, &path).await, (StatusCode::OK, "10".into()));
    let id = path.rsplit('/').next().unwrap();
    let form = format!("csrf={}&upload={id}&days=3", a.csrf);
    let (status, _) = fx
        .request(
            Method::POST,
            "/courrier/partage",
            Some(&a.cookie),
            Some(("application/x-www-form-urlencoded".into(), form.into_bytes())),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = fx.request(Method::GET, "/courrier/partage", Some(&a.cookie), None).await;
    assert!(page.contains("rapport.pdf"), "{page}");
}

#[tokio::test]
async fn bad_uploads_get_clear_refusals() {
    let fx = Fixture::new().await;
    let a = fx.session(Who::Owner).await.unwrap();
    let b = fx.session(Who::Other).await.unwrap();
    // Without the CSRF header, or with B's token: 403.
    for token in ["", b.csrf.as_str()] {
        let headers = [
            ("tus-resumable", "1.0.0"),
            ("x-csrf-token", token),
            ("upload-length", "5"),
            ("upload-metadata", "filename YS50eHQ="),
        ];
        let (status, _, _) = tus(&fx, &a, Method::POST, "/partage/televersement/", &headers, b"").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "token {token:?}");
    }
    // Wrong protocol version, missing or absurd lengths, no name, too large.
    let cases: [(&[(&str, &str)], StatusCode); 7] = [
        (
            &[("tus-resumable", "0.2.2"), ("upload-length", "5"), ("upload-metadata", "filename YS50eHQ=")],
            StatusCode::PRECONDITION_FAILED,
        ),
        (&[("tus-resumable", "1.0.0"), ("upload-metadata", "filename YS50eHQ=")], StatusCode::BAD_REQUEST),
        (
            &[("tus-resumable", "1.0.0"), ("upload-length", "-5"), ("upload-metadata", "filename YS50eHQ=")],
            StatusCode::BAD_REQUEST,
        ),
        (
            &[
                ("tus-resumable", "1.0.0"),
                ("upload-length", "99999999999999999999"),
                ("upload-metadata", "filename YS50eHQ="),
            ],
            StatusCode::BAD_REQUEST,
        ),
        (&[("tus-resumable", "1.0.0"), ("upload-length", "5")], StatusCode::BAD_REQUEST),
        (
            &[("tus-resumable", "1.0.0"), ("upload-length", "5"), ("upload-metadata", "filename pas-du-base64!")],
            StatusCode::BAD_REQUEST,
        ),
        (
            &[("tus-resumable", "1.0.0"), ("upload-length", "2000000"), ("upload-metadata", "filename YS50eHQ=")],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (headers, expected) in cases {
        let mut all = headers.to_vec();
        all.push(("x-csrf-token", a.csrf.as_str()));
        let (status, _, _) = tus(&fx, &a, Method::POST, "/partage/televersement/", &all, b"").await;
        assert_eq!(status, expected, "{headers:?}");
    }
    // The quota (3 MiB in the fixture) counts uploads in progress.
    for _ in 0..3 {
        assert_eq!(create(&fx, &a, "1000000").await.0, StatusCode::CREATED);
    }
    assert_eq!(create(&fx, &a, "1000000").await.0, StatusCode::PAYLOAD_TOO_LARGE, "over quota");

    let (status, path) = create(&fx, &b, "3").await;
    assert_eq!(status, StatusCode::CREATED);
    // A PATCH without the right content type or offset.
    let headers = [
        ("tus-resumable", "1.0.0"),
        ("x-csrf-token", b.csrf.as_str()),
        ("upload-offset", "0"),
        ("content-type", "text/plain"),
    ];
    assert_eq!(tus(&fx, &b, Method::PATCH, &path, &headers, b"abc").await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(patch(&fx, &b, &path, "", b"abc").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(patch(&fx, &b, &path, "0x0", b"abc").await.0, StatusCode::BAD_REQUEST);
    // A PATCH without the CSRF header.
    let headers =
        [("tus-resumable", "1.0.0"), ("upload-offset", "0"), ("content-type", "application/offset+octet-stream")];
    assert_eq!(tus(&fx, &b, Method::PATCH, &path, &headers, b"abc").await.0, StatusCode::FORBIDDEN);
    // A sees nothing of B's upload and cannot write or end it.
    assert_eq!(offset(&fx, &a, &path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(patch(&fx, &a, &path, "0", b"abc").await.0, StatusCode::NOT_FOUND);
    let del = [("tus-resumable", "1.0.0"), ("x-csrf-token", a.csrf.as_str())];
    assert_eq!(tus(&fx, &a, Method::DELETE, &path, &del, b"").await.0, StatusCode::NOT_FOUND);
    assert_eq!(offset(&fx, &b, &path).await, (StatusCode::OK, "0".into()));
    // B ends it: gone.
    let del = [("tus-resumable", "1.0.0"), ("x-csrf-token", b.csrf.as_str())];
    assert_eq!(tus(&fx, &b, Method::DELETE, &path, &del, b"").await.0, StatusCode::NO_CONTENT);
    assert_eq!(offset(&fx, &b, &path).await.0, StatusCode::NOT_FOUND);
    for weird in ["/partage/televersement/..%2F..%2Fm.db", "/partage/televersement/ZZZZ"] {
        assert_eq!(offset(&fx, &b, weird).await.0, StatusCode::NOT_FOUND, "{weird}");
    }
    // Signed out: 401.
    let req = Request::builder()
        .method(Method::HEAD)
        .uri(&path)
        .header("tus-resumable", "1.0.0")
        .body(Body::empty())
        .unwrap();
    assert_eq!(fx.send(req).await.status(), StatusCode::UNAUTHORIZED);
}

/// A GET of A's shared file with these headers.
async fn fetch(fx: &Fixture, path: &str, headers: &[(header::HeaderName, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method(Method::GET).uri(path);
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    let resp = fx.send(req.body(Body::empty()).unwrap()).await;
    let (status, h) = (resp.status(), resp.headers().clone());
    (status, h, axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap().to_vec())
}

#[tokio::test]
async fn anyone_with_the_link_downloads_whole_or_by_ranges_until_it_is_revoked() {
    let fx = Fixture::new().await;
    let file = format!("/partage/{}/fichier", fx.share_token);
    let before = fx.app.ms.messages(fx.inbox).await.unwrap().len();
    let (status, h, body) = fetch(&fx, &file, &[]).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, SHARED_A));
    assert_eq!(header(&h, "accept-ranges"), "bytes");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert_eq!(header(&h, "content-type"), "application/octet-stream");
    assert_eq!(
        header(&h, "content-disposition"),
        "attachment; filename=\"compte-rendu.txt\"; filename*=UTF-8''compte-rendu.txt"
    );
    // What `curl -C -` asks after 10 bytes.
    let (status, h, body) = fetch(&fx, &file, &[(header::RANGE, "bytes=10-")]).await;
    assert_eq!((status, body.as_slice()), (StatusCode::PARTIAL_CONTENT, &SHARED_A[10..]));
    assert_eq!(header(&h, "content-range"), format!("bytes 10-{}/{}", SHARED_A.len() - 1, SHARED_A.len()));
    let (status, _, body) = fetch(&fx, &file, &[(header::RANGE, "bytes=-5")]).await;
    assert_eq!((status, body.as_slice()), (StatusCode::PARTIAL_CONTENT, &SHARED_A[SHARED_A.len() - 5..]));
    let (status, h, _) = fetch(&fx, &file, &[(header::RANGE, "bytes=500-")]).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&h, "content-range"), format!("bytes */{}", SHARED_A.len()));
    let (status, _, _) = fetch(&fx, &format!("{file}?v=7"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The owner sees the journal: the whole download and the ranged ones from byte 0 only.
    let a = fx.session(Who::Owner).await.unwrap();
    let (_, page) = fx.request(Method::GET, &format!("/courrier/partage/{}", fx.share_id), Some(&a.cookie), None).await;
    assert!(page.contains("id=\"partage-journal\"") && page.contains("127.0.0.1"), "{page}");
    assert_eq!(page.matches("127.0.0.1").count(), 1, "one download began at byte 0");
    // And was told by mail of the first download.
    let inbox = fx.app.ms.messages(fx.inbox).await.unwrap();
    assert_eq!(inbox.len(), before + 1, "the first-download notice, once");

    let form = format!("csrf={}", a.csrf);
    let body = Some(("application/x-www-form-urlencoded".to_owned(), form.into_bytes()));
    let (status, _) =
        fx.request(Method::POST, &format!("/courrier/partage/{}/revoquer", fx.share_id), Some(&a.cookie), body).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(fetch(&fx, &file, &[]).await.0, StatusCode::GONE);
    assert_eq!(fetch(&fx, &format!("/partage/{}", fx.share_token), &[]).await.0, StatusCode::GONE);
}

#[tokio::test]
async fn a_password_protected_link_needs_the_password() {
    let fx = Fixture::new().await;
    let a = fx.session(Who::Owner).await.unwrap();
    let sharing = fx.app.sharing.as_ref().unwrap();
    let upload = sharing.create_upload(fx.a.id, 6, "secret.txt", None).await.unwrap();
    let piece = futures_util::stream::iter([Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"secret"))]);
    sharing.append(fx.a.id, &upload, 0, piece).await.unwrap();
    let new = sharing::NewLink { upload, password: Some("Mot-De-Passe-Du-Lien".into()), ..Default::default() };
    let share = sharing.create_link(fx.a.id, new).await.unwrap();
    let page = format!("/partage/{}", share.token);
    let (status, _, body) = fetch(&fx, &page, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let body = String::from_utf8_lossy(&body).into_owned();
    assert!(body.contains("name=\"password\"") && !body.contains("/fichier"), "{body}");
    // The file without the unlocked address: back to the page.
    assert_eq!(fetch(&fx, &format!("{page}/fichier"), &[]).await.0, StatusCode::SEE_OTHER);
    let forged = format!("{page}/fichier?cle={}&exp=99999999999", "0".repeat(64));
    assert_eq!(fetch(&fx, &forged, &[]).await.0, StatusCode::SEE_OTHER);
    // A wrong password, then the right one (with the session's token, as the form posts it).
    let post = |password: &str| {
        let form = format!("csrf={}&password={password}", a.csrf);
        Some(("application/x-www-form-urlencoded".to_owned(), form.into_bytes()))
    };
    let (status, body) = fx.request(Method::POST, &page, Some(&a.cookie), post("mauvais")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("partage-mdp-faux"), "{body}");
    let (status, body) = fx.request(Method::POST, &page, Some(&a.cookie), post("Mot-De-Passe-Du-Lien")).await;
    assert_eq!(status, StatusCode::OK);
    let start = body.find("/fichier?cle=").expect("the unlocked address");
    let end = body[start..].find('"').unwrap() + start;
    let unlocked = format!("{page}{}", body[start..end].replace("&amp;", "&").replace("&#38;", "&"));
    let (status, _, bytes) = fetch(&fx, &unlocked, &[]).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, b"secret".as_slice()));
    // An expired unlocked address is refused.
    let stale = format!("{page}/fichier?cle={}&exp=1", "0".repeat(64));
    assert_eq!(fetch(&fx, &stale, &[]).await.0, StatusCode::SEE_OTHER);
}

/// A share mailed to B gives B a link of their own: downloading through it,
/// the owner's journal and first-download notice name B; a password asked
/// on it keeps B's link (the form posts to it).
#[tokio::test]
async fn a_recipients_own_link_names_them_in_the_journal_and_the_notice() {
    let fx = Fixture::new().await;
    let sharing = fx.app.sharing.as_ref().unwrap();
    let upload = sharing.create_upload(fx.a.id, 6, "bulletin.txt", None).await.unwrap();
    let piece = futures_util::stream::iter([Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"notes!"))]);
    sharing.append(fx.a.id, &upload, 0, piece).await.unwrap();
    let new = sharing::NewLink { upload, recipients: vec![fx.b.address.clone()], ..Default::default() };
    let share = sharing.create_link(fx.a.id, new).await.unwrap();
    let (who, token) = sharing.recipient_links(fx.a.id, share.id).await.unwrap().remove(0);
    assert_eq!(who, "bruno.petit@ac-test.fr");
    let before = fx.app.ms.messages(fx.inbox).await.unwrap().len();

    let (status, _, body) = fetch(&fx, &format!("/partage/{token}/fichier"), &[]).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, b"notes!".as_slice()));
    let (status, _, _) = fetch(&fx, &format!("/partage/{}/fichier", share.token), &[]).await;
    assert_eq!(status, StatusCode::OK, "the plain link still works");

    let a = fx.session(Who::Owner).await.unwrap();
    let (_, page) = fx.request(Method::GET, &format!("/courrier/partage/{}", share.id), Some(&a.cookie), None).await;
    let journal = &page[page.find("id=\"partage-journal\"").expect("the journal")..];
    assert_eq!(journal.matches("bruno.petit@ac-test.fr").count(), 1, "{journal}");
    assert_eq!(journal.matches("127.0.0.1").count(), 2, "{journal}");
    let inbox = fx.app.ms.messages(fx.inbox).await.unwrap();
    assert_eq!(inbox.len(), before + 1, "the first-download notice, once");
    let newest = inbox.iter().max_by_key(|m| m.uid).unwrap();
    let notice = String::from_utf8(fx.app.ms.message_bytes(&newest.blob_hash).await.unwrap()).unwrap();
    assert!(notice.contains("par bruno.petit@ac-test.fr"), "{notice}");

    // Password-protected: the page of B's link posts the password to B's link.
    let upload = sharing.create_upload(fx.a.id, 6, "secret.txt", None).await.unwrap();
    let piece = futures_util::stream::iter([Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"secret"))]);
    sharing.append(fx.a.id, &upload, 0, piece).await.unwrap();
    let new = sharing::NewLink {
        upload,
        password: Some("Mot-De-Passe-Du-Lien".into()),
        recipients: vec![fx.b.address.clone()],
        ..Default::default()
    };
    let share = sharing.create_link(fx.a.id, new).await.unwrap();
    let (_, token) = sharing.recipient_links(fx.a.id, share.id).await.unwrap().remove(0);
    let (_, _, body) = fetch(&fx, &format!("/partage/{token}"), &[]).await;
    let body = String::from_utf8_lossy(&body).into_owned();
    assert!(body.contains(&format!("action=\"/partage/{token}\"")), "{body}");
}
