//! The console's « Annuaire RH » upload and « Politiques » page, in process,
//! on the organisation of `console.rs`: the dry run changes nothing, the
//! confirmation applies exactly the file shown (audited with the
//! administrator), roles that may not sync are refused, a malformed file is
//! answered in French; the per-unit policies are changed by the académie's
//! administrator only, and audited.

use axum::http::{Method, StatusCode};

use super::console::{Console, R};
use super::table::Form;

const FILE: &str = "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n\
                    41E0000001ABC;Mme;Lambert;Chloé;enseignant;actif;0541234A;;\n\
                    41E0000002ABC;M.;Morel;Hugo;administratif;actif;;;\n";

impl Console {
    /// Uploads `file` as `r` (with `r`'s token unless `wrong_token`).
    async fn upload(&self, r: R, file: &str, wrong_token: bool) -> (StatusCode, String) {
        let (session, _) = self.fx.session_of(self.account(r)).await;
        let token = if wrong_token { "jeton-faux" } else { session.csrf.as_str() };
        let body = Form::multipart(token, &format!("fichier={file}"));
        self.fx.request(Method::POST, "/admin/annuaire", Some(session.cookie.as_str()), Some(body)).await
    }

    async fn exists(&self, address: &str) -> bool {
        self.fx.store.account_by_address(&model::Address::parse(address).unwrap()).await.unwrap().is_some()
    }
}

/// The value of the hidden field `name` in `page`.
fn hidden(page: &str, name: &str) -> String {
    let at = page.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} in {page}"));
    page[at..].split("value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hr_upload_shows_the_diff_and_applies_it_once_confirmed() {
    let cx = Console::new().await;
    let (status, page) = cx.upload(R::Academie, FILE, false).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let arrivals = page.split("id=\"hr-arrivees\"").nth(1).expect("the arrivals table");
    assert!(arrivals.contains("chloe.lambert@ac-test.fr") && arrivals.contains("hugo.morel@ac-test.fr"), "{page}");
    assert!(page.contains("Résultat de la simulation"), "{page}");
    assert!(!cx.exists("chloe.lambert@ac-test.fr").await, "the dry run changes nothing");
    let (jeton, empreinte) = (hidden(&page, "jeton"), hidden(&page, "empreinte"));

    // « Je confirme » unticked: refused, nothing applied.
    let fields = format!("jeton={jeton}&empreinte={empreinte}");
    let (status, _) = cx.ask(R::Academie, Method::POST, "/admin/annuaire/appliquer", &fields, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!cx.exists("chloe.lambert@ac-test.fr").await);
    // A forged confirmation (no valid token) is refused.
    let confirmed = format!("{fields}&confirm=1");
    let (status, _) = cx.ask(R::Academie, Method::POST, "/admin/annuaire/appliquer", &confirmed, true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A wrong fingerprint is a changed plan: shown again, nothing applied.
    let stale = format!("jeton={jeton}&empreinte=0000&confirm=1");
    let (status, again) = cx.ask(R::Academie, Method::POST, "/admin/annuaire/appliquer", &stale, false).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(again.contains("a changé depuis la simulation") && again.contains("chloe.lambert@ac-test.fr"), "{again}");
    assert!(!cx.exists("chloe.lambert@ac-test.fr").await);

    let (status, done) = cx.ask(R::Academie, Method::POST, "/admin/annuaire/appliquer", &confirmed, false).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done.contains("Synchronisation appliquée"), "{done}");
    assert!(cx.exists("chloe.lambert@ac-test.fr").await && cx.exists("hugo.morel@ac-test.fr").await);
    let audit = cx.fx.store.audit_log().await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!((last.action.as_str(), last.actor.as_str()), ("directory.sync", "rectorat@ac-test.fr"));
    // The file is forgotten once applied.
    let (status, _) = cx.ask(R::Academie, Method::POST, "/admin/annuaire/appliquer", &confirmed, false).await;
    assert_eq!(status, StatusCode::GONE);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hr_upload_refuses_other_roles_forged_posts_and_bad_files() {
    let cx = Console::new().await;
    for r in [R::Dsden57, R::Referent, R::Helpdesk, R::Auditor] {
        let (status, _) = cx.upload(r, FILE, false).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{r:?}");
    }
    let (status, _) = cx.upload(R::Teacher, FILE, false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = cx.upload(R::Academie, FILE, true).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no valid CSRF token");
    assert!(!cx.exists("chloe.lambert@ac-test.fr").await);

    let bad = "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n\
               41E0000001ABC;Mme;Lambert;Chloé;enseignant;en vacances;0541234A;;\n";
    let (status, page) = cx.upload(R::Academie, bad, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("pas été appliqué") && page.contains("ligne 2"), "{page}");
    assert!(!page.contains("name=\"jeton\""), "nothing to confirm");
    let (status, page) = cx.upload(R::Academie, "", false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Choisissez un fichier RH"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_policies_page_changes_a_units_policies_and_shows_the_installations() {
    let cx = Console::new().await;
    let e1 = cx.e1;
    let (status, page) = cx.ask(R::Referent, Method::GET, "/admin/politiques", "", false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("[smtp] max_message_size") && page.contains("[web] password_min_length"), "{page}");
    assert!(!page.contains(&format!("/admin/politiques/{e1}/transfert")), "a referent edits nothing");

    let path = format!("/admin/politiques/{e1}/transfert");
    let (status, _) = cx.ask(R::Academie, Method::POST, &path, "politique=domains&domaines=Exemple.org", false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let stored = cx.fx.store.forwarding_policies().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].org_unit, stored[0].policy.as_str()), (e1, "domains"));
    assert_eq!(stored[0].domains, vec!["exemple.org".to_owned()]);
    let (_, page) = cx.ask(R::Academie, Method::GET, "/admin/politiques", "", false).await;
    assert!(page.contains("vers les domaines listés : exemple.org"), "{page}");
    // Refused: no domain for « domains »; the referent of that unit.
    let (status, page) = cx.ask(R::Academie, Method::POST, &path, "politique=domains", false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("au moins un domaine"), "{page}");
    let (status, _) = cx.ask(R::Referent, Method::POST, &path, "politique=anywhere", false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(cx.fx.store.forwarding_policies().await.unwrap()[0].policy, "domains");

    let path = format!("/admin/politiques/{e1}/archivage");
    let (status, _) = cx.ask(R::Academie, Method::POST, &path, "jours=trente", false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = cx.ask(R::Academie, Method::POST, &path, "jours=45", false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(cx.fx.store.archive_policies().await.unwrap(), vec![(e1, 45)]);
    let (status, _) = cx.ask(R::Academie, Method::POST, &path, "jours=", false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(cx.fx.store.archive_policies().await.unwrap().is_empty(), "empty: back to the unit above's");
    let actions: Vec<String> = cx.fx.store.audit_log().await.unwrap().into_iter().map(|e| e.action).collect();
    for a in ["forwarding.set", "archiving.set", "archiving.remove"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}
