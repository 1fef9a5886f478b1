//! Passwords under load and over time, on a real (SQLite) store: argon2 runs
//! at most once per core, the credential cache (hits skip argon2, changes and
//! suspensions are never bypassed), the helpdesk reset, the maximum age with
//! its reminder mails, and TOTP seeds encrypted at rest.
//!
//! Each test builds its own identity service ([`Identity`]): its argon2
//! and cache counters, its expiry policy and its TOTP key are its own, so
//! tests with different settings share a process safely.

use std::net::IpAddr;
use std::sync::Arc;

use blob::BlobStore;
use identity::credentials::{self, Login, PasswordPolicy, Protocol, Refusal, TotpKey, hash, totp};
use identity::{Identity, Settings};
use mailstore::Mailstore;
use model::{AccountStatus, Address, Domain, Role, SpecialUse};
use store::{Account, NewAccount, Store};

const PASSWORD: &str = "Ardoise-Demo-2026";
const DAY: i64 = 86_400;

struct Fixture {
    ms: Arc<Mailstore>,
    store: Store,
    /// The identity service with the default settings.
    id: Arc<Identity>,
    url: String,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("meta.db").display());
    let store = Store::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = Mailstore::new(store.clone(), blobs);
    let id = Identity::new(store.clone(), ms.clone(), Settings::default());
    Fixture { ms, store, id, url, _dir: dir }
}

impl Fixture {
    /// Another identity service over the same store, with `settings`.
    fn identity(&self, settings: Settings) -> Arc<Identity> {
        Identity::new(self.store.clone(), self.ms.clone(), settings)
    }
}

async fn create(f: &Fixture, local: &str, status: AccountStatus, password_hash: Option<String>) -> Account {
    f.store
        .create_account(&NewAccount {
            address: Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
            login: Some(local.replace('.', "")),
            display_name: local.replace('.', " "),
            role: Role::Teacher,
            status,
            quota_bytes: None,
            org_unit: None,
            password_hash,
        })
        .await
        .unwrap()
}

async fn login(f: &Fixture, who: &str, secret: &str, protocol: Protocol) -> Result<credentials::Principal, Refusal> {
    login_to(&f.id, who, secret, protocol).await
}

async fn login_to(
    id: &Identity,
    who: &str,
    secret: &str,
    protocol: Protocol,
) -> Result<credentials::Principal, Refusal> {
    let peer: IpAddr = "10.0.0.1".parse().unwrap();
    id.login(&Login { login: who, secret, protocol, peer, client: Some("test"), device: None }).await
}

fn expiring_after(days: u32) -> Settings {
    Settings { policy: PasswordPolicy { max_age_days: Some(days), ..PasswordPolicy::default() }, ..Settings::default() }
}

async fn subjects(f: &Fixture, account: &Account) -> Vec<String> {
    let store = &f.store;
    let inbox = store.mailbox_by_special_use(account.id, SpecialUse::Inbox).await.unwrap().unwrap();
    let mut out = Vec::new();
    for m in store.messages(inbox.id).await.unwrap() {
        out.push(store.blob_meta(&m.blob_hash).await.unwrap().unwrap().subject);
    }
    out
}

async fn sql(f: &Fixture, statement: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&f.url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(statement.to_owned())).execute(&mut conn).await.unwrap();
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_logins_run_at_most_one_argon2_per_core() {
    let f = fixture().await;
    let hash = hash::hash_password(PASSWORD);
    for i in 0..32 {
        create(&f, &format!("prof.{i}"), AccountStatus::Active, hash.clone()).await;
    }
    let before = f.id.argon2().stats();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let id = f.id.clone();
        tasks.spawn(async move {
            let who = format!("prof.{i}@ac-test.fr");
            let peer: IpAddr = format!("10.1.0.{i}").parse().unwrap();
            let attempt =
                Login { login: &who, secret: PASSWORD, protocol: Protocol::Imap, peer, client: None, device: None };
            id.login(&attempt).await.is_ok()
        });
    }
    while let Some(ok) = tasks.join_next().await {
        assert!(ok.unwrap());
    }
    let after = f.id.argon2().stats();
    assert!(after.runs - before.runs >= 32, "{before:?} {after:?}");
    assert!(after.peak_in_flight <= after.workers, "{after:?}");
    assert!(after.buffers <= after.workers, "one reused 19 MiB buffer per core at most: {after:?}");
}

