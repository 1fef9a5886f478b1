//! Undelete (issue 20): deleted messages keep their blob reference, folder,
//! flags and dates until restored or purged.

use model::{Flag, SpecialUse};
use store::{ChangeKind, Deletion};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn deleted_messages_are_kept_and_restored(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = account(store, "paul.durand").await;
    let projets = store.create_mailbox(claire.id, "Projets", None).await.unwrap();
    let first = store.deliver(&message(1, 100), &[target(&projets)]).await.unwrap()[0].clone();
    store.deliver(&message(2, 50), &[target(&projets)]).await.unwrap();
    let bits = Flag::Seen.bit() | Flag::Deleted.bit();
    store.set_flags(first.message, bits, &["$Important".into()]).await.unwrap();

    assert_eq!(store.delete_messages(projets.id, &[1, 99], Deletion::Expunged).await.unwrap(), vec![1]);
    // Out of the folder and of the usage, but its content is still held.
    assert!(store.message_by_uid(projets.id, 1).await.unwrap().is_none());
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 50);
    assert_eq!(store.blob_meta(&blob(1)).await.unwrap().unwrap().refcount, 1);
    assert!(store.released_blobs(i64::MAX).await.unwrap().is_empty());
    assert!(store.held_blobs().await.unwrap().iter().any(|h| h.id == blob(1)));
    let changes = store.changes_since(projets.id, 1).await.unwrap();
    assert_eq!(changes.last().map(|c| (c.kind, c.uid)), Some((ChangeKind::Expunge, 1)));

    let deleted = store.deleted_messages(claire.id, None, 10).await.unwrap();
    assert_eq!(deleted.len(), 1);
    let d = &deleted[0];
    assert_eq!((d.mailbox_id, d.mailbox_name.as_str(), d.cause), (projets.id, "Projets", Deletion::Expunged));
    assert_eq!((d.flags, d.keywords.clone(), d.size), (bits, vec!["$Important".to_owned()], 100));
    assert_eq!((d.subject.as_str(), d.internal_date), ("Message 1", 1_767_225_700));
    assert_eq!(store.deleted_count(claire.id).await.unwrap(), 1);
    assert!(store.deleted_messages(paul.id, None, 10).await.unwrap().is_empty());
    assert!(store.deleted_messages(claire.id, Some(d.id), 10).await.unwrap().is_empty());

    // Another account cannot restore it.
    assert!(store.restore_deleted(paul.id, &[d.id]).await.unwrap().is_empty());
    let back = store.restore_deleted(claire.id, &[d.id, d.id + 1000]).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!((back[0].mailbox, back[0].uid, back[0].deleted), (projets.id, 3, d.id));
    let row = store.message_by_uid(projets.id, 3).await.unwrap().unwrap();
    // \Deleted is dropped, or the next EXPUNGE would take it again.
    assert_eq!((row.flags, row.keywords.clone()), (Flag::Seen.bit(), vec!["$Important".to_owned()]));
    assert_eq!((row.internal_date, row.blob_hash.clone(), row.id), (1_767_225_700, blob(1), back[0].message));
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 150);
    assert_eq!(store.blob_meta(&blob(1)).await.unwrap().unwrap().refcount, 1);
    let changes = store.changes_since(projets.id, 1).await.unwrap();
    assert_eq!(changes.last().map(|c| (c.kind, c.uid)), Some((ChangeKind::New, 3)));
    // Restored once only.
    assert!(store.restore_deleted(claire.id, &[d.id]).await.unwrap().is_empty());
    assert_eq!(store.deleted_count(claire.id).await.unwrap(), 0);
}

pub async fn moves_keep_nothing_and_purges_release(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    store.deliver(&message(1, 100), &[target(&inbox)]).await.unwrap();
    store.deliver(&message(2, 100), &[target(&inbox)]).await.unwrap();
    // The source side of a move (or an undone APPEND) leaves nothing.
    store.expunge(inbox.id, &[1]).await.unwrap();
    assert_eq!(store.deleted_count(claire.id).await.unwrap(), 0);
    assert_eq!(store.blob_meta(&blob(1)).await.unwrap().unwrap().refcount, 0);

    store.delete_messages(inbox.id, &[2], Deletion::Retention).await.unwrap();
    let d = store.deleted_messages(claire.id, None, 10).await.unwrap();
    assert_eq!(d[0].cause, Deletion::Retention);
    // Deleted after the cutoff: kept.
    assert_eq!(store.purge_deleted(d[0].deleted_at, 100).await.unwrap(), 0);
    assert_eq!(store.purge_deleted(d[0].deleted_at + 1, 100).await.unwrap(), 1);
    assert_eq!(store.deleted_count(claire.id).await.unwrap(), 0);
    let meta = store.blob_meta(&blob(2)).await.unwrap().unwrap();
    assert_eq!(meta.refcount, 0);
    assert!(store.released_blobs(i64::MAX).await.unwrap().contains(&blob(2)));
    assert!(store.restore_deleted(claire.id, &[d[0].id]).await.unwrap().is_empty());
}

