//! Plain data handed in and out of the store, and their decoding from rows.

use std::str::FromStr;

use model::{
    AccountId, AccountStatus, Address, BlobId, MailboxId, MessageId, OrgUnitId, OrgUnitKind, Role, SpecialUse, Uai,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Error, Result};

/// A new organisational unit.
#[derive(Debug, Clone)]
pub struct NewOrgUnit {
    pub parent: Option<OrgUnitId>,
    pub kind: OrgUnitKind,
    pub name: String,
    pub uai: Option<Uai>,
}

/// An organisational unit (académie, DSDEN, établissement, service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    pub id: OrgUnitId,
    pub parent: Option<OrgUnitId>,
    pub kind: OrgUnitKind,
    pub name: String,
    pub uai: Option<Uai>,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub address: Address,
    pub login: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub status: AccountStatus,
    /// `None` means unlimited.
    pub quota_bytes: Option<i64>,
    pub org_unit: Option<OrgUnitId>,
    pub password_hash: Option<String>,
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub address: Address,
    pub login: Option<String>,
    pub display_name: String,
    pub role: Role,
    pub status: AccountStatus,
    /// `None` means unlimited.
    pub quota_bytes: Option<i64>,
    pub used_bytes: i64,
    pub org_unit: Option<OrgUnitId>,
    pub password_hash: Option<String>,
    pub created_at: i64,
    pub status_changed_at: i64,
}

/// A mailbox (folder). `name` is the full path with `/` between levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub id: MailboxId,
    pub account_id: AccountId,
    pub parent_id: Option<MailboxId>,
    pub name: String,
    pub special_use: Option<SpecialUse>,
    pub uid_validity: i64,
    pub uid_next: i64,
    pub highest_modseq: i64,
    /// A parent that exists only because something was created below it
    /// (schema 16): it holds no message and IMAP lists it `\Noselect`
    /// until it is created by name or something is filed in it.
    pub placeholder: bool,
    pub created_at: i64,
}

/// A message to deliver: the blob is already in the blob store, and its
/// analysis (shared by every copy) comes along.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub blob: BlobId,
    pub size: i64,
    pub meta_json: String,
    pub subject: String,
    pub from_addr: String,
    pub sent_date: Option<i64>,
    pub has_attachment: bool,
    pub preview: String,
    /// The Message-ID header, with or without angle brackets.
    pub msgid_header: Option<String>,
    /// The message ids of In-Reply-To and References, used for threading.
    pub references: Vec<String>,
    pub internal_date: i64,
    /// The IMAP ENVELOPE, rendered for sessions without UTF-8 and, when it
    /// differs, for UTF8=ACCEPT sessions (see [`crate::Store::envelopes_between`]).
    pub imap_envelope: Option<String>,
    pub imap_envelope_utf8: Option<String>,
}

/// Where one copy of a delivered message goes.
#[derive(Debug, Clone)]
pub struct Target {
    pub account: AccountId,
    pub mailbox: MailboxId,
    /// Bit set of [`model::Flag::bit`].
    pub flags: i64,
    pub keywords: Vec<String>,
}

/// One stored copy, as created by a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub account: AccountId,
    pub mailbox: MailboxId,
    pub message: MessageId,
    /// Always within `1..=u32::MAX`.
    pub uid: i64,
    pub modseq: i64,
    pub thread_id: i64,
}

/// A stored copy of a message in a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: MessageId,
    pub account_id: AccountId,
    pub mailbox_id: MailboxId,
    pub uid: i64,
    pub modseq: i64,
    /// Bit set of [`model::Flag::bit`].
    pub flags: i64,
    pub keywords: Vec<String>,
    pub internal_date: i64,
    pub saved_date: i64,
    pub size: i64,
    pub thread_id: i64,
    pub blob_hash: BlobId,
    /// Without angle brackets.
    pub msgid_header: Option<String>,
}

