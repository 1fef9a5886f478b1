//! The full-text index behind IMAP `SEARCH TEXT` / `BODY` (and later the
//! webmail search box).
//!
//! One tantivy index for the whole platform, with an `account` field, rather
//! than one index per account: a school district has tens of thousands of
//! small mailboxes, and one index per account would mean as many open
//! directories, writers and merge threads; a single writer batches every
//! delivery into one commit, and a term filter on `account` keeps each query
//! within its owner's documents (every query built here carries it, so no
//! caller can forget it).
//!
//! A document is one message *content* (one blob), listing every account
//! that holds it: a circular sent to two thousand staff is analysed and
//! indexed once, not two thousand times, and copies in several mailboxes
//! share it too. Searches return the contents' keys ([`Hits`], the first 64
//! bits of each blob id; the webmail's small result lists get the blob ids
//! themselves); the caller intersects them with
//! the messages of the selected mailbox, so the store stays the authority on
//! what exists, and an account left in a document after an expunge is
//! harmless (the document goes when no message holds the content any more).
//! Results are read from fast columns, never from the document store.
//!
//! Text is folded for French: lower case, and accents removed (`reunion`
//! finds `Réunion`, `ECOLE` finds `école`). A query word of three letters
//! or more matches any word of the message that contains it (`jour` finds
//! `Bonjour`), as IMAP's substring SEARCH asks, by walking the term
//! dictionary rather than the messages; shorter words match word starts
//! only. Deviation left: a query of several words matches messages holding
//! each of them somewhere (`SEARCH TEXT "ordre du jour"` also finds "jour
//! ... ordre du ..."), not the exact sequence of characters.
//!
//! The index is derived data: it can be deleted and rebuilt from the store
//! and the blobs. Each commit records a watermark (the highest message row
//! id indexed) so that a restart knows where to catch up from.

mod fields;
mod fold;
mod hits;
mod index;
mod parts;

pub use fields::{Document, Field, fold};
pub use hits::Hits;
pub use index::{Index, Pending};
pub use parts::Part;

/// Errors of the index. All are temporary from a client's point of view:
/// the index is rebuilt from the store if it is damaged.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("search query: {0}")]
    Query(String),
}
