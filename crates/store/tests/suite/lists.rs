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

/// List archives (migration 44): discussion groups archive by default, a
/// switch turns it on or off, each post holds one reference on the blob its
/// members got (so an expunge by every member leaves it), pages go newest
/// first, a post seen again by Message-ID is kept once, and deleting the
/// list releases every reference.
pub async fn list_archives_hold_one_blob_reference_per_post(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let group = store.create_list(&NewList { discussion: true, ..new_list("cdi") }).await.unwrap();
    assert!(group.archive, "a discussion group archives");
    let plain = store.create_list(&new_list("direction")).await.unwrap();
    assert!(!plain.archive, "an institutional list does not");
    store.set_list_archive(plain.id, true).await.unwrap();
    assert!(store.list_by_id(plain.id).await.unwrap().unwrap().archive);
    store.set_list_archive(plain.id, false).await.unwrap();
    assert!(!store.list_by_address(&plain.address).await.unwrap().unwrap().archive);
    assert!(matches!(store.set_list_archive(9_999, true).await, Err(store::Error::NotFound(_))));

    // Claire got the post (blob 1) and the archive keeps it too.
    let inbox = inbox(store, &claire).await;
    let got = store.deliver(&message(1, 100), &[target(&inbox)]).await.unwrap()[0].clone();
    let blobs = [blob(1), blob(2), blob(3)];
    let post = |n: usize, msgid| store::NewArchived {
        list: group.id,
        blob: &blobs[n - 1],
        size: 100,
        from: "Claire Martin <claire.martin@ac-demo.fr>",
        subject: "Sortie au CDI",
        message_id: msgid,
    };
    let (first, new) = store.archive_post(&post(1, "<m1@ac-demo.fr>")).await.unwrap();
    assert!(new);
    assert_eq!(store.archive_post(&post(1, "<m1@ac-demo.fr>")).await.unwrap(), (first, false), "kept once");
    let (second, _) = store.archive_post(&post(2, "")).await.unwrap();
    let (third, _) = store.archive_post(&post(3, "")).await.unwrap();
    let (fourth, _) = store.archive_post(&post(3, "")).await.unwrap();
    assert!(first < second && second < third && third < fourth, "no Message-ID: never merged");
    store.expunge(inbox.id, &[got.uid]).await.unwrap();
    assert!(store.released_blobs(i64::MAX).await.unwrap().is_empty(), "the archive keeps blob 1");

    assert_eq!(store.archived_count(group.id).await.unwrap(), 4);
    assert_eq!(store.archived_count(plain.id).await.unwrap(), 0);
    let ids = |v: Vec<store::ArchivedPost>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(ids(store.archived_posts(group.id, None, 2).await.unwrap()), [fourth, third], "newest first");
    assert_eq!(ids(store.archived_posts(group.id, Some(third), 2).await.unwrap()), [second, first]);
    assert!(store.archived_posts(group.id, Some(first), 2).await.unwrap().is_empty());
    let one = store.archived_post(group.id, first).await.unwrap().expect("the first post");
    assert_eq!(
        (one.blob, one.size, one.subject.as_str(), one.message_id.as_str()),
        (blob(1), 100, "Sortie au CDI", "<m1@ac-demo.fr>")
    );
    assert_eq!(one.from, "Claire Martin <claire.martin@ac-demo.fr>");
    assert!(store.archived_post(plain.id, first).await.unwrap().is_none(), "another list's post");

    // Deleting the list releases every reference, blob 3's two included.
    assert!(store.delete_list(group.id).await.unwrap());
    let mut released = store.released_blobs(i64::MAX).await.unwrap();
    released.sort();
    assert_eq!(released, [blob(1), blob(2), blob(3)]);
    assert!(store.archived_posts(group.id, None, 10).await.unwrap().is_empty());
}
