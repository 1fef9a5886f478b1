//! Schema, domains, aliases, organisational units, accounts and mailboxes.

use model::{AccountStatus, ErrorKind, OrgUnitKind, SpecialUse, Transience, Uai};
use store::{ChangeKind, Error, NewOrgUnit, Store};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn migrations_are_idempotent(ctx: Ctx) {
    let store = &ctx.store;
    // The harness migrated already: running again applies nothing.
    assert_eq!(store.migrate().await.unwrap(), Vec::<i64>::new());
    assert_eq!(store.migrate().await.unwrap(), Vec::<i64>::new());
    let applied = store.applied_migrations().await.unwrap();
    let versions: Vec<(i64, &str)> = applied.iter().map(|m| (m.version, m.name.as_str())).collect();
    assert_eq!(versions, Store::known_migrations());
    assert_eq!(versions[0], (1, "init"));
    assert!(applied[0].applied_at > 1_700_000_000);
}

pub async fn domains_and_aliases(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    store.add_domain(&domain()).await.unwrap();
    store.add_domain(&model::Domain::parse("ac-autre.fr").unwrap()).await.unwrap();
    let domains: Vec<String> = store.list_domains().await.unwrap().iter().map(ToString::to_string).collect();
    assert_eq!(domains, ["ac-autre.fr", "ac-demo.fr"]);
    assert!(store.is_local_domain(&domain()).await.unwrap());
    assert!(!store.is_local_domain(&model::Domain::parse("example.org").unwrap()).await.unwrap());

    let claire = account(store, "claire.martin").await;
    let paul = account(store, "paul.durand").await;
    let alias = addr("c.martin@ac-demo.fr");
    store.add_alias(&alias, claire.id).await.unwrap();
    store.add_alias(&alias, claire.id).await.unwrap();
    store.add_alias(&addr("claire@ac-autre.fr"), claire.id).await.unwrap();
    let aliases: Vec<String> = store.list_aliases(claire.id).await.unwrap().iter().map(ToString::to_string).collect();
    assert_eq!(aliases, ["c.martin@ac-demo.fr", "claire@ac-autre.fr"]);

    // Aliases resolve to their account; the primary address too.
    assert_eq!(store.account_by_address(&alias).await.unwrap().unwrap().id, claire.id);
    assert_eq!(store.account_by_address(&claire.address).await.unwrap().unwrap().id, claire.id);
    assert!(store.account_by_address(&addr("nobody@ac-demo.fr")).await.unwrap().is_none());

    // One address, one owner.
    assert!(matches!(store.add_alias(&alias, paul.id).await, Err(Error::Conflict(_))));
    assert!(matches!(store.add_alias(&paul.address, claire.id).await, Err(Error::Conflict(_))));
    assert!(matches!(store.create_account(&new_account("c.martin")).await, Err(Error::Conflict(_))));
    assert!(matches!(store.add_alias(&addr("x@example.org"), claire.id).await, Err(Error::Invalid(_))));
    assert!(matches!(store.add_alias(&addr("y@ac-demo.fr"), 999_999).await, Err(Error::NotFound("account"))));
    assert!(store.list_aliases(paul.id).await.unwrap().is_empty());
}