#[tokio::test]
async fn a_cached_login_skips_argon2_but_not_the_journal() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", AccountStatus::Active, hash::hash_password(PASSWORD)).await;
    assert!(login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.is_ok());
    let (runs, hits) = (f.id.argon2().stats().runs, f.id.cache().hits());
    for _ in 0..5 {
        assert!(login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.is_ok());
    }
    assert_eq!(f.id.argon2().stats().runs, runs, "no argon2 for a cached check");
    assert_eq!(f.id.cache().hits(), hits + 5);
    // A wrong password is never answered from the cache.
    assert_eq!(
        login(&f, "claire.martin@ac-test.fr", "wrong", Protocol::Imap).await.err(),
        Some(Refusal::BadCredentials)
    );
    assert_eq!(f.id.argon2().stats().runs, runs + 1);
    // Every attempt is journaled, cached or not.
    assert_eq!(f.store.login_journal(claire.id, 100).await.unwrap().len(), 7);
}

#[tokio::test]
async fn a_password_change_invalidates_the_cache() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", AccountStatus::Active, hash::hash_password(PASSWORD)).await;
    assert!(login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.is_ok());
    let new = "Vélo-Rouge-Matin-42!";
    f.id.change_password(&claire, PASSWORD, new, new).await.unwrap();
    assert_eq!(
        login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.err(),
        Some(Refusal::BadCredentials)
    );
    assert!(login(&f, "claire.martin@ac-test.fr", new, Protocol::Imap).await.is_ok());
    // A change made by another process (`ardoise admin`) is seen too: the
    // cached entry's fingerprint no longer matches the stored hash.
    assert!(login(&f, "claire.martin@ac-test.fr", new, Protocol::Imap).await.is_ok());
    f.store.set_password_hash(claire.id, &hash::hash_password("Autre-Mot-De-Passe-9").unwrap()).await.unwrap();
    assert_eq!(login(&f, "claire.martin@ac-test.fr", new, Protocol::Imap).await.err(), Some(Refusal::BadCredentials));
}

#[tokio::test]
async fn a_suspended_account_is_refused_even_with_a_cached_check() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", AccountStatus::Active, hash::hash_password(PASSWORD)).await;
    assert!(login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.is_ok());
    f.store.set_account_status(claire.id, AccountStatus::Suspended).await.unwrap();
    assert_eq!(login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.err(), Some(Refusal::Suspended));
    assert_eq!(login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Web).await.err(), Some(Refusal::Suspended));
    let journal = f.store.login_journal(claire.id, 10).await.unwrap();
    assert_eq!(journal[0].result, "suspended");
    // Throttling is never bypassed either: failures from an address still count.
    f.store.set_account_status(claire.id, AccountStatus::Active).await.unwrap();
    for _ in 0..8 {
        let _ = login(&f, "claire.martin@ac-test.fr", "wrong", Protocol::Imap).await;
    }
    assert!(matches!(
        login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.err(),
        Some(Refusal::Throttled { .. })
    ));
}

#[tokio::test]
async fn helpdesk_reset_gives_a_provisional_password_to_change() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", AccountStatus::Active, hash::hash_password(PASSWORD)).await;
    assert!(login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.is_ok());
    let provisional = f.id.helpdesk_reset(&claire).await.unwrap();
    assert_eq!(provisional.len(), 19, "{provisional}");
    let stored = f.store.account(claire.id).await.unwrap().unwrap();
    assert_eq!(stored.status, AccountStatus::Provisional);
    assert!(!stored.password_hash.as_deref().unwrap().contains(&provisional));
    // The old password is gone, even from the cache; the new one opens only the web, to change it.
    assert_eq!(
        login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.err(),
        Some(Refusal::BadCredentials)
    );
    assert_eq!(
        login(&f, "claire.martin@ac-test.fr", &provisional, Protocol::Imap).await.err(),
        Some(Refusal::Provisional)
    );
    let web = login(&f, "claire.martin@ac-test.fr", &provisional, Protocol::Web).await.unwrap();
    assert!(web.must_change_password);
    assert!(subjects(&f, &claire).await.contains(&"Votre mot de passe a été réinitialisé par l'assistance".to_owned()));
    // A suspended account is not reset.
    let paul = create(&f, "paul.durand", AccountStatus::Suspended, hash::hash_password(PASSWORD)).await;
    assert!(f.id.helpdesk_reset(&paul).await.is_err());
}

