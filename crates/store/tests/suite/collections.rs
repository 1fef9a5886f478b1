//! Calendars and address books: collections per account, objects written
//! under preconditions, UIDs unique per collection, time-range pre-filter,
//! and the change log behind sync tokens (tombstones included).

use store::{
    CollectionKind, CollectionObject, CollectionPatch, DeleteOutcome, Error, NewCollection, ObjectChange, Precondition,
    PutOutcome,
};

use crate::fixtures::*;
use crate::harness::Ctx;

fn calendar(segment: &str) -> NewCollection<'_> {
    NewCollection {
        kind: CollectionKind::Calendar,
        segment,
        display_name: "Agenda",
        colour: "#000091",
        description: "",
        components: "VEVENT,VTODO",
        reminder_minutes: None,
    }
}

fn event(name: &str, uid: &str, etag: &str, bounds: (Option<i64>, Option<i64>)) -> CollectionObject {
    CollectionObject {
        name: name.into(),
        uid: uid.into(),
        etag: etag.into(),
        component: "VEVENT".into(),
        content: format!("BEGIN:VCALENDAR\r\nUID:{uid}\r\nEND:VCALENDAR\r\n"),
        first_start: bounds.0,
        last_end: bounds.1,
        modseq: 0,
        next_alarm: None,
    }
}

fn names(objects: &[CollectionObject]) -> Vec<&str> {
    objects.iter().map(|o| o.name.as_str()).collect()
}

pub async fn collections_belong_to_one_account(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    let contacts = NewCollection { kind: CollectionKind::AddressBook, components: "", ..calendar("default") };
    store.ensure_collections(claire.id, &[calendar("default"), contacts.clone()]).await.unwrap();
    store.ensure_collections(claire.id, &[calendar("default"), contacts]).await.unwrap();
    let mine = store.collections(claire.id).await.unwrap();
    assert_eq!(mine.len(), 2, "defaults are made once");
    assert_eq!(store.collection_count(claire.id).await.unwrap(), 2);
    assert!(store.collections(paul.id).await.unwrap().is_empty());
    assert!(store.collection(paul.id, CollectionKind::Calendar, "default").await.unwrap().is_none());
    let cal = store.collection(claire.id, CollectionKind::Calendar, "default").await.unwrap().unwrap();
    assert_eq!((cal.display_name.as_str(), cal.sync_counter), ("Agenda", 0));
    assert!(matches!(store.create_collection(claire.id, &calendar("default")).await, Err(Error::Conflict(_))));
    let long = "x".repeat(2_000);
    assert!(matches!(store.create_collection(claire.id, &calendar(&long)).await, Err(Error::Invalid(_))));

    let patch = CollectionPatch { display_name: Some("Cours".into()), ..CollectionPatch::default() };
    store.update_collection(cal.id, &patch).await.unwrap();
    let cal = store.collection(claire.id, CollectionKind::Calendar, "default").await.unwrap().unwrap();
    assert_eq!((cal.display_name.as_str(), cal.colour.as_str()), ("Cours", "#000091"));

    store
        .put_collection_object(cal.id, &event("a.ics", "a", "e1", (Some(0), Some(10))), Precondition::Any)
        .await
        .unwrap();
    store.delete_collection(cal.id).await.unwrap();
    assert!(store.collection_object(cal.id, "a.ics").await.unwrap().is_none());
    assert!(matches!(store.delete_collection(cal.id).await, Err(Error::NotFound(_))));
    assert!(matches!(store.update_collection(cal.id, &patch).await, Err(Error::NotFound(_))));
    assert!(matches!(
        store.put_collection_object(cal.id, &event("b.ics", "b", "e", (None, None)), Precondition::Any).await,
        Err(Error::NotFound(_))
    ));
}

