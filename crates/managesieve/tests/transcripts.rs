//! ManageSieve dialogues driven in memory (RFC 5804), against a real store
//! and the real identity service.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use filter::{FilterSettings, Filters};
use identity::Identity;
use mailstore::Mailstore;
use managesieve::{Config, Services};
use model::{AccountStatus, Address, Domain, Role};
use store::{NewAccount, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::watch;

const PASSWORD: &str = "Ardoise-Demo-2026";

struct Fixture {
    services: Services,
    ms: Arc<Mailstore>,
    /// Claire's and Paul's account ids.
    ids: Vec<i64>,
    cfg: Arc<Config>,
    shutdown: watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

async fn fixture(settings: FilterSettings) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("meta.db").display());
    let store = Store::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = Mailstore::new(store.clone(), blobs);
    let identity = Identity::new(store.clone(), ms.clone(), identity::Settings::default());
    store.add_domain(&Domain::parse("ac-demo.fr").unwrap()).await.unwrap();
    let mut ids = Vec::new();
    for local in ["claire.martin", "paul.durand"] {
        let salt = SaltString::generate(&mut OsRng);
        let hash = argon2::Argon2::default().hash_password(PASSWORD.as_bytes(), &salt).unwrap().to_string();
        let account = store
            .create_account(&NewAccount {
                address: Address::parse(&format!("{local}@ac-demo.fr")).unwrap(),
                login: None,
                display_name: local.into(),
                role: Role::Teacher,
                status: AccountStatus::Active,
                quota_bytes: None,
                org_unit: None,
                password_hash: Some(hash),
            })
            .await
            .unwrap();
        ids.push(account.id);
    }
    let filters = Filters::new(store, ms.clone(), settings);
    let cfg = Arc::new(Config {
        allow_plaintext_loopback: true,
        auth_failure_delay: Duration::from_millis(10),
        max_line: 1024,
        max_discard: 200_000,
        idle_timeout: Duration::from_secs(1),
        ..Config::default()
    });
    let (shutdown, _) = watch::channel(false);
    Fixture { services: Services { filters, identity }, ms, ids, cfg, shutdown, _dir: dir }
}

struct Client {
    stream: DuplexStream,
}

impl Fixture {
    fn connect_from(&self, ip: [u8; 4]) -> Client {
        let (client, server) = tokio::io::duplex(1 << 20);
        let (cfg, services, rx) = (self.cfg.clone(), self.services.clone(), self.shutdown.subscribe());
        tokio::spawn(async move {
            managesieve::handle_connection(server, std::net::IpAddr::from(ip), &cfg, services, None, rx).await;
        });
        Client { stream: client }
    }

    async fn logged_in(&self, user: &str) -> Client {
        let mut c = self.connect_from([127, 0, 0, 1]);
        c.response().await;
        let plain = b64(&format!("\0{user}\0{PASSWORD}"));
        let r = c.send(&format!("AUTHENTICATE \"PLAIN\" \"{plain}\"\r\n")).await;
        assert!(r.starts_with("OK"), "{r}");
        c
    }
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

impl Client {
    /// Reads one line (a SASL challenge other than `""`).
    async fn line(&mut self) -> String {
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(b"\r\n") {
            let n = tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut byte)).await.unwrap().unwrap();
            assert_eq!(n, 1, "connection closed after {got:?}");
            got.push(byte[0]);
        }
        String::from_utf8(got).unwrap()
    }

    /// Reads until a response line (`OK`, `NO`, `BYE`, or the SASL
    /// challenge `""`) ends what the server sent.
    async fn response(&mut self) -> String {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut buf)).await.unwrap().unwrap();
            if n == 0 {
                return String::from_utf8_lossy(&got).into_owned();
            }
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).into_owned();
            let last = text.trim_end_matches("\r\n").rsplit("\r\n").next().unwrap_or("");
            if text.ends_with("\r\n") && (["OK", "NO", "BYE"].iter().any(|k| last.starts_with(k)) || last == "\"\"") {
                return text;
            }
        }
    }

    async fn send(&mut self, line: &str) -> String {
        self.stream.write_all(line.as_bytes()).await.unwrap();
        self.response().await
    }
}

