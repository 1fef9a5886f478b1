//! The scheduling inbox: an account's messages only, the newest kept,
//! deleted by name under an optional etag.

use store::NewInboxItem;

use crate::fixtures::*;
use crate::harness::Ctx;

fn item<'a>(name: &'a str, etag: &'a str) -> NewInboxItem<'a> {
    NewInboxItem { name, uid: "u1", method: "REQUEST", etag, content: "BEGIN:VCALENDAR" }
}

pub async fn inbox_keeps_the_newest_and_is_its_owners(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    for n in ["a.ics", "b.ics", "c.ics"] {
        store.inbox_put(claire.id, &item(n, &format!("e-{n}")), 2).await.unwrap();
    }
    let names = |items: Vec<store::InboxItem>| items.into_iter().map(|i| i.name).collect::<Vec<_>>();
    assert_eq!(names(store.inbox_items(claire.id).await.unwrap()), ["b.ics", "c.ics"], "the oldest dropped");
    assert!(store.inbox_items(paul.id).await.unwrap().is_empty());
    assert!(store.inbox_item(paul.id, "c.ics").await.unwrap().is_none(), "another's inbox shows nothing");
    let c = store.inbox_item(claire.id, "c.ics").await.unwrap().unwrap();
    assert_eq!((c.method.as_str(), c.content.as_str(), c.etag.as_str()), ("REQUEST", "BEGIN:VCALENDAR", "e-c.ics"));
    // The same name again replaces it and makes it the newest.
    store.inbox_put(claire.id, &item("b.ics", "e-b2"), 2).await.unwrap();
    assert_eq!(names(store.inbox_items(claire.id).await.unwrap()), ["c.ics", "b.ics"]);
    assert!(!store.inbox_delete(paul.id, "b.ics", None).await.unwrap(), "not Paul's");
    assert!(!store.inbox_delete(claire.id, "b.ics", Some("e-b.ics")).await.unwrap(), "an old etag");
    assert!(store.inbox_delete(claire.id, "b.ics", Some("e-b2")).await.unwrap());
    assert!(store.inbox_delete(claire.id, "c.ics", None).await.unwrap());
    assert!(store.inbox_items(claire.id).await.unwrap().is_empty());
}
