//! The lists service against a real store, blob folder and transfer
//! service: dynamic lists over the directory, addresses unique among
//! accounts, aliases and lists, one copy per person, moderation, loops,
//! and outside members queued with the list's bounce address.

use std::collections::HashMap;
use std::sync::Arc;

use lists::{Lists, NewList, Outcome, PostPolicy, Poster, Query};
use mailstore::{Bytes, Mailstore};
use model::{AccountStatus, Address, Domain, OrgUnitId, OrgUnitKind, Role, Uai};
use store::{Account, NewAccount, NewOrgUnit, Store};

/// The web's public address the lists name in `List-Archive`.
const WEB: &str = "https://mail.ac-demo.fr";

struct Fixture {
    store: Store,
    lists: Arc<Lists>,
    school: OrgUnitId,
    dsden: OrgUnitId,
    _dir: tempfile::TempDir,
}

fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = Mailstore::new(store.clone(), blobs.clone());
    store.add_domain(&Domain::parse("ac-demo.fr").unwrap()).await.unwrap();
    let unit = |parent, kind, name: &str, uai: Option<&str>| NewOrgUnit {
        parent,
        kind,
        name: name.into(),
        uai: uai.map(|u| Uai::parse(u).unwrap()),
    };
    let root = store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Académie de démo", None)).await.unwrap();
    let dsden = store.create_org_unit(&unit(Some(root), OrgUnitKind::Dsden, "DSDEN 54", None)).await.unwrap();
    let school = store
        .create_org_unit(&unit(Some(dsden), OrgUnitKind::Etablissement, "Collège A", Some("0541234A")))
        .await
        .unwrap();
    let keys = mta::dkim::DkimKeys::load_or_create(&dir.path().join("dkim"), "s1", &["ac-demo.fr".into()]).unwrap();
    let limits = mta::limits::Limiter::new(
        mta::limits::RoleLimits { messages_per_hour: 1000, recipients_per_hour: 100_000 },
        HashMap::new(),
    );
    let mta = mta::Mta::new(ms, store.clone(), blobs.clone(), mta::OutboundSettings::default(), keys, limits);
    let lists = Lists::new(store.clone(), blobs, mta, lists::Limits::default(), Some(WEB.into()));
    Fixture { store, lists, school, dsden, _dir: dir }
}

impl Fixture {
    async fn person(&self, local: &str, role: Role, status: AccountStatus, unit: Option<OrgUnitId>) -> Account {
        self.store
            .create_account(&NewAccount {
                address: addr(&format!("{local}@ac-demo.fr")),
                login: None,
                display_name: local.replace('.', " "),
                role,
                status,
                quota_bytes: None,
                org_unit: unit,
                password_hash: None,
            })
            .await
            .unwrap()
    }

    async fn list(&self, address: &str, query: Option<Query>) -> Address {
        let address = addr(address);
        let new = NewList {
            address: address.clone(),
            name: String::new(),
            description: String::new(),
            query,
            discussion: false,
            tag: None,
        };
        self.lists.create(new).await.unwrap();
        address
    }

    /// A discussion group (its tag `[CDI]`), which archives by default.
    async fn discussion(&self, address: &str, query: Option<Query>) -> Address {
        let address = addr(address);
        let new = NewList {
            address: address.clone(),
            name: "CDI".into(),
            description: String::new(),
            query,
            discussion: true,
            tag: Some("CDI".into()),
        };
        assert!(self.lists.create(new).await.unwrap().archive);
        address
    }

    /// The blob of each message in an account's Inbox.
    async fn inbox_blobs(&self, account: &Account) -> Vec<model::BlobId> {
        let mb = self.store.mailbox_by_name(account.id, "INBOX").await.unwrap().unwrap();
        self.store.messages(mb.id).await.unwrap().into_iter().map(|m| m.blob_hash).collect()
    }

    /// The messages in an account's Inbox, as bytes.
    async fn inbox(&self, account: &Account) -> Vec<String> {
        let mb = self.store.mailbox_by_name(account.id, "INBOX").await.unwrap().unwrap();
        let mut out = Vec::new();
        for m in self.store.messages(mb.id).await.unwrap() {
            let bytes = self.lists_bytes(&m.blob_hash).await;
            out.push(bytes);
        }
        out
    }

    async fn lists_bytes(&self, blob: &model::BlobId) -> String {
        let path = self._dir.path().join("blobs");
        let b = blob::BlobStore::open(path).unwrap();
        String::from_utf8(b.get(blob).await.unwrap()).unwrap()
    }
}

