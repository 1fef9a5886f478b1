//! The groupware service on a fresh SQLite store: defaults on first use,
//! limits, validation before storage, exact time-range queries and sync
//! tokens. (The store's own suite runs the SQL on both backends.)

use groupware::{CollectionKind, CollectionPatch, Error, Groupware, NewProps, Precondition, Query, Settings};

async fn service(settings: Settings) -> (tempfile::TempDir, Groupware, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = store::Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&model::Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let account = store
        .create_account(&store::NewAccount {
            address: model::Address::parse("claire.martin@ac-test.fr").unwrap(),
            login: None,
            display_name: "Claire Martin".into(),
            role: model::Role::Teacher,
            status: model::AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap();
    (dir, Groupware::new(store, settings).unwrap(), account.id)
}

fn event(uid: &str, dates: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n{dates}\
         SUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// 2026-09-07T00:00:00Z.
const SEPT_7: i64 = 1_788_739_200;
const DAY: i64 = 86_400;

#[tokio::test]
async fn every_account_gets_an_agenda_and_contacts_on_first_use() {
    let (_dir, gw, owner) = service(Settings::default()).await;
    // Straight to the default calendar's URL, before any listing.
    let agenda = gw.collection(owner, CollectionKind::Calendar, "agenda").await.unwrap();
    assert_eq!((agenda.display_name.as_str(), agenda.components.as_str()), ("Agenda", "VEVENT,VTODO,VJOURNAL"));
    let all = gw.collections(owner).await.unwrap();
    let names: Vec<_> = all.iter().map(|c| (c.kind, c.display_name.as_str())).collect();
    assert_eq!(names, [(CollectionKind::Calendar, "Agenda"), (CollectionKind::AddressBook, "Contacts")]);
    assert!(matches!(gw.collection(owner, CollectionKind::Calendar, "absent").await, Err(Error::NotFound)));
    // Deleting them is the owner's choice: they come back only for an account with none at all.
    gw.delete_collection(&agenda).await.unwrap();
    assert_eq!(gw.collections(owner).await.unwrap().len(), 1);
}

/// The first requests of a client often come together (R10 loads with 8
/// parallel PUTs): every one of them finds the default calendar, whichever
/// made it. Before, a request that read "no agenda" before another made the
/// defaults, and "some collections" after, answered 404 (a 409 to the PUT).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_all_find_the_defaults() {
    for _ in 0..10 {
        let (_dir, gw, owner) = service(Settings::default()).await;
        let gw = std::sync::Arc::new(gw);
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let gw = std::sync::Arc::clone(&gw);
                let kind = if i % 2 == 0 { CollectionKind::Calendar } else { CollectionKind::AddressBook };
                let segment = if i % 2 == 0 { "agenda" } else { "contacts" };
                tokio::spawn(async move { gw.collection(owner, kind, segment).await.map(|c| c.id) })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().expect("every first request finds its default collection");
        }
        assert_eq!(gw.collections(owner).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn collections_are_checked_and_limited() {
    let settings = Settings { max_collections: 3, ..Settings::default() };
    let (_dir, gw, owner) = service(settings).await;
    gw.collections(owner).await.unwrap();
    let props = NewProps { components: vec!["vevent".into()], colour: Some("#E1000F".into()), ..NewProps::default() };
    let c = gw.create_collection(owner, CollectionKind::Calendar, "cours", &props).await.unwrap();
    assert_eq!((c.components.as_str(), c.display_name.as_str()), ("VEVENT", "cours"));
    assert!(matches!(
        gw.create_collection(owner, CollectionKind::Calendar, "autre", &NewProps::default()).await,
        Err(Error::TooManyCollections)
    ));
    gw.delete_collection(&c).await.unwrap();
    for bad in ["", "..", "a/b", "a\nb"] {
        let r = gw.create_collection(owner, CollectionKind::Calendar, bad, &NewProps::default()).await;
        assert!(matches!(r, Err(Error::Invalid(_))), "{bad:?}");
    }
    let vfreebusy = NewProps { components: vec!["VFREEBUSY".into()], ..NewProps::default() };
    let r = gw.create_collection(owner, CollectionKind::Calendar, "fb", &vfreebusy).await;
    assert!(matches!(r, Err(Error::UnsupportedComponent(_))));
    let bad_colour = CollectionPatch { colour: Some("rouge".into()), ..CollectionPatch::default() };
    let agenda = gw.collection(owner, CollectionKind::Calendar, "agenda").await.unwrap();
    assert!(matches!(gw.update_collection(&agenda, &bad_colour).await, Err(Error::Invalid(_))));
}

#[tokio::test]
async fn objects_are_validated_queried_exactly_and_synced() {
    let settings = Settings { max_object_bytes: 4_096, ..Settings::default() };
    let (_dir, gw, owner) = service(settings).await;
    let agenda = gw.collection(owner, CollectionKind::Calendar, "agenda").await.unwrap();
    let contacts = gw.collection(owner, CollectionKind::AddressBook, "contacts").await.unwrap();
    let weekly = event(
        "w",
        "DTSTART:20260907T080000Z\r\nDTEND:20260907T090000Z\r\nRRULE:FREQ=WEEKLY\r\nEXDATE:20260914T080000Z\r\n",
    );
    let w = gw.put(&agenda, "w.ics", &weekly, Precondition::Absent).await.unwrap();
    assert!(w.created);
    assert_eq!(w.etag, groupware::etag_of(&weekly));
    gw.put(
        &agenda,
        "todo.ics",
        "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
        Precondition::Any,
    )
    .await
    .unwrap();

    let names = |found: Vec<groupware::CollectionObject>| found.into_iter().map(|o| o.name).collect::<Vec<_>>();
    let events = |start, end| Query { component: Some("VEVENT".into()), start: Some(start), end: Some(end) };
    assert_eq!(names(gw.query(&agenda, &events(SEPT_7, SEPT_7 + DAY)).await.unwrap()), ["w.ics"]);
    assert!(gw.query(&agenda, &events(SEPT_7 + 7 * DAY, SEPT_7 + 8 * DAY)).await.unwrap().is_empty(), "EXDATE");
    assert_eq!(names(gw.query(&agenda, &events(SEPT_7 + 700 * DAY, SEPT_7 + 701 * DAY)).await.unwrap()), ["w.ics"]);
    let todos = Query { component: Some("VTODO".into()), start: Some(0), end: Some(1) };
    assert_eq!(names(gw.query(&agenda, &todos).await.unwrap()), ["todo.ics"], "a task without dates meets any range");

    // Validation before anything is stored.
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:p\r\nFN:Paul\r\nEND:VCARD\r\n";
    assert!(matches!(gw.put(&agenda, "p.ics", card, Precondition::Any).await, Err(Error::Invalid(_))));
    assert!(matches!(gw.put(&contacts, "w.vcf", &weekly, Precondition::Any).await, Err(Error::Invalid(_))));
    let big = event("big", &format!("DTSTART:20260907T080000Z\r\nDESCRIPTION:{}\r\n", "x".repeat(5_000)));
    assert!(matches!(gw.put(&agenda, "big.ics", &big, Precondition::Any).await, Err(Error::TooLarge(4_096))));
    assert!(matches!(gw.put(&agenda, "../x", &weekly, Precondition::Any).await, Err(Error::Invalid(_))));
    assert!(
        matches!(gw.put(&agenda, "w2.ics", &weekly, Precondition::Any).await, Err(Error::UidConflict(n)) if n == "w.ics")
    );
    assert!(matches!(
        gw.put(&agenda, "w.ics", &weekly, Precondition::Matches("x")).await,
        Err(Error::PreconditionFailed)
    ));
    gw.put(&contacts, "p.vcf", card, Precondition::Absent).await.unwrap();

    // Sync: the token moves with each change; a deletion is reported by name.
    let agenda = gw.collection(owner, CollectionKind::Calendar, "agenda").await.unwrap();
    let first = gw.changes(&agenda, None).await.unwrap();
    assert_eq!((first.changed.len(), first.deleted.len(), first.token), (2, 0, 2));
    gw.delete(&agenda, "todo.ics", None).await.unwrap();
    assert!(matches!(gw.delete(&agenda, "todo.ics", None).await, Err(Error::NotFound)));
    let agenda = gw.collection(owner, CollectionKind::Calendar, "agenda").await.unwrap();
    let next = gw.changes(&agenda, Some(first.token)).await.unwrap();
    assert_eq!((next.changed.len(), next.deleted.as_slice(), next.token), (0, ["todo.ics".to_owned()].as_slice(), 3));
    assert!(matches!(gw.changes(&agenda, Some(99)).await, Err(Error::InvalidSyncToken)));
}

/// Sharing: by address, by UAI (reaching everyone of the établissement),
/// by a unit's name (reaching the units below); the widest right wins;
/// one's own calendar, unknown grantees and address books are refused.
#[tokio::test]
async fn calendars_are_shared_by_address_uai_and_unit() {
    use groupware::{Right, ShareGrantee};
    let (_dir, gw, claire) = service(Settings::default()).await;
    let store = store::Store::open(&format!("sqlite://{}", _dir.path().join("m.db").display())).await.unwrap();
    let academie = store
        .create_org_unit(&store::NewOrgUnit {
            parent: None,
            kind: model::OrgUnitKind::Academie,
            name: "Académie de test".into(),
            uai: None,
        })
        .await
        .unwrap();
    let college = store
        .create_org_unit(&store::NewOrgUnit {
            parent: Some(academie),
            kind: model::OrgUnitKind::Etablissement,
            name: "Collège Jules Ferry".into(),
            uai: Some(model::Uai::parse("0541234A").unwrap()),
        })
        .await
        .unwrap();
    let person = |local: &str, unit| store::NewAccount {
        address: model::Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
        login: None,
        display_name: local.into(),
        role: model::Role::Teacher,
        status: model::AccountStatus::Active,
        quota_bytes: None,
        org_unit: unit,
        password_hash: None,
    };
    let paul = store.create_account(&person("paul.durand", Some(college))).await.unwrap();
    let rectorat = store.create_account(&person("agent.rectorat", Some(academie))).await.unwrap();
    let outsider = store.create_account(&person("sans.unite", None)).await.unwrap();
    let agenda = gw.collection(claire, CollectionKind::Calendar, "agenda").await.unwrap();

    let share = gw.share(&agenda, "PAUL.DURAND@ac-test.fr", Right::FreeBusy).await.unwrap();
    assert_eq!((share.grantee, share.label.as_str()), (ShareGrantee::Account(paul.id), "paul.durand@ac-test.fr"));
    gw.share(&agenda, "0541234A", Right::Read).await.unwrap();
    // Paul holds free/busy directly and read through his collège: read wins.
    let seen = gw.shared_with(paul.id, Some(college)).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].right, seen[0].key()), (Right::Read, "claire.martin@ac-test.fr~agenda".to_owned()));
    // The académie's agent is above the collège, not below it.
    assert!(gw.shared_with(rectorat.id, Some(academie)).await.unwrap().is_empty());
    gw.share(&agenda, "Académie de test", Right::Write).await.unwrap();
    assert_eq!(gw.shared_with(rectorat.id, Some(academie)).await.unwrap()[0].right, Right::Write);
    assert_eq!(gw.shared_with(paul.id, Some(college)).await.unwrap()[0].right, Right::Write);
    assert!(gw.shared_with(outsider.id, None).await.unwrap().is_empty());
    let found = gw.shared_calendar(paul.id, Some(college), "claire.martin@ac-test.fr", "agenda").await.unwrap();
    assert_eq!(found.collection.id, agenda.id);
    for (owner, segment) in [("claire.martin@ac-test.fr", "autre"), ("paul.durand@ac-test.fr", "agenda")] {
        assert!(matches!(gw.shared_calendar(paul.id, Some(college), owner, segment).await, Err(Error::NotFound)));
    }
    assert!(matches!(
        gw.shared_calendar(outsider.id, None, "claire.martin@ac-test.fr", "agenda").await,
        Err(Error::NotFound)
    ));
    let mut labels: Vec<String> = gw.shares(&agenda).await.unwrap().into_iter().map(|s| s.label).collect();
    labels.sort();
    assert_eq!(labels, ["Académie de test", "Collège Jules Ferry (0541234A)", "paul.durand@ac-test.fr"]);
    // Refused: oneself, nobody, junk, an address book.
    for who in ["claire.martin@ac-test.fr", "personne@ac-test.fr", "pas une adresse@", "9999999Z", "<script>", ""] {
        assert!(matches!(gw.share(&agenda, who, Right::Read).await, Err(Error::Invalid(_))), "{who}");
    }
    let contacts = gw.collection(claire, CollectionKind::AddressBook, "contacts").await.unwrap();
    assert!(matches!(gw.share(&contacts, "paul.durand@ac-test.fr", Right::Read).await, Err(Error::Invalid(_))));
    // Revoked, one by one.
    gw.unshare(&agenda, ShareGrantee::Unit(academie)).await.unwrap();
    gw.unshare(&agenda, ShareGrantee::Unit(college)).await.unwrap();
    assert_eq!(gw.shared_with(paul.id, Some(college)).await.unwrap()[0].right, Right::FreeBusy);
    assert!(matches!(gw.unshare(&agenda, ShareGrantee::Unit(college)).await, Err(Error::NotFound)));
    // A name that looks like a shared calendar's is not a collection name.
    let props = NewProps::default();
    assert!(matches!(
        gw.create_collection(claire, CollectionKind::Calendar, "paul.durand@ac-test.fr~agenda", &props).await,
        Err(Error::Invalid(_))
    ));
}

/// The agenda's own writes: a form's event through `create_event`, its
/// occurrences, an edit under the etag, one occurrence excluded.
#[tokio::test]
async fn events_from_a_form_are_written_listed_edited_and_cut() {
    use groupware::event::{Date, EventDraft, Frequency, Moment, Recurrence, Until};
    let (_dir, gw, claire) = service(Settings::default()).await;
    let agenda = gw.collection(claire, CollectionKind::Calendar, "agenda").await.unwrap();
    let day = Date::new(2026, 9, 7).unwrap();
    let draft = EventDraft {
        summary: "Conseil de classe".into(),
        location: String::new(),
        description: String::new(),
        start: Moment { date: day, time: Some((17, 0)) },
        end: Moment { date: day, time: Some((18, 0)) },
        zone: "Europe/Paris".into(),
        recurrence: Some(Recurrence { frequency: Frequency::Weekly(vec![0]), until: Until::Count(3) }),
        alarm: groupware::event::AlarmChoice::Default,
    };
    let name = gw.create_event(&agenda, &draft, SEPT_7).await.unwrap();
    let all = gw.occurrences(&agenda, SEPT_7, SEPT_7 + 30 * DAY).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|o| o.name == name && o.summary == "Conseil de classe"));
    // Only the occurrences in the range.
    assert_eq!(gw.occurrences(&agenda, SEPT_7 + 8 * DAY, SEPT_7 + 9 * DAY).await.unwrap().len(), 0);
    let etag = gw.get(&agenda, &name).await.unwrap().etag;
    let moved = EventDraft { summary: "Conseil (déplacé)".into(), ..draft.clone() };
    let written = gw.edit_event(&agenda, &name, &etag, &moved, None, SEPT_7).await.unwrap();
    // The old etag no longer matches.
    assert!(matches!(gw.edit_event(&agenda, &name, &etag, &draft, None, SEPT_7).await, Err(Error::PreconditionFailed)));
    assert_ne!(written.etag, etag);
    gw.exclude_occurrence(&agenda, &name, all[1].start).await.unwrap();
    let left = gw.occurrences(&agenda, SEPT_7, SEPT_7 + 30 * DAY).await.unwrap();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|o| o.summary == "Conseil (déplacé)"));
    assert!(matches!(gw.exclude_occurrence(&agenda, "absent.ics", all[0].start).await, Err(Error::NotFound)));
    let bad = EventDraft { summary: String::new(), ..draft };
    assert!(matches!(gw.create_event(&agenda, &bad, SEPT_7).await, Err(Error::Invalid(_))));
}

