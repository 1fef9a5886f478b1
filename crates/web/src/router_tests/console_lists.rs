//! The console's « Demandes d'espace », « Listes » and « Boîtes
//! fonctionnelles » (issue 24) in the authorization matrix of `console.rs`:
//! every new route asked by every kind of administrator, and what a request
//! for more space does from Réglages to the user's Inbox.

use axum::http::{Method, StatusCode};
use model::{AccountStatus, Role};

use super::console::{ALL, Console, R};

/// Paul's open request for more space (opened when none is).
async fn open_request(cx: &Console) -> i64 {
    let store = &cx.fx.store;
    match store.latest_quota_request(cx.paul.id).await.unwrap() {
        Some(r) if r.status == store::QuotaRequestStatus::Open => r.id,
        _ => cx.fx.app.identity.request_quota(&cx.paul, "Pièces jointes des conseils").await.unwrap(),
    }
}

/// A static list (no unit: governance's), a dynamic list of Paul's
/// établissement, and the établissement's functional mailbox.
async fn lists_and_mailbox(cx: &Console) -> (i64, i64, i64) {
    let lists = cx.fx.app.lists.as_ref().unwrap();
    let new = |local: &str, query| lists::NewList {
        address: model::Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
        name: local.into(),
        description: String::new(),
        query,
        discussion: false,
        tag: None,
    };
    let equipe = lists.create(new("equipe", None)).await.unwrap().id;
    let query = lists::Query { unit: cx.e1, role: None };
    let profs = lists.create(new("profs.0541234a", Some(query))).await.unwrap().id;
    let secretariat = cx
        .fx
        .store
        .create_account(&store::NewAccount {
            address: model::Address::parse("secretariat.0541234a@ac-test.fr").unwrap(),
            login: None,
            display_name: "Secrétariat du collège".into(),
            role: Role::Functional,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: Some(cx.e1),
            password_hash: None,
        })
        .await
        .unwrap();
    (equipe, profs, secretariat.id)
}

