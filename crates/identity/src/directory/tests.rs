//! The directory filter over a real store: two académies, students,
//! suspended and closed accounts, a functional mailbox and lists.

use std::sync::Arc;

use model::{AccountStatus, Address, Domain, OrgUnitKind, Role, Uai};
use store::{Account, NewAccount, NewList, NewOrgUnit, Store};

use super::*;
use crate::Settings;
use crate::credentials::TotpKey;

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub id: Arc<Identity>,
}

impl Fixture {
    async fn unit(&self, parent: Option<i64>, kind: OrgUnitKind, name: &str, uai: Option<&str>) -> i64 {
        let unit = NewOrgUnit { parent, kind, name: name.into(), uai: uai.map(|u| Uai::parse(u).unwrap()) };
        self.store.create_org_unit(&unit).await.unwrap()
    }

    async fn account(&self, local: &str, domain: &str, name: &str, role: Role, unit: Option<i64>) -> Account {
        self.store
            .create_account(&NewAccount {
                address: Address::parse(&format!("{local}@{domain}")).unwrap(),
                login: None,
                display_name: name.into(),
                role,
                status: AccountStatus::Active,
                quota_bytes: None,
                org_unit: unit,
                password_hash: None,
            })
            .await
            .unwrap()
    }
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    for d in ["ac-test.fr", "ac-autre.fr"] {
        store.add_domain(&Domain::parse(d).unwrap()).await.unwrap();
    }
    let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = mailstore::Mailstore::new(store.clone(), blobs);
    let settings = Settings { totp_key: TotpKey::from_bytes([9; 32]), ..Settings::default() };
    let id = Identity::new(store.clone(), ms, settings);
    Fixture { _dir: dir, store, id }
}

/// Claire (the reader) and her académie: Hélène, a student, a suspended and
/// a closed colleague, the secrétariat, a list; and another académie on
/// the same domain.
async fn academies() -> (Fixture, Account) {
    let f = fixture().await;
    let ac = f.unit(None, OrgUnitKind::Academie, "Académie de test", None).await;
    let dsden = f.unit(Some(ac), OrgUnitKind::Dsden, "DSDEN A", None).await;
    let college = f.unit(Some(dsden), OrgUnitKind::Etablissement, "Collège Jean Moulin", Some("0541234A")).await;
    let other = f.unit(None, OrgUnitKind::Academie, "Autre académie", None).await;
    let lycee = f.unit(Some(other), OrgUnitKind::Etablissement, "Lycée Lointain", Some("0570456C")).await;
    let claire = f.account("claire.martin", "ac-test.fr", "Claire Martin", Role::Teacher, Some(college)).await;
    f.account("helene.lefevre-dupre", "ac-test.fr", "Hélène Lefèvre-Dupré", Role::Teacher, Some(college)).await;
    f.account("lucas.petit", "ac-test.fr", "Lucas Petit", Role::Student, Some(college)).await;
    let s = f.account("sam.suspendu", "ac-test.fr", "Sam Suspendu", Role::Teacher, Some(college)).await;
    f.store.set_account_status(s.id, AccountStatus::Suspended).await.unwrap();
    let c = f.account("carl.clos", "ac-test.fr", "Carl Clos", Role::Teacher, Some(college)).await;
    f.store.set_account_status(c.id, AccountStatus::Closed).await.unwrap();
    f.account("secretariat.0541234a", "ac-test.fr", "Secrétariat Collège Jean Moulin", Role::Functional, Some(college))
        .await;
    f.account("helene.loin", "ac-test.fr", "Hélène Lointaine", Role::Teacher, Some(lycee)).await;
    f.account("helene.autre", "ac-autre.fr", "Hélène Autre", Role::Teacher, Some(lycee)).await;
    f.account("helene.nulle-part", "ac-test.fr", "Hélène Nulle-Part", Role::Teacher, None).await;
    for (local, unit) in [("profs.0541234a", Some(college)), ("profs.0570456c", Some(lycee))] {
        f.store
            .create_list(&NewList {
                address: Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
                name: format!("Professeurs {local}"),
                description: "Toute l'équipe".into(),
                kind: "dynamic".into(),
                unit,
                role: Some("enseignant".into()),
                post_policy: "anyone".into(),
                discussion: false,
                tag: None,
            })
            .await
            .unwrap();
    }
    (f, claire)
}

fn addresses(found: &[Entry]) -> Vec<&str> {
    found.iter().map(|e| e.address.as_str()).collect()
}

