//! Grants of rights on another account's mail and the delegation journal
//! (migration 34).

use store::NewGrant;

use crate::fixtures::*;
use crate::harness::Ctx;

fn grant(owner: i64, mailbox: Option<i64>, grantee: i64, rights: &str) -> NewGrant<'_> {
    NewGrant { owner, mailbox, grantee, rights, send_as: false, on_behalf: false }
}

pub async fn grants_replace_each_other_and_go_with_their_folder(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    let projets = store.create_mailbox(claire.id, "Projets", None).await.unwrap();
    store.set_grant(&grant(claire.id, None, paul.id, "lr")).await.unwrap();
    store.set_grant(&NewGrant { send_as: true, ..grant(claire.id, None, paul.id, "lrs") }).await.unwrap();
    store.set_grant(&grant(claire.id, Some(projets.id), paul.id, "lrswi")).await.unwrap();
    let given = store.grants_given(claire.id).await.unwrap();
    let seen: Vec<_> = given.iter().map(|g| (g.mailbox_id, g.rights.as_str(), g.send_as)).collect();
    assert_eq!(seen, [(None, "lrs", true), (Some(projets.id), "lrswi", false)], "one grant per scope");
    assert_eq!(given[0].grantee_address, "paul.durand@ac-demo.fr");
    let held = store.grants_held(paul.id).await.unwrap();
    assert_eq!(held.len(), 2);
    assert_eq!(held[0].owner_address, "claire.martin@ac-demo.fr");
    assert!(store.grants_held(claire.id).await.unwrap().is_empty());
    assert_eq!(store.grants_between(claire.id, paul.id).await.unwrap(), given);
    // A grant of nothing is none; deleting a folder deletes its grants.
    store.set_grant(&grant(claire.id, None, paul.id, "")).await.unwrap();
    assert_eq!(store.grants_given(claire.id).await.unwrap().len(), 1);
    store.delete_mailbox(projets.id).await.unwrap();
    assert!(store.grants_given(claire.id).await.unwrap().is_empty());
    assert!(!store.delete_grant(claire.id, None, paul.id).await.unwrap());
}

pub async fn the_delegation_journal_is_newest_first(ctx: Ctx) {
    let store = &ctx.store;
    let secretariat = account(store, "secretariat.0541234a").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    store.journal_delegation(secretariat.id, paul.id, "lecture", "INBOX").await.unwrap();
    store.journal_delegation(secretariat.id, paul.id, "envoi", "à parent@example.org").await.unwrap();
    let lines = store.delegation_journal(secretariat.id, 10).await.unwrap();
    let seen: Vec<_> = lines.iter().map(|l| (l.actor_address.as_str(), l.action.as_str())).collect();
    assert_eq!(seen, [("paul.durand@ac-demo.fr", "envoi"), ("paul.durand@ac-demo.fr", "lecture")]);
    assert_eq!(store.delegation_journal(secretariat.id, 1).await.unwrap().len(), 1);
    assert!(store.delegation_journal(paul.id, 10).await.unwrap().is_empty());
}
