//! Passkeys through the identity service on a real (SQLite) store, with a
//! software authenticator (ES256 keys from ring): registration, passwordless
//! login and second factor, then every refusal of the brief, each journaled:
//! a replayed answer, another origin or relying party, an unknown or another
//! account's credential, a cloned authenticator, no user verification, a
//! suspended account; and the helpdesk's reset, scoped and audited.

use std::net::IpAddr;
use std::sync::Arc;

use blob::BlobStore;
use ciborium::Value;
use identity::admin::AdminError;
use identity::credentials::passkey::{Assertion, PasskeyRefusal, Purpose, Relying};
use identity::credentials::webauthn::{FLAG_AT, FLAG_UP, FLAG_UV, b64url, from_b64url};
use identity::credentials::{Refusal, TotpKey, hash};
use identity::{Identity, Settings};
use mailstore::Mailstore;
use model::{AccountStatus, Address, Domain, Role, SpecialUse};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use sha2::{Digest, Sha256};
use store::{Account, NewAccount, NewOrgUnit, Store};

const RP: Relying<'static> = Relying { rp_id: "webmail.ac-test.fr", origin: "https://webmail.ac-test.fr" };

struct Fixture {
    _ms: Arc<Mailstore>,
    store: Store,
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
    let settings = Settings { totp_key: TotpKey::from_bytes([9; 32]), ..Settings::default() };
    let id = Identity::new(store.clone(), ms.clone(), settings);
    Fixture { _ms: ms, store, id, _dir: dir }
}

async fn create(f: &Fixture, local: &str, unit: Option<i64>) -> Account {
    f.store
        .create_account(&NewAccount {
            address: Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
            login: Some(local.replace('.', "")),
            display_name: local.replace('.', " "),
            role: Role::Teacher,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: unit,
            password_hash: hash::hash_password("Ardoise-Demo-2026"),
        })
        .await
        .unwrap()
}

fn peer() -> IpAddr {
    "192.0.2.10".parse().unwrap()
}

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).unwrap();
    out
}

fn int(n: i64) -> Value {
    Value::Integer(n.into())
}

/// A software authenticator: one ES256 key, a counter, a user handle once registered.
struct Authenticator {
    key: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    id: Vec<u8>,
    count: u32,
    handle: Vec<u8>,
    flags: u8,
}

impl Authenticator {
    fn new(id: u8) -> Authenticator {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap().as_ref().to_vec();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &rng).unwrap();
        Authenticator { key, pkcs8, id: vec![id; 16], count: 0, handle: vec![], flags: FLAG_UP | FLAG_UV }
    }

    /// The same key and credential, with its counter where it was: a copy.
    fn clone_at(&self, count: u32) -> Authenticator {
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.pkcs8, &SystemRandom::new()).unwrap();
        Authenticator {
            key,
            pkcs8: self.pkcs8.clone(),
            id: self.id.clone(),
            count,
            handle: self.handle.clone(),
            flags: self.flags,
        }
    }

    fn cose(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        cbor(&Value::Map(vec![
            (int(1), int(2)),
            (int(3), int(-7)),
            (int(-1), int(1)),
            (int(-2), Value::Bytes(point[1..33].to_vec())),
            (int(-3), Value::Bytes(point[33..].to_vec())),
        ]))
    }

    fn auth_data(&self, rp_id: &str, attested: bool) -> Vec<u8> {
        let mut out = Sha256::digest(rp_id.as_bytes()).to_vec();
        out.push(self.flags | if attested { FLAG_AT } else { 0 });
        out.extend_from_slice(&self.count.to_be_bytes());
        if attested {
            out.extend_from_slice(&[0; 16]);
            out.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
            out.extend_from_slice(&self.id);
            out.extend_from_slice(&self.cose());
        }
        out
    }

    /// `navigator.credentials.create()`: (client data, attestation object).
    fn create(&mut self, challenge: &str, handle: &str, origin: &str) -> (String, String) {
        self.handle = from_b64url(handle).unwrap();
        let client = client("webauthn.create", challenge, origin);
        let object = cbor(&Value::Map(vec![
            (Value::Text("fmt".into()), Value::Text("none".into())),
            (Value::Text("attStmt".into()), Value::Map(vec![])),
            (Value::Text("authData".into()), Value::Bytes(self.auth_data(RP.rp_id, true))),
        ]));
        (b64url(client.as_bytes()), b64url(&object))
    }

    /// `navigator.credentials.get()`: the fields the page posts.
    fn get(&mut self, challenge: &str, origin: &str, rp_id: &str) -> Answer {
        self.count += 1;
        let client = client("webauthn.get", challenge, origin);
        let auth = self.auth_data(rp_id, false);
        let mut signed = auth.clone();
        signed.extend_from_slice(&Sha256::digest(client.as_bytes()));
        let signature = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        Answer {
            id: b64url(&self.id),
            client: b64url(client.as_bytes()),
            auth: b64url(&auth),
            signature: b64url(signature.as_ref()),
            handle: b64url(&self.handle),
        }
    }
}

