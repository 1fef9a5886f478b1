//! The sender checks of submission against the header forms that used to let a
//! user send as another local address (issue 25, items 1, 2 and 20): several
//! `From:` fields in any spelling, group syntax, `Sender:`, a display name that
//! is another address, and bare CR / bare LF line ends.

use std::collections::HashMap;
use std::sync::Arc;

use mailstore::Mailstore;
use model::{AccountStatus, Address, Domain, Role, Transience};
use mta::limits::{Limiter, RoleLimits};
use mta::{Mta, OutboundSettings, Submission, SubmitError};
use store::{NewAccount, Store};

struct World {
    _dir: tempfile::TempDir,
    ms: Arc<Mailstore>,
    mta: Arc<Mta>,
    claire: store::Account,
    paul: store::Account,
}

async fn account(store: &Store, local: &str) -> store::Account {
    store
        .create_account(&NewAccount {
            address: Address::parse(&format!("{local}@ac-test.fr")).unwrap(),
            login: None,
            display_name: local.into(),
            role: Role::Teacher,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: None,
        })
        .await
        .unwrap()
}

/// Claire (with the alias `cdi@`), Paul and the administrator in `ac-test.fr`.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let claire = account(&store, "claire.martin").await;
    let paul = account(&store, "paul.durand").await;
    account(&store, "admin").await;
    store.add_alias(&Address::parse("cdi@ac-test.fr").unwrap(), claire.id).await.unwrap();
    let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = Mailstore::new(store.clone(), blobs.clone());
    let dkim =
        mta::dkim::DkimKeys::load_or_create(&dir.path().join("dkim"), "ardoise", &["ac-test.fr".into()]).unwrap();
    let plenty = RoleLimits { messages_per_hour: 1000, recipients_per_hour: 10_000 };
    let settings = OutboundSettings { hostname: "mx.ac-test.fr".into(), ..OutboundSettings::default() };
    let mta = Mta::new(ms.clone(), store, blobs, settings, dkim, Limiter::new(plenty, HashMap::new()));
    World { _dir: dir, ms, mta, claire, paul }
}

impl World {
    /// Claire submits `header` + a short body to Paul.
    async fn send(&self, header: &str) -> Result<(), SubmitError> {
        let message = format!("{header}To: paul.durand@ac-test.fr\r\nSubject: essai\r\n\r\nBonjour.\r\n");
        self.send_raw(message.into_bytes()).await
    }

    async fn send_raw(&self, message: Vec<u8>) -> Result<(), SubmitError> {
        let from = self.claire.address.clone();
        let rcpt = [self.paul.address.clone()];
        self.mta.submit(Submission { account: &self.claire, mail_from: Some(&from), recipients: &rcpt, message }).await
    }

    /// The raw messages in Paul's Inbox.
    async fn paul_inbox(&self) -> Vec<Vec<u8>> {
        let inbox = self.ms.mailbox_named(self.paul.id, "INBOX").await.unwrap().unwrap();
        let mut out = Vec::new();
        for row in self.ms.messages_between(inbox.id, 1, i64::MAX).await.unwrap() {
            out.push(self.ms.message_bytes(&row.blob_hash).await.unwrap());
        }
        out
    }
}

fn malformed(result: &Result<(), SubmitError>) -> bool {
    matches!(result, Err(SubmitError::Failed(Transience::Permanent, why)) if why.contains("From:") || why.contains("Sender:"))
}

#[tokio::test]
async fn exactly_one_from_field_in_any_spelling() {
    let w = world().await;
    let own = "claire.martin@ac-test.fr";
    let pairs = [
        format!("From: Administration <admin@ac-test.fr>\r\nFrom: {own}\r\n"),
        format!("From: {own}\r\nFrom: Administration <admin@ac-test.fr>\r\n"),
        format!("FROM: admin@ac-test.fr\r\nfrom: {own}\r\n"),
        format!("From : admin@ac-test.fr\r\nFrom: {own}\r\n"),
        format!("From: {own}\r\nFrom\t: admin@ac-test.fr\r\n"),
        format!("From: {own}\r\nfROM: {own}\r\n"),
    ];
    for header in &pairs {
        let result = w.send(header).await;
        assert!(malformed(&result), "{header:?} gave {result:?}");
    }
    let none = w.send("Reply-To: claire.martin@ac-test.fr\r\n").await;
    assert!(malformed(&none), "no From: gave {none:?}");
    assert!(w.paul_inbox().await.is_empty(), "nothing was delivered");
    w.send(&format!("From: Claire Martin <{own}>\r\n")).await.unwrap();
    w.send("From: <cdi@ac-test.fr>\r\n").await.unwrap();
    assert_eq!(w.paul_inbox().await.len(), 2);
}

