//! Flags, the change log, expunge and the release of blobs.

use model::{Flag, SpecialUse};
use store::{ChangeKind, Error, FlagOp, FlagOutcome};

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

/// Many tasks write at once (flag updates, deliveries, single-statement
/// writes) while others read: every write commits, none is lost, and modseqs
/// stay dense. On SQLite the writers queue on the store's in-process write
/// lock; on PostgreSQL they wait for row locks.
pub async fn concurrent_writers_all_commit(ctx: Ctx) {
    const TASKS: u64 = 50;
    const UPDATES: u64 = 20;
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    let mut ids = Vec::new();
    for n in 0..TASKS {
        ids.push(store.deliver(&message(n, 10), &[target(&inbox)]).await.unwrap()[0].message);
    }
    let start = store.mailbox(inbox.id).await.unwrap().unwrap().highest_modseq;
    let account = claire.id;

    let mut tasks = tokio::task::JoinSet::new();
    for (t, id) in ids.iter().copied().enumerate() {
        let store = store.clone();
        tasks.spawn(async move {
            for i in 0..UPDATES {
                let flags = if (t as u64 + i).is_multiple_of(2) { Flag::Seen.bit() } else { Flag::Flagged.bit() };
                store.set_flags(id, flags, &[format!("k{t}x{i}")]).await?;
                if i.is_multiple_of(5) {
                    // A single-statement write takes the same path.
                    if i.is_multiple_of(10) {
                        store.subscribe(account, "INBOX").await?;
                    } else {
                        store.unsubscribe(account, "INBOX").await?;
                    }
                }
            }
            Ok::<_, Error>(())
        });
    }
    // Deliveries to the same mailbox at the same time.
    for n in 0..5u64 {
        let store = store.clone();
        let inbox = inbox.clone();
        tasks.spawn(async move { store.deliver(&message(1000 + n, 10), &[target(&inbox)]).await.map(|_| ()) });
    }
    // Readers keep reading throughout.
    for _ in 0..4 {
        let store = store.clone();
        let mailbox = inbox.id;
        tasks.spawn(async move {
            for _ in 0..50 {
                store.messages(mailbox).await?;
            }
            Ok(())
        });
    }
    for result in tasks.join_all().await {
        if let Err(e) = result {
            panic!("a concurrent write failed: {e:?}");
        }
    }

    let m = store.mailbox(inbox.id).await.unwrap().unwrap();
    assert_eq!(m.highest_modseq, start + (TASKS * UPDATES) as i64 + 5);
    let rows = store.messages(inbox.id).await.unwrap();
    assert_eq!(rows.len(), TASKS as usize + 5);
    for (t, id) in ids.iter().enumerate() {
        let row = rows.iter().find(|r| r.id == *id).unwrap();
        let last = UPDATES - 1;
        let flags = if (t as u64 + last).is_multiple_of(2) { Flag::Seen.bit() } else { Flag::Flagged.bit() };
        assert_eq!((row.flags, row.keywords.clone()), (flags, vec![format!("k{t}x{last}")]), "message {t}");
    }
    let changes = store.changes_since(inbox.id, start).await.unwrap();
    assert_eq!(changes.iter().filter(|c| c.kind == ChangeKind::Flags).count(), (TASKS * UPDATES) as usize);
    let mut modseqs: Vec<i64> = changes.iter().map(|c| c.modseq).collect();
    modseqs.sort_unstable();
    modseqs.dedup();
    assert_eq!(modseqs, ((start + 1)..=m.highest_modseq).collect::<Vec<_>>());
}

/// Sessions adding and removing different flags on the same messages at the
/// same time never undo one another: each update reads the current flags
/// under the write lock (a read-modify-write across two transactions lost
/// `\Deleted` under load).
pub async fn concurrent_flag_updates_are_not_lost(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    for n in 0..4 {
        store.deliver(&message(n, 10), &[target(&inbox)]).await.unwrap();
    }
    let start = store.mailbox(inbox.id).await.unwrap().unwrap().highest_modseq;
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..20usize {
        let store = store.clone();
        let mailbox = inbox.id;
        tasks.spawn(async move {
            for _ in 0..5 {
                // Each task adds and removes a keyword of its own; task 0 also adds \Deleted.
                let flags = if t == 0 { Flag::Deleted.bit() } else { 0 };
                let mine = vec![format!("$T{t}")];
                store.update_flags(mailbox, &[1, 2, 3, 4], FlagOp::Add, flags, &mine, None).await?;
                store.update_flags(mailbox, &[1, 2, 3, 4, 99], FlagOp::Remove, 0, &mine, None).await?;
                store.update_flags(mailbox, &[1, 2, 3, 4], FlagOp::Add, 0, &mine, None).await?;
            }
            Ok::<_, Error>(())
        });
    }
    for result in tasks.join_all().await {
        result.unwrap();
    }
    let mut want: Vec<String> = (0..20).map(|t| format!("$T{t}")).collect();
    want.sort();
    for row in store.messages(inbox.id).await.unwrap() {
        assert_eq!(row.flags, Flag::Deleted.bit(), "uid {}", row.uid);
        assert_eq!(row.keywords, want, "uid {}", row.uid);
    }
    let changes = store.changes_since(inbox.id, start).await.unwrap();
    let top = store.mailbox(inbox.id).await.unwrap().unwrap().highest_modseq;
    assert_eq!(changes.len() as i64, top - start);

    // Outcomes: missing UIDs, no-ops, CONDSTORE conflicts.
    let out = store.update_flags(inbox.id, &[2, 1, 99], FlagOp::Add, Flag::Deleted.bit(), &[], None).await.unwrap();
    assert!(matches!(out[0], FlagOutcome::Unchanged { uid: 1, .. }), "{out:?}");
    assert_eq!(out[2], FlagOutcome::Missing { uid: 99 });
    let out = store.update_flags(inbox.id, &[1], FlagOp::Replace, Flag::Seen.bit(), &[], Some(start)).await.unwrap();
    assert_eq!(out, [FlagOutcome::Modified { uid: 1 }]);
    let out = store.update_flags(inbox.id, &[1], FlagOp::Replace, Flag::Seen.bit(), &[], Some(top)).await.unwrap();
    assert_eq!(out, [FlagOutcome::Changed { uid: 1, flags: Flag::Seen.bit(), keywords: vec![], modseq: top + 1 }]);
}
