//! Mailbox lifecycle (placeholders, subscriptions, rename, delete) and copying messages.

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

    let renamed = store.rename_mailbox(projets.id, "Anciens").await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.uid_validity), ("Anciens", projets.uid_validity));
    assert_eq!(store.mailbox(sub.id).await.unwrap().unwrap().name, "Anciens/2026");
    assert!(matches!(store.rename_mailbox(sub.id, "Anciens").await, Err(Error::Conflict(_))));
    assert!(matches!(store.rename_mailbox(projets.id, "Anciens/2026/x").await, Err(Error::Invalid(_))));
    let inbox = inbox(store, &claire).await;
    assert!(store.rename_mailbox(inbox.id, "Autre").await.is_err());

    assert!(matches!(store.delete_mailbox(projets.id).await, Err(Error::Conflict(_))));
    store.delete_mailbox(sub.id).await.unwrap();
    assert!(store.mailbox(sub.id).await.unwrap().is_none());
    // Its message is kept for undelete (deleted.rs): the blob is still held.
    assert_eq!(store.blob_meta(&blob(7)).await.unwrap().unwrap().refcount, 1);
    assert_eq!(store.deleted_count(claire.id).await.unwrap(), 1);
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 0);
    assert!(store.delete_mailbox(inbox.id).await.is_err());
    // A real mailbox stays when its last child goes.
    assert!(!store.mailbox(projets.id).await.unwrap().unwrap().placeholder);

    // A mailbox recreated at once under the same name gets a new UIDVALIDITY.
    store.delete_mailbox(projets.id).await.unwrap();
    let again = store.create_mailbox(claire.id, "Anciens", None).await.unwrap();
    assert!(again.uid_validity > projets.uid_validity, "{} <= {}", again.uid_validity, projets.uid_validity);
}

/// Issue 26 item 18: creating `Élèves/3e B` makes `Élèves` a placeholder
/// (no messages, IMAP `\Noselect`) until it is created by name or mail is
/// filed in it; a placeholder left without children goes.
pub async fn implied_parents_are_placeholders(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let class = store.create_mailbox(claire.id, "Élèves/3e B/Sorties", None).await.unwrap();
    assert!(!class.placeholder);
    let parent = store.mailbox_by_name(claire.id, "Élèves").await.unwrap().unwrap();
    let middle = store.mailbox_by_name(claire.id, "Élèves/3e B").await.unwrap().unwrap();
    assert!(parent.placeholder && middle.placeholder);
    assert_eq!((class.parent_id, middle.parent_id), (Some(middle.id), Some(parent.id)));

    // Creating the name makes it real, keeping its id; creating it again is a conflict.
    let made = store.create_mailbox(claire.id, "Élèves/3e B", None).await.unwrap();
    assert_eq!((made.id, made.placeholder), (middle.id, false));
    assert!(matches!(store.create_mailbox(claire.id, "Élèves/3e B", None).await, Err(Error::Conflict(_))));

    // Deleting the last child prunes the placeholder chain up to a real mailbox.
    store.delete_mailbox(class.id).await.unwrap();
    assert!(store.mailbox(middle.id).await.unwrap().is_some(), "a real parent stays");
    store.delete_mailbox(middle.id).await.unwrap();
    assert!(store.mailbox(parent.id).await.unwrap().is_none(), "the childless placeholder went");

    // Renaming makes missing parents as placeholders and prunes the old ones.
    let deep = store.create_mailbox(claire.id, "A/B", None).await.unwrap();
    let a = store.mailbox_by_name(claire.id, "A").await.unwrap().unwrap();
    let moved = store.rename_mailbox(deep.id, "C/D").await.unwrap();
    let c = store.mailbox_by_name(claire.id, "C").await.unwrap().unwrap();
    assert!(c.placeholder && moved.parent_id == Some(c.id));
    assert!(store.mailbox(a.id).await.unwrap().is_none());

    // Mail filed into a placeholder (here a copy) makes it a real mailbox.
    let inbox = inbox(store, &claire).await;
    store.deliver(&message(3, 30), &[target(&inbox)]).await.unwrap();
    assert_eq!(store.copy_messages(inbox.id, &[1], c.id).await.unwrap().len(), 1);
    assert!(!store.mailbox(c.id).await.unwrap().unwrap().placeholder);
    // A delivery does too.
    store.create_mailbox(claire.id, "E/F", None).await.unwrap();
    let e = store.mailbox_by_name(claire.id, "E").await.unwrap().unwrap();
    store.deliver(&message(4, 30), &[target(&e)]).await.unwrap();
    assert!(!store.mailbox(e.id).await.unwrap().unwrap().placeholder);
}

/// RFC 9051 section 6.3.7: subscriptions are a set of names. CREATE does
/// not subscribe (the webmail's creation does), DELETE does not
/// unsubscribe, UNSUBSCRIBE sticks whether or not the mailbox exists, and a
/// rename carries the subscriptions below it along.
pub async fn subscriptions_are_a_set_of_names(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let defaults: Vec<String> = SpecialUse::ALL.iter().map(|s| s.default_name().to_owned()).collect();
    let mut sorted_defaults = defaults.clone();
    sorted_defaults.sort();
    assert_eq!(store.subscriptions(claire.id).await.unwrap(), sorted_defaults, "default folders are subscribed");

    let projets = store.create_mailbox(claire.id, "Projets", None).await.unwrap();
    store.create_mailbox(claire.id, "Projets/2026", None).await.unwrap();
    store.create_subscribed_mailbox(claire.id, "Webmail", None).await.unwrap();
    let subs = store.subscriptions(claire.id).await.unwrap();
    assert!(!subs.iter().any(|s| s.starts_with("Projets")) && subs.contains(&"Webmail".to_owned()));

    store.subscribe(claire.id, "Projets/2026").await.unwrap();
    store.subscribe(claire.id, "Projets/2026").await.unwrap();
    store.subscribe(claire.id, "inbox").await.unwrap();
    let renamed = store.rename_mailbox(projets.id, "Anciens").await.unwrap();
    let subs = store.subscriptions(claire.id).await.unwrap();
    assert!(subs.contains(&"Anciens/2026".to_owned()) && !subs.iter().any(|s| s.starts_with("Projets")));
    assert_eq!(subs.iter().filter(|s| *s == "INBOX").count(), 1, "INBOX is spelt once");

    let sub = store.mailbox_by_name(claire.id, "Anciens/2026").await.unwrap().unwrap();
    store.delete_mailbox(sub.id).await.unwrap();
    assert!(store.subscriptions(claire.id).await.unwrap().contains(&"Anciens/2026".to_owned()), "kept after DELETE");
    assert!(store.unsubscribe(claire.id, "Anciens/2026").await.unwrap());
    assert!(!store.unsubscribe(claire.id, "Anciens/2026").await.unwrap());
    assert!(!store.subscriptions(claire.id).await.unwrap().contains(&"Anciens/2026".to_owned()));
    assert!(matches!(store.subscribe(claire.id, "a//b").await, Err(Error::Invalid(_))));
    // Another account's list is its own.
    let paul = account(store, "paul.durand").await;
    assert!(!store.subscriptions(paul.id).await.unwrap().contains(&"Webmail".to_owned()));
    let _ = renamed;
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