#[tokio::test]
async fn expired_passwords_are_refused_on_imap_and_must_change_on_the_web() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", AccountStatus::Active, hash::hash_password(PASSWORD)).await;
    let id = f.identity(expiring_after(90));
    assert!(login_to(&id, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.is_ok());
    let long_ago = now() - 91 * DAY;
    sql(&f, &format!("UPDATE accounts SET created_at = {long_ago} WHERE id = {}", claire.id)).await;
    assert_eq!(
        login_to(&id, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.err(),
        Some(Refusal::PasswordExpired)
    );
    assert_eq!(
        login_to(&id, "claire.martin@ac-test.fr", PASSWORD, Protocol::Smtp).await.err(),
        Some(Refusal::PasswordExpired)
    );
    assert!(Refusal::PasswordExpired.message_fr().contains("messagerie web"));
    let web = login_to(&id, "claire.martin@ac-test.fr", PASSWORD, Protocol::Web).await.unwrap();
    assert!(web.must_change_password);
    // A change starts a new lifetime.
    let new = "Vélo-Rouge-Matin-42!";
    id.change_password(&claire, PASSWORD, new, new).await.unwrap();
    assert!(login_to(&id, "claire.martin@ac-test.fr", new, Protocol::Imap).await.is_ok());
}

#[tokio::test]
async fn reminders_go_once_per_threshold_then_the_expiry_notice() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", AccountStatus::Active, hash::hash_password(PASSWORD)).await;
    // Never mailed: no password, provisional, far from expiry.
    create(&f, "sans.motdepasse", AccountStatus::Active, None).await;
    create(&f, "jean.nouveau", AccountStatus::Provisional, hash::hash_password(PASSWORD)).await;
    let t0 = f.store.account(claire.id).await.unwrap().unwrap().created_at;
    let id = f.identity(expiring_after(90));
    let run = |at: i64| id.send_reminders(&[14, 3], "https://mail.ac-test.fr", at);

    assert_eq!(run(t0 + 10 * DAY).await.unwrap().reminders, 0);
    let r = run(t0 + 80 * DAY).await.unwrap();
    assert_eq!((r.candidates, r.reminders, r.expired), (1, 1, 0));
    assert_eq!(run(t0 + 81 * DAY).await.unwrap().reminders, 0, "once per threshold");
    assert_eq!(run(t0 + 88 * DAY).await.unwrap().reminders, 1);
    assert_eq!(run(t0 + 89 * DAY).await.unwrap().reminders, 0);
    let r = run(t0 + 91 * DAY).await.unwrap();
    assert_eq!((r.reminders, r.expired), (0, 1));
    assert_eq!(run(t0 + 92 * DAY).await.unwrap().expired, 0);
    assert_eq!(
        subjects(&f, &claire).await,
        vec![
            "Votre mot de passe expire dans 10 jours".to_owned(),
            "Votre mot de passe expire dans 2 jours".to_owned(),
            "Votre mot de passe a expiré".to_owned(),
        ]
    );
    // The mail is French first, with an English line and the web address.
    let inbox = f.store.mailbox_by_special_use(claire.id, SpecialUse::Inbox).await.unwrap().unwrap();
    let msg = &f.store.messages(inbox.id).await.unwrap()[0];
    let raw = f.ms.message_bytes(&msg.blob_hash).await.unwrap();
    let text = mail_parser::MessageParser::default().parse(&raw).unwrap().body_text(0).unwrap().into_owned();
    assert!(text.contains("expire dans 10 jours") && text.contains("(Your password expires in 10 days"), "{text}");
    assert!(text.contains("https://mail.ac-test.fr/securite/mot-de-passe"), "{text}");
    // When the server was down through both thresholds, one mail, not two.
    let paul = create(&f, "paul.durand", AccountStatus::Active, hash::hash_password(PASSWORD)).await;
    let p0 = f.store.account(paul.id).await.unwrap().unwrap().created_at;
    assert_eq!(run(p0 + 89 * DAY).await.unwrap().reminders, 1);
    assert_eq!(run(p0 + 89 * DAY + 3600).await.unwrap().reminders, 0);
    assert_eq!(subjects(&f, &paul).await, vec!["Votre mot de passe expire dans 1 jour".to_owned()]);
}

