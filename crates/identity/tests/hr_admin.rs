//! The HR sync through the administration service (`identity::admin::hr`),
//! the one door of `ardoise directory sync` and the console's upload: who
//! may run it, the académie an académie administrator's file is limited to
//! (rows elsewhere refused, the rest applied), the domain of new addresses,
//! and the confirmation that applies nothing when the plan changed since
//! the dry run.

use std::sync::Arc;

use blob::BlobStore;
use identity::admin::{AdminError, Administrator, HrError, HrSync};
use identity::lifecycle::{ChangeKind, NumenKey, SyncError, SyncReport};
use identity::{Identity, Settings};
use mailstore::Mailstore;
use model::{AccountStatus, Address, Domain, OrgUnitKind, Role, Uai};
use store::{NewOrgUnit, Store};

const HEADER: &str = "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n";
/// Line 2 in académie A's collège, line 3 without a UAI, line 4 in académie B's lycée.
const FILE: &str = "31E0000001ABC;Mme;Roux;Anne;enseignant;actif;0541234A;;\n\
                    31E0000002ABC;M.;Garnier;Paul;administratif;actif;;;\n\
                    31E0000003ABC;Mme;Henry;Lise;enseignant;actif;0880001X;;\n";

struct Fx {
    _dir: tempfile::TempDir,
    store: Store,
    id: Arc<Identity>,
    key: NumenKey,
    academie_a: i64,
    academie_b: i64,
    dsden_a: i64,
}

async fn fixture() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    for d in ["ac-a.fr", "ac-b.fr"] {
        store.add_domain(&Domain::parse(d).unwrap()).await.unwrap();
    }
    let unit = |parent, kind, name: &str, uai: Option<&str>| NewOrgUnit {
        parent,
        kind,
        name: name.into(),
        uai: uai.map(|u| Uai::parse(u).unwrap()),
    };
    let academie_a = store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Académie A", None)).await.unwrap();
    let dsden_a = store.create_org_unit(&unit(Some(academie_a), OrgUnitKind::Dsden, "DSDEN A", None)).await.unwrap();
    store.create_org_unit(&unit(Some(dsden_a), OrgUnitKind::Etablissement, "Collège", Some("0541234A"))).await.unwrap();
    let academie_b = store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Académie B", None)).await.unwrap();
    store
        .create_org_unit(&unit(Some(academie_b), OrgUnitKind::Etablissement, "Lycée", Some("0880001X")))
        .await
        .unwrap();
    let blobs = BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = Mailstore::new(store.clone(), blobs);
    let id = Identity::new(store.clone(), ms, Settings::default());
    let key = NumenKey::from_bytes([3; 32]);
    Fx { _dir: dir, store, id, key, academie_a, academie_b, dsden_a }
}

impl Fx {
    /// An active account at `address` in `unit` holding `role` there.
    async fn admin(&self, address: &str, role: &str, unit: i64) -> Administrator {
        let acc = self
            .store
            .create_account(&store::NewAccount {
                address: Address::parse(address).unwrap(),
                login: None,
                display_name: address.into(),
                role: Role::Admin,
                status: AccountStatus::Active,
                quota_bytes: None,
                org_unit: Some(unit),
                password_hash: None,
            })
            .await
            .unwrap();
        self.store.grant_role(acc.id, role, unit).await.unwrap();
        self.id.administrator(&acc).await.unwrap().unwrap()
    }

    async fn run(&self, who: &Administrator, run: &HrSync<'_>) -> Result<SyncReport, HrError> {
        self.id.admin_hr_sync(who, &self.key, run, &|_, _, _| {}).await
    }

    async fn exists(&self, address: &str) -> bool {
        self.store.account_by_address(&Address::parse(address).unwrap()).await.unwrap().is_some()
    }
}

