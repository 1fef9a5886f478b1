//! Small builders shared by the store tests.

use model::{AccountStatus, Address, BlobId, Domain, Role, SpecialUse};
use store::{Account, Mailbox, NewAccount, NewMessage, Store, Target};

pub const DOMAIN: &str = "ac-demo.fr";

pub fn domain() -> Domain {
    Domain::parse(DOMAIN).unwrap()
}

pub fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

pub fn new_account(local: &str) -> NewAccount {
    NewAccount {
        address: addr(&format!("{local}@{DOMAIN}")),
        login: None,
        display_name: local.replace('.', " "),
        role: Role::Teacher,
        status: AccountStatus::Active,
        quota_bytes: None,
        org_unit: None,
        password_hash: None,
    }
}

/// Declares the demo domain and creates an account in it.
pub async fn account(store: &Store, local: &str) -> Account {
    store.add_domain(&domain()).await.unwrap();
    store.create_account(&new_account(local)).await.unwrap()
}

pub async fn inbox(store: &Store, account: &Account) -> Mailbox {
    store.mailbox_by_special_use(account.id, SpecialUse::Inbox).await.unwrap().unwrap()
}

/// A well-formed blob id derived from a small number.
pub fn blob(n: u64) -> BlobId {
    BlobId::from_hex(&format!("{n:064x}")).unwrap()
}

/// A message of `size` bytes whose blob id is derived from `n`.
pub fn message(n: u64, size: i64) -> NewMessage {
    NewMessage {
        blob: blob(n),
        size,
        meta_json: format!("{{\"n\":{n}}}"),
        subject: format!("Message {n}"),
        from_addr: "direction@ac-demo.fr".into(),
        sent_date: Some(1_767_225_600),
        has_attachment: n.is_multiple_of(2),
        preview: "Bonjour à toutes et à tous".into(),
        msgid_header: Some(format!("<m{n}@ac-demo.fr>")),
        references: Vec::new(),
        internal_date: 1_767_225_700,
        imap_envelope: Some(format!("(NIL \"Message {n}\" NIL NIL NIL NIL NIL NIL NIL NIL)")),
        imap_envelope_utf8: None,
    }
}

/// A message that replies to the messages with these ids.
pub fn reply(n: u64, msgid: &str, refs: &[&str]) -> NewMessage {
    NewMessage {
        msgid_header: Some(msgid.to_owned()),
        references: refs.iter().map(|r| r.to_string()).collect(),
        ..message(n, 100)
    }
}

pub fn target(mailbox: &Mailbox) -> Target {
    Target { account: mailbox.account_id, mailbox: mailbox.id, flags: 0, keywords: Vec::new() }
}