fn mail(subject: &str) -> Bytes {
    Bytes::from(format!(
        "From: Parent <parent@example.org>\r\nTo: liste@ac-demo.fr\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@example.org>\r\n\r\nBonjour.\r\n"
    ))
}

#[tokio::test]
async fn a_dynamic_list_reaches_the_active_teachers_of_one_school_only() {
    let f = fixture().await;
    let school = Some(f.school);
    let active = f.person("t.active", Role::Teacher, AccountStatus::Active, school).await;
    let provisional = f.person("t.nouveau", Role::Teacher, AccountStatus::Provisional, school).await;
    let suspended = f.person("t.suspendu", Role::Teacher, AccountStatus::Suspended, school).await;
    let head = f.person("d.principal", Role::Direction, AccountStatus::Active, school).await;
    let pupil = f.person("e.eleve", Role::Student, AccountStatus::Active, school).await;
    let elsewhere = f.person("t.ailleurs", Role::Teacher, AccountStatus::Active, Some(f.dsden)).await;
    let teachers =
        f.list("enseignants.0541234a@ac-demo.fr", Some(Query { unit: f.school, role: Some(Role::Teacher) })).await;
    let staff = f.list("personnels.dsden54@ac-demo.fr", Some(Query { unit: f.dsden, role: None })).await;

    let out = f
        .lists
        .post(
            mail("conseil"),
            Poster::Envelope(Some(&addr("parent@example.org"))),
            std::slice::from_ref(&teachers),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(out, vec![(teachers.clone(), Outcome::Distributed { local: 2, remote: 0 })]);
    for (who, expected) in [(&active, 1), (&provisional, 1), (&suspended, 0), (&head, 0), (&pupil, 0), (&elsewhere, 0)]
    {
        assert_eq!(f.inbox(who).await.len(), expected, "{}", who.address);
    }
    let got = &f.inbox(&active).await[0];
    assert!(got.starts_with("List-Id: \"enseignants.0541234a\" <enseignants.0541234a.ac-demo.fr>\r\n"), "{got}");
    assert!(got.contains("List-Post: <mailto:enseignants.0541234a@ac-demo.fr>\r\nPrecedence: list\r\n"));

    // The DSDEN's staff: every role but students, the subtree included, not the suspended.
    let reach = f.lists.expand(&f.lists.get(&staff).await.unwrap()).await.unwrap();
    let mut expected = vec![active.id, provisional.id, head.id, elsewhere.id];
    expected.sort_unstable();
    assert_eq!(reach.local, expected);
}

#[tokio::test]
async fn list_addresses_are_unique_among_accounts_aliases_and_lists() {
    let f = fixture().await;
    let claire = f.person("claire.martin", Role::Teacher, AccountStatus::Active, None).await;
    f.store.add_alias(&addr("c.martin@ac-demo.fr"), claire.id).await.unwrap();
    for taken in ["claire.martin@ac-demo.fr", "c.martin@ac-demo.fr"] {
        let e = f.lists.create(NewList {
            address: addr(taken),
            name: String::new(),
            description: String::new(),
            query: None,
            discussion: false,
            tag: None,
        });
        assert!(matches!(e.await, Err(lists::Error::Conflict(_))), "{taken}");
    }
    let list = f.list("cdi@ac-demo.fr", None).await;
    assert!(matches!(f.store.add_alias(&list, claire.id).await, Err(store::Error::Conflict(_))));
    let again = NewAccount {
        address: list.clone(),
        login: None,
        display_name: "x".into(),
        role: Role::Teacher,
        status: AccountStatus::Active,
        quota_bytes: None,
        org_unit: None,
        password_hash: None,
    };
    assert!(matches!(f.store.create_account(&again).await, Err(store::Error::Conflict(_))));
    let (taken, _) = f.store.taken_names().await.unwrap();
    assert!(taken.contains_key("cdi@ac-demo.fr"), "the HR sync sees list addresses as taken");
    let elsewhere = NewList {
        address: addr("liste@example.org"),
        name: String::new(),
        description: String::new(),
        query: None,
        discussion: false,
        tag: None,
    };
    assert!(matches!(f.lists.create(elsewhere).await, Err(lists::Error::Invalid(_))));
    let bounces = NewList {
        address: addr("x-bounces@ac-demo.fr"),
        name: String::new(),
        description: String::new(),
        query: None,
        discussion: false,
        tag: None,
    };
    assert!(matches!(f.lists.create(bounces).await, Err(lists::Error::Invalid(_))));
    // A member on a local domain must reach someone.
    assert!(matches!(f.lists.add_member(&list, &addr("personne@ac-demo.fr")).await, Err(lists::Error::Invalid(_))));
}

#[tokio::test]
async fn one_copy_per_person_through_two_lists_nesting_and_direct_delivery() {
    let f = fixture().await;
    let claire = f.person("claire.martin", Role::Teacher, AccountStatus::Active, None).await;
    let paul = f.person("paul.durand", Role::Teacher, AccountStatus::Active, None).await;
    let a = f.list("a@ac-demo.fr", None).await;
    let b = f.list("b@ac-demo.fr", None).await;
    let me = f.list("moi@ac-demo.fr", None).await;
    f.lists.add_member(&a, &claire.address).await.unwrap();
    f.lists.add_member(&a, &b).await.unwrap();
    f.lists.add_member(&b, &claire.address).await.unwrap();
    f.lists.add_member(&b, &paul.address).await.unwrap();
    f.lists.add_member(&b, &a).await.unwrap();
    f.lists.add_member(&me, &me).await.unwrap();
    f.lists.add_member(&me, &paul.address).await.unwrap();

    let from = addr("parent@example.org");
    let out = f.lists.post(mail("deux"), Poster::Envelope(Some(&from)), &[a.clone(), b.clone()], &[]).await.unwrap();
    assert_eq!(
        out,
        vec![
            (a.clone(), Outcome::Distributed { local: 2, remote: 0 }),
            (b.clone(), Outcome::Distributed { local: 0, remote: 0 })
        ]
    );
    assert_eq!(f.inbox(&claire).await.len(), 1);
    assert_eq!(f.inbox(&paul).await.len(), 1);

    // A list in itself delivers once and ends; direct recipients are not served twice.
    f.lists.post(mail("soi"), Poster::Envelope(Some(&from)), std::slice::from_ref(&me), &[claire.id]).await.unwrap();
    assert_eq!(f.inbox(&paul).await.len(), 2);
    f.lists.post(mail("direct"), Poster::Envelope(Some(&from)), std::slice::from_ref(&me), &[paul.id]).await.unwrap();
    assert_eq!(f.inbox(&paul).await.len(), 2);

    let report = f.lists.report(&a).await.unwrap();
    assert_eq!(report.cycles, vec![vec![a.clone(), b.clone()]]);
    assert_eq!(f.lists.report(&me).await.unwrap().cycles, vec![vec![me.clone()]]);

    // What the list sent, coming back, is not expanded again.
    let sent = Bytes::from(f.inbox(&paul).await[0].clone());
    let back = f.lists.post(sent, Poster::Envelope(Some(&from)), std::slice::from_ref(&a), &[]).await.unwrap();
    assert_eq!(back, vec![(a.clone(), Outcome::Loop)]);
    // Nor does a bounce reach anyone.
    let bounce = f.lists.post(mail("dsn"), Poster::Envelope(None), std::slice::from_ref(&a), &[]).await.unwrap();
    assert_eq!(bounce, vec![(a, Outcome::Dropped)]);
    assert_eq!(f.inbox(&paul).await.len(), 2);
}

#[tokio::test]
async fn outside_members_are_queued_from_the_bounce_address() {
    let f = fixture().await;
    let list = f.list("parents@ac-demo.fr", None).await;
    f.lists.add_member(&list, &addr("parent.un@example.org")).await.unwrap();
    f.lists.add_member(&list, &addr("parent.deux@example.net")).await.unwrap();
    let out = f
        .lists
        .post(mail("sortie"), Poster::Envelope(Some(&addr("x@example.org"))), std::slice::from_ref(&list), &[])
        .await;
    assert_eq!(out.unwrap(), vec![(list, Outcome::Distributed { local: 0, remote: 2 })]);
    let entries = f.store.queue_entries().await.unwrap();
    assert_eq!(entries.len(), 1, "one queue entry for every outside member");
    assert_eq!(entries[0].sender, "parents-bounces@ac-demo.fr");
    let rcpts: Vec<String> =
        f.store.queued_recipients(entries[0].id).await.unwrap().into_iter().map(|r| r.rcpt).collect();
    assert_eq!(rcpts.len(), 2);
    let bytes = f.lists_bytes(&entries[0].blob).await;
    assert!(bytes.contains("List-Id: ") && bytes.contains("DKIM-Signature:"), "{bytes}");
    let bounces = f.lists.recipient(&addr("parents-bounces@ac-demo.fr")).await.unwrap();
    assert!(matches!(bounces, Some(lists::ListAddress::Bounces(_))));
}

#[tokio::test]
async fn moderation_holds_then_approves_or_refuses_and_the_sender_is_told() {
    let f = fixture().await;
    let claire = f.person("claire.martin", Role::Teacher, AccountStatus::Active, None).await;
    let paul = f.person("paul.durand", Role::Teacher, AccountStatus::Active, None).await;
    let modo = f.person("moderatrice", Role::Direction, AccountStatus::Active, None).await;
    let list = f.list("conseil@ac-demo.fr", None).await;
    f.lists.add_member(&list, &claire.address).await.unwrap();
    f.lists.set_policy(&list, PostPolicy::Members, &[]).await.unwrap();
    f.lists.set_moderator(&list, &modo.address, true).await.unwrap();

    // Paul is no member: held, nobody has it, the moderator is told.
    let out = f.lists.post(mail("question"), Poster::Account(&paul), std::slice::from_ref(&list), &[]).await.unwrap();
    let [(_, Outcome::Held(id))] = out.as_slice() else { panic!("{out:?}") };
    assert!(f.inbox(&claire).await.is_empty());
    let notice = f.inbox(&modo).await;
    assert_eq!(notice.len(), 1);
    assert!(notice[0].contains("Subject: =?utf-8?") || notice[0].contains("Subject: Mod"), "{}", notice[0]);
    assert_eq!(f.lists.held(&list).await.unwrap().len(), 1);
    assert_eq!(f.lists.held(&list).await.unwrap()[0].subject, "question");

    // Approved: distributed to the members, Paul told.
    assert_eq!(f.lists.approve(*id).await.unwrap(), Outcome::Distributed { local: 1, remote: 0 });
    assert_eq!(f.inbox(&claire).await.len(), 1);
    assert_eq!(f.inbox(&paul).await.len(), 1, "the approval notice");
    assert!(f.lists.held(&list).await.unwrap().is_empty());
    assert!(f.lists.approve(*id).await.is_err(), "decided once");

    // Claire, a member, posts directly.
    let out = f.lists.post(mail("membre"), Poster::Account(&claire), std::slice::from_ref(&list), &[]).await.unwrap();
    assert_eq!(out[0].1, Outcome::Distributed { local: 1, remote: 0 });

    // Refused: the sender hears why; nobody else gets anything.
    let out = f.lists.post(mail("hors-sujet"), Poster::Account(&paul), std::slice::from_ref(&list), &[]).await.unwrap();
    let Outcome::Held(id) = out[0].1 else { panic!() };
    f.lists.refuse(id, Some("hors sujet")).await.unwrap();
    let told = f.inbox(&paul).await;
    assert_eq!(told.len(), 2);
    assert!(told[1].contains("hors sujet"), "{}", told[1]);
    assert_eq!(f.inbox(&claire).await.len(), 2);

    // A suspended moderator is skipped: the académie's administrators
    // (here nobody: no admin@) are the fallback; a hold older than 14 days is refused.
    f.store.set_account_status(modo.id, AccountStatus::Suspended).await.unwrap();
    let out = f.lists.post(mail("tard"), Poster::Account(&paul), std::slice::from_ref(&list), &[]).await.unwrap();
    assert!(matches!(out[0].1, Outcome::Held(_)));
    assert_eq!(f.inbox(&modo).await.len(), 2, "no new notice to a suspended moderator");
    let now = time_now();
    assert_eq!(f.lists.sweep(now).await.unwrap(), 0);
    assert_eq!(f.lists.sweep(now + 15 * 24 * 3600).await.unwrap(), 1);
    assert_eq!(f.inbox(&paul).await.len(), 3);
}

/// Two moderators deciding the same post at once: one decision wins, the
/// other is told it is no longer waiting; the post goes out once at most
/// and the sender hears one answer (it used to go out twice: distributed
/// first, taken out of the queue after).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_moderators_at_once_decide_a_post_once() {
    let f = fixture().await;
    let claire = f.person("claire.martin", Role::Teacher, AccountStatus::Active, None).await;
    let paul = f.person("paul.durand", Role::Teacher, AccountStatus::Active, None).await;
    let (a, b) = (
        f.person("moderatrice", Role::Direction, AccountStatus::Active, None).await,
        f.person("moderateur", Role::Direction, AccountStatus::Active, None).await,
    );
    let list = f.list("conseil@ac-demo.fr", None).await;
    f.lists.add_member(&list, &claire.address).await.unwrap();
    f.lists.set_policy(&list, PostPolicy::Members, &[]).await.unwrap();
    f.lists.set_moderator(&list, &a.address, true).await.unwrap();
    f.lists.set_moderator(&list, &b.address, true).await.unwrap();
    let held = |subject: &'static str| {
        let f = &f;
        let paul = &paul;
        let list = &list;
        async move {
            let out =
                f.lists.post(mail(subject), Poster::Account(paul), std::slice::from_ref(list), &[]).await.unwrap();
            let Outcome::Held(id) = out[0].1 else { panic!("{out:?}") };
            id
        }
    };

    // Both approve.
    let id = held("deux fois ?").await;
    let (x, y) = tokio::join!(f.lists.approve_as(a.id, id), f.lists.approve_as(b.id, id));
    assert_eq!([&x, &y].iter().filter(|r| r.is_ok()).count(), 1, "exactly one approval wins: {x:?} {y:?}");
    assert!([&x, &y].iter().any(|r| matches!(r, Err(lists::Error::NotFound(_)))), "{x:?} {y:?}");
    assert_eq!(f.inbox(&claire).await.len(), 1, "distributed once");
    assert_eq!(f.inbox(&paul).await.len(), 1, "one notice to the sender");

    // One approves while the other refuses: whichever wins, the sender is
    // told what happened, and the post went out only if it was approved.
    let id = held("oui ou non ?").await;
    let (x, y) = tokio::join!(f.lists.approve_as(a.id, id), f.lists.refuse_as(b.id, id, Some("non")));
    assert!(x.is_ok() != y.is_ok(), "exactly one decision wins: {x:?} {y:?}");
    let told = f.inbox(&paul).await;
    assert_eq!(told.len(), 2, "one more notice");
    let copies = f.inbox(&claire).await.len();
    if x.is_ok() {
        assert_eq!(copies, 2, "approved: distributed");
        assert!(!told[1].contains("Motif / reason"), "{}", told[1]);
    } else {
        assert_eq!(copies, 1, "refused: not distributed");
        assert!(told[1].contains("Motif / reason : non"), "{}", told[1]);
    }
    assert!(f.lists.held(&list).await.unwrap().is_empty());
}

