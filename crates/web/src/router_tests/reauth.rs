//! Sensitive actions from a signed-in session ask for the password again
//! (and the second factor when enrolled): a stolen session must not lead to
//! the password (guesses are slowed down and journaled) nor to lasting access
//! (an app password, a second factor of the thief's).

use std::time::Duration;

use axum::http::{Method, StatusCode};
use identity::credentials::{Throttle, totp};

use super::fixture::{Fixture, PASSWORD_A, Session, Who};
use super::table::Form;
use crate::base::session::unix_now;

const NEW_PASSWORD: &str = "Tournesol-Bleu-Carafe-2031";

async fn post(fx: &Fixture, s: &Session, path: &str, fields: &str) -> (StatusCode, String) {
    fx.request(Method::POST, path, Some(&s.cookie), Some(Form::url(&s.csrf, fields))).await
}

async fn get(fx: &Fixture, s: &Session, path: &str) -> (StatusCode, String) {
    fx.request(Method::GET, path, Some(&s.cookie), None).await
}

async fn owner(fx: &Fixture) -> Session {
    fx.session(Who::Owner).await.unwrap()
}

async fn totp_on(fx: &Fixture) -> bool {
    fx.app.identity.credential_state(fx.a.id).await.unwrap().totp_enabled_at.is_some()
}

#[tokio::test]
async fn ten_wrong_current_passwords_are_slowed_down_journaled_and_mailed() {
    let fx = Fixture::new().await;
    let s = owner(&fx).await;
    let change = |current: &str| format!("current={current}&new={NEW_PASSWORD}&confirm={NEW_PASSWORD}");
    let mut statuses = Vec::new();
    let mut last = String::new();
    for _ in 0..10 {
        let (status, body) = post(&fx, &s, "/securite/mot-de-passe", &change("faux")).await;
        statuses.push(status.as_u16());
        last = body;
    }
    let free = Throttle::ACCOUNT_ADDRESS.free as usize;
    assert_eq!(statuses[..free], vec![401; free][..], "{statuses:?}");
    assert!(statuses[free..].iter().all(|s| *s == 429), "{statuses:?}");
    assert!(last.contains("votre compte est ralenti") && last.contains("Réessayez dans"), "{last}");
    // The security page's journal shows every attempt.
    let (_, page) = get(&fx, &s, "/securite").await;
    assert_eq!(page.matches("WEB (confirmation du mot de passe)").count(), 10, "{page}");
    assert_eq!(page.matches("échec (identifiants)").count(), free + 1);
    assert_eq!(page.matches("ralentie (trop").count(), 10 - free - 1);
    // The owner was mailed when the slow-down started.
    let (_, inbox) = get(&fx, &s, "/courrier").await;
    assert!(inbox.contains("Essais de mot de passe répétés"), "{inbox}");
    // The refused answers did not extend the wait: the first slowed guess
    // set it, and once it is over the right password goes through.
    let wait = Throttle::ACCOUNT_ADDRESS.delay(free as i64 + 1);
    tokio::time::sleep(wait + Duration::from_millis(1200)).await;
    let (status, body) = post(&fx, &s, "/securite/mot-de-passe", &change(PASSWORD_A)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, page) = get(&fx, &s, "/securite").await;
    assert!(page.contains("réussie"), "the success is journaled too");
}

#[tokio::test]
async fn app_passwords_and_totp_enrolment_need_the_password_then_the_code() {
    let fx = Fixture::new().await;
    let s = owner(&fx).await;
    let apps = || async { fx.app.identity.app_passwords(fx.a.id).await.unwrap().len() };
    let before = apps().await;
    // No password, or a wrong one: no app password.
    for fields in ["name=Voleur&imap=on", "name=Voleur&imap=on&password=faux"] {
        let (status, _) = post(&fx, &s, "/securite/applications", fields).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{fields}");
    }
    assert_eq!(apps().await, before);
    let (status, body) =
        post(&fx, &s, "/securite/applications", &format!("name=Thunderbird&imap=on&password={PASSWORD_A}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("id=\"mot-de-passe-application\""), "{body}");
    assert_eq!(apps().await, before + 1);

    // Enrolling a second factor from a full session: the password first.
    let (status, page) = get(&fx, &s, "/2fa/activer").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"password\""), "the form asks for the password");
    let secret = fx.app.identity.pending_secret(&fx.a).await.unwrap().unwrap();
    let now = unix_now() as u64;
    let code = totp::code_at(&secret, now).unwrap();
    let (status, _) = post(&fx, &s, "/2fa/activer", &format!("code={code}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!totp_on(&fx).await, "a stolen session cannot put its own second factor on");
    let (status, body) = post(&fx, &s, "/2fa/activer", &format!("code={code}&password={PASSWORD_A}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(totp_on(&fx).await);

    // With TOTP on, the password alone is not enough any more.
    let s = owner(&fx).await;
    let with_password = format!("name=Mobile&imap=on&password={PASSWORD_A}");
    let (status, _) = post(&fx, &s, "/securite/applications", &with_password).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let next = totp::code_at(&secret, now + 30).unwrap();
    let (status, _) = post(&fx, &s, "/securite/applications", &format!("{with_password}&code={next}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(apps().await, before + 2);
    let (status, _) = post(&fx, &s, "/securite/2fa/desactiver", &format!("password={PASSWORD_A}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(totp_on(&fx).await);
    let recovery = fx.app.identity.new_recovery_codes(&fx.a).await.unwrap();
    let (status, _) =
        post(&fx, &s, "/securite/2fa/desactiver", &format!("password={PASSWORD_A}&code={}", recovery[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!totp_on(&fx).await);
}
