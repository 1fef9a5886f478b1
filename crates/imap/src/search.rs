//! SEARCH and UID SEARCH over the stored metadata: flags, dates, sizes,
//! UIDs, and the envelope kept at delivery for FROM/TO/CC/BCC/SUBJECT.
//! TEXT and BODY go through the full-text index ([`mailstore::Mailstore::search_text`]), never a scan
//! of message bodies: each distinct full-text key is asked of the index
//! once, for the account, and the blobs it returns are then matched against
//! the rows of the selected mailbox like any other key, so NOT and OR
//! combine as usual and nothing outside the mailbox can leak in.

use std::collections::HashMap;
use std::sync::Arc;

use mailstore::analyse::{Analysis, EnvelopeAddress};
use mailstore::{Field, MessageRow};
use model::{AccountId, BlobId, Flag};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::{DateOp, ReturnOptions, SearchKey};
use crate::context::esearch_line;
use crate::date::{day_in, day_of};
use crate::reply::{Done, failed};
use crate::selected::Selected;
use crate::seqset::SeqSet;
use crate::session::Conn;

/// What a key needs to know of a message beyond its row.
pub(crate) struct Meta {
    pub analysis: Option<Analysis>,
    pub sent_date: Option<i64>,
}

/// The messages a search matched.
pub(crate) struct Matched {
    /// Sequence number and row, by increasing sequence number.
    pub rows: Vec<(u32, MessageRow)>,
    /// Per blob, when asked for or needed by a key.
    pub metas: HashMap<BlobId, Meta>,
    pub top_modseq: i64,
}

fn walk(key: &SearchKey, f: &mut impl FnMut(&SearchKey)) {
    f(key);
    match key {
        SearchKey::And(keys) => keys.iter().for_each(|k| walk(k, f)),
        SearchKey::Or(a, b) => {
            walk(a, f);
            walk(b, f);
        }
        SearchKey::Not(k) => walk(k, f),
        _ => {}
    }
}

/// The key with `$` (SEARCHRES) replaced by the saved UIDs.
pub(crate) fn unsave(key: &SearchKey, saved: &SeqSet) -> SearchKey {
    match key {
        SearchKey::Seq(s) | SearchKey::Uid(s) if s.is_saved() => SearchKey::Uid(saved.clone()),
        SearchKey::And(keys) => SearchKey::And(keys.iter().map(|k| unsave(k, saved)).collect()),
        SearchKey::Or(a, b) => SearchKey::Or(Box::new(unsave(a, saved)), Box::new(unsave(b, saved))),
        SearchKey::Not(k) => SearchKey::Not(Box::new(unsave(k, saved))),
        other => other.clone(),
    }
}

/// Case-insensitive substring, also with accents folded (`reunion`
/// matches `Réunion`); `needle` is lower-case.
fn text_matches(hay: &str, needle: &str) -> bool {
    if hay.to_lowercase().contains(needle) {
        return true;
    }
    let folded = mailstore::fold(needle);
    !folded.is_empty() && mailstore::fold(hay).contains(&folded)
}

/// The header fields whose value the envelope keeps (searched there for
/// contents stored before their header fields were).
fn is_envelope_field(field: &str) -> bool {
    matches!(field, "FROM" | "TO" | "CC" | "BCC" | "SUBJECT" | "MESSAGE-ID" | "IN-REPLY-TO")
}

fn addresses_match(list: &[EnvelopeAddress], needle: &str) -> bool {
    list.iter()
        .any(|a| text_matches(&a.address(), needle) || a.name.as_deref().is_some_and(|n| text_matches(n, needle)))
}

/// Answers of the index per distinct full-text key `(body_only, value)`
/// (`None`: the key has no word and matches everything). A handful of keys
/// at most: a list looked up without allocating, once per message and key.
#[derive(Default)]
struct FullTextHits(Vec<(FullTextKey, Option<mailstore::Hits>)>);

/// `(body_only, value)` of a TEXT or BODY key.
type FullTextKey = (bool, String);

impl FullTextHits {
    fn get(&self, body_only: bool, value: &str) -> Option<&Option<mailstore::Hits>> {
        self.0.iter().find(|((b, v), _)| *b == body_only && v == value).map(|(_, hits)| hits)
    }
}

