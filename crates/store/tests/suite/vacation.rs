//! Vacation replies: settings round trip, one reply per sender per interval,
//! and a new setting forgetting whom the old one answered.

use store::Vacation;

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn vacation_answers_each_sender_once_per_interval(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    assert_eq!(store.vacation(claire.id).await.unwrap(), None);
    let v = Vacation {
        enabled: true,
        subject: String::new(),
        body: "Je suis absente jusqu'au 4 janvier.".into(),
        starts_at: Some(1_000),
        ends_at: Some(2_000),
        interval_days: 7,
    };
    store.set_vacation(claire.id, &v).await.unwrap();
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    let many: Vec<i64> = (0..1_200).map(|i| claire.id + 10_000 + i).chain([paul.id, claire.id]).collect();
    assert_eq!(store.vacation_enabled_among(&many).await.unwrap(), [claire.id]);
    let stored = store.vacation(claire.id).await.unwrap().unwrap();
    assert_eq!(stored, v);
    assert!(!stored.active_at(999) && stored.active_at(1_000) && stored.active_at(1_999) && !stored.active_at(2_000));

    let week = 7 * 86_400;
    assert!(store.claim_vacation_reply(claire.id, "Parent@Example.org", 1_000, week).await.unwrap());
    assert!(!store.claim_vacation_reply(claire.id, "parent@example.org", 1_500, week).await.unwrap(), "same sender");
    assert!(store.claim_vacation_reply(claire.id, "autre@example.org", 1_500, week).await.unwrap());
    assert!(store.claim_vacation_reply(claire.id, "parent@example.org", 1_000 + week, week).await.unwrap());

    // Racing deliveries from one sender: exactly one reply.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let id = claire.id;
        tasks
            .push(tokio::spawn(async move { store.claim_vacation_reply(id, "course@example.org", 5_000, week).await }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap().unwrap());
    }
    assert_eq!(won, 1);

    // A new text is sent again to everyone.
    store.set_vacation(claire.id, &Vacation { body: "Nouveau texte".into(), ..v.clone() }).await.unwrap();
    store.set_vacation(paul.id, &Vacation { enabled: false, ..v }).await.unwrap();
    assert_eq!(store.vacation_enabled_among(&many).await.unwrap(), [claire.id], "switched off is left out");
    assert!(store.claim_vacation_reply(claire.id, "parent@example.org", 1_000 + week + 1, week).await.unwrap());
}
