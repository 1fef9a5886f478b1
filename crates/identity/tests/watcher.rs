//! The revocation watcher against a real store (issue 25, item 9): a
//! suspension, a reactivation and a second suspension within the same second
//! must close the account's sessions twice. With changes told apart by their
//! time in seconds, the second suspension looked like the first and was missed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailstore::{MailEvent, Mailstore};
use model::{AccountStatus, Address, Domain, Role};
use store::{NewAccount, Store};

/// Sleeps until just after the next second begins, so that what follows has
/// the better part of a second before the clock's second changes.
async fn at_start_of_a_second() {
    let into = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_millis();
    tokio::time::sleep(Duration::from_millis(u64::from(1000 - into) + 5)).await;
}

/// A SQLite store in a temporary folder with one teacher, Jean: the folder
/// (kept alive by the caller), the store's URL, the store and the account.
async fn store_with_jean() -> (tempfile::TempDir, String, Store, store::Account) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("meta.db").display());
    let store = Store::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let jean = store
        .create_account(&NewAccount {
            address: Address::parse("jean.martin@ac-test.fr").unwrap(),
            login: None,
            display_name: "Jean Martin".into(),
            role: Role::Teacher,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap();
    (dir, url, store, jean)
}

#[tokio::test(flavor = "multi_thread")]
async fn suspend_reactivate_suspend_within_one_second_revokes_twice() {
    let (dir, _, store, jean) = store_with_jean().await;
    let ms = Mailstore::new(store.clone(), blob::BlobStore::open(dir.path().join("blobs")).unwrap());
    let mut events = ms.watch(jean.id);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let id = identity::Identity::new(store.clone(), ms.clone(), identity::Settings::default());
    let watcher = tokio::spawn(identity::lifecycle::watch_revocations(id, stopped));
    tokio::time::sleep(identity::lifecycle::watcher::POLL * 2).await;

    at_start_of_a_second().await;
    store.set_account_status(jean.id, AccountStatus::Suspended).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), events.recv()).await.expect("first revocation");
    assert!(matches!(first.unwrap(), MailEvent::AccessRevoked { account, change: Some(_) } if account == jean.id));
    // Reactivated, then suspended again at once (the same second, most likely).
    store.set_account_status(jean.id, AccountStatus::Active).await.unwrap();
    store.set_account_status(jean.id, AccountStatus::Suspended).await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(5), events.recv()).await.expect("second revocation");
    assert!(matches!(second.unwrap(), MailEvent::AccessRevoked { account, change: Some(_) } if account == jean.id));
    // Each published once, not at every poll.
    assert!(tokio::time::timeout(Duration::from_millis(800), events.recv()).await.is_err());
    let _ = stop.send(true);
    watcher.await.unwrap();
}

/// Issue 25 item 3: a credential changed by another process (the admin CLI,
/// another node) reaches this process's sessions through the store, within
/// a poll: the password set by the helpdesk, then one app password revoked.
#[tokio::test(flavor = "multi_thread")]
async fn credential_revocations_made_elsewhere_are_published_here() {
    let (dir, url, store, jean) = store_with_jean().await;
    // This process: the servers and their watcher.
    let ms = Mailstore::new(store.clone(), blob::BlobStore::open(dir.path().join("blobs")).unwrap());
    let mut events = ms.watch(jean.id);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let id = identity::Identity::new(store.clone(), ms.clone(), identity::Settings::default());
    let watcher = tokio::spawn(identity::lifecycle::watch_revocations(id, stopped));
    tokio::time::sleep(identity::lifecycle::watcher::POLL * 2).await;

    // The other process: its own store handle, mail domain and identity service.
    let other_store = Store::open(&url).await.unwrap();
    let other_ms = Mailstore::new(other_store.clone(), blob::BlobStore::open(dir.path().join("blobs")).unwrap());
    let other = identity::Identity::new(other_store, other_ms, identity::Settings::default());
    other.create_app_password(&jean, "Téléphone", &["imap"]).await.unwrap();
    let app = other.app_passwords(jean.id).await.unwrap()[0].id;
    // Security notices are deliveries: skip them, wait for the revocations.
    let mut next_revocation = async || loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await.expect("a revocation within 5 s") {
            Ok(e @ (MailEvent::CredentialRevoked { .. } | MailEvent::AccessRevoked { .. })) => return e,
            _ => continue,
        }
    };
    other.set_password(&jean, "Mot-De-Passe-Assistance-1", false).await.unwrap();
    let revoked = next_revocation().await;
    assert!(
        matches!(revoked, MailEvent::CredentialRevoked { account, what: model::Revocation::Password, change: Some(_) }
            if account == jean.id),
        "{revoked:?}"
    );
    assert!(other.revoke_app_password(&jean, app).await.unwrap());
    let revoked = next_revocation().await;
    assert!(
        matches!(revoked, MailEvent::CredentialRevoked { account, what: model::Revocation::AppPassword(a), change: Some(_) }
            if account == jean.id && a == app),
        "{revoked:?}"
    );
    let _ = stop.send(true);
    watcher.await.unwrap();
}

/// A login with the new password made before the watcher looked (it polls
/// every 250 ms) saw the change: the revocation the watcher publishes then
/// ends the sessions opened with the old password, not that one. It used to
/// end both (a flaky e2e test: IMAP login right after `admin account
/// password`, then BYE).
#[tokio::test(flavor = "multi_thread")]
async fn a_session_opened_with_the_new_password_outlives_the_revocation_of_the_old() {
    let (dir, url, store, jean) = store_with_jean().await;
    let ms = Mailstore::new(store.clone(), blob::BlobStore::open(dir.path().join("blobs")).unwrap());
    let here = identity::Identity::new(store.clone(), ms.clone(), identity::Settings::default());
    here.set_password(&jean, "Ancien-Mot-De-Passe-2026", false).await.unwrap();
    let login = |secret| identity::credentials::Login {
        login: "jean.martin@ac-test.fr",
        secret,
        protocol: identity::credentials::Protocol::Imap,
        peer: "127.0.0.1".parse().unwrap(),
        client: None,
        device: None,
    };
    let before = here.login(&login("Ancien-Mot-De-Passe-2026")).await.expect("old password").proof();
    let mut events = ms.watch(jean.id);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(identity::lifecycle::watch_revocations(here.clone(), stopped));
    tokio::time::sleep(identity::lifecycle::watcher::POLL * 2).await;

    // The helpdesk, in another process, sets a new password; a client
    // logs in here with it at once.
    let other_store = Store::open(&url).await.unwrap();
    let other_ms = Mailstore::new(other_store.clone(), blob::BlobStore::open(dir.path().join("blobs")).unwrap());
    let other = identity::Identity::new(other_store, other_ms, identity::Settings::default());
    other.set_password(&jean, "Nouveau-Mot-De-Passe-2026", false).await.unwrap();
    let after = here.login(&login("Nouveau-Mot-De-Passe-2026")).await.expect("new password").proof();
    assert!(here.login(&login("Ancien-Mot-De-Passe-2026")).await.is_err());

    let revoked = loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await.expect("a revocation within 5 s") {
            Ok(e @ MailEvent::CredentialRevoked { .. }) => break e,
            _ => continue,
        }
    };
    assert!(revoked.ends(before), "the session of the old password ends: {revoked:?} {before:?}");
    assert!(!revoked.ends(after), "the session of the new one goes on: {revoked:?} {after:?}");
    let _ = stop.send(true);
    watcher.await.unwrap();
}
