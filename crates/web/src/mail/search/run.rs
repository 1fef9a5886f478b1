//! Running a parsed query: the full-text index names the contents that
//! match the words and the `de:`/`à:`/`objet:` parts (bodies are never
//! read), then the store maps them to the account's messages without
//! loading every row:
//! - few contents: one indexed lookup per content (`messages_with_blobs`),
//!   sorted here, with an exact count;
//! - many contents, or no words at all (`pj:`, dates, `dans:` alone): the
//!   account's messages are walked from the newest by internal date in
//!   batches (`messages_by_date`), keeping those that match, and the walk
//!   stops after a fixed number of rows read, offering to go on.

use std::collections::HashSet;

use mailstore::Mailstore;
use model::{AccountId, BlobId, MailboxId};
use search::Field;
use store::{DateCursor, Found};

use super::query::Query;

/// Contents mapped by direct lookups at most; more are matched while walking.
pub const DIRECT: usize = 5_000;
/// Rows read per batch of the walk.
const BATCH: usize = 1_000;
/// Rows a walk reads per request before offering to go on.
pub const BUDGET: usize = 20_000;

/// One page of results.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Newest first.
    pub rows: Vec<Found>,
    /// Where the next page starts, when there may be one.
    pub next: Option<DateCursor>,
    /// The number of results, when known without walking.
    pub total: Option<usize>,
    /// The walk stopped at its budget: older messages were not looked at.
    pub partial: bool,
}

/// Why a search could not run.
#[derive(Debug)]
pub enum Failure {
    Store(store::Error),
    /// No index, or it failed.
    Unavailable,
}

impl From<store::Error> for Failure {
    fn from(e: store::Error) -> Failure {
        Failure::Store(e)
    }
}

/// What every result must satisfy besides the index.
struct Filter<'a> {
    hits: Option<&'a HashSet<BlobId>>,
    folder: Option<MailboxId>,
    attachment: Option<bool>,
    before: Option<i64>,
    since: Option<i64>,
}

impl Filter<'_> {
    fn keep(&self, f: &Found) -> bool {
        self.hits.is_none_or(|h| h.contains(&f.blob_hash))
            && self.folder.is_none_or(|m| m == f.mailbox_id)
            && self.attachment.is_none_or(|a| a == f.has_attachment)
            && self.before.is_none_or(|b| f.internal_date < b)
            && self.since.is_none_or(|s| f.internal_date >= s)
    }
}

/// The contents the index finds for every word part of `q` (`None`: no
/// part restricts them).
pub async fn index_hits(ms: &Mailstore, account: AccountId, q: &Query) -> Result<Option<HashSet<BlobId>>, Failure> {
    let mut parts: Vec<(&[Field], String)> = Vec::new();
    if !q.text.is_empty() {
        parts.push((&Field::ALL, q.text.join(" ")));
    }
    parts.extend(q.from.iter().map(|v| (&[Field::From][..], v.clone())));
    parts.extend(q.to.iter().map(|v| (&[Field::Recipients][..], v.clone())));
    parts.extend(q.subject.iter().map(|v| (&[Field::Subject][..], v.clone())));
    let mut hits: Option<HashSet<BlobId>> = None;
    for (fields, text) in parts {
        let found = match ms.search_text(account, fields, &text).await {
            Ok(Some(found)) => found,
            Ok(None) | Err(_) => return Err(Failure::Unavailable),
        };
        // Text without any word (punctuation) restricts nothing.
        let Some(set) = found else { continue };
        hits = Some(match hits {
            None => set,
            Some(h) => h.intersection(&set).cloned().collect(),
        });
        if hits.as_ref().is_some_and(|h| h.is_empty()) {
            break;
        }
    }
    Ok(hits)
}

/// Up to `page` results of `q` strictly below `below`, `folder` being the
/// resolved `dans:`.
pub async fn run(
    ms: &Mailstore,
    account: AccountId,
    q: &Query,
    folder: Option<MailboxId>,
    below: DateCursor,
    page: usize,
) -> Result<Outcome, Failure> {
    run_with(ms, account, q, folder, below, page, DIRECT).await
}

/// [`run`] with the number of contents mapped by direct lookups at most
/// (tests compare both ways).
pub async fn run_with(
    ms: &Mailstore,
    account: AccountId,
    q: &Query,
    folder: Option<MailboxId>,
    below: DateCursor,
    page: usize,
    direct_limit: usize,
) -> Result<Outcome, Failure> {
    let hits = index_hits(ms, account, q).await?;
    let filter = Filter { hits: hits.as_ref(), folder, attachment: q.attachment, before: q.before, since: q.since };
    match &hits {
        Some(h) if h.is_empty() => Ok(Outcome { total: Some(0), ..Outcome::default() }),
        Some(h) if h.len() <= direct_limit => direct(ms, account, h, &filter, below, page).await,
        _ => walk(ms, account, &filter, below, page).await,
    }
}

async fn direct(
    ms: &Mailstore,
    account: AccountId,
    hits: &HashSet<BlobId>,
    filter: &Filter<'_>,
    below: DateCursor,
    page: usize,
) -> Result<Outcome, Failure> {
    let blobs: Vec<BlobId> = hits.iter().cloned().collect();
    let mut rows: Vec<Found> =
        ms.store().messages_with_blobs(account, &blobs).await?.into_iter().filter(|f| filter.keep(f)).collect();
    rows.sort_unstable_by_key(|f| std::cmp::Reverse(f.cursor()));
    let total = rows.len();
    let mut rows: Vec<Found> = rows.into_iter().filter(|f| f.cursor() < below).take(page + 1).collect();
    let next = if rows.len() > page {
        rows.truncate(page);
        rows.last().map(Found::cursor)
    } else {
        None
    };
    Ok(Outcome { rows, next, total: Some(total), partial: false })
}

async fn walk(
    ms: &Mailstore,
    account: AccountId,
    filter: &Filter<'_>,
    below: DateCursor,
    page: usize,
) -> Result<Outcome, Failure> {
    // `avant:` starts the walk at that day: nothing above it is read.
    let mut cursor = match filter.before {
        Some(b) => below.min(DateCursor { date: b, id: i64::MIN }),
        None => below,
    };
    let since = filter.since.unwrap_or(i64::MIN);
    let mut out: Vec<Found> = Vec::with_capacity(page + 1);
    let mut read = 0usize;
    loop {
        let batch = ms.store().messages_by_date(account, cursor, since, BATCH).await?;
        read += batch.len();
        let last_batch = batch.len() < BATCH;
        for f in batch {
            cursor = f.cursor();
            if !filter.keep(&f) {
                continue;
            }
            out.push(f);
            if out.len() > page {
                out.truncate(page);
                let next = out.last().map(Found::cursor);
                return Ok(Outcome { rows: out, next, total: None, partial: false });
            }
        }
        if last_batch {
            return Ok(Outcome { rows: out, next: None, total: None, partial: false });
        }
        if read >= BUDGET {
            return Ok(Outcome { rows: out, next: Some(cursor), total: None, partial: true });
        }
    }
}
