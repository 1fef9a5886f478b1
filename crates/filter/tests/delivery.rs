//! Filtering inside delivery, against a real store and blob folder: where
//! copies land, what is refused, discarded or followed up, and that a
//! failing script never loses a message.

use std::sync::Arc;

use filter::scripts::Put;
use filter::sort::Incoming;
use filter::{FilterSettings, Filters, FollowUp, Screening};
use mailstore::{Bytes, Mailstore};
use model::{AccountStatus, Address, Domain, Flag, Role};
use store::{Account, NewAccount, Store};

struct Fixture {
    store: Store,
    ms: Arc<Mailstore>,
    filters: Arc<Filters>,
    claire: Account,
    paul: Account,
    _dir: tempfile::TempDir,
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
    let filters = Filters::new(store.clone(), ms.clone(), FilterSettings::default());
    Fixture { store, ms, filters, claire, paul, _dir: dir }
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

fn mail(subject: &str) -> Vec<u8> {
    format!(
        "From: Parent <parent@example.org>\r\nTo: Claire Martin <claire.martin@ac-demo.fr>\r\n\
         Subject: {subject}\r\nMessage-ID: <{}@example.org>\r\n\r\nBonjour.\r\n",
        subject.len()
    )
    .into_bytes()
}

impl Fixture {
    async fn activate(&self, account: &Account, source: &str) {
        assert_eq!(self.filters.put(account.id, "règles", source).await.unwrap(), Put::Stored);
        self.filters.activate(account.id, Some("règles")).await.unwrap();
    }

    async fn deliver_to(&self, raw: &[u8], to: &[&Account]) -> filter::Delivery {
        self.deliver_screened(raw, to, Screening::default()).await
    }

    async fn deliver_screened(&self, raw: &[u8], to: &[&Account], screening: Screening) -> filter::Delivery {
        let recipients: Vec<(String, i64)> = to.iter().map(|a| (a.address.to_string(), a.id)).collect();
        let incoming = Incoming {
            message: raw,
            mail_from: Some("parent@example.org"),
            recipients: &recipients,
            screening,
            own: &[],
        };
        self.filters.deliver(Bytes::copy_from_slice(raw), incoming, 1_767_225_600).await.unwrap()
    }