pub async fn objects_follow_preconditions_and_log_changes(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let cal = store.create_collection(claire.id, &calendar("cours")).await.unwrap();

    let put = |o: CollectionObject, pre: Precondition<'static>| {
        let store = store.clone();
        async move { store.put_collection_object(cal.id, &o, pre).await.unwrap() }
    };
    assert_eq!(
        put(event("a.ics", "a", "e1", (Some(100), Some(200))), Precondition::Absent).await,
        PutOutcome::Created { modseq: 1 }
    );
    assert_eq!(
        put(event("a.ics", "a", "e2", (Some(100), Some(200))), Precondition::Absent).await,
        PutOutcome::PreconditionFailed
    );
    assert_eq!(
        put(event("a.ics", "a", "e2", (Some(100), Some(200))), Precondition::Matches("zz")).await,
        PutOutcome::PreconditionFailed
    );
    assert_eq!(
        put(event("a.ics", "a", "e2", (Some(100), Some(300))), Precondition::Matches("e1")).await,
        PutOutcome::Replaced { modseq: 2 }
    );
    assert_eq!(
        put(event("other.ics", "a", "e9", (None, None)), Precondition::Any).await,
        PutOutcome::UidTaken("a.ics".into())
    );
    assert_eq!(
        put(event("b.ics", "b", "e3", (Some(1_000), None)), Precondition::Matches("e1")).await,
        PutOutcome::PreconditionFailed
    );
    assert_eq!(
        put(event("b.ics", "b", "e3", (Some(1_000), None)), Precondition::Any).await,
        PutOutcome::Created { modseq: 3 }
    );
    assert_eq!(
        put(event("c.ics", "c", "e4", (None, None)), Precondition::Any).await,
        PutOutcome::Created { modseq: 4 }
    );
    let a = store.collection_object(cal.id, "a.ics").await.unwrap().unwrap();
    assert_eq!((a.etag.as_str(), a.last_end, a.modseq), ("e2", Some(300), 2));

    // Bounds overlap [start, end): unbounded sides always do.
    let between = |s, e| {
        let store = store.clone();
        async move { store.collection_objects_between(cal.id, "VEVENT", s, e).await.unwrap() }
    };
    assert_eq!(names(&between(0, 100).await), ["c.ics"]);
    assert_eq!(names(&between(0, 101).await), ["a.ics", "c.ics"]);
    assert_eq!(names(&between(300, 999).await), ["a.ics", "c.ics"], "may end at the start");
    assert_eq!(names(&between(301, 999).await), ["c.ics"]);
    assert_eq!(names(&between(5_000, 6_000).await), ["b.ics", "c.ics"]);
    assert!(store.collection_objects_between(cal.id, "VTODO", 0, i64::MAX).await.unwrap().is_empty());
    let named = store.collection_objects_named(cal.id, &["c.ics".into(), "nope".into(), "a.ics".into()]).await.unwrap();
    assert_eq!(names(&named), ["a.ics", "c.ics"]);
    let tags: Vec<_> = store.collection_tags(cal.id).await.unwrap().into_iter().map(|t| (t.name, t.etag)).collect();
    assert_eq!(tags, [("a.ics".into(), "e2".into()), ("b.ics".into(), "e3".into()), ("c.ics".into(), "e4".into())]);

    assert_eq!(
        store.delete_collection_object(cal.id, "b.ics", Some("nope")).await.unwrap(),
        DeleteOutcome::PreconditionFailed
    );
    assert_eq!(store.delete_collection_object(cal.id, "b.ics", Some("e3")).await.unwrap(), DeleteOutcome::Deleted);
    assert_eq!(store.delete_collection_object(cal.id, "b.ics", None).await.unwrap(), DeleteOutcome::NotFound);
    let counter = store.collection(claire.id, CollectionKind::Calendar, "cours").await.unwrap().unwrap().sync_counter;
    assert_eq!(counter, 5, "refused writes take no number");

    let change = |name: &str, modseq, deleted| ObjectChange { name: name.into(), modseq, deleted };
    assert_eq!(
        store.collection_changes_since(cal.id, 0).await.unwrap(),
        [change("a.ics", 2, false), change("c.ics", 4, false), change("b.ics", 5, true)]
    );
    assert_eq!(store.collection_changes_since(cal.id, 4).await.unwrap(), [change("b.ics", 5, true)]);
    assert!(store.collection_changes_since(cal.id, 5).await.unwrap().is_empty());

    // Concurrent writers to one collection get distinct numbers.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let store = store.clone();
        let o = event(&format!("n{i}.ics"), &format!("n{i}"), "e", (None, None));
        tasks.push(tokio::spawn(async move { store.put_collection_object(cal.id, &o, Precondition::Any).await }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        match t.await.unwrap().unwrap() {
            PutOutcome::Created { modseq } => numbers.push(modseq),
            other => panic!("{other:?}"),
        }
    }
    numbers.sort();
    assert_eq!(numbers, (6..16).collect::<Vec<_>>());
}

pub async fn shares_reach_accounts_and_units_below(ctx: Ctx) {
    use store::{NewOrgUnit, ShareGrantee};
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let academie = store
        .create_org_unit(&NewOrgUnit { parent: None, kind: model::OrgUnitKind::Academie, name: "A".into(), uai: None })
        .await
        .unwrap();
    let college = store
        .create_org_unit(&NewOrgUnit {
            parent: Some(academie),
            kind: model::OrgUnitKind::Etablissement,
            name: "C".into(),
            uai: Some(model::Uai::parse("0541234A").unwrap()),
        })
        .await
        .unwrap();
    let paul = store
        .create_account(&store::NewAccount { org_unit: Some(college), ..new_account("paul.durand") })
        .await
        .unwrap();
    let cal = store.create_collection(claire.id, &calendar("conseils")).await.unwrap();
    let paul_units = store.unit_and_ancestors(college).await.unwrap();
    assert_eq!(paul_units, [college, academie]);
    assert!(store.shared_with(paul.id, &paul_units).await.unwrap().is_empty());
    // The académie unit reaches Paul, below it; a direct share too.
    store.put_share(cal.id, ShareGrantee::Unit(academie), "freebusy").await.unwrap();
    store.put_share(cal.id, ShareGrantee::Account(paul.id), "read").await.unwrap();
    let mut seen: Vec<_> =
        store.shared_with(paul.id, &paul_units).await.unwrap().into_iter().map(|(c, r)| (c.segment, r)).collect();
    seen.sort();
    assert_eq!(seen, [("conseils".to_owned(), "freebusy".to_owned()), ("conseils".to_owned(), "read".to_owned())]);
    // Sharing with oneself shows nothing; bad rights are refused.
    store.put_share(cal.id, ShareGrantee::Account(claire.id), "write").await.unwrap();
    assert!(store.shared_with(claire.id, &[]).await.unwrap().is_empty());
    assert!(matches!(store.put_share(cal.id, ShareGrantee::Account(paul.id), "admin").await, Err(Error::Invalid(_))));
    assert!(store.delete_share(cal.id, ShareGrantee::Account(paul.id)).await.unwrap());
    assert!(!store.delete_share(cal.id, ShareGrantee::Account(paul.id)).await.unwrap());
    let left = store.calendar_shares_of(cal.id).await.unwrap();
    assert_eq!(left.len(), 2);
    // A deleted calendar takes its shares along.
    store.delete_collection(cal.id).await.unwrap();
    assert!(store.calendar_shares_of(cal.id).await.unwrap().is_empty());
    assert!(store.shared_with(paul.id, &paul_units).await.unwrap().is_empty());
}