struct Ctx<'a> {
    full_text: &'a FullTextHits,
    seq: u32,
    count: u32,
    largest_uid: u32,
    row: &'a MessageRow,
    meta: Option<&'a Meta>,
    /// Whether the session holds the message as recent (IMAP4rev1).
    recent: bool,
    /// The installation's zone, in which internal and saved dates are read.
    zone: &'a jiff::tz::TimeZone,
}

/// The day of the Date: field as written, disregarding its time and zone
/// (RFC 9051 section 6.4.4); from the sent instant in UTC when the stored
/// analysis has no envelope date.
fn sent_day(m: &Meta) -> Option<i64> {
    let written =
        m.analysis.as_ref().and_then(|a| a.envelope.date.as_deref()).and_then(mailstore::analyse::written_day);
    written.or_else(|| m.sent_date.map(day_of))
}

fn matches(key: &SearchKey, c: &Ctx<'_>) -> bool {
    let row = c.row;
    match key {
        SearchKey::All => true,
        SearchKey::And(keys) => keys.iter().all(|k| matches(k, c)),
        SearchKey::Or(a, b) => matches(a, c) || matches(b, c),
        SearchKey::Not(k) => !matches(k, c),
        SearchKey::Flag { name, set } => {
            let has = match Flag::ALL.iter().find(|f| f.imap_name().eq_ignore_ascii_case(name)) {
                Some(f) => row.flags & f.bit() != 0,
                None => row.keywords.iter().any(|k| k.eq_ignore_ascii_case(name)),
            };
            has == *set
        }
        SearchKey::Header { field, value } => {
            let needle = value.to_lowercase();
            let Some(a) = c.meta.and_then(|m| m.analysis.as_ref()) else {
                return false;
            };
            // RFC 9051 section 6.4.4, HEADER: "If the string to search is
            // zero-length, this matches all messages that have a header line
            // with the specified field-name regardless of the contents."
            // Fields the envelope keeps are searched there (as addresses for
            // FROM, TO...); any other field, and the presence of one, in the
            // header fields stored with the content (contents stored before
            // them have none: only their envelope fields can match).
            if !is_envelope_field(field) || (needle.is_empty() && !a.headers.is_empty()) {
                let mut named = a.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(field));
                return named.any(|(_, v)| needle.is_empty() || text_matches(v, &needle));
            }
            let e = &a.envelope;
            if needle.is_empty() {
                return match field.as_str() {
                    "FROM" => !e.from.is_empty(),
                    "TO" => !e.to.is_empty(),
                    "CC" => !e.cc.is_empty(),
                    "BCC" => !e.bcc.is_empty(),
                    "SUBJECT" => e.subject.is_some(),
                    "MESSAGE-ID" => e.message_id.is_some(),
                    _ => e.in_reply_to.is_some(),
                };
            }
            match field.as_str() {
                "FROM" => addresses_match(&e.from, &needle),
                "TO" => addresses_match(&e.to, &needle),
                "CC" => addresses_match(&e.cc, &needle),
                "BCC" => addresses_match(&e.bcc, &needle),
                "SUBJECT" => text_matches(&a.subject, &needle),
                "MESSAGE-ID" => e.message_id.as_deref().is_some_and(|m| m.to_lowercase().contains(&needle)),
                "IN-REPLY-TO" => e.in_reply_to.as_deref().is_some_and(|m| m.to_lowercase().contains(&needle)),
                _ => false,
            }
        }
        SearchKey::Date { op, day, sent } => {
            let d = if *sent { c.meta.and_then(sent_day) } else { Some(day_in(row.internal_date, c.zone)) };
            let Some(d) = d else { return false };
            match op {
                DateOp::Since => d >= *day,
                DateOp::Before => d < *day,
                DateOp::On => d == *day,
            }
        }
        SearchKey::SavedDate { op, day } => {
            let d = day_in(row.saved_date, c.zone);
            match op {
                DateOp::Since => d >= *day,
                DateOp::Before => d < *day,
                DateOp::On => d == *day,
            }
        }
        SearchKey::EmailId(id) => crate::fetch::email_id(row) == *id,
        SearchKey::ThreadId(id) => crate::fetch::thread_id(row) == *id,
        SearchKey::Larger(n) => row.size as u64 > *n,
        SearchKey::Smaller(n) => (row.size as u64) < *n,
        SearchKey::Uid(set) => set.contains(row.uid as u32, c.largest_uid),
        SearchKey::Seq(set) => set.contains(c.seq, c.count),
        SearchKey::ModseqAbove(n) => row.modseq as u64 >= *n,
        // RFC 3501 section 6.4.4: NEW is "functionally equivalent to
        // (RECENT UNSEEN)", OLD to "(NOT RECENT)".
        SearchKey::Recent => c.recent,
        SearchKey::New => c.recent && row.flags & Flag::Seen.bit() == 0,
        SearchKey::Old => !c.recent,
        // TEXT is "in the header ... or body of the message" (RFC 9051
        // section 6.4.4): the index holds the body, the usual header fields
        // and, in `Field::Headers`, every other header field (names and
        // values), so TEXT never reads the mailbox's stored analyses (R7).
        SearchKey::FullText { body_only, value } => match c.full_text.get(*body_only, value) {
            Some(Some(hits)) => hits.contains(row.blob_hash.as_str()),
            Some(None) => true,
            None => false,
        },
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// The rows of the selected mailbox, by increasing UID: when `cached`,
    /// the session's copy while the mailbox's HIGHESTMODSEQ has not moved;
    /// else (and then) read anew.
    async fn mailbox_rows(
        &self,
        account: AccountId,
        sel: &mut Selected,
        cached: bool,
    ) -> Result<Arc<Vec<MessageRow>>, Done> {
        let current = self.mailstore.mailbox(account, sel.mailbox.id).await.map_err(failed)?.map(|m| m.highest_modseq);
        if let (true, Some(now), Some((at, rows))) = (cached, current, sel.rows.as_ref())
            && *at == now
        {
            return Ok(rows.clone());
        }
        // Read after the modseq: rows newer than it only make the copy
        // look older than it is, so it is read again next time.
        let rows = Arc::new(self.mailstore.messages(sel.mailbox.id).await.map_err(failed)?);
        if let Some(now) = current {
            sel.rows = Some((now, rows.clone()));
        }
        Ok(rows)
    }

    /// Asks the index once per distinct full-text key.
    async fn full_text_hits(&self, account: AccountId, keys: Vec<(bool, String)>) -> Result<FullTextHits, Done> {
        let mut hits = FullTextHits::default();
        for (body_only, value) in keys {
            if hits.get(body_only, &value).is_some() {
                continue;
            }
            let fields: &[Field] = if body_only { &[Field::Body, Field::Attachments] } else { &Field::TEXT };
            match self.mailstore.search_text(account, fields, &value).await {
                Ok(Some(found)) => hits.0.push(((body_only, value), found)),
                Ok(None) => return Err(Done::no("[CANNOT] TEXT and BODY need the full-text index, not enabled here")),
                Err(e) => {
                    tracing::warn!(error = %e, "full-text search failed");
                    return Err(Done::no(
                        "[UNAVAILABLE] Recherche indisponible, reessayez / Search unavailable, retry",
                    ));
                }
            }
        }
        Ok(hits)
    }

    /// The messages of the selected mailbox matching `key`, in sequence
    /// order, with their metadata when a key needed it or `with_meta`.
    pub(crate) async fn matching(
        &self,
        account: AccountId,
        sel: &mut Selected,
        key: &SearchKey,
        with_meta: bool,
    ) -> Result<Matched, Done> {
        // THREADID can change without the mailbox's modseq moving (a delivery
        // elsewhere in the account joins two threads): read afresh for it.
        let mut by_thread = false;
        walk(key, &mut |k| by_thread |= matches!(k, SearchKey::ThreadId(_)));
        let rows = self.mailbox_rows(account, sel, !with_meta && !by_thread).await?;
        let (mut full_text, mut needs_meta) = (Vec::new(), with_meta);
        walk(key, &mut |k| match k {
            SearchKey::FullText { body_only, value } => full_text.push((*body_only, value.clone())),
            SearchKey::Header { .. } | SearchKey::Date { sent: true, .. } => needs_meta = true,
            _ => {}
        });
        let hits = self.full_text_hits(account, full_text).await?;
        let mut metas: HashMap<BlobId, Meta> = HashMap::new();
        if needs_meta {
            let mut wanted: Vec<BlobId> = rows.iter().map(|r| r.blob_hash.clone()).collect();
            wanted.sort_unstable();
            wanted.dedup();
            for b in self.mailstore.summaries(&wanted).await.map_err(failed)? {
                let meta =
                    Meta { sent_date: b.sent_date, analysis: mailstore::analyse::stored::from_stored(&b.meta_json) };
                metas.insert(b.id, meta);
            }
        }
        let count = sel.uids.len() as u32;
        let largest_uid = sel.uids.last().copied().unwrap_or(0);
        let mut out = Matched { rows: Vec::new(), metas: HashMap::new(), top_modseq: 0 };
        // Both the view and the rows are in increasing UID order: walk them
        // together. Rows the view does not know yet (newer) are left out, as
        // are view entries whose row is gone (expunged by another session).
        let mut rows = rows.iter().peekable();
        for (i, u) in sel.uids.iter().enumerate() {
            while rows.next_if(|r| (r.uid as u32) < *u).is_some() {}
            let Some(row) = rows.next_if(|r| r.uid as u32 == *u) else { continue };
            let ctx = Ctx {
                full_text: &hits,
                seq: i as u32 + 1,
                count,
                largest_uid,
                row,
                meta: metas.get(&row.blob_hash),
                recent: sel.recent.contains(u),
                zone: &self.cfg.time_zone,
            };
            if matches(key, &ctx) {
                out.top_modseq = out.top_modseq.max(row.modseq);
                out.rows.push((i as u32 + 1, row.clone()));
            }
        }
        out.metas = metas;
        Ok(out)
    }

    /// SEARCH and UID SEARCH, answered as ESEARCH when asked or under
    /// IMAP4rev2; kept up to date with `RETURN (UPDATE)` ([`crate::context`]).
    pub(crate) async fn search(
        &mut self,
        tag: &str,
        sel: &mut Selected,
        uid: bool,
        key: &SearchKey,
        esearch: Option<&ReturnOptions>,
    ) -> Done {
        if let Some(done) = crate::context::reused(sel, tag, esearch) {
            return done;
        }
        let saved = SeqSet::of(&sel.saved);
        let key = &unsave(key, &saved);
        let mut by_modseq = false;
        walk(key, &mut |k| by_modseq |= matches!(k, SearchKey::ModseqAbove(_)));
        if by_modseq {
            self.condstore_on(Some(&*sel));
        }
        let matched = match self.matching(sel.mailbox.account_id, sel, key, false).await {
            Ok(m) => m,
            Err(done) => return done,
        };
        let top_modseq = matched.top_modseq;
        let save = esearch.is_some_and(|o| o.has("SAVE"));
        if save {
            sel.saved = matched.rows.iter().map(|(_, r)| r.uid as u32).collect();
        }
        let done = Done::ok(if uid { "UID SEARCH completed" } else { "SEARCH completed" });
        if let Some(opts) = esearch
            && opts.update
        {
            let results = matched.rows.iter().map(|(_, r)| r.uid as u32).collect();
            self.keep_context(sel, tag, uid, (key, None), results);
        }
        if save && esearch.is_some_and(|o| o.asks_nothing() && !o.update) {
            return Done::ok(if uid { "UID SEARCH completed, result saved" } else { "SEARCH completed, result saved" });
        }
        let found: Vec<i64> =
            matched.rows.iter().map(|(seq, row)| if uid { row.uid } else { i64::from(*seq) }).collect();
        if esearch.is_some() || self.enabled.rev2 {
            let mut line = esearch_line(tag, uid, &found, esearch.unwrap_or(&ReturnOptions::default()));
            if by_modseq && !found.is_empty() {
                line.push_str(&format!(" MODSEQ {top_modseq}"));
            }
            self.untagged(&line);
        } else {
            let list: Vec<String> = found.iter().map(i64::to_string).collect();
            let sep = if list.is_empty() { "" } else { " " };
            let modseq = if by_modseq && !found.is_empty() { format!(" (MODSEQ {top_modseq})") } else { String::new() };
            self.untagged(&format!("SEARCH{sep}{}{modseq}", list.join(" ")));
        }
        done
    }
}
