//! The delivery pipeline against a real SQLite store and blob folder: one blob for
//! many recipients, events after commit, quota checks, garbage collection.

use std::sync::Arc;
use std::time::Duration;

use blob::BlobStore;
use mailstore::{DeliveryTarget, Field, MailEvent, Mailstore, RecipientStatus};
use model::{AccountStatus, Address, Domain, Role};
use store::{NewAccount, Store};

struct Fixture {
    _dir: tempfile::TempDir,
    ms: Arc<Mailstore>,
    /// The raw rows and files under the domain, for the checks no domain operation offers.
    store: Store,
    blobs: BlobStore,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
    Fixture { ms: Mailstore::new(store.clone(), blobs.clone()), store, blobs, _dir: dir }
}

async fn account(store: &Store, local: &str, quota: Option<i64>, status: AccountStatus) -> i64 {
    store
        .create_account(&NewAccount {
            address: Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
            login: None,
            display_name: local.into(),
            role: Role::Teacher,
            status,
            quota_bytes: quota,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap()
        .id
}

const MAIL: &[u8] = b"From: Rectorat <drh@ac-test.fr>\r\nSubject: =?utf-8?q?Note_de_service_n=C2=B012?=\r\n\
Message-ID: <ns12@ac-test.fr>\r\n\r\nCampagne de mutations.\r\n";

#[tokio::test]
async fn many_recipients_share_one_blob_and_events_follow_the_commit() {
    let f = fixture().await;
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(account(&f.store, &format!("agent{i}"), None, AccountStatus::Active).await);
    }
    let mut events = f.ms.subscribe();
    let copies = f.ms.deliver(MAIL, &ids, 1_700_000_000).await.unwrap();
    assert_eq!(copies.len(), 50);
    assert!(copies.iter().all(|c| c.uid == 1));
    assert_eq!(f.blobs.usage().await.unwrap().0, 1);
    assert_eq!(f.store.blob_count().await.unwrap(), 1);
    let first = events.recv().await.unwrap();
    let MailEvent::Delivered { account, uid, .. } = first else {
        panic!("expected a delivery event, got {first:?}");
    };
    assert_eq!((account, uid), (ids[0], 1));
    let row = f.store.messages(copies[7].mailbox).await.unwrap().remove(0);
    let meta = f.store.blob_meta(&row.blob_hash).await.unwrap().unwrap();
    assert_eq!(meta.subject, "Note de service n°12");
    assert_eq!(f.blobs.get(&row.blob_hash).await.unwrap(), MAIL);
}

/// The message is hashed once, before its write, and stored under BLAKE3 of
/// its bytes whichever door it came through (shared bytes, a copy, a large
/// message written in several pieces).
#[tokio::test]
async fn the_blob_is_named_by_blake3_of_the_message() {
    let f = fixture().await;
    let id = account(&f.store, "claire", None, AccountStatus::Active).await;
    let large: Vec<u8> = MAIL.iter().copied().chain((0..200_000).map(|i| b"abcdefgh\r\n"[i % 10])).collect();
    for raw in [MAIL.to_vec(), large] {
        let copies = f.ms.deliver_owned(raw.clone(), &[id], 1_700_000_000).await.unwrap();
        let row = f.store.message_by_uid(copies[0].mailbox, copies[0].uid).await.unwrap().unwrap();
        assert_eq!(row.blob_hash, BlobStore::id_of(&raw));
        assert_eq!(row.blob_hash.as_str(), blake3::hash(&raw).to_hex().as_str());
        assert_eq!(f.blobs.get(&row.blob_hash).await.unwrap(), raw);
        assert_eq!(row.size, raw.len() as i64);
    }
}

#[tokio::test]
async fn recipient_checks() {
    let f = fixture().await;
    let full = account(&f.store, "plein", Some(100), AccountStatus::Active).await;
    account(&f.store, "ferme", None, AccountStatus::Closed).await;
    account(&f.store, "suspendu", None, AccountStatus::Suspended).await;
    let check = |a: &str, size| {
        let ms = f.ms.clone();
        let a = Address::parse(a).unwrap();
        async move { ms.check_recipient(&a, size).await.unwrap() }
    };
    assert_eq!(check("x@ailleurs.example", None).await, RecipientStatus::NotLocal);
    assert_eq!(check("personne@ac-test.fr", None).await, RecipientStatus::Unknown);
    assert_eq!(check("ferme@ac-test.fr", None).await, RecipientStatus::Unknown);
    // Suspended accounts still receive mail: only login is refused.
    assert!(matches!(check("suspendu@ac-test.fr", None).await, RecipientStatus::Local(_)));
    assert_eq!(check("plein@ac-test.fr", Some(101)).await, RecipientStatus::OverQuota(full));
    assert_eq!(check("plein@ac-test.fr", Some(50)).await, RecipientStatus::Local(full));
    f.ms.deliver(MAIL, &[full], 0).await.unwrap();
    // Now over quota: refused even without an announced size, until the quota is raised.
    assert_eq!(check("plein@ac-test.fr", None).await, RecipientStatus::OverQuota(full));
    f.store.set_quota(full, Some(10_000)).await.unwrap();
    assert_eq!(check("plein@ac-test.fr", None).await, RecipientStatus::Local(full));
}

#[tokio::test]
async fn garbage_collection_removes_released_and_orphan_blobs() {
    let f = fixture().await;
    let a = account(&f.store, "claire", None, AccountStatus::Active).await;
    let copy = f.ms.deliver(MAIL, &[a], 0).await.unwrap().remove(0);
    // An orphan: a blob file written by a delivery that crashed before its commit.
    let orphan = f.blobs.put(&b"Subject: orphelin\r\n\r\n"[..]).await.unwrap();
    let report = f.ms.collect_garbage(Duration::ZERO).await.unwrap();
    assert_eq!((report.released_deleted, report.orphans_deleted), (0, 1));
    assert!(!f.blobs.exists(&orphan).await);
    // Still referenced: kept.
    assert_eq!(f.blobs.usage().await.unwrap().0, 1);
    f.store.expunge(copy.mailbox, &[copy.uid]).await.unwrap();
    let report = f.ms.collect_garbage(Duration::ZERO).await.unwrap();
    assert_eq!(report.released_deleted, 1);
    assert_eq!(f.blobs.usage().await.unwrap().0, 0);
    assert_eq!(f.store.blob_count().await.unwrap(), 0);
}

#[tokio::test]
async fn watchers_hear_only_their_account() {
    let f = fixture().await;
    let claire = account(&f.store, "claire", None, AccountStatus::Active).await;
    let paul = account(&f.store, "paul", None, AccountStatus::Active).await;
    let mut claire_events = f.ms.watch(claire);
    let mut paul_events = f.ms.watch(paul);
    f.ms.deliver(MAIL, &[claire], 1_700_000_000).await.unwrap();
    let event = claire_events.recv().await.unwrap();
    assert!(matches!(event, MailEvent::Delivered { account, uid: 1, filed: false, .. } if account == claire));
    assert!(paul_events.try_recv().is_err());

    let inbox = f.store.mailbox_by_name(claire, "INBOX").await.unwrap().unwrap();
    let row = f.store.message_by_uid(inbox.id, 1).await.unwrap().unwrap();
    f.ms.set_flags(claire, inbox.id, row.id, 1, &[]).await.unwrap();
    assert!(matches!(claire_events.recv().await.unwrap(), MailEvent::Changed { modseq, .. } if modseq > 1));
    assert_eq!(f.ms.expunge(claire, inbox.id, &[1]).await.unwrap(), vec![1]);
    assert!(matches!(claire_events.recv().await.unwrap(), MailEvent::Changed { .. }));
}

/// A drag onto a folder announced the moved message as new mail, and that
/// announcement could replace the move's own ("déplacé vers ...").
#[tokio::test]
async fn a_message_filed_by_its_owner_is_not_news() {
    let f = fixture().await;
    let claire = account(&f.store, "claire", None, AccountStatus::Active).await;
    f.ms.deliver(MAIL, &[claire], 1_700_000_000).await.unwrap();
    let inbox = f.store.mailbox_by_name(claire, "INBOX").await.unwrap().unwrap();
    let archive = f.store.create_mailbox(claire, "Projets", None).await.unwrap();
    let mut events = f.ms.watch(claire);
    let copied = f.ms.copy(claire, inbox.id, &[1], archive.id).await.unwrap();
    assert_eq!(copied.len(), 1);
    let event = events.recv().await.unwrap();
    assert!(
        matches!(event, MailEvent::Delivered { mailbox, uid: 1, filed: true, .. } if mailbox == archive.id),
        "got {event:?}"
    );
}

/// Deleting a folder is a domain operation: only the account's own folder,
/// never with sub-folders, and then the account hears of it and the
/// contents it held leave the search index.
#[tokio::test]
async fn deleting_a_folder_is_heard_and_unindexed() {
    let f = fixture().await;
    f.ms.enable_search_in_memory().unwrap();
    let claire = account(&f.store, "claire", None, AccountStatus::Active).await;
    let paul = account(&f.store, "paul", None, AccountStatus::Active).await;
    let projets = f.ms.create_mailbox(claire, "Projets", None).await.unwrap();
    let sub = f.ms.create_mailbox(claire, "Projets/2026", None).await.unwrap();
    let target = DeliveryTarget { account: claire, mailbox: Some(sub.id), flags: 0, keywords: Vec::new() };
    f.ms.deliver_to(MAIL, &[target], 1_700_000_000).await.unwrap();
    let found = || async { f.ms.search_text(claire, &Field::ALL, "mutations").await.unwrap().unwrap().unwrap().len() };
    assert_eq!(found().await, 1);

    assert!(matches!(f.ms.delete_mailbox(paul, sub.id).await, Err(mailstore::Error::NotFound("mailbox"))));
    assert!(matches!(f.ms.delete_mailbox(claire, projets.id).await, Err(mailstore::Error::Conflict(_))));
    let mut events = f.ms.watch(claire);
    f.ms.delete_mailbox(claire, sub.id).await.unwrap();
    let event = events.recv().await.unwrap();
    assert!(matches!(event, MailEvent::Changed { account, mailbox, .. } if account == claire && mailbox == sub.id));
    assert_eq!(found().await, 0);
    assert_eq!(f.ms.usage(claire).await.unwrap().used_bytes, 0);
    assert!(f.ms.mailbox(claire, sub.id).await.unwrap().is_none());
}

/// Issue 20: an expunge keeps the message restorable (the collector leaves
/// its blob), a restore is heard and found by search again, a move keeps
/// nothing, and a purge hands the blob to the collector.
#[tokio::test]
async fn expunged_mail_is_restorable_until_purged() {
    let f = fixture().await;
    f.ms.enable_search_in_memory().unwrap();
    let claire = account(&f.store, "claire", None, AccountStatus::Active).await;
    let paul = account(&f.store, "paul", None, AccountStatus::Active).await;
    f.ms.deliver(MAIL, &[claire], 1_700_000_000).await.unwrap();
    let inbox = f.store.mailbox_by_name(claire, "INBOX").await.unwrap().unwrap();
    let found = || async { f.ms.search_text(claire, &Field::ALL, "mutations").await.unwrap().unwrap().unwrap().len() };
    assert_eq!(found().await, 1);

    assert_eq!(f.ms.expunge(claire, inbox.id, &[1]).await.unwrap(), vec![1]);
    assert_eq!(found().await, 0);
    assert_eq!(f.ms.collect_garbage(Duration::ZERO).await.unwrap().released_deleted, 0);
    assert_eq!(f.blobs.usage().await.unwrap().0, 1);
    let deleted = f.ms.deleted_messages(claire, None, 50).await.unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].subject, "Note de service n°12");

    assert!(f.ms.restore_deleted(paul, &[deleted[0].id]).await.unwrap().is_empty());
    let mut events = f.ms.watch(claire);
    let back = f.ms.restore_deleted(claire, &[deleted[0].id]).await.unwrap();
    assert_eq!((back[0].mailbox, back[0].uid), (inbox.id, 2));
    let event = events.recv().await.unwrap();
    assert!(matches!(event, MailEvent::Delivered { uid: 2, filed: true, .. }), "got {event:?}");
    assert_eq!(found().await, 1);

    // A move's source side is discarded, not kept.
    let projets = f.ms.create_mailbox(claire, "Projets", None).await.unwrap();
    f.ms.copy(claire, inbox.id, &[2], projets.id).await.unwrap();
    f.ms.discard(claire, inbox.id, &[2]).await.unwrap();
    assert_eq!(f.ms.deleted_count(claire).await.unwrap(), 0);

    f.ms.expunge(claire, projets.id, &[1]).await.unwrap();
    let now = deleted_now();
    assert_eq!(f.ms.purge_deleted(now - 3600).await.unwrap(), 0);
    assert_eq!(f.ms.purge_deleted(now + 10).await.unwrap(), 1);
    assert_eq!(f.ms.collect_garbage(Duration::ZERO).await.unwrap().released_deleted, 1);
    assert_eq!(f.blobs.usage().await.unwrap().0, 0);
}

fn deleted_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}