pub async fn deleted_folders_are_restored_by_name_or_to_the_inbox(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    let sorties = store.create_mailbox(claire.id, "Sorties", None).await.unwrap();
    let voyages = store.create_mailbox(claire.id, "Voyages", None).await.unwrap();
    store.deliver(&message(1, 10), &[target(&sorties)]).await.unwrap();
    store.deliver(&message(2, 20), &[target(&voyages)]).await.unwrap();
    store.delete_mailbox(sorties.id).await.unwrap();
    store.delete_mailbox(voyages.id).await.unwrap();
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 0);
    let deleted = store.deleted_messages(claire.id, None, 10).await.unwrap();
    assert_eq!(deleted.len(), 2);
    assert!(deleted.iter().all(|d| d.cause == Deletion::Folder));
    assert_eq!(store.blob_meta(&blob(1)).await.unwrap().unwrap().refcount, 1);

    // « Voyages » made again: its message goes there; « Sorties » is gone: the Inbox.
    let again = store.create_mailbox(claire.id, "Voyages", None).await.unwrap();
    let ids: Vec<i64> = deleted.iter().map(|d| d.id).collect();
    let back = store.restore_deleted(claire.id, &ids).await.unwrap();
    let placed: Vec<(i64, i64)> = back.iter().map(|r| (r.mailbox, r.uid)).collect();
    let sorties_id = deleted.iter().find(|d| d.mailbox_name == "Sorties").unwrap().id;
    let first = if back[0].deleted == sorties_id {
        vec![(inbox.id, 1), (again.id, 1)]
    } else {
        vec![(again.id, 1), (inbox.id, 1)]
    };
    assert_eq!(placed, first);
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 30);
    assert!(store.mailbox_by_special_use(claire.id, SpecialUse::Inbox).await.unwrap().is_some());
}

pub async fn housekeeping_finds_aged_mail_and_moves_it_in_one_transaction(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = account(store, "paul.durand").await;
    let inbox = inbox(store, &claire).await;
    let trash = store.mailbox_by_special_use(claire.id, SpecialUse::Trash).await.unwrap().unwrap();
    let paul_trash = store.mailbox_by_special_use(paul.id, SpecialUse::Trash).await.unwrap().unwrap();
    store.deliver(&message(1, 10), &[target(&trash)]).await.unwrap();
    store.deliver(&message(2, 10), &[target(&paul_trash)]).await.unwrap();
    store.deliver(&message(3, 10), &[target(&inbox)]).await.unwrap();
    let saved = store.message_by_uid(trash.id, 1).await.unwrap().unwrap().saved_date;
    // By the date filed in the folder, every account's, never another folder.
    assert!(store.aged_in_special(SpecialUse::Trash, saved, 10).await.unwrap().is_empty());
    let aged = store.aged_in_special(SpecialUse::Trash, saved + 1, 10).await.unwrap();
    assert_eq!(aged.iter().map(|a| a.mailbox).collect::<Vec<_>>(), vec![trash.id, paul_trash.id]);
    assert_eq!(store.aged_in_special(SpecialUse::Trash, saved + 1, 1).await.unwrap().len(), 1);
    assert_eq!(store.older_than(inbox.id, 1_767_225_701, 10).await.unwrap()[0].uid, 1);
    assert!(store.older_than(inbox.id, 1_767_225_700, 10).await.unwrap().is_empty());

    // Archiving: the account's choice, else the default.
    assert!(store.archiving_accounts(0).await.unwrap().is_empty());
    store.set_archive_days(claire.id, Some(365)).await.unwrap();
    store.set_archive_days(paul.id, Some(0)).await.unwrap();
    assert_eq!(store.archive_days(claire.id).await.unwrap(), Some(365));
    assert_eq!(store.archiving_accounts(0).await.unwrap(), vec![(claire.id, 365)]);
    store.set_archive_days(paul.id, None).await.unwrap();
    assert_eq!(store.archiving_accounts(90).await.unwrap(), vec![(claire.id, 365), (paul.id, 90)]);
    assert!(store.set_archive_days(paul.id, Some(-1)).await.is_err());

    let year = store.create_mailbox(claire.id, "Archives/2026", None).await.unwrap();
    let moved = store.move_messages(inbox.id, &[1, 7], year.id, store::Urgency::Bulk).await.unwrap();
    assert_eq!(moved.iter().map(|c| (c.source_uid, c.uid)).collect::<Vec<_>>(), vec![(1, 1)]);
    assert!(store.message_by_uid(inbox.id, 1).await.unwrap().is_none());
    let row = store.message_by_uid(year.id, 1).await.unwrap().unwrap();
    assert_eq!((row.blob_hash, row.internal_date), (blob(3), 1_767_225_700));
    assert_eq!(store.blob_meta(&blob(3)).await.unwrap().unwrap().refcount, 1);
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 20);
    let last = store.changes_since(inbox.id, 1).await.unwrap().last().cloned().unwrap();
    assert_eq!((last.kind, last.uid), (ChangeKind::Expunge, 1));
    // Again: nothing left to move, nothing duplicated.
    assert!(store.move_messages(inbox.id, &[1], year.id, store::Urgency::Interactive).await.unwrap().is_empty());
    assert_eq!(store.messages(year.id).await.unwrap().len(), 1);
    assert_eq!(store.deleted_count(claire.id).await.unwrap(), 0);
}

pub async fn quota_warnings_are_claimed_once(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = account(store, "paul.durand").await;
    store.set_quota(claire.id, Some(100)).await.unwrap();
    store.set_quota(paul.id, Some(100)).await.unwrap();
    let inbox = inbox(store, &claire).await;
    store.deliver(&message(1, 85), &[target(&inbox)]).await.unwrap();
    let states = store.quota_states(78).await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!((states[0].account, states[0].used_bytes, states[0].warned), (claire.id, 85, 0));
    assert!(store.set_quota_warned(claire.id, 0, 80).await.unwrap());
    // A second node with the same view loses.
    assert!(!store.set_quota_warned(claire.id, 0, 80).await.unwrap());
    store.expunge(inbox.id, &[1]).await.unwrap();
    // Still listed below the threshold while warned, so that the level comes down.
    assert_eq!(store.quota_states(78).await.unwrap()[0].warned, 80);
}