#[tokio::test]
async fn the_requests_lists_and_mailboxes_pages_answer_each_role_as_its_scope_says() {
    let cx = Console::new().await;
    open_request(&cx).await;
    let (equipe, profs, secretariat) = lists_and_mailbox(&cx).await;
    let paul = cx.paul.id;
    let who_sees_paul = [200, 404, 404, 200, 200, 200, 404, 303];
    let everyone = [200, 200, 200, 200, 200, 200, 404, 303];
    let cases: Vec<(Method, String, &str, [u16; 8])> = vec![
        (Method::GET, "/admin/demandes".into(), "", everyone),
        (Method::GET, "/admin/listes".into(), "", everyone),
        (Method::GET, format!("/admin/listes/{equipe}"), "", [200, 404, 404, 404, 200, 200, 404, 303]),
        (Method::GET, format!("/admin/listes/{profs}"), "", who_sees_paul),
        (Method::GET, "/admin/listes/999999".into(), "", [404, 404, 404, 404, 404, 404, 404, 303]),
        (
            Method::POST,
            format!("/admin/listes/{equipe}/membres"),
            "membre=paul.durand%40ac-test.fr",
            [303, 404, 404, 404, 403, 403, 404, 303],
        ),
        (
            // A dynamic list's members come from the directory: the domain refuses.
            Method::POST,
            format!("/admin/listes/{profs}/membres"),
            "membre=paul.durand%40ac-test.fr",
            [400, 404, 404, 400, 403, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/listes/{profs}/politique"),
            "politique=members",
            [303, 404, 404, 303, 403, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/listes/{profs}/moderateurs"),
            "compte=paul.durand%40ac-test.fr&action=ajouter",
            [303, 404, 404, 303, 403, 403, 404, 303],
        ),
        (Method::GET, "/admin/boites".into(), "", everyone),
        (Method::GET, format!("/admin/boites/{secretariat}"), "", who_sees_paul),
        // Paul's own account is no functional mailbox.
        (Method::GET, format!("/admin/boites/{paul}"), "", [400, 404, 404, 400, 400, 400, 404, 303]),
        (
            Method::POST,
            format!("/admin/boites/{secretariat}/membres"),
            "membre=paul.durand%40ac-test.fr&droits=lrs&de_la_part=1",
            [303, 404, 404, 303, 403, 403, 404, 303],
        ),
        (
            Method::POST,
            format!("/admin/boites/{secretariat}/membres"),
            "membre=paul.durand%40ac-test.fr&droits=lrz",
            // Unknown rights: refused before anything is looked up.
            [400, 400, 400, 400, 400, 400, 404, 303],
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, fields, expected) in &cases {
        for (r, want) in ALL.iter().zip(expected) {
            let (status, body) = cx.ask(*r, method.clone(), path, fields, false).await;
            if status.as_u16() != *want {
                wrong.push(format!("{method} {path} as {r:?}: {status}, expected {want}"));
            }
            if body.contains("paul.durand@") && matches!(r, R::Dsden57 | R::OtherReferent | R::Teacher) {
                wrong.push(format!("{method} {path} as {r:?}: shows Paul"));
            }
        }
    }
    // Deciding Paul's request: whoever may manage his account, never another's referent.
    for (action, fields) in [("refuser", "raison=Videz+la+corbeille"), ("accepter", "quota=2G")] {
        for (r, want) in ALL.iter().zip([303, 404, 404, 303, 403, 403, 404, 303]) {
            let id = open_request(&cx).await;
            let path = format!("/admin/demandes/{id}/{action}");
            let (status, _) = cx.ask(*r, Method::POST, &path, fields, false).await;
            if status.as_u16() != want {
                wrong.push(format!("POST {path} as {r:?}: {status}, expected {want}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The moderator and the member were really changed, by the real actors.
    let lists = cx.fx.app.lists.as_ref().unwrap();
    let report = lists.report(&model::Address::parse("equipe@ac-test.fr").unwrap()).await.unwrap();
    assert_eq!(report.members, ["paul.durand@ac-test.fr"]);
    let grants = cx.fx.app.ms.grants_given(secretariat).await.unwrap();
    assert_eq!(
        grants.iter().map(|g| (g.grantee_address.as_str(), g.rights.as_str(), g.on_behalf)).collect::<Vec<_>>(),
        [("paul.durand@ac-test.fr", "lrs", true)]
    );
    let log = cx.fx.store.audit_log().await.unwrap();
    let seen: Vec<_> = log.iter().map(|e| (e.actor.as_str(), e.action.as_str())).collect();
    assert!(seen.contains(&("rectorat@ac-test.fr", "list.add")), "{seen:?}");
    assert!(seen.contains(&("referent.a@ac-test.fr", "list.post-policy")), "{seen:?}");
    assert!(seen.contains(&("referent.a@ac-test.fr", "mailbox.member.add")), "{seen:?}");
    assert!(seen.contains(&("referent.a@ac-test.fr", "quota-request.refuse")), "{seen:?}");
    assert!(seen.contains(&("rectorat@ac-test.fr", "quota-request.approve")), "{seen:?}");
    assert!(identity::lifecycle::audit::verify(&log).is_empty());
}

/// Paul asks in Réglages; his referent sees the reason and approves; Paul's
/// quota changes and a notice reaches his Inbox; Réglages says so.
#[tokio::test]
async fn a_request_for_more_space_goes_from_reglages_to_the_console_and_back() {
    let cx = Console::new().await;
    let paul = cx.paul.clone();
    cx.fx.store.set_quota(paul.id, Some(1 << 30)).await.unwrap();
    let (session, _) = cx.fx.session_of(&paul).await;
    let ask = |reason: &str| {
        let body = super::table::Form::url(&session.csrf, &format!("raison={reason}"));
        cx.fx.request(Method::POST, "/courrier/reglages/espace", Some(&session.cookie), Some(body))
    };
    let (status, _) = ask("+++").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "an empty reason comes back to Réglages");
    assert_eq!(cx.fx.store.latest_quota_request(paul.id).await.unwrap(), None);
    let (status, _) = ask("Archives+des+conseils+de+classe").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = cx.fx.request(Method::GET, "/courrier/reglages", Some(&session.cookie), None).await;
    assert!(page.contains("est en cours d&#39;examen") && !page.contains("id=\"form-espace\""), "{page}");
    ask("encore").await;
    let (_, page) =
        cx.fx.request(Method::GET, "/courrier/reglages?info=espace-ouverte", Some(&session.cookie), None).await;
    assert!(page.contains("Une demande est déjà en cours d&#39;examen."));

    let (_, list) = cx.ask(R::Referent, Method::GET, "/admin/demandes", "", false).await;
    assert!(list.contains("Archives des conseils de classe") && list.contains("paul.durand@ac-test.fr"), "{list}");
    let id = cx.fx.store.latest_quota_request(paul.id).await.unwrap().unwrap().id;
    assert!(list.contains("value=\"2048M\""), "twice the quota is offered: {list}");
    let (status, _) =
        cx.ask(R::Referent, Method::POST, &format!("/admin/demandes/{id}/accepter"), "quota=3G", false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(cx.fx.store.account(paul.id).await.unwrap().unwrap().quota_bytes, Some(3 << 30));
    let (status, _) =
        cx.ask(R::Academie, Method::POST, &format!("/admin/demandes/{id}/refuser"), "raison=Non", false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "decided once");
    let (_, list) = cx.ask(R::Referent, Method::GET, "/admin/demandes", "", false).await;
    assert!(!list.contains("paul.durand@ac-test.fr"), "no longer waiting");

    let (_, page) = cx.fx.request(Method::GET, "/courrier/reglages", Some(&session.cookie), None).await;
    assert!(page.contains("a été acceptée") && page.contains("id=\"form-espace\""), "{page}");
    let (_, inbox) = cx.fx.request(Method::GET, "/courrier", Some(&session.cookie), None).await;
    assert!(inbox.contains("Demande d&#39;espace acceptée"), "{inbox}");
    let last = cx.fx.store.audit_log().await.unwrap().pop().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.action.as_str(), last.target.as_str()),
        ("referent.a@ac-test.fr", "quota-request.approve", "paul.durand@ac-test.fr")
    );
}

/// Nobody decides their own request.
#[tokio::test]
async fn an_administrator_does_not_decide_their_own_request() {
    let cx = Console::new().await;
    let me = cx.account(R::Referent).clone();
    let id = cx.fx.app.identity.request_quota(&me, "Pour moi").await.unwrap();
    let (status, _) =
        cx.ask(R::Referent, Method::POST, &format!("/admin/demandes/{id}/accepter"), "quota=0", false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(cx.fx.store.account(me.id).await.unwrap().unwrap().quota_bytes, None);
    let (status, _) =
        cx.ask(R::Academie, Method::POST, &format!("/admin/demandes/{id}/accepter"), "quota=0", false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}
