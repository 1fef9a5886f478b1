//! The contract of [`BlobStore`], checked on both backends: local files and
//! a bucket of a real S3-compatible server (`s3s-fs`, see `server/mod.rs`).

mod server;

use std::io;
use std::time::{Duration, Instant, SystemTime};

use blob::{BlobStore, Hashed};
use server::S3Server;

/// Where a backend keeps its objects on disk, to damage one or add a foreign
/// name: the local root, or the S3 server's folder of the bucket.
#[derive(Clone)]
enum Raw {
    Local(std::path::PathBuf),
    Bucket(std::path::PathBuf),
}

impl Raw {
    /// Writes raw bytes where the backend keeps the object `name`.
    fn write(&self, name: &str, bytes: &[u8]) {
        let path = match self {
            Raw::Local(root) if name.len() == 64 => root.join("objects").join(&name[..2]).join(name),
            Raw::Local(root) => root.join("objects").join("ab").join(name),
            Raw::Bucket(objects) => objects.join(name),
        };
        std::fs::write(path, bytes).unwrap();
    }
}

/// Runs `test` on a store of each kind in turn, kept alive (folder, server)
/// until it is done.
async fn each_backend<F, Fut>(test: F)
where
    F: Fn(BlobStore, Raw) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blobs");
    let local = BlobStore::open(&root).unwrap();
    test(local, Raw::Local(root)).await;
    if let Some(server) = S3Server::start() {
        let remote = BlobStore::open_remote(&server.remote()).unwrap();
        assert!(remote.is_remote());
        remote.check().await.expect("the test bucket answers");
        test(remote, Raw::Bucket(server.object_file(""))).await;
        drop(server);
    }
    drop(dir);
}

#[tokio::test]
async fn round_trip() {
    each_backend(|store, _raw| async move {
        let id = store.put(&b"Bonjour la classe"[..]).await.unwrap();
        assert_eq!(id, blob::id_of(b"Bonjour la classe"));
        assert_eq!(store.get(&id).await.unwrap(), b"Bonjour la classe");
        assert!(store.exists(&id).await);
        let at = store.modified(&id).await.unwrap().expect("present");
        assert!(SystemTime::now().duration_since(at).unwrap_or_default() < Duration::from_secs(60));
    })
    .await;
}

/// The identifier is BLAKE3 of the whole content, whatever its size.
#[tokio::test]
async fn the_identifier_is_blake3_of_the_content() {
    each_backend(|store, _raw| async move {
        for len in [0usize, 1, 65_535, 65_536, 3 * 65_536 + 17] {
            let content: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let id = store.put(content.clone()).await.unwrap();
            assert_eq!(id.as_str(), blake3::hash(&content).to_hex().as_str(), "{len} bytes");
            assert_eq!(store.get(&id).await.unwrap(), content, "{len} bytes");
        }
    })
    .await;
}

#[tokio::test]
async fn hashed_content_is_stored_under_its_hash() {
    each_backend(|store, _raw| async move {
        let content = Hashed::new(vec![7u8; 200_005]);
        let id = store.put_hashed(content.clone()).await.unwrap();
        assert_eq!(&id, content.id());
        assert_eq!(store.get(&id).await.unwrap(), content.bytes().as_ref());
    })
    .await;
}

#[tokio::test]
async fn identical_content_is_stored_once_and_its_time_refreshed() {
    each_backend(|store, _raw| async move {
        let a = store.put(&b"circulaire de rentree"[..]).await.unwrap();
        let first = store.modified(&a).await.unwrap().unwrap();
        // Object times have a one-second resolution on S3.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let b = store.put(&b"circulaire de rentree"[..]).await.unwrap();
        assert_eq!(a, b);
        let again = store.modified(&a).await.unwrap().unwrap();
        assert!(again > first, "a put refreshes the time the collector reads: {first:?} then {again:?}");
        let listed = store.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].0, a);
        assert_eq!(store.usage().await.unwrap(), (1, 21));
    })
    .await;
}

