//! Submission sessions driven in memory over real TLS: AUTH only after TLS,
//! PLAIN and LOGIN, sender checks, refusals with their codes, and the trace header.

mod common;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use common::{CLIENT_IP, Client, config};
use model::Address;
use rustls::pki_types::ServerName;
use smtp::{AuthFailure, SubmissionEnvelope, SubmissionSink, SubmitRefusal};
use tokio::sync::watch;
use tokio_rustls::{TlsAcceptor, TlsConnector};

const USER: &str = "claire.martin@ac-demo.fr";
const PASSWORD: &str = "Ardoise-Demo-2026";

/// Knows one user, accepts her address only, refuses recipients in `inconnu`,
/// and rate-limits after `limit` messages.
#[derive(Default)]
struct FakeSubmission {
    submitted: Mutex<Vec<(SubmissionEnvelope, Vec<u8>)>>,
    limit: usize,
    /// Stands for the account's suspension.
    suspend: tokio::sync::Notify,
}

impl SubmissionSink for FakeSubmission {
    type User = String;

    async fn authenticate(&self, login: &str, password: &str, _ip: IpAddr) -> Result<String, AuthFailure> {
        match (login, password) {
            (USER, PASSWORD) => Ok(USER.to_owned()),
            ("eleve.test@ac-demo.fr", PASSWORD) => Err(AuthFailure::NotAllowed),
            ("paul.durand@ac-demo.fr", PASSWORD) => Err(AuthFailure::PasswordExpired),
            ("lente@ac-demo.fr", _) => Err(AuthFailure::Throttled),
            _ => Err(AuthFailure::BadCredentials),
        }
    }

    async fn revoked(&self, _user: &String) {
        self.suspend.notified().await;
    }

    async fn check_sender(&self, user: &String, sender: Option<&Address>) -> Result<(), SubmitRefusal> {
        match sender {
            Some(a) if a.to_string() == *user => Ok(()),
            Some(a) => Err(SubmitRefusal::ForgedSender(a.to_string())),
            None => Err(SubmitRefusal::ForgedSender("<>".into())),
        }
    }

    async fn check_recipient(&self, _user: &String, rcpt: &Address) -> Result<(), SubmitRefusal> {
        if rcpt.local() == "inconnu" { Err(SubmitRefusal::UnknownRecipient) } else { Ok(()) }
    }

    async fn submit(
        &self,
        _user: &String,
        envelope: &SubmissionEnvelope,
        message: Vec<u8>,
    ) -> Result<(), SubmitRefusal> {
        let mut submitted = self.submitted.lock().unwrap();
        if submitted.len() >= self.limit {
            return Err(SubmitRefusal::RateLimited("sending limit reached: 1 messages per hour".into()));
        }
        submitted.push((envelope.clone(), message));
        Ok(())
    }
}

