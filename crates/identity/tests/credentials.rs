//! The login every protocol calls, and the credential changes, on a real
//! (SQLite) store: states, app passwords and TOTP, brute-force slow-down per
//! (account, address) and per address, the journal, the password policy and
//! history, TOTP replay and recovery codes, and the notices mailed.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use blob::BlobStore;
use identity::credentials::{
    ChangeError, Login, PasswordPolicy, PolicyViolation, Protocol, Refusal, Throttle, TotpKey, Via, hash, totp,
};
use identity::{Identity, Settings};
use mailstore::Mailstore;
use model::{AccountStatus, Address, Domain, Role, SpecialUse};
use store::{Account, NewAccount, Store};

const PASSWORD: &str = "Ardoise-Demo-2026";
const NUMEN: &str = "12E0000001ABC";

struct Fixture {
    ms: Arc<Mailstore>,
    store: Store,
    /// The identity service (default policy, a fixed TOTP key).
    id: Arc<Identity>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = Mailstore::new(store.clone(), blobs);
    let id = Identity::new(store.clone(), ms.clone(), settings());
    Fixture { ms, store, id, _dir: dir }
}

fn settings() -> Settings {
    Settings { totp_key: TotpKey::from_bytes([9; 32]), ..Settings::default() }
}

impl Fixture {
    /// Another identity service over the same store, with `settings`.
    fn identity(&self, settings: Settings) -> Arc<Identity> {
        Identity::new(self.store.clone(), self.ms.clone(), settings)
    }
}

async fn create(f: &Fixture, local: &str, role: Role, status: AccountStatus, password: &str) -> Account {
    f.store
        .create_account(&NewAccount {
            address: Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
            login: Some(local.replace('.', "")),
            display_name: local.replace('.', " "),
            role,
            status,
            quota_bytes: None,
            org_unit: None,
            password_hash: hash::hash_password(password),
        })
        .await
        .unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

async fn try_login(f: &Fixture, login: &str, secret: &str, protocol: Protocol, from: &str) -> Result<Via, Refusal> {
    let attempt = Login { login, secret, protocol, peer: ip(from), client: Some("test"), device: None };
    f.id.login(&attempt).await.map(|p| p.via)
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

#[tokio::test]
async fn passwords_states_and_the_journal() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    create(&f, "eleve.test", Role::Student, AccountStatus::Active, PASSWORD).await;
    create(&f, "paul.durand", Role::Teacher, AccountStatus::Suspended, PASSWORD).await;
    create(&f, "jean.martin", Role::Teacher, AccountStatus::Provisional, NUMEN).await;

    assert_eq!(
        try_login(&f, "Claire.Martin@AC-test.fr", PASSWORD, Protocol::Imap, "10.0.0.1").await,
        Ok(Via::Password)
    );
    assert_eq!(try_login(&f, "clairemartin", PASSWORD, Protocol::Smtp, "10.0.0.1").await, Ok(Via::Password));
    assert_eq!(
        try_login(&f, "claire.martin@ac-test.fr", "wrong", Protocol::Web, "10.0.0.1").await,
        Err(Refusal::BadCredentials)
    );
    assert_eq!(
        try_login(&f, "nobody@ac-test.fr", PASSWORD, Protocol::Imap, "10.0.0.1").await,
        Err(Refusal::BadCredentials)
    );
    assert_eq!(
        try_login(&f, "eleve.test@ac-test.fr", PASSWORD, Protocol::Web, "10.0.0.1").await,
        Err(Refusal::Student)
    );
    assert_eq!(
        try_login(&f, "paul.durand@ac-test.fr", PASSWORD, Protocol::Imap, "10.0.0.1").await,
        Err(Refusal::Suspended)
    );
    // A provisional account logs in on the web only, to change its password.
    assert_eq!(
        try_login(&f, "jean.martin@ac-test.fr", NUMEN, Protocol::Imap, "10.0.0.1").await,
        Err(Refusal::Provisional)
    );
    let web = Login {
        login: "jean.martin@ac-test.fr",
        secret: NUMEN,
        protocol: Protocol::Web,
        peer: ip("10.0.0.1"),
        client: None,
        device: None,
    };
    assert!(f.id.login(&web).await.unwrap().must_change_password);
    // A wrong password on a suspended account says nothing of its state.
    assert_eq!(
        try_login(&f, "paul.durand@ac-test.fr", "x", Protocol::Imap, "10.0.0.1").await,
        Err(Refusal::BadCredentials)
    );

    let journal = f.store.login_journal(claire.id, 10).await.unwrap();
    let results: Vec<(&str, &str)> = journal.iter().map(|j| (j.protocol.as_str(), j.result.as_str())).collect();
    assert_eq!(results, vec![("web", "bad"), ("smtp", "ok"), ("imap", "ok")]);
    assert_eq!(journal[0].ip, "10.0.0.1");
    assert_eq!(journal[0].client, "test");
}

#[tokio::test]
async fn hostile_input_is_refused_fast_and_logged_harmlessly() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let huge = "A".repeat(1 << 20);
    let start = std::time::Instant::now();
    assert_eq!(
        try_login(&f, "claire.martin@ac-test.fr", &huge, Protocol::Imap, "10.0.0.9").await,
        Err(Refusal::BadCredentials)
    );
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    for login in ["a\0b\r\nc", "' OR 1=1; --", &"x".repeat(100_000)] {
        assert_eq!(try_login(&f, login, PASSWORD, Protocol::Web, "10.0.0.9").await, Err(Refusal::BadCredentials));
    }
    let journal = f.store.login_journal(claire.id, 10).await.unwrap();
    assert_eq!(journal.len(), 1);
    let (n, _) = f.store.recent_failures(None, "10.0.0.9", 0).await.unwrap();
    assert_eq!(n, 4, "every attempt journaled, with or without an account");
}

