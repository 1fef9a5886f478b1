//! Forwarding policies per unit: the nearest unit up the tree decides.

use model::OrgUnitKind;
use store::{NewAccount, NewOrgUnit, Store};

use crate::fixtures::*;
use crate::harness::Ctx;

async fn unit(store: &Store, name: &str, kind: OrgUnitKind, parent: Option<i64>) -> i64 {
    store.create_org_unit(&NewOrgUnit { parent, kind, name: name.into(), uai: None }).await.unwrap()
}

pub async fn the_nearest_units_forwarding_policy_applies(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let academie = unit(store, "Académie", OrgUnitKind::Academie, None).await;
    let dsden = unit(store, "DSDEN 57", OrgUnitKind::Dsden, Some(academie)).await;
    let college = unit(store, "Collège", OrgUnitKind::Etablissement, Some(dsden)).await;
    let teacher = NewAccount { address: addr(&format!("prof@{DOMAIN}")), org_unit: Some(college), ..new_account("x") };
    let teacher = store.create_account(&teacher).await.unwrap().id;
    let nowhere = store.create_account(&new_account("sans.unite")).await.unwrap().id;

    assert_eq!(store.forwarding_policy_of(teacher).await.unwrap(), None, "no policy: the installation's");
    store.set_forwarding_policy(academie, "internal", &[]).await.unwrap();
    assert_eq!(store.forwarding_policy_of(teacher).await.unwrap().unwrap().org_unit, academie);
    let listed = vec!["education.gouv.fr".to_string(), "region-grandest.fr".to_string()];
    store.set_forwarding_policy(dsden, "domains", &listed).await.unwrap();
    let got = store.forwarding_policy_of(teacher).await.unwrap().unwrap();
    assert_eq!((got.org_unit, got.policy.as_str(), got.domains), (dsden, "domains", listed.clone()), "nearest first");
    store.set_forwarding_policy(dsden, "anywhere", &[]).await.unwrap();
    assert_eq!(store.forwarding_policy_of(teacher).await.unwrap().unwrap().policy, "anywhere", "replaced");
    assert_eq!(store.forwarding_policy_of(nowhere).await.unwrap(), None);
    assert_eq!(store.forwarding_policies().await.unwrap().len(), 2);
    assert!(store.remove_forwarding_policy(dsden).await.unwrap());
    assert!(!store.remove_forwarding_policy(dsden).await.unwrap());
    assert_eq!(store.forwarding_policy_of(teacher).await.unwrap().unwrap().org_unit, academie);
}