fn client(kind: &str, challenge: &str, origin: &str) -> String {
    format!(r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{origin}","crossOrigin":false}}"#)
}

#[derive(Clone)]
struct Answer {
    id: String,
    client: String,
    auth: String,
    signature: String,
    handle: String,
}

impl Answer {
    fn assertion(&self) -> Assertion<'_> {
        Assertion {
            credential_id: &self.id,
            client_data: &self.client,
            authenticator_data: &self.auth,
            signature: &self.signature,
            user_handle: &self.handle,
        }
    }
}

async fn register(f: &Fixture, account: &Account, a: &mut Authenticator) -> i64 {
    let challenge = f.id.passkey_challenge(Purpose::Register, Some(account.id)).await.unwrap();
    let (client, object) = a.create(&challenge, &f.id.passkey_user_handle(account.id), RP.origin);
    f.id.register_passkey(account, "Téléphone", RP, &client, &object).await.unwrap()
}

async fn passwordless(f: &Fixture, answer: &Answer) -> Result<Account, PasskeyRefusal> {
    f.id.passkey_login(RP, &answer.assertion(), None, peer(), "test").await.map(|l| l.account)
}

async fn fresh(f: &Fixture, purpose: Purpose, account: Option<&Account>) -> String {
    f.id.passkey_challenge(purpose, account.map(|a| a.id)).await.unwrap()
}

async fn journal(f: &Fixture, account: &Account) -> Vec<String> {
    let mut rows = f.store.login_journal(account.id, 50).await.unwrap();
    rows.reverse();
    rows.into_iter().filter(|j| j.protocol == "passkey").map(|j| j.result).collect()
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
async fn a_passkey_opens_the_account_alone_or_as_second_factor() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", None).await;
    let mut a = Authenticator::new(1);
    let id = register(&f, &claire, &mut a).await;
    let keys = f.id.passkeys(claire.id).await.unwrap();
    assert_eq!((keys.len(), keys[0].id, keys[0].name.as_str()), (1, id, "Téléphone"));
    assert!(f.id.has_passkeys(claire.id).await.unwrap());

    let answer = a.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
    assert_eq!(passwordless(&f, &answer).await.unwrap().id, claire.id);
    // As second factor: the challenge names Claire, user verification is not needed.
    a.flags = FLAG_UP;
    let answer = a.get(&fresh(&f, Purpose::Second, Some(&claire)).await, RP.origin, RP.rp_id);
    let login = f.id.passkey_login(RP, &answer.assertion(), Some(&claire), peer(), "test").await.unwrap();
    assert!(!login.verified);
    assert_eq!(journal(&f, &claire).await, ["ok", "ok"]);
    assert_eq!(f.id.passkeys(claire.id).await.unwrap()[0].sign_count, 2);
}

