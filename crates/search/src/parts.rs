//! Queries of several parts (the webmail's `de:`, `objet:` and free words,
//! each on its own fields, all required), answered three ways so that a
//! caller never has to hold a huge set of hits: how many documents match
//! (nothing read but the postings), which ones (when few), and which among
//! a given batch of contents (to filter messages read newest first).

use std::collections::HashSet;

use tantivy::Term;
use tantivy::collector::{Count, DocSetCollector};
use tantivy::query::{BooleanQuery, Occur, Query, TermSetQuery};

use crate::Error;
use crate::fields::{Field, words};
use crate::index::{Index, blobs_of};

/// Words kept over all parts of a query.
const MAX_WORDS: usize = 24;

/// The clauses of a boolean query.
type Clauses = Vec<(Occur, Box<dyn Query>)>;

/// One part: its fields and the text whose every word must be in one of them.
pub type Part<'a> = (&'a [Field], &'a str);

impl Index {
    /// The whole query for `account`, or `None` when no part has a word.
    fn parts_query(&self, account: i64, parts: &[Part<'_>]) -> Result<Option<Clauses>, Error> {
        let mut clauses: Clauses = vec![(Occur::Must, self.account_clause(account))];
        let mut n = 0;
        for (fields, text) in parts {
            for w in words(text) {
                if n == MAX_WORDS {
                    break;
                }
                n += 1;
                clauses.push((Occur::Must, self.word_clause(fields, &w)?));
            }
        }
        if n == 0 {
            return Ok(None);
        }
        // Waits for a commit in progress too (see `Index::search`).
        self.commit()?;
        Ok(Some(clauses))
    }

    /// How many contents of `account` match every part (`None`: no word).
    pub fn count_parts(&self, account: i64, parts: &[Part<'_>]) -> Result<Option<usize>, Error> {
        let Some(clauses) = self.parts_query(account, parts)? else { return Ok(None) };
        Ok(Some(self.reader.searcher().search(&BooleanQuery::new(clauses), &Count)?))
    }

    /// The contents of `account` matching every part (`None`: no word).
    pub fn search_parts(&self, account: i64, parts: &[Part<'_>]) -> Result<Option<HashSet<String>>, Error> {
        let Some(clauses) = self.parts_query(account, parts)? else { return Ok(None) };
        let searcher = self.reader.searcher();
        let hits = searcher.search(&BooleanQuery::new(clauses), &DocSetCollector)?;
        Ok(Some(blobs_of(&searcher, hits)?))
    }

    /// Those of `blobs` whose content matches every part (`None`: no word).
    pub fn among_parts(
        &self,
        account: i64,
        parts: &[Part<'_>],
        blobs: &[&str],
    ) -> Result<Option<HashSet<String>>, Error> {
        let Some(mut clauses) = self.parts_query(account, parts)? else { return Ok(None) };
        if blobs.is_empty() {
            return Ok(Some(HashSet::new()));
        }
        let terms = blobs.iter().map(|b| Term::from_field_text(self.fields.blob, b));
        clauses.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
        let searcher = self.reader.searcher();
        let hits = searcher.search(&BooleanQuery::new(clauses), &DocSetCollector)?;
        Ok(Some(blobs_of(&searcher, hits)?))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Document, Field, Index};

    #[test]
    fn parts_count_list_and_filter_a_batch() {
        let ix = Index::in_memory().unwrap();
        let doc = |subject: &str, from: &str, body: &str| Document {
            subject: subject.into(),
            from: from.into(),
            body: body.into(),
            ..Document::default()
        };
        ix.add(&[1], "aa", &doc("Conseil de classe", "Paul Durand", "jeudi"), 1).unwrap();
        ix.add(&[1], "bb", &doc("Budget", "Paul Durand", "le conseil vote"), 2).unwrap();
        ix.add(&[1], "cc", &doc("Conseil", "Secrétariat", "lundi"), 3).unwrap();
        ix.add(&[2], "dd", &doc("Conseil", "Paul Durand", "autre compte"), 4).unwrap();
        let subject: &[Field] = &[Field::Subject];
        let from: &[Field] = &[Field::From];
        let all: &[Field] = &Field::ALL;
        let sorted = |set: std::collections::HashSet<String>| {
            let mut v: Vec<String> = set.into_iter().collect();
            v.sort();
            v
        };
        assert_eq!(ix.count_parts(1, &[(all, "conseil")]).unwrap(), Some(3));
        assert_eq!(ix.count_parts(1, &[(subject, "conseil"), (from, "paul")]).unwrap(), Some(1));
        assert_eq!(ix.count_parts(1, &[(all, " , ")]).unwrap(), None);
        assert_eq!(sorted(ix.search_parts(1, &[(all, "conseil"), (from, "durand")]).unwrap().unwrap()), ["aa", "bb"]);
        let among = ix.among_parts(1, &[(all, "conseil")], &["bb", "cc", "dd", "zz"]).unwrap().unwrap();
        assert_eq!(sorted(among), ["bb", "cc"], "dd is another account's");
        assert!(ix.among_parts(1, &[(all, "conseil")], &[]).unwrap().unwrap().is_empty());
        assert_eq!(ix.among_parts(1, &[(all, "")], &["aa"]).unwrap(), None);
    }
}
