//! The sharing service on a fresh SQLite store: resumable uploads (offsets,
//! interruptions, lies about the length), size and quota limits, links
//! (expiry, password, revocation), versions, the journal and the
//! housekeeping. (The store's suite runs the SQL on both backends.)

use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;

use blob::Bytes;
use futures_util::stream;
use sharing::{Error, NewLink, Settings, Sharing};

struct Fixture {
    _dir: tempfile::TempDir,
    sharing: Sharing,
    claire: i64,
    paul: i64,
    root: std::path::PathBuf,
}

async fn fixture(settings: Settings) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = store::Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&model::Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let mut ids = Vec::new();
    for name in ["claire.martin", "paul.durand"] {
        let account = store
            .create_account(&store::NewAccount {
                address: model::Address::parse(&format!("{name}@ac-test.fr")).unwrap(),
                login: None,
                display_name: name.into(),
                role: model::Role::Teacher,
                status: model::AccountStatus::Active,
                quota_bytes: None,
                org_unit: None,
                password_hash: None,
            })
            .await
            .unwrap();
        ids.push(account.id);
    }
    let root = dir.path().join("partage");
    let sharing = Sharing::open(store, &root, settings).unwrap();
    Fixture { _dir: dir, sharing, claire: ids[0], paul: ids[1], root }
}

fn pieces(parts: &[&[u8]]) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + use<> {
    let owned: Vec<Result<Bytes, std::io::Error>> = parts.iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect();
    stream::iter(owned)
}

const IP: &str = "192.0.2.7";

fn ip() -> IpAddr {
    IP.parse().unwrap()
}

/// Uploads `bytes` whole and returns the upload id.
async fn upload(f: &Fixture, account: i64, name: &str, bytes: &[u8], share: Option<i64>) -> String {
    let id = f.sharing.create_upload(account, bytes.len() as u64, name, share).await.unwrap();
    let state = f.sharing.append(account, &id, 0, pieces(&[bytes])).await.unwrap();
    assert!(state.complete);
    id
}

fn read_all(mut file: std::fs::File) -> Vec<u8> {
    let mut out = Vec::new();
    file.read_to_end(&mut out).unwrap();
    out
}

#[tokio::test]
async fn an_interrupted_upload_resumes_at_the_offset_it_reached() {
    let f = fixture(Settings::default()).await;
    let id = f.sharing.create_upload(f.claire, 10, "bilan.pdf", None).await.unwrap();
    assert_eq!(id.len(), 32);
    // The connection drops after 4 bytes: what arrived is kept.
    let broken = stream::iter(vec![Ok(Bytes::from_static(b"0123")), Err(std::io::Error::other("reset"))]);
    let state = f.sharing.append(f.claire, &id, 0, broken).await.unwrap();
    assert_eq!((state.offset, state.complete), (4, false));
    assert_eq!(f.sharing.upload_state(f.claire, &id).await.unwrap().offset, 4);
    // A piece at the wrong offset is refused and changes nothing.
    for wrong in [0, 3, 5, 10] {
        match f.sharing.append(f.claire, &id, wrong, pieces(&[b"xx"])).await {
            Err(Error::BadOffset { expected: 4, got }) => assert_eq!(got, wrong),
            other => panic!("offset {wrong}: {other:?}"),
        }
    }
    let state = f.sharing.append(f.claire, &id, 4, pieces(&[b"45", b"6789"])).await.unwrap();
    assert_eq!((state.offset, state.complete), (10, true));
    // Nothing more may be sent to a finished upload.
    assert!(matches!(f.sharing.append(f.claire, &id, 10, pieces(&[b"x"])).await, Err(Error::BadOffset { .. })));
    let share = f.sharing.create_link(f.claire, NewLink { upload: id, ..Default::default() }).await.unwrap();
    let link = f.sharing.open_link(&share.token, ip()).await.unwrap();
    let download = f.sharing.open_version(&link, None).await.unwrap();
    assert_eq!(read_all(download.file), b"0123456789");
    assert_eq!(download.version.filename, "bilan.pdf");
}

#[tokio::test]
async fn bytes_beyond_the_announced_length_are_refused_and_not_kept() {
    let f = fixture(Settings::default()).await;
    let id = f.sharing.create_upload(f.claire, 5, "a.txt", None).await.unwrap();
    assert!(matches!(
        f.sharing.append(f.claire, &id, 0, pieces(&[b"abc", b"defgh"])).await,
        Err(Error::TooLong { .. })
    ));
    let state = f.sharing.upload_state(f.claire, &id).await.unwrap();
    assert_eq!((state.offset, state.complete), (5, true), "the announced bytes only");
    let len = std::fs::read_dir(f.root.join("televersements")).unwrap().count();
    assert_eq!(len, 0, "the finished upload became a blob");
}

