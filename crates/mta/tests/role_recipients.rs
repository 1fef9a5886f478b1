//! A local user's mail to `postmaster@` or `abuse@` of a local domain reaches
//! its administrators, as the same mail from outside does: submission resolves
//! local addresses the way the MX does (`Mailstore::check_recipient`).

use std::collections::HashMap;
use std::sync::Arc;

use mailstore::Mailstore;
use model::{AccountStatus, Address, Domain, Role, Transience};
use mta::limits::{Limiter, RoleLimits};
use mta::{Destination, Mta, OutboundSettings, Submission, SubmitError};
use store::{NewAccount, Store};

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    blobs: blob::BlobStore,
    mta: Arc<Mta>,
    claire: store::Account,
    admin: store::Account,
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

/// Claire and `admin@`, who answers for `ac-test.fr` as no administrator is named.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("meta.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    store.add_domain(&Domain::parse("ac-test.fr").unwrap()).await.unwrap();
    let claire = account(&store, "claire.martin").await;
    let admin = account(&store, "admin").await;
    let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
    let ms = Mailstore::new(store.clone(), blobs.clone());
    let dkim =
        mta::dkim::DkimKeys::load_or_create(&dir.path().join("dkim"), "ardoise", &["ac-test.fr".into()]).unwrap();
    let plenty = RoleLimits { messages_per_hour: 1000, recipients_per_hour: 10_000 };
    let settings = OutboundSettings { hostname: "mx.ac-test.fr".into(), ..OutboundSettings::default() };
    let mta = Mta::new(ms, store.clone(), blobs.clone(), settings, dkim, Limiter::new(plenty, HashMap::new()));
    World { _dir: dir, store, blobs, mta, claire, admin }
}

impl World {
    async fn send_to(&self, to: &str, subject: &str) -> Result<(), SubmitError> {
        let from = self.claire.address.clone();
        let message = format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nBonjour.\r\n").into_bytes();
        let rcpt = [Address::parse(to).unwrap()];
        self.mta.submit(Submission { account: &self.claire, mail_from: Some(&from), recipients: &rcpt, message }).await
    }

    /// The subjects in `account`'s Inbox, in arrival order.
    async fn inbox(&self, account: &store::Account) -> Vec<String> {
        let inbox = self.store.mailbox_by_name(account.id, "INBOX").await.unwrap().unwrap();
        let mut out = Vec::new();
        for row in self.store.messages_between(inbox.id, 1, i64::MAX).await.unwrap() {
            let raw = String::from_utf8(self.blobs.get(&row.blob_hash).await.unwrap()).unwrap();
            out.extend(raw.lines().find_map(|l| l.strip_prefix("Subject: ")).map(str::to_owned));
        }
        out
    }
}

#[tokio::test]
async fn postmaster_and_abuse_are_local_destinations() {
    let w = world().await;
    for role in ["postmaster@ac-test.fr", "abuse@ac-test.fr"] {
        let to = Address::parse(role).unwrap();
        assert_eq!(w.mta.destination(&to).await.unwrap(), Destination::Local(vec![w.admin.id]), "{role}");
    }
    let nobody = Address::parse("personne@ac-test.fr").unwrap();
    assert_eq!(w.mta.destination(&nobody).await.unwrap(), Destination::UnknownLocal);
    let remote = Address::parse("postmaster@example.org").unwrap();
    assert_eq!(w.mta.destination(&remote).await.unwrap(), Destination::Remote);
}

#[tokio::test]
async fn a_local_user_writes_to_the_postmaster_and_the_administrator_receives_it() {
    let w = world().await;
    w.send_to("postmaster@ac-test.fr", "Question au postmaster").await.unwrap();
    w.send_to("abuse@ac-test.fr", "Signalement").await.unwrap();
    assert_eq!(w.inbox(&w.admin).await, ["Question au postmaster", "Signalement"]);
    let refused = w.send_to("personne@ac-test.fr", "Perdu").await;
    assert!(matches!(refused, Err(SubmitError::Failed(Transience::Permanent, _))), "{refused:?}");
}
