//! The login of mail clients with an access token of our own provider
//! (`Identity::login_bearer`), on a real (SQLite) store: tokens from the
//! code flow open the mail with the `mail` scope only, for their own
//! account, while live; the account's state still decides; every attempt is
//! journaled and refused ones slow down like wrong passwords.

use std::net::IpAddr;
use std::sync::Arc;

use blob::BlobStore;
use identity::credentials::{BearerLogin, Protocol, Refusal, Via};
use identity::{Identity, Settings};
use mailstore::Mailstore;
use model::{AccountStatus, Address, Domain, Role};
use sso::oidc::{AuthRequest, SessionFacts, check_with_client};
use sso::{NewClient, Sso, pkce};
use store::{Account, NewAccount, Store};

const CB: &str = "http://127.0.0.1:8765/";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

struct Fx {
    store: Store,
    id: Arc<Identity>,
    sso: Sso,
    dir: tempfile::TempDir,
}

async fn fx() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let ms = Mailstore::new(store.clone(), BlobStore::open(dir.path().join("blobs")).unwrap());
    let settings = Settings {
        openid_configuration: Some("https://mail.ac-test.fr/.well-known/openid-configuration".into()),
        ..Settings::default()
    };
    let id = Identity::new(store.clone(), ms, settings);
    let sso = Sso::open(store.clone(), dir.path(), "https://mail.ac-test.fr").unwrap();
    Fx { store, id, sso, dir }
}

impl Fx {
    async fn account(&self, local: &str, role: Role) -> Account {
        self.store
            .create_account(&NewAccount {
                address: Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
                login: Some(local.replace('.', "")),
                display_name: local.into(),
                role,
                status: AccountStatus::Active,
                quota_bytes: None,
                org_unit: None,
                password_hash: None,
            })
            .await
            .unwrap()
    }

    /// A public client registered with `scopes` (besides openid).
    async fn client(&self, scopes: &[&str]) -> store::SsoClient {
        let new = NewClient {
            name: "Thunderbird".into(),
            redirect_uris: vec![CB.into()],
            public: true,
            academie_app: true,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        };
        self.sso.add_client(new).await.unwrap().0
    }

    /// An access token of `client` for `account` by the code flow, asking `scope`.
    async fn token(&self, client: &store::SsoClient, account: &Account, scope: &str) -> String {
        let r = AuthRequest {
            client_id: Some(client.id.clone()),
            redirect_uri: Some(CB.into()),
            response_type: Some("code".into()),
            scope: Some(scope.into()),
            code_challenge: Some(pkce::challenge_of(VERIFIER)),
            code_challenge_method: Some("S256".into()),
            ..Default::default()
        };
        let checked = check_with_client(&r, Some(client.clone())).unwrap();
        let s = SessionFacts {
            account: account.id,
            auth_time: 1,
            second_factor: false,
            factor: None,
            totp_enrolled: false,
        };
        let code = self.sso.issue_code(&checked, &s).await.unwrap();
        self.sso.exchange_code(client, &code, Some(CB), Some(VERIFIER)).await.unwrap().access_token
    }

    async fn login(&self, user: Option<&str>, token: &str, from: &str) -> Result<Via, Refusal> {
        let peer: IpAddr = from.parse().unwrap();
        let attempt = BearerLogin { user, token, protocol: Protocol::Imap, peer, client: None };
        self.id.login_bearer(&attempt).await.map(|p| p.via)
    }

    async fn sql(&self, statement: &str) {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}", self.dir.path().join("meta.db").display());
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(statement.to_owned())).execute(&mut conn).await.unwrap();
    }
}

fn token_via(v: &Result<Via, Refusal>) -> bool {
    matches!(v, Ok(Via::Token { .. }))
}

#[tokio::test]
async fn a_live_token_with_the_mail_scope_opens_its_own_account_only() {
    let f = fx().await;
    let claire = f.account("claire.martin", Role::Teacher).await;
    f.account("paul.durand", Role::Teacher).await;
    let client = f.client(&["email", "mail"]).await;
    let token = f.token(&client, &claire, "openid mail").await;
    assert!(token_via(&f.login(Some("claire.martin@ac-test.fr"), &token, "10.0.0.1").await));
    assert!(token_via(&f.login(Some("clairemartin"), &token, "10.0.0.1").await), "the short login names her too");
    assert!(token_via(&f.login(None, &token, "10.0.0.1").await), "no user named: the token's own");
    assert_eq!(f.login(Some("paul.durand@ac-test.fr"), &token, "10.0.0.1").await.unwrap_err(), Refusal::BadCredentials);
    assert_eq!(f.login(Some("personne@ac-test.fr"), &token, "10.0.0.1").await.unwrap_err(), Refusal::BadCredentials);
    let journal = f.store.login_journal(claire.id, 10).await.unwrap();
    assert_eq!(journal.iter().filter(|e| e.result == "ok").count(), 3);
    assert!(journal.iter().all(|e| e.client == "OAuth" && e.protocol == "imap"));
    assert_eq!(
        f.id.bearer_challenge(sasl::BearerMechanism::OAuthBearer),
        r#"{"status":"invalid_token","scope":"openid mail","openid-configuration":"https://mail.ac-test.fr/.well-known/openid-configuration"}"#
    );
}

