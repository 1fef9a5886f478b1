//! The académie directory's queries (`store::annuaire`): scope, statuses,
//! roles, words, pages and lists.

use model::{AccountStatus, OrgUnitKind, Role, Uai};
use store::{DirectoryScope, DirectoryWord, NewList, NewOrgUnit};

use crate::fixtures::*;
use crate::harness::Ctx;

fn word(lower: &str, folded: &str) -> DirectoryWord {
    DirectoryWord { lower: lower.into(), folded: folded.into(), ..DirectoryWord::default() }
}

pub async fn the_directory_shows_active_staff_of_one_academie(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let unit = |parent, kind, name: &str, uai: Option<&str>| NewOrgUnit {
        parent,
        kind,
        name: name.into(),
        uai: uai.map(|u| Uai::parse(u).unwrap()),
    };
    let ac = store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Académie", None)).await.unwrap();
    let college =
        store.create_org_unit(&unit(Some(ac), OrgUnitKind::Etablissement, "Collège", Some("0541234A"))).await.unwrap();
    let other = store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Autre", None)).await.unwrap();
    let person = |local: &str, name: &str, role, status, unit| {
        let mut a = new_account(local);
        a.display_name = name.into();
        a.role = role;
        a.status = status;
        a.org_unit = unit;
        a
    };
    let hel = store
        .create_account(&person("helene.dupre", "Hélène Dupré", Role::Teacher, AccountStatus::Active, Some(college)))
        .await
        .unwrap();
    for (local, role, status, u) in [
        ("new.comer", Role::Administrative, AccountStatus::Provisional, Some(college)),
        ("lucas.petit", Role::Student, AccountStatus::Active, Some(college)),
        ("sam.suspendu", Role::Teacher, AccountStatus::Suspended, Some(college)),
        ("carl.clos", Role::Teacher, AccountStatus::Closed, Some(college)),
        ("marc.loin", Role::Teacher, AccountStatus::Active, Some(other)),
        ("nina.nulle", Role::Teacher, AccountStatus::Active, None),
    ] {
        store.create_account(&person(local, local, role, status, u)).await.unwrap();
    }
    assert_eq!(store.academie_of(hel.id).await.unwrap(), Some(ac));
    let scope = DirectoryScope::Academie(ac);
    let all = store.directory_search(&scope, &[], 100).await.unwrap();
    let addresses: Vec<&str> = all.iter().map(|p| p.address.as_str()).collect();
    assert_eq!(addresses, ["helene.dupre@ac-demo.fr", "new.comer@ac-demo.fr"]);
    let unit = all[0].unit.as_ref().unwrap();
    assert_eq!((unit.name.as_str(), unit.uai.as_deref()), ("Collège", Some("0541234A")));
    // Words: the name as typed (lower case), the folded address, a unit, a role.
    let found = |words: Vec<DirectoryWord>| {
        let scope = scope.clone();
        async move {
            store
                .directory_search(&scope, &words, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.address)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found(vec![word("hélène", "helene")]).await, ["helene.dupre@ac-demo.fr"]);
    assert_eq!(found(vec![word("xx", "helene")]).await, ["helene.dupre@ac-demo.fr"]);
    assert_eq!(found(vec![word("%", "%")]).await, Vec::<String>::new());
    assert_eq!(found(vec![word("_", "_")]).await, Vec::<String>::new());
    let by_unit = DirectoryWord { units: vec![college], ..word("zz", "zz") };
    assert_eq!(found(vec![by_unit]).await.len(), 2);
    let by_role = DirectoryWord { roles: vec!["administratif"], ..word("zz", "zz") };
    assert_eq!(found(vec![by_role, word("new", "new")]).await, ["new.comer@ac-demo.fr"]);
    // Pages by id, and ids asked directly: the same filter.
    let first = store.directory_page(&scope, 0, 1).await.unwrap();
    let second = store.directory_page(&scope, first[0].id, 10).await.unwrap();
    assert_eq!(first.len() + second.len(), 2);
    let lucas = store.account_by_address(&addr("lucas.petit@ac-demo.fr")).await.unwrap().unwrap();
    let got = store.directory_people_by_id(&scope, &[hel.id, lucas.id]).await.unwrap();
    assert_eq!(got.iter().map(|p| p.id).collect::<Vec<_>>(), [hel.id]);
    // The people of no unit see each other only.
    let alone = DirectoryScope::Unplaced("ac-demo.fr".into());
    let got = store.directory_search(&alone, &[], 100).await.unwrap();
    assert_eq!(got.iter().map(|p| p.address.as_str()).collect::<Vec<_>>(), ["nina.nulle@ac-demo.fr"]);
    // Lists: the académie's units' and those of no unit on its domains.
    for (local, unit) in [("profs", Some(college)), ("tous", None), ("loin", Some(other))] {
        let list = NewList {
            address: addr(&format!("{local}@ac-demo.fr")),
            name: local.into(),
            description: String::new(),
            kind: "static".into(),
            unit,
            role: None,
            post_policy: "anyone".into(),
            discussion: false,
            tag: None,
        };
        store.create_list(&list).await.unwrap();
    }
    let lists = store.directory_lists(&scope, 10).await.unwrap();
    assert_eq!(lists.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["profs", "tous"]);
    let lists = store.directory_lists(&alone, 10).await.unwrap();
    assert_eq!(lists.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["tous"]);
}

pub async fn the_account_search_filters_counts_and_pages_in_the_database(ctx: Ctx) {
    use store::AccountSearch;
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let unit =
        |parent, name: &str| NewOrgUnit { parent, kind: OrgUnitKind::Etablissement, name: name.into(), uai: None };
    let college = store.create_org_unit(&unit(None, "Collège")).await.unwrap();
    let lycee = store.create_org_unit(&unit(None, "Lycée")).await.unwrap();
    for i in 0..7 {
        let mut a = new_account(&format!("prof{i}"));
        a.display_name = format!("Prof {i}");
        a.org_unit = Some(college);
        store.create_account(&a).await.unwrap();
    }
    let mut hel = new_account("helene.dupre");
    hel.display_name = "Hélène Dupré".into();
    hel.org_unit = Some(lycee);
    hel.status = AccountStatus::Suspended;
    store.create_account(&hel).await.unwrap();
    let mut nobody = new_account("sans.unite");
    nobody.display_name = "Sans Unité".into();
    nobody.role = Role::Functional;
    store.create_account(&nobody).await.unwrap();

    let run = |q: AccountSearch| async move {
        let (rows, total) = store.search_accounts(&q).await.unwrap();
        (rows.into_iter().map(|a| a.address.local().to_owned()).collect::<Vec<_>>(), total)
    };
    let all = AccountSearch { unplaced: true, limit: 50, ..AccountSearch::default() };
    assert_eq!(run(all.clone()).await.1, 9);
    // Pages by address, with the total of every page.
    let (page, total) = run(AccountSearch { offset: 3, limit: 3, ..all.clone() }).await;
    assert_eq!((page, total), (vec!["prof2".to_owned(), "prof3".into(), "prof4".into()], 9));
    // Units: one of them, none at all, unplaced only.
    assert_eq!(run(AccountSearch { units: Some(vec![lycee]), unplaced: false, ..all.clone() }).await.1, 1);
    assert_eq!(run(AccountSearch { units: Some(vec![]), unplaced: false, ..all.clone() }).await.1, 0);
    assert_eq!(run(AccountSearch { units: Some(vec![]), ..all.clone() }).await.0, ["sans.unite"]);
    // Text: the name as typed in lower case, the folded form in the address; status.
    let text = |lower: &str, folded: &str| AccountSearch { lower: lower.into(), folded: folded.into(), ..all.clone() };
    assert_eq!(run(text("hélène", "helene")).await.0, ["helene.dupre"]);
    assert_eq!(run(text("dupré", "dupre")).await.0, ["helene.dupre"]);
    assert_eq!(run(AccountSearch { status: Some(AccountStatus::Suspended), ..all.clone() }).await.0, ["helene.dupre"]);
    assert_eq!(run(AccountSearch { status: Some(AccountStatus::Active), ..text("hélène", "helene") }).await.1, 0);
    // A role: the console's functional mailboxes.
    assert_eq!(run(AccountSearch { role: Some(Role::Functional), ..all.clone() }).await.0, ["sans.unite"]);
    assert_eq!(run(AccountSearch { role: Some(Role::Functional), unplaced: false, ..all.clone() }).await.1, 0);
    // LIKE's own characters are plain text.
    assert_eq!(run(text("%", "%")).await.1, 0);
    assert_eq!(run(text("prof_", "prof_")).await.1, 0);
}

/// The change feed behind CardDAV sync-collection: creations, suspensions,
/// unit renames and list removals are recorded for their domain; a moved
/// unit and pruning raise the floor below which tokens are refused.
pub async fn the_directory_feed_records_what_readers_would_see_change(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let ac = store
        .create_org_unit(&NewOrgUnit { parent: None, kind: OrgUnitKind::Academie, name: "Académie".into(), uai: None })
        .await
        .unwrap();
    let college = store
        .create_org_unit(&NewOrgUnit {
            parent: Some(ac),
            kind: OrgUnitKind::Etablissement,
            name: "Collège".into(),
            uai: Some(Uai::parse("0541234A").unwrap()),
        })
        .await
        .unwrap();
    let mut new = new_account("helene.dupre");
    new.org_unit = Some(college);
    let hel = store.create_account(&new).await.unwrap();
    let scope = DirectoryScope::Academie(ac);
    let domains = store.directory_domains(&scope).await.unwrap();
    assert_eq!(domains, ["ac-demo.fr"]);
    assert!(store.directory_domains(&DirectoryScope::Unplaced("ailleurs.fr".into())).await.unwrap() == ["ailleurs.fr"]);
    let start = store.directory_sync_state(&domains).await.unwrap();
    assert!(start.newest > 0 && start.floor == 0, "{start:?}");
    // Another domain's feed has not moved.
    let elsewhere = ["ailleurs.fr".to_owned()];
    assert_eq!(store.directory_sync_state(&elsewhere).await.unwrap().newest, 0);

    let hel_key = format!("compte-{}", hel.id);
    let mut b = new_account("bruno.petit");
    b.org_unit = Some(college);
    let bruno = store.create_account(&b).await.unwrap();
    let bruno_key = format!("compte-{}", bruno.id);
    store.set_account_status(hel.id, AccountStatus::Suspended).await.unwrap();
    let since = store.directory_changes_since(&domains, start.newest, 100).await.unwrap().expect("valid token");
    assert_eq!(since.items, [bruno_key.clone(), hel_key.clone()]);
    assert!(!since.more);
    assert_eq!(since.token, store.directory_sync_state(&domains).await.unwrap().newest);
    // Nothing since: an empty answer at the same token.
    let none = store.directory_changes_since(&domains, since.token, 100).await.unwrap().unwrap();
    assert!(none.items.is_empty() && none.token == since.token);
    // Setting the same status again changes nothing a reader sees.
    store.set_account_status(hel.id, AccountStatus::Suspended).await.unwrap();
    assert_eq!(store.directory_sync_state(&domains).await.unwrap().newest, since.token);
    // A limit cuts the answer, with the token of the last change given.
    let cut = store.directory_changes_since(&domains, start.newest, 1).await.unwrap().unwrap();
    assert_eq!((cut.items.as_slice(), cut.more), (std::slice::from_ref(&bruno_key), true));
    let rest = store.directory_changes_since(&domains, cut.token, 1).await.unwrap().unwrap();
    assert_eq!((rest.items.as_slice(), rest.more), (std::slice::from_ref(&hel_key), false));
    // A token from the future or below the floor is refused.
    assert!(store.directory_changes_since(&domains, since.token + 1000, 10).await.unwrap().is_none());

    // Lists: created and removed.
    let list = store
        .create_list(&NewList {
            address: addr("profs@ac-demo.fr"),
            name: "profs".into(),
            description: String::new(),
            kind: "static".into(),
            unit: Some(college),
            role: None,
            post_policy: "anyone".into(),
            discussion: false,
            tag: None,
        })
        .await
        .unwrap();
    assert!(store.delete_list(list.id).await.unwrap());
    let lists = store.directory_changes_since(&domains, since.token, 100).await.unwrap().unwrap();
    assert_eq!(lists.items, [format!("liste-{}", list.id)]);

    // Pruning everything recorded so far keeps the newest row and raises the floor.
    let before = store.directory_sync_state(&domains).await.unwrap();
    let gone = store.prune_directory_changes(i64::MAX).await.unwrap();
    assert!(gone >= 4, "{gone}");
    assert_eq!(store.directory_changes_kept().await.unwrap(), 1);
    let after = store.directory_sync_state(&domains).await.unwrap();
    assert_eq!(after.newest, before.newest, "the counter never goes back");
    assert!(after.floor > start.newest);
    assert!(store.directory_changes_since(&domains, start.newest, 10).await.unwrap().is_none(), "pruned");
    assert!(store.directory_changes_since(&domains, after.newest, 10).await.unwrap().unwrap().items.is_empty());
    // Nothing old enough: nothing pruned.
    assert_eq!(store.prune_directory_changes(0).await.unwrap(), 0);
    // The current token of a domain whose rows were all pruned is still valid.
    assert!(store.directory_changes_since(&elsewhere, 0, 10).await.unwrap().is_none());
    let there = store.directory_sync_state(&elsewhere).await.unwrap();
    assert_eq!(there.newest, there.floor);
    assert!(store.directory_changes_since(&elsewhere, there.newest, 10).await.unwrap().is_some());
}
