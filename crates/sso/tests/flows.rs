//! The provider on a fresh SQLite store: codes serve once (a replay revokes
//! what the first use gave), PKCE is verified, refresh tokens rotate (a
//! reused one revokes its family), a suspended account gets nothing, CAS
//! tickets are single use and bound to their service.

use sso::oidc::{AuthRequest, Next, SessionFacts, TokenError, check_with_client, next_step};
use sso::{ClientKind, NewClient, Sso, pkce};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CB: &str = "https://ent.ac-test.fr/cb";

struct Fx {
    _dir: tempfile::TempDir,
    store: store::Store,
    sso: Sso,
    account: i64,
}

async fn fx() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let store = store::Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&model::Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let account = store
        .create_account(&store::NewAccount {
            address: model::Address::parse("claire.martin@ac-test.fr").unwrap(),
            login: None,
            display_name: "Claire Martin".into(),
            role: model::Role::Teacher,
            status: model::AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap()
        .id;
    let sso = Sso::open(store.clone(), dir.path(), "https://mail.ac-test.fr/").unwrap();
    Fx { _dir: dir, store, sso, account }
}

impl Fx {
    async fn client(&self, public: bool) -> (store::SsoClient, Option<String>) {
        let new = NewClient {
            name: "ENT".into(),
            redirect_uris: vec![CB.into()],
            public,
            academie_app: true,
            ..Default::default()
        };
        self.sso.add_client(new).await.unwrap()
    }

    async fn code(&self, client: &store::SsoClient) -> String {
        let r = AuthRequest {
            client_id: Some(client.id.clone()),
            redirect_uri: Some(CB.into()),
            response_type: Some("code".into()),
            scope: Some("openid email profile".into()),
            nonce: Some("n-0S6_WzA2Mj".into()),
            code_challenge: Some(pkce::challenge_of(VERIFIER)),
            code_challenge_method: Some("S256".into()),
            ..Default::default()
        };
        let checked = check_with_client(&r, Some(client.clone())).unwrap();
        let s = SessionFacts {
            account: self.account,
            auth_time: 1,
            second_factor: false,
            factor: None,
            totp_enrolled: false,
        };
        assert_eq!(next_step(&checked, Some(&s), false, 2, None), Next::Issue);
        self.sso.issue_code(&checked, &s).await.unwrap()
    }
}

fn grant(r: Result<sso::oidc::Tokens, TokenError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(TokenError::InvalidGrant(why)) => why,
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn a_code_serves_once_and_its_replay_revokes_the_tokens() {
    let fx = fx().await;
    let (client, secret) = fx.client(false).await;
    assert!(fx.sso.authenticate_client(&client.id, Some("faux")).await.unwrap().is_none());
    assert!(fx.sso.authenticate_client(&client.id, None).await.unwrap().is_none());
    let client = fx.sso.authenticate_client(&client.id, secret.as_deref()).await.unwrap().unwrap();
    let code = fx.code(&client).await;
    let tokens = fx.sso.exchange_code(&client, &code, Some(CB), Some(VERIFIER)).await.unwrap();
    let info = fx.sso.userinfo(&tokens.access_token).await.unwrap().unwrap();
    assert_eq!(info["email"], "claire.martin@ac-test.fr");
    assert_eq!(info["sub"].as_str().unwrap(), fx.sso.pairwise_sub(&client.id, fx.account));
    assert_eq!(grant(fx.sso.exchange_code(&client, &code, Some(CB), Some(VERIFIER)).await), "code already used");
    assert!(fx.sso.userinfo(&tokens.access_token).await.unwrap().is_none(), "access token revoked");
    assert_eq!(grant(fx.sso.refresh(&client, &tokens.refresh_token).await), "refresh token expired or revoked");
}

#[tokio::test]
async fn pkce_redirect_uri_and_client_are_checked_at_the_exchange() {
    let fx = fx().await;
    let (client, _) = fx.client(true).await;
    let (other, _) = fx.client(true).await;
    let code = fx.code(&client).await;
    assert_eq!(grant(fx.sso.exchange_code(&other, &code, Some(CB), Some(VERIFIER)).await), "code of another client");
    assert_eq!(grant(fx.sso.exchange_code(&client, &code, Some(CB), None).await), "code_verifier missing");
    assert_eq!(grant(fx.sso.exchange_code(&client, &code, Some(CB), Some(VERIFIER)).await), "code already used");
    let code = fx.code(&client).await;
    let wrong = format!("{}x", &VERIFIER[..42]);
    assert_eq!(grant(fx.sso.exchange_code(&client, &code, Some(CB), Some(&wrong)).await), "wrong code_verifier");
    let code = fx.code(&client).await;
    let near = "https://ent.ac-test.fr/cb/";
    assert_eq!(
        grant(fx.sso.exchange_code(&client, &code, Some(near), Some(VERIFIER)).await),
        "redirect_uri differs from the authorization request's"
    );
    assert_eq!(grant(fx.sso.exchange_code(&client, "invente", Some(CB), Some(VERIFIER)).await), "unknown code");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    let fx = fx().await;
    let (client, _) = fx.client(true).await;
    let code = fx.code(&client).await;
    let first = fx.sso.exchange_code(&client, &code, Some(CB), Some(VERIFIER)).await.unwrap();
    let second = fx.sso.refresh(&client, &first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(grant(fx.sso.refresh(&client, &first.refresh_token).await), "refresh token already used");
    assert_eq!(grant(fx.sso.refresh(&client, &second.refresh_token).await), "refresh token expired or revoked");
    assert!(fx.sso.userinfo(&second.access_token).await.unwrap().is_none());
}

#[tokio::test]
async fn a_suspended_account_gets_nothing_more() {
    let fx = fx().await;
    let (client, _) = fx.client(true).await;
    let code = fx.code(&client).await;
    let tokens = fx.sso.exchange_code(&client, &code, Some(CB), Some(VERIFIER)).await.unwrap();
    fx.store.set_account_status(fx.account, model::AccountStatus::Suspended).await.unwrap();
    assert!(fx.sso.userinfo(&tokens.access_token).await.unwrap().is_none());
    assert_eq!(grant(fx.sso.refresh(&client, &tokens.refresh_token).await), "account not active");
    fx.store.set_account_status(fx.account, model::AccountStatus::Active).await.unwrap();
    // Reactivated, the account's old tokens stay revoked.
    assert_eq!(grant(fx.sso.refresh(&client, &tokens.refresh_token).await), "refresh token already used");
}

#[tokio::test]
async fn a_suspension_ends_tokens_even_once_the_account_is_active_again() {
    let fx = fx().await;
    let (client, _) = fx.client(true).await;
    let code = fx.code(&client).await;
    let tokens = fx.sso.exchange_code(&client, &code, Some(CB), Some(VERIFIER)).await.unwrap();
    // The state's time has a one-second grain: the suspension comes a second later.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    fx.store.set_account_status(fx.account, model::AccountStatus::Suspended).await.unwrap();
    fx.store.set_account_status(fx.account, model::AccountStatus::Active).await.unwrap();
    assert!(fx.sso.userinfo(&tokens.access_token).await.unwrap().is_none());
    assert_eq!(grant(fx.sso.refresh(&client, &tokens.refresh_token).await), "account not active");
    // A new login gives new tokens.
    let code = fx.code(&client).await;
    assert!(fx.sso.exchange_code(&client, &code, Some(CB), Some(VERIFIER)).await.is_ok());
}

#[tokio::test]
async fn cas_tickets_are_single_use_and_bound_to_their_service() {
    let fx = fx().await;
    assert!(fx.sso.add_cas_service("https://ent.ac-test.fr", "ENT").await.is_err(), "a bare origin");
    let svc = fx.sso.add_cas_service("https://ent.ac-test.fr/", "ENT").await.unwrap();
    assert_eq!(fx.sso.clients(ClientKind::Cas).await.unwrap().len(), 1);
    let url = "https://ent.ac-test.fr/login?next=/";
    assert!(fx.sso.cas_service("https://ent.ac-test.fr.evil.example/").await.unwrap().is_none());
    let found = fx.sso.cas_service(url).await.unwrap().unwrap();
    assert_eq!(found.id, svc.id);
    let t = fx.sso.issue_ticket(&found, url, fx.account, 1, false).await.unwrap();
    assert!(t.starts_with("ST-"));
    let ok = fx.sso.validate_ticket(url, &t).await.unwrap().unwrap();
    assert_eq!(ok.user, "claire.martin@ac-test.fr");
    assert!(ok.attributes.iter().any(|(k, v)| *k == "displayName" && v == "Claire Martin"));
    let again = fx.sso.validate_ticket(url, &t).await.unwrap();
    assert_eq!(again.unwrap_err().code(), "INVALID_TICKET");
    let t = fx.sso.issue_ticket(&found, url, fx.account, 1, false).await.unwrap();
    let other = fx.sso.validate_ticket("https://ent.ac-test.fr/autre", &t).await.unwrap();
    assert_eq!(other.unwrap_err().code(), "INVALID_SERVICE");
    assert_eq!(fx.sso.validate_ticket(url, &t).await.unwrap().unwrap_err().code(), "INVALID_TICKET", "spent");
    let forged = format!("ST-{}", "A".repeat(43));
    assert_eq!(fx.sso.validate_ticket(url, &forged).await.unwrap().unwrap_err().code(), "INVALID_TICKET");
    assert_eq!(fx.sso.validate_ticket(url, "").await.unwrap().unwrap_err().code(), "INVALID_REQUEST");
    assert!(fx.sso.remove_client(&svc.id).await.unwrap());
}
