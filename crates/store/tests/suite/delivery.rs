//! Delivery, threading, persistence of counters and concurrency.

use std::time::Instant;

use model::Flag;
use store::{Account, ChangeKind, Error, Mailbox, NewMessage, Store, Target, Urgency};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn deliver_to_one(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    let mut t = target(&inbox);
    t.flags = Flag::Seen.bit() | Flag::Flagged.bit();
    t.keywords = vec!["$Important".into(), "$Forwarded".into()];
    let msg = message(1, 1234);
    let out = store.deliver(&msg, &[t]).await.unwrap();
    assert_eq!(out.len(), 1);
    let d = &out[0];
    assert_eq!((d.account, d.mailbox, d.uid, d.modseq), (claire.id, inbox.id, 1, 2));
    assert_eq!(d.thread_id, d.message, "a message without relatives starts its own thread");

    let row = store.message_by_uid(inbox.id, 1).await.unwrap().unwrap();
    assert_eq!(row.id, d.message);
    assert_eq!((row.flags, row.size, row.modseq), (Flag::Seen.bit() | Flag::Flagged.bit(), 1234, 2));
    assert_eq!(row.keywords, ["$Forwarded", "$Important"]);
    assert_eq!(row.blob_hash, msg.blob);
    assert_eq!(row.msgid_header.as_deref(), Some("m1@ac-demo.fr"));
    assert_eq!(row.internal_date, msg.internal_date);
    assert!(row.saved_date >= 1_700_000_000);
    assert_eq!(store.message(d.message).await.unwrap().unwrap(), row);

    let blob = store.blob_meta(&msg.blob).await.unwrap().unwrap();
    assert_eq!((blob.refcount, blob.size, blob.released_at), (1, 1234, None));
    assert_eq!((blob.subject.as_str(), blob.has_attachment), ("Message 1", false));
    assert_eq!(blob.meta_json, msg.meta_json);
    assert_eq!(blob.sent_date, msg.sent_date);

    let mailbox = store.mailbox(inbox.id).await.unwrap().unwrap();
    assert_eq!((mailbox.uid_next, mailbox.highest_modseq), (2, 2));
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 1234);

    let second = store.deliver(&message(2, 10), &[target(&inbox)]).await.unwrap();
    assert_eq!((second[0].uid, second[0].modseq), (2, 3));
    let uids: Vec<i64> = store.messages(inbox.id).await.unwrap().iter().map(|m| m.uid).collect();
    assert_eq!(uids, [1, 2]);
    let news: Vec<_> = store.changes_since(inbox.id, 1).await.unwrap();
    assert_eq!(
        news.iter().map(|c| (c.kind, c.uid, c.modseq)).collect::<Vec<_>>(),
        [(ChangeKind::New, 1, 2), (ChangeKind::New, 2, 3)]
    );
    assert_eq!(news[0].message_id, Some(d.message));
}

/// Creates `n` accounts, several at a time.
async fn many_accounts(store: &Store, n: usize) -> Vec<Account> {
    store.add_domain(&domain()).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let store = store.clone();
        tasks.spawn(async move {
            let mut made = Vec::new();
            for i in (worker..n).step_by(8) {
                made.push(store.create_account(&new_account(&format!("agent.{i:05}"))).await.unwrap());
            }
            made
        });
    }
    let mut all: Vec<Account> = tasks.join_all().await.into_iter().flatten().collect();
    all.sort_by_key(|a| a.id);
    all
}

