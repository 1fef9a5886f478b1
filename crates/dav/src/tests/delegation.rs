//! An assistant acting for a colleague in their calendar
//! (`groupware::Groupware::acting_for`): Alice's « Agenda » is shared with
//! Chloé with the right to write. Without a mail delegation, what Chloé
//! writes there schedules nothing; once Alice lets her send « de la part
//! de » her, the invitations Chloé writes leave as Alice's, Chloé answers
//! Bruno's invitation for Alice, and each act is in Alice's delegation
//! journal. A read share with the same mail delegation still writes nothing.

use axum::http::StatusCode;
use groupware::{CollectionKind, Right};

use super::fixture::*;

const C_IN_A: &str = "/dav/calendars/chloe.roux@ac-test.fr/alice.martin@ac-test.fr~agenda/";
const D_IN_A: &str = "/dav/calendars/denis.faure@ac-test.fr/alice.martin@ac-test.fr~agenda/";
const A_CAL: &str = "/dav/calendars/alice.martin@ac-test.fr/agenda/";
const B_CAL: &str = "/dav/calendars/bruno.petit@ac-test.fr/agenda/";

async fn id_of(fx: &Fixture, address: &str) -> model::AccountId {
    fx.store.account_by_address(&model::Address::parse(address).unwrap()).await.unwrap().unwrap().id
}

async fn delegate(fx: &Fixture, grantee: &str, on_behalf: bool) {
    let grantee = id_of(fx, grantee).await;
    let grant = store::NewGrant { owner: fx.a.id, mailbox: None, grantee, rights: "lrs", send_as: false, on_behalf };
    fx.store.set_grant(&grant).await.unwrap();
}

fn meeting(uid: &str, organizer: &str, attendee: &str, partstat: &str) -> String {
    event(
        uid,
        "20261126T160000Z",
        "20261126T173000Z",
        &format!("ORGANIZER:mailto:{organizer}\r\nATTENDEE;PARTSTAT={partstat}:mailto:{attendee}\r\n"),
    )
}

async fn in_b_calendar(fx: &Fixture, uid: &str) -> bool {
    let name = groupware::scheduling::object_name(uid);
    fx.send("GET", &format!("{B_CAL}{name}"), Some(B), &[], "").await.status == StatusCode::OK
}

#[tokio::test]
async fn a_delegate_invites_and_answers_for_the_owner_and_it_is_journaled() {
    let fx = Fixture::new().await;
    let cal = fx.groupware.collection(fx.a.id, CollectionKind::Calendar, "agenda").await.unwrap();
    fx.groupware.share(&cal, C, Right::Write).await.unwrap();
    fx.groupware.share(&cal, D, Right::Read).await.unwrap();

    // A write share alone: stored, nobody invited, nothing in Alice's journal.
    let r = fx.send("PUT", &format!("{C_IN_A}sans.ics"), Some(C), &[], &meeting("sans", A, B, "NEEDS-ACTION")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(!in_b_calendar(&fx, "sans").await, "a calendar share sends nothing under Alice's name");
    assert!(fx.store.delegation_journal(fx.a.id, 10).await.unwrap().is_empty());

    // A mail delegation without a sending right changes nothing.
    delegate(&fx, C, false).await;
    let r =
        fx.send("PUT", &format!("{C_IN_A}lecture.ics"), Some(C), &[], &meeting("lecture", A, B, "NEEDS-ACTION")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(!in_b_calendar(&fx, "lecture").await);

    // « de la part de »: Chloé's invitation, organised by Alice, reaches Bruno.
    delegate(&fx, C, true).await;
    let r =
        fx.send("PUT", &format!("{C_IN_A}conseil.ics"), Some(C), &[], &meeting("conseil", A, B, "NEEDS-ACTION")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(in_b_calendar(&fx, "conseil").await, "delivered as Alice's invitation");
    let own = fx.send("GET", &format!("{A_CAL}conseil.ics"), Some(A), &[], "").await;
    assert!(own.body.replace("\r\n ", "").contains("SCHEDULE-STATUS=1.2"), "{}", own.body);

    // Bruno invites Alice; Chloé accepts for her in Alice's calendar; Bruno's copy says so.
    let r = fx.send("PUT", &format!("{B_CAL}visite.ics"), Some(B), &[], &meeting("visite", B, A, "NEEDS-ACTION")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let name = groupware::scheduling::object_name("visite");
    let copy = fx.send("GET", &format!("{C_IN_A}{name}"), Some(C), &[], "").await;
    assert_eq!(copy.status, StatusCode::OK, "the invitation is in Alice's calendar, seen by Chloé");
    let answered = copy.body.replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED");
    let r = fx.send("PUT", &format!("{C_IN_A}{name}"), Some(C), &[("If-Match", &copy.etag())], &answered).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let organiser = fx.send("GET", &format!("{B_CAL}visite.ics"), Some(B), &[], "").await;
    let unfolded = organiser.body.replace("\r\n ", "");
    assert!(unfolded.contains(&format!("PARTSTAT=ACCEPTED:mailto:{A}")), "{unfolded}");

    // Chloé deletes the meeting she organised for Alice: Bruno's copy goes.
    let r = fx.send("DELETE", &format!("{C_IN_A}conseil.ics"), Some(C), &[], "").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(!in_b_calendar(&fx, "conseil").await, "cancelled as Alice");

    let journal = fx.store.delegation_journal(fx.a.id, 10).await.unwrap();
    let acts: Vec<(&str, &str)> = journal.iter().map(|e| (e.actor_address.as_str(), e.action.as_str())).collect();
    assert!(acts.contains(&(C, "agenda")) && acts.contains(&(C, "agenda-suppression")), "{acts:?}");
    assert!(acts.iter().all(|(who, _)| *who == C), "{acts:?}");

    // Denis: a read share, even with the sending right, writes nothing.
    delegate(&fx, D, true).await;
    let r = fx.send("PUT", &format!("{D_IN_A}x.ics"), Some(D), &[], &meeting("x", A, B, "NEEDS-ACTION")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!in_b_calendar(&fx, "x").await);
}