#[tokio::test]
async fn size_and_quota_are_enforced_before_a_byte_is_written() {
    let settings = Settings { max_file_size: 100, quota: 150, ..Settings::default() };
    let f = fixture(settings).await;
    assert!(matches!(f.sharing.create_upload(f.claire, 101, "big.bin", None).await, Err(Error::TooLarge { max: 100 })));
    assert!(matches!(f.sharing.create_upload(f.claire, 0, "empty.bin", None).await, Err(Error::Invalid(_))));
    assert!(matches!(f.sharing.create_upload(f.claire, 10, "/../", None).await, Err(Error::Invalid(_))));
    let first = f.sharing.create_upload(f.claire, 100, "one.bin", None).await.unwrap();
    // An upload in progress counts against the quota.
    assert!(matches!(f.sharing.create_upload(f.claire, 60, "two.bin", None).await, Err(Error::OverQuota { .. })));
    // Paul's quota is his own.
    f.sharing.create_upload(f.paul, 100, "paul.bin", None).await.unwrap();
    f.sharing.cancel_upload(f.claire, &first).await.unwrap();
    f.sharing.create_upload(f.claire, 60, "two.bin", None).await.unwrap();
}

#[tokio::test]
async fn nobody_reaches_another_accounts_upload_or_share() {
    let f = fixture(Settings::default()).await;
    let id = f.sharing.create_upload(f.claire, 3, "a.txt", None).await.unwrap();
    assert!(matches!(f.sharing.upload_state(f.paul, &id).await, Err(Error::NotFound)));
    assert!(matches!(f.sharing.append(f.paul, &id, 0, pieces(&[b"abc"])).await, Err(Error::NotFound)));
    assert!(matches!(f.sharing.cancel_upload(f.paul, &id).await, Err(Error::NotFound)));
    assert!(matches!(f.sharing.upload_state(f.claire, "../../m.db").await, Err(Error::NotFound)));
    f.sharing.append(f.claire, &id, 0, pieces(&[b"abc"])).await.unwrap();
    let other = NewLink { upload: id.clone(), ..Default::default() };
    assert!(matches!(f.sharing.create_link(f.paul, other).await, Err(Error::NotFound)));
    let share = f.sharing.create_link(f.claire, NewLink { upload: id, ..Default::default() }).await.unwrap();
    assert!(matches!(f.sharing.detail(f.paul, share.id).await, Err(Error::NotFound)));
    assert!(matches!(f.sharing.revoke(f.paul, share.id).await, Err(Error::NotFound)));
    assert!(matches!(f.sharing.create_upload(f.paul, 3, "v2.txt", Some(share.id)).await, Err(Error::NotFound)));
    assert!(f.sharing.shares(f.paul).await.unwrap().is_empty());
}

#[tokio::test]
async fn links_expire_within_policy_and_can_be_revoked() {
    let f = fixture(Settings::default()).await;
    let id = upload(&f, f.claire, "a.txt", b"abc", None).await;
    let too_long = NewLink { upload: id.clone(), expiry: Some(Duration::from_secs(31 * 86400)), ..Default::default() };
    assert!(matches!(f.sharing.create_link(f.claire, too_long).await, Err(Error::Invalid(_))));
    let share = f.sharing.create_link(f.claire, NewLink { upload: id.clone(), ..Default::default() }).await.unwrap();
    assert_eq!(share.token.len(), 40, "160 random bits");
    let days = (share.expires_at - share.created_at) / 86400;
    assert_eq!(days, 10, "the default expiry");
    // The upload is used up.
    assert!(f.sharing.create_link(f.claire, NewLink { upload: id, ..Default::default() }).await.is_err());
    f.sharing.revoke(f.claire, share.id).await.unwrap();
    assert!(matches!(f.sharing.open_link(&share.token, ip()).await, Err(Error::Gone)));
    assert!(matches!(f.sharing.revoke(f.claire, share.id).await, Err(Error::NotFound)), "once");
    // The housekeeping deletes the revoked share and its file.
    let purged = f.sharing.housekeeping(sharing_now()).await.unwrap();
    assert_eq!((purged.shares, purged.unreferenced.len()), (1, 1));
    assert!(f.sharing.shares(f.claire).await.unwrap().is_empty());
    assert!(matches!(f.sharing.open_link(&share.token, ip()).await, Err(Error::NotFound)));

    // An expired link is gone, and deleted at the next housekeeping.
    let id = upload(&f, f.claire, "b.txt", b"bcd", None).await;
    let short = NewLink { upload: id, expiry: Some(Duration::from_secs(1)), ..Default::default() };
    let share = f.sharing.create_link(f.claire, short).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(matches!(f.sharing.open_link(&share.token, ip()).await, Err(Error::Gone)));
    let purged = f.sharing.housekeeping(sharing_now()).await.unwrap();
    assert_eq!(purged.shares, 1);
}

