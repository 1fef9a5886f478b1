//! Scheduling between local accounts, with a room and outside addresses,
//! on a fresh SQLite store (the store's own suite runs its SQL on both
//! backends). Mails are caught by a postman that keeps them.

use std::sync::{Arc, Mutex};

use groupware::scheduling::{ImipOutcome, PartStat, PostFuture, Postman, Principal, itip};
use groupware::{Collection, CollectionKind, Error, Groupware, Precondition, Settings};
use model::Address;

/// Every mail sent: sender, recipients, the message.
#[derive(Default)]
struct Mailbag(Mutex<Vec<(String, Vec<String>, String)>>);

impl Postman for Mailbag {
    fn send<'a>(&'a self, from: &'a Principal, recipients: &'a [Address], message: Vec<u8>) -> PostFuture<'a> {
        let to = recipients.iter().map(ToString::to_string).collect();
        self.0.lock().unwrap().push((from.address.to_string(), to, String::from_utf8_lossy(&message).into_owned()));
        Box::pin(async { Ok(()) })
    }
}

impl Mailbag {
    fn take(&self) -> Vec<(String, Vec<String>, String)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct World {
    _dir: tempfile::TempDir,
    gw: Groupware,
    mail: Arc<Mailbag>,
    claire: Principal,
    paul: Principal,
    room: Principal,
}

const CLAIRE: &str = "claire.martin@ac-test.fr";
const PAUL: &str = "paul.durand@ac-test.fr";
const ROOM: &str = "salle-du-conseil.0541234a@ac-test.fr";
const OUTSIDE: &str = "parent@example.org";

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = store::Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&model::Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let new = |address: &str, name: &str| store::NewAccount {
        address: Address::parse(address).unwrap(),
        login: None,
        display_name: name.into(),
        role: model::Role::Teacher,
        status: model::AccountStatus::Active,
        quota_bytes: None,
        org_unit: None,
        password_hash: None,
    };
    let principal = |a: store::Account| Principal { id: a.id, address: a.address, display_name: a.display_name };
    let claire = principal(store.create_account(&new(CLAIRE, "Claire Martin")).await.unwrap());
    let paul = principal(store.create_account(&new(PAUL, "Paul Durand")).await.unwrap());
    let room = principal(store.create_resource(&new(ROOM, "Salle du conseil"), "salle").await.unwrap());
    let gw = Groupware::new(store, Settings::default()).unwrap();
    let mail = Arc::new(Mailbag::default());
    gw.set_postman(mail.clone());
    World { _dir: dir, gw, mail, claire, paul, room }
}

/// An event from 16:00 to 17:30 UTC on 26 November 2026 (`hour` moves it).
fn meeting(uid: &str, organizer: &str, attendees: &[&str], extra: &str) -> String {
    let mut lines = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//FR\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20261101T100000Z\r\nDTSTART:20261126T160000Z\r\nDTEND:20261126T173000Z\r\n\
         SUMMARY:Conseil pédagogique\r\nORGANIZER;CN=Organisateur:mailto:{organizer}\r\n{extra}"
    );
    for a in attendees {
        let cutype = if a.starts_with("salle") { "CUTYPE=ROOM;" } else { "" };
        lines.push_str(&format!("ATTENDEE;{cutype}PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{a}\r\n"));
    }
    lines.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    lines
}

async fn agenda(w: &World, who: &Principal) -> Collection {
    w.gw.collection(who.id, CollectionKind::Calendar, "agenda").await.unwrap()
}

/// `who`'s copy of `uid`, with its text.
async fn copy_of(w: &World, who: &Principal, uid: &str) -> Option<String> {
    let c = agenda(w, who).await;
    let name = groupware::scheduling::object_name(uid);
    match w.gw.get(&c, &name).await {
        Ok(o) => Some(o.content),
        Err(_) => {
            let tags = w.gw.tags(&c).await.unwrap();
            for t in tags {
                let o = w.gw.get(&c, &t.name).await.unwrap();
                if o.uid == uid {
                    return Some(o.content);
                }
            }
            None
        }
    }
}

fn partstat(text: &str, who: &str) -> Option<PartStat> {
    itip::partstat_of(&calcard_parse(text), who)
}

fn calcard_parse(text: &str) -> calcard::icalendar::ICalendar {
    match calcard::Parser::new(text).entry() {
        calcard::Entry::ICalendar(cal) => cal,
        other => panic!("not a calendar: {other:?}"),
    }
}