#[tokio::test]
async fn brute_force_slows_the_attacker_not_the_owner() {
    let f = fixture().await;
    create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let tight = Throttle {
        free: 2,
        base: Duration::from_secs(60),
        max: Duration::from_secs(600),
        window: Duration::from_secs(3600),
    };
    let tight_id = f.identity(Settings { per_account: tight, per_address: tight, ..settings() });
    let attempt = |secret: &'static str, from: &'static str, protocol| Login {
        login: "claire.martin@ac-test.fr",
        secret,
        protocol,
        peer: from.parse().unwrap(),
        client: None,
        device: None,
    };
    // The owner has logged in from home before.
    assert!(tight_id.login(&attempt(PASSWORD, "10.0.0.1", Protocol::Imap)).await.is_ok());
    // An attacker guesses from elsewhere, across protocols.
    for protocol in [Protocol::Imap, Protocol::Web, Protocol::Smtp] {
        let r = tight_id.login(&attempt("guess", "10.6.6.6", protocol)).await;
        assert_eq!(r.unwrap_err(), Refusal::BadCredentials);
    }
    // Now even the right password is not looked at from there.
    let r = tight_id.login(&attempt(PASSWORD, "10.6.6.6", Protocol::Web)).await;
    assert!(matches!(r, Err(Refusal::Throttled { retry_after }) if retry_after > Duration::ZERO), "{r:?}");
    // The owner still gets in, from home and from a new place.
    assert!(tight_id.login(&attempt(PASSWORD, "10.0.0.1", Protocol::Web)).await.is_ok());
    assert!(tight_id.login(&attempt(PASSWORD, "10.0.0.2", Protocol::Imap)).await.is_ok());
}