pub async fn org_tree_with_uai(ctx: Ctx) {
    let store = &ctx.store;
    let unit = |parent, kind, name: &str, uai: Option<&str>| NewOrgUnit {
        parent,
        kind,
        name: name.into(),
        uai: uai.map(|u| Uai::parse(u).unwrap()),
    };
    let academie = store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Académie de Démo", None)).await.unwrap();
    let dsden = store.create_org_unit(&unit(Some(academie), OrgUnitKind::Dsden, "DSDEN 54", None)).await.unwrap();
    let college = store
        .create_org_unit(&unit(Some(dsden), OrgUnitKind::Etablissement, "Collège Jules Ferry", Some("0541234a")))
        .await
        .unwrap();

    let units = store.list_org_units().await.unwrap();
    assert_eq!(units.iter().map(|u| u.id).collect::<Vec<_>>(), [academie, dsden, college]);
    assert_eq!(units[1].parent, Some(academie));
    assert_eq!(units[2].kind, OrgUnitKind::Etablissement);

    let found = store.org_unit_by_uai(&Uai::parse("0541234A").unwrap()).await.unwrap().unwrap();
    assert_eq!(found.id, college);
    assert_eq!(found.parent, Some(dsden));
    assert_eq!(found.uai.unwrap().as_str(), "0541234A");
    assert!(store.org_unit_by_uai(&Uai::parse("0549999Z").unwrap()).await.unwrap().is_none());

    let twin = unit(Some(dsden), OrgUnitKind::Etablissement, "Lycée", Some("0541234A"));
    assert!(matches!(store.create_org_unit(&twin).await, Err(Error::Conflict(_))));
    let orphan = unit(Some(424_242), OrgUnitKind::Service, "Service", None);
    assert!(matches!(store.create_org_unit(&orphan).await, Err(Error::Invalid(_))));

    // Accounts hang off units.
    store.add_domain(&domain()).await.unwrap();
    let mut staff = new_account("secretariat.0541234a");
    staff.org_unit = Some(college);
    assert_eq!(store.create_account(&staff).await.unwrap().org_unit, Some(college));
    let mut lost = new_account("perdu");
    lost.org_unit = Some(424_242);
    assert!(matches!(store.create_account(&lost).await, Err(Error::Invalid(_))));
}

pub async fn account_creation_makes_special_mailboxes(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let mut new = new_account("claire.martin");
    new.login = Some("cmartin".into());
    new.quota_bytes = Some(1 << 30);
    new.password_hash = Some("$argon2id$v=19$placeholder".into());
    new.status = AccountStatus::Provisional;
    let claire = store.create_account(&new).await.unwrap();
    assert_eq!(claire.address.to_string(), "claire.martin@ac-demo.fr");
    assert_eq!(claire.used_bytes, 0);
    assert_eq!(claire.quota_bytes, Some(1 << 30));
    assert_eq!(claire.status, AccountStatus::Provisional);
    assert_eq!(claire.created_at, claire.status_changed_at);

    let mailboxes = store.list_mailboxes(claire.id).await.unwrap();
    assert_eq!(mailboxes.len(), 6);
    assert_eq!(store.subscriptions(claire.id).await.unwrap().len(), 6, "the default folders are subscribed");
    for special in SpecialUse::ALL {
        let m = mailboxes.iter().find(|m| m.special_use == Some(*special)).expect("special-use mailbox");
        assert_eq!(m.name, special.default_name());
        assert_eq!((m.uid_next, m.highest_modseq, m.parent_id), (1, 1, None));
        assert!(m.uid_validity > 0 && m.uid_validity <= i64::from(u32::MAX));
        assert!(!m.placeholder);
        let by_use = store.mailbox_by_special_use(claire.id, *special).await.unwrap().unwrap();
        assert_eq!(&by_use, m);
        assert_eq!(store.mailbox(m.id).await.unwrap().as_ref(), Some(m));
    }
    assert_eq!(inbox(store, &claire).await.name, "INBOX");
    // Creating the mailboxes was logged.
    let log = store.account_changes_since(claire.id, 0).await.unwrap();
    assert_eq!(log.len(), 6);
    assert!(log.iter().all(|c| c.kind == ChangeKind::Mailbox && c.uid == 0));

    assert_eq!(store.account(claire.id).await.unwrap().unwrap(), claire);
    assert_eq!(store.account_by_login("cmartin").await.unwrap().unwrap().id, claire.id);
    assert!(store.account_by_login("nobody").await.unwrap().is_none());
    let paul = account(store, "paul.durand").await;
    let adele = account(store, "adele.blanc").await;
    let listed: Vec<i64> = store.list_accounts().await.unwrap().iter().map(|a| a.id).collect();
    assert_eq!(listed, [adele.id, claire.id, paul.id]);
    assert_eq!(store.count_accounts().await.unwrap(), 3);

    store.set_account_status(claire.id, AccountStatus::Active).await.unwrap();
    store.set_quota(claire.id, None).await.unwrap();
    store.set_password_hash(claire.id, "$argon2id$v=19$other").await.unwrap();
    let again = store.account(claire.id).await.unwrap().unwrap();
    assert_eq!(again.status, AccountStatus::Active);
    assert_eq!(again.quota_bytes, None);
    assert_eq!(again.password_hash.as_deref(), Some("$argon2id$v=19$other"));
    assert!(again.status_changed_at >= claire.status_changed_at);

    assert!(matches!(store.set_account_status(999_999, AccountStatus::Closed).await, Err(Error::NotFound(_))));
    assert!(matches!(store.set_quota(claire.id, Some(-1)).await, Err(Error::Invalid(_))));
    assert!(store.account(999_999).await.unwrap().is_none());
}

