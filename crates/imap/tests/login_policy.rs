//! IMAP logins follow the identity service the server is given (issue 18
//! item 3): its password-expiry policy applies with no web wired in the
//! process, and two services with different policies do not mix.

mod common;

use common::{Fixture, PASSWORD};
use identity::credentials::PasswordPolicy;

const DAY: i64 = 86_400;

/// Makes Claire's password `days` old (it was never changed, so its age
/// counts from the account's creation).
async fn age_password(f: &Fixture, days: i64) {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&f.url).await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let sql = format!("UPDATE accounts SET created_at = {} WHERE id = {}", now - days * DAY, f.claire.id);
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.unwrap();
}

fn expiring_after(days: u32) -> identity::Settings {
    identity::Settings {
        policy: PasswordPolicy { max_age_days: Some(days), ..PasswordPolicy::default() },
        ..identity::Settings::default()
    }
}

#[tokio::test]
async fn imap_login_honours_its_identity_services_expiry_policy() {
    let strict = Fixture::with_identity(expiring_after(90)).await;
    age_password(&strict, 91).await;
    // Another service in the same process, without a maximum age.
    let lax = Fixture::new().await;
    age_password(&lax, 91).await;

    let mut c = strict.connect();
    c.greeting().await;
    assert_eq!(
        c.cmd("a", &format!("LOGIN claire.martin@ac-demo.fr {PASSWORD}")).await,
        "a NO [EXPIRED] Mot de passe expire : changez-le sur la messagerie web / \
         Password expired: change it on the webmail\r\n"
    );
    let mut c = lax.connect();
    c.greeting().await;
    assert!(c.cmd("a", &format!("LOGIN claire.martin@ac-demo.fr {PASSWORD}")).await.starts_with("a OK"));
}
