//! The composer's recipient autocomplete draws from the académie directory.

use axum::http::{Method, StatusCode};
use model::{AccountStatus, Address, OrgUnitKind, Role};

use super::fixture::{Fixture, Who};

async fn person(fx: &Fixture, local: &str, name: &str, role: Role, unit: Option<i64>) -> identity::Account {
    fx.store
        .create_account(&store::NewAccount {
            address: Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
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

async fn suggest(fx: &Fixture, q: &str) -> Vec<String> {
    let s = fx.session(Who::Owner).await.unwrap();
    let (status, body) =
        fx.request(Method::GET, &format!("/courrier/destinataires?q={q}"), Some(&s.cookie), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    list.iter().map(|p| p["adresse"].as_str().unwrap().to_owned()).collect()
}

/// The bug: the autocomplete offered students, suspended accounts and
/// people of another académie, from the directory and from the user's
/// sent mail alike.
#[tokio::test]
async fn autocomplete_offered_students_suspended_accounts_and_other_academies() {
    let fx = Fixture::new().await;
    let academie = store::NewOrgUnit { parent: None, kind: OrgUnitKind::Academie, name: "Ailleurs".into(), uai: None };
    let elsewhere = fx.store.create_org_unit(&academie).await.unwrap();
    person(&fx, "marie.eleve", "Marie Élève", Role::Student, None).await;
    let sam = person(&fx, "marie.suspendue", "Marie Suspendue", Role::Teacher, None).await;
    fx.store.set_account_status(sam.id, AccountStatus::Suspended).await.unwrap();
    person(&fx, "marie.ailleurs", "Marie Ailleurs", Role::Teacher, Some(elsewhere)).await;
    person(&fx, "marie.collegue", "Marie Collègue", Role::Teacher, None).await;
    // Alice wrote to all of them, and to a partner outside.
    let raw = "From: alice.martin@ac-test.fr\r\nTo: marie.eleve@ac-test.fr, marie.suspendue@ac-test.fr, \
               marie.ailleurs@ac-test.fr, Marie Partenaire <marie.partenaire@example.org>\r\n\
               Subject: Sortie\r\n\r\nBonjour.\r\n";
    let sent = fx.app.ms.mailbox_with_use(fx.a.id, model::SpecialUse::Sent).await.unwrap().unwrap();
    let target = mailstore::DeliveryTarget { account: fx.a.id, mailbox: Some(sent.id), flags: 0, keywords: Vec::new() };
    fx.app.ms.deliver_to(raw.as_bytes(), &[target], 1_700_000_000).await.unwrap();

    let got = suggest(&fx, "marie").await;
    assert_eq!(got, ["marie.partenaire@example.org", "marie.collegue@ac-test.fr"]);
    // Accents do not matter, and the colleague disappears once suspended.
    assert_eq!(suggest(&fx, "coll%C3%A8gue").await, ["marie.collegue@ac-test.fr"]);
    let colleague = fx.store.account_by_address(&Address::parse("marie.collegue@ac-test.fr").unwrap()).await;
    fx.store.set_account_status(colleague.unwrap().unwrap().id, AccountStatus::Suspended).await.unwrap();
    assert_eq!(suggest(&fx, "marie").await, ["marie.partenaire@example.org"]);
    // Hostile text finds nothing and breaks nothing.
    for q in ["%25%25", "__", "%3Cscript%3E"] {
        assert!(suggest(&fx, q).await.is_empty(), "{q}");
    }
}

/// Personal contacts are offered too, after recent correspondents; one on
/// our domains only if the directory shows them (a student saved as a
/// contact is not offered); another account's contacts never are.
#[tokio::test]
async fn personal_contacts_are_offered_within_the_directory_rules() {
    let fx = Fixture::new().await;
    let gw = fx.app.groupware.clone().expect("the fixture's groupware");
    person(&fx, "lea.eleve", "Léa Élève", Role::Student, None).await;
    person(&fx, "lea.collegue", "Léa Collègue", Role::Teacher, None).await;
    let contact = |name: &str, emails: &[&str]| groupware::contacts::Contact {
        name: name.into(),
        emails: emails.iter().map(|e| (*e).to_owned()).collect(),
        ..Default::default()
    };
    gw.save_contact(fx.a.id, None, contact("Léa Partenaire", &["lea@mairie.example.org"])).await.unwrap();
    gw.save_contact(fx.a.id, None, contact("Léa Élève", &["lea.eleve@ac-test.fr"])).await.unwrap();
    gw.save_contact(fx.b.id, None, contact("Léa de Bob", &["lea.bob@example.net"])).await.unwrap();
    let got = suggest(&fx, "l%C3%A9a").await;
    assert_eq!(got, ["lea@mairie.example.org", "lea.collegue@ac-test.fr"]);
    // By an address as well as by the name, accents or not.
    assert_eq!(suggest(&fx, "mairie").await, ["lea@mairie.example.org"]);
    assert_eq!(suggest(&fx, "lea%20part").await, ["lea@mairie.example.org"]);
}