pub async fn deliver_to_two_thousand(ctx: Ctx) {
    let store = &ctx.store;
    let accounts = many_accounts(store, 2000).await;
    let mut inboxes: Vec<Mailbox> = Vec::new();
    for a in &accounts {
        inboxes.push(inbox(store, a).await);
    }
    let targets: Vec<Target> = inboxes.iter().map(target).collect();

    let started = Instant::now();
    let first = store.deliver(&message(7, 5000), &targets).await.unwrap();
    let took = started.elapsed();
    eprintln!("delivery to {} mailboxes took {took:?} on {:?}", targets.len(), store.backend());
    let second = store.deliver(&message(8, 300), &targets).await.unwrap();

    assert_eq!(first.len(), 2000);
    assert_eq!(store.blob_count().await.unwrap(), 2);
    assert_eq!(store.blob_meta(&blob(7)).await.unwrap().unwrap().refcount, 2000);
    assert_eq!(store.blob_meta(&blob(8)).await.unwrap().unwrap().refcount, 2000);
    for ((a, b), inbox) in first.iter().zip(&second).zip(&inboxes) {
        assert_eq!(a.mailbox, inbox.id, "results follow the order of the targets");
        assert_eq!((a.uid, a.modseq, b.uid, b.modseq), (1, 2, 2, 3));
        assert_eq!(a.thread_id, a.message);
    }
    let mut ids: Vec<i64> = first.iter().chain(&second).map(|d| d.message).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4000, "every copy has its own message id");

    for i in [0, 999, 1999] {
        let m = store.mailbox(inboxes[i].id).await.unwrap().unwrap();
        assert_eq!((m.uid_next, m.highest_modseq), (3, 3));
        let uids: Vec<i64> = store.messages(m.id).await.unwrap().iter().map(|r| r.uid).collect();
        assert_eq!(uids, [1, 2]);
        assert_eq!(store.account(accounts[i].id).await.unwrap().unwrap().used_bytes, 5300);
    }
    // Several copies into one mailbox take consecutive UIDs and modseqs.
    let same = vec![target(&inboxes[0]), target(&inboxes[1]), target(&inboxes[0])];
    let out = store.deliver(&message(9, 1), &same).await.unwrap();
    assert_eq!(out.iter().map(|d| (d.uid, d.modseq)).collect::<Vec<_>>(), [(3, 4), (3, 4), (4, 5)]);
    assert_eq!(out[0].thread_id, out[2].thread_id, "copies in one account share a thread");
}

pub async fn deliver_is_all_or_nothing(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = account(store, "paul.durand").await;
    let claire_inbox = inbox(store, &claire).await;
    let paul_inbox = inbox(store, &paul).await;
    let mut wrong = target(&paul_inbox);
    wrong.account = claire.id;
    let err = store.deliver(&message(1, 10), &[target(&claire_inbox), wrong]).await.unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    let mut missing = target(&claire_inbox);
    missing.mailbox = 999_999;
    let err = store.deliver(&message(1, 10), &[target(&claire_inbox), missing]).await.unwrap_err();
    assert!(matches!(err, Error::NotFound("mailbox")), "{err:?}");
    let mut bad_keyword = target(&claire_inbox);
    bad_keyword.keywords = vec!["two words".into()];
    assert!(matches!(store.deliver(&message(1, 10), &[bad_keyword]).await, Err(Error::Invalid(_))));
    assert!(matches!(store.deliver(&message(1, 10), &[]).await, Err(Error::Invalid(_))));

    // Nothing of the failed deliveries remains.
    let m = store.mailbox(claire_inbox.id).await.unwrap().unwrap();
    assert_eq!((m.uid_next, m.highest_modseq), (1, 1));
    assert!(!store.blob_known(&blob(1)).await.unwrap());
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 0);
    assert!(store.messages(claire_inbox.id).await.unwrap().is_empty());
}

/// A delivery whose blob write fails commits nothing: the transaction waits
/// for the blob before it commits, and its failure rolls everything back.
pub async fn delivery_waits_for_its_blob(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    let failed = async { Err(std::io::Error::other("disk full")) };
    let err = store.deliver_once(&message(1, 10), &[target(&inbox)], Urgency::Bulk, failed).await.unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    let m = store.mailbox(inbox.id).await.unwrap().unwrap();
    assert_eq!((m.uid_next, m.highest_modseq), (1, 1));
    assert!(!store.blob_known(&blob(1)).await.unwrap());
    assert!(store.messages(inbox.id).await.unwrap().is_empty());

    let written = async {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        Ok(())
    };
    let out = store.deliver_once(&message(1, 10), &[target(&inbox)], Urgency::Bulk, written).await.unwrap();
    assert_eq!(out[0].uid, 1);
    assert!(store.blob_known(&blob(1)).await.unwrap());
}