#[tokio::test]
async fn an_invitation_reaches_local_attendees_the_room_and_outside() {
    let w = world().await;
    let cal = agenda(&w, &w.claire).await;
    let text = meeting("conseil-1", CLAIRE, &[CLAIRE, PAUL, ROOM, OUTSIDE], "");
    let s = w.gw.put_scheduled(&w.claire, &cal, "conseil.ics", &text, Precondition::Absent).await.unwrap();
    assert!(s.written.created && s.rewritten, "SCHEDULE-STATUS written back: the client must read it again");

    let pauls = copy_of(&w, &w.paul, "conseil-1").await.expect("Paul's copy");
    assert_eq!(partstat(&pauls, PAUL), Some(PartStat::NeedsAction));
    assert!(!pauls.contains("SCHEDULE-STATUS") && !pauls.contains("METHOD"), "{pauls}");
    let rooms = copy_of(&w, &w.room, "conseil-1").await.expect("the room's copy");
    assert_eq!(partstat(&rooms, ROOM), Some(PartStat::Accepted));

    let claires = w.gw.get(&cal, "conseil.ics").await.unwrap().content;
    assert_eq!(partstat(&claires, ROOM), Some(PartStat::Accepted), "the room answered at once");
    assert_eq!(partstat(&claires, PAUL), Some(PartStat::NeedsAction));
    let unfolded = claires.replace("\r\n ", "");
    assert!(unfolded.contains("SCHEDULE-STATUS=1.2:mailto:paul.durand"), "{unfolded}");
    assert!(unfolded.contains("SCHEDULE-STATUS=1.1:mailto:parent@example.org"), "{unfolded}");

    let mails = w.mail.take();
    assert_eq!(mails.len(), 1, "one invitation mail");
    let (from, to, message) = &mails[0];
    assert_eq!(from, CLAIRE);
    assert_eq!(to, &[PAUL.to_owned(), OUTSIDE.to_owned()], "no mail to the room, nor to Claire");
    let lower = message.to_ascii_lowercase();
    assert!(lower.contains("method=request") || lower.contains("method=\"request\""), "{message}");

    // Claire's client puts the same version again: nobody is mailed twice.
    let again = w.gw.get(&cal, "conseil.ics").await.unwrap().content;
    w.gw.put_scheduled(&w.claire, &cal, "conseil.ics", &again, Precondition::Any).await.unwrap();
    assert!(w.mail.take().is_empty());
}

#[tokio::test]
async fn an_answer_changes_only_the_attendees_partstat() {
    let w = world().await;
    let cal = agenda(&w, &w.claire).await;
    let text = meeting("conseil-2", CLAIRE, &[PAUL], "");
    w.gw.put_scheduled(&w.claire, &cal, "c.ics", &text, Precondition::Absent).await.unwrap();
    w.mail.take();

    // Paul accepts from his calendar client, and also renames the event in his copy.
    let pcal = agenda(&w, &w.paul).await;
    let name = groupware::scheduling::object_name("conseil-2");
    let theirs = w.gw.get(&pcal, &name).await.unwrap();
    let mut parsed = calcard_parse(&theirs.content);
    itip::set_partstat(&mut parsed, PAUL, PartStat::Accepted);
    let accepted = itip::write(&parsed).replace("Conseil pédagogique", "Renommé par Paul");
    w.gw.put_scheduled(&w.paul, &pcal, &name, &accepted, Precondition::Matches(&theirs.etag)).await.unwrap();
    let claires = w.gw.get(&cal, "c.ics").await.unwrap().content;
    assert_eq!(partstat(&claires, PAUL), Some(PartStat::Accepted));
    assert!(claires.contains("Conseil pédagogique") && !claires.contains("Renommé"), "only the PARTSTAT travels");
    assert!(w.mail.take().is_empty(), "a local organiser's copy is updated, not mailed");
    assert_eq!(w.gw.answer_of(&w.paul, "conseil-2").await.unwrap(), Some(PartStat::Accepted));

    // From the webmail, with the invitation mail's text: Paul changes his mind.
    let mut request = calcard_parse(&text);
    itip::set_method(&mut request, Some(calcard::icalendar::ICalendarMethod::Request));
    let request = itip::write(&request);
    w.gw.respond(&w.paul, &request, PartStat::Tentative).await.unwrap();
    let claires = w.gw.get(&cal, "c.ics").await.unwrap().content;
    assert_eq!(partstat(&claires, PAUL), Some(PartStat::Tentative));
    assert_eq!(w.gw.answer_of(&w.paul, "conseil-2").await.unwrap(), Some(PartStat::Tentative));

    // Someone not invited cannot answer; the organiser cannot answer herself.
    let err = w.gw.respond(&w.room, &request, PartStat::Accepted).await.unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    assert!(matches!(w.gw.respond(&w.claire, &request, PartStat::Accepted).await, Err(Error::Invalid(_))));

    // Paul deletes his copy: that declines.
    let theirs = w.gw.get(&pcal, &name).await.unwrap();
    w.gw.delete_scheduled(&w.paul, &pcal, &name, Some(&theirs.etag)).await.unwrap();
    let claires = w.gw.get(&cal, "c.ics").await.unwrap().content;
    assert_eq!(partstat(&claires, PAUL), Some(PartStat::Declined));
}

