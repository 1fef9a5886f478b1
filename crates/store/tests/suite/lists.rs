//! Distribution lists (migration 21): one address space with accounts and
//! aliases, members, senders, moderators, the directory query of dynamic
//! lists, and held posts keeping their blob until decided.

use model::{AccountStatus, OrgUnitKind, Role, Uai};
use store::{NewList, NewOrgUnit};

use crate::fixtures::*;
use crate::harness::Ctx;

fn new_list(local: &str) -> NewList {
    NewList {
        address: addr(&format!("{local}@{DOMAIN}")),
        name: local.into(),
        description: String::new(),
        kind: "static".into(),
        unit: None,
        role: None,
        post_policy: "anyone".into(),
        discussion: false,
        tag: None,
    }
}

pub async fn lists_share_the_address_space_and_hold_posts(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    assert!(matches!(store.create_list(&new_list("claire.martin")).await, Err(store::Error::Conflict(_))));
    let list = store.create_list(&new_list("cdi")).await.unwrap();
    assert_eq!(store.list_by_address(&list.address).await.unwrap().unwrap(), list);
    assert!(matches!(store.create_list(&new_list("cdi")).await, Err(store::Error::Conflict(_))));
    assert!(matches!(store.add_alias(&list.address, claire.id).await, Err(store::Error::Conflict(_))));
    assert!(matches!(store.create_account(&new_account("cdi")).await, Err(store::Error::Conflict(_))));
    assert_eq!(store.taken_names().await.unwrap().0.get("cdi@ac-demo.fr"), Some(&0));

    assert!(store.add_list_member(list.id, "claire.martin@ac-demo.fr").await.unwrap());
    assert!(!store.add_list_member(list.id, "claire.martin@ac-demo.fr").await.unwrap());
    assert!(store.add_list_member(list.id, "parent@example.org").await.unwrap());
    assert_eq!(store.list_members(list.id).await.unwrap(), ["claire.martin@ac-demo.fr", "parent@example.org"]);
    assert!(store.remove_list_member(list.id, "parent@example.org").await.unwrap());
    store.set_list_policy(list.id, "senders", &["a@example.org".into()]).await.unwrap();
    assert_eq!(store.list_senders(list.id).await.unwrap(), ["a@example.org"]);
    assert!(store.set_list_moderator(list.id, claire.id, true).await.unwrap());
    assert_eq!(store.list_moderators(list.id).await.unwrap(), [claire.id]);

    let held = store.hold_post(list.id, &blob(7), 120, "p@example.org", "Sujet").await.unwrap();
    assert_eq!(store.held_posts(list.id).await.unwrap()[0].subject, "Sujet");
    assert_eq!(store.held_before(i64::MAX).await.unwrap().len(), 1);
    assert!(store.released_blobs(i64::MAX).await.unwrap().is_empty(), "a held post keeps its blob");
    assert!(store.release_held(held).await.unwrap());
    assert!(!store.release_held(held).await.unwrap(), "decided once");
    assert_eq!(store.released_blobs(i64::MAX).await.unwrap(), [blob(7)]);

    store.hold_post(list.id, &blob(8), 120, "", "").await.unwrap();
    assert!(store.delete_list(list.id).await.unwrap());
    assert!(store.list_by_address(&list.address).await.unwrap().is_none());
    assert!(store.list_members(list.id).await.unwrap().is_empty());
    assert!(store.released_blobs(i64::MAX).await.unwrap().contains(&blob(8)));
}

pub async fn dynamic_lists_read_a_subtree_of_active_staff(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let unit = |parent, kind, name: &str, uai: Option<&str>| NewOrgUnit {
        parent,
        kind,
        name: name.into(),
        uai: uai.map(|u| Uai::parse(u).unwrap()),
    };
    let root = store.create_org_unit(&unit(None, OrgUnitKind::Academie, "A", None)).await.unwrap();
    let dsden = store.create_org_unit(&unit(Some(root), OrgUnitKind::Dsden, "D", None)).await.unwrap();
    let school =
        store.create_org_unit(&unit(Some(dsden), OrgUnitKind::Etablissement, "C", Some("0541234A"))).await.unwrap();
    let mut made = Vec::new();
    for (local, role, status, at) in [
        ("t1", Role::Teacher, AccountStatus::Active, school),
        ("t2", Role::Teacher, AccountStatus::Provisional, school),
        ("t3", Role::Teacher, AccountStatus::Suspended, school),
        ("t4", Role::Teacher, AccountStatus::Closed, school),
        ("d1", Role::Direction, AccountStatus::Active, dsden),
        ("e1", Role::Student, AccountStatus::Active, school),
    ] {
        let mut new = new_account(local);
        new.role = role;
        new.status = status;
        new.org_unit = Some(at);
        made.push(store.create_account(&new).await.unwrap().id);
    }
    let ids = |v: Vec<(i64, model::Address)>| v.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    assert_eq!(ids(store.directory_members(school, Some("enseignant")).await.unwrap()), [made[0], made[1]]);
    assert_eq!(ids(store.directory_members(root, None).await.unwrap()), [made[0], made[1], made[4]]);
    assert_eq!(ids(store.directory_members(dsden, Some("direction")).await.unwrap()), [made[4]]);
}

/// Quarantine (migration 26) keeps its blob like a held post, until released
/// or deleted, once.
pub async fn quarantine_keeps_refused_messages_until_decided(ctx: Ctx) {
    let store = &ctx.store;
    let recipients = vec![(3, "claire.martin@ac-demo.fr".to_string()), (4, "paul.durand@ac-demo.fr".to_string())];
    let q = store::NewQuarantined {
        blob: &blob(9),
        size: 321,
        reason: "virus",
        detail: "Ardoise.Test.EICAR",
        mail_from: "x@example.org",
        recipients: &recipients,
        subject: "Facture",
        expires_at: 1_000,
    };
    let id = store.quarantine(q).await.unwrap();
    let second = store.quarantine(store::NewQuarantined { reason: "spam", expires_at: 5_000, ..q }).await.unwrap();
    let all = store.quarantined(10).await.unwrap();
    assert_eq!(all.iter().map(|q| q.id).collect::<Vec<_>>(), [second, id], "newest first");
    let one = store.quarantined_one(id).await.unwrap().unwrap();
    assert_eq!((one.reason.as_str(), one.detail.as_str(), one.size), ("virus", "Ardoise.Test.EICAR", 321));
    assert_eq!(one.recipients, recipients);
    assert_eq!(store.quarantine_expired(2_000).await.unwrap(), [id]);
    assert!(store.released_blobs(i64::MAX).await.unwrap().is_empty(), "two references on the blob");
    assert!(store.unquarantine(id).await.unwrap());
    assert!(!store.unquarantine(id).await.unwrap(), "decided once");
    assert!(store.released_blobs(i64::MAX).await.unwrap().is_empty(), "one reference left");
    assert!(store.unquarantine(second).await.unwrap());
    assert_eq!(store.released_blobs(i64::MAX).await.unwrap(), [blob(9)]);
    assert!(store.quarantined_one(id).await.unwrap().is_none());
}
