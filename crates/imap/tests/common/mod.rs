//! An in-memory IMAP server for transcript tests: a real store (SQLite in a
//! temporary folder), real blobs, and sessions over `tokio::io::duplex`.

#![allow(dead_code)] // each test file uses part of the fixture

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use identity::Identity;
use imap::ImapConfig;
use mailstore::Mailstore;
use model::{AccountStatus, Address, Domain, Role};
use store::{Account, NewAccount, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::watch;

pub const PASSWORD: &str = "Ardoise-Demo-2026";

pub struct Fixture {
    pub ms: Arc<Mailstore>,
    /// The identity service every session of this fixture logs in with.
    pub identity: Arc<Identity>,
    /// The store's URL (tests that change rows directly).
    pub url: String,
    /// The store under it, for setting up accounts and quotas.
    pub store: Store,
    pub cfg: Arc<ImapConfig>,
    pub claire: Account,
    pub shutdown: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    pub async fn new() -> Fixture {
        Fixture::with_admission(imap::Admission::new(100, 30)).await
    }

    pub async fn with_admission(admission: Arc<imap::Admission>) -> Fixture {
        Fixture::with(admission, identity::Settings::default()).await
    }

    /// A fixture whose mail domain stores no envelope form at delivery (as
    /// tools and contents delivered before version 11): FETCH writes the
    /// ENVELOPE from the stored analysis.
    pub async fn without_envelope_forms() -> Fixture {
        Fixture::build(imap::Admission::new(100, 30), identity::Settings::default(), None).await
    }

    /// A fixture whose identity service has `settings` (password policy,
    /// expiry, slow-down): what the binary would build from its configuration.
    pub async fn with_identity(settings: identity::Settings) -> Fixture {
        Fixture::with(imap::Admission::new(100, 30), settings).await
    }

    async fn with(admission: Arc<imap::Admission>, settings: identity::Settings) -> Fixture {
        Fixture::build(admission, settings, Some(imap::envelope_forms)).await
    }

    /// Like the server, a fixture stores envelope forms rendered by IMAP
    /// unless `forms` is `None`.
    async fn build(
        admission: Arc<imap::Admission>,
        settings: identity::Settings,
        forms: Option<mailstore::EnvelopeForms>,
    ) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("meta.db").display());
        let store = Store::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
        let ms = match forms {
            Some(forms) => Mailstore::with_envelope_forms(store.clone(), blobs, forms),
            None => Mailstore::new(store.clone(), blobs),
        };
        let identity = Identity::new(store.clone(), ms.clone(), settings);
        ms.enable_search_in_memory().unwrap();
        store.add_domain(&Domain::parse("ac-demo.fr").unwrap()).await.unwrap();
        let claire = create(&store, "claire.martin", Role::Teacher, AccountStatus::Active).await;
        let cfg = Arc::new(ImapConfig {
            hostname: "mail.ac-demo.fr".into(),
            allow_plaintext_loopback: true,
            auth_failure_delay: Duration::from_millis(10),
            limits: imap::Limits { max_line: 1024, max_literal: 100_000, max_command: 110_000, ..Default::default() },
            admission,
            ..ImapConfig::default()
        });
        let (shutdown, _) = watch::channel(false);
        Fixture { ms, identity, url, store, cfg, claire, shutdown, _dir: dir }
    }

    /// A client connected from `ip` (loopback is allowed to log in in clear).
    pub fn connect_from(&self, ip: [u8; 4]) -> Client {
        let (client, server) = tokio::io::duplex(1 << 20);
        let services = imap::Services { mail: self.ms.clone(), identity: self.identity.clone() };
        let (cfg, rx) = (self.cfg.clone(), self.shutdown.subscribe());
        tokio::spawn(async move {
            imap::handle_connection(server, std::net::IpAddr::from(ip), &cfg, services, None, rx).await;
        });
        Client { stream: client, pending: Vec::new() }
    }

    pub fn connect(&self) -> Client {
        self.connect_from([127, 0, 0, 1])
    }

    /// Delivers a message to Claire's Inbox as SMTP would.
    pub async fn deliver(&self, raw: &[u8]) {
        self.ms.deliver(raw, &[self.claire.id], 1_767_225_600).await.unwrap();
    }

    pub async fn inbox_uid_validity(&self) -> i64 {
        self.ms.mailbox_named(self.claire.id, "INBOX").await.unwrap().unwrap().uid_validity
    }
}

pub async fn create(store: &Store, local: &str, role: Role, status: AccountStatus) -> Account {
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2::Argon2::default().hash_password(PASSWORD.as_bytes(), &salt).unwrap().to_string();
    let new = NewAccount {
        address: Address::parse(&format!("{local}@ac-demo.fr")).unwrap(),
        login: None,
        display_name: local.into(),
        role,
        status,
        quota_bytes: None,
        org_unit: None,
        password_hash: Some(hash),
    };
    store.create_account(&new).await.unwrap()
}

pub struct Client {
    pub stream: DuplexStream,
    pending: Vec<u8>,
}

impl Client {
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads until a line that starts with `until` has arrived (literals are
    /// read as raw bytes, so a line inside one never ends the read early by
    /// accident unless it looks exactly like the awaited line).
    pub async fn read_until(&mut self, until: &str) -> String {
        String::from_utf8_lossy(&self.read_bytes_until(until).await).into_owned()
    }

    /// Like `read_until`, the bytes as sent (8-bit and NUL bytes kept).
    pub async fn read_bytes_until(&mut self, until: &str) -> Vec<u8> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(end) = find_line_starting(&self.pending, until.as_bytes()) {
                return self.pending.drain(..end).collect();
            }
            let mut buf = vec![0u8; 65536];
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut buf))
                .await
                .unwrap_or_else(|_| {
                    panic!("no {until:?} within 10 s; got {:?}", String::from_utf8_lossy(&self.pending))
                })
                .unwrap();
            assert!(n > 0, "connection closed; got {:?}", String::from_utf8_lossy(&self.pending));
            self.pending.extend_from_slice(&buf[..n]);
        }
    }

    /// Sends a command and returns everything up to its tagged response.
    pub async fn cmd(&mut self, tag: &str, rest: &str) -> String {
        self.send(format!("{tag} {rest}\r\n").as_bytes()).await;
        self.read_until(&format!("{tag} ")).await
    }

    /// Like `cmd`, the response's bytes as sent.
    pub async fn cmd_bytes(&mut self, tag: &str, rest: &str) -> Vec<u8> {
        self.send(format!("{tag} {rest}\r\n").as_bytes()).await;
        self.read_bytes_until(&format!("{tag} ")).await
    }

    pub async fn greeting(&mut self) -> String {
        self.read_until("* OK").await
    }

    pub async fn login(&mut self) {
        self.greeting().await;
        let r = self.cmd("l", &format!("LOGIN claire.martin@ac-demo.fr {PASSWORD}")).await;
        assert!(r.starts_with("l OK"), "{r}");
    }

    /// Whether the server closed the connection (reads to the end).
    pub async fn closed(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}

/// The end (after its CRLF) of the first line starting with `prefix`.
fn find_line_starting(buf: &[u8], prefix: &[u8]) -> Option<usize> {
    let mut start = 0;
    while start < buf.len() {
        let nl = buf[start..].iter().position(|&b| b == b'\n')? + start;
        if buf[start..].starts_with(prefix) {
            return Some(nl + 1);
        }
        start = nl + 1;
    }
    None
}