#[tokio::test]
async fn per_address_throttle_spares_known_devices() {
    let f = fixture().await;
    create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let lax = Throttle { free: 100, ..Throttle::ACCOUNT_ADDRESS };
    let per_address = Throttle { free: 2, base: Duration::from_secs(60), ..Throttle::ADDRESS };
    let nat_id = f.identity(Settings { per_account: lax, per_address, ..settings() });
    let nat = "192.0.2.10";
    let ok = Login {
        login: "claire.martin@ac-test.fr",
        secret: PASSWORD,
        protocol: Protocol::Imap,
        peer: ip(nat),
        client: None,
        device: None,
    };
    assert!(nat_id.login(&ok).await.is_ok());
    // Someone behind the same school NAT sprays other accounts.
    for who in ["a@ac-test.fr", "b@ac-test.fr", "c@ac-test.fr"] {
        let spray =
            Login { login: who, secret: "guess", protocol: Protocol::Web, peer: ip(nat), client: None, device: None };
        let _ = nat_id.login(&spray).await;
    }
    let spray = Login {
        login: "d@ac-test.fr",
        secret: "guess",
        protocol: Protocol::Web,
        peer: ip(nat),
        client: None,
        device: None,
    };
    assert!(matches!(nat_id.login(&spray).await, Err(Refusal::Throttled { .. })));
    // Claire logged in from this address before: she is not locked out.
    assert!(nat_id.login(&ok).await.is_ok());
}

#[tokio::test]
async fn totp_app_passwords_and_recovery_codes() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let enrol = f.id.begin_totp(&claire, "Ardoise test").await.unwrap();
    assert!(enrol.qr_svg.contains("<svg") && enrol.url.contains(&enrol.secret));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(f.id.confirm_totp(&claire, "000000x").await.unwrap().is_none());
    let code = totp::code_at(&enrol.secret, now).unwrap();
    let codes = f.id.confirm_totp(&claire, &code).await.unwrap().unwrap();
    assert_eq!(codes.len(), 10);
    // The same code again is a replay.
    assert!(!f.id.verify_second_factor(&claire, &code).await.unwrap());
    // The next step's code works once (one step of drift is allowed).
    let next = totp::code_at(&enrol.secret, now + 30).unwrap();
    assert!(f.id.verify_second_factor(&claire, &next).await.unwrap());
    assert!(!f.id.verify_second_factor(&claire, &next).await.unwrap());
    // Recovery codes work once each, with or without dashes and case.
    assert!(f.id.verify_second_factor(&claire, &codes[0].to_uppercase()).await.unwrap());
    assert!(!f.id.verify_second_factor(&claire, &codes[0]).await.unwrap());
    assert_eq!(f.store.recovery_codes_left(claire.id).await.unwrap(), 9);

    // With TOTP on, IMAP and SMTP need an app password.
    assert_eq!(
        try_login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap, "10.0.0.1").await,
        Err(Refusal::AppPasswordRequired)
    );
    let web = try_login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Web, "10.0.0.1").await;
    assert_eq!(web, Ok(Via::Password));
    let app = f.id.create_app_password(&claire, "Thunderbird", &["imap"]).await.unwrap();
    assert!(matches!(
        try_login(&f, "claire.martin@ac-test.fr", &app, Protocol::Imap, "10.0.0.1").await,
        Ok(Via::AppPassword { .. })
    ));
    let sloppy = app.replace('-', "").to_uppercase();
    assert!(try_login(&f, "claire.martin@ac-test.fr", &sloppy, Protocol::Imap, "10.0.0.1").await.is_ok());
    // Scoped: not for SMTP, and never for the web.
    assert_eq!(
        try_login(&f, "claire.martin@ac-test.fr", &app, Protocol::Smtp, "10.0.0.1").await,
        Err(Refusal::BadCredentials)
    );
    assert_eq!(
        try_login(&f, "claire.martin@ac-test.fr", &app, Protocol::Web, "10.0.0.1").await,
        Err(Refusal::BadCredentials)
    );
    let id = f.id.app_passwords(claire.id).await.unwrap()[0].id;
    assert!(f.id.revoke_app_password(&claire, id).await.unwrap());
    assert_eq!(
        try_login(&f, "claire.martin@ac-test.fr", &app, Protocol::Imap, "10.0.0.1").await,
        Err(Refusal::BadCredentials)
    );

    let mailed = subjects(&f, &claire).await;
    for s in [
        "Validation en deux étapes activée",
        "Code de secours utilisé",
        "Nouveau mot de passe d'application",
        "Mot de passe d'application révoqué",
    ] {
        assert!(mailed.iter().any(|m| m == s), "{s} not in {mailed:?}");
    }
}

