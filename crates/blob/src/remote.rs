//! The object-storage backend: blobs in an S3-compatible bucket, through the
//! `object_store` crate (its AWS client, signing with ring).
//!
//! Keys are `[<prefix>/]objects/<hash>`: the bucket is flat, and hashes already
//! spread the keys evenly, so no fan-out is needed.
//!
//! Durability contract of a put: it returns once the server acknowledged the
//! PUT (S3 answers 200 only when the object is stored durably). A put always
//! uploads, even when the object exists: the upload refreshes its
//! `Last-Modified`, which the garbage collector reads as the time of the last
//! put, so a put racing a collection on another node is never taken for an
//! old orphan. Content stored twice in one delivery is put once by the caller.
//!
//! Reads of ranges use HTTP ranges (`get_range`): an IMAP partial FETCH or a
//! download does not transfer the whole object. There is no local read cache:
//! every read goes to the bucket (see docs/cluster.md).
//!
//! Requests are retried a few times within a short deadline
//! ([`RETRY_TIMEOUT`]), so that an unreachable bucket fails a delivery in
//! seconds (the SMTP client hears a temporary 4xx and retries) instead of
//! holding it for minutes.

use std::fmt;
use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use model::BlobId;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};

/// How long one request may be retried before the caller hears the failure.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the bucket is: what `[blob] url` says, with the credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Remote {
    /// The bucket's name.
    pub bucket: String,
    /// Key prefix inside the bucket, without slashes at the ends; may be empty.
    pub prefix: String,
    /// The server's URL (`http://host:port` or `https://...`); `None`: AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    /// `None`: taken from the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).
    pub credentials: Option<Credentials>,
}

/// An access key. Its `Debug` shows the key identifier only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials {{ access_key_id: {:?}, secret_access_key: \"***\" }}", self.access_key_id)
    }
}

impl fmt::Debug for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Remote {
    /// Reads `s3://bucket[/prefix][?endpoint=URL&region=NAME]`. The error
    /// says what is wrong, in French then English.
    pub fn parse(url: &str) -> Result<Remote, String> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            "adresse s3://seau[/préfixe][?endpoint=URL&region=NOM] attendue / s3:// URL expected".to_owned()
        })?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !bucket.starts_with(['-', '.'])
            && !bucket.ends_with(['-', '.']);
        if !valid_bucket {
            return Err(format!(
                "nom de seau « {bucket} » invalide (3 à 63 minuscules, chiffres, « - », « . ») / invalid bucket name"
            ));
        }
        let mut remote = Remote {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            endpoint: None,
            region: "us-east-1".to_owned(),
            credentials: None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "endpoint" => {
                    let valid = value
                        .strip_prefix("http://")
                        .or_else(|| value.strip_prefix("https://"))
                        .is_some_and(|host| !host.is_empty() && !host.contains(['?', '#', '@']));
                    if !valid {
                        return Err(format!(
                            "endpoint « {value} » : http(s)://hôte[:port] attendu / expected http(s)://host[:port]"
                        ));
                    }
                    remote.endpoint = Some(value.trim_end_matches('/').to_owned());
                }
                "region" if !value.is_empty() => remote.region = value.to_owned(),
                _ => {
                    return Err(format!(
                        "paramètre « {key} » inconnu (endpoint, region) / unknown parameter (the credentials go in a file or the environment)"
                    ));
                }
            }
        }
        Ok(remote)
    }

    /// Reads the credentials from a file of `key = value` lines naming
    /// `access_key_id` and `secret_access_key` (an `aws_` prefix is accepted;
    /// `#` starts a comment). The error never quotes the file's content.
    pub fn credentials_from_file(path: &std::path::Path) -> io::Result<Credentials> {
        let text = std::fs::read_to_string(path)?;
        let (mut id, mut secret) = (None, None);
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
        {
            let Some((key, value)) = line.split_once('=') else { continue };
            let value = value.trim().trim_matches('"').to_owned();
            match key.trim().trim_start_matches("aws_") {
                "access_key_id" => id = Some(value),
                "secret_access_key" => secret = Some(value),
                _ => {}
            }
        }
        match (id, secret) {
            (Some(access_key_id), Some(secret_access_key))
                if !access_key_id.is_empty() && !secret_access_key.is_empty() =>
            {
                Ok(Credentials { access_key_id, secret_access_key })
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} : access_key_id et secret_access_key attendus / access_key_id and secret_access_key expected",
                    path.display()
                ),
            )),
        }
    }

    /// Where the blobs are, for logs and messages: never the credentials.
    pub fn describe(&self) -> String {
        let prefix = if self.prefix.is_empty() { String::new() } else { format!("/{}", self.prefix) };
        match &self.endpoint {
            Some(endpoint) => format!("s3://{}{prefix} ({endpoint})", self.bucket),
            None => format!("s3://{}{prefix} (AWS {})", self.bucket, self.region),
        }
    }
}

/// A bucket holding blobs. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Bucket {
    store: Arc<dyn ObjectStore>,
    objects: Key,
    describe: String,
}

impl fmt::Debug for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bucket({})", self.describe)
    }
}