#[tokio::test]
async fn only_active_staff_of_the_readers_academie_are_found() {
    let (f, claire) = academies().await;
    let found = f.id.directory_search(&claire, "hélène", 50).await.unwrap();
    assert_eq!(addresses(&found), ["helene.lefevre-dupre@ac-test.fr"]);
    let e = &found[0];
    assert_eq!(e.kind, EntryKind::Person);
    assert_eq!(e.function_fr(), "Enseignant·e");
    let unit = e.unit.as_ref().unwrap();
    assert_eq!((unit.name.as_str(), unit.uai.as_deref()), ("Collège Jean Moulin", Some("0541234A")));
    // Every teacher of the collège through its UAI: no student, no suspended or closed account.
    let found = f.id.directory_search(&claire, "0541234A", 50).await.unwrap();
    assert_eq!(
        addresses(&found),
        [
            "profs.0541234a@ac-test.fr",
            "claire.martin@ac-test.fr",
            "helene.lefevre-dupre@ac-test.fr",
            "secretariat.0541234a@ac-test.fr"
        ]
    );
    for q in ["lucas", "petit", "sam", "suspendu", "carl", "lointain", "autre", "0570456C", "nulle"] {
        assert!(f.id.directory_search(&claire, q, 50).await.unwrap().is_empty(), "{q} found");
    }
}

#[tokio::test]
async fn accents_words_functions_and_lists() {
    let (f, claire) = academies().await;
    for q in ["HELENE", "Lefèvre dupré", "helene.lefevre", "hélène collège"] {
        assert_eq!(
            addresses(&f.id.directory_search(&claire, q, 50).await.unwrap()),
            ["helene.lefevre-dupre@ac-test.fr"],
            "{q}"
        );
    }
    let found = f.id.directory_search(&claire, "secrétariat", 50).await.unwrap();
    assert_eq!(addresses(&found), ["secretariat.0541234a@ac-test.fr"]);
    assert_eq!(found[0].kind, EntryKind::Functional);
    let found = f.id.directory_search(&claire, "professeur", 50).await.unwrap();
    assert_eq!(found[0].kind, EntryKind::List);
    assert_eq!(found[0].address, "profs.0541234a@ac-test.fr", "the other académie's list is not shown");
    assert_eq!(found.len(), 3, "the list, then the teachers by function: {found:?}");
}

#[tokio::test]
async fn hostile_queries_match_only_themselves() {
    let (f, claire) = academies().await;
    for q in ["%", "_", "%%", "\\", "'; DROP TABLE accounts; --", "<script>", "", "   "] {
        assert!(f.id.directory_search(&claire, q, 50).await.unwrap().is_empty(), "{q:?}");
    }
    let long = "a".repeat(100_000);
    assert!(f.id.directory_search(&claire, &long, 50).await.unwrap().is_empty());
    let many = "e ".repeat(1000);
    assert!(f.id.directory_search(&claire, &many, 1000).await.unwrap().len() <= MAX_MATCHES);
}

#[tokio::test]
async fn a_suspended_account_disappears_at_once() {
    let (f, claire) = academies().await;
    let helene = f.store.account_by_address(&Address::parse("helene.lefevre-dupre@ac-test.fr").unwrap()).await;
    let helene = helene.unwrap().unwrap();
    let key = Key::Account(helene.id);
    assert_eq!(f.id.directory_entries(&claire, &[key]).await.unwrap().len(), 1);
    f.store.set_account_status(helene.id, AccountStatus::Suspended).await.unwrap();
    assert!(f.id.directory_search(&claire, "hélène", 50).await.unwrap().is_empty());
    assert!(f.id.directory_entries(&claire, &[key]).await.unwrap().is_empty());
    assert!(!f.id.directory_shows(&claire, &helene.address).await.unwrap());
}

#[tokio::test]
async fn pages_list_everyone_once_and_keys_stay_in_scope() {
    let (f, claire) = academies().await;
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = f.id.directory_page(&claire, after, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = match parse_key(&last.key) {
            Some(Key::Account(id)) => id,
            other => panic!("{other:?}"),
        };
        all.extend(page.into_iter().map(|e| e.address));
    }
    assert_eq!(all, ["claire.martin@ac-test.fr", "helene.lefevre-dupre@ac-test.fr", "secretariat.0541234a@ac-test.fr"]);
    // Another académie's account, asked by key, is not there.
    let far = f.store.account_by_address(&Address::parse("helene.loin@ac-test.fr").unwrap()).await.unwrap().unwrap();
    assert!(f.id.directory_entries(&claire, &[Key::Account(far.id)]).await.unwrap().is_empty());
    assert!(!f.id.directory_shows(&claire, &far.address).await.unwrap());
    assert_eq!(parse_key("compte-12.vcf"), Some(Key::Account(12)));
    assert_eq!(parse_key("liste-3"), Some(Key::List(3)));
    for bad in ["compte-", "compte-1x", "liste--1", "autre-1", "compte-99999999999999999999"] {
        assert_eq!(parse_key(bad), None, "{bad}");
    }
}

#[tokio::test]
async fn a_reader_in_no_unit_sees_only_people_in_no_unit_of_the_domain() {
    let (f, _) = academies().await;
    let alone =
        f.store.account_by_address(&Address::parse("helene.nulle-part@ac-test.fr").unwrap()).await.unwrap().unwrap();
    let found = f.id.directory_search(&alone, "hélène", 50).await.unwrap();
    assert_eq!(addresses(&found), ["helene.nulle-part@ac-test.fr"]);
}