#[tokio::test]
async fn every_address_of_from_and_sender_is_checked() {
    let w = world().await;
    let forged = [
        "From: Equipe: admin@ac-test.fr, claire.martin@ac-test.fr;\r\n",
        "From: Equipe: claire.martin@ac-test.fr;, Autre: admin@ac-test.fr;\r\n",
        "From: claire.martin@ac-test.fr, admin@ac-test.fr\r\n",
        "From: claire.martin@ac-test.fr\r\nSender: admin@ac-test.fr\r\n",
        "From: claire.martin@ac-test.fr\r\nSender: Claire <claire.martin@ac-test.fr>\r\nSender: admin@ac-test.fr\r\n",
    ];
    for header in forged {
        let result = w.send(header).await;
        assert!(
            matches!(&result, Err(SubmitError::ForgedSender(_))) || malformed(&result),
            "{header:?} gave {result:?}"
        );
    }
    assert!(w.paul_inbox().await.is_empty(), "nothing was delivered");
    w.send("From: Equipe: claire.martin@ac-test.fr, cdi@ac-test.fr;\r\nSender: cdi@ac-test.fr\r\n").await.unwrap();
}

#[tokio::test]
async fn a_display_name_may_not_be_another_address() {
    let w = world().await;
    for header in [
        "From: \"recteur@ac-test.fr\" <claire.martin@ac-test.fr>\r\n",
        "From: recteur@ac-test.fr <claire.martin@ac-test.fr>\r\n",
        "From: \"Le recteur (recteur@ac-demo.fr)\" <claire.martin@ac-test.fr>\r\n",
        "From: =?utf-8?q?recteur=40ac-test=2Efr?= <claire.martin@ac-test.fr>\r\n",
        "From: \"recteur\u{ff20}ac-test.fr\" <claire.martin@ac-test.fr>\r\n",
    ] {
        let result = w.send(header).await;
        assert!(matches!(&result, Err(SubmitError::ForgedSender(_))), "{header:?} gave {result:?}");
    }
    assert!(w.paul_inbox().await.is_empty(), "nothing was delivered");
    w.send("From: \"claire.martin@ac-test.fr\" <claire.martin@ac-test.fr>\r\n").await.unwrap();
    w.send("From: \"CDI (cdi@ac-test.fr)\" <claire.martin@ac-test.fr>\r\n").await.unwrap();
    w.send("From: \"Claire Martin\" <claire.martin@ac-test.fr>\r\n").await.unwrap();
}

#[tokio::test]
async fn bare_cr_and_bare_lf_are_made_crlf() {
    let w = world().await;
    let message =
        b"From: claire.martin@ac-test.fr\r\nTo: paul.durand@ac-test.fr\r\nSubject: x\r\n\r\nun\rdeux\nb\r.\r\ntrois\r\n";
    w.send_raw(message.to_vec()).await.unwrap();
    let stored = w.paul_inbox().await.remove(0);
    for (i, &b) in stored.iter().enumerate() {
        if b == b'\r' {
            assert_eq!(stored.get(i + 1), Some(&b'\n'), "bare CR at {i}: {:?}", String::from_utf8_lossy(&stored));
        }
        if b == b'\n' {
            assert_eq!(stored[i - 1], b'\r', "bare LF at {i}: {:?}", String::from_utf8_lossy(&stored));
        }
    }
    assert!(stored.ends_with(b"\r\n\r\nun\r\ndeux\r\nb\r\n.\r\ntrois\r\n"), "{:?}", String::from_utf8_lossy(&stored));
    // A bare-LF header block is understood the same way as a CRLF one: two From fields.
    let two = b"From: claire.martin@ac-test.fr\nFrom: admin@ac-test.fr\nTo: paul.durand@ac-test.fr\n\nhi\n";
    let result = w.send_raw(two.to_vec()).await;
    assert!(malformed(&result), "{result:?}");
    let cr = b"From: claire.martin@ac-test.fr\rFrom: admin@ac-test.fr\r\nTo: paul.durand@ac-test.fr\r\n\r\nhi\r\n";
    let result = w.send_raw(cr.to_vec()).await;
    assert!(malformed(&result), "{result:?}");
}
