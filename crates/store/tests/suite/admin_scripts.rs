//! Administrators' Sieve scripts per unit: the nearest unit up the tree
//! has the one that runs, looked up for many accounts at once.

use model::OrgUnitKind;
use store::{NewAccount, NewOrgUnit, Store};

use crate::fixtures::*;
use crate::harness::Ctx;

async fn unit(store: &Store, name: &str, kind: OrgUnitKind, parent: Option<i64>) -> i64 {
    store.create_org_unit(&NewOrgUnit { parent, kind, name: name.into(), uai: None }).await.unwrap()
}

pub async fn the_nearest_units_admin_script_runs(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let academie = unit(store, "Académie", OrgUnitKind::Academie, None).await;
    let dsden = unit(store, "DSDEN 57", OrgUnitKind::Dsden, Some(academie)).await;
    let college = unit(store, "Collège", OrgUnitKind::Etablissement, Some(dsden)).await;
    let lycee = unit(store, "Lycée", OrgUnitKind::Etablissement, Some(academie)).await;
    let at = |name: &str, unit: i64| NewAccount {
        address: addr(&format!("{name}@{DOMAIN}")),
        org_unit: Some(unit),
        ..new_account(name)
    };
    let prof = store.create_account(&at("prof", college)).await.unwrap().id;
    let agent = store.create_account(&at("agent", lycee)).await.unwrap().id;
    let nowhere = store.create_account(&new_account("sans.unite")).await.unwrap().id;
    let all = [prof, agent, nowhere];

    assert!(store.admin_sieve_scripts_among(&all).await.unwrap().is_empty(), "no script anywhere");
    assert_eq!(store.set_admin_sieve_script(academie, "keep;").await.unwrap(), 1);
    let found = store.admin_sieve_scripts_among(&all).await.unwrap();
    assert_eq!(
        (found.get(&prof), found.get(&agent), found.get(&nowhere)),
        (Some(&(academie, 1)), Some(&(academie, 1)), None)
    );

    store.set_admin_sieve_script(dsden, "discard;").await.unwrap();
    assert_eq!(store.set_admin_sieve_script(dsden, "stop;").await.unwrap(), 2, "the revision grows");
    let found = store.admin_sieve_scripts_among(&all).await.unwrap();
    assert_eq!(found.get(&prof), Some(&(dsden, 2)), "the nearest unit's script wins");
    assert_eq!(found.get(&agent), Some(&(academie, 1)), "a sibling branch keeps the académie's");
    let text = store.admin_sieve_script(dsden).await.unwrap().unwrap();
    assert_eq!((text.source.as_str(), text.revision), ("stop;", 2));
    assert_eq!(store.admin_sieve_scripts().await.unwrap().len(), 2);

    assert!(store.remove_admin_sieve_script(dsden).await.unwrap());
    assert!(!store.remove_admin_sieve_script(dsden).await.unwrap());
    assert_eq!(store.admin_sieve_scripts_among(&[prof]).await.unwrap().get(&prof), Some(&(academie, 1)));
}

pub async fn archiving_follows_the_account_then_the_nearest_unit_then_the_default(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let academie = unit(store, "Académie", OrgUnitKind::Academie, None).await;
    let dsden = unit(store, "DSDEN 57", OrgUnitKind::Dsden, Some(academie)).await;
    let college = unit(store, "Collège", OrgUnitKind::Etablissement, Some(dsden)).await;
    let at = |name: &str, unit: i64| NewAccount {
        address: addr(&format!("{name}@{DOMAIN}")),
        org_unit: Some(unit),
        ..new_account(name)
    };
    let prof = store.create_account(&at("prof", college)).await.unwrap().id;
    let chef = store.create_account(&at("chef", academie)).await.unwrap().id;
    let nowhere = store.create_account(&new_account("sans.unite")).await.unwrap().id;

    assert!(store.archiving_accounts(0).await.unwrap().is_empty());
    store.set_archive_policy(academie, 365).await.unwrap();
    store.set_archive_policy(dsden, 180).await.unwrap();
    assert_eq!(store.archiving_accounts(0).await.unwrap(), vec![(prof, 180), (chef, 365)], "nearest unit first");
    assert_eq!(store.archiving_accounts(30).await.unwrap(), vec![(prof, 180), (chef, 365), (nowhere, 30)]);
    store.set_archive_days(prof, Some(0)).await.unwrap();
    store.set_archive_policy(academie, 0).await.unwrap();
    assert_eq!(store.archiving_accounts(30).await.unwrap(), vec![(nowhere, 30)], "own choice, then a unit's never");
    assert_eq!(store.archive_policies().await.unwrap(), vec![(academie, 0), (dsden, 180)]);
    assert!(store.remove_archive_policy(dsden).await.unwrap());
    assert!(!store.remove_archive_policy(dsden).await.unwrap());
    assert!(store.set_archive_policy(dsden, -1).await.is_err());
}
