//! Upgrades from every released schema version, on both backends.
//!
//! Users must never fear an upgrade. For every version the program knows
//! (taken from [`Store::known_migrations`], so a new migration is covered
//! the day it is added), a fresh database is built as a release at that
//! version left it: each migration is applied in turn and, right after it,
//! the rows of `tests/upgrade/NNNN.sql` (data that version's schema holds).
//! A new program then opens it and runs the real migrator over those rows,
//! and everything is read back through the public `Store` API, then written
//! to (a delivery, an account, a queue entry), which also checks that the
//! identity sequences survived.
//!
//! A fixture file is optional for a version that adds no table or column
//! (an index), but every fixture must have a check in [`check`].

use std::path::PathBuf;

use model::{AccountStatus, Address, BlobId, Flag, OrgUnitKind, Role, SpecialUse, Uai};
use sqlx::{AnyConnection, Connection};
use store::{Account, CollectionKind, Mailbox, NewQueued, RcptStatus, Store, Target, WebPrefs};

use crate::fixtures;
use crate::harness::PostgresDb;

/// A unix time later than every time in the fixtures, earlier than their expiries.
const FIXTURE_NOW: i64 = 1_700_100_000;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/upgrade")
}

/// The fixture files, by the version after which they are loaded.
fn fixtures() -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = std::fs::read_dir(fixtures_dir())
        .expect("the upgrade fixtures folder")
        .map(|e| e.expect("a fixture file").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|p| {
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            let version = stem.parse().unwrap_or_else(|_| panic!("fixture {} is not named NNNN.sql", p.display()));
            (version, std::fs::read_to_string(&p).expect("read a fixture"))
        })
        .collect();
    out.sort();
    out
}

/// The versions this program knows, in order (numbers reserved by work in
/// progress elsewhere may be missing).
fn known() -> Vec<i64> {
    Store::known_migrations().iter().map(|m| m.0).collect()
}

fn latest() -> i64 {
    Store::known_migrations().last().map_or(0, |m| m.0)
}

