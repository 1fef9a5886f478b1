//! The classifier end to end in the domain, against a real store and blob
//! folder: an owner's moves into and out of Indésirables train their model
//! (through the mail domain's filing hook), and a new spam like the ones
//! they junked goes to their Indésirables, not to an untrained colleague's.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use filter::sort::Incoming;
use filter::{FilterSettings, Filters, Screening};
use hygiene::bayes::learn::{Learner, ReportFolder, Reporter};
use hygiene::bayes::{Bayes, BayesSettings, Tokens};
use hygiene::{Action, Features, Settings, Verdict};
use mailstore::{Bytes, DeliveryTarget, Mailstore};
use model::{AccountStatus, Address, Domain, Role, SpecialUse};
use store::{Account, NewAccount, Store};

const SPAM_WORDS: &[&str] = &[
    "gagnez",
    "gratuit",
    "offre",
    "exceptionnelle",
    "cliquez",
    "maintenant",
    "promotion",
    "casino",
    "bonus",
    "cadeau",
    "urgent",
    "félicitations",
    "sélectionné",
    "remboursement",
    "crédit",
    "investissement",
    "bitcoin",
    "rendement",
    "garanti",
    "livraison",
    "pharmacie",
    "réduction",
    "limitée",
    "inscrivez",
];
const HAM_WORDS: &[&str] = &[
    "réunion",
    "conseil",
    "classe",
    "élèves",
    "parents",
    "bulletin",
    "trimestre",
    "emploi",
    "temps",
    "salle",
    "professeur",
    "principal",
    "inspection",
    "programme",
    "devoirs",
    "sortie",
    "scolaire",
    "collège",
    "cantine",
    "absence",
    "convocation",
    "examen",
    "brevet",
    "pédagogique",
];

/// A message of `n` words picked from `words` by a fixed sequence.
fn message(from: &str, words: &[&str], seed: usize, n: usize) -> Vec<u8> {
    let pick = |i: usize| words[(seed * 7 + i * 13 + i * i) % words.len()];
    let subject: Vec<&str> = (0..3).map(|i| pick(i + 50)).collect();
    let body: Vec<&str> = (0..n).map(pick).collect();
    format!(
        "From: {from}\r\nTo: claire.martin@ac-demo.fr\r\nSubject: {}\r\nMessage-ID: <{seed}.{n}@{}>\r\n\
         Date: Mon, 1 Dec 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        subject.join(" "),
        from.rsplit('@').next().unwrap_or("x"),
        body.join(" ")
    )
    .into_bytes()
}

fn spam(seed: usize) -> Vec<u8> {
    message("Promo <offres@promo-cadeaux.example>", SPAM_WORDS, seed, 40)
}

fn ham(seed: usize) -> Vec<u8> {
    message("Direction <principal@clg-exemple.ac-demo.fr>", HAM_WORDS, seed, 40)
}

struct Fixture {
    store: Store,
    ms: Arc<Mailstore>,
    bayes: Arc<Bayes>,
    claire: Account,
    paul: Account,
    reported: Arc<Mutex<Vec<(i64, usize)>>>,
    _dir: tempfile::TempDir,
}

/// Keeps what it was asked to forward.
struct Collect(Arc<Mutex<Vec<(i64, usize)>>>);

impl Reporter for Collect {
    fn report(
        &self,
        account: i64,
        raw: Vec<u8>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        self.0.lock().unwrap().push((account, raw.len()));
        Box::pin(async { Ok(()) })
    }
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("meta.db").display());
    let store = Store::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = Mailstore::new(store.clone(), blobs);
    store.add_domain(&Domain::parse("ac-demo.fr").unwrap()).await.unwrap();
    let claire = create(&store, "claire.martin").await;
    let paul = create(&store, "paul.durand").await;
    let bayes = Arc::new(Bayes::new(store.clone(), BayesSettings::default()));
    let reported = Arc::new(Mutex::new(Vec::new()));
    let report = ReportFolder { name: "Signaler hameçonnage".into(), reporter: Arc::new(Collect(reported.clone())) };
    ms.set_filing_hook(Learner::start(bayes.clone(), ms.clone(), Some(report)));
    Fixture { store, ms, bayes, claire, paul, reported, _dir: dir }
}