#[tokio::test]
async fn replayed_foreign_unknown_and_unverified_answers_are_refused_and_journaled() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", None).await;
    let paul = create(&f, "paul.durand", None).await;
    let mut a = Authenticator::new(1);
    register(&f, &claire, &mut a).await;
    let mut b = Authenticator::new(2);
    register(&f, &paul, &mut b).await;

    // The same answer twice: its challenge is spent.
    let answer = a.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
    passwordless(&f, &answer).await.unwrap();
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::Replayed);
    // A challenge never given.
    let answer = a.get(&b64url(b"pas-un-defi-de-nous"), RP.origin, RP.rp_id);
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::Replayed);
    // A phishing page's origin, or a credential scoped to another relying party.
    let answer = a.get(&fresh(&f, Purpose::Login, None).await, "https://webmail.ac-test.fr.evil.example", RP.rp_id);
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::WrongOrigin);
    let answer = a.get(&fresh(&f, Purpose::Login, None).await, RP.origin, "evil.example");
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::WrongOrigin);
    // Nobody's credential.
    let mut stranger = Authenticator::new(3);
    let answer = stranger.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::Unknown);
    // Paul's passkey as Claire's second factor; Claire's second-factor challenge used passwordless.
    let answer = b.get(&fresh(&f, Purpose::Second, Some(&claire)).await, RP.origin, RP.rp_id);
    let refused = f.id.passkey_login(RP, &answer.assertion(), Some(&claire), peer(), "test").await.unwrap_err();
    assert_eq!(refused, PasskeyRefusal::Unknown);
    let answer = a.get(&fresh(&f, Purpose::Second, Some(&claire)).await, RP.origin, RP.rp_id);
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::Replayed);
    // Passwordless needs the user verified, and the user handle of the holder.
    a.flags = FLAG_UP;
    let answer = a.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::Unverified);
    a.flags = FLAG_UP | FLAG_UV;
    let mut answer = a.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
    answer.handle = f.id.passkey_user_handle(paul.id);
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::Unknown);
    // A signature of something else.
    let mut answer = a.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
    let other = a.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
    answer.signature = other.signature;
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::BadSignature);
    // Garbage.
    let garbage = Answer {
        id: "!".into(),
        client: "x".repeat(100_000),
        auth: "".into(),
        signature: "".into(),
        handle: "".into(),
    };
    assert_eq!(passwordless(&f, &garbage).await.unwrap_err(), PasskeyRefusal::Malformed);

    let results = journal(&f, &claire).await;
    for word in
        ["ok", "passkey-replayed", "passkey-origin", "passkey-unknown", "passkey-unverified", "passkey-signature"]
    {
        assert!(results.iter().any(|r| r == word), "{word} in {results:?}");
    }
}

#[tokio::test]
async fn a_cloned_authenticator_is_refused_journaled_and_the_owner_told() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", None).await;
    let mut a = Authenticator::new(1);
    register(&f, &claire, &mut a).await;
    let mut copy = a.clone_at(0);
    for _ in 0..3 {
        let answer = a.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
        passwordless(&f, &answer).await.unwrap();
    }
    let answer = copy.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::Cloned);
    assert_eq!(journal(&f, &claire).await.last().map(String::as_str), Some("passkey-cloned"));
    assert!(subjects(&f, &claire).await.iter().any(|s| s.contains("copie probable")), "the owner is told");
    // The genuine one goes on.
    let answer = a.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
    passwordless(&f, &answer).await.unwrap();
}

#[tokio::test]
async fn suspended_and_closed_accounts_get_nothing() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", None).await;
    let mut a = Authenticator::new(1);
    register(&f, &claire, &mut a).await;
    for (status, refusal) in [(AccountStatus::Suspended, Refusal::Suspended), (AccountStatus::Closed, Refusal::Closed)]
    {
        f.store.set_account_status(claire.id, status).await.unwrap();
        let answer = a.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
        assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::Account(refusal));
    }
}

#[tokio::test]
async fn registration_checks_its_challenge_origin_and_holder() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", None).await;
    let paul = create(&f, "paul.durand", None).await;
    let mut a = Authenticator::new(1);
    // Claire's challenge cannot register a passkey for Paul.
    let challenge = fresh(&f, Purpose::Register, Some(&claire)).await;
    let (client, object) = a.create(&challenge, &f.id.passkey_user_handle(paul.id), RP.origin);
    assert_eq!(f.id.register_passkey(&paul, "x", RP, &client, &object).await.unwrap_err(), PasskeyRefusal::Replayed);
    let challenge = fresh(&f, Purpose::Register, Some(&claire)).await;
    let (client, object) = a.create(&challenge, &f.id.passkey_user_handle(claire.id), "https://evil.example");
    assert_eq!(
        f.id.register_passkey(&claire, "x", RP, &client, &object).await.unwrap_err(),
        PasskeyRefusal::WrongOrigin
    );
    // Registered once; the same credential again is refused.
    register(&f, &claire, &mut a).await;
    let challenge = fresh(&f, Purpose::Register, Some(&claire)).await;
    let (client, object) = a.create(&challenge, &f.id.passkey_user_handle(claire.id), RP.origin);
    assert_eq!(f.id.register_passkey(&claire, "x", RP, &client, &object).await.unwrap_err(), PasskeyRefusal::Duplicate);
    // A name is kept printable and short.
    let mut b = Authenticator::new(2);
    let challenge = fresh(&f, Purpose::Register, Some(&claire)).await;
    let (client, object) = b.create(&challenge, &f.id.passkey_user_handle(claire.id), RP.origin);
    let long = format!("Clé\u{0}\r\n{}", "x".repeat(200));
    f.id.register_passkey(&claire, &long, RP, &client, &object).await.unwrap();
    let names: Vec<String> = f.id.passkeys(claire.id).await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names[1].chars().count(), 60);
    assert!(!names[1].chars().any(char::is_control));
}

