//! The mail domain: what happens to a message between "a protocol received these
//! bytes" and "it is in these mailboxes", and back.
//!
//! Every adapter (SMTP today; IMAP APPEND, submission and the webmail later) hands
//! raw bytes to [`Mailstore::deliver`], which parses them once ([`analyse`]),
//! writes the blob durably, inserts every recipient's row and quota usage in one
//! store transaction, and only then tells listeners ([`MailEvent`]). This crate
//! never sees a socket and knows no wire format: a protocol that wants a
//! form of the envelope kept with each content (IMAP's ENVELOPE, rendered
//! once at delivery) hands its renderer in as [`EnvelopeForms`].

mod acting;
pub mod analyse;
mod bus;
mod changes;
mod delegation;
mod deleted;
mod deliver;
mod filing;
mod find;
mod gc;
mod housekeeping;
mod index;
mod mailboxes;
mod messages;
mod migrated;
mod quota_warnings;
mod settings;

use std::sync::Arc;

use blob::BlobStore;
use model::{AccountId, ErrorKind, MailboxId, Transience};
use store::Store;
use tokio::sync::{RwLock, broadcast};

pub use acting::{GranteeRefusal, MOVE_AWAY, Reached, rights_for_flags};
pub use analyse::view::{Body, File, MessageView, display_addresses};
pub use analyse::{ATTACHED_DEPTH, ATTACHED_MAX};
pub use delegation::{AclEntry, JOURNAL_LIMIT, SHARED_ROOT, SharedMailbox};
pub use deliver::{ADMINISTRATOR_ROLE, Bytes, Delivered, DeliveryTarget, RecipientStatus};
pub use filing::{Filing, FilingHook};
pub use find::QueryPart;
pub use gc::GcReport;
pub use housekeeping::{Housekeeping, HousekeepingReport};
pub use index::document_of;
pub use mailboxes::Usage;
pub use migrated::SourceMessage;
pub use quota_warnings::{HYSTERESIS, THRESHOLDS, human as human_bytes, quota_step};
/// The full-text index's query vocabulary (fields, hit sets, folding).
pub use search::{Field, Hits, fold};
/// Plain rows of the store that the domain hands out as they are: a domain
/// type would only copy their fields.
pub use store::{
    Account, Banner, BlobRow, Change, ChangeKind, Copied, DateCursor, DelayedSend, DelegationEntry, DeletedMessage,
    Deletion, DirectoryEntry, FlagOp, FlagOutcome, Found, Grant, MailIdentity, Mailbox, MessageRow, MigratedMessage,
    Notice, ReadingPrefs, Severity, SortKey, SourceFolder, Vacation, WebPrefs,
};

/// A change that open sessions may want to hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailEvent {
    /// A new message landed in `mailbox` with this UID and MODSEQ. `filed`
    /// is true when the account's own action put it there (a COPY or MOVE,
    /// a drag onto a folder): its counts and lists change as for any new
    /// message, but it is not news to announce.
    Delivered { account: AccountId, mailbox: MailboxId, uid: i64, modseq: i64, filed: bool },
    /// Flags changed or messages were expunged in `mailbox` (`modseq` is 0
    /// when not known); listeners read the change log to learn what.
    Changed { account: AccountId, mailbox: MailboxId, modseq: i64 },
    /// The account's mailboxes or subscriptions changed (created, deleted,
    /// renamed, subscribed to or not): IMAP NOTIFY's MailboxName and
    /// SubscriptionChange, read by comparing names.
    Mailboxes { account: AccountId },
    /// The account may no longer use the service (suspended, closed, or its
    /// sessions ended by the user): every open session of it closes now.
    /// `change` is the change's number when the lifecycle watcher read it
    /// from the store (see [`model::Proof`]); `None` where it was made.
    AccessRevoked { account: AccountId, change: Option<i64> },
    /// One of the account's secrets stopped being valid (password changed,
    /// app password revoked): the sessions it [covers](model::Revocation::covers)
    /// close now, the others go on. `change` as for `AccessRevoked`.
    CredentialRevoked { account: AccountId, what: model::Revocation, change: Option<i64> },
    /// One of the account's calendar alarms fired (the groupware's reminder
    /// runner recorded it): an open webmail shows it.
    Reminder { account: AccountId },
}

