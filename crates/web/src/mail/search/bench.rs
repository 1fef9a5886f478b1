//! Search across folders on a generated mailbox: both ways of mapping index
//! hits to messages agree, and (ignored, run by hand) the time of typical
//! queries on 100,000 messages. Messages go straight into the store and the
//! index (no blob files), in a database on tmpfs when there is one, so the
//! fixture builds in reasonable time.

use std::sync::Arc;
use std::time::Instant;

use mailstore::Mailstore;
use model::{BlobId, SpecialUse};
use store::{DateCursor, Found, Mailbox, NewMessage, Store, Target};

use super::query::parse;
use super::run::{Outcome, run, run_with};

/// Subjects' topics: each is in one message out of 20.
const TOPICS: [&str; 20] = [
    "conseil",
    "sortie",
    "budget",
    "examen",
    "cantine",
    "transport",
    "stage",
    "voyage",
    "parents",
    "absence",
    "inscription",
    "bulletin",
    "projet",
    "formation",
    "reunion",
    "travaux",
    "securite",
    "numerique",
    "sport",
    "theatre",
];
const START: i64 = 1_700_000_000;

struct Fixture {
    _dir: tempfile::TempDir,
    ms: Arc<Mailstore>,
    account: i64,
    projets: Mailbox,
}