impl Bucket {
    pub(crate) fn open(remote: &Remote) -> io::Result<Bucket> {
        // reqwest is built without a TLS provider of its own: ring, as in the rest of the tree.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&remote.bucket)
            .with_region(&remote.region)
            .with_retry(RetryConfig { max_retries: 3, retry_timeout: RETRY_TIMEOUT, ..RetryConfig::default() })
            .with_client_options(
                ClientOptions::new().with_connect_timeout(Duration::from_secs(3)).with_timeout(Duration::from_secs(60)),
            );
        if let Some(endpoint) = &remote.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let Some(c) = &remote.credentials {
            builder = builder.with_access_key_id(&c.access_key_id).with_secret_access_key(&c.secret_access_key);
        }
        let store = builder.build().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let objects = if remote.prefix.is_empty() {
            Key::from("objects")
        } else {
            Key::from(format!("{}/objects", remote.prefix))
        };
        Ok(Bucket { store: Arc::new(store), objects, describe: remote.describe() })
    }

    pub(crate) fn describe(&self) -> &str {
        &self.describe
    }

    fn key(&self, id: &BlobId) -> Key {
        self.objects.clone().join(id.as_str())
    }

    pub(crate) async fn put(&self, id: BlobId, bytes: Bytes) -> io::Result<BlobId> {
        self.store.put(&self.key(&id), PutPayload::from_bytes(bytes)).await.map_err(io_error)?;
        Ok(id)
    }

    pub(crate) async fn get(&self, id: &BlobId) -> io::Result<Vec<u8>> {
        let bytes = self.store.get(&self.key(id)).await.map_err(io_error)?.bytes().await.map_err(io_error)?;
        if crate::id_of(&bytes) != *id {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("blob {id} is corrupt: its content no longer matches its hash"),
            ));
        }
        Ok(bytes.into())
    }

    pub(crate) async fn get_range(&self, id: &BlobId, range: Range<u64>) -> io::Result<Vec<u8>> {
        if range.is_empty() {
            // Still say whether the object is there.
            self.store.head(&self.key(id)).await.map_err(io_error)?;
            return Ok(Vec::new());
        }
        match self.store.get_range(&self.key(id), range.clone()).await {
            Ok(bytes) => Ok(bytes.into()),
            // A range past the end: ask for what there is.
            Err(object_store::Error::Generic { .. }) | Err(object_store::Error::NotSupported { .. }) => {
                let size = self.store.head(&self.key(id)).await.map_err(io_error)?.size;
                let range = range.start.min(size)..range.end.min(size);
                if range.is_empty() {
                    return Ok(Vec::new());
                }
                Ok(self.store.get_range(&self.key(id), range).await.map_err(io_error)?.into())
            }
            Err(e) => Err(io_error(e)),
        }
    }

    pub(crate) async fn modified(&self, id: &BlobId) -> io::Result<Option<SystemTime>> {
        match self.store.head(&self.key(id)).await {
            Ok(meta) => Ok(Some(meta.last_modified.into())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }

    pub(crate) async fn delete(&self, id: &BlobId) -> io::Result<()> {
        match self.store.delete(&self.key(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    /// Every object with its time and size; keys that are not blob
    /// identifiers are ignored.
    pub(crate) async fn walk(&self) -> io::Result<Vec<(BlobId, SystemTime, u64)>> {
        let mut listing = self.store.list(Some(&self.objects));
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(io_error)?;
            if let Some(id) = meta.location.filename().and_then(BlobId::from_hex) {
                out.push((id, meta.last_modified.into(), meta.size));
            }
        }
        Ok(out)
    }
}

/// An object_store error as an I/O error of the matching kind, with the
/// bucket's message (object_store's messages name no credential).
fn io_error(e: object_store::Error) -> io::Error {
    io::Error::from(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_with_their_parameters() {
        let r = Remote::parse("s3://ardoise-mail/noeuds/a?endpoint=http://127.0.0.1:9000/&region=fr-par").unwrap();
        assert_eq!(r.bucket, "ardoise-mail");
        assert_eq!(r.prefix, "noeuds/a");
        assert_eq!(r.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(r.region, "fr-par");
        assert_eq!(r.describe(), "s3://ardoise-mail/noeuds/a (http://127.0.0.1:9000)");
        let aws = Remote::parse("s3://messages").unwrap();
        assert_eq!((aws.prefix.as_str(), aws.endpoint, aws.region.as_str()), ("", None, "us-east-1"));
    }

    #[test]
    fn bad_urls_are_refused_with_their_reason() {
        for (url, says) in [
            ("https://seau", "s3://"),
            ("s3://", "nom de seau"),
            ("s3://Majuscules", "nom de seau"),
            ("s3://ab", "nom de seau"),
            ("s3://seau?endpoint=ftp://x", "endpoint"),
            ("s3://seau?endpoint=http://", "endpoint"),
            ("s3://seau?secret=abc", "inconnu"),
        ] {
            let err = Remote::parse(url).unwrap_err();
            assert!(err.contains(says), "{url}: {err}");
        }
    }

    #[test]
    fn credentials_are_read_from_a_file_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s3.cle");
        std::fs::write(&path, "# clé du seau\naws_access_key_id = AKIA1\nsecret_access_key = \"tres-secret\"\n")
            .unwrap();
        let c = Remote::credentials_from_file(&path).unwrap();
        assert_eq!((c.access_key_id.as_str(), c.secret_access_key.as_str()), ("AKIA1", "tres-secret"));
        assert!(!format!("{c:?}").contains("tres-secret"));
        let remote = Remote { credentials: Some(c), ..Remote::parse("s3://seau").unwrap() };
        assert!(!format!("{remote:?}").contains("tres-secret"));
        std::fs::write(&path, "secret_access_key = seul\n").unwrap();
        let err = Remote::credentials_from_file(&path).unwrap_err();
        assert!(!err.to_string().contains("seul"), "{err}");
    }
}