#[tokio::test]
async fn first_login_change_follows_the_policy_and_history() {
    let f = fixture().await;
    let jean = create(&f, "jean.martin", Role::Teacher, AccountStatus::Provisional, NUMEN).await;
    let id = f.identity(Settings { policy: PasswordPolicy { history: 2, ..PasswordPolicy::default() }, ..settings() });
    let change = |current: &'static str, new: &'static str| {
        let (id, jean) = (id.clone(), jean.clone());
        async move { id.change_password(&jean, current, new, new).await }
    };
    assert!(matches!(change("wrong", "Vélo-Rouge-Matin-42!").await, Err(ChangeError::WrongCurrent)));
    match change(NUMEN, "Xy-12e0000001abc-Z!").await {
        Err(ChangeError::Policy(v)) => assert!(v.contains(&PolicyViolation::ContainsNumen), "{v:?}"),
        other => panic!("{other:?}"),
    }
    match change(NUMEN, "Jean-Martin-Velo-42!").await {
        Err(ChangeError::Policy(v)) => assert!(v.contains(&PolicyViolation::ContainsName), "{v:?}"),
        other => panic!("{other:?}"),
    }
    change(NUMEN, "Vélo-Rouge-Matin-42!").await.unwrap();
    let after = f.store.account(jean.id).await.unwrap().unwrap();
    assert_eq!(after.status, AccountStatus::Active);
    assert!(try_login(&f, "jean.martin@ac-test.fr", "Vélo-Rouge-Matin-42!", Protocol::Imap, "10.0.0.1").await.is_ok());
    assert_eq!(
        try_login(&f, "jean.martin@ac-test.fr", NUMEN, Protocol::Imap, "10.0.0.1").await,
        Err(Refusal::BadCredentials)
    );
    // The current password and the previous one are refused.
    match change("Vélo-Rouge-Matin-42!", "Vélo-Rouge-Matin-42!").await {
        Err(ChangeError::Policy(v)) => assert_eq!(v, vec![PolicyViolation::Reused]),
        other => panic!("{other:?}"),
    }
    change("Vélo-Rouge-Matin-42!", "Cartable-Bleu-Soir-7?").await.unwrap();
    match change("Cartable-Bleu-Soir-7?", "Vélo-Rouge-Matin-42!").await {
        Err(ChangeError::Policy(v)) => assert_eq!(v, vec![PolicyViolation::Reused]),
        other => panic!("{other:?}"),
    }
    let mailed = subjects(&f, &jean).await;
    assert_eq!(mailed.iter().filter(|s| *s == "Votre mot de passe a été changé").count(), 2, "{mailed:?}");
}

#[tokio::test]
async fn a_new_device_is_mailed_but_not_the_first_login() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    try_login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap, "10.0.0.1").await.unwrap();
    try_login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Imap, "10.0.0.1").await.unwrap();
    assert!(subjects(&f, &claire).await.is_empty());
    try_login(&f, "claire.martin@ac-test.fr", PASSWORD, Protocol::Web, "10.0.0.2").await.unwrap();
    assert_eq!(subjects(&f, &claire).await, vec!["Nouvelle connexion à votre compte".to_owned()]);
}