/// `n` messages: every tenth in "Projets", the rest in the Inbox; one in
/// fifty with an attachment; a word `signalN` shared by `n / 10_000 + 1`
/// messages at most; a minute apart.
async fn fixture(n: usize) -> Fixture {
    let dir = match std::path::Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm").unwrap(),
        false => tempfile::tempdir().unwrap(),
    };
    let store = Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&model::Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let account = store
        .create_account(&store::NewAccount {
            address: model::Address::parse("a@ac-test.fr").unwrap(),
            login: None,
            display_name: "A".into(),
            role: model::Role::Teacher,
            status: model::AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap()
        .id;
    let inbox = store.mailbox_by_special_use(account, SpecialUse::Inbox).await.unwrap().unwrap();
    let projets = store.create_mailbox(account, "Projets", None).await.unwrap();
    let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = Mailstore::new(store.clone(), blobs);
    ms.enable_search_in_memory().unwrap();
    let index = ms.search_index().unwrap().clone();
    for i in 0..n {
        let topic = TOPICS[i % TOPICS.len()];
        let from = format!("Agent {} <agent{}@ac-test.fr>", i % 500, i % 500);
        let subject = format!("Message {i} {topic}");
        let body = format!("Bonjour, note de l'academie numero {i}, signal{} et la suite.", i % 10_000);
        let blob = BlobId::from_hex(&format!("{:064x}", i + 1)).unwrap();
        let msg = NewMessage {
            blob: blob.clone(),
            size: 500,
            meta_json: "{}".into(),
            subject: subject.clone(),
            from_addr: from.clone(),
            sent_date: Some(START + i as i64 * 60),
            has_attachment: i % 50 == 0,
            preview: body.chars().take(80).collect(),
            msgid_header: Some(format!("<m{i}@ac-test.fr>")),
            references: Vec::new(),
            internal_date: START + i as i64 * 60,
            imap_envelope: None,
            imap_envelope_utf8: None,
        };
        let mailbox = if i % 10 == 0 { projets.id } else { inbox.id };
        let out = store.deliver(&msg, &[Target { account, mailbox, flags: 0, keywords: Vec::new() }]).await.unwrap();
        let doc = search::Document {
            subject,
            from,
            recipients: "a@ac-test.fr".into(),
            body,
            attachments: if i % 50 == 0 { "rapport.pdf".into() } else { String::new() },
            headers: String::new(),
        };
        index.add(&[account], blob.as_str(), &doc, out[0].message as u64).unwrap();
    }
    index.commit().unwrap();
    Fixture { _dir: dir, ms, account, projets }
}

/// Every page of `text`, walked with the cursor.
async fn all_pages(f: &Fixture, text: &str, direct_limit: usize, page: usize) -> Vec<Found> {
    let q = parse(text).unwrap();
    let folder = q.folder.as_ref().map(|_| f.projets.id);
    let mut out = Vec::new();
    let mut below = DateCursor::TOP;
    loop {
        let o: Outcome = run_with(&f.ms, f.account, &q, folder, below, page, direct_limit).await.unwrap();
        out.extend(o.rows);
        match o.next {
            Some(n) => below = n,
            None => return out,
        }
    }
}

#[tokio::test]
async fn lookups_and_walks_agree() {
    let f = fixture(400).await;
    for text in [
        "academie",
        "objet:conseil",
        "de:agent7",
        "pj:oui",
        "pj:non objet:sortie",
        "dans:Projets academie",
        "avant:2023-11-15 après:2023-11-14 academie",
        "signal42",
        "introuvable",
    ] {
        let direct = all_pages(&f, text, usize::MAX, 7).await;
        let walked = all_pages(&f, text, 0, 7).await;
        assert_eq!(direct, walked, "{text}");
        assert!(direct.windows(2).all(|w| w[0].cursor() > w[1].cursor()), "newest first: {text}");
    }
    assert_eq!(all_pages(&f, "academie", 0, 50).await.len(), 400);
    assert_eq!(all_pages(&f, "objet:conseil", 0, 50).await.len(), 20);
    assert_eq!(all_pages(&f, "pj:oui", 0, 50).await.len(), 8);
    let in_projets = all_pages(&f, "dans:Projets academie", 0, 50).await;
    assert_eq!(in_projets.len(), 40);
    assert!(in_projets.iter().all(|m| m.mailbox_id == f.projets.id));
    assert_eq!(all_pages(&f, "signal42", 0, 50).await.len(), 1);
    assert!(all_pages(&f, "introuvable", 0, 50).await.is_empty());
    let q = parse("de:agent7 objet:conseil").unwrap();
    let o = run(&f.ms, f.account, &q, None, DateCursor::TOP, 50).await.unwrap();
    assert_eq!(o.total, Some(0), "agent7x only write about voyage and topics 10 to 19");
    // A large search (more hits than direct lookups) still gives a count.
    let q = parse("academie").unwrap();
    let o = run_with(&f.ms, f.account, &q, None, DateCursor::TOP, 50, 10).await.unwrap();
    assert_eq!((o.total, o.estimate), (None, Some(super::run::Estimate::About(400))));
    let q = parse("dans:Projets academie").unwrap();
    let o = run_with(&f.ms, f.account, &q, Some(f.projets.id), DateCursor::TOP, 50, 10).await.unwrap();
    assert_eq!(o.estimate, Some(super::run::Estimate::AtMost(400)));
    assert_eq!(o.rows.len(), 40);
}

/// Run with `cargo nextest run -p web --run-ignored only search::bench` to
/// see the times (kept out of the normal run: timings on a shared machine
/// are noise, BENCHMARKS.md is for numbers).
#[tokio::test]
#[ignore]
async fn a_hundred_thousand_messages() {
    let t = Instant::now();
    let f = fixture(100_000).await;
    eprintln!("fixture: {:?}", t.elapsed());
    for text in [
        "signal1234",
        "academie",
        "objet:conseil",
        "de:agent7",
        "de:agent7 objet:voyage",
        "pj:oui",
        "dans:Projets pj:oui",
        "avant:2023-12-01 academie",
        "introuvable",
    ] {
        let q = parse(text).unwrap();
        let folder = q.folder.as_ref().map(|_| f.projets.id);
        // Three times each: the first run of the process also pays for
        // opening connections and warming caches.
        let mut firsts = Vec::new();
        let mut nexts = Vec::new();
        let mut o = Outcome::default();
        for _ in 0..3 {
            let t = Instant::now();
            o = run(&f.ms, f.account, &q, folder, DateCursor::TOP, super::PAGE).await.unwrap();
            firsts.push(t.elapsed());
            if let Some(below) = o.next {
                let t = Instant::now();
                run(&f.ms, f.account, &q, folder, below, super::PAGE).await.unwrap();
                nexts.push(t.elapsed());
            }
        }
        eprintln!(
            "{text:28} {:2} rows (total {:?}, partial {}) first page {firsts:?}, next page {nexts:?}",
            o.rows.len(),
            o.total,
            o.partial
        );
        assert!(!o.rows.is_empty() || text == "introuvable", "{text}");
    }
}
