//! The map of migrated messages (schema 19): rows per source folder and
//! UIDVALIDITY, a repeat replaces, accounts are apart.

use store::SourceFolder;

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
