//! Which académie an account belongs to (`store::tenants`): two académies
//! in one installation, accounts placed in each, and accounts outside every
//! unit in a domain of one of them or in a domain of their own.

use model::{Address, Domain, OrgUnitKind, Role};
use store::{DirectoryScope, NewOrgUnit};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn accounts_share_a_tenant_only_within_one_academie(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    store.add_domain(&Domain::parse("ac-autre.fr").unwrap()).await.unwrap();
    store.add_domain(&Domain::parse("seul.fr").unwrap()).await.unwrap();
    let unit = |parent, kind, name: &str| NewOrgUnit { parent, kind, name: name.into(), uai: None };
    let a = store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Académie A")).await.unwrap();
    let school_a = store.create_org_unit(&unit(Some(a), OrgUnitKind::Etablissement, "Collège")).await.unwrap();
    let b = store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Académie B")).await.unwrap();
    let school_b = store.create_org_unit(&unit(Some(b), OrgUnitKind::Etablissement, "Collège")).await.unwrap();
    let loose = store.create_org_unit(&unit(None, OrgUnitKind::Etablissement, "Hors académie")).await.unwrap();
    let account = |address: &str, unit| {
        let mut n = new_account("x");
        n.address = Address::parse(address).unwrap();
        n.display_name = address.into();
        n.role = Role::Teacher;
        n.org_unit = unit;
        n
    };
    let claire = store.create_account(&account("claire@ac-demo.fr", Some(school_a))).await.unwrap();
    let paul = store.create_account(&account("paul@ac-demo.fr", Some(a))).await.unwrap();
    let marc = store.create_account(&account("marc@ac-autre.fr", Some(school_b))).await.unwrap();
    // A functional mailbox of A's domain created without a unit.
    let secretariat = store.create_account(&account("secretariat@ac-demo.fr", None)).await.unwrap();
    let solo = store.create_account(&account("solo@seul.fr", None)).await.unwrap();
    let solo2 = store.create_account(&account("solo2@seul.fr", None)).await.unwrap();

    assert_eq!(store.scope_of(&claire).await.unwrap(), DirectoryScope::Academie(a));
    assert_eq!(store.scope_of(&solo).await.unwrap(), DirectoryScope::Unplaced("seul.fr".into()));
    let same = |x, y| async move { store.same_tenant(x, y).await.unwrap() };
    assert!(same(&claire, &paul).await, "one académie, two depths");
    assert!(!same(&claire, &marc).await && !same(&marc, &claire).await, "two académies");
    assert!(same(&claire, &secretariat).await && same(&secretariat, &paul).await, "unplaced, in A's domain");
    assert!(!same(&marc, &secretariat).await, "A's domain is not B's");
    assert!(same(&solo, &solo2).await, "unplaced, one domain");
    assert!(!same(&solo, &secretariat).await && !same(&solo, &claire).await);

    assert_eq!(store.academie_above(school_b).await.unwrap(), Some(b));
    assert_eq!(store.academie_above(loose).await.unwrap(), None);
    assert!(store.unit_in_tenant_of(&claire, school_a).await.unwrap());
    assert!(store.unit_in_tenant_of(&secretariat, school_a).await.unwrap());
    assert!(!store.unit_in_tenant_of(&claire, school_b).await.unwrap());
    assert!(!store.unit_in_tenant_of(&claire, loose).await.unwrap());
    assert!(store.unit_in_tenant_of(&solo, loose).await.unwrap(), "no académie on either side");
}