async fn create(store: &Store, local: &str) -> Account {
    store
        .create_account(&NewAccount {
            address: Address::parse(&format!("{local}@ac-demo.fr")).unwrap(),
            login: None,
            display_name: local.replace('.', " "),
            role: Role::Teacher,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap()
}

impl Fixture {
    async fn folder(&self, who: &Account, special: SpecialUse) -> i64 {
        self.ms.mailbox_with_use(who.id, special).await.unwrap().unwrap().id
    }

    /// Delivers `raw` to `who`'s `folder` and returns its UID there.
    async fn put(&self, who: &Account, folder: i64, raw: Vec<u8>) -> i64 {
        let target = DeliveryTarget { mailbox: Some(folder), ..DeliveryTarget::inbox(who.id) };
        self.ms.deliver_targets_owned(Bytes::from(raw), &[target], 0).await.unwrap();
        self.ms.messages(folder).await.unwrap().last().unwrap().uid
    }

    /// Moves as IMAP MOVE and the webmail do: copy, then discard.
    async fn move_to(&self, who: &Account, from: i64, uids: &[i64], to: i64) -> Vec<i64> {
        let copied = self.ms.copy(who.id, from, uids, to).await.unwrap();
        let sources: Vec<i64> = copied.iter().map(|c| c.source_uid).collect();
        self.ms.discard(who.id, from, &sources).await.unwrap();
        copied.iter().map(|c| c.uid).collect()
    }

    /// Waits for the training task to reach these totals.
    async fn trained(&self, who: &Account, spam: i64, ham: i64) {
        for _ in 0..200 {
            let t = self.store.bayes_totals(&[who.id]).await.unwrap();
            if t.first().map(|t| (t.1, t.2)) == Some((spam, ham)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("not trained to {spam}/{ham}: {:?}", self.store.bayes_totals(&[who.id]).await.unwrap());
    }

    /// The verdicts of the platform and of each recipient's own model, as
    /// the MX computes them (no other rule fires on these messages).
    async fn judge(&self, raw: &[u8], recipients: &[i64]) -> (Verdict, Vec<(i64, Verdict)>) {
        let tokens = Tokens::of(&Features::extract(raw));
        let opinions = self.bayes.judge(&tokens, recipients).await.unwrap();
        let mut verdict = Verdict::default();
        if let Some(reason) = opinions.global.as_ref().and_then(|j| self.bayes.settings.reason(j, &tokens)) {
            hygiene::bayes::add_reason(&mut verdict, reason);
        }
        let own = hygiene::bayes::per_recipient(&self.bayes.settings, &verdict, &tokens, &opinions);
        (verdict, own)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junking_trains_the_owners_model_and_their_next_spam_goes_to_junk() {
    let f = fixture().await;
    let (inbox, junk) = (f.folder(&f.claire, SpecialUse::Inbox).await, f.folder(&f.claire, SpecialUse::Junk).await);
    // 25 spam arrive in the Inbox and are moved to Indésirables; 25 good
    // messages the filter had put in Indésirables are moved back out.
    let mut spam_uids = Vec::new();
    let mut ham_uids = Vec::new();
    for i in 0..25 {
        spam_uids.push(f.put(&f.claire, inbox, spam(i)).await);
        ham_uids.push(f.put(&f.claire, junk, ham(i)).await);
    }
    let junked = f.move_to(&f.claire, inbox, &spam_uids, junk).await;
    f.move_to(&f.claire, junk, &ham_uids, inbox).await;
    f.trained(&f.claire, 25, 25).await;
    assert!(f.store.bayes_totals(&[f.paul.id]).await.unwrap().is_empty(), "Paul trained nothing");

    // A new spam like the junked ones: Claire's model says spam; Paul has
    // none, and the platform's needs more training than one person's.
    let (global, own) = f.judge(&spam(1000), &[f.claire.id, f.paul.id]).await;
    assert_eq!(global.score, 0.0, "platform model not active yet: {global:?}");
    assert_eq!(own.len(), 1, "{own:?}");
    let (who, claires) = &own[0];
    assert_eq!(*who, f.claire.id);
    assert_eq!(claires.codes().collect::<Vec<_>>(), ["BAYES_SPAM"]);
    assert!(claires.score >= 6.0, "{claires:?}");
    let settings = Settings::default();
    assert_eq!(claires.action(&settings), Action::Junk);

    // Delivered as the MX does: one copy each, Claire's to Indésirables.
    let verdicts =
        [(f.claire.id, Screening { junk: true, spamtest: claires.spamtest(&settings), ..Screening::default() })];
    let recipients =
        vec![("claire.martin@ac-demo.fr".to_owned(), f.claire.id), ("paul.durand@ac-demo.fr".to_owned(), f.paul.id)];
    let raw = spam(1000);
    let incoming = Incoming {
        message: &raw,
        mail_from: None,
        recipients: &recipients,
        screening: Screening::default(),
        own: &verdicts,
    };
    let filters = Filters::new(f.store.clone(), f.ms.clone(), FilterSettings::default());
    filters.deliver(Bytes::from(raw.clone()), incoming, 0).await.unwrap();
    assert_eq!(f.ms.messages(junk).await.unwrap().len(), 26, "Claire's copy in Indésirables");
    let pauls_inbox = f.folder(&f.paul, SpecialUse::Inbox).await;
    assert_eq!(f.ms.messages(pauls_inbox).await.unwrap().len(), 1, "Paul's copy in his Inbox");
    assert!(f.ms.messages(f.folder(&f.paul, SpecialUse::Junk).await).await.unwrap().is_empty());

    // Good mail like hers is good mail for her model.
    let (_, own) = f.judge(&ham(2000), &[f.claire.id]).await;
    assert_eq!(own[0].1.codes().collect::<Vec<_>>(), ["BAYES_HAM"]);
    assert!(own[0].1.score < 0.0 && own[0].1.action(&settings) == Action::Deliver, "{own:?}");

    // Moving a junked message back out retrains it; moving it again to
    // Indésirables twice counts it once; into the Corbeille teaches nothing.
    let back = f.move_to(&f.claire, junk, &junked[..1], inbox).await;
    f.trained(&f.claire, 24, 26).await;
    let again = f.move_to(&f.claire, inbox, &back, junk).await;
    f.trained(&f.claire, 25, 25).await;
    let _ = f.ms.copy(f.claire.id, junk, &again, junk).await;
    let trash = f.folder(&f.claire, SpecialUse::Trash).await;
    f.move_to(&f.claire, junk, &again, trash).await;
    // One more filing to know the queue got past the ones before.
    let last = f.put(&f.claire, inbox, spam(3000)).await;
    f.move_to(&f.claire, inbox, &[last], junk).await;
    f.trained(&f.claire, 26, 25).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reporting_folder_forwards_trains_and_junks() {
    let f = fixture().await;
    let inbox = f.folder(&f.paul, SpecialUse::Inbox).await;
    let report = f.ms.create_mailbox(f.paul.id, "Signaler hameçonnage", None).await.unwrap().id;
    let uid = f.put(&f.paul, inbox, spam(7)).await;
    f.move_to(&f.paul, inbox, &[uid], report).await;
    f.trained(&f.paul, 1, 0).await;
    for _ in 0..200 {
        if f.ms.messages(report).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(f.ms.messages(report).await.unwrap().is_empty(), "moved on");
    let junk = f.folder(&f.paul, SpecialUse::Junk).await;
    assert_eq!(f.ms.messages(junk).await.unwrap().len(), 1, "into Indésirables");
    assert_eq!(*f.reported.lock().unwrap(), [(f.paul.id, spam(7).len())], "forwarded once");
    assert_eq!(f.store.bayes_stats().await.unwrap().accounts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_confirmed_in_junk_is_learnt_as_spam() {
    let f = fixture().await;
    // Filed in Indésirables by the filter (not learnt), then confirmed there.
    let junk = f.folder(&f.claire, SpecialUse::Junk).await;
    let uid = f.put(&f.claire, junk, spam(11)).await;
    f.ms.confirm_filed(f.claire.id, junk, &[uid]);
    f.trained(&f.claire, 1, 0).await;
    // Confirming a message of the Inbox teaches nothing.
    let inbox = f.folder(&f.claire, SpecialUse::Inbox).await;
    let other = f.put(&f.claire, inbox, ham(11)).await;
    f.ms.confirm_filed(f.claire.id, inbox, &[other]);
    f.ms.confirm_filed(f.claire.id, junk, &[uid]);
    let again = f.put(&f.claire, junk, spam(12)).await;
    f.ms.confirm_filed(f.claire.id, junk, &[again]);
    f.trained(&f.claire, 2, 0).await;
}