#[tokio::test]
async fn tokens_without_the_mail_scope_expired_or_of_another_client_kind_are_refused() {
    let f = fx().await;
    let claire = f.account("claire.martin", Role::Teacher).await;
    let ent = f.client(&["email"]).await;
    let mail = f.client(&["email", "mail"]).await;
    // The ENT may not have `mail`: its token opens nothing.
    let ent_token = f.token(&ent, &claire, "openid email mail").await;
    assert_eq!(f.login(None, &ent_token, "10.0.0.1").await.unwrap_err(), Refusal::BadCredentials);
    // The mail client did not ask for it this time.
    let scopeless = f.token(&mail, &claire, "openid email").await;
    assert_eq!(f.login(None, &scopeless, "10.0.0.1").await.unwrap_err(), Refusal::BadCredentials);
    // Garbage, empty and oversized tokens.
    for garbage in ["nimporte-quoi", "", &"a".repeat(5000)] {
        assert_eq!(f.login(None, garbage, "10.0.0.2").await.unwrap_err(), Refusal::BadCredentials);
    }
    // Expired.
    let token = f.token(&mail, &claire, "openid mail").await;
    assert!(token_via(&f.login(None, &token, "10.0.0.1").await));
    f.sql("UPDATE sso_grants SET expires_at = 1 WHERE kind = 'access'").await;
    assert_eq!(f.login(None, &token, "10.0.0.1").await.unwrap_err(), Refusal::BadCredentials);
    // The refusals of her tokens are journaled as failures of Claire's
    // account; garbage naming nobody is counted against its address.
    let journal = f.store.login_journal(claire.id, 10).await.unwrap();
    assert_eq!(journal.iter().filter(|e| e.result == "bad").count(), 3, "{journal:?}");
    assert!(journal.iter().all(|e| e.ip == "10.0.0.1"));
}

#[tokio::test]
async fn the_state_of_the_account_decides_and_a_suspension_ends_its_tokens() {
    let f = fx().await;
    let claire = f.account("claire.martin", Role::Teacher).await;
    let eleve = f.account("eleve.test", Role::Teacher).await;
    let client = f.client(&["mail"]).await;
    let token = f.token(&client, &claire, "openid mail").await;
    // (The provider gives students no token: one given before a change of role.)
    let student = f.token(&client, &eleve, "openid mail").await;
    f.sql(&format!("UPDATE accounts SET role = 'eleve' WHERE id = {}", eleve.id)).await;
    assert_eq!(f.login(None, &student, "10.0.0.1").await.unwrap_err(), Refusal::Student);
    f.store.set_account_status(claire.id, AccountStatus::Suspended).await.unwrap();
    assert_eq!(f.login(None, &token, "10.0.0.1").await.unwrap_err(), Refusal::Suspended);
    // Active again (a second later): the token given before the suspension stays dead.
    f.store.set_account_status(claire.id, AccountStatus::Active).await.unwrap();
    f.sql(&format!("UPDATE accounts SET status_changed_at = status_changed_at + 100 WHERE id = {}", claire.id)).await;
    assert_eq!(f.login(None, &token, "10.0.0.1").await.unwrap_err(), Refusal::BadCredentials);
    // What the sso crate does at a suspension (the CLI, the console, the HR sync): revoked.
    f.sql("UPDATE accounts SET status_changed_at = 0").await;
    let later = f.token(&client, &claire, "openid mail").await;
    assert!(token_via(&f.login(None, &later, "10.0.0.1").await));
    f.sso.revoke_account(claire.id).await.unwrap();
    assert_eq!(f.login(None, &later, "10.0.0.1").await.unwrap_err(), Refusal::BadCredentials);
}

#[tokio::test]
async fn refused_tokens_slow_down_like_wrong_passwords() {
    let f = fx().await;
    let claire = f.account("claire.martin", Role::Teacher).await;
    let client = f.client(&["mail"]).await;
    let token = f.token(&client, &claire, "openid mail").await;
    // Guessing tokens for Claire from one address: after the free attempts,
    // even her right token is answered "slowed down" from there.
    let mut refusals = Vec::new();
    for _ in 0..8 {
        refusals.push(f.login(Some("claire.martin@ac-test.fr"), "devine", "10.0.0.9").await.unwrap_err());
    }
    assert!(refusals.iter().any(|r| matches!(r, Refusal::Throttled { .. })), "{refusals:?}");
    assert!(matches!(f.login(None, &token, "10.0.0.9").await, Err(Refusal::Throttled { .. })));
    // From her usual address nothing changed.
    assert!(token_via(&f.login(None, &token, "10.0.0.1").await));
}
