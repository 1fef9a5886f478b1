//! « Listes » → « À modérer » (issue 22): A, the moderator of a list, sees
//! the post held on it in the sidebar's count and the queue, reads it with
//! its HTML cleaned in the sandboxed frame, and approves it (the member B
//! gets it) or refuses it; B, a member but no moderator, sees nothing and
//! decides nothing.

use axum::http::{Method, StatusCode};

use super::fixture::{Fixture, HELD_A, HELD_BODY_A, Session, Who};
use super::table::Form;

async fn get(fx: &Fixture, s: &Session, path: &str) -> (StatusCode, String) {
    fx.request(Method::GET, path, Some(&s.cookie), None).await
}

async fn decide(fx: &Fixture, s: &Session, fields: &str) -> (StatusCode, String) {
    let path = format!("/courrier/moderation/{}", fx.held);
    fx.request(Method::POST, &path, Some(&s.cookie), Some(Form::url(&s.csrf, fields))).await
}

/// The subjects in B's Inbox.
async fn b_inbox(fx: &Fixture) -> Vec<String> {
    let inbox = fx.app.ms.mailbox_with_use(fx.b.id, model::SpecialUse::Inbox).await.unwrap().unwrap().id;
    let mut subjects = Vec::new();
    for m in fx.app.ms.messages(inbox).await.unwrap() {
        let raw = fx.app.ms.message_bytes(&m.blob_hash).await.unwrap();
        subjects.push(mailstore::MessageView::new(raw, None).subject().to_owned());
    }
    subjects
}

#[tokio::test]
async fn the_moderator_reviews_and_approves_a_held_post_and_the_member_gets_it() {
    let fx = Fixture::new().await;
    let (a, b) = (fx.session(Who::Owner).await.unwrap(), fx.session(Who::Other).await.unwrap());

    // The sidebar says one post waits, for A only.
    let (_, inbox) = get(&fx, &a, "/courrier").await;
    assert!(inbox.contains("id=\"lien-moderation\"") && inbox.contains("id=\"compteur-moderation\">1<"), "{inbox}");
    let (_, inbox_b) = get(&fx, &b, "/courrier").await;
    assert!(!inbox_b.contains("lien-moderation"), "B moderates nothing");

    let (status, queue) = get(&fx, &a, "/courrier/moderation").await;
    assert_eq!(status, StatusCode::OK);
    assert!(queue.contains(HELD_A) && queue.contains("parent@example.org") && queue.contains("conseil@ac-test.fr"));
    let (_, queue_b) = get(&fx, &b, "/courrier/moderation").await;
    assert!(!queue_b.contains(HELD_A) && queue_b.contains("id=\"aucun-a-moderer\""), "{queue_b}");

    // The post's page frames its HTML body; the frame has it cleaned.
    let (status, page) = get(&fx, &a, &format!("/courrier/moderation/{}", fx.held)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(HELD_A) && page.contains(&format!("src=\"/courrier/moderation/{}/contenu\"", fx.held)));
    assert!(!page.contains("alert(1)"), "{page}");
    let (status, frame) = get(&fx, &a, &format!("/courrier/moderation/{}/contenu", fx.held)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(frame.contains(HELD_BODY_A) && !frame.contains("alert(1)"), "{frame}");

    // B, a member of the list, cannot approve it: sent back to the queue
    // (told it no longer waits, as anyone would be), nothing decided.
    let (status, _) = decide(&fx, &b, "decision=diffuser").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!b_inbox(&fx).await.iter().any(|s| s == HELD_A));
    let (_, queue) = get(&fx, &a, "/courrier/moderation").await;
    assert!(queue.contains(HELD_A), "still held: {queue}");
    let (_, told) = get(&fx, &b, "/courrier/moderation?info=parti").await;
    assert!(told.contains("n&#39;attend plus de décision") || told.contains("n'attend plus de décision"), "{told}");

    // A approves it: B gets it, the queue is empty, the count gone.
    let (status, _) = decide(&fx, &a, "decision=diffuser").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(b_inbox(&fx).await.iter().any(|s| s == HELD_A), "the member got the post");
    let (_, queue) = get(&fx, &a, "/courrier/moderation?info=diffuse").await;
    assert!(!queue.contains(HELD_A) && queue.contains("Message diffusé"), "{queue}");
    let (_, inbox) = get(&fx, &a, "/courrier").await;
    assert!(inbox.contains("lien-moderation") && !inbox.contains("compteur-moderation"));
    // Decided once: a second decision (another moderator's page left
    // open) is told the post no longer waits, and B got it once.
    let (status, _) = decide(&fx, &a, "decision=refuser").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(b_inbox(&fx).await.iter().filter(|s| *s == HELD_A).count(), 1);
}

#[tokio::test]
async fn the_moderator_refuses_with_a_reason_and_nobody_gets_the_post() {
    let fx = Fixture::new().await;
    let a = fx.session(Who::Owner).await.unwrap();
    let (status, _) = decide(&fx, &a, "decision=autre").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = decide(&fx, &a, "decision=refuser&motif=Hors+sujet").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!b_inbox(&fx).await.iter().any(|s| s == HELD_A));
    let lists = fx.app.lists.as_ref().unwrap();
    assert!(lists.moderated_by(fx.a.id).await.unwrap()[0].1.is_empty(), "no longer held");
}

/// Suspended while signed in, A approves nothing: whatever the web answers
/// (the session ended, or the domain's refusal), the post stays held.
#[tokio::test]
async fn a_suspended_moderator_decides_nothing() {
    let fx = Fixture::new().await;
    let a = fx.session(Who::Owner).await.unwrap();
    fx.store.set_account_status(fx.a.id, model::AccountStatus::Suspended).await.unwrap();
    let (status, _) = decide(&fx, &a, "decision=diffuser").await;
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!b_inbox(&fx).await.iter().any(|s| s == HELD_A));
    fx.store.set_account_status(fx.a.id, model::AccountStatus::Active).await.unwrap();
    let lists = fx.app.lists.as_ref().unwrap();
    assert!(lists.held_for(fx.a.id, fx.held).await.is_ok(), "still held");
}
