//! Opening the index, adding and removing documents, batched commits with a
//! watermark, and queries limited to one account.
//!
//! Calls block (tantivy is synchronous): async callers run them on a
//! blocking thread. Additions are buffered by the writer and become visible
//! at the next [`Index::commit`]; [`Index::search`] commits first when
//! something is pending, so a client always finds what it was told was
//! delivered, while bursts of deliveries still share one commit.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tantivy::collector::DocSetCollector;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, RegexQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, TantivyDocument};
use tantivy::{IndexReader, IndexWriter, ReloadPolicy, Term};
use tantivy_fst::Regex;

use crate::Error;
use crate::fields::{FOLD, Field, Fields, analyser, schema, words};
use crate::hits::{Hits, KeyCollector, key_of};

/// Memory the writer may buffer before it flushes a segment by itself.
const WRITER_MEMORY: usize = 32 << 20;
/// Query words kept; more are ignored (each adds a clause per field).
const MAX_WORDS: usize = 16;

/// Query words this long or longer match inside index words (`jour` finds
/// `Bonjour`, as IMAP's substring SEARCH does); shorter ones only at their
/// start: a one- or two-letter infix would pull in most of the dictionary's
/// posting lists for a match on nearly every message.
pub const INFIX_MIN_CHARS: usize = 3;

/// The term-dictionary regular expression for one folded query word. An
/// infix pattern walks the whole term dictionary (its FST) instead of the
/// branch under the prefix: the cost grows with the number of distinct
/// words indexed, not with the number of messages (bench/notes.md, R7).
fn word_pattern(word: &str) -> String {
    let escaped: String =
        word.chars().map(|c| if c.is_alphanumeric() { c.to_string() } else { format!("\\{c}") }).collect();
    if word.chars().count() >= INFIX_MIN_CHARS { format!(".*{escaped}.*") } else { format!("{escaped}.*") }
}

/// What a commit has to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    Nothing,
    Changes,
}

/// The writer, and the accounts of documents added since the last commit
/// (not visible to searchers yet, but needed to merge the next addition).
struct Writer {
    tantivy: IndexWriter,
    accounts: HashMap<String, BTreeSet<u64>>,
}

/// The full-text index.
pub struct Index {
    index: tantivy::Index,
    pub(crate) fields: Fields,
    pub(crate) reader: IndexReader,
    writer: Mutex<Writer>,
    pending: AtomicBool,
    /// Highest message row id added since opening (or the committed watermark).
    watermark: AtomicU64,
}

