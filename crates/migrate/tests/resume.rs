//! A source that drops the connection in the middle of a FETCH: what was
//! delivered before stays, recorded in the map; the rest is reported failed
//! with the reason; the next run copies exactly the rest. The source is a
//! tiny fake server (the one case not run against Dovecot: Dovecot cannot be
//! told to hang up half-way through a literal).

use std::sync::Arc;

use mailstore::Mailstore;
use migrate::from_imap::{self, AccountJob, Options, Source};
use migrate::imap::client::tls_config;
use migrate::imap::proto::format_internal_date;
use migrate::{Outcome, Security};
use model::{AccountStatus, Address, Domain, Role};
use store::{NewAccount, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

fn message(uid: u32) -> Vec<u8> {
    format!("Message-ID: <m{uid}@source>\r\nSubject: n{uid}\r\n\r\nCorps {uid}, é.\r\n").into_bytes()
}

const DATE: i64 = 1_700_000_000;

/// Serves one connection; with `drop_at`, hangs up inside the body of that
/// many'th message sent.
async fn fake_source(listener: TcpListener, drop_at: Option<usize>) {
    let (sock, _) = listener.accept().await.unwrap();
    let (r, mut w) = sock.into_split();
    let mut lines = BufReader::new(r).lines();
    w.write_all(b"* OK fake IMAP ready\r\n").await.unwrap();
    let mut sent = 0;
    while let Ok(Some(line)) = lines.next_line().await {
        let (tag, rest) = line.split_once(' ').unwrap();
        let upper = rest.to_ascii_uppercase();
        let mut out: Vec<u8> = Vec::new();
        if upper.starts_with("LIST") {
            out.extend_from_slice(
                b"* LIST (\\HasNoChildren) \".\" INBOX\r\n* LIST (\\HasNoChildren) \".\" \"R&AOk-unions\"\r\n",
            );
        } else if upper.starts_with("LSUB") {
            out.extend_from_slice(b"* LSUB () \".\" \"R&AOk-unions\"\r\n");
        } else if upper.starts_with("EXAMINE") {
            out.extend_from_slice(b"* 3 EXISTS\r\n* OK [UIDVALIDITY 5] UIDs valid\r\n");
        } else if upper.starts_with("UID FETCH 1:*") {
            for uid in 1..=3u32 {
                let m = message(uid);
                let header = format!("Message-ID: <m{uid}@source>\r\n\r\n");
                out.extend_from_slice(
                    format!(
                        "* {uid} FETCH (UID {uid} FLAGS (\\Seen Travail) INTERNALDATE \"{}\" RFC822.SIZE {} BODY[HEADER.FIELDS (MESSAGE-ID)] {{{}}}\r\n{header})\r\n",
                        format_internal_date(DATE + i64::from(uid)),
                        m.len(),
                        header.len()
                    )
                    .as_bytes(),
                );
            }
        } else if upper.starts_with("UID FETCH") {
            let set = rest.split(' ').nth(2).unwrap();
            for uid in set.split(',').map(|u| u.parse::<u32>().unwrap()) {
                let m = message(uid);
                sent += 1;
                let head = format!("* {uid} FETCH (UID {uid} BODY[] {{{}}}\r\n", m.len());
                if drop_at == Some(sent) {
                    out.extend_from_slice(head.as_bytes());
                    out.extend_from_slice(&m[..m.len() / 2]);
                    w.write_all(&out).await.unwrap();
                    return;
                }
                out.extend_from_slice(head.as_bytes());
                out.extend_from_slice(&m);
                out.extend_from_slice(b")\r\n");
            }
        } else if upper.starts_with("LOGOUT") {
            out.extend_from_slice(b"* BYE bye\r\n");
        }
        out.extend_from_slice(format!("{tag} OK done\r\n").as_bytes());
        w.write_all(&out).await.unwrap();
    }
}

async fn run_once(ms: &Arc<Mailstore>, account: i64, drop_at: Option<usize>) -> Arc<migrate::Report> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(fake_source(listener, drop_at));
    let source = Source {
        host: "127.0.0.1".into(),
        port,
        security: Security::Plain,
        tls: tls_config(true).unwrap(),
        master: None,
    };
    let job = AccountJob {
        source_login: "claire".into(),
        password: Some("secret".into()),
        target: account,
        target_address: "claire.martin@ac-demo.fr".into(),
    };
    let report = from_imap::run(ms.clone(), source, vec![job], Options::default(), 1).await;
    server.await.unwrap();
    report
}

#[tokio::test]
async fn a_connection_dropped_mid_fetch_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    let ms = Mailstore::new(store.clone(), blob::BlobStore::open(dir.path().join("blobs")).unwrap());
    store.add_domain(&Domain::parse("ac-demo.fr").unwrap()).await.unwrap();
    let account = store
        .create_account(&NewAccount {
            address: Address::parse("claire.martin@ac-demo.fr").unwrap(),
            login: None,
            display_name: "Claire Martin".into(),
            role: Role::Teacher,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap();

    let first = run_once(&ms, account.id, Some(2)).await;
    let outcomes: Vec<(String, String, Outcome)> =
        first.entries().into_iter().map(|e| (e.folder, e.source_uid, e.outcome)).collect();
    assert!(outcomes.contains(&("INBOX".into(), "1".into(), Outcome::Copied)), "{outcomes:?}");
    assert!(outcomes.contains(&("INBOX".into(), "2".into(), Outcome::Failed)), "{outcomes:?}");
    assert!(outcomes.contains(&("INBOX".into(), "3".into(), Outcome::Failed)), "{outcomes:?}");
    let reasons: Vec<String> = first.entries().into_iter().filter(|e| e.folder.is_empty()).map(|e| e.reason).collect();
    assert!(reasons.iter().any(|r| r.contains("fermé") && r.contains("reprend")), "{reasons:?}");
    assert!(first.has_problems());
    let inbox = ms.mailbox_named(account.id, "INBOX").await.unwrap().unwrap();
    assert_eq!(ms.messages(inbox.id).await.unwrap().len(), 1);

    let second = run_once(&ms, account.id, None).await;
    assert!(!second.has_problems(), "{:?}", second.entries());
    let t = second.totals();
    assert_eq!((t.copied, t.skipped), (5, 1), "{:?}", second.entries());
    let rows = ms.messages(inbox.id).await.unwrap();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row.flags, model::Flag::Seen.bit());
        assert_eq!(row.keywords, ["Travail"]);
    }
    let mut dates: Vec<i64> = rows.iter().map(|r| r.internal_date).collect();
    dates.sort();
    assert_eq!(dates, [DATE + 1, DATE + 2, DATE + 3]);
    let reunions = ms.mailbox_named(account.id, "Réunions").await.unwrap().unwrap();
    assert_eq!(ms.messages(reunions.id).await.unwrap().len(), 3);
    assert!(ms.subscriptions(account.id).await.unwrap().contains(&"Réunions".to_owned()));

    // A third run copies nothing.
    let third = run_once(&ms, account.id, None).await;
    assert_eq!((third.totals().copied, third.totals().skipped), (0, 6));
}
