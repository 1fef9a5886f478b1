//! The quarantine against a real store and blob folder: a release delivers
//! the message once, even when two administrators (or the console and the
//! CLI) release it at the same moment.

use hygiene::quarantine::{Quarantine, Why};
use mailstore::Mailstore;
use model::{AccountStatus, Address, Domain, Role, SpecialUse};
use store::{NewAccount, Store};

const RAW: &[u8] = b"From: escroc@ailleurs.example\r\nTo: claire.martin@ac-demo.fr\r\n\
Subject: Votre colis\r\nMessage-ID: <colis@ailleurs.example>\r\n\r\nCliquez ici.\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_releases_at_once_deliver_the_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = Mailstore::new(store.clone(), blobs.clone());
    store.add_domain(&Domain::parse("ac-demo.fr").unwrap()).await.unwrap();
    let claire = store
        .create_account(&NewAccount {
            address: Address::parse("claire.martin@ac-demo.fr").unwrap(),
            login: None,
            display_name: "Claire Martin".into(),
            role: Role::Teacher,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap();
    let quarantine = Quarantine::new(store.clone(), blobs, ms.clone(), 30);
    let rcpts = [(claire.id, claire.address.to_string())];
    let inbox = ms.mailbox_with_use(claire.id, SpecialUse::Inbox).await.unwrap().unwrap().id;

    for round in 0..5 {
        let id = quarantine.keep(RAW, Why::Spam, "PHISHING", "escroc@ailleurs.example", &rcpts, 0).await.unwrap();
        let id = id.expect("the quarantine is on");
        let (a, b) = tokio::join!(quarantine.release(id, 0), quarantine.release(id, 0));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a.is_some() != b.is_some(), "round {round}: exactly one release delivers: {a:?} {b:?}");
        assert_eq!(ms.messages(inbox).await.unwrap().len(), round + 1, "round {round}: delivered once");
        assert!(quarantine.list(10).await.unwrap().is_empty());
        // Released already: nothing more to release.
        assert!(quarantine.release(id, 0).await.unwrap().is_none());
    }
}
