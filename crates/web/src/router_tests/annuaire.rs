//! The Annuaire and Contacts pages, driven as A.

use axum::http::{Method, StatusCode};
use model::{AccountStatus, Address, Role};

use super::fixture::{Fixture, Who};
use super::table::Form;

async fn get(fx: &Fixture, path: &str) -> (StatusCode, String) {
    let s = fx.session(Who::Owner).await.unwrap();
    fx.request(Method::GET, path, Some(&s.cookie), None).await
}

async fn post(fx: &Fixture, path: &str, fields: &str) -> StatusCode {
    let s = fx.session(Who::Owner).await.unwrap();
    fx.request(Method::POST, path, Some(&s.cookie), Some(Form::url(&s.csrf, fields))).await.0
}

#[tokio::test]
async fn the_directory_finds_colleagues_opens_cards_and_adds_them_to_contacts() {
    let fx = Fixture::new().await;
    let student = fx
        .store
        .create_account(&store::NewAccount {
            address: Address::parse("bruno.eleve@ac-test.fr").unwrap(),
            login: None,
            display_name: "Bruno Élève".into(),
            role: Role::Student,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap();
    let (status, body) = get(&fx, "/annuaire?q=bruno").await;
    assert_eq!(status, StatusCode::OK);
    let card = format!("/annuaire/fiche/compte-{}", fx.b.id);
    assert!(body.contains(&format!("href=\"{card}\"")), "{body}");
    assert!(!body.contains("Élève"), "no student in the directory");
    let (_, inbox) = get(&fx, "/courrier").await;
    assert!(inbox.contains("id=\"lien-annuaire\""), "the webmail's side links the directory");
    // A student's card is a 404, as is a key of no one or a malformed one.
    for path in [
        format!("/annuaire/fiche/compte-{}", student.id),
        "/annuaire/fiche/compte-999999".into(),
        "/annuaire/fiche/%3Cb%3E".into(),
    ] {
        let (status, body) = get(&fx, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("bruno.eleve"));
    }
    let (status, body) = get(&fx, &card).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("bruno.petit@ac-test.fr"));
    assert!(body.contains("href=\"/courrier/ecrire?a=bruno.petit@ac-test.fr\""), "{body}");
    // « Écrire » opens the composer with the address in To.
    let (_, compose) = get(&fx, "/courrier/ecrire?a=bruno.petit@ac-test.fr").await;
    assert!(compose.contains("bruno.petit@ac-test.fr"), "{compose}");
    let (_, compose) = get(&fx, "/courrier/ecrire?a=%3Cscript%3Ealert(1)%3C/script%3E").await;
    assert!(!compose.contains("<script>alert(1)"));
    // « Ajouter à mes contacts », twice: one contact.
    for _ in 0..2 {
        assert_eq!(post(&fx, &format!("{card}/ajouter"), "").await, StatusCode::SEE_OTHER);
    }
    let (_, contacts) = get(&fx, "/contacts").await;
    assert_eq!(contacts.matches("<li class=\"fiche\">").count(), 2, "A's secret contact and Bruno: {contacts}");
    // A suspended colleague's card disappears at once.
    fx.store.set_account_status(fx.b.id, AccountStatus::Suspended).await.unwrap();
    assert_eq!(get(&fx, &card).await.0, StatusCode::NOT_FOUND);
    assert_eq!(post(&fx, &format!("{card}/ajouter"), "").await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hostile_searches_and_contacts_are_shown_escaped() {
    let fx = Fixture::new().await;
    for q in ["%25", "_", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", &"a".repeat(5000)] {
        let (status, body) = get(&fx, &format!("/annuaire?q={q}")).await;
        assert_eq!(status, StatusCode::OK, "{q}");
        assert!(body.contains("id=\"aucun-resultat\""), "{q}");
        assert!(!body.contains("<script>alert"), "{q}");
    }
    let fields = "nom=%3Cscript%3Ealert(1)%3C%2Fscript%3E&adresses=x%40example.org&groupes=Conseil%2C+Sortie";
    assert_eq!(post(&fx, "/contacts/nouveau", fields).await, StatusCode::SEE_OTHER);
    let (_, body) = get(&fx, "/contacts?groupe=Sortie").await;
    assert!(body.contains("&#60;script&#62;alert(1)"), "{body}");
    assert!(!body.contains("<script>alert"));
    assert!(!body.contains("Contact secret"), "A's other contact is not in that group");
    let (_, body) = get(&fx, "/contacts?q=SECRET").await;
    assert!(body.contains("Contact secret"), "searches ignore case");
    // Refused input: no name, a bad address; nothing is created.
    for bad in ["nom=&adresses=x%40y.fr", "nom=X&adresses=pas+une+adresse"] {
        assert_eq!(post(&fx, "/contacts/nouveau", bad).await, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (_, body) = get(&fx, "/contacts").await;
    assert_eq!(body.matches("class=\"fiche\"").count(), 2, "{body}");
    // Edited from the version read, then deleted.
    let path = format!("/contacts/fiche/{}", fx.contact);
    let (_, form) = get(&fx, &path).await;
    let etag = form.split("name=\"etag\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let edit = format!("nom=Contact+secret+modifi%C3%A9&adresses=secret%40example.org&etag={etag}");
    assert_eq!(post(&fx, &path, &edit).await, StatusCode::SEE_OTHER);
    assert_eq!(post(&fx, &path, &edit).await, StatusCode::CONFLICT, "the old version is gone");
    assert_eq!(post(&fx, &format!("{path}/supprimer"), "").await, StatusCode::SEE_OTHER);
    assert_eq!(get(&fx, &path).await.0, StatusCode::NOT_FOUND);
}
