//! Resources (rooms, equipment) and calendar objects found by UID across
//! an account's calendars.

use store::{CollectionKind, CollectionObject, Error, NewAccount, NewCollection, Precondition};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn resources_never_log_in_and_close_when_deleted(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let room = NewAccount { display_name: "Salle du conseil".into(), ..new_account("salle-du-conseil.0541234a") };
    let with_password = NewAccount { password_hash: Some("x".into()), ..new_account("salle-b") };
    assert!(matches!(store.create_resource(&with_password, "salle").await, Err(Error::Invalid(_))));
    let made = store.create_resource(&room, "salle").await.unwrap();
    assert!(matches!(store.create_resource(&room, "salle").await, Err(Error::Conflict(_))), "an address once");
    let person = store.create_account(&new_account("paul.durand")).await.unwrap();
    assert_eq!(store.resource_kind(made.id).await.unwrap().as_deref(), Some("salle"));
    assert_eq!(store.resource_kind(person.id).await.unwrap(), None);
    let listed: Vec<_> = store.resources().await.unwrap().into_iter().map(|r| r.account.id).collect();
    assert_eq!(listed, [made.id]);
    assert!(!store.delete_resource(person.id).await.unwrap(), "a person is no resource");
    assert!(store.delete_resource(made.id).await.unwrap());
    assert!(store.resources().await.unwrap().is_empty());
    let closed = store.account(made.id).await.unwrap().unwrap();
    assert_eq!(closed.status, model::AccountStatus::Closed);
}

pub async fn calendar_objects_are_found_by_uid_in_own_calendars_only(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    let cal = |segment| NewCollection {
        kind: CollectionKind::Calendar,
        segment,
        display_name: "Agenda",
        colour: "",
        description: "",
        components: "VEVENT",
        reminder_minutes: None,
    };
    let a = store.create_collection(claire.id, &cal("a")).await.unwrap();
    let b = store.create_collection(claire.id, &cal("b")).await.unwrap();
    let p = store.create_collection(paul.id, &cal("a")).await.unwrap();
    let object = |name: &str| CollectionObject {
        name: name.into(),
        uid: "conseil@x".into(),
        etag: "e".into(),
        component: "VEVENT".into(),
        content: "BEGIN:VCALENDAR".into(),
        first_start: None,
        last_end: None,
        modseq: 0,
        next_alarm: None,
    };
    store.put_collection_object(b.id, &object("b.ics"), Precondition::Absent).await.unwrap();
    store.put_collection_object(p.id, &object("p.ics"), Precondition::Absent).await.unwrap();
    let found = store.calendar_objects_by_uid(claire.id, "conseil@x").await.unwrap();
    let seen: Vec<_> = found.iter().map(|(c, o)| (*c, o.name.as_str())).collect();
    assert_eq!(seen, [(b.id, "b.ics")], "Paul's copy is not Claire's");
    assert!(store.calendar_objects_by_uid(claire.id, "other").await.unwrap().is_empty());
    assert!(store.calendar_objects_by_uid(claire.id, "conseil@x").await.unwrap().iter().all(|(c, _)| *c != a.id));
}