#[tokio::test]
async fn greeting_lists_the_capabilities() {
    let f = fixture(FilterSettings::default()).await;
    let mut c = f.connect_from([127, 0, 0, 1]);
    let greeting = c.response().await;
    assert!(greeting.starts_with("\"IMPLEMENTATION\" \"Ardoise\"\r\n"), "{greeting}");
    assert!(greeting.contains("\"SASL\" \"PLAIN OAUTHBEARER XOAUTH2\"\r\n"), "{greeting}");
    assert!(greeting.contains("\"SIEVE\" \"fileinto reject ereject envelope"), "{greeting}");
    assert!(greeting.contains("\"VERSION\" \"1.0\"\r\n"));
    assert!(!greeting.contains("STARTTLS"), "no TLS acceptor here");
    assert!(greeting.ends_with("OK \"Ardoise ManageSieve prêt / ready\"\r\n"));
    assert_eq!(c.send("CAPABILITY\r\n").await, greeting.replace("Ardoise ManageSieve prêt / ready", "Fait / Done"));
    assert_eq!(c.send("NOOP \"t1\"\r\n").await, "OK (TAG \"t1\") \"Fait / Done\"\r\n");
    assert!(c.send("LISTSCRIPTS\r\n").await.starts_with("NO \"Authentifiez-vous d'abord"));
    assert_eq!(c.send("LOGOUT\r\n").await, "OK \"Au revoir / Bye\"\r\n");
}

#[tokio::test]
async fn authentication_before_tls_is_refused_away_from_loopback() {
    let f = fixture(FilterSettings::default()).await;
    let mut c = f.connect_from([192, 0, 2, 7]);
    let greeting = c.response().await;
    assert!(greeting.contains("\"SASL\" \"\"\r\n"), "{greeting}");
    let plain = b64(&format!("\0claire.martin@ac-demo.fr\0{PASSWORD}"));
    let r = c.send(&format!("AUTHENTICATE \"PLAIN\" \"{plain}\"\r\n")).await;
    assert!(r.starts_with("NO (ENCRYPT-NEEDED)"), "{r}");
}

#[tokio::test]
async fn plain_with_a_continuation_wrong_passwords_and_unauthenticate() {
    let f = fixture(FilterSettings::default()).await;
    let mut c = f.connect_from([127, 0, 0, 1]);
    c.response().await;
    assert_eq!(c.send("AUTHENTICATE \"PLAIN\"\r\n").await, "\"\"\r\n");
    let bad = b64("\0claire.martin@ac-demo.fr\0mauvais");
    let r = c.send(&format!("{{{}+}}\r\n{bad}\r\n", bad.len())).await;
    assert!(r.starts_with("NO \"Identifiant ou mot de passe incorrect"), "{r}");
    assert_eq!(c.send("AUTHENTICATE \"PLAIN\"\r\n").await, "\"\"\r\n");
    assert!(c.send("\"*\"\r\n").await.starts_with("NO \"Authentification abandonnée"));
    let other = b64(&format!("paul.durand@ac-demo.fr\0claire.martin@ac-demo.fr\0{PASSWORD}"));
    assert!(c.send(&format!("AUTHENTICATE \"PLAIN\" \"{other}\"\r\n")).await.starts_with("NO \"Agir pour un autre"));
    assert_eq!(c.send("AUTHENTICATE \"PLAIN\"\r\n").await, "\"\"\r\n");
    let good = b64(&format!("\0claire.martin@ac-demo.fr\0{PASSWORD}"));
    assert_eq!(c.send(&format!("\"{good}\"\r\n")).await, "OK \"Authentifié / Logged in\"\r\n");
    assert_eq!(c.send("LISTSCRIPTS\r\n").await, "OK \"Fait / Done\"\r\n");
    assert_eq!(c.send("UNAUTHENTICATE\r\n").await, "OK \"Déconnecté / Unauthenticated\"\r\n");
    assert!(c.send("LISTSCRIPTS\r\n").await.starts_with("NO"));
}

