//! The commands the server understands, as plain data.

use crate::seqset::SeqSet;

/// A tagged client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: String,
    pub body: Body,
}

/// A mailbox name as the client sent it (modified UTF-7 or UTF-8, decoded
/// by the session, which knows whether UTF-8 was enabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawName(pub Vec<u8>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Capability,
    Noop,
    Logout,
    StartTls,
    Login {
        user: String,
        password: String,
    },
    Authenticate {
        mechanism: String,
        initial: Option<Vec<u8>>,
    },
    Id,
    Enable(Vec<String>),
    Namespace,
    Select {
        mailbox: RawName,
        read_only: bool,
        condstore: bool,
        qresync: Option<Qresync>,
    },
    Create {
        mailbox: RawName,
        special_use: Vec<String>,
    },
    Delete(RawName),
    Rename {
        from: RawName,
        to: RawName,
    },
    Subscribe(RawName),
    Unsubscribe(RawName),
    List {
        reference: RawName,
        patterns: Vec<RawName>,
        options: ListOptions,
        lsub: bool,
        status: Vec<StatusItem>,
    },
    Status {
        mailbox: RawName,
        items: Vec<StatusItem>,
    },
    Append {
        mailbox: RawName,
        flags: Vec<String>,
        date: Option<i64>,
        message: Vec<u8>,
        catenate: Option<Vec<CatPart>>,
        /// MULTIAPPEND (RFC 3502): the messages after the first.
        more: Vec<AppendItem>,
    },
    Idle,
    Check,
    Close,
    Unselect,
    Expunge {
        uids: Option<SeqSet>,
    },
    Fetch {
        uid: bool,
        set: SeqSet,
        items: Vec<FetchItem>,
        changed_since: Option<u64>,
        /// QRESYNC: also report UIDs of the set expunged since `changed_since`.
        vanished: bool,
    },
    Store {
        uid: bool,
        set: SeqSet,
        mode: StoreMode,
        silent: bool,
        flags: Vec<String>,
        unchanged_since: Option<u64>,
    },
    Copy {
        uid: bool,
        set: SeqSet,
        mailbox: RawName,
        moving: bool,
    },
    Search {
        uid: bool,
        key: SearchKey,
        esearch: Option<ReturnOptions>,
    },
    /// RFC 9208: the quota root is the account (named "").
    GetQuota(String),
    GetQuotaRoot(RawName),
    SetQuota,
    /// RFC 4314, on the user's own mailboxes and those shared with them.
    MyRights(RawName),
    GetAcl(RawName),
    ListRights {
        mailbox: RawName,
        identifier: String,
    },
    /// RFC 4314 SETACL: `rights` as sent (`+`/`-` prefix for a change).
    SetAcl {
        mailbox: RawName,
        identifier: String,
        rights: String,
    },
    DeleteAcl {
        mailbox: RawName,
        identifier: String,
    },
    /// COMPRESS DEFLATE (RFC 4978).
    Compress(String),
    Sort {
        uid: bool,
        criteria: Vec<SortKey>,
        key: SearchKey,
        /// ESORT (RFC 5267): `SORT RETURN (...)` answers as ESEARCH.
        esort: Option<ReturnOptions>,
    },
    /// CANCELUPDATE (RFC 5267 section 4.3.5): the tags of searches whose
    /// updates stop.
    CancelUpdate(Vec<String>),
    /// NOTIFY (RFC 5465): `None` for NOTIFY NONE.
    Notify(Option<NotifySet>),
    Thread {
        uid: bool,
        references: bool,
        key: SearchKey,
    },
}

/// `RETURN (...)` of SEARCH (RFC 4731, RFC 5182, RFC 5267) and of SORT
/// (ESORT, CONTEXT=SORT). `CONTEXT` is a hint (RFC 5267 section 4.2) and
/// is not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnOptions {
    /// MIN, MAX, ALL, COUNT and SAVE, in the order given.
    pub items: Vec<String>,
    /// `PARTIAL first:last` (RFC 5267 section 4.4): the results at these
    /// 1-based positions, `first <= last`.
    pub partial: Option<(u32, u32)>,
    /// `UPDATE` (RFC 5267 section 4.3): ADDTO and REMOVEFROM as the results change.
    pub update: bool,
}

