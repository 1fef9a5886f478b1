//! The HR sync against a real (SQLite) store: creation, idempotence, dry
//! runs, renames, status changes, all-or-nothing errors, the NUMEN never
//! stored in clear, the audit chain, the suspension watcher, and 50,000 rows.

use std::time::{Duration, Instant};

use identity::lifecycle::{ChangeKind, NumenKey, SyncError, SyncOptions, SyncReport, audit, sync};
use model::{AccountStatus, Address, Domain, OrgUnitKind, Role, Uai};
use store::{NewOrgUnit, Store};

const HEADER: &str = "numen;civilite;nom;prenom;role;statut;uai;adresse_secondaire;date_effet\n";

struct Setup {
    dir: tempfile::TempDir,
    store: Store,
    key: NumenKey,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let unit = |parent, kind, name: &str, uai: Option<&str>| NewOrgUnit {
        parent,
        kind,
        name: name.into(),
        uai: uai.map(|u| Uai::parse(u).unwrap()),
    };
    let root = store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Académie", None)).await.unwrap();
    let a = store.create_org_unit(&unit(Some(root), OrgUnitKind::Dsden, "DSDEN A", None)).await.unwrap();
    let b = store.create_org_unit(&unit(Some(root), OrgUnitKind::Dsden, "DSDEN B", None)).await.unwrap();
    store.create_org_unit(&unit(Some(a), OrgUnitKind::Etablissement, "Collège", Some("0541234A"))).await.unwrap();
    store.create_org_unit(&unit(Some(b), OrgUnitKind::Etablissement, "Lycée", Some("0570456C"))).await.unwrap();
    let key = NumenKey::load_or_create(dir.path()).unwrap();
    Setup { dir, store, key }
}

fn opts(dry_run: bool) -> SyncOptions {
    SyncOptions {
        domain: Domain::parse("ac-test.fr").unwrap(),
        retention_days: 30,
        transfer_alias_days: 365,
        quota_bytes: None,
        dry_run,
        actor: "test".into(),
        scope: "superutilisateur (CLI)".into(),
        within: None,
        expect: None,
    }
}

async fn run(s: &Setup, csv: &str, dry_run: bool) -> Result<SyncReport, SyncError> {
    sync(&s.store, &s.key, csv.as_bytes(), &opts(dry_run), &|_, _, _| {}).await
}

fn kinds(r: &SyncReport) -> Vec<(ChangeKind, String)> {
    r.changes.iter().map(|c| (c.kind, c.address.clone())).collect()
}

async fn account(s: &Setup, address: &str) -> store::Account {
    s.store.account_by_address(&Address::parse(address).unwrap()).await.unwrap().unwrap()
}

const THREE: &str = "12E0000001ABC;Mme;Lefèvre-Dupré;Hélène;enseignant;actif;0541234A;helene@example.org;2026-09-01\n\
                     12E0000002ABC;M.;Martin;Jean;direction;actif;0541234A;;\n\
                     12E0000003ABC;M.;Martin;Jean;élève;actif;0570456C;;\n";