/// The shared row of a blob: reference count and message analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRow {
    pub id: BlobId,
    pub size: i64,
    pub refcount: i64,
    /// When the last reference went away, while `refcount` is 0.
    pub released_at: Option<i64>,
    pub meta_json: String,
    pub subject: String,
    pub from_addr: String,
    pub sent_date: Option<i64>,
    pub has_attachment: bool,
    pub preview: String,
    pub created_at: i64,
}

/// What a change-log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    New,
    Flags,
    Expunge,
    Mailbox,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::New => "new",
            ChangeKind::Flags => "flags",
            ChangeKind::Expunge => "expunge",
            ChangeKind::Mailbox => "mailbox",
        }
    }
}

impl FromStr for ChangeKind {
    type Err = String;
    fn from_str(s: &str) -> Result<ChangeKind, String> {
        [ChangeKind::New, ChangeKind::Flags, ChangeKind::Expunge, ChangeKind::Mailbox]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown change kind {s:?}"))
    }
}

/// An entry of the change log. `id` orders an account's changes (JMAP
/// states); `modseq` orders a mailbox's (IMAP CONDSTORE and QRESYNC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: i64,
    pub account_id: AccountId,
    pub mailbox_id: MailboxId,
    pub modseq: i64,
    pub kind: ChangeKind,
    /// 0 for mailbox changes.
    pub uid: i64,
    pub message_id: Option<MessageId>,
    pub at: i64,
}

/// Column lists matching the decoders below, so that a query and its
/// decoder cannot drift apart.
pub(crate) const ORG_UNIT_COLS: &str = "id, parent_id, kind, name, uai";
pub(crate) const ACCOUNT_COLS: &str = "id, address, login, display_name, role, status, quota_bytes, \
     used_bytes, org_unit_id, password_hash, created_at, status_changed_at";
pub(crate) const MAILBOX_COLS: &str = "id, account_id, parent_id, name, special_use, uid_validity, \
     uid_next, highest_modseq, placeholder, created_at";
pub(crate) const MESSAGE_COLS: &str = "id, account_id, mailbox_id, uid, modseq, flags, keywords, \
     internal_date, saved_date, size, thread_id, blob_hash, msgid_header";
pub(crate) const BLOB_COLS: &str = "hash, size, refcount, released_at, meta, subject, from_addr, \
     sent_date, has_attachment, preview, created_at";
pub(crate) const CHANGE_COLS: &str = "id, account_id, mailbox_id, modseq, kind, uid, message_id, at";

/// Parses a stored text, reporting failures as corrupt data.
fn parse<T, E: std::fmt::Display>(what: &str, text: &str, f: impl FnOnce(&str) -> Result<T, E>) -> Result<T> {
    f(text).map_err(|e| Error::Corrupt(format!("{what} {text:?}: {e}")))
}

pub(crate) fn blob_id(text: &str) -> Result<BlobId> {
    BlobId::from_hex(text).ok_or_else(|| Error::Corrupt(format!("blob hash {text:?}")))
}

pub(crate) fn split_keywords(text: &str) -> Vec<String> {
    text.split_ascii_whitespace().map(str::to_owned).collect()
}

impl OrgUnit {
    pub(crate) fn from_row(row: &AnyRow) -> Result<OrgUnit> {
        let kind: String = row.try_get("kind")?;
        let uai: Option<String> = row.try_get("uai")?;
        Ok(OrgUnit {
            id: row.try_get("id")?,
            parent: row.try_get("parent_id")?,
            kind: parse("org unit kind", &kind, |s| OrgUnitKind::parse(s).ok_or("unknown"))?,
            name: row.try_get("name")?,
            uai: uai.map(|u| parse("UAI", &u, Uai::parse)).transpose()?,
        })
    }
}