    /// Number of messages in `folder` of `account` (0 when it does not exist).
    async fn count(&self, account: &Account, folder: &str) -> i64 {
        match self.ms.mailbox_named(account.id, folder).await.unwrap() {
            Some(m) => self.ms.message_count(m.id).await.unwrap(),
            None => 0,
        }
    }
}

const REUNIONS: &str = "require [\"fileinto\", \"mailbox\"];\r\n\
if header :contains \"subject\" \"réunion\" {\r\n  fileinto :create \"Réunions\";\r\n}\r\n";

#[tokio::test]
async fn reunion_mail_is_filed_into_a_folder_made_for_it() {
    let f = fixture().await;
    f.activate(&f.claire, REUNIONS).await;
    let out = f.deliver_to(&mail("Convocation : réunion du conseil"), &[&f.claire, &f.paul]).await;
    assert_eq!(out.delivered.len(), 2, "one copy each");
    assert_eq!(f.count(&f.claire, "Réunions").await, 1);
    assert_eq!(f.count(&f.claire, "INBOX").await, 0);
    assert_eq!(f.count(&f.paul, "INBOX").await, 1, "Paul has no script");
    assert_eq!(f.count(&f.paul, "Réunions").await, 0);
    f.deliver_to(&mail("Sortie scolaire"), &[&f.claire]).await;
    assert_eq!(f.count(&f.claire, "INBOX").await, 1, "other mail stays in the Inbox");
    f.deliver_to(&mail("Autre réunion"), &[&f.claire]).await;
    assert_eq!(f.count(&f.claire, "Réunions").await, 2, "the folder is reused");
}

/// Number of messages in the Junk folder (Indésirables) of `account`.
async fn junk(f: &Fixture, account: &Account) -> i64 {
    let junk = f.ms.mailbox_with_use(account.id, model::SpecialUse::Junk).await.unwrap().expect("a Junk folder");
    f.ms.message_count(junk.id).await.unwrap()
}

#[tokio::test]
async fn spam_goes_to_junk_unless_the_script_files_it_elsewhere() {
    let f = fixture().await;
    let spam = Screening { junk: true, spamtest: 8, virustest: 1, ..Screening::default() };
    f.activate(&f.claire, REUNIONS).await;
    // Paul has no script; Claire's only keeps it implicitly.
    f.deliver_screened(&mail("Gagnez un iPhone"), &[&f.claire, &f.paul], spam).await;
    assert_eq!((junk(&f, &f.claire).await, f.count(&f.claire, "INBOX").await), (1, 0));
    assert_eq!((junk(&f, &f.paul).await, f.count(&f.paul, "INBOX").await), (1, 0));
    // The script's fileinto wins.
    f.deliver_screened(&mail("Fausse réunion"), &[&f.claire], spam).await;
    assert_eq!(f.count(&f.claire, "Réunions").await, 1);
    assert_eq!(junk(&f, &f.claire).await, 1);
    // Not spam: the Inbox as before.
    f.deliver_screened(
        &mail("Sortie"),
        &[&f.paul],
        Screening { junk: false, spamtest: 2, virustest: 1, ..Screening::default() },
    )
    .await;
    assert_eq!(f.count(&f.paul, "INBOX").await, 1);
}

#[tokio::test]
async fn spamtest_and_virustest_see_the_verdicts() {
    let f = fixture().await;
    let script = "require [\"spamtest\", \"virustest\", \"relational\", \"comparator-i;ascii-numeric\", \"fileinto\", \"mailbox\"];\r\n\
        if virustest :value \"eq\" :comparator \"i;ascii-numeric\" \"0\" { fileinto :create \"Non analyse\"; stop; }\r\n\
        if spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"6\" { fileinto :create \"Douteux\"; stop; }\r\n\
        fileinto \"INBOX\";\r\n";
    f.activate(&f.claire, script).await;
    f.deliver_screened(
        &mail("a"),
        &[&f.claire],
        Screening { junk: true, spamtest: 7, virustest: 1, ..Screening::default() },
    )
    .await;
    assert_eq!(f.count(&f.claire, "Douteux").await, 1);
    f.deliver_screened(
        &mail("bb"),
        &[&f.claire],
        Screening { junk: false, spamtest: 3, virustest: 1, ..Screening::default() },
    )
    .await;
    assert_eq!(f.count(&f.claire, "INBOX").await, 1);
    // An explicit fileinto "INBOX" wins over the junk verdict.
    f.deliver_screened(
        &mail("ccc"),
        &[&f.claire],
        Screening { junk: true, spamtest: 5, virustest: 1, ..Screening::default() },
    )
    .await;
    assert_eq!((f.count(&f.claire, "INBOX").await, junk(&f, &f.claire).await), (2, 0));
    // Local mail, not scanned.
    f.deliver_to(&mail("dddd"), &[&f.claire]).await;
    assert_eq!(f.count(&f.claire, "Non analyse").await, 1);
}

#[tokio::test]
async fn a_missing_folder_without_create_means_the_inbox() {
    let f = fixture().await;
    f.activate(&f.claire, "require \"fileinto\";\r\nfileinto \"Nulle/Part\";\r\n").await;
    f.deliver_to(&mail("x"), &[&f.claire]).await;
    assert_eq!(f.count(&f.claire, "INBOX").await, 1);
    assert!(f.ms.mailbox_named(f.claire.id, "Nulle/Part").await.unwrap().is_none());
}

#[tokio::test]
async fn flags_copies_and_subaddresses() {
    let f = fixture().await;
    let script = "require [\"fileinto\", \"imap4flags\", \"copy\", \"envelope\", \"subaddress\", \"mailbox\"];\r\n\
        if envelope :detail \"to\" \"devoirs\" { fileinto :create \"Devoirs\"; stop; }\r\n\
        addflag \"\\\\Seen\";\r\naddflag \"$Important\";\r\nfileinto :copy :create \"Archive\";\r\n";
    f.activate(&f.claire, script).await;
    f.deliver_to(&mail("y"), &[&f.claire]).await;
    let inbox = f.ms.mailbox_named(f.claire.id, "INBOX").await.unwrap().unwrap();
    let rows = f.ms.messages(inbox.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].flags & Flag::Seen.bit(), Flag::Seen.bit());
    assert!(rows[0].keywords.iter().any(|k| k == "$Important"), "{:?}", rows[0].keywords);
    assert_eq!(f.count(&f.claire, "Archive").await, 1, ":copy files a second copy");

    let raw = mail("devoir");
    let recipients = vec![("claire.martin+devoirs@ac-demo.fr".to_string(), f.claire.id)];
    let incoming = Incoming {
        message: &raw,
        mail_from: Some("eleve@example.org"),
        recipients: &recipients,
        screening: Default::default(),
        own: &[],
    };
    f.filters.deliver(Bytes::from(raw.clone()), incoming, 0).await.unwrap();
    assert_eq!(f.count(&f.claire, "Devoirs").await, 1, "envelope :detail");
}

