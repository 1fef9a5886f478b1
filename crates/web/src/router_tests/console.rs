//! The administration console's authorization matrix (issue 24): every
//! console route asked by every kind of administrator, and by a teacher, in
//! process. The organisation: an académie with the DSDEN of Meurthe-et-Moselle
//! (54) and of Moselle (57); two établissements under 54, one under 57.
//! Paul teaches in 0541234A (54), Marc in 0571234C (57).

use axum::http::{Method, StatusCode};
use identity::Account;
use model::{AccountStatus, OrgUnitKind, Role};
use store::NewOrgUnit;

use super::fixture::{Fixture, PASSWORD_A, SUBJECT_A};
use super::table::Form;

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum R {
    Academie,
    Dsden57,
    /// The referent of 0541111B, another établissement of 54 than Paul's.
    OtherReferent,
    /// The referent of Paul's établissement.
    Referent,
    Helpdesk,
    Auditor,
    Teacher,
    /// An académie administrator without a second factor.
    NoTotp,
}

const ALL: [R; 8] =
    [R::Academie, R::Dsden57, R::OtherReferent, R::Referent, R::Helpdesk, R::Auditor, R::Teacher, R::NoTotp];

struct Console {
    fx: Fixture,
    people: Vec<(R, Account)>,
    paul: Account,
    marc: Account,
    e1: i64,
}

async fn person(fx: &Fixture, local: &str, unit: Option<i64>) -> Account {
    fx.store
        .create_account(&store::NewAccount {
            address: model::Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
            login: None,
            display_name: local.replace('.', " "),
            role: Role::Teacher,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: unit,
            password_hash: identity::credentials::hash::hash_password(PASSWORD_A),
        })
        .await
        .unwrap()
}

async fn unit(fx: &Fixture, parent: Option<i64>, kind: OrgUnitKind, name: &str, uai: Option<&str>) -> i64 {
    let uai = uai.map(|u| model::Uai::parse(u).unwrap());
    fx.store.create_org_unit(&NewOrgUnit { parent, kind, name: name.into(), uai }).await.unwrap()
}

impl Console {
    async fn new() -> Console {
        let fx = Fixture::new().await;
        let root = unit(&fx, None, OrgUnitKind::Academie, "Académie de test", None).await;
        let d54 = unit(&fx, Some(root), OrgUnitKind::Dsden, "DSDEN 54", None).await;
        let d57 = unit(&fx, Some(root), OrgUnitKind::Dsden, "DSDEN 57", None).await;
        let e1 = unit(&fx, Some(d54), OrgUnitKind::Etablissement, "Collège Jules Ferry", Some("0541234A")).await;
        let e2 = unit(&fx, Some(d54), OrgUnitKind::Etablissement, "Lycée Poincaré", Some("0541111B")).await;
        let e3 = unit(&fx, Some(d57), OrgUnitKind::Etablissement, "Collège de Metz", Some("0571234C")).await;
        let paul = person(&fx, "paul.durand", Some(e1)).await;
        let marc = person(&fx, "marc.weber", Some(e3)).await;
        let mut people = Vec::new();
        for (r, local, role, on, unit_of) in [
            (R::Academie, "rectorat", "admin-academie", root, Some(root)),
            (R::Dsden57, "dsden57", "admin-dsden", d57, Some(d57)),
            (R::OtherReferent, "referent.b", "referent", e2, Some(e2)),
            (R::Referent, "referent.a", "referent", e1, Some(e1)),
            (R::Helpdesk, "assistance", "assistance", root, Some(root)),
            (R::Auditor, "auditeur", "auditeur", root, Some(root)),
            (R::NoTotp, "sans.totp", "admin-academie", root, Some(root)),
        ] {
            let acc = person(&fx, local, unit_of).await;
            fx.store.grant_role(acc.id, role, on).await.unwrap();
            if r != R::NoTotp {
                fx.store.set_totp_pending(acc.id, "seed").await.unwrap();
                fx.store.enable_totp(acc.id).await.unwrap();
            }
            people.push((r, acc));
        }
        // A plain teacher: B of the fixture.
        people.push((R::Teacher, fx.b.clone()));
        Console { fx, people, paul, marc, e1 }
    }

    fn account(&self, r: R) -> &Account {
        &self.people.iter().find(|(who, _)| *who == r).unwrap().1
    }

