//! Flags, the change log, expunge and the release of blobs.

use model::{Flag, SpecialUse};
use store::{ChangeKind, Error};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn set_flags_bumps_modseq(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    let d = store.deliver(&message(1, 10), &[target(&inbox)]).await.unwrap()[0].clone();
    let seen = Flag::Seen.bit() | Flag::Answered.bit();
    let modseq = store.set_flags(d.message, seen, &["$Forwarded".into()]).await.unwrap();
    assert_eq!(modseq, d.modseq + 1);
    let row = store.message(d.message).await.unwrap().unwrap();
    assert_eq!((row.flags, row.modseq), (seen, modseq));
    assert_eq!(row.keywords, ["$Forwarded"]);
    assert_eq!(store.mailbox(inbox.id).await.unwrap().unwrap().highest_modseq, modseq);

    let changes = store.changes_since(inbox.id, d.modseq).await.unwrap();
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!(
        (c.kind, c.uid, c.modseq, c.message_id, c.account_id),
        (ChangeKind::Flags, 1, modseq, Some(d.message), claire.id)
    );

    let cleared = store.set_flags(d.message, 0, &[]).await.unwrap();
    assert_eq!(cleared, modseq + 1);
    assert!(store.message(d.message).await.unwrap().unwrap().keywords.is_empty());
    assert!(matches!(store.set_flags(d.message, 1 << 40, &[]).await, Err(Error::Invalid(_))));
    assert!(matches!(store.set_flags(d.message, 0, &["(bad".into()]).await, Err(Error::Invalid(_))));
    assert!(matches!(store.set_flags(999_999, 0, &[]).await, Err(Error::NotFound("message"))));
    // Failed attempts do not consume modseqs.
    assert_eq!(store.mailbox(inbox.id).await.unwrap().unwrap().highest_modseq, cleared);
}

pub async fn changes_since_reports_in_order(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    let sent = store.mailbox_by_special_use(claire.id, SpecialUse::Sent).await.unwrap().unwrap();
    let a = store.deliver(&message(1, 10), &[target(&inbox)]).await.unwrap()[0].clone();
    let b = store.deliver(&message(2, 10), &[target(&inbox), target(&sent)]).await.unwrap();
    store.set_flags(a.message, Flag::Seen.bit(), &[]).await.unwrap();
    store.expunge(inbox.id, &[b[0].uid]).await.unwrap();

    let all = store.changes_since(inbox.id, 0).await.unwrap();
    let kinds: Vec<(ChangeKind, i64, i64)> = all.iter().map(|c| (c.kind, c.uid, c.modseq)).collect();
    assert_eq!(
        kinds,
        [
            (ChangeKind::Mailbox, 0, 1),
            (ChangeKind::New, 1, 2),
            (ChangeKind::New, 2, 3),
            (ChangeKind::Flags, 1, 4),
            (ChangeKind::Expunge, 2, 5),
        ]
    );
    let later: Vec<i64> = store.changes_since(inbox.id, 3).await.unwrap().iter().map(|c| c.modseq).collect();
    assert_eq!(later, [4, 5]);
    assert!(store.changes_since(inbox.id, 5).await.unwrap().is_empty());
    // The Sent copy is logged in its own mailbox only.
    let sent_log = store.changes_since(sent.id, 1).await.unwrap();
    assert_eq!(sent_log.iter().map(|c| (c.kind, c.uid)).collect::<Vec<_>>(), [(ChangeKind::New, 1)]);

    // Account-wide, ids increase in commit order.
    let log = store.account_changes_since(claire.id, 0).await.unwrap();
    assert!(log.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(log.len(), 6 + 4 + 1);
    let after = log[7].id;
    assert_eq!(store.account_changes_since(claire.id, after).await.unwrap(), log[8..].to_vec());
}

pub async fn expunge_releases_references(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = account(store, "paul.durand").await;
    let ci = inbox(store, &claire).await;
    let pi = inbox(store, &paul).await;
    let msg = message(1, 1000);
    let d = store.deliver(&msg, &[target(&ci), target(&pi)]).await.unwrap();
    store.deliver(&message(2, 50), &[target(&ci)]).await.unwrap();

    assert_eq!(store.expunge(ci.id, &[d[0].uid, 77, d[0].uid]).await.unwrap(), [d[0].uid]);
    let blob_row = store.blob_meta(&msg.blob).await.unwrap().unwrap();
    assert_eq!((blob_row.refcount, blob_row.released_at), (1, None));
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 50);
    assert_eq!(store.account(paul.id).await.unwrap().unwrap().used_bytes, 1000);
    assert!(store.message_by_uid(ci.id, d[0].uid).await.unwrap().is_none());
    let m = store.mailbox(ci.id).await.unwrap().unwrap();
    assert_eq!((m.uid_next, m.highest_modseq), (3, 4), "UIDs are never reused; the expunge took a modseq");
    let log = store.changes_since(ci.id, 3).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].kind, log[0].uid, log[0].modseq, log[0].message_id),
        (ChangeKind::Expunge, 1, 4, Some(d[0].message))
    );

    // Expunging again, or nothing, changes nothing.
    assert!(store.expunge(ci.id, &[d[0].uid]).await.unwrap().is_empty());
    assert!(store.expunge(ci.id, &[]).await.unwrap().is_empty());
    assert_eq!(store.mailbox(ci.id).await.unwrap().unwrap().highest_modseq, 4);
    assert!(matches!(store.expunge(999_999, &[1]).await, Err(Error::NotFound("mailbox"))));

    // Several at once get one modseq each.
    store.deliver(&message(3, 5), &[target(&ci)]).await.unwrap();
    assert_eq!(store.expunge(ci.id, &[3, 2]).await.unwrap(), [2, 3]);
    let mods: Vec<(i64, i64)> =
        store.changes_since(ci.id, 5).await.unwrap().iter().map(|c| (c.uid, c.modseq)).collect();
    assert_eq!(mods, [(2, 6), (3, 7)]);
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 0);
}

