//! Users' requests for more space: one open per account, read by unit,
//! decided once (an approval sets the quota in the same transaction).

use store::{NewOrgUnit, QuotaRequestStatus};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn quota_requests_are_one_open_per_account_and_decided_once(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    let kind = model::OrgUnitKind::Etablissement;
    let college =
        store.create_org_unit(&NewOrgUnit { parent: None, kind, name: "Collège".into(), uai: None }).await.unwrap();
    let lycee =
        store.create_org_unit(&NewOrgUnit { parent: None, kind, name: "Lycée".into(), uai: None }).await.unwrap();
    let paul = store
        .create_account(&store::NewAccount {
            org_unit: Some(college),
            quota_bytes: Some(1 << 20),
            ..new_account("paul.durand")
        })
        .await
        .unwrap();
    let lea =
        store.create_account(&store::NewAccount { org_unit: Some(lycee), ..new_account("lea.roux") }).await.unwrap();
    let nowhere = store.create_account(&new_account("nulle.part")).await.unwrap();
    assert_eq!(store.latest_quota_request(paul.id).await.unwrap(), None);

    let first = store.open_quota_request(paul.id, "Pièces jointes des conseils de classe").await.unwrap();
    let again = store.open_quota_request(paul.id, "encore").await;
    assert!(matches!(again, Err(store::Error::Conflict(_))), "one open request per account: {again:?}");
    assert!(matches!(store.open_quota_request(987_654, "x").await, Err(store::Error::NotFound(_))));
    let lea_asks = store.open_quota_request(lea.id, "Archives").await.unwrap();
    let nowhere_asks = store.open_quota_request(nowhere.id, "?").await.unwrap();

    let r = store.quota_request(first).await.unwrap().expect("the request");
    assert_eq!((r.account_id, r.address.as_str(), r.org_unit), (paul.id, "paul.durand@ac-demo.fr", Some(college)));
    assert_eq!(
        (r.reason.as_str(), r.quota_bytes, r.used_bytes),
        ("Pièces jointes des conseils de classe", Some(1 << 20), 0)
    );
    assert_eq!((r.status, r.decided_by, r.granted_bytes), (QuotaRequestStatus::Open, None, None));

    // By units, the oldest first, counted by the database.
    let ids = |v: &[store::QuotaRequest]| v.iter().map(|r| r.id).collect::<Vec<_>>();
    let (all, total) = store.open_quota_requests(None, true, 10).await.unwrap();
    assert_eq!((ids(&all), total), (vec![first, lea_asks, nowhere_asks], 3));
    let (placed, total) = store.open_quota_requests(None, false, 1).await.unwrap();
    assert_eq!((ids(&placed), total), (vec![first], 2), "a page of one, two in all");
    let (college_only, total) = store.open_quota_requests(Some(&[college]), false, 10).await.unwrap();
    assert_eq!((ids(&college_only), total), (vec![first], 1));
    let (unplaced, _) = store.open_quota_requests(Some(&[]), true, 10).await.unwrap();
    assert_eq!(ids(&unplaced), [nowhere_asks]);

    // Approved once; the quota changes with it.
    assert!(store.approve_quota_request(first, "admin@ac-demo.fr", Some(2 << 20)).await.unwrap());
    assert!(!store.approve_quota_request(first, "autre@ac-demo.fr", Some(9 << 20)).await.unwrap());
    assert!(!store.refuse_quota_request(first, "autre@ac-demo.fr", "non").await.unwrap());
    assert_eq!(store.account(paul.id).await.unwrap().unwrap().quota_bytes, Some(2 << 20));
    let r = store.latest_quota_request(paul.id).await.unwrap().expect("the latest");
    assert_eq!(
        (r.id, r.status, r.decided_by.as_deref(), r.granted_bytes),
        (first, QuotaRequestStatus::Approved, Some("admin@ac-demo.fr"), Some(2 << 20))
    );
    assert!(r.decided_at.is_some());

    // A refusal keeps the quota and says why; then the account may ask again.
    assert!(store.refuse_quota_request(lea_asks, "admin@ac-demo.fr", "Videz d'abord la corbeille").await.unwrap());
    assert!(!store.approve_quota_request(lea_asks, "admin@ac-demo.fr", None).await.unwrap());
    let r = store.quota_request(lea_asks).await.unwrap().unwrap();
    assert_eq!((r.status, r.answer.as_str()), (QuotaRequestStatus::Refused, "Videz d'abord la corbeille"));
    assert_eq!(store.account(lea.id).await.unwrap().unwrap().quota_bytes, None);
    let (left, total) = store.open_quota_requests(None, true, 10).await.unwrap();
    assert_eq!((ids(&left), total), (vec![nowhere_asks], 1));
    let second = store.open_quota_request(paul.id, "Nouvelle demande").await.unwrap();
    assert_eq!(store.latest_quota_request(paul.id).await.unwrap().unwrap().id, second);
    assert!(matches!(store.approve_quota_request(second, "a", Some(-1)).await, Err(store::Error::Invalid(_))));
}