#[tokio::test]
async fn discard_reject_redirect_and_vacation() {
    let f = fixture().await;
    f.activate(&f.claire, "require \"reject\";\r\nif header :contains \"subject\" \"pub\" { reject \"Pas de publicité.\"; stop; }\r\nif header :contains \"subject\" \"spam\" { discard; }\r\n").await;
    let out = f.deliver_to(&mail("Super pub"), &[&f.claire, &f.paul]).await;
    assert_eq!(out.refused.len(), 1);
    assert_eq!(out.refused[0].reason, "Pas de publicité.");
    assert_eq!(out.delivered.len(), 1, "Paul still gets his copy");
    assert_eq!(f.count(&f.claire, "INBOX").await, 0);
    let out = f.deliver_to(&mail("spam"), &[&f.claire]).await;
    assert!(out.delivered.is_empty() && out.refused.is_empty());
    assert_eq!(f.count(&f.claire, "INBOX").await, 0, "discarded");

    f.activate(
        &f.paul,
        "require [\"vacation\", \"copy\"];\r\nredirect :copy \"claire.martin@ac-demo.fr\";\r\n\
        vacation :days 3 :subject \"Absent\" \"Je suis absent.\";\r\n",
    )
    .await;
    let to_paul =
        String::from_utf8(mail("Question")).unwrap().replace("Claire Martin <claire.martin@", "Paul <paul.durand@");
    let out = f.deliver_to(to_paul.as_bytes(), &[&f.paul]).await;
    assert_eq!(f.count(&f.paul, "INBOX").await, 2, ":copy keeps it (and Paul had one)");
    let redirect = out.follow_ups.iter().find_map(|u| match u {
        FollowUp::Redirect { account, to } => Some((*account, to.clone())),
        _ => None,
    });
    assert_eq!(redirect, Some((f.paul.id, "claire.martin@ac-demo.fr".to_string())));
    let reply = out.follow_ups.iter().find_map(|u| match u {
        FollowUp::Reply { reply, .. } => Some(reply.clone()),
        _ => None,
    });
    let reply = reply.expect("a vacation reply");
    assert_eq!(reply.to, "parent@example.org");
    assert_eq!(reply.period_secs, 3 * 86_400);
    let text = String::from_utf8_lossy(&reply.message);
    assert!(text.contains("Subject: Absent") && text.contains("Je suis absent."), "{text}");
}

#[tokio::test]
async fn failing_and_looping_scripts_deliver_to_the_inbox() {
    let f = fixture().await;
    // Includes itself forever: the nesting limit stops it.
    f.activate(&f.claire, "require \"include\";\r\ninclude :personal \"règles\";\r\ndiscard;\r\n").await;
    let out = f.deliver_to(&mail("a"), &[&f.claire]).await;
    assert_eq!(out.delivered.len(), 1);
    assert_eq!(f.count(&f.claire, "INBOX").await, 1 + 1, "the message and a notice to its owner");
    // Includes a script that does not exist.
    f.activate(&f.claire, "require \"include\";\r\ninclude \"absent\";\r\ndiscard;\r\n").await;
    f.deliver_to(&mail("b"), &[&f.claire]).await;
    f.deliver_to(&mail("b2"), &[&f.claire]).await;
    // The owner is told once per version of the script: two notices for two
    // failing versions, not one per message.
    let inbox = f.ms.mailbox_named(f.claire.id, "INBOX").await.unwrap().unwrap();
    let rows = f.ms.messages(inbox.id).await.unwrap();
    let ids: Vec<_> = rows.iter().map(|r| r.blob_hash.clone()).collect();
    let notices = f.ms.summaries(&ids).await.unwrap();
    let told = notices.iter().filter(|s| s.subject.starts_with("Votre filtre de messagerie a échoué")).count();
    assert_eq!(told, 2, "{:?}", notices.iter().map(|s| &s.subject).collect::<Vec<_>>());
    assert_eq!(f.count(&f.claire, "INBOX").await, 3 + 2, "three messages, two notices");
    // Too many instructions for the runtime's bound.
    let settings = FilterSettings {
        limits: filter::RunLimits { instructions: 50, ..filter::RunLimits::default() },
        ..FilterSettings::default()
    };
    let tight = Filters::new(f.store.clone(), f.ms.clone(), settings);
    let long: String = (0..100).map(|i| format!("if header :is \"x-{i}\" \"y\" {{ stop; }}\r\n")).collect();
    assert_eq!(tight.put(f.claire.id, "long", &format!("{long}discard;\r\n")).await.unwrap(), Put::Stored);
    tight.activate(f.claire.id, Some("long")).await.unwrap();
    let raw = mail("c");
    let recipients = vec![(f.claire.address.to_string(), f.claire.id)];
    let incoming =
        Incoming { message: &raw, mail_from: None, recipients: &recipients, screening: Default::default(), own: &[] };
    tight.deliver(Bytes::from(raw.clone()), incoming, 0).await.unwrap();
    assert_eq!(f.count(&f.claire, "INBOX").await, 4 + 3, "with a third notice (another script)");
}