pub async fn threading_via_references(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = account(store, "paul.durand").await;
    let ci = target(&inbox(store, &claire).await);
    let pi = target(&inbox(store, &paul).await);

    let parent = store.deliver(&reply(1, "<p@x>", &[]), std::slice::from_ref(&ci)).await.unwrap()[0].clone();
    assert_eq!(parent.thread_id, parent.message);
    let answer = store.deliver(&reply(2, "<r@x>", &["<p@x>"]), &[ci.clone(), pi.clone()]).await.unwrap();
    assert_eq!(answer[0].thread_id, parent.thread_id, "a reply joins its parent's thread");
    assert_eq!(answer[1].thread_id, answer[1].message, "threads are per account");
    let unrelated = store.deliver(&reply(3, "<u@x>", &[]), std::slice::from_ref(&ci)).await.unwrap()[0].clone();
    assert_ne!(unrelated.thread_id, parent.thread_id);
    // A reply to the reply, naming only its direct parent.
    let deeper = store.deliver(&reply(4, "<d@x>", &["<r@x>"]), std::slice::from_ref(&ci)).await.unwrap()[0].clone();
    assert_eq!(deeper.thread_id, parent.thread_id);

    // A parent arriving after its reply joins the reply's thread.
    let early =
        store.deliver(&reply(5, "<late-child@x>", &["<late-parent@x>"]), std::slice::from_ref(&ci)).await.unwrap();
    let late = store.deliver(&reply(6, "<late-parent@x>", &[]), std::slice::from_ref(&ci)).await.unwrap();
    assert_eq!(late[0].thread_id, early[0].thread_id);
    assert_eq!(early[0].thread_id, early[0].message);

    let row = store.message(answer[0].message).await.unwrap().unwrap();
    assert_eq!(row.thread_id, parent.thread_id);
    assert_eq!(row.msgid_header.as_deref(), Some("r@x"));
}

pub async fn counters_persist_after_reopening(ctx: Ctx) {
    let claire;
    let inbox_id;
    {
        let store = &ctx.store;
        claire = account(store, "claire.martin").await;
        let inbox = inbox(store, &claire).await;
        inbox_id = inbox.id;
        for n in 1..=3 {
            store.deliver(&message(n, 10), &[target(&inbox)]).await.unwrap();
        }
        let first = store.message_by_uid(inbox.id, 1).await.unwrap().unwrap();
        store.set_flags(first.id, Flag::Seen.bit(), &[]).await.unwrap();
        store.close().await;
    }
    let store = ctx.reopen().await;
    assert_eq!(store.migrate().await.unwrap(), Vec::<i64>::new());
    let m = store.mailbox(inbox_id).await.unwrap().unwrap();
    assert_eq!((m.uid_next, m.highest_modseq), (4, 5));
    assert_eq!(store.messages(inbox_id).await.unwrap().len(), 3);
    assert_eq!(store.account(claire.id).await.unwrap().unwrap().used_bytes, 30);
    let next = store.deliver(&message(9, 1), &[target(&m)]).await.unwrap();
    assert_eq!((next[0].uid, next[0].modseq), (4, 6));
    store.close().await;
}