pub async fn released_blobs_after_all_copies_expunged(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = account(store, "paul.durand").await;
    let ci = inbox(store, &claire).await;
    let pi = inbox(store, &paul).await;
    let msg = message(1, 10);
    store.deliver(&msg, &[target(&ci), target(&pi)]).await.unwrap();
    store.deliver(&message(2, 10), &[target(&ci)]).await.unwrap();
    let far_future = i64::MAX / 2;
    assert!(store.released_blobs(far_future).await.unwrap().is_empty());

    store.expunge(ci.id, &[1]).await.unwrap();
    assert!(store.released_blobs(far_future).await.unwrap().is_empty());
    store.expunge(pi.id, &[1]).await.unwrap();
    let row = store.blob_meta(&msg.blob).await.unwrap().unwrap();
    assert_eq!(row.refcount, 0);
    let released_at = row.released_at.expect("released when the last copy went");
    assert_eq!(store.released_blobs(far_future).await.unwrap(), std::slice::from_ref(&msg.blob));
    assert!(store.released_blobs(released_at - 1).await.unwrap().is_empty(), "grace period");

    // A new delivery of the same content takes the blob back.
    store.deliver(&msg, &[target(&pi)]).await.unwrap();
    let row = store.blob_meta(&msg.blob).await.unwrap().unwrap();
    assert_eq!((row.refcount, row.released_at), (1, None));
    assert!(!store.forget_blob(&msg.blob).await.unwrap(), "a referenced blob is kept");
    store.expunge(pi.id, &[2]).await.unwrap();

    assert_eq!(store.blob_count().await.unwrap(), 2);
    assert!(store.forget_blob(&msg.blob).await.unwrap());
    assert!(!store.forget_blob(&msg.blob).await.unwrap());
    assert!(!store.blob_known(&msg.blob).await.unwrap());
    assert!(store.blob_known(&blob(2)).await.unwrap());
    assert_eq!(store.blob_count().await.unwrap(), 1);
}
