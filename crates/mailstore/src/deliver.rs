//! Delivery: hash and parse once, store the blob once (from the caller's bytes,
//! written while the transaction that files every copy runs, which commits
//! only once the file is durable); and who a recipient address stands for,
//! role addresses included.

pub use blob::Bytes;
use model::{AccountId, Address, Domain, MailboxId, SpecialUse};
use store::{NewMessage, Target, Urgency};

use crate::{EnvelopeForms, Error, MailEvent, Mailstore, analyse};

/// What a recipient address means to this platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientStatus {
    /// A local account that accepts mail.
    Local(AccountId),
    /// A local domain, but no such address (or a closed account).
    Unknown,
    /// Not one of our domains: accepting it would be relaying.
    NotLocal,
    /// The account is full; the sender should retry later.
    OverQuota(AccountId),
    /// `postmaster@` or `abuse@` of a local domain with no account or alias of
    /// that address: the domain's administrators, each to get a copy (those
    /// whose mailbox is full are left out while another one has room).
    Administrators(Vec<AccountId>),
}

/// The administrative role whose holders on a domain's académie answer for
/// its `postmaster@` and `abuse@` (`identity`'s `AdminRole::Academie`; the
/// binary's tests check that the two names agree).
pub const ADMINISTRATOR_ROLE: &str = "admin-academie";

/// Local parts that every local domain receives mail for (RFC 5321 section
/// 4.5.1 for postmaster, RFC 2142 for abuse); addresses are lower case.
const ROLE_ADDRESSES: [&str; 2] = ["postmaster", "abuse"];

/// The account that answers for a domain when no administrator is named.
const FALLBACK_ADMINISTRATOR: &str = "admin";

/// Where one copy goes and with which initial flags.
#[derive(Debug, Clone)]
pub struct DeliveryTarget {
    pub account: AccountId,
    /// `None` means the account's Inbox.
    pub mailbox: Option<MailboxId>,
    pub flags: i64,
    pub keywords: Vec<String>,
}

impl DeliveryTarget {
    pub fn inbox(account: AccountId) -> DeliveryTarget {
        DeliveryTarget { account, mailbox: None, flags: 0, keywords: Vec::new() }
    }
}

/// One stored copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub account: AccountId,
    pub mailbox: MailboxId,
    pub uid: i64,
    pub modseq: i64,
}

impl Mailstore {
    /// Classifies a recipient; `size` is the announced message size, if any.
    ///
    /// The quota is checked here, at RCPT time, against the announced size (or
    /// against a full mailbox when none was announced): a message accepted for a
    /// recipient is then delivered even if it overshoots the quota by itself,
    /// because the single reply to DATA cannot refuse one recipient among many.
    pub async fn check_recipient(&self, addr: &Address, size: Option<u64>) -> Result<RecipientStatus, Error> {
        if !self.store.is_local_domain(addr.domain()).await? {
            return Ok(RecipientStatus::NotLocal);
        }
        let Some(account) = self.store.account_by_address(addr).await? else {
            if ROLE_ADDRESSES.contains(&addr.local()) {
                return self.role_address(addr.domain(), size).await;
            }
            return Ok(RecipientStatus::Unknown);
        };
        if !account.status.receives_mail() {
            return Ok(RecipientStatus::Unknown);
        }
        if over_quota(&account, size) {
            return Ok(RecipientStatus::OverQuota(account.id));
        }
        Ok(RecipientStatus::Local(account.id))
    }

    /// The administrators of `domain`: the holders of [`ADMINISTRATOR_ROLE`] on
    /// its académie or, when there is none, `admin@domain` if that account exists.
    pub async fn administrators(&self, domain: &Domain) -> Result<Vec<AccountId>, Error> {
        let named = self.store.domain_administrators(domain, ADMINISTRATOR_ROLE).await?;
        if !named.is_empty() {
            return Ok(named);
        }
        let Ok(fallback) = Address::parse(&format!("{FALLBACK_ADMINISTRATOR}@{domain}")) else {
            return Ok(Vec::new());
        };
        Ok(match self.store.account_by_address(&fallback).await? {
            Some(account) if account.status.receives_mail() => vec![account.id],
            _ => Vec::new(),
        })
    }