#[tokio::test]
async fn includes_of_the_same_user_and_a_changed_script_is_used_at_once() {
    let f = fixture().await;
    assert_eq!(f.filters.put(f.claire.id, "commun", REUNIONS).await.unwrap(), Put::Stored);
    f.activate(&f.claire, "require \"include\";\r\ninclude :personal \"commun\";\r\n").await;
    f.deliver_to(&mail("réunion"), &[&f.claire]).await;
    assert_eq!(f.count(&f.claire, "Réunions").await, 1);
    // Paul's scripts are not Claire's.
    assert_eq!(
        f.filters.put(f.paul.id, "p", "require \"include\";\r\ninclude \"commun\";\r\n").await.unwrap(),
        Put::Stored
    );
    f.filters.activate(f.paul.id, Some("p")).await.unwrap();
    f.deliver_to(&mail("réunion"), &[&f.paul]).await;
    assert_eq!(f.count(&f.paul, "INBOX").await, 1 + 1, "Paul's include fails: the Inbox, and he is told");
    // The included script changes: the next delivery follows it.
    let to_other = "require [\"fileinto\", \"mailbox\"];\r\nfileinto :create \"Autre\";\r\n";
    assert_eq!(f.filters.put(f.claire.id, "commun", to_other).await.unwrap(), Put::Stored);
    f.deliver_to(&mail("réunion"), &[&f.claire]).await;
    assert_eq!(f.count(&f.claire, "Autre").await, 1);
    // Deactivated: the Inbox again.
    f.filters.activate(f.claire.id, None).await.unwrap();
    f.deliver_to(&mail("réunion"), &[&f.claire]).await;
    assert_eq!(f.count(&f.claire, "INBOX").await, 1);
}

#[tokio::test]
async fn quotas_on_count_and_size() {
    let f = fixture().await;
    let settings = FilterSettings { max_scripts: 2, max_script_size: 100, ..FilterSettings::default() };
    let small = Filters::new(f.store.clone(), f.ms.clone(), settings);
    assert_eq!(small.put(f.claire.id, "a", "keep;").await.unwrap(), Put::Stored);
    assert_eq!(small.put(f.claire.id, "b", "keep;").await.unwrap(), Put::Stored);
    assert_eq!(small.put(f.claire.id, "c", "keep;").await.unwrap(), Put::TooMany);
    assert_eq!(small.put(f.claire.id, "a", &"#".repeat(101)).await.unwrap(), Put::TooBig);
    assert!(matches!(small.put(f.claire.id, "a", "fileinto \"x\";").await.unwrap(), Put::Invalid(_)));
}

mod builder {
    //! The webmail's rules, stored as Sieve, at delivery; hand edits kept.

    use super::*;
    use filter::{Action, Condition, Current, Field, Op, Rule, Saved};

    fn cond(field: Field, op: Op, value: &str) -> Condition {
        Condition { field, op, header: String::new(), value: value.into() }
    }

    fn rule(name: &str, conditions: Vec<Condition>, actions: Vec<Action>, stop: bool) -> Rule {
        Rule { name: name.into(), enabled: true, all: true, conditions, actions, stop }
    }

    fn with_attachment(subject: &str) -> Vec<u8> {
        format!(
            "From: Paul <paul.durand@ac-demo.fr>\r\nTo: claire.martin@ac-demo.fr\r\nSubject: {subject}\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
             Content-Type: text/plain\r\n\r\nCi-joint.\r\n--b\r\nContent-Type: application/pdf\r\n\
             Content-Disposition: attachment; filename=\"bulletin.pdf\"\r\n\r\n%PDF-1.4\r\n--b--\r\n"
        )
        .into_bytes()
    }

    fn spam(score: &str) -> Vec<u8> {
        format!("From: x@example.org\r\nX-Spam-Score: {score}\r\nSubject: Promo\r\n\r\nAchetez.\r\n").into_bytes()
    }