/// The HR side of Jean: his NUMEN (keyed hash) and a secondary address.
async fn hr_person(f: &Fixture, key: &identity::lifecycle::NumenKey, secondary: &str) -> Account {
    let record = store::HrRecord {
        numen_hash: key.hash(NUMEN),
        civilite: "M.".into(),
        nom: "Martin".into(),
        prenom: "Jean".into(),
        hr_role: "enseignant".into(),
        hr_status: "actif".into(),
        uai: None,
        secondary_address: Some(secondary.into()),
        effective_date: None,
        departed_at: None,
        prior_status: None,
    };
    let new = store::HrNewPerson {
        record,
        address: Address::parse("jean.martin@ac-test.fr").unwrap(),
        login: "jmartin".into(),
        display_name: "Jean Martin".into(),
        role: Role::Teacher,
        status: AccountStatus::Active,
        org_unit: None,
        quota_bytes: None,
        password_hash: hash::hash_password(PASSWORD),
    };
    let batch = store::HrBatch { new: vec![new], ..Default::default() };
    f.store.apply_hr_batch(&batch, None).await.unwrap();
    f.store.account_by_login("jmartin").await.unwrap().unwrap()
}

#[tokio::test]
async fn reset_links_go_to_the_secondary_address_once() {
    let f = fixture().await;
    let key = identity::lifecycle::NumenKey::from_bytes([7; 32]);
    let perso = create(&f, "jean.perso", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let jean = hr_person(&f, &key, "jean.perso@ac-test.fr").await;
    let from = ip("10.0.0.5");
    // Wrong NUMEN, unknown identifier: nothing sent, and nothing said.
    f.id.request_reset(&key, "jmartin", "12E9999999ZZZ", from, "https://w").await.unwrap();
    f.id.request_reset(&key, "personne", NUMEN, from, "https://w").await.unwrap();
    assert!(subjects(&f, &perso).await.is_empty());
    // The right pair: a link in the secondary mailbox.
    f.id.request_reset(&key, "jmartin", &NUMEN.to_lowercase(), from, "https://w/").await.unwrap();
    assert_eq!(subjects(&f, &perso).await, vec!["Réinitialisation de votre mot de passe".to_owned()]);
    let inbox = f.store.mailbox_by_special_use(perso.id, SpecialUse::Inbox).await.unwrap().unwrap();
    let msg = &f.store.messages(inbox.id).await.unwrap()[0];
    let raw = f.ms.message_bytes(&msg.blob_hash).await.unwrap();
    let text = mail_parser::MessageParser::default().parse(&raw).unwrap().body_text(0).unwrap().into_owned();
    let token = text.split("jeton=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    assert!(text.contains("https://w/mot-de-passe/reinitialiser?jeton="), "{text}");
    assert_eq!(f.id.reset_account(&token).await.unwrap().map(|a| a.id), Some(jean.id));
    // A weak password keeps the token; a good one spends it.
    assert!(matches!(f.id.reset_password(&token, "court", "court").await, Err(ChangeError::Policy(_))));
    let done = f.id.reset_password(&token, "Vélo-Rouge-Matin-42!", "Vélo-Rouge-Matin-42!");
    assert_eq!(done.await.unwrap().map(|a| a.id), Some(jean.id));
    let again = f.id.reset_password(&token, "Cartable-Bleu-Soir-7?", "Cartable-Bleu-Soir-7?");
    assert!(again.await.unwrap().is_none(), "single use");
    assert!(try_login(&f, "jmartin", "Vélo-Rouge-Matin-42!", Protocol::Imap, "10.0.0.1").await.is_ok());
    assert!(subjects(&f, &jean).await.contains(&"Votre mot de passe a été réinitialisé".to_owned()));
    // Rate limited: at most three links an hour.
    for _ in 0..4 {
        f.id.request_reset(&key, "jmartin", NUMEN, ip("10.0.0.6"), "https://w").await.unwrap();
    }
    assert_eq!(subjects(&f, &perso).await.len(), 3);
}

/// Converted from the removed `Mailstore::authenticate` (issue 25 item 22):
/// the one login finds the account by address in any case, checks the
/// password first and only then the account's state.
#[tokio::test]
async fn login_checks_password_then_status_and_role() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let login = |who: &'static str, secret: &'static str| {
        let id = f.id.clone();
        async move {
            let attempt = Login {
                login: who,
                secret,
                protocol: Protocol::Imap,
                peer: ip("10.0.0.9"),
                client: None,
                device: None,
            };
            id.login(&attempt).await.map(|p| p.account.id)
        }
    };
    assert_eq!(login("Claire.Martin@AC-test.fr", PASSWORD).await, Ok(claire.id));
    assert_eq!(login("claire.martin@ac-test.fr", "wrong").await, Err(Refusal::BadCredentials));
    assert_eq!(login("nobody@ac-test.fr", "x").await, Err(Refusal::BadCredentials));
    f.store.set_account_status(claire.id, AccountStatus::Suspended).await.unwrap();
    assert_eq!(login("claire.martin@ac-test.fr", "wrong").await, Err(Refusal::BadCredentials));
    assert_eq!(login("claire.martin@ac-test.fr", PASSWORD).await, Err(Refusal::Suspended));
}

/// Issue 25, item 6: « un espace ou une faute de frappe dans le NUMEN ». A
/// lower-case, space-padded or spaced-out NUMEN opens the first login as
/// the HR file's spelling does; another NUMEN does not.
#[tokio::test]
async fn a_numen_typed_in_lower_case_or_with_spaces_opens_the_first_login() {
    let f = fixture().await;
    let numen_hash = identity::lifecycle::numen::provisional_hash(NUMEN).unwrap();
    f.store
        .create_account(&NewAccount {
            address: Address::parse("jean.martin@ac-test.fr").unwrap(),
            login: None,
            display_name: "Jean Martin".into(),
            role: Role::Teacher,
            status: AccountStatus::Provisional,
            quota_bytes: None,
            org_unit: None,
            password_hash: Some(numen_hash),
        })
        .await
        .unwrap();
    for typed in [NUMEN, " 12e0000001abc ", "12E 0000001 ABC", "12e0000001Abc\t"] {
        assert_eq!(
            try_login(&f, "jean.martin@ac-test.fr", typed, Protocol::Web, "10.0.0.9").await,
            Ok(Via::Password),
            "{typed:?}"
        );
    }
    assert_eq!(
        try_login(&f, "jean.martin@ac-test.fr", "12E0000001ABD", Protocol::Web, "10.0.0.9").await,
        Err(Refusal::BadCredentials)
    );
}

/// Issue 25, item 5: 300 guesses for one account from 60 addresses were never
/// slowed down. Now the account is, from anywhere, except on the owner's
/// known devices: an address it logged in from, a signed device cookie, or a
/// right app password.
#[tokio::test]
async fn guessing_spread_over_many_addresses_slows_the_account_but_not_its_known_devices() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let id = f.identity(Settings {
        per_account_anywhere: Throttle { free: 4, base: Duration::from_secs(60), ..Throttle::ACCOUNT },
        ..settings()
    });
    let app = id.create_app_password(&claire, "Téléphone", &["imap"]).await.unwrap();
    let login = |secret: &'static str, from: String, protocol, device: Option<&'static str>| {
        let id = id.clone();
        async move {
            let attempt =
                Login { login: "claire.martin@ac-test.fr", secret, protocol, peer: ip(&from), client: None, device };
            id.login(&attempt).await
        }
    };
    // The owner at home, once; then a browser gets its device cookie.
    assert!(login(PASSWORD, "10.0.0.1".into(), Protocol::Imap, None).await.is_ok());
    let token: &'static str = Box::leak(id.new_device_token(claire.id).into_boxed_str());
    // Five guesses, each from another address: the fifth is the last one looked at.
    for i in 0..5 {
        let r = login("guess", format!("198.51.100.{i}"), Protocol::Web, None).await;
        assert_eq!(r.unwrap_err(), Refusal::BadCredentials, "guess {i}");
    }
    // The sixth address is new too, but the account is now slowed down from
    // anywhere: even the right password is not looked at.
    let r = login(PASSWORD, "198.51.100.77".into(), Protocol::Web, None).await;
    assert!(matches!(r, Err(Refusal::Throttled { .. })), "{r:?}");
    // The owner's known devices get through.
    assert!(login(PASSWORD, "10.0.0.1".into(), Protocol::Imap, None).await.is_ok(), "known address");
    assert!(login(PASSWORD, "203.0.113.9".into(), Protocol::Web, Some(token)).await.is_ok(), "device cookie");
    let app: &'static str = Box::leak(app.into_boxed_str());
    assert!(login(app, "203.0.113.10".into(), Protocol::Imap, None).await.is_ok(), "app password");
    // A cookie forged, or made for another account, is no device.
    let other = create(&f, "paul.durand", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let pauls: &'static str = Box::leak(id.new_device_token(other.id).into_boxed_str());
    assert!(id.device_of(claire.id, pauls).is_none());
    assert!(id.device_of(claire.id, "AAAAAAAAAAAAAAAA.00").is_none());
}

/// Issue 25, item 11: an old password left in a phone must not lock its
/// owner out. Refused attempts while slowed down are no new failures (a
/// client retrying every 5 s used to keep the account locked for as long as
/// it retried), and the owner's browser with its device cookie gets in from
/// the same address as the failing phone.
#[tokio::test]
async fn an_old_password_left_in_a_phone_does_not_lock_the_owner_out() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let id = f.identity(Settings {
        per_account: Throttle { free: 2, base: Duration::from_secs(2), ..Throttle::ACCOUNT_ADDRESS },
        ..settings()
    });
    let school = ip("192.0.2.50");
    let token = id.new_device_token(claire.id);
    let phone = Login {
        login: "claire.martin@ac-test.fr",
        secret: "Ancien-Mot-De-Passe-2025",
        protocol: Protocol::Imap,
        peer: school,
        client: None,
        device: None,
    };
    for _ in 0..3 {
        assert_eq!(id.login(&phone).await.unwrap_err(), Refusal::BadCredentials);
    }
    // Slowed down now (2 s after the third failure); the phone keeps retrying.
    for _ in 0..5 {
        assert!(matches!(id.login(&phone).await, Err(Refusal::Throttled { .. })));
    }
    // The retries did not lengthen the wait (counted, they would have made
    // it 64 s): once it is over, the right password gets in from the phone.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let fixed = Login { secret: PASSWORD, ..phone.clone() };
    assert!(id.login(&fixed).await.is_ok(), "the wait was not extended by the throttled retries");
    // Another old copy of the password somewhere on the same network...
    for _ in 0..3 {
        assert_eq!(id.login(&phone).await.unwrap_err(), Refusal::BadCredentials);
    }
    assert!(matches!(id.login(&fixed).await, Err(Refusal::Throttled { .. })));
    // ...but the owner's browser, behind the same school address, gets in.
    let browser = Login { secret: PASSWORD, protocol: Protocol::Web, device: Some(&token), ..phone.clone() };
    assert!(id.login(&browser).await.is_ok());
}

