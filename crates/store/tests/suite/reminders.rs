//! Reminders: a due alarm is claimed once, what fired is its owner's, and a
//! calendar's new default makes its objects due for computing again.

use store::{CollectionKind, CollectionObject, NewCollection, NewReminder, Precondition};

use crate::fixtures::*;
use crate::harness::Ctx;

fn object(name: &str, next_alarm: Option<i64>) -> CollectionObject {
    CollectionObject {
        name: name.into(),
        uid: name.into(),
        etag: format!("etag-{name}"),
        component: "VEVENT".into(),
        content: "BEGIN:VCALENDAR".into(),
        first_start: Some(1_000),
        last_end: Some(2_000),
        modseq: 0,
        next_alarm,
    }
}

fn fired(at: i64, mail: bool) -> NewReminder {
    NewReminder { title: "Conseil".into(), location: "Salle 12".into(), starts_at: 1_000, fire_at: at, mail }
}

pub async fn alarms_fire_once_and_reminders_stay_with_their_owner(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    let new = NewCollection {
        kind: CollectionKind::Calendar,
        segment: "agenda",
        display_name: "Agenda",
        colour: "",
        description: "",
        components: "VEVENT,VTODO",
        reminder_minutes: Some(15),
    };
    let cal = store.create_collection(claire.id, &new).await.unwrap();
    assert_eq!((cal.reminder_minutes, cal.reminder_mail), (Some(15), false));
    for (name, next) in [("due.ics", Some(900)), ("later.ics", Some(5_000)), ("none.ics", None)] {
        store.put_collection_object(cal.id, &object(name, next), Precondition::Absent).await.unwrap();
    }
    let due = store.due_alarms(1_000, 10).await.unwrap();
    assert_eq!(due.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["due.ics"]);
    let d = &due[0];
    assert_eq!((d.account_id, d.next_alarm, d.reminder_minutes), (claire.id, 900, Some(15)));
    // Two nodes found it: one claims it.
    assert!(store.fire_alarm(d, Some(4_000), &[fired(900, true)]).await.unwrap());
    assert!(!store.fire_alarm(d, Some(4_000), &[fired(900, true)]).await.unwrap(), "fired once");
    assert!(store.due_alarms(1_000, 10).await.unwrap().is_empty());
    assert_eq!(store.collection_object(cal.id, "due.ics").await.unwrap().unwrap().next_alarm, Some(4_000));
    // A changed object is not claimed with its old version.
    let mut stale = store.due_alarms(4_000, 10).await.unwrap().remove(0);
    store.put_collection_object(cal.id, &object("due.ics", Some(4_000)), Precondition::Any).await.unwrap();
    stale.etag = "old".into();
    assert!(!store.fire_alarm(&stale, None, &[]).await.unwrap());

    let pending = store.pending_reminders(claire.id, 0).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].title.as_str(), pending[0].fire_at), ("Conseil", 900));
    assert!(store.pending_reminders(paul.id, 0).await.unwrap().is_empty());
    assert!(!store.dismiss_reminder(paul.id, pending[0].id).await.unwrap(), "not Paul's to dismiss");

    // Mailed once: claimed, then gone from the list.
    let to_mail = store.reminders_to_mail(10).await.unwrap();
    assert_eq!(to_mail.len(), 1);
    assert!(store.claim_reminder_mail(to_mail[0].id).await.unwrap());
    assert!(!store.claim_reminder_mail(to_mail[0].id).await.unwrap());
    store.unclaim_reminder_mail(to_mail[0].id).await.unwrap();
    assert_eq!(store.reminders_to_mail(10).await.unwrap().len(), 1, "given back after a failure");
    assert!(store.claim_reminder_mail(to_mail[0].id).await.unwrap());
    assert!(store.reminders_to_mail(10).await.unwrap().is_empty());

    assert!(store.dismiss_reminder(claire.id, pending[0].id).await.unwrap());
    assert!(store.pending_reminders(claire.id, 0).await.unwrap().is_empty());

    // A new default: every event is computed again.
    assert!(store.set_collection_reminders(cal.id, None, true).await.unwrap());
    let cal = store.collection_by_id(cal.id).await.unwrap().unwrap();
    assert_eq!((cal.reminder_minutes, cal.reminder_mail), (None, true));
    let again: Vec<_> = store.due_alarms(0, 10).await.unwrap().into_iter().map(|d| (d.name, d.next_alarm)).collect();
    assert_eq!(again.len(), 3);
    assert!(again.iter().all(|(_, n)| *n == 0));
    assert!(!store.set_collection_reminders(cal.id + 1000, None, false).await.unwrap());
    assert_eq!(store.purge_reminders(i64::MAX).await.unwrap(), 1);
}
