//! The « Contacts » page's operations over the default address book.

use groupware::contacts::Contact;
use groupware::{CollectionKind, Error, Groupware, Precondition, Settings};

async fn service() -> (tempfile::TempDir, Groupware, i64, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = store::Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&model::Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let mut ids = Vec::new();
    for local in ["claire.martin", "paul.durand"] {
        let account = store
            .create_account(&store::NewAccount {
                address: model::Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
                login: None,
                display_name: local.into(),
                role: model::Role::Teacher,
                status: model::AccountStatus::Active,
                quota_bytes: None,
                org_unit: None,
                password_hash: None,
            })
            .await
            .unwrap();
        ids.push(account.id);
    }
    (dir, Groupware::new(store, Settings::default()).unwrap(), ids[0], ids[1])
}

#[tokio::test]
async fn contacts_are_created_edited_and_deleted_in_the_default_book_only() {
    let (_dir, gw, claire, paul) = service().await;
    let c = Contact {
        name: "Zoé Faure".into(),
        emails: vec!["zoe@ac-test.fr".into()],
        groups: vec!["CA".into()],
        ..Contact::default()
    };
    let name = gw.save_contact(claire, None, c.clone()).await.unwrap();
    let stored = gw.contact(claire, &name).await.unwrap();
    assert!(stored.ours);
    assert_eq!(stored.contact, c);
    // Visible over CardDAV as an object of « contacts ».
    let book = gw.collection(claire, CollectionKind::AddressBook, "contacts").await.unwrap();
    assert!(gw.get(&book, &name).await.unwrap().content.contains("CATEGORIES:CA"));
    // Edited only from the version read.
    let edited = Contact { title: "CPE".into(), ..c.clone() };
    gw.save_contact(claire, Some((&name, &stored.etag)), edited.clone()).await.unwrap();
    let stale = gw.save_contact(claire, Some((&name, &stored.etag)), c.clone()).await;
    assert!(matches!(stale, Err(Error::PreconditionFailed)), "{stale:?}");
    assert_eq!(gw.contacts(claire).await.unwrap()[0].contact, edited);
    // Paul sees none of it, and cannot reach it by name.
    assert!(gw.contacts(paul).await.unwrap().is_empty());
    assert!(matches!(gw.contact(paul, &name).await, Err(Error::NotFound)));
    assert!(matches!(gw.delete_contact(paul, &name).await, Err(Error::NotFound)));
    gw.delete_contact(claire, &name).await.unwrap();
    assert!(gw.contacts(claire).await.unwrap().is_empty());
}

#[tokio::test]
async fn another_clients_card_is_not_rewritten() {
    let (_dir, gw, claire, _) = service().await;
    let book = gw.collection(claire, CollectionKind::AddressBook, "contacts").await.unwrap();
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:t\r\nFN:Tiers\r\nX-SPECIAL:garde\r\nEND:VCARD\r\n";
    let etag = gw.put(&book, "t.vcf", card, Precondition::Absent).await.unwrap().etag;
    let stored = gw.contact(claire, "t.vcf").await.unwrap();
    assert!(!stored.ours);
    let r = gw.save_contact(claire, Some(("t.vcf", &etag)), Contact { name: "X".into(), ..Contact::default() }).await;
    assert!(matches!(r, Err(Error::Invalid(_))));
    assert!(gw.get(&book, "t.vcf").await.unwrap().content.contains("X-SPECIAL"));
}