#[test]
fn every_fixture_belongs_to_a_known_version() {
    let known: Vec<i64> = Store::known_migrations().iter().map(|m| m.0).collect();
    let fixtures = fixtures();
    assert!(!fixtures.is_empty());
    for (version, _) in fixtures {
        assert!(known.contains(&version), "fixture {version:04}.sql names an unknown schema version");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_upgrades_from_every_version() {
    for version in known() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("meta.db").display());
        upgrade_from(&url, version).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_upgrades_from_every_version() {
    for version in known() {
        let Some(db) = PostgresDb::create().await else { return };
        // In a task of its own, so that a failure still drops the database.
        let outcome = tokio::spawn({
            let url = db.url.clone();
            async move { upgrade_from(&url, version).await }
        })
        .await;
        db.remove().await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// Builds the database of a release at `version`, upgrades it and checks it.
async fn upgrade_from(url: &str, version: i64) {
    // Shown with a failure: which starting version broke.
    eprintln!("upgrade from schema version {version} to {}", latest());
    let fixtures = fixtures();
    let old = Store::open(url).await.expect("open the store");
    let mut loaded = Vec::new();
    for step in known().into_iter().take_while(|v| *v <= version) {
        assert_eq!(old.migrate_to(step).await.expect("migrate one version"), [step]);
        if let Some((_, sql)) = fixtures.iter().find(|(v, _)| *v == step) {
            let mut conn = AnyConnection::connect(url).await.expect("connect for the fixture");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.as_str()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("fixture {step:04}.sql at version {step}: {e}"));
            conn.close().await.expect("close the fixture connection");
            loaded.push(step);
        }
    }
    old.close().await;

    // A newer program starts on it.
    let store = Store::open(url).await.expect("reopen the store");
    let applied = store.migrate().await.unwrap_or_else(|e| panic!("upgrade from version {version}: {e}"));
    assert_eq!(applied, known().into_iter().filter(|v| *v > version).collect::<Vec<_>>(), "from version {version}");
    let recorded: Vec<i64> = store.applied_migrations().await.unwrap().iter().map(|m| m.version).collect();
    assert_eq!(recorded, known());

    for v in loaded {
        assert!(check(&store, v).await, "fixture {v:04}.sql has no check in upgrade.rs");
    }
    write_after_upgrade(&store, version).await;
    store.close().await;
}

async fn claire(store: &Store) -> Account {
    store.account_by_address(&fixtures::addr("claire.martin@ac-demo.fr")).await.unwrap().expect("Claire")
}

async fn mailbox(store: &Store, account: &Account, name: &str) -> Mailbox {
    store.mailbox_by_name(account.id, name).await.unwrap().unwrap_or_else(|| panic!("mailbox {name}"))
}

fn blob(c: char) -> BlobId {
    BlobId::from_hex(&c.to_string().repeat(64)).unwrap()
}

/// Reads back what fixture `version` wrote; `false` when there is no check
/// for that version.
async fn check(store: &Store, version: i64) -> bool {
    match version {
        1 => check_v1(store).await,
        2 => {
            // The floor was kept: a new mailbox's UIDVALIDITY is above it.
            let claire = claire(store).await;
            let made = store.create_mailbox(claire.id, "Après mise à jour", None).await.unwrap();
            assert_eq!(made.uid_validity, 4_000_000_001);
        }
        3 => check_v3(store).await,
        4 => check_v4(store).await,
        5 => check_v5(store).await,
        6 => {
            let claire = claire(store).await;
            let v = store.vacation(claire.id).await.unwrap().expect("vacation");
            assert!(v.enabled);
            assert_eq!((v.subject.as_str(), v.body.as_str()), ("Absente", "Je suis absente jusqu'au 4 janvier."));
            assert_eq!((v.starts_at, v.ends_at, v.interval_days), (Some(1_700_000_000), Some(1_800_000_000), 7));
            assert_eq!(store.vacation_enabled_among(&[claire.id]).await.unwrap(), [claire.id]);
            // Answered at 1700002100: not again within the week.
            let again = store.claim_vacation_reply(claire.id, "parent@example.org", 1_700_002_200, 7 * 86_400);
            assert!(!again.await.unwrap());
        }
        7 => {
            let claire = claire(store).await;
            let mut sent = store.password_reminders_sent(claire.id, 1_700_001_000).await.unwrap();
            sent.sort_unstable();
            assert_eq!(sent, [7, 14]);
            assert!(!store.claim_password_reminder(claire.id, 1_700_001_000, 7).await.unwrap());
        }
        32 => {
            let claire = claire(store).await;
            let share = store.share_by_token("00112233445566778899aabbccddeeff00112233").await.unwrap().expect("share");
            assert_eq!((share.account_id, share.name.as_str(), share.notified), (claire.id, "bilan.pdf", true));
            let versions = store.share_versions(share.id).await.unwrap();
            assert_eq!(versions.iter().map(|v| (v.version, v.size)).collect::<Vec<_>>(), [(1, 1000), (2, 2000)]);
            assert_eq!(store.share_downloads(share.id).await.unwrap().len(), 1);
            assert!(!store.record_share_download(share.id, 2, "192.0.2.8", "").await.unwrap(), "told once");
            let upload = store.share_upload("ffffffffffffffffffffffffffffffff").await.unwrap().expect("upload");
            assert_eq!((upload.length, upload.blob_id), (500, None));
            assert_eq!(store.sharing_usage(claire.id).await.unwrap(), 3500);
        }
        35 => {
            // The window of the fixture still counts: 2 of 3 messages, 5 of 6 recipients taken.
            let claire = claire(store).await.id.to_string();
            let hour = store::Allowance { window: 3600, events: 3, weight: 6 };
            let at = 1_700_002_800 + 10;
            assert_eq!(store.take_allowance("envoi", &claire, at, 2, hour).await.unwrap(), Err(store::Over::Weight));
            assert_eq!(store.take_allowance("envoi", &claire, at, 1, hour).await.unwrap(), Ok(()));
            assert_eq!(store.take_allowance("envoi", &claire, at, 0, hour).await.unwrap(), Err(store::Over::Events));
        }
        36 => {
            let claire = claire(store).await;
            let keys = store.passkeys(claire.id).await.unwrap();
            assert_eq!(keys.len(), 1);
            assert_eq!(
                (keys[0].name.as_str(), keys[0].sign_count, keys[0].last_used_at),
                ("Téléphone", 7, Some(1_700_005_100))
            );
            let found = store.passkey_by_credential("Y3JlZGVudGlhbA").await.unwrap().expect("by credential id");
            assert_eq!(found.account_id, claire.id);
            let claimed = store.claim_passkey_challenge("defi-en-cours").await.unwrap().expect("the challenge");
            assert_eq!((claimed.purpose.as_str(), claimed.account_id), ("register", Some(claire.id)));
            assert_eq!(store.sso_second_factor("session-2fa", claire.id).await.unwrap().as_deref(), Some("otp"));
        }
        17 => {
            let claire = claire(store).await;
            let cal = store.collection(claire.id, CollectionKind::Calendar, "agenda").await.unwrap().expect("agenda");
            assert_eq!((cal.display_name.as_str(), cal.sync_counter), ("Agenda", 3));
            let o = store.collection_object(cal.id, "conseil.ics").await.unwrap().expect("the event");
            assert_eq!(
                (o.etag.as_str(), o.first_start, o.last_end, o.modseq),
                ("e2", Some(1_700_003_600), Some(1_700_007_200), 2)
            );
            // Version 37: events stored before reminders are for the runner to compute.
            assert_eq!((o.next_alarm, cal.reminder_minutes, cal.reminder_mail), (Some(0), None, false));
            let names: Vec<_> = store
                .collection_changes_since(cal.id, 1)
                .await
                .unwrap()
                .into_iter()
                .map(|c| (c.name, c.deleted))
                .collect();
            assert_eq!(names, [("conseil.ics".to_owned(), false), ("annule.ics".to_owned(), true)]);
            // The next change is numbered after them.
            let next = store::CollectionObject { name: "x.ics".into(), uid: "x".into(), modseq: 0, ..o };
            assert_eq!(
                store.put_collection_object(cal.id, &next, store::Precondition::Absent).await.unwrap(),
                store::PutOutcome::Created { modseq: 4 }
            );
        }
        21 => {
            // Version 44: the discussion group archives, the institutional list does not.
            let cdi = store.list_by_address(&fixtures::addr("cdi@ac-demo.fr")).await.unwrap().expect("cdi");
            let direction =
                store.list_by_address(&fixtures::addr("direction@ac-demo.fr")).await.unwrap().expect("direction");
            assert_eq!((cdi.discussion, cdi.archive, cdi.tag.as_deref()), (true, true, Some("CDI")));
            assert_eq!((direction.discussion, direction.archive), (false, false));
            assert_eq!(store.list_members(cdi.id).await.unwrap(), ["claire.martin@ac-demo.fr"]);
            let content = blob('9');
            let post = store::NewArchived {
                list: cdi.id,
                blob: &content,
                size: 10,
                from: "claire.martin@ac-demo.fr",
                subject: "Après mise à jour",
                message_id: "",
            };
            let (id, _) = store.archive_post(&post).await.unwrap();
            assert_eq!(store.archived_posts(cdi.id, None, 10).await.unwrap()[0].id, id);
            assert!(store.delete_list(cdi.id).await.unwrap());
        }
        42 => {
            let claire = claire(store).await;
            let open = store.latest_quota_request(claire.id).await.unwrap().expect("the open request");
            assert_eq!(
                (open.reason.as_str(), open.status, open.quota_bytes, open.used_bytes),
                ("Conseils de classe", store::QuotaRequestStatus::Open, Some(1_048_576), 1_000_000)
            );
            let refused = store.quota_request(open.id - 1).await.unwrap().expect("the refused request");
            assert_eq!((refused.status, refused.answer.as_str()), (store::QuotaRequestStatus::Refused, "Trop tôt"));
            // Still one open request per account, and it is decided once.
            assert!(matches!(store.open_quota_request(claire.id, "x").await, Err(store::Error::Conflict(_))));
            assert!(store.approve_quota_request(open.id, "admin@ac-demo.fr", Some(2 << 20)).await.unwrap());
            assert!(store.open_quota_request(claire.id, "encore").await.unwrap() > open.id, "the sequence survived");
        }
        33 => {
            let claire = claire(store).await;
            let cal = store.collection(claire.id, CollectionKind::Calendar, "agenda").await.unwrap().expect("agenda");
            let school = store.org_unit_by_uai(&Uai::parse("0541234A").unwrap()).await.unwrap().expect("collège").id;
            let shares = store.calendar_shares_of(cal.id).await.unwrap();
            let seen: Vec<_> = shares.iter().map(|s| (s.grantee, s.rights.as_str(), s.created_at)).collect();
            assert_eq!(seen, [(store::ShareGrantee::Unit(school), "read", 1_700_004_000)]);
            let units = store.unit_and_ancestors(school).await.unwrap();
            assert_eq!(units.len(), 2, "the collège and its académie");
            // Claire's own calendar is not « shared with » her.
            assert!(store.shared_with(claire.id, &units).await.unwrap().is_empty());
            store.put_share(cal.id, store::ShareGrantee::Unit(school), "write").await.unwrap();
            assert_eq!(store.calendar_shares_of(cal.id).await.unwrap()[0].rights, "write");
            assert!(store.delete_share(cal.id, store::ShareGrantee::Unit(school)).await.unwrap());
        }
        9 => {
            let claire = claire(store).await;
            let ids = store.identities(claire.id).await.unwrap();
            let seen: Vec<_> = ids.iter().map(|i| (i.name.as_str(), i.address.as_str(), i.is_default)).collect();
            assert_eq!(
                seen,
                [
                    ("Claire Martin", "claire.martin@ac-demo.fr", true),
                    ("CDI Jules Ferry", "cdi.jules-ferry@ac-demo.fr", false)
                ]
            );
            assert_eq!(ids[0].signature, "-- Claire");
        }
        10 => {
            let claire = claire(store).await;
            let prefs = store.web_prefs(claire.id).await.unwrap().expect("preferences");
            assert_eq!(
                prefs,
                WebPrefs { density: "compacte".into(), lang: "en".into(), theme: "sombre".into(), undo_send: None }
            );
            assert!(store.is_trusted_sender(claire.id, "lettre@musee.example").await.unwrap());
            let banner = store.banner(FIXTURE_NOW).await.unwrap().expect("banner");
            assert_eq!(banner.text, "Maintenance samedi de 8 h à 10 h.");
        }
        11 => {
            let claire = claire(store).await;
            let archives = mailbox(store, &claire, "Archives").await;
            assert_eq!(archives.special_use, Some(SpecialUse::Archive));
            let plain = store.envelopes_between(archives.id, 1, 10, false).await.unwrap();
            assert_eq!(
                plain,
                [(
                    1,
                    "(NIL \"=?utf-8?q?=C3=89lections?=\" NIL NIL NIL NIL NIL NIL NIL \"<m3@ac-demo.fr>\")".to_owned()
                )]
            );
            let utf8 = store.envelopes_between(archives.id, 1, 10, true).await.unwrap();
            assert_eq!(utf8, [(1, "(NIL \"Élections\" NIL NIL NIL NIL NIL NIL NIL \"<m3@ac-demo.fr>\")".to_owned())]);
            let rows = store.messages(archives.id).await.unwrap();
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].blob_hash, blob('e'));
        }
        31 => {
            let rooms = store.resources().await.unwrap();
            let seen: Vec<_> = rooms.iter().map(|r| (r.account.address.to_string(), r.kind.as_str())).collect();
            assert_eq!(seen, [("salle-du-conseil.0541234a@ac-demo.fr".to_owned(), "salle")]);
            assert_eq!(store.resource_kind(rooms[0].account.id).await.unwrap().as_deref(), Some("salle"));
            assert_eq!(store.resource_kind(claire(store).await.id).await.unwrap(), None);
        }
        34 => {
            let claire = claire(store).await;
            let grants = store.grants_given(claire.id).await.unwrap();
            let seen: Vec<_> = grants
                .iter()
                .map(|g| (g.grantee_address.as_str(), g.mailbox_id, g.rights.as_str(), g.on_behalf))
                .collect();
            assert_eq!(seen, [("paul.durand@ac-demo.fr", None, "lrswipte", true)]);
            let journal = store.delegation_journal(claire.id, 10).await.unwrap();
            assert_eq!(journal.len(), 1);
            assert_eq!((journal[0].action.as_str(), journal[0].at), ("lecture", 1_700_036_100));
        }
        _ => return false,
    }
    true
}

/// Version 1: directory, folders, messages with flags and keywords, blobs, changes.
async fn check_v1(store: &Store) {
    let claire = claire(store).await;
    assert_eq!(claire.login.as_deref(), Some("cmartin"));
    assert_eq!(
        (claire.display_name.as_str(), claire.role, claire.status),
        ("Claire Martin", Role::Teacher, AccountStatus::Active)
    );
    assert_eq!(claire.quota_bytes, Some(1_073_741_824));
    assert!(claire.used_bytes >= 4000, "used bytes {}", claire.used_bytes);
    assert!(claire.password_hash.as_deref().is_some_and(|h| h.starts_with("$argon2id$")));
    assert_eq!(store.account_by_login("cmartin").await.unwrap().map(|a| a.id), Some(claire.id));
    let paul = store.account_by_address(&fixtures::addr("paul.durand@ac-demo.fr")).await.unwrap().expect("Paul");
    assert_eq!(
        (paul.status, paul.status_changed_at, paul.quota_bytes),
        (AccountStatus::Suspended, 1_700_000_500, None)
    );

    // The alias still leads to Claire.
    let alias = Address::parse("cdi.jules-ferry@ac-demo.fr").unwrap();
    assert_eq!(store.list_aliases(claire.id).await.unwrap(), std::slice::from_ref(&alias));
    assert_eq!(store.account_by_address(&alias).await.unwrap().map(|a| a.id), Some(claire.id));
    assert!(store.is_local_domain(&fixtures::domain()).await.unwrap());

    let school = store.org_unit_by_uai(&Uai::parse("0541234A").unwrap()).await.unwrap().expect("the collège");
    assert_eq!((school.kind, school.name.as_str()), (OrgUnitKind::Etablissement, "Collège Jules Ferry"));
    assert_eq!(claire.org_unit, Some(school.id));
    let units = store.list_org_units().await.unwrap();
    assert!(units.iter().any(|u| u.kind == OrgUnitKind::Academie && Some(u.id) == school.parent));

    // Folders: the six special uses, and a user tree.
    for special in SpecialUse::ALL {
        let m = store.mailbox_by_special_use(claire.id, *special).await.unwrap();
        assert_eq!(m.map(|m| m.name), Some(special.default_name().to_owned()), "{special}");
    }
    let projets = mailbox(store, &claire, "Projets").await;
    let sub = mailbox(store, &claire, "Projets/2026").await;
    assert_eq!((sub.parent_id, sub.placeholder, sub.uid_validity), (Some(projets.id), false, 1_700_000_001));
    // Schema 16 carried the per-mailbox subscriptions over as names.
    let subscribed = store.subscriptions(claire.id).await.unwrap();
    assert!(subscribed.contains(&"Projets".to_owned()) && !subscribed.contains(&"Projets/2026".to_owned()));

    // Messages with their flags, keywords and thread.
    let inbox = mailbox(store, &claire, "INBOX").await;
    assert_eq!((inbox.uid_validity, inbox.uid_next, inbox.highest_modseq), (1_700_000_000, 3, 4));
    let rows = store.messages(inbox.id).await.unwrap();
    let seen: Vec<_> = rows.iter().map(|r| (r.uid, r.modseq, r.flags, r.keywords.clone(), r.size)).collect();
    let first_flags = Flag::Seen.bit() | Flag::Flagged.bit();
    assert_eq!(
        seen,
        [(1, 4, first_flags, vec!["$Forwarded".to_owned(), "Projet".to_owned()], 1000), (2, 3, 0, vec![], 2000)]
    );
    assert_eq!(rows[0].thread_id, rows[1].thread_id);
    assert_eq!(rows[0].msgid_header.as_deref(), Some("m1@ac-demo.fr"));
    assert_eq!(rows[1].blob_hash, blob('b'));
    let copy = store.message_by_uid(projets.id, 1).await.unwrap().expect("the copy in Projets");
    assert_eq!((copy.blob_hash, copy.flags, copy.thread_id), (blob('a'), Flag::Seen.bit(), rows[0].thread_id));
    assert!(store.envelopes_between(inbox.id, 1, 10, false).await.unwrap().is_empty(), "no envelope before v11");

    // Shared contents and the collector's list.
    let a = store.blob_meta(&blob('a')).await.unwrap().expect("blob a");
    assert_eq!((a.refcount, a.size, a.subject.as_str()), (2, 1000, "Conseil de classe"));
    assert_eq!(a.meta_json, r#"{"subject":"Conseil de classe","from":"direction@ac-demo.fr"}"#);
    assert_eq!((a.sent_date, a.preview.as_str()), (Some(1_699_999_000), "Le conseil de classe aura lieu mardi."));
    let b = store.blob_meta(&blob('b')).await.unwrap().expect("blob b");
    assert!(b.has_attachment);
    assert_eq!(b.sent_date, None);
    assert!(store.released_blobs(FIXTURE_NOW).await.unwrap().contains(&blob('c')));
    assert!(!store.released_blobs(FIXTURE_NOW).await.unwrap().contains(&blob('a')));

    // The change log that CONDSTORE/QRESYNC and JMAP states read.
    let changes = store.changes_since(inbox.id, 0).await.unwrap();
    let kinds: Vec<_> = changes.iter().map(|c| (c.modseq, c.kind.as_str(), c.uid)).collect();
    assert_eq!(kinds, [(2, "new", 1), (3, "new", 2), (4, "flags", 1)]);
    assert_eq!(store.changes_since(inbox.id, 3).await.unwrap().len(), 1);
}

/// Version 3: HR record, grants, audit chain.
async fn check_v3(store: &Store) {
    let claire = claire(store).await;
    let people = store.hr_snapshot().await.unwrap();
    assert_eq!(people.len(), 1);
    let p = &people[0];
    assert_eq!((p.account_id, p.address.as_str()), (claire.id, "claire.martin@ac-demo.fr"));
    assert_eq!(
        (p.record.nom.as_str(), p.record.prenom.as_str(), p.record.uai.as_deref()),
        ("MARTIN", "Claire", Some("0541234A"))
    );
    assert_eq!(p.record.secondary_address.as_deref(), Some("claire.perso@example.org"));
    let contact = store.reset_contact(claire.id).await.unwrap().expect("reset contact");
    assert_eq!(contact.0, p.record.numen_hash);
    let grants = store.role_grants(claire.id).await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!((grants[0].role.as_str(), Some(grants[0].org_unit)), ("admin-etablissement", claire.org_unit));
    let log = store.audit_log().await.unwrap();
    let chain: Vec<_> = log.iter().map(|e| (e.action.as_str(), e.prev_hash.as_str(), e.hash.as_str())).collect();
    assert_eq!(chain[..2], [("account.create", "", "h1"), ("role.grant", "h1", "h2")]);
}

/// Version 4: the queue entry and its recipients.
async fn check_v4(store: &Store) {
    let claire = claire(store).await;
    let entries = store.queue_entries().await.unwrap();
    let q = entries.iter().find(|q| q.blob == blob('d')).expect("the queued message");
    assert_eq!(
        (q.sender.as_str(), q.account, q.attempts, q.warned),
        ("claire.martin@ac-demo.fr", Some(claire.id), 2, true)
    );
    assert_eq!((q.next_attempt_at, q.expires_at, q.size), (1_700_004_400, 1_700_432_800, 1500));
    let rcpts = store.queued_recipients(q.id).await.unwrap();
    let seen: Vec<_> = rcpts.iter().map(|r| (r.rcpt.as_str(), r.status, r.last_error.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("parent@example.org", RcptStatus::Failed, "550 5.1.1 User unknown"),
            ("guide@musee.example", RcptStatus::Pending, "451 4.7.1 Greylisted"),
        ]
    );
    assert_eq!(store.blob_meta(&blob('d')).await.unwrap().map(|b| b.refcount), Some(1));
}

/// Version 5: credentials, journal, sessions, reset links.
async fn check_v5(store: &Store) {
    let claire = claire(store).await;
    let state = store.credential_state(claire.id).await.unwrap();
    assert_eq!(state.totp_secret.as_deref(), Some("sealed-totp-seed"));
    assert_eq!((state.totp_enabled_at, state.totp_last_step), (Some(1_700_001_100), 56_666_703));
    assert_eq!(state.password_changed_at, Some(1_700_001_000));
    assert!(!store.claim_totp_step(claire.id, 56_666_703).await.unwrap(), "a step is never accepted twice");
    let history = store.password_history(claire.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(history[0].ends_with("b2xkMg"), "newest first");
    assert_eq!(store.recovery_codes_left(claire.id).await.unwrap(), 1);
    let apps = store.app_passwords(claire.id).await.unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(
        (apps[0].name.as_str(), apps[0].scopes.clone()),
        ("Thunderbird", vec!["imap".to_owned(), "smtp".to_owned()])
    );
    assert!(store.use_app_password(claire.id, "apptoken1").await.unwrap().is_some());
    let journal = store.login_journal(claire.id, 10).await.unwrap();
    let seen: Vec<_> = journal.iter().map(|j| (j.result.as_str(), j.ip.as_str(), j.protocol.as_str())).collect();
    assert_eq!(seen[..2], [("ok", "192.0.2.10", "imap"), ("bad", "192.0.2.10", "imap")]);
    assert!(store.is_known_device(claire.id, "192.0.2.10").await.unwrap());
    let (failures, _) = store.recent_failures(None, "198.51.100.7", 1_700_000_000).await.unwrap();
    assert_eq!(failures, 1);
    let session = store.web_session("sessiontoken1").await.unwrap().expect("web session");
    assert_eq!((session.account_id, session.stage.as_str()), (claire.id, "full"));
    assert_eq!(store.reset_token("resettoken1", false).await.unwrap(), Some(claire.id));
}

/// Writes through the upgraded store: new rows must not collide with the
/// old ones (identity sequences, UIDs, threads).
async fn write_after_upgrade(store: &Store, version: i64) {
    let claire = claire(store).await;
    let inbox = mailbox(store, &claire, "INBOX").await;
    let old: Vec<_> = store.messages(inbox.id).await.unwrap();
    // Version 15: what was there before the upgrade is not recent any more.
    assert!(store.claim_recent(inbox.id).await.unwrap().is_empty(), "from version {version}");
    let mut msg = fixtures::reply(900, "<apres@ac-demo.fr>", &["<m1@ac-demo.fr>"]);
    msg.blob = blob('f');
    let target =
        Target { account: claire.id, mailbox: inbox.id, flags: Flag::Seen.bit(), keywords: vec!["$Junk".into()] };
    let done =
        store.deliver(&msg, &[target]).await.unwrap_or_else(|e| panic!("deliver after upgrade from {version}: {e}"));
    assert_eq!(done[0].uid, 3, "from version {version}");
    assert_eq!(store.claim_recent(inbox.id).await.unwrap(), 3..4, "from version {version}");
    assert_eq!(done[0].thread_id, old[0].thread_id, "the reply joins the old thread (from version {version})");
    assert!(old.iter().all(|r| r.id != done[0].message));
    let changed = store.set_flags(old[1].id, Flag::Answered.bit(), &["$Forwarded".to_owned()]).await.unwrap();
    assert!(changed > 4);

    let paul = store.create_account(&fixtures::new_account("paul.nouveau")).await.unwrap();
    assert!(paul.id > claire.id);
    // Version 40: the directory's triggers record the newcomer in the upgraded schema.
    let domains = vec!["ac-demo.fr".to_owned()];
    let feed = store.directory_changes_since(&domains, 0, 1000).await.unwrap().expect("the feed from its start");
    assert!(feed.items.contains(&format!("compte-{}", paul.id)), "from version {version}: {feed:?}");
    let mailboxes = store.list_mailboxes(paul.id).await.unwrap();
    assert_eq!(mailboxes.len(), SpecialUse::ALL.len());

    let id = store
        .enqueue(&NewQueued {
            blob: blob('f'),
            size: msg.size,
            sender: "claire.martin@ac-demo.fr".into(),
            account: Some(claire.id),
            recipients: vec![("x@example.org".into(), "example.org".into())],
            expires_at: FIXTURE_NOW,
        })
        .await
        .unwrap();
    assert_eq!(store.queue_entries().await.unwrap().iter().filter(|q| q.id == id).count(), 1);
}