#[tokio::test]
async fn a_refused_bearer_token_gets_the_json_error_challenge_then_no() {
    let f = fixture(FilterSettings::default()).await;
    let mut c = f.connect_from([127, 0, 0, 1]);
    c.response().await;
    let garbage = b64("n,a=claire.martin@ac-demo.fr,\x01auth=Bearer nimporte-quoi\x01\x01");
    c.stream.write_all(format!("AUTHENTICATE \"OAUTHBEARER\" \"{garbage}\"\r\n").as_bytes()).await.unwrap();
    let line = c.line().await;
    let json = line.trim_end().trim_matches('"');
    let json = String::from_utf8(base64::Engine::decode(&base64::engine::general_purpose::STANDARD, json).unwrap());
    assert!(json.unwrap().starts_with(r#"{"status":"invalid_token","scope":"openid mail""#), "{line}");
    let r = c.send("\"AQ==\"\r\n").await;
    assert!(r.starts_with("NO \"Identifiant ou mot de passe incorrect"), "{r}");
    // XOAUTH2 after a continuation; the client may cancel at the error challenge.
    assert_eq!(c.send("AUTHENTICATE \"XOAUTH2\"\r\n").await, "\"\"\r\n");
    let garbage = b64("user=claire.martin@ac-demo.fr\x01auth=Bearer nimporte-quoi\x01\x01");
    c.stream.write_all(format!("\"{garbage}\"\r\n").as_bytes()).await.unwrap();
    assert!(c.line().await.starts_with('"'));
    assert!(c.send("\"*\"\r\n").await.starts_with("NO"));
    // Malformed: no GS2 header, refused before any token is looked at.
    let malformed = b64("auth=Bearer abc\x01\x01");
    let r = c.send(&format!("AUTHENTICATE \"OAUTHBEARER\" \"{malformed}\"\r\n")).await;
    assert!(r.starts_with("NO \"Réponse SASL mal formée"), "{r}");
    assert!(c.send("LISTSCRIPTS\r\n").await.starts_with("NO \"Authentifiez-vous d'abord"));
}

#[tokio::test]
async fn put_list_get_activate_rename_delete() {
    let f = fixture(FilterSettings::default()).await;
    let mut c = f.logged_in("claire.martin@ac-demo.fr").await;
    let script = "require [\"fileinto\", \"mailbox\"];\r\nif header :contains \"subject\" \"réunion\" {\r\n  fileinto :create \"Réunions\";\r\n}\r\n";
    let r = c.send(&format!("HAVESPACE \"réunions\" {}\r\n", script.len())).await;
    assert!(r.starts_with("OK"), "{r}");
    let r = c.send(&format!("PUTSCRIPT \"réunions\" {{{}+}}\r\n{script}\r\n", script.len())).await;
    assert_eq!(r, "OK \"Script enregistré / Script stored\"\r\n");
    assert_eq!(
        c.send("PUTSCRIPT \"brouillon\" {5}\r\nkeep;\r\n").await,
        "OK \"Script enregistré / Script stored\"\r\n"
    );
    assert_eq!(c.send("LISTSCRIPTS\r\n").await, "\"brouillon\"\r\n\"réunions\"\r\nOK \"Fait / Done\"\r\n");
    assert_eq!(c.send("SETACTIVE \"réunions\"\r\n").await, "OK \"Fait / Done\"\r\n");
    assert_eq!(c.send("LISTSCRIPTS\r\n").await, "\"brouillon\"\r\n\"réunions\" ACTIVE\r\nOK \"Fait / Done\"\r\n");
    assert_eq!(
        c.send("GETSCRIPT \"réunions\"\r\n").await,
        format!("{{{}}}\r\n{script}\r\nOK \"Fait / Done\"\r\n", script.len())
    );
    assert!(c.send("GETSCRIPT \"absent\"\r\n").await.starts_with("NO (NONEXISTENT)"));
    assert!(c.send("SETACTIVE \"absent\"\r\n").await.starts_with("NO (NONEXISTENT)"));
    assert!(c.send("DELETESCRIPT \"réunions\"\r\n").await.starts_with("NO (ACTIVE)"));
    assert!(c.send("RENAMESCRIPT \"réunions\" \"brouillon\"\r\n").await.starts_with("NO (ALREADYEXISTS)"));
    assert_eq!(c.send("RENAMESCRIPT \"réunions\" \"principal\"\r\n").await, "OK \"Fait / Done\"\r\n");
    assert_eq!(c.send("LISTSCRIPTS\r\n").await, "\"brouillon\"\r\n\"principal\" ACTIVE\r\nOK \"Fait / Done\"\r\n");
    assert_eq!(c.send("SETACTIVE \"\"\r\n").await, "OK \"Fait / Done\"\r\n");
    assert_eq!(c.send("DELETESCRIPT \"principal\"\r\n").await, "OK \"Fait / Done\"\r\n");
    assert_eq!(c.send("LISTSCRIPTS\r\n").await, "\"brouillon\"\r\nOK \"Fait / Done\"\r\n");
    assert!(c.send("PUTSCRIPT \"a\nb\" \"keep;\"\r\n").await.starts_with("NO"), "a line break in a quoted name");
    assert!(c.send("PUTSCRIPT {3+}\r\na\u{7}b {5+}\r\nkeep;\r\n").await.starts_with("NO \"Nom de script invalide"));

    // Paul sees none of Claire's scripts.
    let mut p = f.logged_in("paul.durand@ac-demo.fr").await;
    assert_eq!(p.send("LISTSCRIPTS\r\n").await, "OK \"Fait / Done\"\r\n");
    assert!(p.send("GETSCRIPT \"brouillon\"\r\n").await.starts_with("NO (NONEXISTENT)"));
    assert!(p.send("DELETESCRIPT \"brouillon\"\r\n").await.starts_with("NO (NONEXISTENT)"));
}

#[tokio::test]
async fn errors_carry_their_line_and_checkscript_stores_nothing() {
    let f = fixture(FilterSettings::default()).await;
    let mut c = f.logged_in("claire.martin@ac-demo.fr").await;
    let bad = "require \"fileinto\";\r\nif header :contains \"subject\" \"x\" {\r\n  fileinto \"A\"\r\n}\r\n";
    let r = c.send(&format!("CHECKSCRIPT {{{}+}}\r\n{bad}\r\n", bad.len())).await;
    assert!(r.starts_with("NO \"ligne 4 : "), "{r}");
    let r = c.send(&format!("PUTSCRIPT \"faux\" {{{}+}}\r\n{bad}\r\n", bad.len())).await;
    assert!(r.starts_with("NO \"ligne 4 : "), "{r}");
    let r = c.send("CHECKSCRIPT \"require \\\"vnd.stalwart.while\\\"; keep;\"\r\n").await;
    assert!(r.contains("extension « vnd.stalwart.while » non prise en charge"), "{r}");
    assert_eq!(c.send("CHECKSCRIPT \"keep;\"\r\n").await, "OK \"Script valide / Script is valid\"\r\n");
    assert_eq!(c.send("LISTSCRIPTS\r\n").await, "OK \"Fait / Done\"\r\n");
}

#[tokio::test]
async fn quotas_on_size_and_count() {
    let f = fixture(FilterSettings { max_scripts: 2, max_script_size: 100, ..FilterSettings::default() }).await;
    let mut c = f.logged_in("claire.martin@ac-demo.fr").await;
    assert!(c.send("HAVESPACE \"a\" 101\r\n").await.starts_with("NO (QUOTA/MAXSIZE)"));
    assert!(c.send("HAVESPACE \"a\" 99999999999999\r\n").await.starts_with("NO (QUOTA/MAXSIZE)"));
    assert!(c.send("HAVESPACE \"a\" x\r\n").await.starts_with("NO \"Arguments invalides"));
    // Over the cap: read, dropped, refused; the session goes on.
    let big = "#".repeat(150);
    assert!(c.send(&format!("PUTSCRIPT \"a\" {{150+}}\r\n{big}\r\n")).await.starts_with("NO (QUOTA/MAXSIZE)"));
    assert_eq!(c.send("PUTSCRIPT \"a\" \"keep;\"\r\n").await, "OK \"Script enregistré / Script stored\"\r\n");
    assert_eq!(c.send("PUTSCRIPT \"b\" \"keep;\"\r\n").await, "OK \"Script enregistré / Script stored\"\r\n");
    assert!(c.send("HAVESPACE \"c\" 5\r\n").await.starts_with("NO (QUOTA/MAXSCRIPTS)"));
    assert!(c.send("HAVESPACE \"a\" 5\r\n").await.starts_with("OK"), "replacing one fits");
    assert!(c.send("PUTSCRIPT \"c\" \"keep;\"\r\n").await.starts_with("NO (QUOTA/MAXSCRIPTS)"));
    // An absurd literal ends the connection before a byte of it is read.
    let r = c.send("PUTSCRIPT \"d\" {99999999999+}\r\n").await;
    assert_eq!(r, "BYE \"Littéral démesuré / Literal too large\"\r\n");
}

#[tokio::test]
async fn long_lines_and_silence_end_the_session() {
    let f = fixture(FilterSettings::default()).await;
    let mut c = f.connect_from([127, 0, 0, 1]);
    c.response().await;
    let r = c.send(&format!("NOOP \"{}\"\r\n", "x".repeat(2_000))).await;
    assert_eq!(r, "BYE \"Ligne trop longue / Line too long\"\r\n");
    let mut quiet = f.connect_from([127, 0, 0, 1]);
    quiet.response().await;
    let r = quiet.response().await;
    assert_eq!(r, "BYE \"Délai d'inactivité dépassé / Idle timeout\"\r\n");
}

#[tokio::test]
async fn a_suspension_or_a_revoked_secret_ends_the_session() {
    let f = fixture(FilterSettings::default()).await;
    let mut c = f.logged_in("claire.martin@ac-demo.fr").await;
    let mut p = f.logged_in("paul.durand@ac-demo.fr").await;
    assert_eq!(c.send("LISTSCRIPTS\r\n").await, "OK \"Fait / Done\"\r\n");
    f.ms.revoke_access(f.ids[0]);
    assert_eq!(c.response().await, "BYE \"Accès au compte retiré / Account access revoked\"\r\n");
    // Revoking app passwords does not end a session opened with the password.
    let paul = f.ids[1];
    f.ms.revoke_credential(paul, model::Revocation::AppPasswords);
    assert_eq!(p.send("LISTSCRIPTS\r\n").await, "OK \"Fait / Done\"\r\n");
    f.ms.revoke_credential(paul, model::Revocation::Password);
    assert_eq!(p.response().await, "BYE \"Accès au compte retiré / Account access revoked\"\r\n");
}
