//! Quarantined messages as the administrators' console walks them, and the
//! units of their recipients.

use store::{NewOrgUnit, NewQuarantined};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn the_quarantine_is_walked_newest_first_and_recipients_units_are_read(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let kind = model::OrgUnitKind::Etablissement;
    let unit =
        store.create_org_unit(&NewOrgUnit { parent: None, kind, name: "Collège".into(), uai: None }).await.unwrap();
    let placed =
        store.create_account(&store::NewAccount { org_unit: Some(unit), ..new_account("placee") }).await.unwrap();
    let nowhere = store.create_account(&new_account("nulle.part")).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..5u64 {
        let rcpts = [(placed.id, placed.address.to_string())];
        let q = NewQuarantined {
            blob: &blob(100 + n),
            size: 10,
            reason: "spam",
            detail: "",
            mail_from: "x@y.example",
            recipients: &rcpts,
            subject: "",
            expires_at: i64::MAX / 2,
        };
        ids.push(store.quarantine(q).await.unwrap());
    }
    let first = store.quarantined_before(None, 2).await.unwrap();
    assert_eq!(first.iter().map(|q| q.id).collect::<Vec<_>>(), [ids[4], ids[3]]);
    let next = store.quarantined_before(Some(ids[3]), 10).await.unwrap();
    assert_eq!(next.iter().map(|q| q.id).collect::<Vec<_>>(), [ids[2], ids[1], ids[0]]);
    assert!(store.quarantined_before(Some(ids[0]), 10).await.unwrap().is_empty());
    assert_eq!(next[0].recipients, [(placed.id, placed.address.to_string())]);

    let mut units = store.account_units(&[nowhere.id, placed.id, 987_654]).await.unwrap();
    units.sort();
    let mut expected = vec![(placed.id, Some(unit)), (nowhere.id, None)];
    expected.sort();
    assert_eq!(units, expected, "an account that does not exist is left out");
    assert!(store.account_units(&[]).await.unwrap().is_empty());
}
