//! The administrators that a domain's `postmaster@` and `abuse@` reach.

use model::{AccountStatus, Domain, OrgUnitKind};
use store::{NewAccount, NewOrgUnit, Store};

use crate::fixtures::*;
use crate::harness::Ctx;

const ROLE: &str = "admin-academie";

async fn unit(store: &Store, name: &str, kind: OrgUnitKind, parent: Option<i64>) -> i64 {
    let unit = NewOrgUnit { parent, kind, name: name.into(), uai: None };
    store.create_org_unit(&unit).await.unwrap()
}

async fn person(store: &Store, address: &str, org_unit: Option<i64>) -> i64 {
    let account = NewAccount { address: addr(address), org_unit, ..new_account("x") };
    store.create_account(&account).await.unwrap().id
}

pub async fn domain_administrators_hold_the_role_on_its_academie(ctx: Ctx) {
    let store = &ctx.store;
    let other = Domain::parse("ac-autre.fr").unwrap();
    let empty = Domain::parse("ac-vide.fr").unwrap();
    for d in [&domain(), &other, &empty] {
        store.add_domain(d).await.unwrap();
    }
    let nancy = unit(store, "Académie de Nancy-Metz", OrgUnitKind::Academie, None).await;
    let dsden = unit(store, "DSDEN 54", OrgUnitKind::Dsden, Some(nancy)).await;
    let college = unit(store, "Collège A", OrgUnitKind::Etablissement, Some(dsden)).await;
    let lille = unit(store, "Académie de Lille", OrgUnitKind::Academie, None).await;
    // A teacher of the domain places it under Nancy-Metz.
    person(store, &format!("prof@{DOMAIN}"), Some(college)).await;
    // Nancy-Metz's administrators, wherever their own account lives.
    let chef = person(store, "chef@ac-autre.fr", None).await;
    let adjoint = person(store, &format!("adjoint@{DOMAIN}"), None).await;
    let ferme = person(store, &format!("ferme@{DOMAIN}"), None).await;
    let assistance = person(store, &format!("assistance@{DOMAIN}"), None).await;
    let dsden_admin = person(store, &format!("dsden@{DOMAIN}"), None).await;
    let lille_admin = person(store, "nord@ac-vide.fr", None).await;
    for (who, role, on) in [
        (chef, ROLE, nancy),
        (adjoint, ROLE, nancy),
        (ferme, ROLE, nancy),
        (assistance, "assistance", nancy),
        (dsden_admin, ROLE, dsden),
        (lille_admin, ROLE, lille),
    ] {
        store.grant_role(who, role, on).await.unwrap();
    }
    store.set_account_status(ferme, AccountStatus::Closed).await.unwrap();

    let mut want = vec![chef, adjoint];
    want.sort_unstable();
    assert_eq!(store.domain_administrators(&domain(), ROLE).await.unwrap(), want);
    // No one of ac-autre.fr has a unit, but its chef administers Nancy-Metz.
    assert_eq!(store.domain_administrators(&other, ROLE).await.unwrap(), want);
    // ac-vide.fr's only account administers Lille, and only Lille.
    assert_eq!(store.domain_administrators(&empty, ROLE).await.unwrap(), vec![lille_admin]);
    assert_eq!(store.domain_administrators(&domain(), "auditeur").await.unwrap(), Vec::<i64>::new());
    let first = store.first_domain().await.unwrap().unwrap();
    assert!([domain(), other, empty].contains(&first), "{first}");
}
