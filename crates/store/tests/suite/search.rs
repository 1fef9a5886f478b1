//! The two reads behind the webmail's search across folders.

use store::DateCursor;

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn messages_by_date_and_by_blob(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    let inbox = inbox(store, &claire).await;
    let other = store.create_mailbox(claire.id, "Projets", None).await.unwrap();
    let paul_inbox = crate::fixtures::inbox(store, &paul).await;
    // Dates 1000, 1010, ... with two messages on the same date (n = 4, 5).
    for n in 1..=6u64 {
        let mut m = message(n, 10);
        m.internal_date = if n == 5 { 1040 } else { 1000 + 10 * n as i64 };
        let t = if n % 2 == 0 { target(&other) } else { target(&inbox) };
        store.deliver(&m, &[t, target(&paul_inbox)]).await.unwrap();
    }
    let all = store.messages_by_date(claire.id, DateCursor::TOP, 0, 100).await.unwrap();
    let dates: Vec<i64> = all.iter().map(|f| f.internal_date).collect();
    assert_eq!(dates, [1060, 1040, 1040, 1030, 1020, 1010]);
    assert!(all.iter().all(|f| f.mailbox_id == inbox.id || f.mailbox_id == other.id));
    assert!(all[0].has_attachment, "message 6 has an attachment in the fixture");
    // Pages of two, walked with the cursor, see each message once (ties too).
    let mut seen = Vec::new();
    let mut below = DateCursor::TOP;
    loop {
        let page = store.messages_by_date(claire.id, below, 0, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        below = last.cursor();
        seen.extend(page.iter().map(|f| f.id));
    }
    assert_eq!(seen, all.iter().map(|f| f.id).collect::<Vec<_>>());
    // A lower bound on the date.
    let recent = store.messages_by_date(claire.id, DateCursor::TOP, 1040, 100).await.unwrap();
    assert_eq!(recent.len(), 3);
    // By content: only Claire's copies.
    let found = store.messages_with_blobs(claire.id, &[blob(2), blob(3), blob(99)]).await.unwrap();
    let mut uids: Vec<(i64, i64)> = found.iter().map(|f| (f.mailbox_id, f.uid)).collect();
    uids.sort();
    assert_eq!(uids, [(inbox.id, 2), (other.id, 1)]);
    assert!(store.messages_with_blobs(claire.id, &[]).await.unwrap().is_empty());
}