pub async fn duplicate_address_is_a_conflict(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let mut first = new_account("claire.martin");
    first.login = Some("cmartin".into());
    store.create_account(&first).await.unwrap();

    let err = store.create_account(&first).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(err.transience(), Transience::Permanent);
    let mut same_login = new_account("claire.martin2");
    same_login.login = Some("cmartin".into());
    assert!(matches!(store.create_account(&same_login).await, Err(Error::Conflict(_))));
    let mut elsewhere = new_account("x");
    elsewhere.address = addr("x@example.org");
    assert!(matches!(store.create_account(&elsewhere).await, Err(Error::Invalid(_))));
    // Failed creations leave nothing behind.
    assert_eq!(store.count_accounts().await.unwrap(), 1);
}

pub async fn mailbox_hierarchy(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    // A missing parent is created with its child (RFC 9051 section 6.3.4),
    // as a placeholder.
    let year = store.create_mailbox(claire.id, "Projets/2026", None).await.unwrap();
    let projets = store.mailbox_by_name(claire.id, "Projets").await.unwrap().expect("parent created");
    assert_eq!((year.parent_id, projets.parent_id, projets.special_use), (Some(projets.id), None, None));
    assert!(projets.placeholder && !year.placeholder);
    assert_eq!((year.uid_next, year.highest_modseq), (1, 1));
    let deeper = store.create_mailbox(claire.id, "Projets/2026/Sorties", None).await.unwrap();
    assert_eq!(deeper.parent_id, Some(year.id));

    // INBOX is case-insensitive and may have children.
    let sub = store.create_mailbox(claire.id, "inbox/Parents", None).await.unwrap();
    assert_eq!(sub.name, "INBOX/Parents");
    assert_eq!(sub.parent_id, Some(inbox(store, &claire).await.id));
    assert_eq!(store.mailbox_by_name(claire.id, "Inbox").await.unwrap().unwrap().name, "INBOX");
    assert_eq!(store.mailbox_by_name(claire.id, "Projets/2026").await.unwrap().unwrap(), year);
    assert!(store.mailbox_by_name(claire.id, "Absent").await.unwrap().is_none());

    assert!(!store.create_mailbox(claire.id, "Projets", None).await.unwrap().placeholder);
    assert!(matches!(store.create_mailbox(claire.id, "Projets", None).await, Err(Error::Conflict(_))));
    assert!(matches!(store.create_mailbox(claire.id, "INBOX", None).await, Err(Error::Conflict(_))));
    let second_trash = store.create_mailbox(claire.id, "Poubelle", Some(SpecialUse::Trash)).await;
    assert!(matches!(second_trash, Err(Error::Conflict(_))));
    for bad in ["", "/Projets", "Projets/", "a//b"] {
        assert!(matches!(store.create_mailbox(claire.id, bad, None).await, Err(Error::Invalid(_))), "{bad:?}");
    }
    assert!(matches!(store.create_mailbox(999_999, "X", None).await, Err(Error::NotFound("account"))));

    // Names are per account.
    let paul = account(store, "paul.durand").await;
    store.create_mailbox(paul.id, "Projets", None).await.unwrap();
    let names: Vec<String> = store.list_mailboxes(claire.id).await.unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(names.len(), 6 + 4);
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "sorted by name: {names:?}");
}