impl ReturnOptions {
    pub fn has(&self, item: &str) -> bool {
        self.items.iter().any(|i| i == item)
    }

    /// Whether the answer carries no result item (`RETURN (SAVE)`, `RETURN (UPDATE)`...).
    pub fn asks_nothing(&self) -> bool {
        self.partial.is_none() && !self.items.iter().any(|i| i != "SAVE")
    }
}

/// `NOTIFY SET [STATUS] (filter events) ...` (RFC 5465 section 3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySet {
    /// STATUS: the watched mailboxes' state before the tagged OK.
    pub status: bool,
    pub groups: Vec<NotifyGroup>,
}

/// One event group: which mailboxes, and which events of theirs (`None`
/// for NONE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyGroup {
    pub filter: NotifyFilter,
    pub events: Option<Vec<NotifyEvent>>,
}

/// `filter-mailboxes` (RFC 5465 section 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyFilter {
    Selected,
    SelectedDelayed,
    Inboxes,
    Personal,
    Subscribed,
    Subtree(Vec<RawName>),
    Mailboxes(Vec<RawName>),
}

/// An event name (RFC 5465 section 5); `Other` for events this server
/// does not report (NO [BADEVENT] at execution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyEvent {
    /// With the FETCH items to send for a new message of the selected mailbox.
    MessageNew(Vec<FetchItem>),
    MessageExpunge,
    FlagChange,
    MailboxName,
    SubscriptionChange,
    Other(String),
}

/// A SORT criterion (RFC 5256, RFC 5957), possibly reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub reverse: bool,
    pub by: SortBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

/// The QRESYNC parameter of SELECT (RFC 7162): what the client knew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qresync {
    pub uid_validity: u64,
    pub modseq: u64,
    pub known_uids: Option<SeqSet>,
}

/// One more message of a MULTIAPPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendItem {
    pub flags: Vec<String>,
    pub date: Option<i64>,
    pub message: Vec<u8>,
    /// CATENATE (RFC 4469): the parts the message is made of, when it is
    /// assembled on the server (`message` is then empty).
    pub catenate: Option<Vec<CatPart>>,
}

/// A part of a CATENATE list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatPart {
    /// `TEXT literal`: bytes as sent.
    Text(Vec<u8>),
    /// `URL "..."`: a message or section the user already has (RFC 5092).
    Url(String),
}

/// A STATUS data item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    Messages,
    UidNext,
    UidValidity,
    Unseen,
    Deleted,
    Size,
    HighestModseq,
    Recent,
    /// RFC 8474 OBJECTID.
    MailboxId,
}

/// How STORE changes flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    Add,
    Remove,
    Replace,
}

/// A FETCH data item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItem {
    Uid,
    Flags,
    InternalDate,
    Size,
    Envelope,
    BodyStructure,
    /// BODY without a section: the non-extensible structure.
    BodyShape,
    Modseq,
    /// RFC 8514: when the message was put in this mailbox.
    SaveDate,
    /// RFC 8474: content id (shared by copies) and thread id.
    EmailId,
    ThreadId,
    /// BODY[...] / BODY.PEEK[...] and the RFC822 forms.
    Section {
        peek: bool,
        section: Section,
        partial: Option<(u32, u32)>,
        label: SectionLabel,
    },
}

/// Which name a section's data is returned under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionLabel {
    Body,
    Rfc822,
    Rfc822Header,
    Rfc822Text,
    /// BINARY[part] (RFC 3516): content-transfer-encoding undone.
    Binary,
    /// BINARY.SIZE[part]: the decoded size only.
    BinarySize,
}

/// A body section: part numbers then what of the part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    pub part: Vec<u32>,
    pub text: Option<SectionText>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    Header,
    HeaderFields { not: bool, fields: Vec<String> },
    Text,
    Mime,
}