    #[tokio::test]
    async fn rules_made_in_the_webmail_file_mail() {
        let f = fixture().await;
        let rules = vec![
            rule(
                "Réunions",
                vec![cond(Field::Subject, Op::Contains, "réunion")],
                vec![Action::MoveTo("Réunions".into())],
                true,
            ),
            rule(
                "Pièces jointes",
                vec![cond(Field::Attachment, Op::Contains, "")],
                vec![Action::MarkRead, Action::Flag, Action::CopyTo("Avec PJ".into())],
                false,
            ),
            rule(
                "Spam",
                vec![cond(Field::SpamScore, Op::Over, "5")],
                vec![Action::MoveTo("Indésirables".into())],
                true,
            ),
        ];
        assert_eq!(f.filters.save_rules(f.claire.id, &rules, 0, false).await.unwrap(), Saved::Stored);
        let Current::Rules { rules: back, active: true, .. } = f.filters.current(f.claire.id).await.unwrap() else {
            panic!("the webmail's rules are in force");
        };
        assert_eq!(back, rules);

        f.deliver_to(&mail("Convocation : réunion du conseil"), &[&f.claire]).await;
        f.deliver_to(&with_attachment("Bulletins"), &[&f.claire]).await;
        f.deliver_to(&spam("12.5"), &[&f.claire]).await;
        f.deliver_to(&spam("2.1"), &[&f.claire]).await;
        assert_eq!(f.count(&f.claire, "Réunions").await, 1);
        assert_eq!(f.count(&f.claire, "Avec PJ").await, 1, "a copy of the mail with an attachment");
        assert_eq!(f.count(&f.claire, "Indésirables").await, 1, "12.5 >= 5, 2.1 is not");
        let inbox = f.ms.mailbox_named(f.claire.id, "INBOX").await.unwrap().unwrap();
        let rows = f.ms.messages(inbox.id).await.unwrap();
        assert_eq!(rows.len(), 2, "the bulletin and the low-score mail");
        let flagged = rows.iter().filter(|r| r.flags & (Flag::Seen.bit() | Flag::Flagged.bit()) != 0).count();
        assert_eq!(flagged, 1, "only the mail with an attachment is marked read and flagged");

        // Tried on the Inbox: only the mail with an attachment matches.
        let tried = f.filters.try_rule(f.claire.id, &rules[1], inbox.id).await.unwrap();
        let bulletin = rows.iter().find(|r| r.flags & Flag::Flagged.bit() != 0).unwrap();
        assert_eq!(tried, [bulletin.uid]);
    }

    #[tokio::test]
    async fn a_script_edited_by_hand_is_never_overwritten_unasked() {
        let f = fixture().await;
        let one = vec![rule("A", vec![cond(Field::From, Op::Is, "a@b.fr")], vec![Action::Flag], false)];
        assert_eq!(f.filters.save_rules(f.claire.id, &one, 0, false).await.unwrap(), Saved::Stored);
        let Current::Rules { revision, .. } = f.filters.current(f.claire.id).await.unwrap() else { panic!() };
        // Another tab saved meanwhile: the stale revision is refused.
        assert_eq!(f.filters.save_rules(f.claire.id, &[], revision, false).await.unwrap(), Saved::Stored);
        assert_eq!(f.filters.save_rules(f.claire.id, &one, revision, false).await.unwrap(), Saved::Changed);

        // Over ManageSieve, the owner edits the webmail's script by hand.
        let text = f.filters.get(f.claire.id, filter::rules::SCRIPT_NAME).await.unwrap().unwrap();
        let edited = format!("{text}# à moi\r\nkeep;\r\n");
        assert_eq!(f.filters.put(f.claire.id, filter::rules::SCRIPT_NAME, &edited).await.unwrap(), Put::Stored);
        let Current::Written { name, text, revision } = f.filters.current(f.claire.id).await.unwrap() else {
            panic!("a hand edit is recognised");
        };
        assert_eq!((name.as_str(), text.as_str()), (filter::rules::SCRIPT_NAME, edited.as_str()));
        assert_eq!(f.filters.save_rules(f.claire.id, &one, revision, false).await.unwrap(), Saved::WrittenByHand);
        assert_eq!(f.filters.get(f.claire.id, filter::rules::SCRIPT_NAME).await.unwrap().unwrap(), edited);

        // Another script made active: shown as text; replaced only when asked, and then kept.
        f.activate(&f.claire, REUNIONS).await;
        let Current::Written { name, revision, .. } = f.filters.current(f.claire.id).await.unwrap() else { panic!() };
        assert_eq!(name, "règles");
        let bad = f.filters.save_text(f.claire.id, "règles", "fileinto \"x\";", revision).await.unwrap();
        assert!(matches!(bad, Saved::Invalid(ref e) if e.line == 1), "{bad:?}");
        assert_eq!(f.filters.save_rules(f.claire.id, &one, revision, true).await.unwrap(), Saved::Stored);
        assert!(matches!(f.filters.current(f.claire.id).await.unwrap(), Current::Rules { active: true, .. }));
        assert_eq!(f.filters.get(f.claire.id, "règles").await.unwrap().as_deref(), Some(REUNIONS), "kept");
    }

