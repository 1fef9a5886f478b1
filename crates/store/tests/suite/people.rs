//! HR-linked people (the directory sync's batch writes), role grants and
//! the audit chain.

use model::{AccountStatus, Role, SpecialUse};
use store::{AuditEntry, HrAccountUpdate, HrBatch, HrNewPerson, HrRecord};

use crate::fixtures::*;
use crate::harness::Ctx;

fn record(n: usize, status: &str) -> HrRecord {
    HrRecord {
        numen_hash: format!("hash{n}"),
        civilite: "Mme".into(),
        nom: format!("Nom{n}"),
        prenom: "Claire".into(),
        hr_role: "enseignant".into(),
        hr_status: status.into(),
        uai: Some("0541234A".into()),
        secondary_address: None,
        effective_date: None,
        departed_at: None,
        prior_status: None,
    }
}

fn person(n: usize) -> HrNewPerson {
    HrNewPerson {
        record: record(n, "actif"),
        address: addr(&format!("claire.nom{n}@{DOMAIN}")),
        login: format!("cnom{n}"),
        display_name: format!("Claire Nom{n}"),
        role: Role::Teacher,
        status: AccountStatus::Provisional,
        org_unit: None,
        quota_bytes: Some(1 << 20),
        password_hash: Some(format!("$argon2id$fake{n}")),
    }
}

fn seal(e: &AuditEntry) -> String {
    format!("{}|{}|{}", e.prev_hash.len(), e.action, e.target)
}

pub async fn hr_batch_creates_updates_and_renames(ctx: Ctx) {
    let store = &ctx.store;
    store.add_domain(&domain()).await.unwrap();
    // More than one chunk of multi-row statements.
    let batch = HrBatch { new: (0..1_203).map(person).collect(), ..HrBatch::default() };
    let audit = AuditEntry { actor: "test".into(), action: "directory.sync".into(), ..AuditEntry::default() };
    let ids = store.apply_hr_batch(&batch, Some((audit, seal))).await.unwrap();
    assert_eq!(ids.len(), 1_203);
    assert_eq!(store.count_accounts().await.unwrap(), 1_203);
    let first = store.account(ids[0]).await.unwrap().unwrap();
    assert_eq!(first.address.to_string(), "claire.nom0@ac-demo.fr");
    assert_eq!(first.login.as_deref(), Some("cnom0"));
    assert_eq!(first.status, AccountStatus::Provisional);
    assert_eq!(store.account(ids[1_202]).await.unwrap().unwrap().display_name, "Claire Nom1202");
    let boxes = store.list_mailboxes(ids[700]).await.unwrap();
    assert_eq!(boxes.len(), 6);
    assert!(store.mailbox_by_special_use(ids[700], SpecialUse::Sent).await.unwrap().is_some());
    let snapshot = store.hr_snapshot().await.unwrap();
    assert_eq!(snapshot.len(), 1_203);
    let p = snapshot.iter().find(|p| p.account_id == ids[5]).unwrap();
    assert_eq!(p.record, record(5, "actif"));
    let (addresses, logins) = store.taken_names().await.unwrap();
    assert_eq!(addresses.get("claire.nom5@ac-demo.fr"), Some(&ids[5]));
    assert!(logins.contains(&"cnom5".to_owned()));

    // Suspend one, rename another (old address kept as alias), update a record.
    let before = store.account(ids[1]).await.unwrap().unwrap();
    let update = |id, address: &str, status, old: Option<&str>| HrAccountUpdate {
        account_id: id,
        address: address.into(),
        login: None,
        display_name: "Claire Autre".into(),
        role: Role::Direction,
        status,
        org_unit: None,
        old_address: old.map(str::to_owned),
        old_address_until: None,
    };
    let batch = HrBatch {
        new: Vec::new(),
        accounts: vec![
            update(ids[1], "claire.nom1@ac-demo.fr", AccountStatus::Suspended, None),
            update(ids[2], "claire.autre@ac-demo.fr", AccountStatus::Provisional, Some("claire.nom2@ac-demo.fr")),
        ],
        people: vec![record(1, "suspendu")],
    };
    let seq = store.status_sequence().await.unwrap();
    store.apply_hr_batch(&batch, None).await.unwrap();
    let suspended = store.account(ids[1]).await.unwrap().unwrap();
    assert_eq!(suspended.status, AccountStatus::Suspended);
    assert_eq!(suspended.role, Role::Direction);
    assert!(suspended.status_changed_at >= before.status_changed_at);
    let revoked = store.revoked_after(seq).await.unwrap();
    assert_eq!(revoked.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(), [(ids[1], AccountStatus::Suspended)]);
    let renamed = store.account(ids[2]).await.unwrap().unwrap();
    assert_eq!(renamed.address.to_string(), "claire.autre@ac-demo.fr");
    assert_eq!(store.account_by_address(&addr("claire.nom2@ac-demo.fr")).await.unwrap().unwrap().id, ids[2]);
    let p = store.hr_snapshot().await.unwrap().into_iter().find(|p| p.account_id == ids[1]).unwrap();
    assert_eq!(p.record.hr_status, "suspendu");

    // Renamed back: the alias becomes the address again.
    let batch = HrBatch {
        accounts: vec![update(
            ids[2],
            "claire.nom2@ac-demo.fr",
            AccountStatus::Provisional,
            Some("claire.autre@ac-demo.fr"),
        )],
        ..HrBatch::default()
    };
    store.apply_hr_batch(&batch, None).await.unwrap();
    let aliases = store.list_aliases(ids[2]).await.unwrap();
    assert_eq!(aliases.iter().map(ToString::to_string).collect::<Vec<_>>(), ["claire.autre@ac-demo.fr"]);

    // A batch that fails half-way (duplicate NUMEN hash) leaves nothing behind.
    let mut clash = person(5000);
    clash.record.numen_hash = "hash7".into();
    let batch = HrBatch { new: vec![person(4000), clash], ..HrBatch::default() };
    assert!(store.apply_hr_batch(&batch, None).await.is_err());
    assert_eq!(store.count_accounts().await.unwrap(), 1_203);
}

pub async fn grants_and_audit_chain(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let root = store
        .create_org_unit(&store::NewOrgUnit {
            parent: None,
            kind: model::OrgUnitKind::Academie,
            name: "Académie".into(),
            uai: None,
        })
        .await
        .unwrap();
    store.grant_role(claire.id, "admin-dsden", root).await.unwrap();
    store.grant_role(claire.id, "admin-dsden", root).await.unwrap();
    store.grant_role(claire.id, "auditeur", root).await.unwrap();
    let roles: Vec<String> = store.role_grants(claire.id).await.unwrap().into_iter().map(|g| g.role).collect();
    assert_eq!(roles, ["admin-dsden", "auditeur"]);
    assert!(store.revoke_role(claire.id, "auditeur", root).await.unwrap());
    assert!(!store.revoke_role(claire.id, "auditeur", root).await.unwrap());

    for target in ["a", "b", "c"] {
        let entry = AuditEntry {
            actor: "x".into(),
            action: "account.suspend".into(),
            target: target.into(),
            ..AuditEntry::default()
        };
        store.append_audit(entry, seal).await.unwrap();
    }
    let log = store.audit_log().await.unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].prev_hash, "");
    assert_eq!(log[1].prev_hash, log[0].hash);
    assert_eq!(log[2].prev_hash, log[1].hash);
    assert!(log[0].at > 1_700_000_000);
}