#[tokio::test]
async fn the_room_declines_an_overlapping_booking() {
    let w = world().await;
    let claire_cal = agenda(&w, &w.claire).await;
    let first = meeting("r-1", CLAIRE, &[ROOM], "");
    w.gw.put_scheduled(&w.claire, &claire_cal, "r1.ics", &first, Precondition::Absent).await.unwrap();
    let paul_cal = agenda(&w, &w.paul).await;
    let second = meeting("r-2", PAUL, &[ROOM], "");
    w.gw.put_scheduled(&w.paul, &paul_cal, "r2.ics", &second, Precondition::Absent).await.unwrap();
    let pauls = w.gw.get(&paul_cal, "r2.ics").await.unwrap().content;
    assert_eq!(partstat(&pauls, ROOM), Some(PartStat::Declined));
    assert!(copy_of(&w, &w.room, "r-2").await.is_none(), "a room keeps only what it accepted");
    // A transparent event does not take the room.
    let light = meeting("r-3", PAUL, &[ROOM], "TRANSP:TRANSPARENT\r\n");
    let room_cal = agenda(&w, &w.room).await;
    w.gw.put(&room_cal, "light.ics", &light.replace("UID:r-3", "UID:r-3b"), Precondition::Absent).await.unwrap();
    // Claire cancels hers: the room's copy goes, and Paul's booking may be made again.
    let o = w.gw.get(&claire_cal, "r1.ics").await.unwrap();
    w.gw.delete_scheduled(&w.claire, &claire_cal, "r1.ics", Some(&o.etag)).await.unwrap();
    assert!(copy_of(&w, &w.room, "r-1").await.is_none());
    let bumped = second.replace("DTSTAMP:", "SEQUENCE:1\r\nDTSTAMP:");
    w.gw.put_scheduled(&w.paul, &paul_cal, "r2.ics", &bumped, Precondition::Any).await.unwrap();
    let pauls = w.gw.get(&paul_cal, "r2.ics").await.unwrap().content;
    assert_eq!(partstat(&pauls, ROOM), Some(PartStat::Accepted), "free again; transparent time is not busy");
}

#[tokio::test]
async fn outside_replies_are_believed_only_from_the_attendee() {
    let w = world().await;
    let cal = agenda(&w, &w.claire).await;
    let text = meeting("ext-1", CLAIRE, &[OUTSIDE], "SEQUENCE:3\r\n");
    w.gw.put_scheduled(&w.claire, &cal, "e.ics", &text, Precondition::Absent).await.unwrap();
    w.mail.take();
    let reply = |seq: i64, partstat: &str, who: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:ext-1\r\n\
             DTSTAMP:20261102T100000Z\r\nSEQUENCE:{seq}\r\nDTSTART:20261126T160000Z\r\n\
             ORGANIZER:mailto:{CLAIRE}\r\nATTENDEE;PARTSTAT={partstat}:mailto:{who}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    let read = || async { partstat(&w.gw.get(&cal, "e.ics").await.unwrap().content, OUTSIDE) };
    // A reply forged by someone else, for the parent.
    assert_eq!(
        w.gw.receive_imip(&w.claire, "eve@example.net", &reply(3, "DECLINED", OUTSIDE)).await.unwrap(),
        ImipOutcome::Ignored("the attendee is not the sender")
    );
    // A reply for an older version, a reply that is a request, garbage.
    assert_eq!(
        w.gw.receive_imip(&w.claire, OUTSIDE, &reply(2, "DECLINED", OUTSIDE)).await.unwrap(),
        ImipOutcome::Ignored("no such meeting organised here, or an older SEQUENCE")
    );
    let request = reply(3, "DECLINED", OUTSIDE).replace("METHOD:REPLY", "METHOD:REQUEST");
    assert_eq!(w.gw.receive_imip(&w.claire, OUTSIDE, &request).await.unwrap(), ImipOutcome::Ignored("not a REPLY"));
    assert_eq!(
        w.gw.receive_imip(&w.claire, OUTSIDE, "BEGIN:VCALENDAR\r\n").await.unwrap(),
        ImipOutcome::Ignored("not iCalendar")
    );
    // Paul, who organises nothing of that UID, gets the same reply: nothing happens.
    assert_eq!(
        w.gw.receive_imip(&w.paul, OUTSIDE, &reply(3, "ACCEPTED", OUTSIDE)).await.unwrap(),
        ImipOutcome::Ignored("no such meeting organised here, or an older SEQUENCE")
    );
    assert_eq!(read().await, Some(PartStat::NeedsAction));
    // The real one.
    assert_eq!(
        w.gw.receive_imip(&w.claire, "Parent@Example.org", &reply(3, "ACCEPTED", OUTSIDE)).await.unwrap(),
        ImipOutcome::Applied
    );
    assert_eq!(read().await, Some(PartStat::Accepted));
}