    #[tokio::test]
    async fn forwarding_outside_follows_the_policy() {
        let f = fixture().await;
        let out = "require \"copy\";\r\nredirect :copy \"prof.perso@gmail.com\";\r\n";
        let Put::Forbidden(why) = f.filters.put(f.claire.id, "transfert", out).await.unwrap() else {
            panic!("refused at upload");
        };
        assert!(why.contains("gmail.com") && why.contains("interdit"), "{why}");
        assert_eq!(f.filters.forwarding_refusal(f.claire.id, out).await.unwrap(), Some(why));
        let inside = "redirect \"paul.durand@ac-demo.fr\";\r\n";
        assert_eq!(f.filters.put(f.claire.id, "interne", inside).await.unwrap(), Put::Stored);
        let forward = vec![rule(
            "Perso",
            vec![cond(Field::Subject, Op::Contains, "x")],
            vec![Action::Forward("a@gmail.com".into())],
            false,
        )];
        assert!(matches!(f.filters.save_rules(f.claire.id, &forward, 0, false).await.unwrap(), Saved::Forbidden(_)));

        let open = Filters::new(
            f.store.clone(),
            f.ms.clone(),
            FilterSettings { forwarding: filter::Forwarding::Anywhere, ..FilterSettings::default() },
        );
        assert_eq!(open.put(f.claire.id, "transfert", out).await.unwrap(), Put::Stored);
        let listed = Filters::new(
            f.store.clone(),
            f.ms.clone(),
            FilterSettings {
                forwarding: filter::Forwarding::Domains(vec![Domain::parse("education.gouv.fr").unwrap()]),
                ..FilterSettings::default()
            },
        );
        assert!(matches!(listed.put(f.claire.id, "t2", out).await.unwrap(), Put::Forbidden(_)));
        let to_listed = "redirect \"dgesco@education.gouv.fr\";\r\n";
        assert_eq!(listed.put(f.claire.id, "t3", to_listed).await.unwrap(), Put::Stored);

        // A unit's own policy wins over the installation's, for its accounts only.
        let unit = store::NewOrgUnit { parent: None, kind: model::OrgUnitKind::Academie, name: "A".into(), uai: None };
        let unit = f.store.create_org_unit(&unit).await.unwrap();
        let prof = store::NewAccount {
            address: Address::parse("prof@ac-demo.fr").unwrap(),
            org_unit: Some(unit),
            ..store::NewAccount {
                address: Address::parse("x@ac-demo.fr").unwrap(),
                login: None,
                display_name: "Prof".into(),
                role: Role::Teacher,
                status: AccountStatus::Active,
                quota_bytes: None,
                org_unit: None,
                password_hash: None,
            }
        };
        let prof = f.store.create_account(&prof).await.unwrap();
        f.store.set_forwarding_policy(unit, "anywhere", &[]).await.unwrap();
        assert_eq!(f.filters.put(prof.id, "transfert", out).await.unwrap(), Put::Stored);
        assert!(matches!(f.filters.put(f.claire.id, "transfert", out).await.unwrap(), Put::Forbidden(_)));
        assert_eq!(f.filters.forwarding_for(prof.id).await.unwrap(), filter::Forwarding::Anywhere);
    }
}

/// Administrators' scripts (per unit) run before each account's own.
mod admin {
    use super::*;
    use filter::SetAdmin;
    use model::OrgUnitKind;
    use store::NewOrgUnit;

    async fn in_unit(store: &Store, local: &str, unit: i64) -> Account {
        store
            .create_account(&NewAccount {
                address: Address::parse(&format!("{local}@ac-demo.fr")).unwrap(),
                login: None,
                display_name: local.replace('.', " "),
                role: Role::Teacher,
                status: AccountStatus::Active,
                quota_bytes: None,
                org_unit: Some(unit),
                password_hash: None,
            })
            .await
            .unwrap()
    }

    const DIFFUSIONS: &str = "require [\"fileinto\", \"mailbox\"];\r\n\
        if header :contains \"subject\" \"[DIFFUSION]\" {\r\n  fileinto :create \"Diffusions\";\r\n  stop;\r\n}\r\n\
        if header :contains \"subject\" \"[COPIE]\" {\r\n  fileinto :create \"Copies\";\r\n}\r\n";