impl Account {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Account> {
        let address: String = row.try_get("address")?;
        let role: String = row.try_get("role")?;
        let status: String = row.try_get("status")?;
        Ok(Account {
            id: row.try_get("id")?,
            address: parse("address", &address, Address::parse)?,
            login: row.try_get("login")?,
            display_name: row.try_get("display_name")?,
            role: parse("role", &role, Role::from_str)?,
            status: parse("status", &status, AccountStatus::from_str)?,
            quota_bytes: row.try_get("quota_bytes")?,
            used_bytes: row.try_get("used_bytes")?,
            org_unit: row.try_get("org_unit_id")?,
            password_hash: row.try_get("password_hash")?,
            created_at: row.try_get("created_at")?,
            status_changed_at: row.try_get("status_changed_at")?,
        })
    }
}

impl Mailbox {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Mailbox> {
        let special_use: Option<String> = row.try_get("special_use")?;
        Ok(Mailbox {
            id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            parent_id: row.try_get("parent_id")?,
            name: row.try_get("name")?,
            special_use: special_use.map(|s| parse("special use", &s, SpecialUse::from_str)).transpose()?,
            uid_validity: row.try_get("uid_validity")?,
            uid_next: row.try_get("uid_next")?,
            highest_modseq: row.try_get("highest_modseq")?,
            placeholder: row.try_get::<i64, _>("placeholder")? != 0,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl MessageRow {
    pub(crate) fn from_row(row: &AnyRow) -> Result<MessageRow> {
        let keywords: String = row.try_get("keywords")?;
        let blob: String = row.try_get("blob_hash")?;
        Ok(MessageRow {
            id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            mailbox_id: row.try_get("mailbox_id")?,
            uid: row.try_get("uid")?,
            modseq: row.try_get("modseq")?,
            flags: row.try_get("flags")?,
            keywords: split_keywords(&keywords),
            internal_date: row.try_get("internal_date")?,
            saved_date: row.try_get("saved_date")?,
            size: row.try_get("size")?,
            thread_id: row.try_get("thread_id")?,
            blob_hash: blob_id(&blob)?,
            msgid_header: row.try_get("msgid_header")?,
        })
    }
}

impl BlobRow {
    pub(crate) fn from_row(row: &AnyRow) -> Result<BlobRow> {
        let hash: String = row.try_get("hash")?;
        Ok(BlobRow {
            id: blob_id(&hash)?,
            size: row.try_get("size")?,
            refcount: row.try_get("refcount")?,
            released_at: row.try_get("released_at")?,
            meta_json: row.try_get("meta")?,
            subject: row.try_get("subject")?,
            from_addr: row.try_get("from_addr")?,
            sent_date: row.try_get("sent_date")?,
            has_attachment: row.try_get::<i64, _>("has_attachment")? != 0,
            preview: row.try_get("preview")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl Change {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Change> {
        let kind: String = row.try_get("kind")?;
        Ok(Change {
            id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            mailbox_id: row.try_get("mailbox_id")?,
            modseq: row.try_get("modseq")?,
            kind: parse("change kind", &kind, ChangeKind::from_str)?,
            uid: row.try_get("uid")?,
            message_id: row.try_get("message_id")?,
            at: row.try_get("at")?,
        })
    }
}

/// How [`crate::Store::update_flags`] combines the given flags with a
/// message's current ones (IMAP `STORE FLAGS`, `+FLAGS`, `-FLAGS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Replace,
    Add,
    Remove,
}

/// What [`crate::Store::update_flags`] did to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagOutcome {
    /// The flags changed: new flags, sorted keywords and the new modseq.
    Changed { uid: i64, flags: i64, keywords: Vec<String>, modseq: i64 },
    /// Already as asked: current flags, keywords and modseq.
    Unchanged { uid: i64, flags: i64, keywords: Vec<String>, modseq: i64 },
    /// CONDSTORE: its modseq was above UNCHANGEDSINCE, so it was left alone.
    Modified { uid: i64 },
    /// No such message in the mailbox (expunged, or never existed).
    Missing { uid: i64 },
}
