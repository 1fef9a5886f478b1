//! Issue 25: a reset token spent once under concurrent use (item 8), status
//! changes numbered by a monotonic sequence the revocation watcher follows
//! (item 9, schema 13), and web sessions whose expiry slides with use (item 7).

use std::sync::Arc;

use model::AccountStatus;
use store::WebSession;
use tokio::sync::Barrier;

use crate::fixtures::*;
use crate::harness::Ctx;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Many clients present the same link at the same instant, each through its
/// own connection pool (as two nodes would): exactly one wins, every round.
pub async fn reset_token_is_spent_once_under_concurrency(ctx: Ctx) {
    const ROUNDS: usize = 12;
    const CLIENTS: usize = 8;
    let a = account(&ctx.store, "claire").await;
    let mut handles = Vec::new();
    for _ in 0..CLIENTS {
        handles.push(ctx.reopen().await);
    }
    for round in 0..ROUNDS {
        let token = format!("tok{round}");
        ctx.store.create_reset_token(a.id, &token, now() + 1800).await.unwrap();
        let barrier = Arc::new(Barrier::new(CLIENTS));
        let mut tasks = tokio::task::JoinSet::new();
        for store in &handles {
            let (store, barrier, token) = (store.clone(), barrier.clone(), token.clone());
            tasks.spawn(async move {
                barrier.wait().await;
                store.reset_token(&token, true).await.unwrap()
            });
        }
        let winners = tasks.join_all().await.into_iter().flatten().collect::<Vec<_>>();
        assert_eq!(winners, [a.id], "round {round}: one use of the link, and only one");
    }
    assert_eq!(ctx.store.reset_token("tok0", false).await.unwrap(), None);
    for store in handles {
        store.close().await;
    }
}

/// Suspend, reactivate and suspend again within one second: each suspension
/// gets a sequence number of its own, so the watcher sees both.
pub async fn status_changes_are_numbered(ctx: Ctx) {
    let s = ctx.store;
    let a = account(&s, "claire").await;
    let b = account(&s, "paul").await;
    let start = s.status_sequence().await.unwrap();
    assert!(s.revoked_after(start).await.unwrap().is_empty());

    s.set_account_status(a.id, AccountStatus::Suspended).await.unwrap();
    let first = s.revoked_after(start).await.unwrap();
    assert_eq!(first.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(), [(a.id, AccountStatus::Suspended)]);
    let seen = first[0].2;
    assert!(seen > start);
    assert!(s.revoked_after(seen).await.unwrap().is_empty(), "nothing new");

    s.set_account_status(a.id, AccountStatus::Active).await.unwrap();
    s.set_account_status(a.id, AccountStatus::Suspended).await.unwrap();
    let again = s.revoked_after(seen).await.unwrap();
    assert_eq!(again.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(), [(a.id, AccountStatus::Suspended)]);
    assert!(again[0].2 > seen);
    // Setting the status it already has is no change.
    s.set_account_status(a.id, AccountStatus::Suspended).await.unwrap();
    assert!(s.revoked_after(again[0].2).await.unwrap().is_empty());

    // A helpdesk reset sends an active account back to provisional: revoked.
    let before = s.status_sequence().await.unwrap();
    s.set_provisional_password(b.id, "p1").await.unwrap();
    let reset = s.revoked_after(before).await.unwrap();
    assert_eq!(reset.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(), [(b.id, AccountStatus::Provisional)]);
    // Its first login makes it active again: not a revocation.
    let before = s.status_sequence().await.unwrap();
    s.change_password(b.id, "h2", 5, true).await.unwrap();
    assert_eq!(s.account(b.id).await.unwrap().unwrap().status, AccountStatus::Active);
    assert!(s.revoked_after(before).await.unwrap().is_empty());
    assert!(s.status_sequence().await.unwrap() > before, "the activation was numbered");

    // A new provisional account was never revoked.
    let before = s.status_sequence().await.unwrap();
    let mut new = new_account("eve");
    new.status = AccountStatus::Provisional;
    s.create_account(&new).await.unwrap();
    assert!(s.revoked_after(before).await.unwrap().is_empty());
}

/// The store keeps what the web decides: a refreshed last use and expiry.
pub async fn web_session_expiry_slides(ctx: Ctx) {
    let s = ctx.store;
    let a = account(&s, "claire").await;
    let now = now();
    let session = WebSession {
        token_hash: "slide".into(),
        account_id: a.id,
        stage: "full".into(),
        created_at: now - 7200,
        last_seen: now - 600,
        expires_at: now + 60,
        ip: "127.0.0.1".into(),
        client: "test".into(),
    };
    s.create_web_session(&session).await.unwrap();
    let read = s.web_session("slide").await.unwrap().unwrap();
    assert_eq!(read.last_seen, now - 600, "reading does not refresh: the web decides when");
    s.touch_web_session("slide", now, now + 3600).await.unwrap();
    let read = s.web_session("slide").await.unwrap().unwrap();
    assert_eq!((read.last_seen, read.expires_at, read.created_at), (now, now + 3600, now - 7200));
    assert_eq!(s.web_sessions(a.id).await.unwrap().len(), 1);
    s.touch_web_session("slide", now, now - 1).await.unwrap();
    assert!(s.web_session("slide").await.unwrap().is_none(), "expired");
    assert!(s.touch_web_session("gone", now, now + 60).await.is_err(), "an unknown session is not found");
}
