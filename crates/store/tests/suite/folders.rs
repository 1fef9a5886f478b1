//! Mailbox lifecycle (subscribe, rename, delete) and copying messages.

use model::{Flag, SpecialUse};
use store::{ChangeKind, Error};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn copy_shares_the_blob_and_keeps_flags(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    let archive = store.mailbox_by_special_use(claire.id, SpecialUse::Archive).await.unwrap().unwrap();
    let first = store.deliver(&message(1, 100), &[target(&inbox)]).await.unwrap()[0].clone();
    store.deliver(&message(2, 50), &[target(&inbox)]).await.unwrap();
    store.set_flags(first.message, Flag::Seen.bit(), &["$Important".into()]).await.unwrap();

    let copied = store.copy_messages(inbox.id, &[2, 1, 99], archive.id).await.unwrap();
    assert_eq!(copied.iter().map(|c| (c.source_uid, c.uid)).collect::<Vec<_>>(), vec![(1, 1), (2, 2)]);
    let rows = store.messages(archive.id).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].flags, rows[0].keywords.clone()), (Flag::Seen.bit(), vec!["$Important".to_owned()]));
    assert_eq!(store.blob_meta(&blob(1)).await.unwrap().unwrap().refcount, 2);
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 300);
    let changes = store.changes_since(archive.id, 1).await.unwrap();
    assert!(changes.iter().all(|c| c.kind == ChangeKind::New) && changes.len() == 2);
    assert_eq!(store.mailbox(archive.id).await.unwrap().unwrap().uid_next, 3);

    // Expunging the original leaves the copy and its blob.
    store.expunge(inbox.id, &[1]).await.unwrap();
    assert_eq!(store.blob_meta(&blob(1)).await.unwrap().unwrap().refcount, 1);
    assert!(store.copy_messages(inbox.id, &[1], archive.id).await.unwrap().is_empty());
}

pub async fn rename_and_delete_mailboxes(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let projets = store.create_mailbox(claire.id, "Projets", None).await.unwrap();
    let sub = store.create_mailbox(claire.id, "Projets/2026", None).await.unwrap();
    store.deliver(&message(7, 70), &[target(&sub)]).await.unwrap();

    store.set_subscribed(sub.id, false).await.unwrap();
    assert!(!store.mailbox(sub.id).await.unwrap().unwrap().subscribed);

    let renamed = store.rename_mailbox(projets.id, "Anciens").await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.uid_validity), ("Anciens", projets.uid_validity));
    assert_eq!(store.mailbox(sub.id).await.unwrap().unwrap().name, "Anciens/2026");
    assert!(matches!(store.rename_mailbox(sub.id, "Nulle/part").await, Err(Error::Invalid(_))));
    assert!(matches!(store.rename_mailbox(sub.id, "Anciens").await, Err(Error::Conflict(_))));
    let inbox = inbox(store, &claire).await;
    assert!(store.rename_mailbox(inbox.id, "Autre").await.is_err());

    assert!(matches!(store.delete_mailbox(projets.id).await, Err(Error::Conflict(_))));
    store.delete_mailbox(sub.id).await.unwrap();
    assert!(store.mailbox(sub.id).await.unwrap().is_none());
    assert_eq!(store.blob_meta(&blob(7)).await.unwrap().unwrap().refcount, 0);
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 0);
    assert!(store.delete_mailbox(inbox.id).await.is_err());

    // A mailbox recreated at once under the same name gets a new UIDVALIDITY.
    store.delete_mailbox(projets.id).await.unwrap();
    let again = store.create_mailbox(claire.id, "Anciens", None).await.unwrap();
    assert!(again.uid_validity > projets.uid_validity, "{} <= {}", again.uid_validity, projets.uid_validity);
}

/// RFC 3501 section 2.3.2: a message "is considered recent in exactly one
/// session". Each UID is handed out by one claim only, new mail and copies
/// included; a mailbox with nothing new makes no write.
pub async fn recent_messages_are_claimed_once(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    let archive = store.mailbox_by_special_use(claire.id, SpecialUse::Archive).await.unwrap().unwrap();
    store.deliver(&message(1, 100), &[target(&inbox)]).await.unwrap();
    store.deliver(&message(2, 100), &[target(&inbox)]).await.unwrap();
    assert_eq!(store.unclaimed_recent(inbox.id).await.unwrap(), 1);
    assert_eq!(store.claim_recent(inbox.id).await.unwrap(), 1..3);
    assert!(store.claim_recent(inbox.id).await.unwrap().is_empty());
    store.deliver(&message(3, 100), &[target(&inbox)]).await.unwrap();
    assert_eq!(store.unclaimed_recent(inbox.id).await.unwrap(), 3);
    assert_eq!(store.claim_recent(inbox.id).await.unwrap(), 3..4);
    store.copy_messages(inbox.id, &[1, 2], archive.id).await.unwrap();
    assert_eq!(store.claim_recent(archive.id).await.unwrap(), 1..3);
    assert!(store.claim_recent(-1).await.is_err());
}