impl MailEvent {
    /// Whether the event ends a session of its account whose login proved
    /// `proof`: a revocation of the whole account, or of that secret, made
    /// after the login read the account.
    pub fn ends(&self, proof: model::Proof) -> bool {
        match *self {
            MailEvent::AccessRevoked { change, .. } => proof.predates(change),
            MailEvent::CredentialRevoked { what, change, .. } => {
                what.covers(proof.credential) && proof.predates(change)
            }
            MailEvent::Delivered { .. }
            | MailEvent::Changed { .. }
            | MailEvent::Mailboxes { .. }
            | MailEvent::Reminder { .. } => false,
        }
    }
}

/// Errors of the mail domain, classified for the adapters.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named thing (mailbox, message, identity...) does not exist, or
    /// is not the account's.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change collides with existing data (a folder of that name exists).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request itself is wrong (a bad folder name, the Inbox renamed...).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The metadata store failed otherwise.
    #[error("store: {0}")]
    Store(store::Error),
    #[error("blob storage: {0}")]
    Blob(#[from] std::io::Error),
    #[error("no such mailbox for account {0}")]
    NoMailbox(AccountId),
    #[error("no recipient")]
    NoRecipient,
    /// The full-text index is not enabled here.
    #[error("no full-text index")]
    NoIndex,
    /// The full-text index failed.
    #[error("{0}")]
    Search(search::Error),
    /// Someone else's mailbox, and the viewer lacks these rights (RFC 4314
    /// letters) for what they asked.
    #[error("missing rights: {0}")]
    Denied(String),
}

impl From<store::Error> for Error {
    /// The store's refusals are facts the adapters answer to (a folder that
    /// exists, a bad name): they become domain errors, the rest stays the
    /// store's.
    fn from(e: store::Error) -> Error {
        match e {
            store::Error::NotFound(what) => Error::NotFound(what),
            store::Error::Conflict(text) => Error::Conflict(text),
            store::Error::Invalid(text) => Error::Invalid(text),
            other => Error::Store(other),
        }
    }
}

impl ErrorKind for Error {
    fn transience(&self) -> Transience {
        match self {
            Error::Store(e) => e.transience(),
            Error::NotFound(_) | Error::Conflict(_) | Error::Invalid(_) | Error::Denied(_) => Transience::Permanent,
            // A full or failing disk is expected to be fixed by an operator: retry later.
            Error::Blob(_) => Transience::Temporary,
            Error::NoMailbox(_) | Error::NoRecipient => Transience::Permanent,
            // A rebuild or a restart brings it back.
            Error::NoIndex | Error::Search(_) => Transience::Temporary,
        }
    }
}

/// Events buffered per watched account before a slow watcher lags.
const ACCOUNT_EVENTS: usize = 256;

/// Renders a message's envelope at delivery in a protocol's own syntax: the
/// form for every client, and another for clients that take UTF-8 when it
/// differs. Both are stored with the content (`blobs.imap_envelope` and
/// `imap_envelope_utf8`) and handed back as they are
/// ([`Mailstore::envelopes_between`]); without a renderer nothing is stored
/// and the protocol writes the envelope from the stored analysis.
pub type EnvelopeForms = fn(&analyse::Envelope) -> (String, Option<String>);

/// The mail domain service. Cheap to share behind an `Arc`.
pub struct Mailstore {
    store: Store,
    blobs: BlobStore,
    events: broadcast::Sender<MailEvent>,
    /// One channel per account someone watches (IMAP IDLE), so that a
    /// delivery wakes only that account's sessions, not every open one.
    watchers: std::sync::Mutex<std::collections::HashMap<AccountId, broadcast::Sender<MailEvent>>>,
    /// Deliveries hold it shared, blob garbage collection exclusively, so a blob
    /// being written is never deleted as unreferenced in between.
    gc_lock: RwLock<()>,
    /// The full-text index, once enabled (`index.rs`).
    search: std::sync::OnceLock<Arc<search::Index>>,
    /// The thread that applies additions and removals to it, in order.
    indexer: std::sync::OnceLock<index::Indexer>,
    /// The envelope forms stored at delivery, when the binary gave a renderer.
    envelope_forms: Option<EnvelopeForms>,
    /// The notices showing, as IMAP logins last read them (`settings.rs`).
    login_notices: std::sync::Mutex<Option<(std::time::Instant, Vec<store::Notice>)>>,
    /// Which messages filed by other processes or nodes the index still
    /// lacks (`index/outside.rs`).
    outside: index::Outside,
    /// Told when the owner files messages elsewhere (`filing.rs`).
    filing_hook: std::sync::OnceLock<Arc<dyn FilingHook>>,
    /// The other nodes, once joined (`bus.rs`).
    bus: std::sync::OnceLock<Arc<cluster::Bus>>,
}

