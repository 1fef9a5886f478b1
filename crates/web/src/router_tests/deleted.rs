//! « Messages supprimés récemment » (issue 20): the owner sees and restores
//! their deleted messages; another account sees none of them and its
//! restore of the owner's ids does nothing.

use axum::http::{Method, StatusCode};

use super::fixture::{Fixture, SUBJECT_A, Session, Who};
use super::table::Form;

async fn post(fx: &Fixture, s: &Session, fields: &str) -> (StatusCode, String) {
    fx.request(Method::POST, "/courrier/supprimes", Some(&s.cookie), Some(Form::url(&s.csrf, fields))).await
}

async fn get(fx: &Fixture, s: &Session, path: &str) -> (StatusCode, String) {
    fx.request(Method::GET, path, Some(&s.cookie), None).await
}

#[tokio::test]
async fn only_the_owner_sees_and_restores_deleted_messages() {
    let fx = Fixture::new().await;
    let ms = &fx.app.ms;
    let before = ms.messages(fx.inbox).await.unwrap().len();
    assert_eq!(ms.expunge(fx.a.id, fx.inbox, &[fx.uid]).await.unwrap(), vec![fx.uid]);
    let id = ms.deleted_messages(fx.a.id, None, 10).await.unwrap()[0].id;
    let (a, b) = (fx.session(Who::Owner).await.unwrap(), fx.session(Who::Other).await.unwrap());

    let (status, page) = get(&fx, &b, "/courrier/supprimes").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(SUBJECT_A) && page.contains("Aucun message supprimé"), "{page}");
    let (status, _) = post(&fx, &b, &format!("id={id}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(ms.deleted_count(fx.a.id).await.unwrap(), 1, "B restored A's message");
    assert_eq!(ms.messages(fx.inbox).await.unwrap().len(), before - 1);

    let (_, page) = get(&fx, &a, "/courrier/supprimes").await;
    assert!(page.contains(SUBJECT_A) && page.contains(&format!("value=\"{id}\"")), "{page}");
    // Nothing ticked, garbage ids: said, nothing done.
    let (status, _) = post(&fx, &a, "id=x").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = post(&fx, &a, &format!("id={id}&id={id}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&fx, &a, "/courrier/supprimes?info=restaures&n=1").await;
    assert!(page.contains("1 message(s) restauré(s)") && page.contains("Aucun message supprimé"), "{page}");
    let back = ms.messages(fx.inbox).await.unwrap();
    assert_eq!(back.len(), before);
    assert!(back.iter().all(|m| m.uid != fx.uid), "a new UID");
}