/// The webmail's moderation goes through `*_as`: only a named moderator
/// who may act now sees and decides a list's held posts; anyone else,
/// and the same moderator once suspended, is told they do not exist.
#[tokio::test]
async fn only_an_active_moderator_decides_from_the_webmail() {
    let f = fixture().await;
    let claire = f.person("claire.martin", Role::Teacher, AccountStatus::Active, None).await;
    let paul = f.person("paul.durand", Role::Teacher, AccountStatus::Active, None).await;
    let modo = f.person("moderatrice", Role::Direction, AccountStatus::Active, None).await;
    let list = f.list("conseil@ac-demo.fr", None).await;
    let other = f.list("autre@ac-demo.fr", None).await;
    f.lists.add_member(&list, &claire.address).await.unwrap();
    f.lists.set_policy(&list, PostPolicy::Members, &[]).await.unwrap();
    f.lists.set_moderator(&list, &modo.address, true).await.unwrap();
    f.lists.set_moderator(&other, &claire.address, true).await.unwrap();

    assert_eq!(f.lists.waiting_for(modo.id).await.unwrap(), Some(0));
    assert_eq!(f.lists.waiting_for(paul.id).await.unwrap(), None, "moderates nothing");
    let out = f.lists.post(mail("question"), Poster::Account(&paul), std::slice::from_ref(&list), &[]).await.unwrap();
    let Outcome::Held(id) = out[0].1 else { panic!("{out:?}") };
    assert_eq!(f.lists.waiting_for(modo.id).await.unwrap(), Some(1));
    assert_eq!(f.lists.waiting_for(claire.id).await.unwrap(), Some(0), "another list's moderator");
    let queue = f.lists.moderated_by(modo.id).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].0.address, list);
    assert_eq!(queue[0].1.iter().map(|h| h.id).collect::<Vec<_>>(), vec![id]);
    let (held, on, bytes) = f.lists.held_for(modo.id, id).await.unwrap();
    assert_eq!((held.subject.as_str(), &on.address), ("question", &list));
    assert!(String::from_utf8_lossy(&bytes).contains("Bonjour."));

    // Neither the sender, nor another list's moderator, may see or decide it.
    for who in [paul.id, claire.id] {
        assert!(matches!(f.lists.held_for(who, id).await, Err(lists::Error::NotFound(_))));
        assert!(matches!(f.lists.approve_as(who, id).await, Err(lists::Error::NotFound(_))));
        assert!(matches!(f.lists.refuse_as(who, id, None).await, Err(lists::Error::NotFound(_))));
    }
    assert_eq!(f.lists.held(&list).await.unwrap().len(), 1, "still held");

    // Suspended, the moderator can do nothing either.
    f.store.set_account_status(modo.id, AccountStatus::Suspended).await.unwrap();
    assert!(f.lists.moderated_by(modo.id).await.unwrap().is_empty());
    assert_eq!(f.lists.waiting_for(modo.id).await.unwrap(), None);
    assert!(matches!(f.lists.approve_as(modo.id, id).await, Err(lists::Error::NotFound(_))));
    assert!(f.inbox(&claire).await.is_empty());

    // Active again: approved, distributed, the sender told.
    f.store.set_account_status(modo.id, AccountStatus::Active).await.unwrap();
    assert_eq!(f.lists.approve_as(modo.id, id).await.unwrap(), Outcome::Distributed { local: 1, remote: 0 });
    assert_eq!(f.inbox(&claire).await.len(), 1);
    assert_eq!(f.inbox(&paul).await.len(), 1, "the approval notice");
    assert_eq!(f.lists.waiting_for(modo.id).await.unwrap(), Some(0));

    // Refused with a reason.
    let out = f.lists.post(mail("hors-sujet"), Poster::Account(&paul), std::slice::from_ref(&list), &[]).await.unwrap();
    let Outcome::Held(id) = out[0].1 else { panic!() };
    f.lists.refuse_as(modo.id, id, Some("hors sujet")).await.unwrap();
    let told = f.inbox(&paul).await;
    assert!(told[1].contains("hors sujet"), "{}", told[1]);
    assert_eq!(f.inbox(&claire).await.len(), 1);
}