#[tokio::test(flavor = "multi_thread")]
async fn creates_then_changes_nothing_the_second_time() {
    let s = setup().await;
    let file = format!("{HEADER}{THREE}");

    let dry = run(&s, &file, true).await.unwrap();
    assert!(!dry.applied);
    assert_eq!(s.store.count_accounts().await.unwrap(), 0, "a dry run changes nothing");

    let first = run(&s, &file, false).await.unwrap();
    assert!(first.applied);
    assert_eq!(first.changes, dry.changes, "the dry run printed exactly what was applied");
    assert_eq!(
        kinds(&first),
        [
            (ChangeKind::Created, "helene.lefevre-dupre@ac-test.fr".to_owned()),
            (ChangeKind::Created, "jean.martin@ac-test.fr".to_owned()),
            (ChangeKind::Created, "jean.martin2@ac-test.fr".to_owned()),
        ]
    );
    let helene = account(&s, "helene.lefevre-dupre@ac-test.fr").await;
    assert_eq!(helene.status, AccountStatus::Provisional);
    assert_eq!(helene.login.as_deref(), Some("hlefevredupre"));
    assert_eq!(helene.display_name, "Hélène Lefèvre-Dupré");
    assert_eq!(account(&s, "jean.martin2@ac-test.fr").await.login.as_deref(), Some("jmartin2"));
    assert_eq!(account(&s, "jean.martin2@ac-test.fr").await.role, Role::Student);
    assert_eq!(s.store.list_mailboxes(helene.id).await.unwrap().len(), 6);

    // The provisional password is the NUMEN, hashed with argon2id.
    let hash = helene.password_hash.clone().unwrap();
    assert!(hash.starts_with("$argon2id$"));
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    assert!(argon2::Argon2::default().verify_password(b"12E0000001ABC", &PasswordHash::new(&hash).unwrap()).is_ok());

    let second = run(&s, &file, false).await.unwrap();
    assert!(second.changes.is_empty(), "{:?}", second.changes);
    assert!(!second.applied);
    assert_eq!(second.summary(), "aucun changement / no change");
    assert_eq!(s.store.count_accounts().await.unwrap(), 3);

    // The sync is in the audit log, and the chain verifies.
    let log = s.store.audit_log().await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "directory.sync");
    assert!(audit::verify(&log).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_numen_is_never_stored_in_clear() {
    let s = setup().await;
    run(&s, &format!("{HEADER}{THREE}"), false).await.unwrap();
    s.store.close().await;
    for entry in std::fs::read_dir(s.dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for numen in ["12E0000001ABC", "12E0000002ABC", "12E0000003ABC"] {
            assert!(!bytes.windows(numen.len()).any(|w| w == numen.as_bytes()), "NUMEN in clear in a file");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rename_status_changes_and_departure() {
    let s = setup().await;
    run(&s, &format!("{HEADER}{THREE}"), false).await.unwrap();
    let jean = account(&s, "jean.martin@ac-test.fr").await;
    s.store.set_account_status(jean.id, AccountStatus::Active).await.unwrap();

    // Hélène marries (new name), Jean is suspended, the student leaves long ago.
    let changed = format!(
        "{HEADER}12E0000001ABC;Mme;Dupont;Hélène;enseignant;actif;0570456C;helene@example.org;2026-09-01\n\
         12E0000002ABC;M.;Martin;Jean;direction;suspendu;0541234A;;\n\
         12E0000003ABC;M.;Martin;Jean;élève;parti;0570456C;;2020-06-30\n"
    );
    let report = run(&s, &changed, false).await.unwrap();
    assert_eq!(
        kinds(&report),
        [
            (ChangeKind::Renamed, "helene.dupont@ac-test.fr".to_owned()),
            (ChangeKind::Updated, "helene.dupont@ac-test.fr".to_owned()),
            (ChangeKind::Updated, "jean.martin2@ac-test.fr".to_owned()),
            (ChangeKind::Suspended, "jean.martin@ac-test.fr".to_owned()),
            (ChangeKind::Suspended, "jean.martin2@ac-test.fr".to_owned()),
            (ChangeKind::Closed, "jean.martin2@ac-test.fr".to_owned()),
        ]
    );
    let helene = account(&s, "helene.dupont@ac-test.fr").await;
    assert_eq!(account(&s, "helene.lefevre-dupre@ac-test.fr").await.id, helene.id, "old address kept as alias");
    assert_eq!(s.store.list_aliases(helene.id).await.unwrap()[0].to_string(), "helene.lefevre-dupre@ac-test.fr");
    assert_eq!(account(&s, "jean.martin@ac-test.fr").await.status, AccountStatus::Suspended);
    assert_eq!(account(&s, "jean.martin2@ac-test.fr").await.status, AccountStatus::Closed);
    assert!(run(&s, &changed, false).await.unwrap().changes.is_empty(), "idempotent");

    // Jean is back: reactivated to the state he had before (active).
    let back = changed.replace("direction;suspendu", "direction;actif");
    let report = run(&s, &back, false).await.unwrap();
    assert_eq!(kinds(&report), [(ChangeKind::Reactivated, "jean.martin@ac-test.fr".to_owned())]);
    assert_eq!(account(&s, "jean.martin@ac-test.fr").await.status, AccountStatus::Active);

    // An administrator's suspension is not undone by a sync that says "actif" again.
    s.store.set_account_status(jean.id, AccountStatus::Suspended).await.unwrap();
    assert!(run(&s, &back, false).await.unwrap().changes.is_empty());
    assert_eq!(account(&s, "jean.martin@ac-test.fr").await.status, AccountStatus::Suspended);

    // Renamed back: takes the old address again, the other one becomes the alias.
    let again = back.replace("Mme;Dupont;Hélène", "Mme;Lefèvre-Dupré;Hélène");
    let report = run(&s, &again, false).await.unwrap();
    assert_eq!(kinds(&report), [(ChangeKind::Renamed, "helene.lefevre-dupre@ac-test.fr".to_owned())]);
    let aliases = s.store.list_aliases(helene.id).await.unwrap();
    assert_eq!(aliases.iter().map(ToString::to_string).collect::<Vec<_>>(), ["helene.dupont@ac-test.fr"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_file_applies_nothing() {
    let s = setup().await;
    run(&s, &format!("{HEADER}{THREE}"), false).await.unwrap();
    // One good change (a suspension) and one unknown UAI: nothing is applied.
    let bad = format!(
        "{HEADER}12E0000001ABC;Mme;Lefèvre-Dupré;Hélène;enseignant;suspendu;0541234A;helene@example.org;2026-09-01\n\
         12E0000009ABC;M.;Neuf;Paul;enseignant;actif;0999999Z;;\n"
    );
    let Err(SyncError::Lines(errors)) = run(&s, &bad, false).await else { panic!("expected line errors") };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].to_string(), "ligne 3, colonne « uai » : UAI 0999999Z inconnu de l'annuaire");
    assert_eq!(account(&s, "helene.lefevre-dupre@ac-test.fr").await.status, AccountStatus::Provisional);
    assert_eq!(s.store.count_accounts().await.unwrap(), 3);

    // 1,000 namesakes are numbered, not an error.
    let mut many = HEADER.to_owned();
    for i in 0..1000 {
        many.push_str(&format!("{:02}E{:07}XYZ;M.;Martin;Jean;enseignant;actif;0541234A;;\n", 10 + i % 90, i));
    }
    let report = run(&s, &many, false).await.unwrap();
    assert_eq!(report.changes.len(), 1000);
    assert!(account(&s, "jean.martin1002@ac-test.fr").await.id > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn editing_an_audit_row_is_detected() {
    let s = setup().await;
    for i in 0..4 {
        audit::record(&s.store, "admin@ac-test.fr", "admin-academie@1", "account.suspend", &format!("u{i}"), "")
            .await
            .unwrap();
    }
    assert!(audit::verify(&s.store.audit_log().await.unwrap()).is_empty());
    // Tamper with row 2 directly in the database, as an intruder with SQL access would.
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}", s.dir.path().join("meta.db").display());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
    sqlx::query("UPDATE audit_log SET target = 'quelqu-un-d-autre' WHERE id = 2").execute(&mut conn).await.unwrap();
    let broken = audit::verify(&s.store.audit_log().await.unwrap());
    assert_eq!(broken.iter().map(|b| b.id).collect::<Vec<_>>(), [2]);
    // Deleting a row breaks the link of the next one.
    sqlx::query("UPDATE audit_log SET target = 'u1' WHERE id = 2").execute(&mut conn).await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE id = 3").execute(&mut conn).await.unwrap();
    let broken = audit::verify(&s.store.audit_log().await.unwrap());
    assert_eq!(broken.iter().map(|b| b.id).collect::<Vec<_>>(), [4]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_watcher_revokes_access_of_a_suspended_account() {
    let s = setup().await;
    run(&s, &format!("{HEADER}{THREE}"), false).await.unwrap();
    let blobs = blob::BlobStore::open(s.dir.path().join("blobs")).unwrap();
    let ms = mailstore::Mailstore::new(s.store.clone(), blobs);
    let jean = account(&s, "jean.martin@ac-test.fr").await;
    let mut events = ms.watch(jean.id);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let id = identity::Identity::new(s.store.clone(), ms.clone(), identity::Settings::default());
    let watcher = tokio::spawn(identity::lifecycle::watch_revocations(id, stopped));
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Another process (here: the same store through the sync) suspends Jean.
    let suspended = format!("{HEADER}{THREE}").replace("Jean;direction;actif", "Jean;direction;suspendu");
    let started = Instant::now();
    run(&s, &suspended, false).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(1), events.recv()).await.expect("revoked within a second");
    assert!(
        matches!(event.unwrap(), mailstore::MailEvent::AccessRevoked { account, change: Some(_) } if account == jean.id)
    );
    println!("access revoked {:?} after the sync committed", started.elapsed());
    // Published once, not at every poll.
    assert!(tokio::time::timeout(Duration::from_millis(800), events.recv()).await.is_err());
    let _ = stop.send(true);
    watcher.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_thousand_rows() {
    let s = setup().await;
    let mut file = String::with_capacity(50_000 * 80);
    file.push_str(HEADER);
    let first = ["Hélène", "Jean", "Amélie", "Théo", "Chloé", "Étienne", "Léa", "Raphaël", "Inès", "Noël"];
    let last = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"];
    for i in 0..50_000usize {
        let uai = if i % 2 == 0 { "0541234A" } else { "0570456C" };
        let nom = format!("{}{}", last[i % 10], ["", "-Lefèvre", "-Dupré", " de la Tour"][(i / 10) % 4]);
        file.push_str(&format!(
            "{:02}E{:07}GEN;M.;{nom};{};enseignant;actif;{uai};;\n",
            10 + i % 90,
            i,
            first[(i / 40) % 10]
        ));
    }
    let started = Instant::now();
    let applying = std::sync::Mutex::new(None);
    let progress = |stage, _, _| {
        if stage == identity::lifecycle::Stage::Applying {
            applying.lock().unwrap().get_or_insert_with(Instant::now);
        }
    };
    let report = sync(&s.store, &s.key, file.as_bytes(), &opts(false), &progress).await.unwrap();
    let created = started.elapsed();
    let hashed = applying.lock().unwrap().map(|t| t - started).unwrap_or_default();
    assert_eq!(report.changes.len(), 50_000);
    assert_eq!(s.store.count_accounts().await.unwrap(), 50_000);
    let started = Instant::now();
    let again = run(&s, &file, false).await.unwrap();
    let unchanged = started.elapsed();
    assert!(again.changes.is_empty());
    // A rentrée's worth of changes: 5,000 suspensions.
    let mut suspended = String::with_capacity(file.len());
    for (n, line) in file.lines().enumerate() {
        suspended.push_str(&if n > 0 && n % 10 == 0 { line.replace(";actif;", ";suspendu;") } else { line.to_owned() });
        suspended.push('\n');
    }
    let started = Instant::now();
    let report = run(&s, &suspended, false).await.unwrap();
    let updated = started.elapsed();
    assert_eq!(report.changes.len(), 5_000);
    println!(
        "50,000 rows: created in {created:?} (of which parsing, planning and hashing {hashed:?}), unchanged run in {unchanged:?}, 5,000 suspensions in {updated:?}"
    );
}

/// Issue 28, mutation: the HR file of another académie (its own domain)
/// places Hélène in one of its lycées. Her account stays (same id: her mail,
/// calendars and contacts are not copied), the new académie's address is
/// primary, the old one an alias that ends after the configured days (then
/// housekeeping deletes it). A second run changes nothing; a move within
/// one académie is an ordinary update.
#[tokio::test(flavor = "multi_thread")]
async fn an_agent_moved_to_another_academie_keeps_the_account_and_gets_its_address() {
    let s = setup().await;
    run(&s, &format!("{HEADER}{THREE}"), false).await.unwrap();
    let before = account(&s, "helene.lefevre-dupre@ac-test.fr").await;
    // The other académie, its domain and its lycée.
    s.store.add_domain(&Domain::parse("ac-autre.fr").unwrap()).await.unwrap();
    let unit = |parent, kind, name: &str, uai: Option<&str>| NewOrgUnit {
        parent,
        kind,
        name: name.into(),
        uai: uai.map(|u| Uai::parse(u).unwrap()),
    };
    let other = s.store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Autre académie", None)).await.unwrap();
    let lycee = s
        .store
        .create_org_unit(&unit(Some(other), OrgUnitKind::Etablissement, "Lycée Lointain", Some("0880001X")))
        .await
        .unwrap();
    let moved = "12E0000001ABC;Mme;Lefèvre-Dupré;Hélène;enseignant;actif;0880001X;helene@example.org;2026-09-01\n";
    let mut o = opts(false);
    o.domain = Domain::parse("ac-autre.fr").unwrap();
    o.transfer_alias_days = 30;
    let report = sync(&s.store, &s.key, format!("{HEADER}{moved}").as_bytes(), &o, &|_, _, _| {}).await.unwrap();
    assert_eq!(kinds(&report), vec![(ChangeKind::Transferred, "helene.lefevre-dupre@ac-autre.fr".into())]);
    assert!(report.changes[0].detail.contains("gardée en alias 30 jours"), "{}", report.changes[0].detail);
    let after = account(&s, "helene.lefevre-dupre@ac-autre.fr").await;
    assert_eq!((after.id, after.org_unit), (before.id, Some(lycee)));
    // The old address still reaches her, until its day.
    let old = Address::parse("helene.lefevre-dupre@ac-test.fr").unwrap();
    assert_eq!(s.store.list_aliases(after.id).await.unwrap(), vec![old.clone()]);
    let until = s.store.alias_expiries(after.id).await.unwrap();
    assert_eq!(until.len(), 1);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((until[0].1 - (now + 30 * 86_400)).abs() < 120, "{until:?}");
    assert_eq!(s.store.prune_expired_aliases(now).await.unwrap(), 0);
    assert_eq!(s.store.prune_expired_aliases(until[0].1).await.unwrap(), 1);
    assert!(s.store.list_aliases(after.id).await.unwrap().is_empty());
    // Nothing more to do the second time.
    let again = sync(&s.store, &s.key, format!("{HEADER}{moved}").as_bytes(), &o, &|_, _, _| {}).await.unwrap();
    assert!(again.changes.is_empty(), "{:?}", kinds(&again));
    // Jean moves between the two DSDEN of the first académie: an update, the address stays.
    let within = "12E0000002ABC;M.;Martin;Jean;direction;actif;0570456C;;\n";
    let report = run(&s, &format!("{HEADER}{within}"), false).await.unwrap();
    assert_eq!(kinds(&report), vec![(ChangeKind::Updated, "jean.martin@ac-test.fr".into())]);
}

/// With two académies in the tree, a row without a UAI belongs to the
/// académie the file's UAIs lie in (an HR file is one académie's), never to
/// the first académie of the tree; a file whose UAIs name no single académie
/// cannot place it and says so on its line, applying nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_row_without_uai_goes_to_the_files_academie_not_the_first_one() {
    let s = setup().await;
    s.store.add_domain(&Domain::parse("ac-autre.fr").unwrap()).await.unwrap();
    let unit = |parent, kind, name: &str, uai: Option<&str>| NewOrgUnit {
        parent,
        kind,
        name: name.into(),
        uai: uai.map(|u| Uai::parse(u).unwrap()),
    };
    let other = s.store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Autre académie", None)).await.unwrap();
    s.store
        .create_org_unit(&unit(Some(other), OrgUnitKind::Etablissement, "Lycée Lointain", Some("0880001X")))
        .await
        .unwrap();
    let mut o = opts(false);
    o.domain = Domain::parse("ac-autre.fr").unwrap();
    let file = "21E0000001ABC;Mme;Roux;Anne;enseignant;actif;0880001X;;\n\
                21E0000002ABC;M.;Garnier;Paul;administratif;actif;;;\n";
    let report = sync(&s.store, &s.key, format!("{HEADER}{file}").as_bytes(), &o, &|_, _, _| {}).await.unwrap();
    assert_eq!(report.changes.len(), 2, "{:?}", kinds(&report));
    let rectorat = account(&s, "paul.garnier@ac-autre.fr").await;
    assert_eq!(rectorat.org_unit, Some(other), "placed at the file's académie, not the first one");

    // Only rows without a UAI: two académies, none named.
    let alone = "21E0000003ABC;Mme;Henry;Lise;administratif;actif;;;\n";
    let Err(SyncError::Lines(errors)) =
        sync(&s.store, &s.key, format!("{HEADER}{alone}").as_bytes(), &o, &|_, _, _| {}).await
    else {
        panic!("a row that cannot be placed must be refused");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 2);
    assert!(errors[0].message.contains("plusieurs académies"), "{}", errors[0].message);
    assert!(s.store.account_by_address(&Address::parse("lise.henry@ac-autre.fr").unwrap()).await.unwrap().is_none());
}
