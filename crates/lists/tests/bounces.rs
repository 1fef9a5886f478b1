//! Delivery reports about a list's outside copies (issue 22): the queue
//! runner, with the lists service installed as its report route, against a
//! scripted remote server on loopback that refuses `inconnu*` recipients
//! with `550 5.1.1`. The report reaches the list's moderators (or the
//! académie's administrators) and nobody else, once per posting; an
//! ordinary account's bounce still goes to that account; no report about a
//! report.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use lists::{Lists, NewList, Outcome, Poster};
use mailstore::{Bytes, Mailstore};
use model::{AccountStatus, Address, Domain, Role};
use mta::route::Router;
use mta::{Mta, OutboundSettings, Submission};
use store::{Account, NewAccount, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The recipients the fake server accepted, one list per transaction.
type Accepted = Arc<Mutex<Vec<Vec<String>>>>;

/// A remote server that refuses `inconnu*` with 550 5.1.1 and takes the rest.
async fn remote_server() -> (SocketAddr, Accepted) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted: Accepted = Arc::default();
    let log = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let log = log.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read);
                write.write_all(b"220 mx.exterieur.example ESMTP\r\n").await.unwrap();
                let mut rcpts = Vec::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-mx.exterieur.example\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT") {
                        let rcpt = line[line.find('<').unwrap() + 1..line.find('>').unwrap()].to_owned();
                        if rcpt.starts_with("inconnu") {
                            b"550 5.1.1 utilisateur inconnu\r\n"
                        } else {
                            rcpts.push(rcpt);
                            b"250 2.1.5 ok\r\n"
                        }
                    } else if upper.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        loop {
                            let mut data = Vec::new();
                            if lines.read_until(b'\n', &mut data).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if data == b".\r\n" {
                                break;
                            }
                        }
                        log.lock().unwrap().push(std::mem::take(&mut rcpts));
                        b"250 2.0.0 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
                        return;
                    } else {
                        b"250 2.0.0 ok\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (addr, accepted)
}

struct Fixture {
    store: Store,
    blobs: blob::BlobStore,
    mta: Arc<Mta>,
    lists: Arc<Lists>,
    router: Arc<Router>,
    accepted: Accepted,
    _dir: tempfile::TempDir,
}

fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

/// A store with `ac-demo.fr`, a transfer agent whose only route is the
/// fake server for `exterieur.example` (no DNS: other domains wait), and
/// the lists service installed as its report route, as the binary does.
async fn fixture(settings: OutboundSettings) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&Domain::parse("ac-demo.fr").unwrap()).await.unwrap();
    let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = Mailstore::new(store.clone(), blobs.clone());
    let (remote, accepted) = remote_server().await;
    let overrides: HashMap<String, Vec<SocketAddr>> = [("exterieur.example".to_owned(), vec![remote])].into();
    let settings = OutboundSettings {
        hostname: "mx.ac-demo.fr".into(),
        mx_override: overrides.clone(),
        timeout: std::time::Duration::from_secs(10),
        ..settings
    };
    let keys = mta::dkim::DkimKeys::load_or_create(&dir.path().join("dkim"), "s1", &["ac-demo.fr".into()]).unwrap();
    let limits = mta::limits::Limiter::new(
        mta::limits::RoleLimits { messages_per_hour: 1000, recipients_per_hour: 100_000 },
        HashMap::new(),
    );
    let mta = Mta::new(ms, store.clone(), blobs.clone(), settings, keys, limits);
    let lists = Lists::new(store.clone(), blobs.clone(), mta.clone(), lists::Limits::default(), None);
    mta.set_report_route(&lists);
    let router = Arc::new(Router::new(overrides, 25, false));
    Fixture { store, blobs, mta, lists, router, accepted, _dir: dir }
}

impl Fixture {
    async fn person(&self, local: &str, role: Role) -> Account {
        self.store
            .create_account(&NewAccount {
                address: addr(&format!("{local}@ac-demo.fr")),
                login: None,
                display_name: local.replace('.', " "),
                role,
                status: AccountStatus::Active,
                quota_bytes: None,
                org_unit: None,
                password_hash: None,
            })
            .await
            .unwrap()
    }