impl Index {
    /// Opens (or creates) the index stored in `dir`.
    pub fn open(dir: &Path) -> Result<Index, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::Query(format!("{}: {e}", dir.display())))?;
        let (schema, fields) = schema();
        let index = match tantivy::Index::open_or_create(MmapDirectory::open(dir)?, schema.clone()) {
            // An index of an older schema is derived data: start afresh (the
            // watermark goes back to 0, so the caller's catch-up rebuilds it).
            Err(tantivy::TantivyError::SchemaError(e)) => {
                tracing::warn!(error = %e, "search index schema changed: rebuilding it");
                std::fs::remove_dir_all(dir).map_err(|e| Error::Query(format!("{}: {e}", dir.display())))?;
                std::fs::create_dir_all(dir).map_err(|e| Error::Query(format!("{}: {e}", dir.display())))?;
                tantivy::Index::create_in_dir(dir, schema)?
            }
            other => other?,
        };
        Index::with(index, fields)
    }

    /// An index in memory (tests).
    pub fn in_memory() -> Result<Index, Error> {
        let (schema, fields) = schema();
        Index::with(tantivy::Index::create_in_ram(schema), fields)
    }

    fn with(index: tantivy::Index, fields: Fields) -> Result<Index, Error> {
        index.tokenizers().register(FOLD, analyser());
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let watermark = index.load_metas()?.payload.and_then(|p| p.parse().ok()).unwrap_or(0);
        Ok(Index {
            index,
            fields,
            reader,
            writer: Mutex::new(Writer { tantivy: writer, accounts: HashMap::new() }),
            pending: AtomicBool::new(false),
            watermark: AtomicU64::new(watermark),
        })
    }

    /// The highest message row id known indexed (committed or pending).
    pub fn watermark(&self) -> u64 {
        self.watermark.load(Ordering::SeqCst)
    }

    fn key(&self, blob: &str) -> Term {
        Term::from_field_text(self.fields.blob, blob)
    }

    /// The accounts the committed document of `blob` lists.
    fn committed_accounts(&self, blob: &str) -> Result<BTreeSet<u64>, Error> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(self.key(blob), IndexRecordOption::Basic);
        let mut out = BTreeSet::new();
        for addr in searcher.search(&query, &DocSetCollector)? {
            let column = searcher.segment_reader(addr.segment_ord).fast_fields().u64("account")?;
            out.extend(column.values_for_doc(addr.doc_id));
        }
        Ok(out)
    }

    /// Adds `accounts` to the document of `blob` (creating it with `doc`);
    /// `message` is the highest message row id this covers, for the watermark.
    pub fn add(&self, accounts: &[i64], blob: &str, doc: &crate::Document, message: u64) -> Result<(), Error> {
        let key = key_of(blob).ok_or_else(|| Error::Query(format!("blob id {blob:?} is not hexadecimal")))?;
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut all = self.committed_accounts(blob)?;
        if let Some(pending) = writer.accounts.get(blob) {
            all.extend(pending);
        }
        all.extend(accounts.iter().map(|a| *a as u64));
        let mut d = TantivyDocument::default();
        for a in &all {
            d.add_u64(self.fields.account, *a);
        }
        d.add_text(self.fields.blob, blob);
        d.add_u64(self.fields.key, key);
        for f in Field::TEXT {
            d.add_text(self.fields.text(f), doc.get(f));
        }
        writer.tantivy.delete_term(self.key(blob));
        writer.tantivy.add_document(d)?;
        writer.accounts.insert(blob.to_owned(), all);
        self.watermark.fetch_max(message, Ordering::SeqCst);
        self.pending.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Removes the document of `blob` (no message holds it any more).
    pub fn remove(&self, blob: &str) {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        writer.tantivy.delete_term(self.key(blob));
        writer.accounts.remove(blob);
        self.pending.store(true, Ordering::SeqCst);
    }

    /// Whether changes wait for a commit.
    pub fn pending(&self) -> Pending {
        if self.pending.load(Ordering::SeqCst) { Pending::Changes } else { Pending::Nothing }
    }

    /// Makes pending changes durable and visible, with the watermark.
    pub fn commit(&self) -> Result<(), Error> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if !self.pending.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        let mut prepared = writer.tantivy.prepare_commit()?;
        prepared.set_payload(&self.watermark().to_string());
        prepared.commit()?;
        self.reader.reload()?;
        writer.accounts.clear();
        Ok(())
    }

    /// The contents of `account` whose `fields` contain every word of `text`
    /// (see [`word_pattern`]: each word inside a word of the message, or
    /// starting one for words shorter than [`INFIX_MIN_CHARS`]). Text without
    /// any word matches everything, as an empty IMAP substring does: `None`.
    pub fn search(&self, account: i64, fields: &[Field], text: &str) -> Result<Option<Hits>, Error> {
        let words = words(text);
        if words.is_empty() {
            return Ok(None);
        }
        // Always through `commit`, not only when changes are pending: the
        // committer clears the flag when it *starts* a commit, and until its
        // reader reloads, a search that saw no pending change would read the
        // reader of before (a message just delivered not found: the e2e
        // accent test failed so under load). `commit` takes the writer's lock,
        // so it waits for a commit in progress, and returns at once otherwise.
        self.commit()?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, self.account_clause(account))];
        for w in words.iter().take(MAX_WORDS) {
            clauses.push((Occur::Must, self.word_clause(fields, w)?));
        }
        let query = BooleanQuery::new(clauses);
        Ok(Some(self.reader.searcher().search(&query, &KeyCollector)?))
    }

    /// Documents listing `account`.
    pub(crate) fn account_clause(&self, account: i64) -> Box<dyn Query> {
        let term = Term::from_field_u64(self.fields.account, account as u64);
        Box::new(TermQuery::new(term, IndexRecordOption::Basic))
    }

    /// Documents with the folded word `w` in one of `fields` (see
    /// [`word_pattern`]); the automaton is compiled once for all the fields.
    pub(crate) fn word_clause(&self, fields: &[Field], w: &str) -> Result<Box<dyn Query>, Error> {
        let regex = std::sync::Arc::new(Regex::new(&word_pattern(w)).map_err(|e| Error::Query(e.to_string()))?);
        let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for f in fields {
            let q = RegexQuery::from_regex(regex.clone(), self.fields.text(*f));
            any.push((Occur::Should, Box::new(q)));
        }
        Ok(Box::new(BooleanQuery::new(any)))
    }
}

/// The blob ids of `hits`, read from the fast column, into a `Vec` (each
/// content has one document, so no id comes twice) or a set.
pub(crate) fn blobs_of<C: Default + Extend<String>>(
    searcher: &tantivy::Searcher,
    hits: HashSet<tantivy::DocAddress>,
) -> Result<C, Error> {
    let mut hits: Vec<tantivy::DocAddress> = hits.into_iter().collect();
    hits.sort_unstable();
    let mut out = C::default();
    let mut column: Option<(u32, tantivy::columnar::StrColumn)> = None;
    let mut text = String::new();
    for addr in hits {
        if column.as_ref().is_none_or(|(seg, _)| *seg != addr.segment_ord) {
            let fast = searcher.segment_reader(addr.segment_ord).fast_fields();
            let Some(col) = fast.str("blob")? else { continue };
            column = Some((addr.segment_ord, col));
        }
        let Some((_, col)) = column.as_ref() else { continue };
        for ord in col.term_ords(addr.doc_id) {
            text.clear();
            if col.ord_to_str(ord, &mut text).map_err(|e| Error::Query(e.to_string()))? {
                out.extend([text.clone()]);
            }
        }
    }
    Ok(out)
}

