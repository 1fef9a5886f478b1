//! The map of migrated messages (schema 19): rows per source folder and
//! UIDVALIDITY, a repeat replaces, accounts are apart.

use store::{SourceFolder, Target};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn migrated_messages_are_mapped_per_source_folder(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    let inbox = store.mailbox_by_name(claire.id, "INBOX").await.unwrap().unwrap();
    let at = SourceFolder { account: claire.id, source: "imap.example.org/claire", folder: "INBOX", uid_validity: 7 };
    assert!(store.migrated_messages(at).await.unwrap().is_empty());
    store.record_migrated(at, 3, inbox.id, 1).await.unwrap();
    store.record_migrated(at, 1, inbox.id, 2).await.unwrap();
    store.record_migrated(at, 3, inbox.id, 5).await.unwrap();
    let rows = store.migrated_messages(at).await.unwrap();
    assert_eq!(rows.iter().map(|r| (r.uid, r.target_uid)).collect::<Vec<_>>(), [(1, 2), (3, 5)]);
    let other_validity = SourceFolder { uid_validity: 8, ..at };
    assert!(store.migrated_messages(other_validity).await.unwrap().is_empty());
    let other_account = SourceFolder { account: paul.id, ..at };
    assert!(store.migrated_messages(other_account).await.unwrap().is_empty());
}

/// A migration's group: every message filed in order with consecutive UIDs,
/// a reply joining the thread of a message earlier in the same group, and
/// the map rows written in the same transaction.
pub async fn a_migrated_group_is_filed_and_mapped_in_one_transaction(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    let at = SourceFolder { account: claire.id, source: "imap.example.org/claire", folder: "INBOX", uid_validity: 7 };
    let seen = Target { flags: model::Flag::Seen.bit(), ..target(&inbox) };
    let group = vec![
        (40, message(1, 100), target(&inbox)),
        (41, reply(2, "<r2@ac-demo.fr>", &["<m1@ac-demo.fr>"]), seen),
        (45, message(3, 300), target(&inbox)),
    ];
    let filed = store.deliver_migrated(at, &group).await.unwrap();
    assert_eq!(filed.iter().map(|d| d.uid).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(filed[1].thread_id, filed[0].thread_id, "the reply joins the thread started in the same group");
    let rows = store.messages(inbox.id).await.unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1].flags, model::Flag::Seen.bit());
    let map = store.migrated_messages(at).await.unwrap();
    assert_eq!(map.iter().map(|r| (r.uid, r.target_uid)).collect::<Vec<_>>(), [(40, 1), (41, 2), (45, 3)]);
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 100 + 100 + 300);
}

/// One bad message in a group files none of it and maps none of it.
pub async fn a_migrated_group_with_one_bad_message_files_nothing(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    let inbox = inbox(store, &claire).await;
    let pauls = store.mailbox_by_name(paul.id, "INBOX").await.unwrap().unwrap();
    let at = SourceFolder { account: claire.id, source: "imap.example.org/claire", folder: "INBOX", uid_validity: 7 };
    // The second message names Paul's Inbox for Claire's account.
    let wrong = Target { account: claire.id, ..target(&pauls) };
    let group =
        vec![(1, message(1, 100), target(&inbox)), (2, message(2, 100), wrong), (3, message(3, 100), target(&inbox))];
    assert!(store.deliver_migrated(at, &group).await.is_err());
    assert!(store.messages(inbox.id).await.unwrap().is_empty());
    assert!(store.migrated_messages(at).await.unwrap().is_empty());
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 0);
    let again = store.deliver_migrated(at, &[(1, message(1, 100), target(&inbox))]).await.unwrap();
    assert_eq!(again[0].uid, 1, "the failed group took no UID");
}
