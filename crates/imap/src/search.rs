//! SEARCH and UID SEARCH over the stored metadata: flags, dates, sizes,
//! UIDs, and the envelope kept at delivery for FROM/TO/CC/BCC/SUBJECT.
//! TEXT and BODY need the full-text index, which does not exist yet: they
//! are refused rather than answered by scanning message bodies.

use std::collections::HashMap;

use mailstore::analyse::{Analysis, EnvelopeAddress};
use model::{BlobId, Flag};
use store::MessageRow;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::{DateOp, SearchKey};
use crate::date::day_of;
use crate::fetch::analysis_of;
use crate::messages::compact_set;
use crate::reply::{Done, store_failure};
use crate::session::Session;

/// What a key needs to know of a message beyond its row.
struct Meta {
    analysis: Option<Analysis>,
    sent_date: Option<i64>,
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

fn addresses_match(list: &[EnvelopeAddress], needle: &str) -> bool {
    list.iter().any(|a| {
        a.address().to_lowercase().contains(needle)
            || a.name.as_deref().is_some_and(|n| n.to_lowercase().contains(needle))
    })
}

struct Ctx<'a> {
    seq: u32,
    count: u32,
    largest_uid: u32,
    row: &'a MessageRow,
    meta: Option<&'a Meta>,
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
            let e = &a.envelope;
            match field.as_str() {
                "FROM" => addresses_match(&e.from, &needle),
                "TO" => addresses_match(&e.to, &needle),
                "CC" => addresses_match(&e.cc, &needle),
                "BCC" => addresses_match(&e.bcc, &needle),
                "SUBJECT" => a.subject.to_lowercase().contains(&needle),
                "MESSAGE-ID" => e.message_id.as_deref().is_some_and(|m| m.to_lowercase().contains(&needle)),
                "IN-REPLY-TO" => e.in_reply_to.as_deref().is_some_and(|m| m.to_lowercase().contains(&needle)),
                _ => false,
            }
        }
        SearchKey::Date { op, day, sent } => {
            let when = if *sent { c.meta.and_then(|m| m.sent_date) } else { Some(row.internal_date) };
            let Some(when) = when else { return false };
            let d = day_of(when);
            match op {
                DateOp::Since => d >= *day,
                DateOp::Before => d < *day,
                DateOp::On => d == *day,
            }
        }
        SearchKey::Larger(n) => row.size as u64 > *n,
        SearchKey::Smaller(n) => (row.size as u64) < *n,
        SearchKey::Uid(set) => set.contains(row.uid as u32, c.largest_uid),
        SearchKey::Seq(set) => set.contains(c.seq, c.count),
        SearchKey::ModseqAbove(n) => row.modseq as u64 >= *n,
        SearchKey::New | SearchKey::Recent => false,
        SearchKey::Old => true,
        SearchKey::FullText => false,
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<'_, S> {
    pub(crate) async fn search(&mut self, tag: &str, uid: bool, key: &SearchKey, esearch: Option<&[String]>) -> Done {
        let Some(sel) = self.selected.clone() else {
            return Done::bad("No mailbox selected");
        };
        let (mut full_text, mut needs_meta, mut by_modseq) = (false, false, false);
        walk(key, &mut |k| match k {
            SearchKey::FullText => full_text = true,
            SearchKey::Header { .. } | SearchKey::Date { sent: true, .. } => needs_meta = true,
            SearchKey::ModseqAbove(_) => by_modseq = true,
            _ => {}
        });
        if full_text {
            return Done::no("[CANNOT] TEXT and BODY search need the full-text index, not available yet");
        }
        let rows = match self.mailstore.store().messages(sel.mailbox.id).await {
            Ok(rows) => rows,
            Err(e) => return store_failure(e),
        };
        let by_uid: HashMap<u32, &MessageRow> = rows.iter().map(|m| (m.uid as u32, m)).collect();
        let mut metas: HashMap<BlobId, Meta> = HashMap::new();
        if needs_meta {
            let mut wanted: Vec<BlobId> = rows.iter().map(|r| r.blob_hash.clone()).collect();
            wanted.sort_unstable();
            wanted.dedup();
            let found = match self.mailstore.store().blob_metas(&wanted).await {
                Ok(found) => found,
                Err(e) => return store_failure(e),
            };
            for b in found {
                let meta = Meta { sent_date: b.sent_date, analysis: analysis_of(&b.meta_json) };
                metas.insert(b.id, meta);
            }
        }
        let count = sel.uids.len() as u32;
        let largest_uid = sel.uids.last().copied().unwrap_or(0);
        let mut found: Vec<i64> = Vec::new();
        let mut top_modseq = 0;
        for (i, u) in sel.uids.iter().enumerate() {
            let Some(row) = by_uid.get(u) else { continue };
            let ctx = Ctx { seq: i as u32 + 1, count, largest_uid, row, meta: metas.get(&row.blob_hash) };
            if matches(key, &ctx) {
                found.push(if uid { row.uid } else { i as i64 + 1 });
                top_modseq = top_modseq.max(row.modseq);
            }
        }
        let modseq = if by_modseq && !found.is_empty() { format!(" (MODSEQ {top_modseq})") } else { String::new() };
        if esearch.is_some() || self.rev2 {
            let opts: Vec<String> = match esearch {
                Some(o) if !o.is_empty() => o.to_vec(),
                _ => vec!["ALL".into()],
            };
            let mut line = format!("ESEARCH (TAG \"{tag}\")");
            if uid {
                line.push_str(" UID");
            }
            for opt in opts {
                match opt.as_str() {
                    "MIN" if !found.is_empty() => line.push_str(&format!(" MIN {}", found[0])),
                    "MAX" if !found.is_empty() => line.push_str(&format!(" MAX {}", found[found.len() - 1])),
                    "COUNT" => line.push_str(&format!(" COUNT {}", found.len())),
                    "ALL" if !found.is_empty() => line.push_str(&format!(" ALL {}", compact_set(&found))),
                    _ => {}
                }
            }
            if by_modseq && !found.is_empty() {
                line.push_str(&format!(" MODSEQ {top_modseq}"));
            }
            self.untagged(&line);
        } else {
            let list: Vec<String> = found.iter().map(i64::to_string).collect();
            let sep = if list.is_empty() { "" } else { " " };
            self.untagged(&format!("SEARCH{sep}{}{modseq}", list.join(" ")));
        }
        Done::ok(if uid { "UID SEARCH completed" } else { "SEARCH completed" })
    }
}
