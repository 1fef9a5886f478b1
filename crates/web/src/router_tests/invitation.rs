//! « Accepter / Provisoire / Refuser » on an invitation mail: the buttons
//! show only for an attendee, the answer goes into the reader's calendar,
//! and the form names only the event (its UID) and the answer: a UID the
//! message does not hold, an unknown answer, or another account's message
//! change nothing.

use axum::http::{Method, StatusCode};

use super::fixture::{Fixture, Who};
use super::table::Form;

fn invitation(uid: &str, attendee: &str) -> String {
    format!(
        "From: Direction <direction@example.org>\r\nTo: {attendee}\r\nSubject: Invitation : conseil\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n\
         BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20261101T100000Z\r\nDTSTART:20261126T160000Z\r\nDTEND:20261126T173000Z\r\n\
         SUMMARY:Conseil\r\nORGANIZER:mailto:direction@example.org\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{attendee}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

#[tokio::test]
async fn an_invitation_is_answered_by_its_attendee_only() {
    let fx = Fixture::new().await;
    let ms = &fx.app.ms;
    let a = fx.a.address.to_string();
    let delivered = ms.deliver(invitation("conseil-1", &a).as_bytes(), &[fx.a.id], 0).await.unwrap();
    let uid = delivered[0].uid;
    let other = ms.deliver(invitation("conseil-2", "quelqu-un@example.org").as_bytes(), &[fx.a.id], 0).await.unwrap();
    let (s, b) = (fx.session(Who::Owner).await.unwrap(), fx.session(Who::Other).await.unwrap());
    let fx = &fx;
    let page = |u: i64| format!("/courrier/{}/{u}", fx.inbox);
    let post = |who: &super::fixture::Session, u: i64, fields: &str| {
        let path = format!("/courrier/{}/{u}/invitation", fx.inbox);
        let form = Form::url(&who.csrf, fields);
        let cookie = who.cookie.clone();
        async move { fx.request(Method::POST, &path, Some(&cookie), Some(form)).await }
    };

    let (status, html) = fx.request(Method::GET, &page(uid), Some(&s.cookie), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"reponse\" value=\"ACCEPTED\""), "{html}");
    let (_, html) = fx.request(Method::GET, &page(other[0].uid), Some(&s.cookie), None).await;
    assert!(!html.contains("name=\"reponse\""), "A is not among the attendees: no buttons");

    // Hostile forms: another UID, an answer that is none, B on A's message.
    assert_eq!(post(&s, uid, "uid=conseil-2&reponse=ACCEPTED").await.0, StatusCode::NOT_FOUND);
    assert_eq!(post(&s, uid, "uid=conseil-1&reponse=DELEGATED").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(post(&b, uid, "uid=conseil-1&reponse=ACCEPTED").await.0, StatusCode::NOT_FOUND);
    let (status, html) = post(&s, other[0].uid, "uid=conseil-2&reponse=ACCEPTED").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not invited: refused with the reason");
    assert!(html.contains("participants"), "{html}");
    let gw = fx.app.groupware.as_ref().unwrap();
    let who = groupware::scheduling::Principal {
        id: fx.a.id,
        address: fx.a.address.clone(),
        display_name: fx.a.display_name.clone(),
    };
    assert_eq!(gw.answer_of(&who, "conseil-1").await.unwrap(), None, "nothing stored yet");

    assert_eq!(post(&s, uid, "uid=conseil-1&reponse=TENTATIVE").await.0, StatusCode::SEE_OTHER);
    assert_eq!(gw.answer_of(&who, "conseil-1").await.unwrap(), Some(groupware::scheduling::PartStat::Tentative));
    let (_, html) = fx.request(Method::GET, &page(uid), Some(&s.cookie), None).await;
    assert!(html.contains("data-reponse=\"TENTATIVE\""), "the current answer is shown");
}