#[tokio::test]
async fn an_outside_invitation_is_accepted_on_click_and_answered_by_mail() {
    let w = world().await;
    let mut request = calcard_parse(&meeting("ext-2", OUTSIDE, &[PAUL, CLAIRE], ""));
    itip::set_method(&mut request, Some(calcard::icalendar::ICalendarMethod::Request));
    let request = itip::write(&request);
    assert_eq!(w.gw.answer_of(&w.paul, "ext-2").await.unwrap(), None, "nothing stored before the click");
    w.gw.respond(&w.paul, &request, PartStat::Accepted).await.unwrap();
    let pauls = copy_of(&w, &w.paul, "ext-2").await.unwrap();
    assert_eq!(partstat(&pauls, PAUL), Some(PartStat::Accepted));
    assert!(!pauls.contains("METHOD"));
    let mails = w.mail.take();
    assert_eq!(mails.len(), 1);
    assert_eq!((mails[0].0.as_str(), mails[0].1.as_slice()), (PAUL, [OUTSIDE.to_owned()].as_slice()));
    let lower = mails[0].2.to_ascii_lowercase();
    assert!(lower.contains("method=reply") || lower.contains("method=\"reply\""), "{}", mails[0].2);
    // A cancel or a reply is no invitation to accept.
    let cancel = request.replace("METHOD:REQUEST", "METHOD:CANCEL");
    assert!(matches!(w.gw.respond(&w.claire, &cancel, PartStat::Accepted).await, Err(Error::Invalid(_))));
    let no_uid = request.replace("UID:ext-2\r\n", "");
    assert!(matches!(w.gw.respond(&w.claire, &no_uid, PartStat::Accepted).await, Err(Error::Invalid(_))));
}

#[tokio::test]
async fn nobody_overwrites_someone_elses_event() {
    let w = world().await;
    // Paul's own event, UID "mine".
    let pcal = agenda(&w, &w.paul).await;
    let own = meeting("mine", PAUL, &[OUTSIDE], "");
    w.gw.put_scheduled(&w.paul, &pcal, "mine.ics", &own, Precondition::Absent).await.unwrap();
    // Claire invites Paul to an event with the same UID.
    let cal = agenda(&w, &w.claire).await;
    let hostile = meeting("mine", CLAIRE, &[PAUL], "");
    w.gw.put_scheduled(&w.claire, &cal, "h.ics", &hostile, Precondition::Absent).await.unwrap();
    let pauls = w.gw.get(&pcal, "mine.ics").await.unwrap().content.replace("\r\n ", "");
    assert!(pauls.contains(&format!("mailto:{PAUL}")) && pauls.contains(OUTSIDE), "Paul's event untouched");
    let claires = w.gw.get(&cal, "h.ics").await.unwrap().content.replace("\r\n ", "");
    assert!(claires.contains("SCHEDULE-STATUS=3.8"), "refused delivery recorded: {claires}");
    // Claire claims that Paul organises an event and that she accepted it: Paul's copy is not hers to change.
    let forged = meeting("mine", PAUL, &[CLAIRE], "").replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED");
    w.gw.put_scheduled(&w.claire, &cal, "f.ics", &forged, Precondition::Absent).await.unwrap_err();
    let forged_elsewhere = forged.replace("UID:mine", "UID:other");
    w.gw.put_scheduled(&w.claire, &cal, "f.ics", &forged_elsewhere, Precondition::Absent).await.unwrap();
    assert!(copy_of(&w, &w.paul, "other").await.is_none(), "nothing of Claire's reaches Paul's calendar");
    // An invitation to more than 500 people is refused with a reason.
    let crowd: Vec<String> = (0..=500).map(|i| format!("p{i}@example.org")).collect();
    let crowd: Vec<&str> = crowd.iter().map(String::as_str).collect();
    let err =
        w.gw.put_scheduled(&w.claire, &cal, "crowd.ics", &meeting("crowd", CLAIRE, &crowd, ""), Precondition::Absent)
            .await;
    assert!(matches!(err, Err(Error::Invalid(ref why)) if why.contains("500")), "{err:?}");
    // The room invites itself through a forged organiser: the room's calendar stays empty.
    let looped = meeting("loop", ROOM, &[ROOM], "");
    w.gw.put_scheduled(&w.claire, &cal, "loop.ics", &looped, Precondition::Absent).await.unwrap();
    assert!(copy_of(&w, &w.room, "loop").await.is_none());
}