    #[tokio::test]
    async fn the_units_script_runs_first_and_its_stop_ends_filtering() {
        let f = fixture().await;
        let unit = |name: &str, kind, parent| NewOrgUnit { parent, kind, name: name.into(), uai: None };
        let academie = f.store.create_org_unit(&unit("Académie", OrgUnitKind::Academie, None)).await.unwrap();
        let college =
            f.store.create_org_unit(&unit("Collège", OrgUnitKind::Etablissement, Some(academie))).await.unwrap();
        let prof = in_unit(&f.store, "prof.college", college).await;
        let agent = in_unit(&f.store, "agent.college", college).await;
        // Claire has no unit: the académie's script is not hers.
        f.activate(&prof, REUNIONS).await;
        assert!(matches!(f.filters.set_admin_script(academie, DIFFUSIONS).await.unwrap(), SetAdmin::Stored(1)));
        assert_eq!(f.filters.admin_script_of(prof.id).await.unwrap(), Some(academie));

        // `stop` in the administrators' script: the user's rule never runs.
        f.deliver_to(&mail("[DIFFUSION] réunion de rentrée"), &[&prof, &agent, &f.claire]).await;
        assert_eq!((f.count(&prof, "Diffusions").await, f.count(&prof, "Réunions").await), (1, 0));
        assert_eq!((f.count(&agent, "Diffusions").await, f.count(&agent, "INBOX").await), (1, 0), "no own script");
        assert_eq!((f.count(&f.claire, "INBOX").await, f.count(&f.claire, "Diffusions").await), (1, 0));

        // No match there: the user's own rules decide as before.
        f.deliver_to(&mail("Convocation : réunion"), &[&prof, &agent]).await;
        assert_eq!((f.count(&prof, "Réunions").await, f.count(&prof, "INBOX").await), (1, 0));
        assert_eq!(f.count(&agent, "INBOX").await, 1, "implicit keep");

        // A fileinto without stop, then the user's own: a copy in each, none in the Inbox.
        f.deliver_to(&mail("[COPIE] réunion"), &[&prof]).await;
        assert_eq!((f.count(&prof, "Copies").await, f.count(&prof, "Réunions").await), (1, 2));
        assert_eq!(f.count(&prof, "INBOX").await, 0);

        // The nearest unit's script replaces the académie's.
        let discard = "if header :contains \"subject\" \"[DIFFUSION]\" { discard; stop; }\r\n";
        f.filters.set_admin_script(college, discard).await.unwrap();
        f.deliver_to(&mail("[DIFFUSION] autre"), &[&prof]).await;
        assert_eq!(f.count(&prof, "Diffusions").await, 1, "discarded by the collège's script");
    }

    #[tokio::test]
    async fn a_bad_or_broken_administrators_script_never_costs_the_users_rules() {
        let f = fixture().await;
        let unit = NewOrgUnit { parent: None, kind: OrgUnitKind::Academie, name: "Académie".into(), uai: None };
        let academie = f.store.create_org_unit(&unit).await.unwrap();
        let prof = in_unit(&f.store, "prof.college", academie).await;
        f.activate(&prof, REUNIONS).await;

        let refused = f.filters.set_admin_script(academie, "require \"enotify\";\r\nkeep;\r\n").await.unwrap();
        assert!(
            matches!(&refused, SetAdmin::Invalid(e) if e.line == 1 && e.message.contains("enotify")),
            "{refused:?}"
        );
        // Compiles, but fails when it runs (a global script that does not exist),
        // after a redirect: the user's rules still file the message, the redirect is dropped.
        let failing = "require [\"include\"];\r\nredirect \"a@ac-demo.fr\";\r\ninclude :global \"absent\";\r\n";
        assert!(matches!(f.filters.set_admin_script(academie, failing).await.unwrap(), SetAdmin::Stored(_)));
        let out = f.deliver_to(&mail("réunion"), &[&prof]).await;
        assert_eq!(f.count(&prof, "Réunions").await, 1);
        assert!(out.follow_ups.is_empty(), "nothing of the failed run is kept: {:?}", out.follow_ups);
        // A text stored behind the domain's back that no longer compiles is skipped.
        f.store.set_admin_sieve_script(academie, "if true {").await.unwrap();
        f.deliver_to(&mail("autre réunion"), &[&prof]).await;
        assert_eq!(f.count(&prof, "Réunions").await, 2);
    }
}

/// The vacation reply is a Sieve script: set in Réglages, seen and edited
/// over ManageSieve, run at delivery before the user's own.
mod absence {
    use super::*;
    use filter::absence::{SCRIPT_NAME, parse, render};
    use store::{ScriptChange, Vacation};

    fn away(days: i64) -> Vacation {
        Vacation {
            enabled: true,
            subject: String::new(),
            body: "Je suis absente jusqu'au 4 janvier.".into(),
            starts_at: None,
            ends_at: None,
            interval_days: days,
        }
    }

    fn to_claire(subject: &str) -> Vec<u8> {
        let m = String::from_utf8(mail(subject)).unwrap();
        m.into_bytes()
    }