    /// A static list with these members.
    async fn list(&self, address: &str, members: &[&Address]) -> Address {
        let address = addr(address);
        let new = NewList {
            address: address.clone(),
            name: "Parents d'élèves".into(),
            description: String::new(),
            query: None,
            discussion: false,
            tag: None,
        };
        self.lists.create(new).await.unwrap();
        for m in members {
            self.lists.add_member(&address, m).await.unwrap();
        }
        address
    }

    /// The messages in an account's Inbox.
    async fn inbox(&self, account: &Account) -> Vec<String> {
        let mb = self.store.mailbox_by_name(account.id, "INBOX").await.unwrap().unwrap();
        let mut out = Vec::new();
        for m in self.store.messages(mb.id).await.unwrap() {
            out.push(String::from_utf8(self.blobs.get(&m.blob_hash).await.unwrap()).unwrap());
        }
        out
    }

    async fn drain(&self) {
        mta::runner::drain(&self.mta, &self.router).await.unwrap();
    }
}

fn mail(subject: &str) -> Bytes {
    Bytes::from(format!(
        "From: Claire Martin <claire.martin@ac-demo.fr>\r\nTo: parents@ac-demo.fr\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@ac-demo.fr>\r\n\r\nBonjour.\r\n"
    ))
}

/// The `message/delivery-status` part of a report.
fn status_part(report: &str) -> &str {
    report.split("Content-Type: message/delivery-status").nth(1).unwrap().split("text/rfc822-headers").next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_outside_copy_is_reported_to_the_moderators_and_nobody_else() {
    let f = fixture(OutboundSettings::default()).await;
    let claire = f.person("claire.martin", Role::Teacher).await;
    let paul = f.person("paul.durand", Role::Teacher).await;
    let modo = f.person("moderatrice", Role::Direction).await;
    let admin = f.person("admin", Role::Admin).await;
    let (refused, taken) = (addr("inconnu@exterieur.example"), addr("parent@exterieur.example"));
    let list = f.list("parents@ac-demo.fr", &[&claire.address, &paul.address, &refused, &taken]).await;
    f.lists.set_moderator(&list, &modo.address, true).await.unwrap();

    let out = f.lists.post(mail("kermesse"), Poster::Account(&claire), std::slice::from_ref(&list), &[]).await;
    assert_eq!(out.unwrap(), vec![(list.clone(), Outcome::Distributed { local: 2, remote: 2 })]);
    f.drain().await;

    assert_eq!(*f.accepted.lock().unwrap(), vec![vec![taken.to_string()]], "the accepted member got it once");
    assert!(f.store.queue_entries().await.unwrap().is_empty(), "the entry is done");
    let reports = f.inbox(&modo).await;
    assert_eq!(reports.len(), 1, "one report for the moderator");
    let report = &reports[0];
    assert!(report.contains("Content-Type: multipart/report; report-type=delivery-status;"), "{report}");
    assert!(report.contains("Subject: Message non remis (liste parents@ac-demo.fr)"), "{report}");
    assert!(report.contains("Un message diffusé par la liste parents@ac-demo.fr"), "{report}");
    assert!(report.contains("To: <parents-bounces@ac-demo.fr>\r\n"), "{report}");
    let status = status_part(report);
    assert!(
        status.contains("Final-Recipient: rfc822; inconnu@exterieur.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"),
        "{status}"
    );
    assert!(!status.contains("parent@exterieur.example"), "the delivered member is not reported: {status}");
    assert!(report.contains("Subject: kermesse"), "the original header is quoted");
    // The poster and the members have the list's copy only; the académie's
    // administrator (the fallback) nothing, since the list has a moderator.
    for account in [&claire, &paul] {
        let inbox = f.inbox(account).await;
        assert_eq!(inbox.len(), 1, "{}", account.address);
        assert!(!inbox[0].contains("multipart/report"), "{}", inbox[0]);
    }
    assert!(f.inbox(&admin).await.is_empty());

    // An ordinary account's failed message still bounces to that account.
    let rcpt = [addr("inconnu.bis@exterieur.example")];
    let message = b"From: <claire.martin@ac-demo.fr>\r\nSubject: directe\r\n\r\nBonjour.\r\n".to_vec();
    let sub = Submission { account: &claire, mail_from: Some(&claire.address), recipients: &rcpt, message };
    f.mta.submit(sub).await.unwrap();
    f.drain().await;
    let inbox = f.inbox(&claire).await;
    assert_eq!(inbox.len(), 2);
    assert!(inbox[1].contains("Subject: Message non remis / Undelivered mail returned to sender"), "{}", inbox[1]);
    assert!(status_part(&inbox[1]).contains("inconnu.bis@exterieur.example"), "{}", inbox[1]);
    assert_eq!(f.inbox(&modo).await.len(), 1, "nothing more for the moderator");
    assert!(f.inbox(&admin).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_moderators_the_administrators_get_one_warning_and_one_report_per_posting() {
    // Warned at the first attempt; failures gathered until the entry is done.
    let settings = OutboundSettings { delay_warning: std::time::Duration::ZERO, ..OutboundSettings::default() };
    let f = fixture(settings).await;
    let admin = f.person("admin", Role::Admin).await;
    let claire = f.person("claire.martin", Role::Teacher).await;
    let (refused, waiting) = (addr("inconnu@exterieur.example"), addr("personne@sans-route.example"));
    let list = f.list("parents@ac-demo.fr", &[&claire.address, &refused, &waiting]).await;
    let poster = addr("parent@example.org");
    let out = f.lists.post(mail("sortie"), Poster::Envelope(Some(&poster)), std::slice::from_ref(&list), &[]).await;
    assert_eq!(out.unwrap()[0].1, Outcome::Distributed { local: 1, remote: 2 });

    // First attempt: one refused for good, one waiting (no route). Only
    // the delay warning goes out, about the waiting one.
    f.drain().await;
    let reports = f.inbox(&admin).await;
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("Subject: Message retardé (liste parents@ac-demo.fr)"), "{}", reports[0]);
    let status = status_part(&reports[0]);
    assert!(status.contains("Final-Recipient: rfc822; personne@sans-route.example\r\nAction: delayed\r\n"), "{status}");
    assert!(!status.contains("inconnu@"), "{status}");

    // More attempts: no second warning, the failure still gathered.
    let entry = f.store.queue_entries().await.unwrap()[0].id;
    for _ in 0..2 {
        f.store.retry_now(entry, None).await.unwrap();
        f.drain().await;
    }
    assert_eq!(f.inbox(&admin).await.len(), 1);

    // At expiry: one failure report for both.
    f.store.retry_now(entry, Some(1)).await.unwrap();
    f.drain().await;
    assert!(f.store.queue_entries().await.unwrap().is_empty());
    let reports = f.inbox(&admin).await;
    assert_eq!(reports.len(), 2);
    let status = status_part(&reports[1]);
    assert!(status.contains("Final-Recipient: rfc822; inconnu@exterieur.example\r\nAction: failed\r\nStatus: 5.1.1"));
    assert!(status.contains("Final-Recipient: rfc822; personne@sans-route.example\r\nAction: failed\r\n"), "{status}");
    assert!(reports[1].contains("Subject: Message non remis (liste parents@ac-demo.fr)"));
    assert_eq!(f.inbox(&claire).await.len(), 1, "the member has the copy only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_report_about_a_report() {
    let f = fixture(OutboundSettings::default()).await;
    let modo = f.person("moderatrice", Role::Direction).await;
    let list = f.list("parents@ac-demo.fr", &[&addr("inconnu@exterieur.example")]).await;
    f.lists.set_moderator(&list, &modo.address, true).await.unwrap();
    // A delivery report that some outside robot sent with its own address.
    let dsn = Bytes::from_static(
        b"From: robot@example.org\r\nTo: parents@ac-demo.fr\r\nSubject: Undelivered\r\n\
          Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
          --b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n",
    );
    let robot = addr("robot@example.org");
    let out = f.lists.post(dsn, Poster::Envelope(Some(&robot)), std::slice::from_ref(&list), &[]).await.unwrap();
    assert_eq!(out[0].1, Outcome::Distributed { local: 0, remote: 1 });
    f.drain().await;
    assert!(f.store.queue_entries().await.unwrap().is_empty(), "refused for good");
    assert!(f.inbox(&modo).await.is_empty(), "no report about a report");
}

/// Issue 22's bad input: a posting whose 500 outside members, on 500
/// domains, are all down (a closed port). The moderator gets one delay
/// warning and, at expiry, one failure report naming the 500: two
/// messages for the posting however many attempts it took.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_outside_members_down_make_one_warning_and_one_report() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let domains: Vec<String> = (0..500).map(|i| format!("famille{i:03}.example")).collect();
    let settings = OutboundSettings { delay_warning: std::time::Duration::ZERO, ..OutboundSettings::default() };
    let mut f = fixture(settings).await;
    let overrides: HashMap<String, Vec<SocketAddr>> = domains.iter().map(|d| (d.clone(), vec![closed])).collect();
    f.router = Arc::new(Router::new(overrides, 25, false));
    let modo = f.person("moderatrice", Role::Direction).await;
    let outside: Vec<Address> = domains.iter().map(|d| addr(&format!("parent@{d}"))).collect();
    let members: Vec<&Address> = outside.iter().collect();
    let list = f.list("parents@ac-demo.fr", &members).await;
    f.lists.set_moderator(&list, &modo.address, true).await.unwrap();
    let poster = addr("parent@example.org");
    f.lists.post(mail("circulaire"), Poster::Envelope(Some(&poster)), std::slice::from_ref(&list), &[]).await.unwrap();
    let entries = f.store.queue_entries().await.unwrap();
    assert_eq!(entries.len(), 1, "one entry for the 500");

    for _ in 0..3 {
        f.store.retry_now(entries[0].id, None).await.unwrap();
        f.drain().await;
    }
    let reports = f.inbox(&modo).await;
    assert_eq!(reports.len(), 1, "one delay warning after three attempts");
    assert_eq!(status_part(&reports[0]).matches("Action: delayed").count(), 500);

    f.store.retry_now(entries[0].id, Some(1)).await.unwrap();
    f.drain().await;
    assert!(f.store.queue_entries().await.unwrap().is_empty());
    let reports = f.inbox(&modo).await;
    assert_eq!(reports.len(), 2, "and one failure report at expiry");
    assert_eq!(status_part(&reports[1]).matches("Action: failed").count(), 500);
}

/// A member's rules refused the list's local copy after it was accepted: the
/// refusal report goes to the envelope sender, `<list>-bounces@`, which no
/// account holds; the report route gives it to the moderators, naming the
/// list. Before, it was dropped as « an unknown local sender ».
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_rules_refusal_is_reported_to_the_moderators() {
    let f = fixture(OutboundSettings::default()).await;
    let claire = f.person("claire.martin", Role::Teacher).await;
    let paul = f.person("paul.durand", Role::Teacher).await;
    let modo = f.person("moderatrice", Role::Direction).await;
    let list = f.list("parents@ac-demo.fr", &[&claire.address, &paul.address]).await;
    f.lists.set_moderator(&list, &modo.address, true).await.unwrap();

    let bounces = lists::bounce_address(&list);
    let refused = [(paul.address.to_string(), "Je ne lis pas cette liste".to_owned())];
    f.mta.report_refusals(&bounces, &refused, &mail("kermesse"), 1_790_000_000).await.unwrap();

    let reports = f.inbox(&modo).await;
    assert_eq!(reports.len(), 1, "one report for the moderator");
    assert!(reports[0].contains("Subject: Message non remis (liste parents@ac-demo.fr)"), "{}", reports[0]);
    let status = status_part(&reports[0]);
    assert!(status.contains("Final-Recipient: rfc822; paul.durand@ac-demo.fr\r\nAction: failed\r\n"), "{status}");
    assert!(status.contains("Je ne lis pas cette liste"), "{status}");
    assert!(f.inbox(&claire).await.is_empty() && f.inbox(&paul).await.is_empty());
}
