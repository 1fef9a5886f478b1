//! Webmail identities (one default per account, owned by their account) and
//! the directory search behind recipient autocomplete.

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn identities_keep_one_default_per_account(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let paul = store.create_account(&new_account("paul.durand")).await.unwrap();
    assert!(store.identities(claire.id).await.unwrap().is_empty());
    let first = store
        .save_identity(claire.id, None, "Claire Martin", "claire.martin@ac-demo.fr", "-- \nC.", true)
        .await
        .unwrap();
    let second = store.save_identity(claire.id, None, "Mme Martin", "cm@ac-demo.fr", "", false).await.unwrap();
    let list = store.identities(claire.id).await.unwrap();
    assert_eq!(list.iter().map(|i| (i.id, i.is_default)).collect::<Vec<_>>(), [(first, true), (second, false)]);
    assert_eq!(list[0].signature, "-- \nC.");
    // Making the second the default takes the mark from the first.
    store.save_identity(claire.id, Some(second), "Mme Martin", "cm@ac-demo.fr", "Cordialement", true).await.unwrap();
    let list = store.identities(claire.id).await.unwrap();
    assert_eq!(list.iter().map(|i| (i.id, i.is_default)).collect::<Vec<_>>(), [(second, true), (first, false)]);
    assert_eq!(list[0].signature, "Cordialement");
    // Paul can neither change nor delete Claire's.
    assert!(matches!(
        store.save_identity(paul.id, Some(first), "x", "x@ac-demo.fr", "", false).await,
        Err(store::Error::NotFound(_))
    ));
    assert!(!store.delete_identity(paul.id, first).await.unwrap());
    assert!(store.delete_identity(claire.id, first).await.unwrap());
    assert_eq!(store.identities(claire.id).await.unwrap().len(), 1);
    assert!(store.identities(paul.id).await.unwrap().is_empty());
}

pub async fn directory_search_finds_names_and_addresses(ctx: Ctx) {
    let store = &ctx.store;
    account(store, "claire.martin").await;
    let mut paul = new_account("paul.durand");
    paul.display_name = "Paul Durand".into();
    store.create_account(&paul).await.unwrap();
    let mut gone = new_account("paul.ancien");
    gone.status = model::AccountStatus::Closed;
    store.create_account(&gone).await.unwrap();
    let mut odd = new_account("cent.pour_cent");
    odd.display_name = "Cent pour cent".into();
    store.create_account(&odd).await.unwrap();
    let found = store.search_directory("DURAND", &domain(), 10).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].name.as_str(), found[0].address.as_str()), ("Paul Durand", "paul.durand@ac-demo.fr"));
    let found = store.search_directory("paul", &domain(), 10).await.unwrap();
    assert_eq!(
        found.iter().map(|e| e.address.as_str()).collect::<Vec<_>>(),
        ["paul.durand@ac-demo.fr"],
        "closed left out"
    );
    // LIKE wildcards typed by the user match only themselves.
    assert!(store.search_directory("%", &domain(), 10).await.unwrap().is_empty());
    assert_eq!(store.search_directory("_", &domain(), 10).await.unwrap().len(), 1);
    assert_eq!(store.search_directory("ac-demo", &domain(), 1).await.unwrap().len(), 1);
}

/// Issue 25, item 10: the directory behind recipient autocomplete listed
/// students, suspended and closed accounts and other domains' people. Only
/// active (or provisional) staff of the viewer's own domain are listed.
pub async fn directory_lists_only_staff_of_the_same_domain(ctx: Ctx) {
    let store = &ctx.store;
    account(store, "claire.martin").await;
    let other = model::Domain::parse("ac-autre.fr").unwrap();
    store.add_domain(&other).await.unwrap();
    let make = |local: &str, tweak: &dyn Fn(&mut store::NewAccount)| {
        let mut a = new_account(local);
        tweak(&mut a);
        a
    };
    for a in [
        make("martin.eleve", &|a| a.role = model::Role::Student),
        make("martin.suspendu", &|a| a.status = model::AccountStatus::Suspended),
        make("martin.ferme", &|a| a.status = model::AccountStatus::Closed),
        make("martin.nouveau", &|a| a.status = model::AccountStatus::Provisional),
        make("martin.ailleurs", &|a| a.address = addr("martin.ailleurs@ac-autre.fr")),
    ] {
        store.create_account(&a).await.unwrap();
    }
    let found: Vec<String> =
        store.search_directory("martin", &domain(), 10).await.unwrap().into_iter().map(|e| e.address).collect();
    assert_eq!(found, ["claire.martin@ac-demo.fr", "martin.nouveau@ac-demo.fr"]);
    let found: Vec<String> =
        store.search_directory("martin", &other, 10).await.unwrap().into_iter().map(|e| e.address).collect();
    assert_eq!(found, ["martin.ailleurs@ac-autre.fr"]);
}

pub async fn sorted_pages_by_sender_subject_and_size(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let inbox = inbox(store, &claire).await;
    let senders = ["Zoé <z@x.fr>", "albert <a@x.fr>", "Marc <m@x.fr>"];
    for (i, from) in senders.iter().enumerate() {
        let n = i as u64 + 1;
        let msg = store::NewMessage {
            from_addr: (*from).into(),
            subject: format!("{} sujet", ["b", "C", "a"][i]),
            ..message(n, [300, 100, 200][i])
        };
        store.deliver(&msg, &[target(&inbox)]).await.unwrap();
    }
    use store::SortKey;
    let by = |key, desc, offset, limit| store.sorted_uids(inbox.id, key, desc, offset, limit);
    assert_eq!(by(SortKey::From, false, 0, 10).await.unwrap(), [2, 3, 1], "case-insensitive");
    assert_eq!(by(SortKey::From, true, 0, 10).await.unwrap(), [1, 3, 2]);
    assert_eq!(by(SortKey::Subject, false, 0, 10).await.unwrap(), [3, 1, 2]);
    assert_eq!(by(SortKey::Size, false, 1, 1).await.unwrap(), [3], "offset and limit");
}
