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
pub(super) enum R {
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

pub(super) const ALL: [R; 8] =
    [R::Academie, R::Dsden57, R::OtherReferent, R::Referent, R::Helpdesk, R::Auditor, R::Teacher, R::NoTotp];

pub(super) struct Console {
    pub(super) fx: Fixture,
    people: Vec<(R, Account)>,
    pub(super) paul: Account,
    pub(super) marc: Account,
    pub(super) e1: i64,
}

pub(super) async fn person(fx: &Fixture, local: &str, unit: Option<i64>) -> Account {
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
    pub(super) async fn new() -> Console {
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

    pub(super) fn account(&self, r: R) -> &Account {
        &self.people.iter().find(|(who, _)| *who == r).unwrap().1
    }

    /// One request as `r`, with a right CSRF token unless `wrong_token`.
    pub(super) async fn ask(
        &self,
        r: R,
        method: Method,
        path: &str,
        fields: &str,
        wrong_token: bool,
    ) -> (StatusCode, String) {
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

    /// Keeps a spam for `to` in quarantine; its id.
    async fn hold(&self, to: &[&Account], subject: &str) -> i64 {
        let raw = format!(
            "From: <escroc@ailleurs.example>\r\nTo: <x@ac-test.fr>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@ailleurs.example>\r\n\r\nPayez.\r\n"
        );
        let rcpts: Vec<(i64, String)> = to.iter().map(|a| (a.id, a.address.to_string())).collect();
        let q = self.fx.app.quarantine.as_ref().unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        q.keep(raw.as_bytes(), hygiene::quarantine::Why::Spam, "PHISHING", "escroc@ailleurs.example", &rcpts, now)
            .await
            .unwrap()
            .unwrap()
    }

    /// Queues a message from `sender` (`None`: a bounce, from no account) to two remote addresses.
    async fn queue(&self, sender: Option<&Account>, n: u64) -> i64 {
        queue_in(&self.fx.store, sender, n).await
    }
}

async fn queue_in(store: &store::Store, sender: Option<&Account>, n: u64) -> i64 {
    let rcpts = ["dest@ailleurs.example", "autre@loin.example"];
    store
        .enqueue(&store::NewQueued {
            blob: model::BlobId::from_hex(&format!("{n:064x}")).unwrap(),
            size: 2048,
            sender: sender.map(|a| a.address.to_string()).unwrap_or_default(),
            account: sender.map(|a| a.id),
            recipients: rcpts.iter().map(|r| (r.to_string(), r.split_once('@').unwrap().1.to_owned())).collect(),
            expires_at: i64::MAX / 2,
        })
        .await
        .unwrap()
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
    let (from_paul, from_marc, bounce) =
        (cx.queue(Some(&cx.paul), 1).await, cx.queue(Some(&cx.marc), 2).await, cx.queue(None, 3).await);
    let held = cx.hold(&[&cx.paul], "Facture impayée").await;
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
        (
            Method::POST,
            format!("/admin/comptes/{paul}/sessions/tout-fermer"),
            "confirm=1".into(),
            None,
            [303, 404, 404, 303, 303, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/comptes/{paul}/sessions/fermer"),
            "session=0123456789abcdef".into(),
            None,
            [404, 404, 404, 404, 404, 403, 404, 303],
        ),
        (Method::GET, "/admin/file".into(), String::new(), None, [200, 200, 200, 200, 200, 200, 404, 303]),
        (Method::GET, "/admin/file?page=-1".into(), String::new(), None, [200, 200, 200, 200, 200, 200, 404, 303]),
        (
            Method::POST,
            format!("/admin/file/{from_paul}/relancer"),
            String::new(),
            None,
            [303, 404, 404, 303, 403, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/file/{from_marc}/relancer"),
            String::new(),
            None,
            [303, 303, 404, 404, 403, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/file/{bounce}/relancer"),
            String::new(),
            None,
            [303, 404, 404, 404, 403, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/file/{from_paul}/supprimer"),
            String::new(),
            None,
            // « Je confirme » unticked: refused before anything is looked up.
            [400, 400, 400, 400, 400, 400, 404, 303],
        ),
        (Method::GET, "/admin/stockage".into(), String::new(), None, [200, 200, 200, 200, 200, 200, 404, 303]),
        (Method::GET, "/admin/politiques".into(), String::new(), None, [200, 200, 200, 200, 200, 200, 404, 303]),
        (
            Method::POST,
            format!("/admin/politiques/{e1}/transfert"),
            "politique=internal".into(),
            None,
            [303, 404, 404, 403, 403, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/politiques/{e1}/archivage"),
            "jours=30".into(),
            None,
            [303, 404, 404, 403, 403, 403, 404, 303],
        ),
        (Method::GET, "/admin/annuaire".into(), String::new(), None, [200, 403, 403, 403, 403, 403, 404, 303]),
        (
            Method::POST,
            "/admin/annuaire/appliquer".into(),
            "jeton=inconnu&empreinte=0&confirm=1".into(),
            None,
            // The académie's administrator: that file is not (or no longer) kept.
            [410, 403, 403, 403, 403, 403, 404, 303],
        ),
        (Method::GET, "/admin/quarantaine".into(), String::new(), None, [200, 403, 403, 403, 403, 403, 404, 303]),
        (
            Method::POST,
            format!("/admin/quarantaine/{held}/liberer"),
            String::new(),
            None,
            [400, 400, 400, 400, 400, 400, 404, 303],
        ),
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

/// The queue page lists what the scope holds; deleting is confirmed,
/// refused outside the scope, and audited with the real actor.
#[tokio::test]
async fn the_queue_shows_and_deletes_within_the_scope_only() {
    let cx = Console::new().await;
    let from_paul = cx.queue(Some(&cx.paul), 11).await;
    let from_marc = cx.queue(Some(&cx.marc), 12).await;
    let bounce = cx.queue(None, 13).await;
    let (_, page) = cx.ask(R::Referent, Method::GET, "/admin/file", "", false).await;
    assert!(page.contains(&format!("id=\"file-{from_paul}\"")), "{page}");
    assert!(!page.contains(&format!("id=\"file-{from_marc}\"")) && !page.contains(&format!("id=\"file-{bounce}\"")));
    assert!(
        page.contains("dest@ailleurs.example")
            && page.contains(&format!("action=\"/admin/file/{from_paul}/supprimer\""))
    );
    let (_, page) = cx.ask(R::Helpdesk, Method::GET, "/admin/file", "", false).await;
    assert!(page.contains(&format!("id=\"file-{from_marc}\"")) && page.contains(&format!("id=\"file-{bounce}\"")));
    assert!(!page.contains("/supprimer\""), "the helpdesk reads the queue, acts on nothing");
    let (_, page) = cx.ask(R::Academie, Method::GET, "/admin/file", "", false).await;
    assert!(page.contains("id=\"nombre-file\" role=\"status\">3 "), "{page}");

    let before = cx.fx.store.audit_log().await.unwrap().len();
    // Marc's message is not the referent's to delete: as if it did not exist.
    let (status, _) =
        cx.ask(R::Referent, Method::POST, &format!("/admin/file/{from_marc}/supprimer"), "confirm=1", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(cx.fx.store.queued(from_marc).await.unwrap().is_some());
    // A forged POST and an unticked box change nothing.
    let (status, _) =
        cx.ask(R::Referent, Method::POST, &format!("/admin/file/{from_paul}/supprimer"), "confirm=1", true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = cx.ask(R::Referent, Method::POST, &format!("/admin/file/{from_paul}/supprimer"), "", false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(cx.fx.store.queued(from_paul).await.unwrap().is_some());
    assert_eq!(cx.fx.store.audit_log().await.unwrap().len(), before);
    // Retried then deleted by Paul's referent.
    cx.fx.store.reschedule(from_paul, i64::MAX / 4, false).await.unwrap();
    let (status, _) = cx.ask(R::Referent, Method::POST, &format!("/admin/file/{from_paul}/relancer"), "", false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(cx.fx.store.queued(from_paul).await.unwrap().unwrap().next_attempt_at < i64::MAX / 4);
    let (status, _) =
        cx.ask(R::Referent, Method::POST, &format!("/admin/file/{from_paul}/supprimer"), "confirm=1", false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(cx.fx.store.queued(from_paul).await.unwrap().is_none());
    let (status, _) =
        cx.ask(R::Referent, Method::POST, &format!("/admin/file/{from_paul}/supprimer"), "confirm=1", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone");
    let log = cx.fx.store.audit_log().await.unwrap();
    let actions: Vec<_> =
        log[before..].iter().map(|e| (e.actor.as_str(), e.action.as_str(), e.target.clone())).collect();
    let target = format!("file d'envoi #{from_paul}");
    assert_eq!(
        actions,
        [("referent.a@ac-test.fr", "queue.retry", target.clone()), ("referent.a@ac-test.fr", "queue.delete", target)]
    );
    assert!(log[before..].iter().all(|e| e.detail.contains("paul.durand@ac-test.fr")));
    // Hostile ids.
    for path in ["/admin/file/abc/supprimer", "/admin/file/-1/supprimer", "/admin/file/99999999999999999999/relancer"] {
        let (status, _) = cx.ask(R::Academie, Method::POST, path, "confirm=1", false).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

/// « Fermer » ends one of Paul's web sessions, « Fermer toutes les
/// sessions » the rest; both audited; nobody ends their own from here.
#[tokio::test]
async fn an_administrator_ends_pauls_sessions() {
    let cx = Console::new().await;
    let paul = cx.paul.clone();
    let (one, _) = cx.fx.session_of(&paul).await;
    let (two, _) = cx.fx.session_of(&paul).await;
    let (status, _) = cx.fx.request(Method::GET, "/courrier", Some(one.cookie.as_str()), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = cx.ask(R::Helpdesk, Method::GET, &format!("/admin/comptes/{}", paul.id), "", false).await;
    assert!(page.contains("id=\"nombre-sessions\">2<"), "{page}");
    let keys: Vec<String> =
        page.split("name=\"session\" value=\"").skip(1).map(|p| p.split('"').next().unwrap().to_owned()).collect();
    assert_eq!(keys.len(), 2);
    let hashes: Vec<String> =
        cx.fx.store.web_sessions(paul.id).await.unwrap().into_iter().map(|s| s.token_hash).collect();
    assert!(
        keys.iter().all(|k| hashes.iter().all(|h| !h.contains(k.as_str()))),
        "the page never shows a session's hash"
    );
    // The auditor sees the sessions, ends none.
    let (status, _) = cx
        .ask(
            R::Auditor,
            Method::POST,
            &format!("/admin/comptes/{}/sessions/fermer", paul.id),
            &format!("session={}", keys[0]),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let before = cx.fx.store.audit_log().await.unwrap().len();
    let (status, _) = cx
        .ask(
            R::Helpdesk,
            Method::POST,
            &format!("/admin/comptes/{}/sessions/fermer", paul.id),
            &format!("session={}", keys[0]),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(cx.fx.store.web_sessions(paul.id).await.unwrap().len(), 1);
    // Every session, then: Paul's pages send him to the login.
    let (status, _) = cx
        .ask(R::Helpdesk, Method::POST, &format!("/admin/comptes/{}/sessions/tout-fermer", paul.id), "confirm=1", false)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(cx.fx.store.web_sessions(paul.id).await.unwrap().is_empty());
    for s in [&one, &two] {
        let (status, _) = cx.fx.request(Method::GET, "/courrier", Some(s.cookie.as_str()), None).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let log = cx.fx.store.audit_log().await.unwrap();
    let actions: Vec<_> =
        log[before..].iter().map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("assistance@ac-test.fr", "session.end", "paul.durand@ac-test.fr"),
            ("assistance@ac-test.fr", "session.end-all", "paul.durand@ac-test.fr"),
        ]
    );
    // One's own sessions are the Security page's.
    let me = cx.account(R::Helpdesk).id;
    let (status, _) = cx
        .ask(R::Helpdesk, Method::POST, &format!("/admin/comptes/{me}/sessions/tout-fermer"), "confirm=1", false)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The header links to the console for administrators only.
#[tokio::test]
async fn the_header_links_to_the_console_for_administrators_only() {
    let cx = Console::new().await;
    for (r, shown) in [(R::Academie, true), (R::Auditor, true), (R::NoTotp, true), (R::Teacher, false)] {
        let (session, _) = cx.fx.session_of(cx.account(r)).await;
        let (status, page) = cx.fx.request(Method::GET, "/securite", Some(session.cookie.as_str()), None).await;
        assert_eq!(status, StatusCode::OK, "{r:?}");
        assert_eq!(page.contains("id=\"lien-administration\""), shown, "{r:?}");
    }
    let (_, page) = cx.fx.request(Method::GET, "/connexion", None, None).await;
    assert!(!page.contains("lien-administration"));
}

/// Two académies in one installation: an académie's administrator sees
/// only their tenant's queue (not the other's, nor what has no unit); the
/// national administrator sees every one.
#[tokio::test]
async fn the_queue_stays_within_the_tenant() {
    let cx = Console::new().await;
    let other = unit(&cx.fx, None, OrgUnitKind::Academie, "Autre académie", None).await;
    let far = person(&cx.fx, "loin.tain", Some(other)).await;
    let national = person(&cx.fx, "national", Some(other)).await;
    cx.fx.store.grant_role(national.id, "admin-national", other).await.unwrap();
    cx.fx.store.set_totp_pending(national.id, "seed").await.unwrap();
    cx.fx.store.enable_totp(national.id).await.unwrap();
    let from_far = cx.queue(Some(&far), 21).await;
    let from_paul = cx.queue(Some(&cx.paul), 22).await;
    let bounce = cx.queue(None, 23).await;
    let (_, page) = cx.ask(R::Academie, Method::GET, "/admin/file", "", false).await;
    assert!(page.contains(&format!("id=\"file-{from_paul}\"")), "{page}");
    assert!(!page.contains("loin.tain@") && !page.contains(&format!("id=\"file-{bounce}\"")), "{page}");
    let (status, _) =
        cx.ask(R::Academie, Method::POST, &format!("/admin/file/{from_far}/supprimer"), "confirm=1", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (session, _) = cx.fx.session_of(&national).await;
    let (_, page) = cx.fx.request(Method::GET, "/admin/file", Some(session.cookie.as_str()), None).await;
    for id in [from_far, from_paul, bounce] {
        assert!(page.contains(&format!("id=\"file-{id}\"")), "{id}: {page}");
    }
    // Storage and sessions stay within the tenant too.
    cx.fx.app.ms.deliver(b"Subject: x\r\n\r\nLoin.\r\n", &[far.id], 1_767_225_600).await.unwrap();
    let (_, page) = cx.ask(R::Academie, Method::GET, "/admin/stockage", "", false).await;
    assert!(!page.contains("loin.tain@") && !page.contains("Autre académie"), "{page}");
    assert!(!page.contains("Comptes hors de toute unité"), "what has no unit is the national administrator's");
    let (_, page) = cx.fx.request(Method::GET, "/admin/stockage", Some(session.cookie.as_str()), None).await;
    assert!(page.contains("loin.tain@") && page.contains("Autre académie") && page.contains("paul.durand@"), "{page}");
    let (_far_session, _) = cx.fx.session_of(&far).await;
    let end_all = format!("/admin/comptes/{}/sessions/tout-fermer", far.id);
    let (status, _) = cx.ask(R::Academie, Method::POST, &end_all, "confirm=1", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(cx.fx.store.web_sessions(far.id).await.unwrap().len(), 1);
    let body = Form::url(&session.csrf, "confirm=1");
    let (status, _) = cx.fx.request(Method::POST, &end_all, Some(session.cookie.as_str()), Some(body)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(cx.fx.store.web_sessions(far.id).await.unwrap().is_empty());
}

/// The quarantine is governance's: the académie's administrator sees it,
/// releases into Paul's Inbox and deletes, audited; the others are refused;
/// a message for recipients of two académies stays out of each académie's
/// administrator's reach.
#[tokio::test]
async fn the_quarantine_is_released_and_deleted_by_governance_only() {
    let cx = Console::new().await;
    let for_paul = cx.hold(&[&cx.paul], "Facture impayée").await;
    let for_both = cx.hold(&[&cx.paul, &cx.marc], "Colis en attente").await;
    let (status, page) = cx.ask(R::Academie, Method::GET, "/admin/quarantaine", "", false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("id=\"quarantaine-{for_paul}\"")) && page.contains("Colis en attente"), "{page}");
    let (status, page) = cx.ask(R::Referent, Method::GET, "/admin/quarantaine", "", false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!page.contains("Facture impayée"));
    let (_, page) = cx.ask(R::Referent, Method::GET, "/admin", "", false).await;
    assert!(!page.contains("console-quarantaine"), "no link to a page that refuses");

    let before = cx.fx.store.audit_log().await.unwrap().len();
    let release = |id: i64| format!("/admin/quarantaine/{id}/liberer");
    let (status, _) = cx.ask(R::Dsden57, Method::POST, &release(for_paul), "confirm=1", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "Paul is out of the DSDEN 57's sight");
    let (status, _) = cx.ask(R::Referent, Method::POST, &release(for_paul), "confirm=1", false).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "in sight, not governed");
    let (status, _) = cx.ask(R::Academie, Method::POST, &release(for_paul), "confirm=1", true).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "forged");
    assert!(cx.fx.store.quarantined_one(for_paul).await.unwrap().is_some());
    assert_eq!(cx.fx.store.audit_log().await.unwrap().len(), before);

    let inbox = cx.fx.app.ms.mailbox_with_use(cx.paul.id, model::SpecialUse::Inbox).await.unwrap().unwrap();
    let (status, _) = cx.ask(R::Academie, Method::POST, &release(for_paul), "confirm=1", false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(cx.fx.store.quarantined_one(for_paul).await.unwrap().is_none());
    let after = cx.fx.app.ms.mailbox_with_use(cx.paul.id, model::SpecialUse::Inbox).await.unwrap().unwrap();
    assert_eq!(after.uid_next, inbox.uid_next + 1, "in Paul's Inbox");
    let (status, _) = cx.ask(R::Academie, Method::POST, &release(for_paul), "confirm=1", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "released once");
    let (status, _) = cx
        .ask(R::Academie, Method::POST, &format!("/admin/quarantaine/{for_both}/supprimer"), "confirm=1", false)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let log = cx.fx.store.audit_log().await.unwrap();
    let actions: Vec<_> =
        log[before..].iter().map(|e| (e.actor.as_str(), e.action.as_str(), e.target.clone())).collect();
    assert_eq!(
        actions,
        [
            ("rectorat@ac-test.fr", "quarantine.release", format!("quarantaine #{for_paul}")),
            ("rectorat@ac-test.fr", "quarantine.delete", format!("quarantaine #{for_both}")),
        ]
    );

    // Two académies: a message for both stays out of either's reach.
    let other = unit(&cx.fx, None, OrgUnitKind::Academie, "Autre académie", None).await;
    let far = person(&cx.fx, "loin.tain", Some(other)).await;
    let mixed = cx.hold(&[&cx.paul, &far], "Mixte").await;
    let own = cx.hold(&[&cx.paul], "Local").await;
    let (_, page) = cx.ask(R::Academie, Method::GET, "/admin/quarantaine", "", false).await;
    assert!(page.contains(&format!("id=\"quarantaine-{own}\"")) && !page.contains("Mixte"), "{page}");
    let (status, _) = cx.ask(R::Academie, Method::POST, &release(mixed), "confirm=1", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for path in
        ["/admin/quarantaine/abc/liberer", "/admin/quarantaine/-5/supprimer", "/admin/quarantaine/99999999/supprimer"]
    {
        let (status, _) = cx.ask(R::Academie, Method::POST, path, "confirm=1", false).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

/// The storage page counts what the scope holds, computed by the database.
#[tokio::test]
async fn storage_is_counted_within_the_scope() {
    let cx = Console::new().await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let mail = |subject: &str| {
        format!("From: <direction@ac-test.fr>\r\nSubject: {subject}\r\n\r\n{}\r\n", "x".repeat(4000)).into_bytes()
    };
    // A circular to Paul and Marc (stored once), and a message for Paul alone.
    cx.fx.app.ms.deliver(&mail("Circulaire"), &[cx.paul.id, cx.marc.id], now).await.unwrap();
    cx.fx.app.ms.deliver(&mail("Pour Paul"), &[cx.paul.id], now).await.unwrap();
    let (status, page) = cx.ask(R::Dsden57, Method::GET, "/admin/stockage", "", false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("marc.weber@ac-test.fr") && !page.contains("paul.durand@"), "{page}");
    assert!(page.contains("Collège de Metz (0571234C)</th><td>1</td>"), "{page}");
    assert!(page.contains("id=\"stockage-messages\">1<") && page.contains("id=\"stockage-ratio\">1,00 "), "{page}");
    assert!(!page.contains("Comptes hors de toute unité"));
    let (_, page) = cx.ask(R::Academie, Method::GET, "/admin/stockage", "", false).await;
    // DSDEN 54 counts Paul and the two referents of its établissements.
    assert!(page.contains("DSDEN 54</th><td>3</td>"), "{page}");
    let largest = page.split("id=\"stockage-grandes\"").nth(1).unwrap();
    assert!(largest.find("paul.durand@").unwrap() < largest.find("marc.weber@").unwrap(), "largest first");
    assert!(page.contains("Comptes hors de toute unité"), "the académie's governance sees the accounts in no unit");
    assert!(page.contains("économisé"), "{page}");
}