/// Eight deliveries at once, each to the same twenty mailboxes listed in a
/// different order: no SQLITE_BUSY, no deadlock, no UID handed out twice.
pub async fn concurrent_deliveries_succeed(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let mut inboxes = Vec::new();
    for i in 0..20 {
        let a = store.create_account(&new_account(&format!("prof.{i}"))).await.unwrap();
        inboxes.push(inbox(store, &a).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..8u64 {
        let store = store.clone();
        let mut targets: Vec<Target> = inboxes.iter().map(target).collect();
        targets.rotate_left(n as usize * 3 % 20);
        if n % 2 == 1 {
            targets.reverse();
        }
        tasks.spawn(async move { store.deliver(&message(100 + n, 10), &targets).await });
    }
    for result in tasks.join_all().await {
        if let Err(e) = result {
            panic!("a concurrent delivery failed: {e:?}");
        }
    }
    for inbox in &inboxes {
        let rows = store.messages(inbox.id).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.uid).collect::<Vec<_>>(), (1..=8).collect::<Vec<_>>());
        let mut modseqs: Vec<i64> = rows.iter().map(|r| r.modseq).collect();
        modseqs.sort_unstable();
        assert_eq!(modseqs, (2..=9).collect::<Vec<_>>());
        let m = store.mailbox(inbox.id).await.unwrap().unwrap();
        assert_eq!((m.uid_next, m.highest_modseq), (9, 9));
    }
    assert_eq!(store.blob_count().await.unwrap(), 8);
}

/// The bulk reads (one aggregated row on SQLite) give exactly the rows read
/// one by one, whatever the message-id header and keywords hold, and the
/// stored envelopes in the form asked for.
pub async fn bulk_reads_match_single_reads(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    let odd = "<\"c\"\u{e9}\\-\u{1f600}@x>";
    let mut messages = vec![message(1, 10), NewMessage { msgid_header: None, ..message(2, 20) }];
    messages.push(NewMessage { msgid_header: Some(odd.into()), ..message(3, 30) });
    messages.push(NewMessage {
        imap_envelope: Some("(NIL {6}\r\nR\u{e9}u\"\\ NIL)".into()),
        imap_envelope_utf8: Some("(NIL \"R\u{e9}u\" NIL)".into()),
        ..message(4, 40)
    });
    messages.push(NewMessage { imap_envelope: None, ..message(5, 50) });
    for (i, m) in messages.iter().enumerate() {
        let mut t = target(&inbox);
        if i == 0 {
            t.flags = Flag::Seen.bit();
            t.keywords = vec!["$Work".into(), "$Junk".into()];
        }
        store.deliver(m, &[t]).await.unwrap();
    }
    let all = store.messages(inbox.id).await.unwrap();
    assert_eq!(all.iter().map(|m| m.uid).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    for row in &all {
        assert_eq!(Some(row), store.message_by_uid(inbox.id, row.uid).await.unwrap().as_ref());
    }
    assert_eq!(all[0].keywords, ["$Junk", "$Work"]);
    assert_eq!(all[1].msgid_header, None);
    assert_eq!(all[2].msgid_header.as_deref(), Some(odd.trim_matches(|c| c == '<' || c == '>')));
    let between = store.messages_between(inbox.id, 2, 4).await.unwrap();
    assert_eq!(between, all[1..4]);
    assert!(store.messages_between(inbox.id, 6, 9).await.unwrap().is_empty());

    let mut plain = store.envelopes_between(inbox.id, 1, 5, false).await.unwrap();
    plain.sort();
    assert_eq!(plain.iter().map(|(u, _)| *u).collect::<Vec<_>>(), [1, 2, 3, 4], "no envelope stored for 5");
    assert_eq!(plain[0].1, "(NIL \"Message 1\" NIL NIL NIL NIL NIL NIL NIL NIL)");
    assert_eq!(plain[3].1, "(NIL {6}\r\nR\u{e9}u\"\\ NIL)");
    let mut utf8 = store.envelopes_between(inbox.id, 3, 4, true).await.unwrap();
    utf8.sort();
    assert_eq!(utf8[0].1, plain[2].1, "same form when no UTF-8 one is stored");
    assert_eq!(utf8[1].1, "(NIL \"R\u{e9}u\" NIL)");
}