fn file() -> String {
    format!("{HEADER}{FILE}")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_academie_administrator_syncs_their_academie_only_after_a_matching_dry_run() {
    let fx = fixture().await;
    let who = fx.admin("rectorat@ac-a.fr", "admin-academie", fx.academie_a).await;
    assert_eq!(fx.id.admin_hr_scope(&who).await.unwrap(), Some(fx.academie_a));
    // The domains of académie A only (its accounts use ac-a.fr), so it is the default.
    assert_eq!(fx.id.admin_hr_domains(&who).await.unwrap(), vec![Domain::parse("ac-a.fr").unwrap()]);
    let text = file();
    let dry = fx.run(&who, &HrSync { dry_run: true, ..HrSync::new(text.as_bytes()) }).await.unwrap();
    let created: Vec<_> = dry.changes.iter().map(|c| (c.kind, c.address.as_str())).collect();
    assert_eq!(
        created,
        vec![(ChangeKind::Created, "anne.roux@ac-a.fr"), (ChangeKind::Created, "paul.garnier@ac-a.fr")],
        "the row in académie B is not planned"
    );
    assert_eq!(dry.refused.len(), 1);
    assert_eq!(dry.refused[0].line, 4);
    assert!(dry.refused[0].message.contains("hors de votre académie"), "{}", dry.refused[0]);
    assert!(!dry.applied && !fx.exists("anne.roux@ac-a.fr").await, "a dry run changes nothing");

    // The directory changes between the dry run and the confirmation: an
    // Anne Roux appears, so the file's Anne would get another address.
    fx.store
        .create_account(&store::NewAccount {
            address: Address::parse("anne.roux@ac-a.fr").unwrap(),
            login: None,
            display_name: "Anne Roux (autre)".into(),
            role: Role::Teacher,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: Some(fx.dsden_a),
            password_hash: None,
        })
        .await
        .unwrap();
    let confirm = HrSync { expect: Some(dry.fingerprint()), ..HrSync::new(text.as_bytes()) };
    let Err(HrError::Sync(SyncError::Changed(again))) = fx.run(&who, &confirm).await else {
        panic!("a confirmation of a stale dry run must apply nothing");
    };
    assert!(!fx.exists("paul.garnier@ac-a.fr").await, "nothing applied");
    assert!(again.changes.iter().any(|c| c.address == "anne.roux2@ac-a.fr"), "{:?}", again.changes);

    // Confirming the new dry run applies it, audited with the administrator.
    let confirm = HrSync { expect: Some(again.fingerprint()), ..HrSync::new(text.as_bytes()) };
    let done = fx.run(&who, &confirm).await.unwrap();
    assert!(done.applied);
    assert!(fx.exists("anne.roux2@ac-a.fr").await && fx.exists("paul.garnier@ac-a.fr").await);
    assert!(!fx.exists("lise.henry@ac-a.fr").await && !fx.exists("lise.henry@ac-b.fr").await);
    let paul = fx.store.account_by_address(&Address::parse("paul.garnier@ac-a.fr").unwrap()).await.unwrap().unwrap();
    assert_eq!(paul.org_unit, Some(fx.academie_a), "a row without UAI goes to the administrator's académie");
    let audit = fx.store.audit_log().await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!((last.action.as_str(), last.actor.as_str()), ("directory.sync", "rectorat@ac-a.fr"));
    assert!(last.detail.contains("1 ligne(s) refusée(s)"), "{}", last.detail);

    // Another académie's domain is refused.
    let other = HrSync { domain: Some("ac-b.fr"), dry_run: true, ..HrSync::new(text.as_bytes()) };
    assert!(matches!(fx.run(&who, &other).await, Err(HrError::Admin(AdminError::Refused { .. }))));
}

#[tokio::test(flavor = "multi_thread")]
async fn only_academie_and_national_administrators_sync() {
    let fx = fixture().await;
    let text = file();
    let dry = HrSync { dry_run: true, domain: Some("ac-b.fr"), ..HrSync::new(text.as_bytes()) };
    for (address, role, unit) in [
        ("dsden@ac-a.fr", "admin-dsden", fx.dsden_a),
        ("assistance@ac-a.fr", "assistance", fx.academie_a),
        ("auditeur@ac-a.fr", "auditeur", fx.academie_a),
    ] {
        let who = fx.admin(address, role, unit).await;
        assert!(matches!(fx.id.admin_hr_scope(&who).await, Err(AdminError::Denied(_))), "{role}");
        assert!(matches!(fx.run(&who, &dry).await, Err(HrError::Admin(AdminError::Denied(_)))), "{role}");
    }
    // The national administrator (and the operator) sync every académie:
    // Lise is placed in académie B, and the rows of A are taken too.
    let national = fx.admin("national@ac-b.fr", "admin-national", fx.academie_b).await;
    assert_eq!(fx.id.admin_hr_scope(&national).await.unwrap(), None);
    let b_only = format!("{HEADER}31E0000003ABC;Mme;Henry;Lise;enseignant;actif;0880001X;;\n");
    let run = HrSync { domain: Some("ac-b.fr"), ..HrSync::new(b_only.as_bytes()) };
    let report = fx.run(&national, &run).await.unwrap();
    assert!(report.applied && report.refused.is_empty(), "{:?}", report.refused);
    assert!(fx.exists("lise.henry@ac-b.fr").await);
    let operator = fx.id.operator().await.unwrap();
    // Two domains served: the operator must say which.
    let run = HrSync { dry_run: true, ..HrSync::new(text.as_bytes()) };
    let Err(HrError::Admin(AdminError::Refused { fr, .. })) = fx.run(&operator, &run).await else {
        panic!("two domains, none chosen");
    };
    assert!(fr.contains("plusieurs domaines"), "{fr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_file_is_refused_line_by_line_in_french() {
    let fx = fixture().await;
    let who = fx.admin("rectorat@ac-a.fr", "admin-academie", fx.academie_a).await;
    let bad = format!("{HEADER}31E0000001ABC;Mme;Roux;Anne;enseignant;en vacances;0541234A;;\n");
    let Err(HrError::Sync(SyncError::Lines(errors))) = fx.run(&who, &HrSync::new(bad.as_bytes())).await else {
        panic!("a bad status must be refused");
    };
    assert_eq!(errors[0].line, 2);
    assert!(errors[0].to_string().contains("ligne 2"), "{}", errors[0]);
    assert!(!fx.exists("anne.roux@ac-a.fr").await);
    let latin1 = b"numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n31E0000001ABC;Mme;Lef\xe8vre;Anne;enseignant;actif;;;\n";
    let Err(HrError::Sync(SyncError::Lines(errors))) = fx.run(&who, &HrSync::new(latin1)).await else {
        panic!("Latin-1 must be refused");
    };
    assert!(errors[0].message.contains("UTF-8"), "{}", errors[0]);
}