fn tls_pair() -> (TlsAcceptor, TlsConnector, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let server = net::server_tls(data.path(), None, None, "mx.ac-demo.fr").unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in net::load_certs(&data.path().join("tls").join("cert.pem")).unwrap() {
        roots.add(cert).unwrap();
    }
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (TlsAcceptor::from(server), TlsConnector::from(Arc::new(client)), data)
}

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn starttls_then_auth_then_submit() {
    let (acceptor, connector, _data) = tls_pair();
    let cfg = config();
    let sink = FakeSubmission { limit: 1, ..Default::default() };
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (_keep, shutdown) = watch::channel(false);
    let session = smtp::handle_submission(server, CLIENT_IP.parse().unwrap(), &cfg, &sink, &acceptor, false, shutdown);
    let dialogue = async {
        let mut plain = Client::new(client);
        assert_eq!(plain.reply().await, "220 mx.ac-demo.fr ESMTP Ardoise (submission)\r\n");
        let ehlo = plain.ask("EHLO poste").await;
        assert!(ehlo.contains("250-STARTTLS") || ehlo.ends_with("250 STARTTLS\r\n"), "{ehlo}");
        assert!(!ehlo.contains("AUTH"), "no AUTH in clear text: {ehlo}");
        let plain_auth = format!("AUTH PLAIN {}", b64(&format!("\0{USER}\0{PASSWORD}")));
        assert!(plain.ask(&plain_auth).await.starts_with("538 5.7.11 "));
        assert!(plain.ask(&format!("MAIL FROM:<{USER}>")).await.starts_with("530 5.7.0 "));
        assert_eq!(plain.ask("STARTTLS").await, "220 2.0.0 Ready to start TLS\r\n");
        let name = ServerName::try_from("mx.ac-demo.fr").unwrap();
        let mut tls = Client::new(connector.connect(name, plain.stream.into_inner()).await.unwrap());

        let ehlo = tls.ask("EHLO poste").await;
        assert!(ehlo.contains("AUTH PLAIN LOGIN") && !ehlo.contains("STARTTLS"), "{ehlo}");
        let wrong = format!("AUTH PLAIN {}", b64(&format!("\0{USER}\0mauvais")));
        assert!(tls.ask(&wrong).await.starts_with("535 5.7.8 "));
        let student = format!("AUTH PLAIN {}", b64(&format!("\0eleve.test@ac-demo.fr\0{PASSWORD}")));
        assert!(tls.ask(&student).await.starts_with("535 5.7.8 "));
        let expired = format!("AUTH PLAIN {}", b64(&format!("\0paul.durand@ac-demo.fr\0{PASSWORD}")));
        assert_eq!(
            tls.ask(&expired).await,
            "535 5.7.8 Mot de passe expire : changez-le sur la messagerie web / Password expired: change it on the webmail\r\n"
        );
        // Slowed down after failed attempts: temporary, and it says why (issue 25 item 11).
        let slowed = format!("AUTH PLAIN {}", b64(&format!("\0lente@ac-demo.fr\0{PASSWORD}")));
        assert_eq!(
            tls.ask(&slowed).await,
            "454 4.7.0 Connexion ralentie apres des tentatives infructueuses, reessayez dans quelques minutes / \
             Logins slowed down after failed attempts, try again in a few minutes\r\n"
        );
        // AUTH LOGIN with its two challenges.
        assert_eq!(tls.ask("AUTH LOGIN").await, "334 VXNlcm5hbWU6\r\n");
        assert_eq!(tls.ask(&b64(USER)).await, "334 UGFzc3dvcmQ6\r\n");
        assert!(tls.ask(&b64(PASSWORD)).await.starts_with("235 2.7.0 "));
        assert!(tls.ask("AUTH PLAIN").await.starts_with("503 5.5.1 "));

        assert!(tls.ask("MAIL FROM:<paul.durand@ac-demo.fr>").await.starts_with("553 5.7.1 "));
        assert!(tls.ask("MAIL FROM:<>").await.starts_with("553 5.7.1 "));
        assert_eq!(tls.ask(&format!("MAIL FROM:<{USER}>")).await, "250 2.1.0 Ok\r\n");
        assert!(tls.ask("RCPT TO:<inconnu@ac-demo.fr>").await.starts_with("550 5.1.1 "));
        assert_eq!(tls.ask("RCPT TO:<parent@exemple.org>").await, "250 2.1.5 Ok\r\n");
        assert!(tls.ask("DATA").await.starts_with("354 "));
        tls.send(&format!("From: {USER}\r\nSubject: Sortie\r\n\r\n..Point\r\n.\r\n")).await;
        assert!(tls.reply().await.starts_with("250 2.0.0 Ok: queued as "));

        // Second message: over the sending limit, a temporary refusal.
        assert_eq!(tls.ask(&format!("MAIL FROM:<{USER}>")).await, "250 2.1.0 Ok\r\n");
        assert_eq!(tls.ask("RCPT TO:<parent@exemple.org>").await, "250 2.1.5 Ok\r\n");
        assert!(tls.ask("DATA").await.starts_with("354 "));
        tls.send(&format!("From: {USER}\r\nSubject: Encore\r\n\r\nx\r\n.\r\n")).await;
        assert_eq!(tls.reply().await, "450 4.7.1 sending limit reached: 1 messages per hour\r\n");
        assert!(tls.ask("QUIT").await.starts_with("221 "));
    };
    tokio::join!(session, dialogue);

    let submitted = sink.submitted.lock().unwrap();
    assert_eq!(submitted.len(), 1);
    let (envelope, message) = &submitted[0];
    assert_eq!(envelope.mail_from.as_ref().map(|a| a.to_string()).as_deref(), Some(USER));
    assert_eq!(envelope.recipients.iter().map(|a| a.to_string()).collect::<Vec<_>>(), ["parent@exemple.org"]);
    let text = String::from_utf8(message.clone()).unwrap();
    assert!(text.starts_with("Received: from poste ([192.0.2.7])\r\n\tby mx.ac-demo.fr with ESMTPSA id "), "{text}");
    assert!(text.ends_with(&format!("From: {USER}\r\nSubject: Sortie\r\n\r\n.Point\r\n")), "{text}");
}

#[tokio::test]
async fn implicit_tls_greets_after_the_handshake() {
    let (acceptor, connector, _data) = tls_pair();
    let cfg = config();
    let sink = FakeSubmission { limit: 10, ..Default::default() };
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (_keep, shutdown) = watch::channel(false);
    let session = smtp::handle_submission(server, CLIENT_IP.parse().unwrap(), &cfg, &sink, &acceptor, true, shutdown);
    let dialogue = async {
        let name = ServerName::try_from("mx.ac-demo.fr").unwrap();
        let mut tls = Client::new(connector.connect(name, client).await.unwrap());
        assert_eq!(tls.reply().await, "220 mx.ac-demo.fr ESMTP Ardoise (submission)\r\n");
        let ehlo = tls.ask("EHLO poste").await;
        assert!(ehlo.contains("AUTH PLAIN LOGIN") && !ehlo.contains("STARTTLS"), "{ehlo}");
        // AUTH PLAIN with an empty initial response, then a cancelled exchange.
        assert_eq!(tls.ask("AUTH PLAIN").await, "334 \r\n");
        assert!(tls.ask("*").await.starts_with("501 5.0.0 "));
        assert_eq!(tls.ask("AUTH PLAIN").await, "334 \r\n");
        assert!(tls.ask(&b64(&format!("{USER}\0{USER}\0{PASSWORD}"))).await.starts_with("235 "));
        assert!(tls.ask("QUIT").await.starts_with("221 "));
    };
    tokio::join!(session, dialogue);
}

