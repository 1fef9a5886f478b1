//! The answer to a search as a sorted list of 64-bit content keys.
//!
//! A search of a large mailbox can match every one of its 100,000 messages.
//! Handing back each match's blob id (64 hex digits read from the index's
//! string column, allocated, parsed, then hashed into a set and hashed again
//! for every message of the mailbox) was most of the cost of such a search
//! (bench/notes.md, R7). Each document therefore also carries a `key`: the
//! first 64 bits of its blob id, kept in a numeric fast column. Searches
//! collect those keys straight from the column into one vector, sorted once;
//! the caller asks [`Hits::contains`] for each of its messages (a binary
//! search). Blob ids are BLAKE3 digests, so two different contents of one
//! account sharing their first 64 bits is a chance of about n²/2⁶⁵ for n
//! messages (3·10⁻¹⁰ for 100,000): accepted, as abbreviated hashes are.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Name of the numeric fast field holding each document's key.
pub(crate) const KEY_FIELD: &str = "key";

/// The key of a blob id: its first 16 hex digits (fewer for a shorter id)
/// as a number. `None` when the id does not start with hex digits.
pub(crate) fn key_of(blob: &str) -> Option<u64> {
    let prefix = blob.get(..blob.len().min(16))?;
    u64::from_str_radix(prefix, 16).ok()
}

/// The keys of the contents a search matched, sorted, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hits(Vec<u64>);

impl Hits {
    fn new(mut keys: Vec<u64>) -> Hits {
        keys.sort_unstable();
        keys.dedup();
        Hits(keys)
    }

    /// Whether the content `blob` is among the hits.
    pub fn contains(&self, blob: &str) -> bool {
        key_of(blob).is_some_and(|k| self.0.binary_search(&k).is_ok())
    }

    /// Number of contents matched.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Collects the `key` of every matching live document.
pub(crate) struct KeyCollector;

pub(crate) struct SegmentKeys {
    column: Column<u64>,
    keys: Vec<u64>,
}

impl Collector for KeyCollector {
    type Fruit = Hits;
    type Child = SegmentKeys;

    fn for_segment(&self, _segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegmentKeys> {
        Ok(SegmentKeys { column: reader.fast_fields().u64(KEY_FIELD)?, keys: Vec::new() })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<u64>>) -> tantivy::Result<Hits> {
        Ok(Hits::new(fruits.concat()))
    }
}

impl SegmentCollector for SegmentKeys {
    type Fruit = Vec<u64>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.keys.extend(self.column.first(doc));
    }

    fn harvest(self) -> Vec<u64> {
        self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_first_sixteen_hex_digits() {
        let blob = "0123456789abcdef".to_owned() + &"f".repeat(48);
        assert_eq!(key_of(&blob), Some(0x0123_4567_89ab_cdef));
        assert_eq!(key_of("aa"), Some(0xaa));
        assert_eq!(key_of("zz"), None);
        assert_eq!(key_of(""), None);
        let hits = Hits::new(vec![0xbb, 0xaa, 0xbb]);
        assert_eq!(hits.len(), 2);
        assert!(hits.contains("aa") && hits.contains("bb"));
        assert!(!hits.contains("cc") && !hits.contains("zz"));
    }
}