fn time_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// « Local staff » means the list's académie: a teacher of another
/// académie in the same installation posting to a collège's list through
/// submission is held for the moderators. A static list belongs to the
/// académies that use its domain: its members come from them only.
#[tokio::test]
async fn local_staff_means_the_lists_academie() {
    let f = fixture().await;
    let unit = |parent, kind, name: &str| NewOrgUnit { parent, kind, name: name.into(), uai: None };
    let other = f.store.create_org_unit(&unit(None, OrgUnitKind::Academie, "Autre académie")).await.unwrap();
    let lycee = f.store.create_org_unit(&unit(Some(other), OrgUnitKind::Etablissement, "Lycée")).await.unwrap();
    let jean = f.person("jean.martin", Role::Teacher, AccountStatus::Active, Some(f.school)).await;
    let marc = f.person("marc.blanc", Role::Teacher, AccountStatus::Active, Some(lycee)).await;
    let teachers =
        f.list("enseignants.0541234a@ac-demo.fr", Some(Query { unit: f.school, role: Some(Role::Teacher) })).await;
    f.lists.set_policy(&teachers, PostPolicy::Local, &[]).await.unwrap();

    let out = f.lists.post(mail("jean"), Poster::Account(&jean), std::slice::from_ref(&teachers), &[]).await.unwrap();
    assert_eq!(out[0].1, Outcome::Distributed { local: 1, remote: 0 });
    let out = f.lists.post(mail("marc"), Poster::Account(&marc), std::slice::from_ref(&teachers), &[]).await.unwrap();
    assert!(matches!(out[0].1, Outcome::Held(_)), "{out:?}");
    assert_eq!(f.inbox(&jean).await.len(), 1, "Marc's post waits for a moderator");

    // A static list on ac-demo.fr, which both académies use: both may be members.
    let conseil = f.list("conseil@ac-demo.fr", None).await;
    assert!(f.lists.add_member(&conseil, &jean.address).await.unwrap());
    assert!(f.lists.add_member(&conseil, &marc.address).await.unwrap());
    // A static list on a domain only the other académie uses: Jean is refused, its own staff are not.
    f.store.add_domain(&Domain::parse("ac-autre.fr").unwrap()).await.unwrap();
    let luc = f
        .store
        .create_account(&NewAccount {
            address: addr("luc.roux@ac-autre.fr"),
            login: None,
            display_name: "Luc Roux".into(),
            role: Role::Teacher,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: Some(lycee),
            password_hash: None,
        })
        .await
        .unwrap();
    let autre = f.list("profs@ac-autre.fr", None).await;
    assert!(f.lists.add_member(&autre, &luc.address).await.unwrap());
    let refused = f.lists.add_member(&autre, &jean.address).await.unwrap_err().to_string();
    assert!(refused.contains("autre académie"), "{refused}");
    // A dynamic list's académie is its unit's: the other académie's staff are outside it.
    let scope = f.store.list_scope(&f.lists.get(&teachers).await.unwrap()).await.unwrap();
    assert!(f.store.in_scope(&jean, &scope).await.unwrap());
    assert!(!f.store.in_scope(&marc, &scope).await.unwrap());
}