#[tokio::test]
async fn a_suspension_closes_an_idle_authenticated_session() {
    let (acceptor, connector, _data) = tls_pair();
    let cfg = config();
    let sink = FakeSubmission { limit: 10, ..Default::default() };
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (_keep, shutdown) = watch::channel(false);
    let session = smtp::handle_submission(server, CLIENT_IP.parse().unwrap(), &cfg, &sink, &acceptor, true, shutdown);
    let dialogue = async {
        let name = ServerName::try_from("mx.ac-demo.fr").unwrap();
        let mut tls = Client::new(connector.connect(name, client).await.unwrap());
        tls.reply().await;
        tls.ask("EHLO poste").await;
        assert!(tls.ask(&format!("AUTH PLAIN {}", b64(&format!("\0{USER}\0{PASSWORD}")))).await.starts_with("235 "));
        // The client waits without a word; the account is suspended meanwhile.
        sink.suspend.notify_one();
        assert_eq!(tls.reply().await, "421 4.7.0 Acces au compte retire / Account access revoked\r\n");
        assert_eq!(tls.rest().await, "", "then the connection is closed");
    };
    tokio::join!(session, dialogue);
}

/// Submission runs on the MX's session core: the same limits, the same
/// replies to what neither role implements, its own EHLO keywords in order.
#[tokio::test]
async fn submission_shares_the_session_core_of_the_mx() {
    let (acceptor, connector, _data) = tls_pair();
    let cfg = smtp::SmtpConfig { max_recipients: 1, ..config() };
    let sink = FakeSubmission { limit: 10, ..Default::default() };
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (_keep, shutdown) = watch::channel(false);
    let session = smtp::handle_submission(server, CLIENT_IP.parse().unwrap(), &cfg, &sink, &acceptor, true, shutdown);
    let dialogue = async {
        let name = ServerName::try_from("mx.ac-demo.fr").unwrap();
        let mut tls = Client::new(connector.connect(name, client).await.unwrap());
        tls.reply().await;
        assert_eq!(
            tls.ask("EHLO poste").await,
            "250-mx.ac-demo.fr Bonjour [192.0.2.7]\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n\
             250-ENHANCEDSTATUSCODES\r\n250-SIZE 20971520\r\n250 AUTH PLAIN LOGIN\r\n"
        );
        assert_eq!(tls.ask("EXPN liste").await, "502 5.5.1 EXPN not implemented\r\n");
        assert_eq!(tls.ask("VRFY claire").await, "252 2.5.0 Cannot VRFY user\r\n");
        assert_eq!(tls.ask("HELP").await, "214 2.0.0 Ardoise submission, see RFC 6409\r\n");
        assert!(tls.ask(&format!("AUTH PLAIN {}", b64(&format!("\0{USER}\0{PASSWORD}")))).await.starts_with("235 "));
        // Logged in, AUTH is no longer offered.
        assert!(tls.ask("EHLO poste").await.ends_with("250 SIZE 20971520\r\n"));
        assert_eq!(tls.ask("MAIL FROM:<josé@ac-demo.fr>").await, "553 5.6.7 Non-ASCII address requires SMTPUTF8\r\n");
        assert_eq!(tls.ask(&format!("MAIL FROM:<{USER}>")).await, "250 2.1.0 Ok\r\n");
        assert_eq!(tls.ask("RCPT TO:<parent@exemple.org>").await, "250 2.1.5 Ok\r\n");
        assert_eq!(tls.ask("RCPT TO:<autre@exemple.org>").await, "452 4.5.3 Too many recipients\r\n");
        assert_eq!(tls.ask("BDAT 3 LAST").await, "502 5.5.1 BDAT not implemented\r\n");
        assert_eq!(tls.ask("RSET").await, "250 2.0.0 Ok\r\n");
        assert_eq!(
            tls.ask("RCPT TO:<parent@exemple.org>").await,
            "503 5.5.1 Bad sequence of commands: need MAIL before RCPT\r\n"
        );
        assert!(tls.ask("QUIT").await.starts_with("221 "));
    };
    tokio::join!(session, dialogue);
    assert!(sink.submitted.lock().unwrap().is_empty());
}
