//! The console's storage figures: usage per unit, the largest mailboxes
//! and the deduplication ratio, for the accounts of some units.

use store::{NewOrgUnit, StorageScope, Target};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn storage_figures_count_the_units_asked_for(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let kind = model::OrgUnitKind::Etablissement;
    let mk = |name: &str| NewOrgUnit { parent: None, kind, name: name.into(), uai: None };
    let u1 = store.create_org_unit(&mk("Collège")).await.unwrap();
    let u2 = store.create_org_unit(&mk("Lycée")).await.unwrap();
    let a = store.create_account(&store::NewAccount { org_unit: Some(u1), ..new_account("anne") }).await.unwrap();
    let b = store.create_account(&store::NewAccount { org_unit: Some(u1), ..new_account("bruno") }).await.unwrap();
    let c = store.create_account(&store::NewAccount { org_unit: Some(u2), ..new_account("chloe") }).await.unwrap();
    let d = store.create_account(&new_account("denis")).await.unwrap();
    let target = |acc: &store::Account, mailbox| Target { account: acc.id, mailbox, flags: 0, keywords: vec![] };
    let (ia, ib, ic, id) =
        (inbox(store, &a).await.id, inbox(store, &b).await.id, inbox(store, &c).await.id, inbox(store, &d).await.id);
    // One circular to A, B and C (stored once), a message of A's own, one for D.
    store.deliver(&message(1, 1000), &[target(&a, ia), target(&b, ib), target(&c, ic)]).await.unwrap();
    store.deliver(&message(2, 500), &[target(&a, ia)]).await.unwrap();
    store.deliver(&message(3, 70), &[target(&d, id)]).await.unwrap();

    let only_u1 = StorageScope { units: Some(&[u1]), unplaced: false };
    let mut usage = store.usage_by_unit(only_u1).await.unwrap();
    usage.sort_by_key(|u| u.unit);
    assert_eq!(usage, [store::UnitUsage { unit: Some(u1), accounts: 2, used: 2500 }]);
    let largest = store.largest_accounts(only_u1, 10).await.unwrap();
    assert_eq!(largest.iter().map(|x| (x.id, x.used_bytes)).collect::<Vec<_>>(), [(a.id, 1500), (b.id, 1000)]);
    let dedup = store.dedup(only_u1).await.unwrap();
    assert_eq!(dedup, store::Dedup { messages: 3, logical: 2500, physical: 1500 });

    let everything = StorageScope { units: None, unplaced: true };
    let mut usage = store.usage_by_unit(everything).await.unwrap();
    usage.sort_by_key(|u| u.unit);
    assert_eq!(usage.len(), 3);
    assert_eq!(usage[0], store::UnitUsage { unit: None, accounts: 1, used: 70 });
    assert_eq!(store.dedup(everything).await.unwrap(), store::Dedup { messages: 5, logical: 3570, physical: 1570 });
    assert_eq!(store.largest_accounts(everything, 1).await.unwrap()[0].id, a.id);
    let nothing = StorageScope { units: Some(&[]), unplaced: false };
    assert!(store.usage_by_unit(nothing).await.unwrap().is_empty());
    assert_eq!(store.dedup(nothing).await.unwrap(), store::Dedup::default());
}