/// Issue 25, item 5: an unknown account used to answer « wrong password »
/// forever while a real one was slowed down after six: the throttle told
/// which accounts exist. Both now slow down alike.
#[tokio::test]
async fn unknown_and_real_accounts_slow_down_alike() {
    let f = fixture().await;
    create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let id = f.identity(Settings {
        per_account: Throttle { free: 3, base: Duration::from_secs(60), ..Throttle::ACCOUNT_ADDRESS },
        per_address: Throttle { free: 1000, ..Throttle::ADDRESS },
        ..settings()
    });
    let mut answers = Vec::new();
    for who in ["claire.martin@ac-test.fr", "Personne.Inconnue@ac-test.fr"] {
        let mut seq = Vec::new();
        for _ in 0..6 {
            let attempt = Login {
                login: who,
                secret: "guess",
                protocol: Protocol::Web,
                peer: ip("10.9.9.9"),
                client: None,
                device: None,
            };
            seq.push(match id.login(&attempt).await {
                Err(Refusal::Throttled { .. }) => "throttled",
                Err(Refusal::BadCredentials) => "bad",
                other => panic!("{other:?}"),
            });
        }
        answers.push(seq);
    }
    assert_eq!(answers[0], ["bad", "bad", "bad", "bad", "throttled", "throttled"]);
    assert_eq!(answers[0], answers[1], "the same answers whether the account exists or not");
}

