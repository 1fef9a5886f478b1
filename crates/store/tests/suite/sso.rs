//! The identity provider's rows: clients, grants spent once even under
//! concurrency, families and accounts revoked, consents, second-factor
//! marks, and what claims read of an account.

use store::{SsoClient, SsoGrant};

use crate::fixtures::*;
use crate::harness::Ctx;

fn client(id: &str) -> SsoClient {
    SsoClient {
        id: id.into(),
        kind: "oidc".into(),
        name: "ENT".into(),
        secret_hash: Some("h".into()),
        redirect_uris: vec!["https://ent.ac-test.fr/cb".into(), "https://ent.ac-test.fr/cb2".into()],
        scopes: vec!["openid".into(), "email".into()],
        academie_app: true,
        require_2fa: false,
        created_at: 1,
    }
}

fn grant(hash: &str, family: &str, account: i64, expires_at: i64) -> SsoGrant {
    SsoGrant {
        token_hash: hash.into(),
        kind: "code".into(),
        client_id: "ent".into(),
        account_id: account,
        family: family.into(),
        data: "{}".into(),
        created_at: 1,
        expires_at,
        used_at: None,
        revoked_at: None,
    }
}

pub async fn sso_grants_are_spent_once_and_revoked_by_family(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    store.add_sso_client(&client("ent")).await.unwrap();
    assert!(matches!(store.add_sso_client(&client("ent")).await, Err(store::Error::Conflict(_))));
    assert_eq!(store.sso_client("ent").await.unwrap().unwrap(), client("ent"));
    assert_eq!(store.sso_clients("oidc").await.unwrap().len(), 1);
    assert!(store.sso_clients("cas").await.unwrap().is_empty());

    let far = i64::MAX / 2;
    store.add_sso_grant(&grant("a", "fa", claire.id, far)).await.unwrap();
    store.add_sso_grant(&grant("b", "fa", claire.id, far)).await.unwrap();
    store.add_sso_grant(&grant("c", "fc", claire.id, far)).await.unwrap();
    store.add_sso_grant(&grant("old", "fo", claire.id, 10)).await.unwrap();
    // Ten at once: exactly one wins.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move { s.use_sso_grant("a", 100).await.unwrap() }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
    assert_eq!(store.sso_grant("a").await.unwrap().unwrap().used_at, Some(100));
    assert!(!store.use_sso_grant("old", 100).await.unwrap(), "expired");
    assert_eq!(store.revoke_sso_family("fa").await.unwrap(), 2);
    assert!(!store.use_sso_grant("b", 100).await.unwrap(), "revoked with its family");
    assert!(store.use_sso_grant("c", 100).await.unwrap(), "another family untouched");
    store.add_sso_grant(&grant("d", "fd", claire.id, far)).await.unwrap();
    assert_eq!(store.revoke_sso_account(claire.id).await.unwrap(), 3, "c, d and the expired one");
    assert_eq!(store.purge_sso_grants(100).await.unwrap(), 1, "the expired one");

    // Consents, second-factor marks and claims.
    assert!(store.sso_consent(claire.id, "ent").await.unwrap().is_none());
    store.set_sso_consent(claire.id, "ent", &["openid".into()]).await.unwrap();
    store.set_sso_consent(claire.id, "ent", &["openid".into(), "email".into()]).await.unwrap();
    assert_eq!(store.sso_consent(claire.id, "ent").await.unwrap().unwrap(), ["openid", "email"]);
    assert_eq!(store.sso_second_factor("s1", claire.id).await.unwrap(), None);
    store.mark_sso_second_factor("s1", claire.id, "otp").await.unwrap();
    store.mark_sso_second_factor("s1", claire.id, "hwk").await.unwrap();
    assert_eq!(store.sso_second_factor("s1", claire.id).await.unwrap().as_deref(), Some("hwk"), "the latest");
    let person = store.sso_person(claire.id).await.unwrap();
    assert_eq!(person.given_name, None, "no HR record");

    assert!(store.remove_sso_client("ent").await.unwrap());
    assert!(!store.remove_sso_client("ent").await.unwrap());
    assert!(store.sso_grant("c").await.unwrap().is_none(), "grants go with their client");
    assert!(store.sso_consent(claire.id, "ent").await.unwrap().is_none());
}
