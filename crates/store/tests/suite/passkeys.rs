//! Passkeys (schema 36): a credential id belongs to one account, the
//! counter moves by compare and set, a challenge is claimed once and not
//! after its expiry, and the helpdesk's reset removes only that account's.

use store::{Error, NewPasskey};

use crate::fixtures::*;
use crate::harness::Ctx;

fn new(account: i64, id: &'static str) -> NewPasskey<'static> {
    NewPasskey { account_id: account, credential_id: id, public_key: "cose", sign_count: 1, name: "Téléphone" }
}

pub async fn passkeys_are_unique_counted_and_claimed_once(ctx: Ctx) {
    let s = ctx.store;
    s.add_domain(&domain()).await.unwrap();
    let claire = account(&s, "claire").await;
    let paul = account(&s, "paul").await;

    let id = s.add_passkey(&new(claire.id, "cred-1")).await.unwrap();
    s.add_passkey(&new(claire.id, "cred-2")).await.unwrap();
    s.add_passkey(&new(paul.id, "cred-3")).await.unwrap();
    assert!(
        matches!(s.add_passkey(&new(paul.id, "cred-1")).await, Err(Error::Conflict(_))),
        "one holder per credential"
    );
    assert_eq!(s.passkey_count(claire.id).await.unwrap(), 2);
    let found = s.passkey_by_credential("cred-1").await.unwrap().unwrap();
    assert_eq!((found.id, found.account_id, found.sign_count, found.last_used_at), (id, claire.id, 1, None));

    // The counter moves only from the value read.
    assert!(s.passkey_used(id, 1, 5).await.unwrap());
    assert!(!s.passkey_used(id, 1, 6).await.unwrap(), "a second use from the same reading loses");
    let used = s.passkey_by_credential("cred-1").await.unwrap().unwrap();
    assert_eq!(used.sign_count, 5);
    assert!(used.last_used_at.is_some());

    // Another account's passkey is not revoked by id; the reset takes only the account's.
    assert!(!s.delete_passkey(paul.id, id).await.unwrap());
    assert!(s.delete_passkey(claire.id, id).await.unwrap());
    assert_eq!(s.delete_passkeys(claire.id).await.unwrap(), 1);
    assert_eq!(s.passkey_count(paul.id).await.unwrap(), 1);

    // Challenges: once, and never after their expiry.
    s.put_passkey_challenge("h1", "login", None, 4_000_000_000).await.unwrap();
    s.put_passkey_challenge("h2", "second", Some(paul.id), 1).await.unwrap();
    let claimed = s.claim_passkey_challenge("h1").await.unwrap().unwrap();
    assert_eq!((claimed.purpose.as_str(), claimed.account_id), ("login", None));
    assert!(s.claim_passkey_challenge("h1").await.unwrap().is_none(), "a challenge is claimed once");
    assert!(s.claim_passkey_challenge("h2").await.unwrap().is_none(), "an expired challenge is never claimed");
    // Expired challenges are dropped when a new one comes (else the same key twice would conflict).
    s.put_passkey_challenge("h2", "second", Some(paul.id), 4_000_000_000).await.unwrap();
    assert_eq!(s.claim_passkey_challenge("h2").await.unwrap().unwrap().account_id, Some(paul.id));
}