/// A SEARCH key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    All,
    And(Vec<SearchKey>),
    Or(Box<SearchKey>, Box<SearchKey>),
    Not(Box<SearchKey>),
    /// A flag that must be set (`SEEN`, `KEYWORD x`...) or clear (`UNSEEN`...).
    Flag {
        name: String,
        set: bool,
    },
    Header {
        field: String,
        value: String,
    },
    /// Internal date: `SINCE`, `BEFORE`, `ON` (unix day start).
    Date {
        op: DateOp,
        day: i64,
        sent: bool,
    },
    /// SAVEDSINCE, SAVEDBEFORE, SAVEDON (RFC 8514).
    SavedDate {
        op: DateOp,
        day: i64,
    },
    /// RFC 8474.
    EmailId(String),
    ThreadId(String),
    Larger(u64),
    Smaller(u64),
    Uid(SeqSet),
    Seq(SeqSet),
    ModseqAbove(u64),
    /// TEXT (headers and body) and BODY (body only), answered by the
    /// full-text index: every word of `value` must start a word of the message.
    FullText {
        body_only: bool,
        value: String,
    },
    New,
    Old,
    Recent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOp {
    Since,
    Before,
    On,
}

/// LIST's selection and return options (RFC 5258 LIST-EXTENDED, RFC 6154).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Selection SUBSCRIBED: the subscribed names, existing or not.
    pub subscribed: bool,
    /// Selection SPECIAL-USE: only mailboxes with a special use.
    pub special_use: bool,
    /// Selection RECURSIVEMATCH: also a name whose descendant is selected
    /// but does not match the pattern, with its CHILDINFO.
    pub recursive: bool,
    /// Return SUBSCRIBED: `\Subscribed` on subscribed names (implied by the
    /// SUBSCRIBED selection).
    pub return_subscribed: bool,
}

impl Body {
    /// The command's name, as the metrics label its latency (a fixed set:
    /// never the client's text).
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Body::Capability => "CAPABILITY",
            Body::Noop => "NOOP",
            Body::Logout => "LOGOUT",
            Body::StartTls => "STARTTLS",
            Body::Login { .. } => "LOGIN",
            Body::Authenticate { .. } => "AUTHENTICATE",
            Body::Id => "ID",
            Body::Enable(_) => "ENABLE",
            Body::Namespace => "NAMESPACE",
            Body::Select { read_only: false, .. } => "SELECT",
            Body::Select { read_only: true, .. } => "EXAMINE",
            Body::Create { .. } => "CREATE",
            Body::Delete(_) => "DELETE",
            Body::Rename { .. } => "RENAME",
            Body::Subscribe(_) => "SUBSCRIBE",
            Body::Unsubscribe(_) => "UNSUBSCRIBE",
            Body::List { .. } => "LIST",
            Body::Status { .. } => "STATUS",
            Body::Append { .. } => "APPEND",
            Body::Idle => "IDLE",
            Body::Check => "CHECK",
            Body::Close => "CLOSE",
            Body::Unselect => "UNSELECT",
            Body::Expunge { .. } => "EXPUNGE",
            Body::Fetch { .. } => "FETCH",
            Body::Store { .. } => "STORE",
            Body::Copy { moving: false, .. } => "COPY",
            Body::Copy { moving: true, .. } => "MOVE",
            Body::Search { .. } => "SEARCH",
            Body::GetQuota(_) => "GETQUOTA",
            Body::GetQuotaRoot(_) => "GETQUOTAROOT",
            Body::SetQuota => "SETQUOTA",
            Body::MyRights(_) => "MYRIGHTS",
            Body::GetAcl(_) => "GETACL",
            Body::ListRights { .. } => "LISTRIGHTS",
            Body::SetAcl { .. } => "SETACL",
            Body::DeleteAcl { .. } => "DELETEACL",
            Body::Compress(_) => "COMPRESS",
            Body::Sort { .. } => "SORT",
            Body::CancelUpdate(_) => "CANCELUPDATE",
            Body::Notify(_) => "NOTIFY",
            Body::Thread { .. } => "THREAD",
        }
    }
}
