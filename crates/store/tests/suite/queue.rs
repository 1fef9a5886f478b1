//! The outbound queue: entries, per-recipient status, leases and blob references.

use store::{NewQueued, RcptStatus, Store};

use crate::fixtures::*;
use crate::harness::Ctx;

fn queued(n: u64, rcpts: &[&str]) -> NewQueued {
    NewQueued {
        blob: blob(n),
        size: 100,
        sender: "claire.martin@ac-demo.fr".into(),
        account: None,
        recipients: rcpts.iter().map(|r| (r.to_string(), r.rsplit_once('@').unwrap().1.to_owned())).collect(),
        expires_at: i64::MAX / 2,
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn released(store: &Store, n: u64) -> bool {
    store.released_blobs(i64::MAX).await.unwrap().contains(&blob(n))
}

pub async fn one_entry_per_message_with_recipient_status(ctx: Ctx) {
    let store = &ctx.store;
    let rcpts: Vec<String> = (0..50).map(|i| format!("r{i}@domaine{i}.example")).collect();
    let refs: Vec<&str> = rcpts.iter().map(String::as_str).collect();
    let id = store.enqueue(&queued(7, &refs)).await.unwrap();
    assert_eq!(store.queue_entries().await.unwrap().len(), 1, "fifty domains, one entry");
    let list = store.queued_recipients(id).await.unwrap();
    assert_eq!(list.len(), 50);
    assert!(list.iter().all(|r| r.status == RcptStatus::Pending && r.last_error.is_empty()));

    store
        .record_recipients(
            id,
            &[
                (rcpts[0].clone(), RcptStatus::Sent, String::new()),
                (rcpts[1].clone(), RcptStatus::Failed, "550 5.1.1 unknown".into()),
                (rcpts[2].clone(), RcptStatus::Pending, "451 4.3.0 later".into()),
            ],
        )
        .await
        .unwrap();
    let list = store.queued_recipients(id).await.unwrap();
    let get = |a: &str| list.iter().find(|r| r.rcpt == a).unwrap().clone();
    assert_eq!(get(&rcpts[0]).status, RcptStatus::Sent);
    assert_eq!((get(&rcpts[1]).status, get(&rcpts[1]).last_error.as_str()), (RcptStatus::Failed, "550 5.1.1 unknown"));
    assert_eq!((get(&rcpts[2]).status, get(&rcpts[2]).last_error.as_str()), (RcptStatus::Pending, "451 4.3.0 later"));
    assert_eq!(get(&rcpts[1]).domain, "domaine1.example");

    // A final status is never overwritten (a retried delivery cannot undo "sent").
    store.record_recipients(id, &[(rcpts[0].clone(), RcptStatus::Failed, "x".into())]).await.unwrap();
    assert_eq!(
        store.queued_recipients(id).await.unwrap().iter().find(|r| r.rcpt == rcpts[0]).unwrap().status,
        RcptStatus::Sent
    );
}

pub async fn leases_hand_out_each_entry_once(ctx: Ctx) {
    let store = &ctx.store;
    let a = store.enqueue(&queued(1, &["a@x.example"])).await.unwrap();
    let b = store.enqueue(&queued(2, &["b@y.example"])).await.unwrap();
    // After the enqueues, which stamp their own clock: taken before, `now`
    // could fall a second before an entry's first attempt (a CI failure).
    let now = unix_now();
    let first = store.lease_due(now, 60, 1).await.unwrap();
    assert_eq!(first.iter().map(|q| q.id).collect::<Vec<_>>(), [a]);
    let second = store.lease_due(now, 60, 10).await.unwrap();
    assert_eq!(second.iter().map(|q| q.id).collect::<Vec<_>>(), [b], "a leased entry is not handed out again");
    assert!(store.lease_due(now, 60, 10).await.unwrap().is_empty());

    // An expired lease (the runner died) makes the entry due again.
    let later = store.lease_due(now + 61, 60, 10).await.unwrap();
    assert_eq!(later.len(), 2);

    // Rescheduling frees the lease and moves the next attempt.
    store.reschedule(a, now + 600, true).await.unwrap();
    let entry = store.queued(a).await.unwrap().unwrap();
    assert_eq!((entry.next_attempt_at, entry.attempts, entry.warned, entry.lease_until), (now + 600, 1, true, 0));
    let mid = store.lease_due(now + 300, 60, 10).await.unwrap();
    assert_eq!(mid.iter().map(|q| q.id).collect::<Vec<_>>(), [b], "a is not due before its next attempt");
    store.retry_now(a, None).await.unwrap();
    assert_eq!(store.lease_due(unix_now(), 60, 10).await.unwrap().iter().map(|q| q.id).collect::<Vec<_>>(), [a]);
    assert!(matches!(store.reschedule(9999, 0, false).await, Err(store::Error::NotFound(_))));
    // A renewed lease keeps the entry from other runners; releasing all frees it.
    store.renew_lease(b, now + 10_000).await.unwrap();
    assert!(store.lease_due(now + 5_000, 60, 10).await.unwrap().iter().all(|q| q.id != b));
    assert!(store.release_all_leases().await.unwrap() >= 1);
    assert!(store.lease_due(now + 5_000, 60, 10).await.unwrap().iter().any(|q| q.id == b));
}

pub async fn concurrent_leases_never_share_an_entry(ctx: Ctx) {
    for n in 0..20 {
        ctx.store.enqueue(&queued(n, &["x@remote.example"])).await.unwrap();
    }
    // After the enqueues: on a slow machine they may straddle a second, and an
    // entry created after `now` is not due yet.
    let now = unix_now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = ctx.reopen().await;
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = store.lease_due(now, 60, 3).await.unwrap();
                if batch.is_empty() {
                    return got;
                }
                got.extend(batch.into_iter().map(|q| q.id));
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    let before = all.len();
    all.dedup();
    assert_eq!((before, all.len()), (20, 20));
}

pub async fn queued_blobs_are_kept_until_dequeued(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    // The same bytes delivered locally and queued for a remote recipient.
    let d = store.deliver(&message(5, 100), &[target(&inbox)]).await.unwrap()[0].clone();
    let id = store.enqueue(&queued(5, &["p@remote.example"])).await.unwrap();
    store.expunge(inbox.id, &[d.uid]).await.unwrap();
    assert!(!released(store, 5).await, "the queue still references the blob");
    assert!(store.dequeue(id).await.unwrap());
    assert!(released(store, 5).await);
    assert!(!store.dequeue(id).await.unwrap());
    assert!(store.queued_recipients(id).await.unwrap().is_empty());

    // A blob known only to the queue gets a row, released when the entry goes.
    let only = store.enqueue(&queued(6, &["p@remote.example"])).await.unwrap();
    assert!(store.blob_known(&blob(6)).await.unwrap());
    assert!(!released(store, 6).await);
    store.dequeue(only).await.unwrap();
    assert!(released(store, 6).await);
}

/// The console's queue page: only the units asked for (and the entries of no
/// unit when asked), each with its sender's unit and pending recipients, paged.
pub async fn a_queue_page_holds_the_units_asked_for(ctx: Ctx) {
    use model::OrgUnitKind;
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let unit =
        |name: &str, parent| store::NewOrgUnit { parent, kind: OrgUnitKind::Dsden, name: name.into(), uai: None };
    let root = store.create_org_unit(&unit("Académie", None)).await.unwrap();
    let d54 = store.create_org_unit(&unit("DSDEN 54", Some(root))).await.unwrap();
    let d57 = store.create_org_unit(&unit("DSDEN 57", Some(root))).await.unwrap();
    let sender = |local: &str, org_unit| store::NewAccount { org_unit, ..new_account(local) };
    let paul = store.create_account(&sender("paul", Some(d54))).await.unwrap();
    let marc = store.create_account(&sender("marc", Some(d57))).await.unwrap();
    let from = |n, account: Option<i64>| NewQueued { account, ..queued(n, &["x@a.example", "y@b.example"]) };
    let p1 = store.enqueue(&from(1, Some(paul.id))).await.unwrap();
    let m1 = store.enqueue(&from(2, Some(marc.id))).await.unwrap();
    let bounce = store.enqueue(&from(3, None)).await.unwrap();
    let p2 = store.enqueue(&from(4, Some(paul.id))).await.unwrap();
    store.record_recipients(p2, &[("x@a.example".into(), RcptStatus::Sent, String::new())]).await.unwrap();

    let ids = |page: &[store::QueuePageEntry]| page.iter().map(|e| e.entry.id).collect::<Vec<_>>();
    let (page, total) = store.queue_page(Some(&[d54]), false, 0, 50).await.unwrap();
    assert_eq!((ids(&page), total), (vec![p1, p2], 2));
    assert_eq!(page.iter().map(|e| (e.unit, e.pending)).collect::<Vec<_>>(), [(Some(d54), 2), (Some(d54), 1)]);
    let (page, total) = store.queue_page(None, true, 0, 50).await.unwrap();
    assert_eq!((ids(&page), total), (vec![p1, m1, bounce, p2], 4));
    let (page, total) = store.queue_page(None, false, 1, 2).await.unwrap();
    assert_eq!((ids(&page), total), (vec![m1, p2], 3), "placed only, second page");
    let (page, total) = store.queue_page(Some(&[]), true, 0, 50).await.unwrap();
    assert_eq!((ids(&page), total), (vec![bounce], 1));
    assert_eq!(page[0].unit, None);
    assert_eq!(store.queued_unit(m1).await.unwrap(), Some(Some(d57)));
    assert_eq!(store.queued_unit(bounce).await.unwrap(), Some(None));
    assert_eq!(store.queued_unit(9_999_999).await.unwrap(), None);
}