/// Issue 25, item 5: an IPv6 /64 is one source.
#[tokio::test]
async fn an_ipv6_64_is_one_source() {
    let f = fixture().await;
    create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let id = f.identity(Settings {
        per_account: Throttle { free: 2, base: Duration::from_secs(60), ..Throttle::ACCOUNT_ADDRESS },
        ..settings()
    });
    for host in 1..=3 {
        let peer = ip(&format!("2001:db8:5:6::{host:x}"));
        let attempt = Login {
            login: "claire.martin@ac-test.fr",
            secret: "guess",
            protocol: Protocol::Imap,
            peer,
            client: None,
            device: None,
        };
        assert_eq!(id.login(&attempt).await.unwrap_err(), Refusal::BadCredentials);
    }
    let next = Login {
        login: "claire.martin@ac-test.fr",
        secret: "guess",
        protocol: Protocol::Imap,
        peer: ip("2001:db8:5:6:ffff::1"),
        client: None,
        device: None,
    };
    assert!(matches!(id.login(&next).await, Err(Refusal::Throttled { .. })), "another host of the same /64");
}

/// DAV logs in on every request: a success is kept a minute for the same
/// credentials and address (one journal row, not one per request); a
/// refusal never is, another address takes the full path, and a revocation
/// of the account's access or of its password ends the kept verdicts at once.
#[tokio::test]
async fn per_request_logins_keep_successes_until_a_revocation() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", Role::Teacher, AccountStatus::Active, PASSWORD).await;
    let dav = |secret: &'static str, from: &'static str| Login {
        login: "claire.martin@ac-test.fr",
        secret,
        protocol: Protocol::Dav,
        peer: ip(from),
        client: Some("DAVx5"),
        device: None,
    };
    let journal = || async { f.store.login_journal(claire.id, 100).await.unwrap().len() };
    for _ in 0..5 {
        assert_eq!(f.id.login_per_request(&dav(PASSWORD, "10.0.0.1")).await.unwrap().account.id, claire.id);
    }
    assert_eq!(journal().await, 1);
    for _ in 0..2 {
        assert_eq!(f.id.login_per_request(&dav("faux", "10.0.0.1")).await.unwrap_err(), Refusal::BadCredentials);
    }
    assert_eq!(journal().await, 3, "refusals are never kept");
    f.id.login_per_request(&dav(PASSWORD, "10.0.0.2")).await.unwrap();
    assert_eq!(journal().await, 4, "another address logs in fully");

    // Suspended elsewhere, then the revocation: the kept verdict is gone.
    f.store.set_account_status(claire.id, AccountStatus::Suspended).await.unwrap();
    f.ms.revoke_access(claire.id);
    let mut refused = None;
    for _ in 0..100 {
        match f.id.login_per_request(&dav(PASSWORD, "10.0.0.1")).await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(r) => {
                refused = Some(r);
                break;
            }
        }
    }
    assert_eq!(refused, Some(Refusal::Suspended));
}