/// An event at `start` (UTC seconds) with these alarm lines.
fn timed(uid: &str, start: i64, alarms: &str) -> String {
    let stamp = |t: i64| groupware::event::utc_stamp(t);
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Conseil {uid}\r\n{alarms}END:VEVENT\r\nEND:VCALENDAR\r\n",
        stamp(start),
        stamp(start + 3600)
    )
}

#[tokio::test]
async fn alarms_fire_once_at_their_time_and_follow_the_calendar_default() {
    let (_dir, gw, owner) = service(Settings::default()).await;
    let agenda = gw.collection(owner, CollectionKind::Calendar, "agenda").await.unwrap();
    assert_eq!(agenda.reminder_minutes, Some(groupware::reminders::DEFAULT_MINUTES));
    let now = groupware::reminders::unix_now();
    let start = now - now % 60 + 2 * 3600;
    let own = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\nTRIGGER:-PT30M\r\nEND:VALARM\r\n";
    gw.put(&agenda, "a.ics", &timed("a", start, own), Precondition::Absent).await.unwrap();
    gw.put(&agenda, "b.ics", &timed("b", start, ""), Precondition::Absent).await.unwrap();
    assert_eq!(gw.get(&agenda, "a.ics").await.unwrap().next_alarm, Some(start - 1800));
    assert_eq!(gw.get(&agenda, "b.ics").await.unwrap().next_alarm, Some(start - 900), "the calendar's default");

    assert!(gw.run_reminders(now).await.unwrap().is_empty(), "nothing due yet");
    let fired = gw.run_reminders(start - 1800).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!((fired[0].account, fired[0].reminder.title.as_str()), (owner, "Conseil a"));
    assert!(gw.run_reminders(start - 1800).await.unwrap().is_empty(), "once");
    let fired = gw.run_reminders(start - 60).await.unwrap();
    assert_eq!(fired.iter().map(|f| f.reminder.title.as_str()).collect::<Vec<_>>(), ["Conseil b"]);
    let pending = gw.pending_reminders(owner, start).await.unwrap();
    assert_eq!(pending.len(), 2);
    assert!(gw.reminders_to_mail().await.unwrap().is_empty(), "displayed only: nothing to mail");

    // No default any more, mail chosen: the objects are computed again.
    gw.set_reminders(&agenda, None, true).await.unwrap();
    let later = start + 86_400;
    gw.put(&agenda, "c.ics", &timed("c", later, own), Precondition::Absent).await.unwrap();
    gw.run_reminders(now).await.unwrap();
    assert_eq!(gw.get(&agenda, "b.ics").await.unwrap().next_alarm, None, "no default, no alarm");
    let fired = gw.run_reminders(later - 1800).await.unwrap();
    assert!(fired.len() == 1 && fired[0].reminder.mail, "{fired:?}");
    assert_eq!(gw.reminders_to_mail().await.unwrap().len(), 1);

    // A server stopped for a night does not fire yesterday's reminders.
    let late = later + 2 * 86_400;
    gw.put(&agenda, "d.ics", &timed("d", late, own), Precondition::Absent).await.unwrap();
    assert!(gw.run_reminders(late + 7 * 3600).await.unwrap().is_empty());
    assert_eq!(gw.get(&agenda, "d.ics").await.unwrap().next_alarm, None);
    assert!(matches!(gw.set_reminders(&agenda, Some(-5), false).await, Err(Error::Invalid(_))));
}