#[tokio::test]
async fn the_helpdesk_resets_passkeys_within_its_scope_and_it_is_audited() {
    let f = fixture().await;
    let unit =
        |name: &str| NewOrgUnit { name: name.into(), kind: model::OrgUnitKind::Etablissement, parent: None, uai: None };
    let college = f.store.create_org_unit(&unit("Collège A")).await.unwrap();
    let lycee = f.store.create_org_unit(&unit("Lycée B")).await.unwrap();
    let claire = create(&f, "claire.martin", Some(college)).await;
    let helpdesk = create(&f, "assistance.b", None).await;
    f.store.grant_role(helpdesk.id, "assistance", lycee).await.unwrap();
    let mut a = Authenticator::new(1);
    register(&f, &claire, &mut a).await;

    // A helpdesk of another établissement does not even see Claire.
    let outside = f.id.administrator(&helpdesk).await.unwrap().expect("an administrator");
    assert!(matches!(f.id.admin_reset_passkeys(&outside, claire.id).await, Err(AdminError::NotFound)));
    assert!(f.id.has_passkeys(claire.id).await.unwrap());

    let operator = f.id.operator().await.unwrap();
    assert_eq!(f.id.admin_reset_passkeys(&operator, claire.id).await.unwrap(), 1);
    assert!(!f.id.has_passkeys(claire.id).await.unwrap());
    let audit = f.store.audit_log().await.unwrap();
    assert!(audit.iter().any(|e| e.action == "account.reset-passkeys" && e.target == "claire.martin@ac-test.fr"));
    assert!(subjects(&f, &claire).await.iter().any(|s| s == "Clés d'accès réinitialisées"), "the owner is told");
    // The passkey opens nothing now.
    let answer = a.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::Unknown);
}

async fn session(f: &Fixture, account: &Account, token: &str) {
    let now = 1_800_000_000;
    let s = store::WebSession {
        token_hash: token.into(),
        account_id: account.id,
        stage: "full".into(),
        created_at: now,
        last_seen: now,
        expires_at: now + 3600,
        ip: "127.0.0.1".into(),
        client: "test".into(),
    };
    f.id.create_web_session(&s).await.unwrap();
}

async fn session_tokens(f: &Fixture, account: &Account) -> Vec<String> {
    let mut t: Vec<String> = f.id.web_sessions(account.id).await.unwrap().into_iter().map(|s| s.token_hash).collect();
    t.sort();
    t
}

#[tokio::test]
async fn revoking_a_passkey_ends_the_other_web_sessions_and_a_reset_ends_them_all() {
    let f = fixture().await;
    let claire = create(&f, "claire.martin", None).await;
    let paul = create(&f, "paul.durand", None).await;
    let mut phone = Authenticator::new(1);
    let mut laptop = Authenticator::new(2);
    let lost = register(&f, &claire, &mut phone).await;
    register(&f, &claire, &mut laptop).await;
    for t in ["ici", "telephone-perdu", "tablette"] {
        session(&f, &claire, t).await;
    }
    session(&f, &paul, "paul").await;

    // Another account's passkey id revokes nothing and ends nothing.
    assert!(!f.id.revoke_passkey(&paul, lost, Some("paul")).await.unwrap());
    assert_eq!(session_tokens(&f, &claire).await.len(), 3);

    assert!(f.id.revoke_passkey(&claire, lost, Some("ici")).await.unwrap());
    assert_eq!(session_tokens(&f, &claire).await, ["ici"], "only the revoking session stays");
    assert_eq!(session_tokens(&f, &paul).await, ["paul"], "nobody else's session is touched");
    let answer = phone.get(&fresh(&f, Purpose::Login, None).await, RP.origin, RP.rp_id);
    assert_eq!(passwordless(&f, &answer).await.unwrap_err(), PasskeyRefusal::Unknown);
    assert!(subjects(&f, &claire).await.iter().any(|s| s == "Clé d'accès révoquée"), "the owner is told");

    let operator = f.id.operator().await.unwrap();
    assert_eq!(f.id.admin_reset_passkeys(&operator, claire.id).await.unwrap(), 1);
    assert!(session_tokens(&f, &claire).await.is_empty(), "the helpdesk's reset ends every session");
    assert_eq!(session_tokens(&f, &paul).await, ["paul"]);
}