/// Ranges come back alone, clamped to the object's end.
#[tokio::test]
async fn ranges_are_read_without_the_rest() {
    each_backend(|store, _raw| async move {
        let bytes: Vec<u8> = (0..3 * 65_536 + 17).map(|n| (n % 251) as u8).collect();
        let id = store.put(bytes.clone()).await.unwrap();
        assert_eq!(store.get_range(&id, 65_536..65_546).await.unwrap(), bytes[65_536..65_546]);
        assert_eq!(store.get_range(&id, 0..1).await.unwrap(), bytes[..1]);
        let len = bytes.len() as u64;
        assert_eq!(store.get_range(&id, len - 5..len + 100).await.unwrap(), bytes[bytes.len() - 5..]);
        assert_eq!(store.get_range(&id, len + 10..len + 20).await.unwrap(), b"");
        assert_eq!(store.get_range(&id, 3..3).await.unwrap(), b"");
        let absent = blob::id_of(b"absent");
        assert_eq!(store.get_range(&absent, 0..10).await.unwrap_err().kind(), io::ErrorKind::NotFound);
    })
    .await;
}

#[tokio::test]
async fn delete_is_idempotent_and_missing_is_not_found() {
    each_backend(|store, _raw| async move {
        let id = store.put(&b"a supprimer"[..]).await.unwrap();
        store.delete(&id).await.unwrap();
        assert!(!store.exists(&id).await);
        assert_eq!(store.modified(&id).await.unwrap(), None);
        store.delete(&id).await.unwrap();
        assert_eq!(store.usage().await.unwrap(), (0, 0));
        assert_eq!(store.get(&id).await.unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(store.clean_tmp(Duration::ZERO).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn corrupt_content_is_detected() {
    each_backend(|store, raw| async move {
        let id = store.put(&b"original"[..]).await.unwrap();
        raw.write(id.as_str(), b"tampered");
        assert_eq!(store.get(&id).await.unwrap_err().kind(), io::ErrorKind::InvalidData);
    })
    .await;
}

#[tokio::test]
async fn listing_ignores_foreign_names() {
    each_backend(|store, raw| async move {
        let id = store.put(&b"x"[..]).await.unwrap();
        raw.write("notes.txt", b"?");
        let listed: Vec<_> = store.list().await.unwrap().into_iter().map(|(id, _)| id).collect();
        assert_eq!(listed, vec![id]);
        assert_eq!(store.usage().await.unwrap(), (1, 1));
    })
    .await;
}

/// An unreachable bucket fails a put within the retry deadline, with an
/// error that is not « absent » (the caller must not take it for one).
#[tokio::test]
async fn an_unreachable_bucket_fails_quickly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let remote = blob::Remote::parse(&format!("s3://ardoise?endpoint=http://127.0.0.1:{port}")).unwrap();
    let store = BlobStore::open_remote(&remote).unwrap();
    let started = Instant::now();
    let err = store.put(&b"perdu ?"[..]).await.unwrap_err();
    assert_ne!(err.kind(), io::ErrorKind::NotFound);
    assert!(started.elapsed() < blob::RETRY_TIMEOUT + Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(store.check().await.is_err());
    assert!(!store.exists(&blob::id_of(b"perdu ?")).await);
}

/// A wrong secret is refused, and neither the error nor the store's
/// description quotes it.
#[tokio::test]
async fn a_wrong_secret_is_refused_without_being_quoted() {
    let Some(server) = S3Server::start() else { return };
    let mut remote = server.remote();
    remote.credentials.as_mut().unwrap().secret_access_key = "mauvais-secret-123".into();
    let store = BlobStore::open_remote(&remote).unwrap();
    let err = store.put(&b"refuse"[..]).await.unwrap_err();
    assert!(!err.to_string().contains("mauvais-secret-123"), "{err}");
    assert!(!format!("{store:?} {remote:?}").contains("mauvais-secret-123"));
    assert!(!format!("{store:?}").contains(server::SECRET_KEY));
    assert!(store.describe().starts_with("s3://ardoise"), "{}", store.describe());
}

/// Two stores on one bucket (two nodes) see each other's contents.
#[tokio::test]
async fn two_nodes_share_a_bucket() {
    let Some(server) = S3Server::start() else { return };
    let one = BlobStore::open_remote(&server.remote()).unwrap();
    let two = BlobStore::open_remote(&server.remote()).unwrap();
    let id = one.put(&b"Objet: conseil de classe"[..]).await.unwrap();
    assert_eq!(two.get(&id).await.unwrap(), b"Objet: conseil de classe");
    assert_eq!(two.get_range(&id, 7..13).await.unwrap(), b"consei");
    two.delete(&id).await.unwrap();
    assert!(!one.exists(&id).await);
}
