//! The antivirus on shared files, against a fake clamd (the border of this
//! crate: the real client of `hygiene::clamd` speaks to a TCP listener that
//! answers like clamd). An infected upload is deleted and audited, never
//! shared; one clamd could not judge stays unusable until it can; a new
//! version is scanned like a first one; a file larger than clamd reads is
//! refused before a byte is written. The real clamd is in
//! `tests/e2e/test_sharing_antivirus.py`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blob::Bytes;
use futures_util::stream;
use hygiene::clamd::{Address, Clamd};
use sharing::{Error, NewLink, Settings, Sharing};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const VIRUS: &[u8] = b"ARDOISE-TEST-VIRUS";

/// A fake clamd: `IDSESSION`, then `INSTREAM` after `INSTREAM`, each
/// answered `FOUND` when the stream holds [`VIRUS`], `OK` otherwise. While
/// `down` is set, it closes every connection (new or kept) without a word.
struct FakeClamd {
    address: String,
    down: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<Vec<u8>>>>,
}

async fn fake_clamd() -> FakeClamd {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let down = Arc::new(AtomicBool::new(false));
    let streams: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let (is_down, seen) = (down.clone(), streams.clone());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            if is_down.load(Ordering::SeqCst) {
                continue;
            }
            let (seen, is_down) = (seen.clone(), is_down.clone());
            tokio::spawn(async move {
                let mut command = [0u8; 11];
                if s.read_exact(&mut command).await.is_err() || &command != b"zIDSESSION\0" {
                    return;
                }
                for id in 1.. {
                    let mut command = [0u8; 10];
                    if s.read_exact(&mut command).await.is_err() {
                        return;
                    }
                    assert_eq!(&command, b"zINSTREAM\0");
                    if is_down.load(Ordering::SeqCst) {
                        return;
                    }
                    let mut got = Vec::new();
                    loop {
                        let mut len = [0u8; 4];
                        s.read_exact(&mut len).await.unwrap();
                        let len = u32::from_be_bytes(len) as usize;
                        assert!(len <= 64 * 1024, "chunks of at most 64 KiB");
                        if len == 0 {
                            break;
                        }
                        let mut chunk = vec![0; len];
                        s.read_exact(&mut chunk).await.unwrap();
                        got.extend(chunk);
                    }
                    let infected = got.windows(VIRUS.len()).any(|w| w == VIRUS);
                    seen.lock().unwrap().push(got);
                    let answer = if infected { "stream: Ardoise.Test.Virus FOUND" } else { "stream: OK" };
                    let _ = s.write_all(format!("{id}: {answer}\0").as_bytes()).await;
                }
            });
        }
    });
    FakeClamd { address, down, streams }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: store::Store,
    sharing: Sharing,
    claire: i64,
    root: std::path::PathBuf,
    clamd: FakeClamd,
}

