//! The schema: which parts of a message are searchable, and the French
//! folding analyser applied to all of them.

use tantivy::schema::{
    FAST, Field as TField, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::TextAnalyzer;

use crate::fold::FoldingTokenizer;

/// Name under which the folding analyser is registered.
pub(crate) const FOLD: &str = "fr_fold";

/// What a search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Subject,
    /// Author addresses and names.
    From,
    /// To and Cc addresses and names.
    Recipients,
    /// Readable body text.
    Body,
    /// File names of attachments.
    Attachments,
    /// Every other header field, name and value (`Reply-To`, `X-Mailer`,
    /// `Received`...): what IMAP's `SEARCH TEXT` also looks at (RFC 9051
    /// section 6.4.4: "in the header or body of the message"), and the
    /// webmail's search does not.
    Headers,
}

impl Field {
    /// What a reader searches: the webmail's words, and IMAP's BODY plus the usual header fields.
    pub const ALL: [Field; 5] = [Field::Subject, Field::From, Field::Recipients, Field::Body, Field::Attachments];
    /// [`Field::ALL`] and every other header field: IMAP's `SEARCH TEXT`.
    pub const TEXT: [Field; 6] =
        [Field::Subject, Field::From, Field::Recipients, Field::Body, Field::Attachments, Field::Headers];
}

/// The searchable content of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub subject: String,
    pub from: String,
    pub recipients: String,
    pub body: String,
    pub attachments: String,
    /// The other header fields, as `Name: value` lines.
    pub headers: String,
}

impl Document {
    pub(crate) fn get(&self, f: Field) -> &str {
        match f {
            Field::Subject => &self.subject,
            Field::From => &self.from,
            Field::Recipients => &self.recipients,
            Field::Body => &self.body,
            Field::Attachments => &self.attachments,
            Field::Headers => &self.headers,
        }
    }
}

/// The schema's field handles.
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub account: TField,
    pub blob: TField,
    /// The blob id's first 64 bits (see [`crate::hits`]).
    pub key: TField,
    pub text: [TField; 6],
}

impl Fields {
    pub fn text(&self, f: Field) -> TField {
        self.text[Field::TEXT.iter().position(|x| *x == f).unwrap_or(0)]
    }
}

pub(crate) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    // Every account holding the content: filtered on, and read back when
    // another account receives the same content.
    let account = b.add_u64_field("account", INDEXED | FAST);
    // A fast column: results are read without touching the document store.
    let blob = b.add_text_field("blob", STRING | FAST);
    // What large searches read back instead of the blob ids (crate::hits).
    let key = b.add_u64_field(crate::hits::KEY_FIELD, FAST);
    let opts = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(FOLD).set_index_option(IndexRecordOption::Basic),
    );
    let text =
        ["subject", "from", "recipients", "body", "attachments", "headers"].map(|n| b.add_text_field(n, opts.clone()));
    (b.build(), Fields { account, blob, key, text })
}

/// Words split on anything not alphanumeric, lower-cased, accents folded;
/// absurdly long tokens (base64 left in a body) dropped: tantivy's
/// `SimpleTokenizer`, `RemoveLongFilter`, `LowerCaser` and
/// `AsciiFoldingFilter`, in one pass ([`crate::fold`]).
pub(crate) fn analyser() -> TextAnalyzer {
    TextAnalyzer::from(FoldingTokenizer::default())
}

/// Text folded like the index folds it, words joined by single spaces:
/// `fold(haystack).contains(&fold(needle))` is an accent- and
/// case-insensitive substring test (used for SUBJECT, FROM...).
pub fn fold(text: &str) -> String {
    words(text).join(" ")
}

/// The folded words of a query string.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut a = analyser();
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_french() {
        assert_eq!(words("Réunion du CONSEIL d'école — Noël"), ["reunion", "du", "conseil", "d", "ecole", "noel"]);
        assert!(words("  ,;  ").is_empty());
    }
}
