//! Running a parsed query: the full-text index answers the words and the
//! `de:`/`à:`/`objet:` parts (bodies are never read), and the store maps
//! its answer to the account's messages without loading every row:
//! - first the index counts the matching contents (postings only);
//! - few contents: they are listed, then one indexed lookup each
//!   (`messages_with_blobs`), sorted here, with an exact count;
//! - many contents, or no words at all (`pj:`, dates, `dans:` alone): the
//!   account's messages are walked from the newest by internal date in
//!   batches (`messages_by_date`); each batch's contents are checked
//!   against the index in one query; the walk stops after a fixed number
//!   of rows read, offering to go on. No step holds more than a batch, so
//!   the cost follows the page, not the mailbox. The index's count is then
//!   shown as an estimate.

use std::collections::HashSet;

use mailstore::{DateCursor, Field, Found, Mailstore, QueryPart};
use model::{AccountId, BlobId, MailboxId};

use super::query::Query;

/// Contents mapped by direct lookups at most; more are matched while walking.
pub const DIRECT: usize = 1_000;
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
    /// Without an exact total: what the index counted.
    pub estimate: Option<Estimate>,
}

/// The index's count of matching contents, when results are walked rather
/// than counted: about the number of messages for words alone, at most
/// that many when folders, dates or attachments narrow them further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimate {
    About(usize),
    AtMost(usize),
}

/// Why a search could not run.
#[derive(Debug)]
pub enum Failure {
    Store(mailstore::Error),
    /// No index, or it failed.
    Unavailable,
}

impl From<mailstore::Error> for Failure {
    fn from(e: mailstore::Error) -> Failure {
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

/// The index parts of `q`: free words on every field, each operator value
/// on its own.
fn parts(q: &Query) -> Vec<QueryPart> {
    let mut out = Vec::new();
    if !q.text.is_empty() {
        out.push((Field::ALL.to_vec(), q.text.join(" ")));
    }
    out.extend(q.from.iter().map(|v| (vec![Field::From], v.clone())));
    out.extend(q.to.iter().map(|v| (vec![Field::Recipients], v.clone())));
    out.extend(q.subject.iter().map(|v| (vec![Field::Subject], v.clone())));
    out
}

/// An index that is missing or failed makes the search unavailable.
fn unavailable(_: mailstore::Error) -> Failure {
    Failure::Unavailable
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
    let parts = parts(q);
    let count = if parts.is_empty() { None } else { ms.count_matching(account, &parts).await.map_err(unavailable)? };
    let mut filter = Filter { hits: None, folder, attachment: q.attachment, before: q.before, since: q.since };
    match count {
        Some(0) => Ok(Outcome { total: Some(0), ..Outcome::default() }),
        Some(n) if n <= direct_limit => {
            let hits = ms.contents_matching(account, &parts).await.map_err(unavailable)?;
            let Some(hits) = hits else { return walk(ms, account, &filter, None, below, page).await };
            filter.hits = Some(&hits);
            direct(ms, account, &hits, &filter, below, page).await
        }
        Some(n) => {
            let narrowed = folder.is_some() || q.attachment.is_some() || q.before.is_some() || q.since.is_some();
            let mut outcome = walk(ms, account, &filter, Some(&parts), below, page).await?;
            outcome.estimate = Some(if narrowed { Estimate::AtMost(n) } else { Estimate::About(n) });
            Ok(outcome)
        }
        None => walk(ms, account, &filter, None, below, page).await,
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
        ms.messages_with_contents(account, &blobs).await?.into_iter().filter(|f| filter.keep(f)).collect();
    rows.sort_unstable_by_key(|f| std::cmp::Reverse(f.cursor()));
    let total = rows.len();
    let mut rows: Vec<Found> = rows.into_iter().filter(|f| f.cursor() < below).take(page + 1).collect();
    let next = if rows.len() > page {
        rows.truncate(page);
        rows.last().map(Found::cursor)
    } else {
        None
    };
    Ok(Outcome { rows, next, total: Some(total), ..Outcome::default() })
}

async fn walk(
    ms: &Mailstore,
    account: AccountId,
    filter: &Filter<'_>,
    parts: Option<&[QueryPart]>,
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
        let batch = ms.messages_by_date(account, cursor, since, BATCH).await?;
        read += batch.len();
        let last_batch = batch.len() < BATCH;
        let Some(end) = batch.last().map(Found::cursor) else {
            return Ok(Outcome { rows: out, ..Outcome::default() });
        };
        let mut kept: Vec<Found> = batch.into_iter().filter(|f| filter.keep(f)).collect();
        if let Some(parts) = parts
            && !kept.is_empty()
        {
            // One index query for the batch's contents.
            let mut blobs: Vec<String> = kept.iter().map(|f| f.blob_hash.as_str().to_owned()).collect();
            blobs.sort_unstable();
            blobs.dedup();
            let matching = ms.contents_matching_among(account, parts, blobs).await.map_err(unavailable)?;
            if let Some(matching) = matching {
                kept.retain(|f| matching.contains(f.blob_hash.as_str()));
            }
        }
        for f in kept {
            out.push(f);
            if out.len() > page {
                out.truncate(page);
                let next = out.last().map(Found::cursor);
                return Ok(Outcome { rows: out, next, ..Outcome::default() });
            }
        }
        cursor = end;
        if last_batch {
            return Ok(Outcome { rows: out, ..Outcome::default() });
        }
        if read >= BUDGET {
            return Ok(Outcome { rows: out, next: Some(cursor), partial: true, ..Outcome::default() });
        }
    }
}