async fn fixture(max_scanned: usize) -> Fixture {
    let clamd = fake_clamd().await;
    let dir = tempfile::tempdir().unwrap();
    let store = store::Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&model::Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let claire = store
        .create_account(&store::NewAccount {
            address: model::Address::parse("claire.martin@ac-test.fr").unwrap(),
            login: None,
            display_name: "Claire Martin".into(),
            role: model::Role::Teacher,
            status: model::AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap()
        .id;
    let antivirus =
        Clamd::new(Address::Tcp(clamd.address.clone())).with_timeout(Duration::from_secs(5)).with_max_size(max_scanned);
    let root = dir.path().join("partage");
    let settings = Settings { antivirus: Some(antivirus), ..Settings::default() };
    let sharing = Sharing::open(store.clone(), &root, settings).unwrap();
    Fixture { _dir: dir, store, sharing, claire, root, clamd }
}

fn pieces(parts: &[&[u8]]) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + use<> {
    let owned: Vec<Result<Bytes, std::io::Error>> = parts.iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect();
    stream::iter(owned)
}

/// Files left in a folder of the sharing store, recursively.
fn files_under(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum()
}

fn link(upload: &str) -> NewLink {
    NewLink { upload: upload.to_owned(), ..NewLink::default() }
}

#[tokio::test]
async fn a_clean_upload_is_streamed_to_clamd_then_shared() {
    let f = fixture(1 << 20).await;
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let id = f.sharing.create_upload(f.claire, body.len() as u64, "bilan.ods", None).await.unwrap();
    // Two pieces: the scan happens once, when the last byte arrives.
    let state = f.sharing.append(f.claire, &id, 0, pieces(&[&body[..100_000]])).await.unwrap();
    assert!(!state.complete && !state.awaiting_scan);
    assert!(f.clamd.streams.lock().unwrap().is_empty(), "nothing scanned before the last byte");
    let state = f.sharing.append(f.claire, &id, 100_000, pieces(&[&body[100_000..]])).await.unwrap();
    assert!(state.complete);
    assert_eq!(*f.clamd.streams.lock().unwrap(), vec![body.clone()], "the whole file, once");
    let share = f.sharing.create_link(f.claire, link(&id)).await.unwrap();
    let open = f.sharing.open_link(&share.token, "192.0.2.7".parse().unwrap()).await.unwrap();
    assert_eq!(f.sharing.open_version(&open, None).await.unwrap().version.size, body.len() as i64);
}

#[tokio::test]
async fn an_infected_upload_is_deleted_audited_and_never_shared() {
    let f = fixture(1 << 20).await;
    let body = [b"Bulletin du 2e trimestre ".as_slice(), VIRUS, b" fin"].concat();
    let id = f.sharing.create_upload(f.claire, body.len() as u64, "bulletin.pdf", None).await.unwrap();
    let err = f.sharing.append(f.claire, &id, 0, pieces(&[&body])).await.unwrap_err();
    assert!(matches!(&err, Error::Infected { signature } if signature == "Ardoise.Test.Virus"), "{err:?}");
    assert_eq!(model::ErrorKind::transience(&err), model::Transience::Permanent);
    // Gone: no upload to resume, nothing to share, no byte left on the disk.
    assert!(matches!(f.sharing.upload_state(f.claire, &id).await, Err(Error::NotFound)));
    assert!(matches!(f.sharing.create_link(f.claire, link(&id)).await, Err(Error::NotFound)));
    assert!(f.sharing.shares(f.claire).await.unwrap().is_empty());
    assert_eq!(files_under(&f.root), 0);
    assert_eq!(f.store.sharing_usage(f.claire).await.unwrap(), 0, "the quota is given back");
    let audit = f.store.audit_log().await.unwrap();
    let entry = audit.iter().find(|e| e.action == "account.share.virus").expect("audited");
    assert_eq!(entry.actor, "claire.martin@ac-test.fr");
    assert!(entry.detail.contains("bulletin.pdf") && entry.detail.contains("Ardoise.Test.Virus"), "{}", entry.detail);
}

#[tokio::test]
async fn clamd_down_keeps_the_upload_unusable_until_it_is_scanned() {
    let f = fixture(1 << 20).await;
    f.clamd.down.store(true, Ordering::SeqCst);
    let id = f.sharing.create_upload(f.claire, 5, "note.txt", None).await.unwrap();
    let err = f.sharing.append(f.claire, &id, 0, pieces(&[b"notes"])).await.unwrap_err();
    assert!(matches!(err, Error::AwaitingScan(_)), "{err:?}");
    assert_eq!(model::ErrorKind::transience(&err), model::Transience::Temporary);
    let state = f.sharing.upload_state(f.claire, &id).await.unwrap();
    assert_eq!((state.offset, state.complete, state.awaiting_scan), (5, false, true));
    // No link while it is unscanned (so no recipient is ever mailed one).
    assert!(matches!(f.sharing.create_link(f.claire, link(&id)).await, Err(Error::AwaitingScan(_))));
    assert!(f.sharing.shares(f.claire).await.unwrap().is_empty());
    // clamd is back: sharing asks again, and the link is made.
    f.clamd.down.store(false, Ordering::SeqCst);
    let share = f.sharing.create_link(f.claire, link(&id)).await.unwrap();
    assert_eq!(f.sharing.detail(f.claire, share.id).await.unwrap().versions.len(), 1);
    assert_eq!(*f.clamd.streams.lock().unwrap(), vec![b"notes".to_vec()]);

    // The tus way: an empty PATCH at the end asks again too.
    f.clamd.down.store(true, Ordering::SeqCst);
    let id = f.sharing.create_upload(f.claire, 3, "b.txt", None).await.unwrap();
    assert!(matches!(f.sharing.append(f.claire, &id, 0, pieces(&[b"abc"])).await, Err(Error::AwaitingScan(_))));
    assert!(matches!(f.sharing.append(f.claire, &id, 3, pieces(&[])).await, Err(Error::AwaitingScan(_))));
    f.clamd.down.store(false, Ordering::SeqCst);
    let state = f.sharing.append(f.claire, &id, 3, pieces(&[])).await.unwrap();
    assert!(state.complete && !state.awaiting_scan);
}

#[tokio::test]
async fn a_new_version_is_scanned_like_the_first() {
    let f = fixture(1 << 20).await;
    let first = f.sharing.create_upload(f.claire, 4, "plan.pdf", None).await.unwrap();
    f.sharing.append(f.claire, &first, 0, pieces(&[b"v1v1"])).await.unwrap();
    let share = f.sharing.create_link(f.claire, link(&first)).await.unwrap();
    let body = [b"v2 ".as_slice(), VIRUS].concat();
    let second = f.sharing.create_upload(f.claire, body.len() as u64, "plan.pdf", Some(share.id)).await.unwrap();
    let err = f.sharing.append(f.claire, &second, 0, pieces(&[&body])).await.unwrap_err();
    assert!(matches!(err, Error::Infected { .. }), "{err:?}");
    assert!(matches!(f.sharing.add_version(f.claire, share.id, &second).await, Err(Error::NotFound)));
    let detail = f.sharing.detail(f.claire, share.id).await.unwrap();
    assert_eq!(detail.versions.len(), 1, "the link still serves the clean first version only");
    let open = f.sharing.open_link(&share.token, "192.0.2.7".parse().unwrap()).await.unwrap();
    assert_eq!(open.versions.len(), 1);
}

#[tokio::test]
async fn a_file_larger_than_clamd_reads_is_refused_before_a_byte_is_written() {
    let f = fixture(1000).await;
    assert_eq!(f.sharing.settings().largest_file(), 1000);
    let err = f.sharing.create_upload(f.claire, 1001, "film.mp4", None).await.unwrap_err();
    assert!(matches!(err, Error::TooLargeToScan { max: 1000 }), "{err:?}");
    assert_eq!(files_under(&f.root.join("televersements")), 0);
    // At the limit exactly: scanned and accepted.
    let id = f.sharing.create_upload(f.claire, 1000, "film.mp4", None).await.unwrap();
    assert!(f.sharing.append(f.claire, &id, 0, pieces(&[&[b'x'; 1000]])).await.unwrap().complete);
    assert_eq!(f.clamd.streams.lock().unwrap().len(), 1);
}