    #[tokio::test]
    async fn the_reply_is_a_script_both_ways() {
        let f = fixture().await;
        f.filters.set_vacation(f.claire.id, &away(7)).await.unwrap();
        let text = f.filters.get(f.claire.id, SCRIPT_NAME).await.unwrap().expect("the reply's script");
        assert_eq!(text, render(&away(7)));
        let listed = f.filters.list(f.claire.id).await.unwrap();
        assert_eq!(listed.iter().map(|s| (s.name.as_str(), s.active)).collect::<Vec<_>>(), [(SCRIPT_NAME, false)]);

        // Put back over ManageSieve in its own form: the setting follows.
        let edited = render(&away(2));
        assert_eq!(f.filters.put(f.claire.id, SCRIPT_NAME, &edited).await.unwrap(), Put::Stored);
        assert_eq!(f.ms.vacation(f.claire.id).await.unwrap().unwrap().interval_days, 2);
        // Edited by hand: refused with a reason, nothing changed.
        let hand = edited.replace("vacation :days 2", "vacation :days 2 :addresses [\"x@ac-demo.fr\"]");
        assert!(
            matches!(f.filters.put(f.claire.id, SCRIPT_NAME, &hand).await.unwrap(), Put::Invalid(e) if e.message.contains("réponse automatique"))
        );
        assert_eq!(parse(&f.filters.get(f.claire.id, SCRIPT_NAME).await.unwrap().unwrap()), Some(away(2)));
        // No other script may take its name; deleting it turns the reply off.
        f.activate(&f.claire, REUNIONS).await;
        assert_eq!(f.filters.rename(f.claire.id, "règles", SCRIPT_NAME).await.unwrap(), ScriptChange::Exists);
        assert_eq!(f.filters.delete(f.claire.id, SCRIPT_NAME).await.unwrap(), ScriptChange::Done);
        assert!(!f.ms.vacation(f.claire.id).await.unwrap().unwrap().enabled);
        // Switched off in Réglages: the script goes.
        f.filters.set_vacation(f.claire.id, &away(3)).await.unwrap();
        f.filters.set_vacation(f.claire.id, &Vacation { enabled: false, ..away(3) }).await.unwrap();
        assert_eq!(f.filters.get(f.claire.id, SCRIPT_NAME).await.unwrap(), None);
    }

    #[tokio::test]
    async fn delivery_runs_the_reply_before_the_users_rules_but_not_for_spam() {
        let f = fixture().await;
        f.activate(&f.claire, REUNIONS).await;
        f.filters.set_vacation(f.claire.id, &away(7)).await.unwrap();
        let out = f.deliver_to(&to_claire("Convocation : réunion"), &[&f.claire]).await;
        assert_eq!(f.count(&f.claire, "Réunions").await, 1, "her own rules still file it");
        let replies: Vec<_> = out.follow_ups.iter().filter(|u| matches!(u, FollowUp::Reply { .. })).collect();
        assert_eq!(replies.len(), 1, "{:?}", out.follow_ups);
        let FollowUp::Reply { reply, .. } = replies[0] else { unreachable!() };
        let text = String::from_utf8_lossy(&reply.message);
        assert!(text.contains("Je suis absente jusqu'au 4 janvier.") && reply.period_secs == 7 * 86_400, "{text}");
        assert_eq!(reply.to, "parent@example.org");

        let spam = Screening { junk: true, spamtest: 9, ..Screening::default() };
        let out = f.deliver_screened(&to_claire("Gagnez"), &[&f.claire], spam).await;
        assert!(out.follow_ups.is_empty(), "no reply to spam: {:?}", out.follow_ups);

        // Her own script answering too: one reply, her script's (it runs last).
        assert_eq!(f.filters.vacation_in_active_script(f.claire.id).await.unwrap(), None);
        let own = "require \"vacation\";\r\nvacation :days 1 \"Réponse de mon script.\";\r\n";
        f.activate(&f.claire, own).await;
        assert_eq!(f.filters.vacation_in_active_script(f.claire.id).await.unwrap().as_deref(), Some("règles"));
        let out = f.deliver_to(&to_claire("Question"), &[&f.claire]).await;
        let texts: Vec<String> = out
            .follow_ups
            .iter()
            .filter_map(|u| match u {
                FollowUp::Reply { reply, .. } => Some(String::from_utf8_lossy(&reply.message).into_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(texts.len(), 1, "one reply: {texts:?}");
        assert!(texts[0].contains("Réponse de mon script."), "{texts:?}");
        assert_eq!(f.count(&f.claire, "INBOX").await, 1);
    }

    #[tokio::test]
    async fn replies_set_before_they_were_scripts_get_theirs_at_start() {
        let f = fixture().await;
        f.ms.set_vacation(f.claire.id, &away(5)).await.unwrap();
        f.ms.set_vacation(f.paul.id, &Vacation { enabled: false, ..away(5) }).await.unwrap();
        assert_eq!(f.filters.script_older_vacations().await.unwrap(), 1);
        assert_eq!(f.filters.get(f.claire.id, SCRIPT_NAME).await.unwrap(), Some(render(&away(5))));
        assert_eq!(f.filters.get(f.paul.id, SCRIPT_NAME).await.unwrap(), None);
        assert_eq!(f.filters.script_older_vacations().await.unwrap(), 0, "idempotent");
    }
}