/// The `List-Archive` fields of a message (unfolded values).
fn archive_fields(message: &str) -> Vec<&str> {
    let head = message.split("\r\n\r\n").next().unwrap_or_default();
    head.split("\r\n").filter_map(|l| l.strip_prefix("List-Archive: ")).collect()
}

#[tokio::test]
async fn a_discussion_post_is_archived_once_with_one_blob_for_every_member() {
    let f = fixture().await;
    let claire = f.person("claire.martin", Role::Teacher, AccountStatus::Active, None).await;
    let paul = f.person("paul.durand", Role::Teacher, AccountStatus::Active, None).await;
    let modo = f.person("moderatrice", Role::Direction, AccountStatus::Active, None).await;
    let outsider = f.person("eve.dehors", Role::Teacher, AccountStatus::Active, None).await;
    let cdi = f.discussion("cdi@ac-demo.fr", None).await;
    f.lists.add_member(&cdi, &claire.address).await.unwrap();
    f.lists.add_member(&cdi, &paul.address).await.unwrap();
    f.lists.set_moderator(&cdi, &modo.address, true).await.unwrap();

    let from = addr("parent@example.org");
    let out = f.lists.post(mail("sortie"), Poster::Envelope(Some(&from)), std::slice::from_ref(&cdi), &[]).await;
    assert_eq!(out.unwrap(), vec![(cdi.clone(), Outcome::Distributed { local: 2, remote: 0 })]);

    // Members got it with the archive's address, once, in angle brackets.
    let got = &f.inbox(&claire).await[0];
    assert_eq!(archive_fields(got), ["<https://mail.ac-demo.fr/listes/cdi@ac-demo.fr/archives>"], "{got}");
    assert!(got.contains("Subject: [CDI] sortie\r\n"), "{got}");

    // Archived once, as the members got it: the same blob, one reference more.
    let page = f.lists.archive_page(claire.id, &cdi, None, 50).await.unwrap();
    assert_eq!((page.total, page.posts.len(), page.older), (1, 1, None));
    let post = &page.posts[0];
    assert_eq!((post.subject.as_str(), post.from.as_str()), ("[CDI] sortie", "Parent <parent@example.org>"));
    assert_eq!(post.message_id, "sortie@example.org");
    let blob = f.inbox_blobs(&claire).await[0].clone();
    assert_eq!(post.blob, blob);
    assert_eq!(f.inbox_blobs(&paul).await[0], blob);
    assert_eq!(f.store.blob_meta(&blob).await.unwrap().unwrap().refcount, 3, "two members and the archive");
    let (_, _, bytes) = f.lists.archived_for(paul.id, &cdi, post.id).await.unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap(), *got);

    // The same message posted again (a retry) is not archived twice.
    f.lists.post(mail("sortie"), Poster::Envelope(Some(&from)), std::slice::from_ref(&cdi), &[]).await.unwrap();
    assert_eq!(f.lists.archive_page(claire.id, &cdi, None, 50).await.unwrap().total, 1);
    f.lists.post(mail("cantine"), Poster::Account(&claire), std::slice::from_ref(&cdi), &[]).await.unwrap();
    let page = f.lists.archive_page(modo.id, &cdi, None, 1).await.unwrap();
    assert_eq!((page.total, page.posts[0].subject.as_str()), (2, "[CDI] cantine"), "the moderator reads, newest first");
    let older = f.lists.archive_page(modo.id, &cdi, page.older, 1).await.unwrap();
    assert_eq!((older.posts[0].id, older.older), (post.id, None));

    // Anyone else: as if the list did not exist.
    for (who, address) in [(outsider.id, &cdi), (claire.id, &addr("inconnue@ac-demo.fr"))] {
        let e = f.lists.archive_page(who, address, None, 50).await.unwrap_err();
        assert!(matches!(e, lists::Error::NotFound(_)), "{e:?}");
    }
    assert!(matches!(f.lists.archived_for(outsider.id, &cdi, post.id).await, Err(lists::Error::NotFound(_))));
    // A member no longer: gone too; a suspended moderator reads nothing.
    f.lists.remove_member(&cdi, &paul.address).await.unwrap();
    assert!(matches!(f.lists.archived_for(paul.id, &cdi, post.id).await, Err(lists::Error::NotFound(_))));
    f.store.set_account_status(modo.id, AccountStatus::Suspended).await.unwrap();
    assert!(matches!(f.lists.archive_page(modo.id, &cdi, None, 5).await, Err(lists::Error::NotFound(_))));

    // Deleting the list releases the archive's references.
    let report = f.lists.report(&cdi).await.unwrap();
    assert_eq!((report.list.archive, report.archived), (true, 2));
    let refs = f.store.blob_meta(&blob).await.unwrap().unwrap().refcount;
    f.lists.delete(&cdi).await.unwrap();
    assert_eq!(f.store.blob_meta(&blob).await.unwrap().unwrap().refcount, refs - 1, "the members' copies only");
}

