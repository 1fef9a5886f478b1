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
    Login { user: String, password: String },
    Authenticate { mechanism: String, initial: Option<Vec<u8>> },
    Id,
    Enable(Vec<String>),
    Namespace,
    Select { mailbox: RawName, read_only: bool, condstore: bool },
    Create { mailbox: RawName, special_use: Vec<String> },
    Delete(RawName),
    Rename { from: RawName, to: RawName },
    Subscribe(RawName),
    Unsubscribe(RawName),
    List { reference: RawName, patterns: Vec<RawName>, subscribed_only: bool, lsub: bool, status: Vec<StatusItem> },
    Status { mailbox: RawName, items: Vec<StatusItem> },
    Append { mailbox: RawName, flags: Vec<String>, date: Option<i64>, message: Vec<u8> },
    Idle,
    Check,
    Close,
    Unselect,
    Expunge { uids: Option<SeqSet> },
    Fetch { uid: bool, set: SeqSet, items: Vec<FetchItem>, changed_since: Option<u64> },
    Store { uid: bool, set: SeqSet, mode: StoreMode, silent: bool, flags: Vec<String>, unchanged_since: Option<u64> },
    Copy { uid: bool, set: SeqSet, mailbox: RawName, moving: bool },
    Search { uid: bool, key: SearchKey, esearch: Option<Vec<String>> },
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
    Larger(u64),
    Smaller(u64),
    Uid(SeqSet),
    Seq(SeqSet),
    ModseqAbove(u64),
    /// TEXT and BODY: the full-text index is not there yet.
    FullText,
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
