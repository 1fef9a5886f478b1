//! Multi-part full-text queries over an account (the webmail's search
//! across folders: free words, `de:`, `à:`, `objet:`), answered three ways
//! so that a caller never holds a huge set of hits: how many contents
//! match, which ones (when few), and which among a given batch. Each waits
//! for what was queued for the index before it, like [`Mailstore::search_text`].

use std::collections::HashSet;
use std::sync::Arc;

use model::{AccountId, BlobId};
use search::Field;

use crate::{Error, Mailstore};

/// One part of a query: its fields, and the text whose every word must be
/// in one of them.
pub type QueryPart = (Vec<Field>, String);

impl Mailstore {
    /// How many of the account's contents match every part; `None` when no
    /// part has a word.
    pub async fn count_matching(&self, account: AccountId, parts: &[QueryPart]) -> Result<Option<usize>, Error> {
        self.on_parts(parts, move |ix, p| ix.count_parts(account, p)).await
    }

    /// The account's contents matching every part; `None` when no part has a word.
    pub async fn contents_matching(
        &self,
        account: AccountId,
        parts: &[QueryPart],
    ) -> Result<Option<HashSet<BlobId>>, Error> {
        let found = self.on_parts(parts, move |ix, p| ix.search_parts(account, p)).await?;
        Ok(found.map(|set| set.iter().filter_map(|h| BlobId::from_hex(h)).collect()))
    }

    /// Which of `among` match every part; `None` when no part has a word.
    pub async fn contents_matching_among(
        &self,
        account: AccountId,
        parts: &[QueryPart],
        among: Vec<String>,
    ) -> Result<Option<HashSet<String>>, Error> {
        self.on_parts(parts, move |ix, p| {
            let refs: Vec<&str> = among.iter().map(String::as_str).collect();
            ix.among_parts(account, p, &refs)
        })
        .await
    }

    /// Runs `f` on the index with the parts borrowed, on a blocking thread.
    async fn on_parts<T: Send + 'static>(
        &self,
        parts: &[QueryPart],
        f: impl FnOnce(&search::Index, &[search::Part<'_>]) -> Result<T, search::Error> + Send + 'static,
    ) -> Result<T, Error> {
        let index: Arc<search::Index> = self.search_index().cloned().ok_or(Error::NoIndex)?;
        // What was delivered before this search must be found.
        self.index_settled().await;
        let owned = parts.to_vec();
        tokio::task::spawn_blocking(move || {
            let borrowed: Vec<search::Part<'_>> = owned.iter().map(|(f, t)| (f.as_slice(), t.as_str())).collect();
            f(&index, &borrowed)
        })
        .await
        .map_err(|e| Error::Search(search::Error::Query(e.to_string())))?
        .map_err(Error::Search)
    }
}