    /// One request as `r`, with a right CSRF token unless `wrong_token`.
    async fn ask(&self, r: R, method: Method, path: &str, fields: &str, wrong_token: bool) -> (StatusCode, String) {
        let (session, _) = self.fx.session_of(self.account(r)).await;
        let body = (method == Method::POST)
            .then(|| Form::url(if wrong_token { "jeton-faux" } else { session.csrf.as_str() }, fields));
        self.fx.request(method, path, Some(session.cookie.as_str()), body).await
    }

    async fn status(&self, id: i64) -> AccountStatus {
        self.fx.store.account(id).await.unwrap().unwrap().status
    }

    async fn set_status(&self, id: i64, s: AccountStatus) {
        self.fx.store.set_account_status(id, s).await.unwrap();
    }
}

/// (method, path, fields, the state Paul or Marc is put in first, the status per role in [`ALL`]'s order).
type MatrixCase = (Method, String, String, Option<AccountStatus>, [u16; 8]);

/// Every console route, every role: the status each gets.
#[tokio::test]
async fn every_console_route_answers_each_role_as_its_scope_says() {
    use R::*;
    let cx = Console::new().await;
    let (paul, marc) = (cx.paul.id, cx.marc.id);
    // (method, path, fields, the state Paul or Marc is put in first, expected per role in ALL's order)
    let e1 = cx.e1;
    let grant = format!("role=referent&unit={e1}");
    let cases: Vec<MatrixCase> = vec![
        (Method::GET, "/admin".into(), String::new(), None, [200, 200, 200, 200, 200, 200, 404, 303]),
        (Method::GET, "/admin/comptes?q=".into(), String::new(), None, [200, 200, 200, 200, 200, 200, 404, 303]),
        (Method::GET, format!("/admin/comptes/{paul}"), String::new(), None, [200, 404, 404, 200, 200, 200, 404, 303]),
        (Method::GET, format!("/admin/comptes/{marc}"), String::new(), None, [200, 200, 404, 404, 200, 200, 404, 303]),
        (Method::GET, "/admin/journal".into(), String::new(), None, [200, 403, 403, 403, 403, 200, 404, 303]),
        (
            Method::POST,
            format!("/admin/comptes/{paul}/suspendre"),
            "confirm=1".into(),
            Some(AccountStatus::Active),
            [303, 404, 404, 303, 403, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/comptes/{marc}/suspendre"),
            "confirm=1".into(),
            Some(AccountStatus::Active),
            [303, 303, 404, 404, 403, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/comptes/{paul}/reactiver"),
            String::new(),
            Some(AccountStatus::Suspended),
            [303, 404, 404, 303, 403, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/comptes/{paul}/quota"),
            "quota=2G".into(),
            None,
            [303, 404, 404, 303, 403, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/comptes/{paul}/mot-de-passe"),
            "confirm=1".into(),
            Some(AccountStatus::Active),
            [200, 404, 404, 200, 200, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/comptes/{paul}/2fa"),
            "confirm=1".into(),
            None,
            [303, 404, 404, 303, 303, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/comptes/{paul}/cles"),
            "confirm=1".into(),
            None,
            [303, 404, 404, 303, 303, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/comptes/{paul}/debloquer"),
            String::new(),
            None,
            [303, 404, 404, 303, 303, 403, 404, 303],
        ),
        (Method::POST, format!("/admin/comptes/{paul}/role"), grant, None, [303, 404, 404, 403, 403, 403, 404, 303]),
    ];
    let mut wrong = Vec::new();
    for (method, path, fields, before, expected) in &cases {
        for (r, want) in ALL.iter().zip(expected) {
            if let Some(s) = before {
                let target = if path.contains(&format!("/{marc}/")) { marc } else { paul };
                cx.set_status(target, *s).await;
            }
            let (status, body) = cx.ask(*r, method.clone(), path, fields, false).await;
            if status.as_u16() != *want {
                wrong.push(format!("{method} {path} as {r:?}: {status}, expected {want}"));
            }
            if status == StatusCode::NOT_FOUND && !body.contains("<h1>Page introuvable</h1>") {
                wrong.push(format!("{method} {path} as {r:?}: 404 is not the error page"));
            }
            if body.contains("paul.durand@") && matches!(r, Dsden57 | OtherReferent | Teacher) {
                wrong.push(format!("{method} {path} as {r:?}: shows Paul"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A search shows only the accounts within the scope.
#[tokio::test]
async fn a_search_finds_only_what_the_scope_holds() {
    let cx = Console::new().await;
    let (_, body) = cx.ask(R::Dsden57, Method::GET, "/admin/comptes?q=", "", false).await;
    assert!(body.contains("marc.weber@ac-test.fr") && !body.contains("paul.durand@ac-test.fr"), "{body}");
    assert!(!body.contains("alice.martin@"), "an account in no unit is the académie's");
    let (_, body) = cx.ask(R::Referent, Method::GET, "/admin/comptes?q=DURAND", "", false).await;
    assert!(body.contains("paul.durand@ac-test.fr") && !body.contains("marc.weber"), "{body}");
    let (_, body) = cx.ask(R::Academie, Method::GET, "/admin/comptes?uai=0571234c&statut=active", "", false).await;
    assert!(body.contains("marc.weber@") && !body.contains("paul.durand@"), "{body}");
    let (_, body) = cx.ask(R::Academie, Method::GET, "/admin/comptes?statut=suspended", "", false).await;
    assert!(body.contains("id=\"nombre-comptes\" role=\"status\">0 "), "{body}");
    // Hostile queries: long, odd, out of range; answered, never an error.
    let long = "%C3%A9".repeat(5000);
    for q in [
        format!("/admin/comptes?q={long}"),
        "/admin/comptes?q=%27%22%3Cscript%3E&uai=%00&statut=root&page=-3".into(),
        "/admin/comptes?page=999999999999999999999999".into(),
        "/admin/comptes?q=a&q=b".into(),
    ] {
        let (status, body) = cx.ask(R::Academie, Method::GET, &q, "", false).await;
        assert!(status == StatusCode::OK || status == StatusCode::BAD_REQUEST, "{q}: {status}");
        assert!(!body.contains("<script>"), "{q}");
    }
}

/// Changes are audited with the real actor; the helpdesk reads no mail; the
/// provisional password is shown once and never logged.
#[tokio::test]
async fn actions_are_audited_with_the_real_actor() {
    let cx = Console::new().await;
    let paul = cx.paul.id;
    let before = cx.fx.store.audit_log().await.unwrap().len();
    let (status, _) =
        cx.ask(R::Referent, Method::POST, &format!("/admin/comptes/{paul}/suspendre"), "confirm=1", false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(cx.status(paul).await, AccountStatus::Suspended);
    let (status, body) =
        cx.ask(R::Helpdesk, Method::POST, &format!("/admin/comptes/{paul}/mot-de-passe"), "confirm=1", false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a suspended account gets no password: {body}");
    let (_, _) = cx.ask(R::Referent, Method::POST, &format!("/admin/comptes/{paul}/reactiver"), "", false).await;
    assert_eq!(cx.status(paul).await, AccountStatus::Active);
    let (status, body) =
        cx.ask(R::Helpdesk, Method::POST, &format!("/admin/comptes/{paul}/mot-de-passe"), "confirm=1", false).await;
    assert_eq!(status, StatusCode::OK);
    let shown = body.split("id=\"mot-de-passe-provisoire\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(shown.len() >= 16, "{shown}");
    assert_eq!(cx.status(paul).await, AccountStatus::Provisional);
    let (_, again) = cx.ask(R::Helpdesk, Method::GET, &format!("/admin/comptes/{paul}"), "", false).await;
    assert!(!again.contains(&shown), "shown once");
    let log = cx.fx.store.audit_log().await.unwrap();
    let actions: Vec<_> =
        log[before..].iter().map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("referent.a@ac-test.fr", "account.suspend", "paul.durand@ac-test.fr"),
            ("referent.a@ac-test.fr", "account.activate", "paul.durand@ac-test.fr"),
            ("assistance@ac-test.fr", "account.reset-password", "paul.durand@ac-test.fr"),
        ]
    );
    assert!(log.iter().all(|e| !e.detail.contains(&shown)), "the password is never logged");
    assert!(identity::lifecycle::audit::verify(&log).is_empty());
    // The audit page says the chain holds and names the actor.
    let (_, page) = cx.ask(R::Auditor, Method::GET, "/admin/journal?cible=paul", "", false).await;
    assert!(page.contains("Chaîne vérifiée") && page.contains("assistance@ac-test.fr"), "{page}");
    // The helpdesk on Alice's page (in no unit) sees states, not her mail.
    let (status, page) = cx.ask(R::Helpdesk, Method::GET, &format!("/admin/comptes/{}", cx.fx.a.id), "", false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(SUBJECT_A) && !page.contains("Confidentiel."));
}

/// A forged POST (no or a wrong token) changes nothing.
#[tokio::test]
async fn a_console_post_without_the_token_is_refused() {
    let cx = Console::new().await;
    let paul = cx.paul.id;
    let before = cx.fx.store.audit_log().await.unwrap().len();
    let (status, body) =
        cx.ask(R::Academie, Method::POST, &format!("/admin/comptes/{paul}/suspendre"), "confirm=1", true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Le formulaire a expiré"));
    assert_eq!(cx.status(paul).await, AccountStatus::Active);
    // Unticked confirmation: refused, nothing done.
    let (status, _) = cx.ask(R::Academie, Method::POST, &format!("/admin/comptes/{paul}/suspendre"), "", false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(cx.status(paul).await, AccountStatus::Active);
    assert_eq!(cx.fx.store.audit_log().await.unwrap().len(), before);
}

/// Nobody raises their own role; the attempt is audited.
#[tokio::test]
async fn a_helpdesk_agent_cannot_raise_its_own_role() {
    let cx = Console::new().await;
    let me = cx.account(R::Helpdesk).clone();
    let root = cx.fx.store.role_grants(me.id).await.unwrap()[0].org_unit;
    let path = format!("/admin/comptes/{}/role", me.id);
    let (status, _) =
        cx.ask(R::Helpdesk, Method::POST, &path, &format!("role=admin-academie&unit={root}"), false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let roles: Vec<_> = cx.fx.store.role_grants(me.id).await.unwrap().into_iter().map(|g| g.role).collect();
    assert_eq!(roles, ["assistance"]);
    let log = cx.fx.store.audit_log().await.unwrap();
    assert_eq!(log.last().map(|e| e.action.as_str()), Some("grant.refused"));
    // Nor on someone else.
    let other = format!("/admin/comptes/{}/role", cx.paul.id);
    let (status, _) =
        cx.ask(R::Helpdesk, Method::POST, &other, &format!("role=admin-academie&unit={root}"), false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(cx.fx.store.role_grants(cx.paul.id).await.unwrap().is_empty());
}

/// Malformed ids and fields: a clear refusal, never a server error.
#[tokio::test]
async fn malformed_console_requests_are_refused() {
    let cx = Console::new().await;
    let paul = cx.paul.id;
    for path in ["/admin/comptes/abc", "/admin/comptes/999999", "/admin/comptes/-1", "/admin/comptes/1e3"] {
        let (status, _) = cx.ask(R::Academie, Method::GET, path, "", false).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = cx.ask(R::Academie, Method::POST, "/admin/comptes/abc/suspendre", "confirm=1", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for quota in ["-5G", "beaucoup", "", "99999999T"] {
        let q = format!("quota={quota}");
        let (status, _) = cx.ask(R::Academie, Method::POST, &format!("/admin/comptes/{paul}/quota"), &q, false).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{quota}");
    }
    for fields in ["role=superadmin&unit=1", "role=referent&unit=x", "role=referent&unit=424242"] {
        let (status, _) =
            cx.ask(R::Academie, Method::POST, &format!("/admin/comptes/{paul}/role"), fields, false).await;
        assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND, "{fields}: {status}");
    }
    assert!(cx.fx.store.role_grants(paul).await.unwrap().is_empty());
}

/// The unlock: Paul, slowed down by guesses, logs in again at once.
#[tokio::test]
async fn the_helpdesk_unlocks_a_throttled_account() {
    let cx = Console::new().await;
    let paul = cx.paul.clone();
    for _ in 0..12 {
        let e = store::NewJournalEntry {
            account_id: Some(paul.id),
            login: paul.address.to_string(),
            protocol: "imap".into(),
            ip: "203.0.113.7".into(),
            client: String::new(),
            result: "bad".into(),
            device: None,
        };
        cx.fx.store.record_login(&e).await.unwrap();
    }
    let (_, page) = cx.ask(R::Helpdesk, Method::GET, &format!("/admin/comptes/{}", paul.id), "", false).await;
    assert!(page.contains("id=\"etat-ralenti\">12 — connexions ralenties"), "{page}");
    let (status, _) =
        cx.ask(R::Helpdesk, Method::POST, &format!("/admin/comptes/{}/debloquer", paul.id), "", false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = cx.ask(R::Helpdesk, Method::GET, &format!("/admin/comptes/{}", paul.id), "", false).await;
    assert!(page.contains("id=\"etat-ralenti\">0<"), "{page}");
    assert!(page.contains("débloqué par l"), "{page}");
    let login = identity::credentials::Login {
        protocol: identity::credentials::Protocol::Imap,
        login: "paul.durand@ac-test.fr",
        secret: PASSWORD_A,
        peer: "203.0.113.7".parse().unwrap(),
        client: None,
        device: None,
    };
    assert!(cx.fx.app.identity.login(&login).await.is_ok(), "Paul logs in again at once");
}