#[tokio::test]
async fn totp_seeds_are_encrypted_at_rest() {
    let f = fixture().await;
    let id = f.identity(Settings { totp_key: TotpKey::from_bytes([5; 32]), ..Settings::default() });
    let claire = create(&f, "claire.martin", AccountStatus::Active, hash::hash_password(PASSWORD)).await;
    let enrol = id.begin_totp(&claire, "Ardoise test").await.unwrap();
    let stored = f.store.credential_state(claire.id).await.unwrap().totp_secret.unwrap();
    assert_ne!(stored, enrol.secret);
    assert!(!stored.contains(&enrol.secret));
    assert!(stored.starts_with("x1:"));
    assert_eq!(id.pending_secret(&claire).await.unwrap().as_deref(), Some(&*enrol.secret));
    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let code = totp::code_at(&enrol.secret, at).unwrap();
    assert!(id.confirm_totp(&claire, &code).await.unwrap().is_some());
    // Another key opens nothing.
    let next = totp::code_at(&enrol.secret, at + 30).unwrap();
    let other = f.identity(Settings { totp_key: TotpKey::from_bytes([6; 32]), ..Settings::default() });
    assert!(!other.verify_second_factor(&claire, &next).await.unwrap());

    // A seed an earlier version stored clear still works, and the start-up
    // migration encrypts it.
    let paul = create(&f, "paul.durand", AccountStatus::Active, hash::hash_password(PASSWORD)).await;
    let clear = totp::new_secret();
    f.store.set_totp_pending(paul.id, &clear).await.unwrap();
    f.store.enable_totp(paul.id).await.unwrap();
    assert_eq!(id.encrypt_clear_seeds().await.unwrap(), 1);
    assert_eq!(id.encrypt_clear_seeds().await.unwrap(), 0);
    let stored = f.store.credential_state(paul.id).await.unwrap().totp_secret.unwrap();
    assert!(stored.starts_with("x1:") && !stored.contains(&clear));
    let code = totp::code_at(&clear, at).unwrap();
    assert!(id.verify_second_factor(&paul, &code).await.unwrap());
}

/// Regression (issue 18 item 3): two identity services with different
/// expiry policies in one process each apply their own. With the policy in
/// process-wide statics, wiring the second changed the first (seen failing
/// before the service object existed).
#[tokio::test]
async fn two_services_keep_their_own_expiry_policy() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", AccountStatus::Active, hash::hash_password(PASSWORD)).await;
    let long_ago = now() - 91 * DAY;
    sql(&f, &format!("UPDATE accounts SET created_at = {long_ago} WHERE id = {}", claire.id)).await;
    // Service A has a 90-day maximum age; service B (built after it) has none.
    let a = f.identity(expiring_after(90));
    let b = f.identity(Settings::default());
    assert_eq!(
        login_to(&a, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.err(),
        Some(Refusal::PasswordExpired)
    );
    assert!(login_to(&b, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap).await.is_ok());
    let claire = f.store.account(claire.id).await.unwrap().unwrap();
    assert!(a.password_expired(&claire).await);
    assert!(!b.password_expired(&claire).await);
    // Their caches and argon2 pools are separate too: B's successful check
    // is not a hit for A.
    assert_eq!(a.cache().hits(), 0);
    assert_eq!(a.argon2().stats().runs, 1);
    assert_eq!(b.argon2().stats().runs, 1);
}