#[tokio::test]
async fn an_institutional_list_archives_nothing_until_switched_on() {
    let f = fixture().await;
    let school = Some(f.school);
    let teacher = f.person("t.prof", Role::Teacher, AccountStatus::Active, school).await;
    let head = f.person("d.principal", Role::Direction, AccountStatus::Active, school).await;
    let staff = f.list("personnels@ac-demo.fr", Some(Query { unit: f.school, role: None })).await;

    f.lists.post(mail("note"), Poster::Account(&head), std::slice::from_ref(&staff), &[]).await.unwrap();
    let got = &f.inbox(&teacher).await[0];
    assert!(archive_fields(got).is_empty() && got.contains("List-Post: <mailto:personnels@ac-demo.fr>"), "{got}");
    let page = f.lists.archive_page(teacher.id, &staff, None, 50).await.unwrap();
    assert_eq!((page.list.archive, page.total), (false, 0), "a member reads an empty archive");

    // Switched on: the next post is archived and named; off again: neither.
    f.lists.set_archive(&staff, true).await.unwrap();
    f.lists.post(mail("circulaire"), Poster::Account(&head), std::slice::from_ref(&staff), &[]).await.unwrap();
    let got = &f.inbox(&teacher).await[1];
    assert_eq!(archive_fields(got), ["<https://mail.ac-demo.fr/listes/personnels@ac-demo.fr/archives>"]);
    f.lists.set_archive(&staff, false).await.unwrap();
    f.lists.post(mail("rappel"), Poster::Account(&head), std::slice::from_ref(&staff), &[]).await.unwrap();
    assert!(archive_fields(&f.inbox(&teacher).await[2]).is_empty());
    let page = f.lists.archive_page(head.id, &staff, None, 50).await.unwrap();
    assert_eq!(page.posts.iter().map(|p| p.subject.as_str()).collect::<Vec<_>>(), ["circulaire"], "kept when off");

    // A dynamic discussion group: read by whom its query finds, now.
    let teachers = f.discussion("profs@ac-demo.fr", Some(Query { unit: f.school, role: Some(Role::Teacher) })).await;
    f.lists.post(mail("salle"), Poster::Account(&teacher), std::slice::from_ref(&teachers), &[]).await.unwrap();
    assert_eq!(f.lists.archive_page(teacher.id, &teachers, None, 50).await.unwrap().total, 1);
    assert!(matches!(f.lists.archive_page(head.id, &teachers, None, 50).await, Err(lists::Error::NotFound(_))));
    f.store.set_account_status(teacher.id, AccountStatus::Suspended).await.unwrap();
    assert!(matches!(f.lists.archive_page(teacher.id, &teachers, None, 50).await, Err(lists::Error::NotFound(_))));
}