fn sharing_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn a_password_protects_the_link_and_guesses_are_throttled() {
    let f = fixture(Settings::default()).await;
    let id = upload(&f, f.claire, "secret.pdf", b"secret", None).await;
    let new = NewLink { upload: id, password: Some("Cle-Partage-2026".into()), ..Default::default() };
    let share = f.sharing.create_link(f.claire, new).await.unwrap();
    assert!(share.password.as_deref().is_some_and(|h| h.starts_with("$argon2id$")), "stored hashed");
    let link = f.sharing.open_link(&share.token, ip()).await.unwrap();
    assert!(link.needs_password());
    assert!(matches!(f.sharing.check_password(&link, "", ip()).await, Err(Error::Password)));
    assert!(matches!(f.sharing.check_password(&link, "cle-partage-2026", ip()).await, Err(Error::Password)));
    f.sharing.check_password(&link, "Cle-Partage-2026", ip()).await.unwrap();
    // Unknown links and wrong passwords from one address end up refused.
    let guesser: IpAddr = "198.51.100.9".parse().unwrap();
    for n in 0..sharing::Throttle::LIMIT {
        let token = format!("{n:040x}");
        assert!(matches!(f.sharing.open_link(&token, guesser).await, Err(Error::NotFound)));
    }
    assert!(matches!(f.sharing.open_link(&share.token, guesser).await, Err(Error::Throttled)));
    assert!(f.sharing.open_link(&share.token, ip()).await.is_ok(), "others are not blocked");
    for bad in ["", "x", "../", &"f".repeat(41), &"F".repeat(40)] {
        assert!(matches!(f.sharing.open_link(bad, ip()).await, Err(Error::NotFound)), "{bad}");
    }
}

#[tokio::test]
async fn versions_keep_the_history_and_the_journal_says_who_got_which() {
    let f = fixture(Settings::default()).await;
    let id = upload(&f, f.claire, "circulaire.odt", b"version une", None).await;
    let paul = model::Address::parse("paul.durand@ac-test.fr").unwrap();
    let new = NewLink { upload: id, recipients: vec![paul], ..Default::default() };
    let share = f.sharing.create_link(f.claire, new).await.unwrap();
    let link = f.sharing.open_link(&share.token, ip()).await.unwrap();
    assert!(f.sharing.record_download(&link, 1, ip()).await.unwrap(), "the first download is told");
    assert!(!f.sharing.record_download(&link, 1, ip()).await.unwrap(), "once");
    // A new version of the same document.
    let v2 = upload(&f, f.claire, "circulaire-corrigee.odt", b"version deux", Some(share.id)).await;
    // It cannot become a share of its own.
    let wrong = NewLink { upload: v2.clone(), ..Default::default() };
    assert!(matches!(f.sharing.create_link(f.claire, wrong).await, Err(Error::Invalid(_))));
    assert_eq!(f.sharing.add_version(f.claire, share.id, &v2).await.unwrap(), 2);
    let link = f.sharing.open_link(&share.token, ip()).await.unwrap();
    assert_eq!(link.latest().version, 2);
    let latest = f.sharing.open_version(&link, None).await.unwrap();
    assert_eq!(read_all(latest.file), b"version deux");
    let first = f.sharing.open_version(&link, Some(1)).await.unwrap();
    assert_eq!(read_all(first.file), b"version une");
    assert!(matches!(f.sharing.open_version(&link, Some(3)).await, Err(Error::NotFound)));
    // Paul downloads through his own link: the journal names him.
    let (_, token) = f.sharing.recipient_links(f.claire, share.id).await.unwrap().remove(0);
    let his = f.sharing.open_link(&token, ip()).await.unwrap();
    f.sharing.record_download(&his, 2, "2001:db8::1".parse().unwrap()).await.unwrap();
    let detail = f.sharing.detail(f.claire, share.id).await.unwrap();
    assert_eq!(
        detail.versions.iter().map(|v| v.filename.as_str()).collect::<Vec<_>>(),
        ["circulaire.odt", "circulaire-corrigee.odt"]
    );
    let journal: Vec<_> = detail.downloads.iter().map(|d| (d.version, d.address.as_str(), d.who.as_str())).collect();
    assert_eq!(journal[0], (2, "2001:db8::1", "paul.durand@ac-test.fr"));
    assert_eq!(journal[1], (1, IP, ""), "the plain link names nobody");
    assert_eq!(journal.len(), 3);
    let list = f.sharing.shares(f.claire).await.unwrap();
    assert_eq!((list.len(), list[0].downloads, list[0].latest.as_ref().map(|v| v.version)), (1, 3, Some(2)));
}

