//! Wrong guesses counted for re-authentication: `bad` rows only, after the
//! last success of the same account and address, within the window.

use store::NewJournalEntry;

use crate::fixtures::*;
use crate::harness::Ctx;

fn row(account: i64, ip: &str, result: &str) -> NewJournalEntry {
    NewJournalEntry {
        account_id: Some(account),
        login: "x".into(),
        protocol: "reauth".into(),
        ip: ip.into(),
        client: String::new(),
        result: result.into(),
    }
}

pub async fn only_bad_guesses_after_the_last_success_count(ctx: Ctx) {
    let s = ctx.store;
    let a = account(&s, "claire").await;
    let b = account(&s, "paul").await;
    for r in ["bad", "bad", "ok", "bad", "throttled", "throttled", "bad", "provisional"] {
        s.record_login(&row(a.id, "10.0.0.1", r)).await.unwrap();
    }
    s.record_login(&row(a.id, "10.0.0.2", "bad")).await.unwrap();
    s.record_login(&row(b.id, "10.0.0.1", "bad")).await.unwrap();
    let (n, last) = s.recent_bad_guesses(a.id, "10.0.0.1", 0).await.unwrap();
    assert_eq!(n, 2, "two bad after the success; throttled answers are not guesses");
    assert!(last.is_some());
    assert_eq!(s.recent_bad_guesses(a.id, "10.0.0.2", 0).await.unwrap().0, 1);
    assert_eq!(s.recent_bad_guesses(a.id, "10.0.0.3", 0).await.unwrap(), (0, None));
    assert_eq!(s.recent_bad_guesses(a.id, "10.0.0.1", i64::MAX).await.unwrap(), (0, None), "outside the window");
}
