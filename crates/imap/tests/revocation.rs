//! Revocation ends what it revokes (issue 25, item 3): revoking an app
//! password closes the IMAP sessions opened with it, and only those; a
//! password change closes the sessions opened with the old password and
//! leaves the app passwords' sessions alone, unless they are revoked too.
//! Before the fix, every one of these sessions went on working.

mod common;

use common::{Fixture, PASSWORD};

/// The "* BYE" line a revoked session gets before it closes, or None when
/// the session is still open after a while.
async fn bye_or_open(c: &mut common::Client) -> Option<String> {
    tokio::time::timeout(std::time::Duration::from_secs(2), c.read_until("* BYE")).await.ok()
}

async fn still_answers(c: &mut common::Client) -> bool {
    c.cmd("n", "NOOP").await.ends_with("n OK NOOP completed\r\n")
}

#[tokio::test]
async fn revoking_an_app_password_closes_its_sessions_and_only_them() {
    let f = Fixture::new().await;
    let first = f.identity.create_app_password(&f.claire, "Téléphone", &["imap"]).await.unwrap();
    let second = f.identity.create_app_password(&f.claire, "Tablette", &["imap"]).await.unwrap();
    let apps = f.identity.app_passwords(f.claire.id).await.unwrap();

    let mut phone = f.connect();
    phone.greeting().await;
    assert!(phone.cmd("a", &format!("LOGIN claire.martin@ac-demo.fr {first}")).await.starts_with("a OK"));
    assert!(phone.cmd("s", "SELECT INBOX").await.contains("s OK"));
    let mut tablet = f.connect();
    tablet.greeting().await;
    assert!(tablet.cmd("a", &format!("LOGIN claire.martin@ac-demo.fr {second}")).await.starts_with("a OK"));
    let mut desk = f.connect();
    desk.login().await;

    let phone_app = apps.iter().find(|a| a.name == "Téléphone").unwrap().id;
    assert!(f.identity.revoke_app_password(&f.claire, phone_app).await.unwrap());
    let bye = bye_or_open(&mut phone).await.expect("the phone's session ends");
    assert!(bye.contains("revoked"), "{bye}");
    assert!(phone.closed().await);
    assert!(still_answers(&mut tablet).await, "another app password's session goes on");
    assert!(still_answers(&mut desk).await, "the password's session goes on");
    // And the revoked secret opens nothing any more.
    let mut again = f.connect();
    again.greeting().await;
    assert!(again.cmd("a", &format!("LOGIN claire.martin@ac-demo.fr {first}")).await.starts_with("a NO"));
}

#[tokio::test]
async fn a_password_change_closes_the_sessions_of_the_old_password() {
    let f = Fixture::new().await;
    let app = f.identity.create_app_password(&f.claire, "Thunderbird", &["imap"]).await.unwrap();
    let mut desk = f.connect();
    desk.login().await;
    assert!(desk.cmd("s", "SELECT INBOX").await.contains("s OK"));
    let mut client = f.connect();
    client.greeting().await;
    assert!(client.cmd("a", &format!("LOGIN claire.martin@ac-demo.fr {app}")).await.starts_with("a OK"));

    f.identity
        .change_password(&f.claire, PASSWORD, "Nouveau-Mot-De-Passe-2027!", "Nouveau-Mot-De-Passe-2027!")
        .await
        .unwrap();
    let bye = bye_or_open(&mut desk).await.expect("the old password's session ends");
    assert!(bye.contains("revoked"), "{bye}");
    assert!(still_answers(&mut client).await, "the app password was not revoked: its session goes on");

    // « Révoquer aussi les mots de passe d'application »: now it ends too.
    assert_eq!(f.identity.revoke_app_passwords(&f.claire).await.unwrap(), 1);
    assert!(bye_or_open(&mut client).await.is_some(), "the app password's session ends with it");
}

#[tokio::test]
async fn an_idle_session_ends_when_its_password_is_set_by_the_helpdesk() {
    let f = Fixture::new().await;
    let mut desk = f.connect();
    desk.login().await;
    assert!(desk.cmd("s", "SELECT INBOX").await.contains("s OK"));
    desk.send(b"i IDLE\r\n").await;
    desk.read_until("+ ").await;
    f.identity.set_password(&f.claire, "Mot-De-Passe-Assistance-1", true).await.unwrap();
    let bye = bye_or_open(&mut desk).await.expect("the IDLE session ends");
    assert!(bye.contains("revoked"), "{bye}");
}
