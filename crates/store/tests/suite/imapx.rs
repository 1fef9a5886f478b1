//! Queries behind the full-text index: messages in row order, and whether
//! an account still holds a content.

use model::SpecialUse;

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn messages_after_and_blob_holding(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = account(store, "paul.durand").await;
    let inbox = inbox(store, &claire).await;
    let sent = store.mailbox_by_special_use(claire.id, SpecialUse::Sent).await.unwrap().unwrap();
    let paul_inbox = crate::fixtures::inbox(store, &paul).await;
    let a = store.deliver(&message(1, 10), &[target(&inbox), target(&sent)]).await.unwrap();
    let b = store.deliver(&message(2, 10), &[target(&paul_inbox)]).await.unwrap();

    let all = store.messages_after(0, 10).await.unwrap();
    let ids: Vec<i64> = all.iter().map(|m| m.id).collect();
    assert_eq!(ids, [a[0].message, a[1].message, b[0].message]);
    let page = store.messages_after(a[0].message, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, a[1].message);
    assert!(store.messages_after(b[0].message, 10).await.unwrap().is_empty());

    assert!(store.account_holds_blob(claire.id, &blob(1)).await.unwrap());
    assert!(!store.account_holds_blob(claire.id, &blob(2)).await.unwrap());
    store.expunge(inbox.id, &[a[0].uid]).await.unwrap();
    assert!(store.account_holds_blob(claire.id, &blob(1)).await.unwrap(), "the copy in Sent remains");
    store.expunge(sent.id, &[a[1].uid]).await.unwrap();
    assert!(!store.account_holds_blob(claire.id, &blob(1)).await.unwrap());
    assert!(store.account_holds_blob(paul.id, &blob(2)).await.unwrap());
}