    /// What `postmaster@` or `abuse@` of a local domain reaches.
    async fn role_address(&self, domain: &Domain, size: Option<u64>) -> Result<RecipientStatus, Error> {
        let mut reached = Vec::new();
        let mut full = None;
        for id in self.administrators(domain).await? {
            match self.store.account(id).await? {
                Some(account) if over_quota(&account, size) => full = full.or(Some(id)),
                Some(_) => reached.push(id),
                None => {}
            }
        }
        Ok(match (reached.is_empty(), full) {
            (false, _) => RecipientStatus::Administrators(reached),
            (true, Some(id)) => RecipientStatus::OverQuota(id),
            (true, None) => RecipientStatus::Unknown,
        })
    }

    /// The address that an unqualified `postmaster` (RFC 5321 section 4.5.1)
    /// stands for on a server called `hostname`: its postmaster when the host
    /// name is a local domain, else that of the closest local domain above it
    /// (`mx.ac-test.fr` gives `ac-test.fr`), else that of the first local domain.
    /// With no local domain at all, the host name's, which is then refused.
    pub async fn postmaster(&self, hostname: &str) -> Result<String, Error> {
        let mut name = hostname.trim_end_matches('.');
        loop {
            if let Ok(domain) = Domain::parse(name)
                && self.store.is_local_domain(&domain).await?
            {
                return Ok(format!("postmaster@{domain}"));
            }
            match name.split_once('.') {
                Some((_, parent)) if parent.contains('.') => name = parent,
                _ => break,
            }
        }
        Ok(match self.store.first_domain().await? {
            Some(domain) => format!("postmaster@{domain}"),
            None => format!("postmaster@{hostname}"),
        })
    }

    /// Delivers `raw` to the Inbox of every account in `recipients`.
    pub async fn deliver(
        &self,
        raw: &[u8],
        recipients: &[AccountId],
        internal_date: i64,
    ) -> Result<Vec<Delivered>, Error> {
        self.deliver_owned(Bytes::copy_from_slice(raw), recipients, internal_date).await
    }

    /// [`Mailstore::deliver`] for a message the caller hands over (a `Vec`
    /// or shared [`Bytes`]): the blob is written from these very bytes, with
    /// no copy. These are deliveries from the MX and the transfer agent: they
    /// give way to interactive writes ([`store::Urgency::Bulk`]).
    pub async fn deliver_owned(
        &self,
        raw: impl Into<Bytes>,
        recipients: &[AccountId],
        internal_date: i64,
    ) -> Result<Vec<Delivered>, Error> {
        let targets: Vec<DeliveryTarget> = recipients.iter().map(|a| DeliveryTarget::inbox(*a)).collect();
        self.store_and_file(raw.into(), &targets, internal_date, Urgency::Bulk).await
    }

    /// [`Mailstore::deliver_owned`] with the folder and flags of every copy
    /// chosen by the caller (the recipients' filter rules): an incoming
    /// delivery, so it gives way to interactive writes like the Inbox one.
    pub async fn deliver_targets_owned(
        &self,
        raw: impl Into<Bytes>,
        targets: &[DeliveryTarget],
        internal_date: i64,
    ) -> Result<Vec<Delivered>, Error> {
        self.store_and_file(raw.into(), targets, internal_date, Urgency::Bulk).await
    }

    /// Stores `raw` once and files a copy for every target, durably, then
    /// notifies listeners. Returns only once bytes and metadata are on disk.
    /// A user's own write (IMAP APPEND, a draft, a sent copy): it does not
    /// wait behind queued deliveries ([`store::Urgency::Interactive`]).
    pub async fn deliver_to(
        &self,
        raw: &[u8],
        targets: &[DeliveryTarget],
        internal_date: i64,
    ) -> Result<Vec<Delivered>, Error> {
        self.store_and_file(Bytes::copy_from_slice(raw), targets, internal_date, Urgency::Interactive).await
    }

    /// [`Mailstore::deliver_to`] for a message the caller hands over: the
    /// blob is written from these very bytes, with no copy.
    pub async fn deliver_to_owned(
        &self,
        raw: impl Into<Bytes>,
        targets: &[DeliveryTarget],
        internal_date: i64,
    ) -> Result<Vec<Delivered>, Error> {
        self.store_and_file(raw.into(), targets, internal_date, Urgency::Interactive).await
    }