impl Index {
    /// Number of documents visible to searches (tests, `admin search` output).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every document (before a rebuild).
    pub fn clear(&self) -> Result<(), Error> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        writer.tantivy.delete_all_documents()?;
        writer.accounts.clear();
        self.watermark.store(0, Ordering::SeqCst);
        self.pending.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// The underlying tantivy index (diagnostics).
    pub fn raw(&self) -> &tantivy::Index {
        &self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    fn doc(subject: &str, body: &str, attachments: &str) -> Document {
        Document { subject: subject.into(), body: body.into(), attachments: attachments.into(), ..Document::default() }
    }

    #[test]
    fn folds_filters_by_account_and_removes() {
        let ix = Index::in_memory().unwrap();
        ix.add(&[1], "aa", &doc("Réunion de rentrée", "Ordre du jour", "planning-2026.pdf"), 1).unwrap();
        ix.add(&[1], "bb", &doc("Cantine", "Menu de la semaine", ""), 2).unwrap();
        ix.add(&[2], "cc", &doc("Réunion", "autre compte", ""), 3).unwrap();
        let all = &Field::ALL;
        let blobs = ["aa", "bb", "cc"];
        let found = |account, text: &str| {
            let hits = ix.search(account, all, text).unwrap().unwrap();
            blobs.into_iter().filter(|b| hits.contains(b)).collect::<Vec<_>>()
        };
        assert_eq!(found(1, "reunion"), ["aa"]);
        assert_eq!(found(1, "RÉUNION rentree"), ["aa"]);
        assert_eq!(found(1, "planning"), ["aa"]);
        assert_eq!(found(1, "sem"), ["bb"]);
        // Inside words too, from three letters: `jour` in `Bonjour`.
        assert_eq!(found(1, "union"), ["aa"]);
        assert_eq!(found(1, "ntine"), ["bb"]);
        assert!(found(1, "un").is_empty(), "two letters: word starts only");
        assert_eq!(found(1, "me"), ["bb"]);
        assert!(found(1, "absent").is_empty());
        assert_eq!(found(2, "reunion"), ["cc"]);
        let body_only = ix.search(1, &[Field::Body], "reunion").unwrap().unwrap();
        assert!(body_only.is_empty());
        assert_eq!(ix.search(1, all, " ").unwrap(), None);
        // The same content reaches account 2, before and after a commit.
        ix.add(&[2], "bb", &doc("Cantine", "Menu de la semaine", ""), 4).unwrap();
        ix.add(&[3, 4], "bb", &doc("Cantine", "Menu de la semaine", ""), 6).unwrap();
        assert_eq!(found(2, "menu"), ["bb"]);
        assert_eq!(found(1, "menu"), ["bb"]);
        ix.add(&[5], "bb", &doc("Cantine", "Menu de la semaine", ""), 7).unwrap();
        for account in [1, 2, 3, 4, 5] {
            assert_eq!(found(account, "menu"), ["bb"], "account {account}");
        }
        assert_eq!(ix.len(), 3, "one document per content");
        assert!(ix.add(&[1], "not-hex", &doc("Cantine", "", ""), 8).is_err(), "blob ids are hex digests");
        ix.remove("aa");
        assert!(found(1, "reunion").is_empty());
        assert_eq!(ix.watermark(), 7);
    }

    #[test]
    fn an_index_of_another_schema_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut b = tantivy::schema::Schema::builder();
            b.add_text_field("other", tantivy::schema::STRING);
            tantivy::Index::create_in_dir(dir.path(), b.build()).unwrap();
        }
        let ix = Index::open(dir.path()).unwrap();
        assert_eq!((ix.watermark(), ix.len()), (0, 0));
        ix.add(&[1], "aa", &doc("Réunion", "", ""), 1).unwrap();
        assert_eq!(ix.search(1, &Field::ALL, "reunion").unwrap().unwrap().len(), 1);
    }

    #[test]
    fn watermark_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let ix = Index::open(dir.path()).unwrap();
            ix.add(&[7], "dd", &doc("Conseil d'école", "", ""), 42).unwrap();
            ix.commit().unwrap();
        }
        let ix = Index::open(dir.path()).unwrap();
        assert_eq!(ix.watermark(), 42);
        assert_eq!(ix.len(), 1);
        assert_eq!(ix.search(7, &Field::ALL, "ecole").unwrap().unwrap().len(), 1);
    }
}