/// A month's calendar-query reads plain events off their stored bounds
/// (no parsing); its answers must be those of parsing every object. Edges
/// included: an event ending exactly where the range starts, one starting
/// where it ends, one without duration on the range's start, a whole day,
/// a zone, and objects that must be parsed (a recurrence, an override, a
/// description that mentions RRULE).
#[tokio::test]
async fn plain_events_are_matched_from_their_bounds_exactly_as_by_parsing() {
    let (_dir, gw, owner) = service(Settings::default()).await;
    let agenda = gw.collection(owner, CollectionKind::Calendar, "agenda").await.unwrap();
    let objects = [
        ("avant", "DTSTART:20260906T230000Z\r\nDTEND:20260907T000000Z\r\n"),
        ("pile", "DTSTART:20260907T000000Z\r\nDTEND:20260907T010000Z\r\n"),
        ("instant", "DTSTART:20260907T000000Z\r\n"),
        ("fin", "DTSTART:20260908T000000Z\r\nDTEND:20260908T010000Z\r\n"),
        ("jour", "DTSTART;VALUE=DATE:20260907\r\n"),
        ("paris", "DTSTART;TZID=Europe/Paris:20260907T013000\r\nDTEND;TZID=Europe/Paris:20260907T023000\r\n"),
        ("chevauche", "DTSTART:20260906T120000Z\r\nDTEND:20260909T120000Z\r\n"),
        ("hebdo", "DTSTART:20260831T080000Z\r\nDTEND:20260831T090000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"),
        ("texte", "DTSTART:20260907T080000Z\r\nDTEND:20260907T090000Z\r\nDESCRIPTION:pas de RRULE ici\r\n"),
    ];
    for (uid, dates) in objects {
        gw.put(&agenda, &format!("{uid}.ics"), &event(uid, dates), Precondition::Absent).await.unwrap();
    }
    let ranges = [
        (SEPT_7, SEPT_7 + DAY),
        (SEPT_7 - 3600, SEPT_7),
        (SEPT_7 + DAY, SEPT_7 + 2 * DAY),
        (SEPT_7 + 1800, SEPT_7 + 1801),
        (SEPT_7 - 10 * DAY, SEPT_7 + 10 * DAY),
    ];
    let all = gw.query(&agenda, &Query::default()).await.unwrap();
    let defaults = Settings::default();
    let exp = groupware::ical::Expansion { zone: defaults.time_zone.parse().unwrap(), cap: defaults.expansion_cap };
    for (start, end) in ranges {
        let q = Query { component: Some("VEVENT".into()), start: Some(start), end: Some(end) };
        let mut fast: Vec<String> = gw.query(&agenda, &q).await.unwrap().into_iter().map(|o| o.name).collect();
        let mut parsed: Vec<String> = all
            .iter()
            .filter(|o| groupware::ical::occurs_between(&o.content, exp, start, end))
            .map(|o| o.name.clone())
            .collect();
        fast.sort();
        parsed.sort();
        assert_eq!(fast, parsed, "range {start}..{end}");
    }
    // The edges themselves, as RFC 4791 section 9.9 has them.
    let day: Vec<String> = {
        let q = Query { component: Some("VEVENT".into()), start: Some(SEPT_7), end: Some(SEPT_7 + DAY) };
        let mut n: Vec<String> = gw.query(&agenda, &q).await.unwrap().into_iter().map(|o| o.name).collect();
        n.sort();
        n
    };
    assert!(!day.contains(&"avant.ics".to_owned()) && !day.contains(&"fin.ics".to_owned()), "{day:?}");
    assert!(day.contains(&"pile.ics".to_owned()) && day.contains(&"instant.ics".to_owned()), "{day:?}");
}