impl Mailstore {
    /// A domain that stores no envelope form at delivery (tests, tools).
    pub fn new(store: Store, blobs: BlobStore) -> Arc<Mailstore> {
        Mailstore::build(store, blobs, None)
    }

    /// A domain that renders every delivered message's envelope with `forms`
    /// and stores the result with the content (the server: IMAP's).
    pub fn with_envelope_forms(store: Store, blobs: BlobStore, forms: EnvelopeForms) -> Arc<Mailstore> {
        Mailstore::build(store, blobs, Some(forms))
    }

    fn build(store: Store, blobs: BlobStore, envelope_forms: Option<EnvelopeForms>) -> Arc<Mailstore> {
        let (events, _) = broadcast::channel(4096);
        Arc::new(Mailstore {
            store,
            blobs,
            events,
            watchers: Default::default(),
            gc_lock: RwLock::new(()),
            search: Default::default(),
            indexer: Default::default(),
            envelope_forms,
            login_notices: Default::default(),
            outside: Default::default(),
            filing_hook: Default::default(),
            bus: Default::default(),
        })
    }
    /// Tells `hook` of every filing from now on (the binary sets it once:
    /// the spam classifier's training).
    pub fn set_filing_hook(&self, hook: Arc<dyn FilingHook>) {
        let _ = self.filing_hook.set(hook);
    }

    /// Events from now on; a slow listener sees `Lagged` and must resynchronise.
    pub fn subscribe(&self) -> broadcast::Receiver<MailEvent> {
        self.events.subscribe()
    }
    /// Events of one account from now on; a slow listener sees `Lagged`.
    pub fn watch(&self, account: AccountId) -> broadcast::Receiver<MailEvent> {
        let mut watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
        watchers.entry(account).or_insert_with(|| broadcast::channel(ACCOUNT_EVENTS).0).subscribe()
    }
    /// Closes every open protocol session of `account` (IMAP now, submission
    /// and the web later), on every node: they watch for [`MailEvent::AccessRevoked`].
    pub fn revoke_access(&self, account: AccountId) {
        self.publish(MailEvent::AccessRevoked { account, change: None });
    }

    /// [`Mailstore::revoke_access`] on this node only, for the change
    /// numbered `change` that every node learns by itself from the store
    /// (the lifecycle watcher): sessions whose login saw it go on.
    pub fn revoke_access_here(&self, account: AccountId, change: i64) {
        self.publish_here(MailEvent::AccessRevoked { account, change: Some(change) });
    }

    /// Closes the open sessions of `account` opened with a secret that
    /// `what` revokes (see [`MailEvent::CredentialRevoked`]).
    pub fn revoke_credential(&self, account: AccountId, what: model::Revocation) {
        self.publish(MailEvent::CredentialRevoked { account, what, change: None });
    }

    /// [`Mailstore::revoke_credential`] on this node only, for the change
    /// numbered `change` (the lifecycle watcher: every node reads the
    /// change from the store).
    pub fn revoke_credential_here(&self, account: AccountId, what: model::Revocation, change: i64) {
        self.publish_here(MailEvent::CredentialRevoked { account, what, change: Some(change) });
    }

    /// Tells the account's open sessions, on every node, that one of its
    /// calendar alarms fired.
    pub fn announce_reminder(&self, account: AccountId) {
        self.publish(MailEvent::Reminder { account });
    }

    /// Tells every listener, and the account's watchers, of an event, here
    /// and on the other nodes.
    pub(crate) fn publish(&self, event: MailEvent) {
        self.publish_to_cluster(&event);
        self.publish_here(event);
    }

    /// Tells this node's listeners and the account's watchers of an event.
    fn publish_here(&self, event: MailEvent) {
        let account = match &event {
            MailEvent::Delivered { account, .. }
            | MailEvent::Changed { account, .. }
            | MailEvent::Mailboxes { account }
            | MailEvent::AccessRevoked { account, .. }
            | MailEvent::CredentialRevoked { account, .. }
            | MailEvent::Reminder { account } => *account,
        };
        {
            let mut watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(tx) = watchers.get(&account) {
                if tx.receiver_count() == 0 {
                    watchers.remove(&account);
                } else {
                    let _ = tx.send(event.clone());
                }
            }
        }
        // No listener is not an error.
        let _ = self.events.send(event);
    }
}
