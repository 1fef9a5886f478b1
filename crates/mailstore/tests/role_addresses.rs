//! `postmaster@` and `abuse@` of every local domain reach its administrators
//! (issue 25 item 19), an account or alias of that address winning.

use std::sync::Arc;

use blob::BlobStore;
use mailstore::{ADMINISTRATOR_ROLE, Mailstore, RecipientStatus};
use model::{AccountStatus, Address, Domain, OrgUnitKind, Role};
use store::{NewAccount, NewOrgUnit, Store};

struct Fixture {
    _dir: tempfile::TempDir,
    ms: Arc<Mailstore>,
    /// The raw rows under the domain, to set up what no domain operation offers.
    store: Store,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    for d in ["ac-test.fr", "ac-autre.fr"] {
        store.add_domain(&Domain::parse(d).unwrap()).await.unwrap();
    }
    let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
    Fixture { ms: Mailstore::new(store.clone(), blobs), store, _dir: dir }
}

async fn account(store: &Store, address: &str, quota: Option<i64>) -> i64 {
    let new = NewAccount {
        address: Address::parse(address).unwrap(),
        login: None,
        display_name: address.into(),
        role: Role::Direction,
        status: AccountStatus::Active,
        quota_bytes: quota,
        org_unit: None,
        password_hash: None,
    };
    store.create_account(&new).await.unwrap().id
}

async fn check(ms: &Mailstore, address: &str) -> RecipientStatus {
    ms.check_recipient(&Address::parse(address).unwrap(), Some(10)).await.unwrap()
}

#[tokio::test]
async fn role_addresses_reach_the_administrators_then_admin_then_nobody() {
    let f = fixture().await;
    let ms = &f.ms;
    // No administrator and no admin@: refused as before.
    assert_eq!(check(ms, "postmaster@ac-test.fr").await, RecipientStatus::Unknown);
    assert_eq!(check(ms, "abuse@ac-test.fr").await, RecipientStatus::Unknown);
    let admin = account(&f.store, "admin@ac-test.fr", None).await;
    assert_eq!(check(ms, "Postmaster@AC-TEST.FR").await, RecipientStatus::Administrators(vec![admin]));
    assert_eq!(check(ms, "abuse@ac-test.fr").await, RecipientStatus::Administrators(vec![admin]));
    // Only those two local parts.
    assert_eq!(check(ms, "hostmaster@ac-test.fr").await, RecipientStatus::Unknown);
    assert_eq!(check(ms, "postmaster@ailleurs.example").await, RecipientStatus::NotLocal);

    // Named administrators of the académie replace admin@; a full mailbox is
    // left out while another has room.
    let academie = NewOrgUnit { parent: None, kind: OrgUnitKind::Academie, name: "Académie".into(), uai: None };
    let academie = f.store.create_org_unit(&academie).await.unwrap();
    let chef = account(&f.store, "chef@ac-test.fr", None).await;
    let plein = account(&f.store, "plein@ac-test.fr", Some(5)).await;
    for who in [chef, plein] {
        f.store.grant_role(who, ADMINISTRATOR_ROLE, academie).await.unwrap();
    }
    assert_eq!(check(ms, "postmaster@ac-test.fr").await, RecipientStatus::Administrators(vec![chef]));
    f.store.revoke_role(chef, ADMINISTRATOR_ROLE, academie).await.unwrap();
    assert_eq!(check(ms, "postmaster@ac-test.fr").await, RecipientStatus::OverQuota(plein));

    // An account or alias of that address wins.
    let abuse = account(&f.store, "abuse@ac-test.fr", None).await;
    assert_eq!(check(ms, "abuse@ac-test.fr").await, RecipientStatus::Local(abuse));
    f.store.add_alias(&Address::parse("postmaster@ac-test.fr").unwrap(), chef).await.unwrap();
    assert_eq!(check(ms, "postmaster@ac-test.fr").await, RecipientStatus::Local(chef));
}

#[tokio::test]
async fn unqualified_postmaster_is_the_closest_local_domain() {
    let f = fixture().await;
    let ms = &f.ms;
    assert_eq!(ms.postmaster("ac-autre.fr").await.unwrap(), "postmaster@ac-autre.fr");
    assert_eq!(ms.postmaster("mx.ac-test.fr").await.unwrap(), "postmaster@ac-test.fr");
    assert_eq!(ms.postmaster("mx1.mail.ac-test.fr.").await.unwrap(), "postmaster@ac-test.fr");
    // A host name outside every local domain: the first domain created.
    let first = ms.postmaster("mail.example.org").await.unwrap();
    assert!(["postmaster@ac-test.fr", "postmaster@ac-autre.fr"].contains(&first.as_str()), "{first}");
}