    /// The delivery itself: the message is hashed (once), its blob's write
    /// and fsyncs start on the blocking pool while this task parses it and
    /// finds the Inboxes, and the transaction runs once the file is durable:
    /// a crash in between leaves at worst an orphan file for the collector,
    /// never a row without its bytes.
    async fn store_and_file(
        &self,
        raw: Bytes,
        targets: &[DeliveryTarget],
        internal_date: i64,
        urgency: Urgency,
    ) -> Result<Vec<Delivered>, Error> {
        if targets.is_empty() {
            return Err(Error::NoRecipient);
        }
        let started = std::time::Instant::now();
        let content = blob::Hashed::new(raw);
        let (bytes, id) = (content.bytes().clone(), content.id().clone());
        // Held from before the write: the collector never takes a blob
        // between its write and the commit that references it.
        let shared = self.gc_lock.read().await;
        // The write and its fsyncs start on the blocking pool now; the
        // analysis and the Inbox look-ups run beside them.
        let written = self.blobs.put_hashed(content);
        let analysis = analyse::analyse(&bytes);
        let message = new_message(id, bytes.len(), &analysis, internal_date, self.envelope_forms);
        let resolved = self.resolve_targets(targets).await?;
        // Durable before the write lock is taken: concurrent deliveries and
        // APPENDs write and fsync their files in parallel, only the SQL is
        // one at a time (holding the lock through the fsync made R3 and R5
        // with 20 sessions wait for every file in turn).
        written.await?;
        let delivered = self.store.deliver_with(&message, &resolved, urgency).await?;
        drop(shared);
        let kind = match urgency {
            Urgency::Bulk => "delivery",
            Urgency::Interactive => "append",
        };
        metrics::histogram!("ardoise_store_message_seconds", "kind" => kind).record(started.elapsed().as_secs_f64());
        metrics::counter!("ardoise_messages_filed_total", "kind" => kind).increment(delivered.len() as u64);
        let rows: Vec<(AccountId, model::MessageId)> = delivered.iter().map(|d| (d.account, d.message)).collect();
        self.index_delivered(analysis, &message.blob, &rows);
        let out: Vec<Delivered> = delivered
            .iter()
            .map(|d| Delivered { account: d.account, mailbox: d.mailbox, uid: d.uid, modseq: d.modseq })
            .collect();
        for d in &out {
            self.publish(MailEvent::Delivered {
                account: d.account,
                mailbox: d.mailbox,
                uid: d.uid,
                modseq: d.modseq,
                filed: false,
            });
        }
        Ok(out)
    }

    /// The mailbox of every target, Inboxes looked up where none was named.
    async fn resolve_targets(&self, targets: &[DeliveryTarget]) -> Result<Vec<Target>, Error> {
        let mut resolved = Vec::with_capacity(targets.len());
        for t in targets {
            let mailbox = match t.mailbox {
                Some(m) => m,
                None => {
                    let inbox = self.store.mailbox_by_special_use(t.account, SpecialUse::Inbox).await?;
                    inbox.ok_or(Error::NoMailbox(t.account))?.id
                }
            };
            resolved.push(Target { account: t.account, mailbox, flags: t.flags, keywords: t.keywords.clone() });
        }
        Ok(resolved)
    }
}

/// Whether a message of the announced `size` (or any, when none was announced)
/// would overfill `account`.
fn over_quota(account: &store::Account, size: Option<u64>) -> bool {
    let Some(quota) = account.quota_bytes else {
        return false;
    };
    let incoming = size.unwrap_or(0) as i64;
    account.used_bytes >= quota || account.used_bytes + incoming > quota
}

/// The rows of a new content; its envelope forms are rendered by `forms`
/// when there is a renderer.
pub(crate) fn new_message(
    blob: model::BlobId,
    size: usize,
    a: &analyse::Analysis,
    internal_date: i64,
    forms: Option<EnvelopeForms>,
) -> NewMessage {
    let (plain, utf8) = match forms {
        Some(render) => {
            let (plain, utf8) = render(&a.envelope);
            (Some(plain), utf8)
        }
        None => (None, None),
    };
    NewMessage {
        blob,
        size: size as i64,
        meta_json: analyse::stored::to_stored(a),
        subject: a.subject.clone(),
        from_addr: a.from.clone(),
        sent_date: a.sent_date,
        has_attachment: a.has_attachment,
        preview: a.preview.clone(),
        msgid_header: a.message_id.clone(),
        references: a.references.clone(),
        internal_date,
        imap_envelope: plain,
        imap_envelope_utf8: utf8,
    }
}