/// A share mailed to named recipients gives each a link of their own: a
/// different unguessable token bound to the share, which opens the same
/// document, names its recipient, and ends with the share. Only the owner
/// reads them; the plain link still works and names nobody.
#[tokio::test]
async fn each_recipient_has_a_link_of_their_own_bound_to_the_share() {
    let f = fixture(Settings::default()).await;
    let id = upload(&f, f.claire, "emploi-du-temps.pdf", b"contenu", None).await;
    let (paul, lea) = (
        model::Address::parse("paul.durand@ac-test.fr").unwrap(),
        model::Address::parse("lea.moreau@example.org").unwrap(),
    );
    let recipients = vec![paul.clone(), lea.clone(), paul.clone()];
    let share =
        f.sharing.create_link(f.claire, NewLink { upload: id, recipients, ..Default::default() }).await.unwrap();
    let links = f.sharing.recipient_links(f.claire, share.id).await.unwrap();
    let named: Vec<&str> = links.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(named, ["paul.durand@ac-test.fr", "lea.moreau@example.org"], "each address once");
    let tokens: Vec<&str> = links.iter().map(|(_, t)| t.as_str()).collect();
    assert!(tokens.iter().all(|t| t.len() == 40 && t.bytes().all(|b| b.is_ascii_hexdigit())));
    assert!(tokens[0] != tokens[1] && !tokens.contains(&share.token.as_str()));
    assert!(matches!(f.sharing.recipient_links(f.paul, share.id).await, Err(Error::NotFound)), "the owner's only");

    for ((address, token), who) in links.iter().zip([&paul, &lea]) {
        let link = f.sharing.open_link(token, ip()).await.unwrap();
        assert_eq!((link.share.id, link.recipient.as_deref()), (share.id, Some(address.as_str())));
        assert_eq!(address, &who.to_string());
        assert_eq!(read_all(f.sharing.open_version(&link, None).await.unwrap().file), b"contenu");
    }
    let plain = f.sharing.open_link(&share.token, ip()).await.unwrap();
    assert_eq!(plain.recipient, None);
    let first = f.sharing.open_link(tokens[1], ip()).await.unwrap();
    assert!(f.sharing.record_download(&first, 1, ip()).await.unwrap());
    let journal = f.sharing.detail(f.claire, share.id).await.unwrap().downloads;
    assert_eq!(journal[0].who, "lea.moreau@example.org");

    // Revoked, every link of the share is gone.
    f.sharing.revoke(f.claire, share.id).await.unwrap();
    for token in tokens.iter().chain([&share.token.as_str()]) {
        assert!(matches!(f.sharing.open_link(token, ip()).await, Err(Error::Gone)), "{token}");
    }
}

#[tokio::test]
async fn two_writers_of_one_upload_do_not_interleave() {
    let f = fixture(Settings::default()).await;
    let id = f.sharing.create_upload(f.claire, 4, "a.txt", None).await.unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let slow = tokio_stream(rx);
    let first = f.sharing.append(f.claire, &id, 0, slow);
    let second = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let r = f.sharing.append(f.claire, &id, 0, pieces(&[b"zzzz"])).await;
        tx.send(Ok(Bytes::from_static(b"abcd"))).await.unwrap();
        drop(tx);
        r
    };
    let (a, b) = tokio::join!(first, second);
    assert!(a.unwrap().complete);
    assert!(matches!(b, Err(Error::Busy)));
}

fn tokio_stream(
    mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    stream::poll_fn(move |cx| rx.poll_recv(cx))
}
