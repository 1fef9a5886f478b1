//! Two accounts of `ac-test.fr` on a fresh SQLite store, and a client.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use base64::Engine;
use identity::Account;
use identity::credentials::hash::hash_password;
use tower_service::Service;

use crate::{Dav, router};

pub const A: &str = "alice.martin@ac-test.fr";
pub const B: &str = "bruno.petit@ac-test.fr";
/// Three more colleagues for the sharing matrix.
pub const C: &str = "chloe.roux@ac-test.fr";
pub const D: &str = "denis.faure@ac-test.fr";
pub const E: &str = "emma.blanc@ac-test.fr";
pub const PASSWORD: &str = "Cheval-Agrafe-Correct-42";

pub struct Fixture {
    _dir: tempfile::TempDir,
    router: Router,
    /// The store, to change accounts behind the service's back.
    pub store: store::Store,
    pub groupware: Arc<groupware::Groupware>,
    pub a: Account,
    /// A's app passwords: one for DAV, one for IMAP only.
    pub dav_app_password: String,
    pub imap_app_password: String,
}

/// An answer: status, headers, body as text.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn etag(&self) -> String {
        self.headers.get(header::ETAG).expect("an ETag").to_str().unwrap().to_owned()
    }
}

pub async fn account(store: &store::Store, address: &str) -> Account {
    account_as(store, address, model::Role::Teacher).await
}

pub async fn account_as(store: &store::Store, address: &str, role: model::Role) -> Account {
    store
        .create_account(&store::NewAccount {
            address: model::Address::parse(address).unwrap(),
            login: None,
            display_name: address.split('@').next().unwrap().replace('.', " "),
            role,
            status: model::AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: hash_password(PASSWORD),
        })
        .await
        .unwrap()
}

impl Fixture {
    pub async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = store::Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        store.add_domain(&model::Domain::parse("ac-test.fr").unwrap()).await.unwrap();
        let a = account(&store, A).await;
        for other in [B, C, D, E] {
            account(&store, other).await;
        }
        let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
        let ms = mailstore::Mailstore::new(store.clone(), blobs);
        let identity = identity::Identity::new(store.clone(), ms, identity::Settings::default());
        let dav_app_password = identity.create_app_password(&a, "DAVx5", &["dav"]).await.unwrap();
        let imap_app_password = identity.create_app_password(&a, "Thunderbird", &["imap"]).await.unwrap();
        let settings = groupware::Settings { max_object_bytes: 64 << 10, ..groupware::Settings::default() };
        let groupware = Arc::new(groupware::Groupware::new(store.clone(), settings).unwrap());
        let router = router(Arc::new(Dav::new(groupware.clone(), identity)));
        Fixture { _dir: dir, router, store, groupware, a, dav_app_password, imap_app_password }
    }

    /// Sends a request as `user` (with the right password), or anonymously.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        user: Option<&str>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Answer {
        self.send_with(method, path, user.map(|u| (u, PASSWORD)), headers, body).await
    }

    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        login: Option<(&str, &str)>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some((user, secret)) = login {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
            req = req.header(header::AUTHORIZATION, format!("Basic {token}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self.router.clone().call(req.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20).await.unwrap();
        Answer { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
    }
}

pub fn event(uid: &str, start: &str, end: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//FR\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n{extra}SUMMARY:Conseil\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n"
    )
}

pub fn card(uid: &str, name: &str) -> String {
    format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEMAIL:{uid}@example.org\r\nEND:VCARD\r\n")
}
