//! FETCH: one response per message, built from the message row, the blob's
//! stored analysis and, for body sections only, the blob's bytes.

use std::collections::HashMap;
use std::io::Write;

use mailstore::analyse::Analysis;
use mailstore::analyse::stored::from_stored;
use mailstore::{FlagOp, FlagOutcome, MessageRow};
use model::{BlobId, Flag};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::{FetchItem, Section, SectionLabel, SectionText};
use crate::reply::{Done, failed, failure};
use crate::selected::Selected;
use crate::seqset::SeqSet;
use crate::session::{Conn, FLUSH_AT};
use crate::untagged::flag_list;

/// The name a section's data is returned under, e.g. `BODY[1.HEADER]<0>`.
fn section_label(label: SectionLabel, section: &Section, partial: Option<(u32, u32)>) -> String {
    match label {
        SectionLabel::Rfc822 => return "RFC822".into(),
        SectionLabel::Rfc822Header => return "RFC822.HEADER".into(),
        SectionLabel::Rfc822Text => return "RFC822.TEXT".into(),
        SectionLabel::Body | SectionLabel::Binary | SectionLabel::BinarySize => {}
    }
    let mut spec: Vec<String> = section.part.iter().map(u32::to_string).collect();
    match &section.text {
        None => {}
        Some(SectionText::Header) => spec.push("HEADER".into()),
        Some(SectionText::Text) => spec.push("TEXT".into()),
        Some(SectionText::Mime) => spec.push("MIME".into()),
        Some(SectionText::HeaderFields { not, fields }) => {
            let name = if *not { "HEADER.FIELDS.NOT" } else { "HEADER.FIELDS" };
            spec.push(format!("{name} ({})", fields.join(" ")));
        }
    }
    let origin = partial.map(|(start, _)| format!("<{start}>")).unwrap_or_default();
    let name = match label {
        SectionLabel::Binary => "BINARY",
        SectionLabel::BinarySize => "BINARY.SIZE",
        _ => "BODY",
    };
    format!("{name}[{}]{origin}", spec.join("."))
}

/// Messages read and answered at a time by FETCH: bounds the memory of a
/// `FETCH 1:*` over 100,000 messages while keeping the reads in bulk.
const FETCH_CHUNK: usize = 2_000;

/// What one FETCH command asks, shared by its chunks.
struct Plan<'a> {
    uid: bool,
    items: &'a [FetchItem],
    changed_since: Option<u64>,
    /// An item needs the stored analysis (BODYSTRUCTURE, sections).
    needs_analysis: bool,
    wants_envelope: bool,
    sets_seen: bool,
}

/// A FETCH command, `$` already replaced.
pub(crate) struct Request {
    pub uid: bool,
    pub set: SeqSet,
    pub items: Vec<FetchItem>,
    pub changed_since: Option<u64>,
    /// QRESYNC: also report UIDs of the set expunged since `changed_since`.
    pub vanished: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// FETCH and UID FETCH, with the VANISHED (EARLIER) of QRESYNC first.
    pub(crate) async fn fetch_command(&mut self, sel: &mut Selected, request: Request) -> Done {
        let Request { uid, set, items, changed_since, vanished } = request;
        if vanished && !self.enabled.qresync {
            return Done::bad("ENABLE QRESYNC first");
        }
        if let (true, Some(since)) = (vanished, changed_since) {
            match self.vanished_since(sel, since, Some(&set)).await {
                Ok(gone) => self.vanished_line(true, &gone),
                Err(done) => return done,
            }
        }
        match sel.indices(uid, &set) {
            Ok(indices) => self.fetch(sel, uid, indices, items, changed_since).await,
            Err(done) => done,
        }
    }

    /// FETCH and UID FETCH over the messages at these view indices.
    pub(crate) async fn fetch(
        &mut self,
        sel: &mut Selected,
        uid: bool,
        indices: Vec<usize>,
        mut items: Vec<FetchItem>,
        changed_since: Option<u64>,
    ) -> Done {
        if uid && !items.contains(&FetchItem::Uid) {
            items.insert(0, FetchItem::Uid);
        }
        if changed_since.is_some() && !items.contains(&FetchItem::Modseq) {
            items.push(FetchItem::Modseq);
        }
        if items.contains(&FetchItem::Modseq) {
            self.condstore_on(Some(&*sel));
            // RFC 7162 section 3.1: the server "MUST automatically include
            // both UID and mod-sequence data in all subsequent untagged
            // FETCH responses"; this FETCH asked for MODSEQ, so it is not
            // one of the exceptions.
            if !items.contains(&FetchItem::Uid) {
                items.insert(0, FetchItem::Uid);
            }
        }
        let plan = Plan {
            uid,
            items: &items,
            changed_since,
            needs_analysis: items
                .iter()
                .any(|i| matches!(i, FetchItem::BodyStructure | FetchItem::BodyShape | FetchItem::Section { .. })),
            wants_envelope: items.contains(&FetchItem::Envelope),
            sets_seen: !sel.read_only
                && sel.rights.contains(model::Rights::SEEN)
                && items.iter().any(|i| matches!(i, FetchItem::Section { peek: false, .. })),
        };
        // RFC 2180 4.1: a message another session expunged, whose removal this
        // session has not been told about yet, is still in this view, but its
        // row is gone (and its blob may be collected), so it cannot be served
        // as it was. We answer as RFC 2180 4.1.2 describes, for FETCH and UID
        // FETCH alike: the other messages' FETCH responses, then a tagged
        // NO [EXPUNGEISSUED] (RFC 5530) naming the missing ones; the EXPUNGE
        // follows at the next command that may report it (after UID FETCH,
        // at once). An OK that silently drops requested messages would look
        // like a server bug to the client.
        let mut missing: Vec<i64> = Vec::new();
        for chunk in indices.chunks(FETCH_CHUNK) {
            if let Err(done) = self.fetch_chunk(&plan, sel, chunk, &mut missing).await {
                return done;
            }
        }
        if !missing.is_empty() {
            return Done::no(&format!(
                "[EXPUNGEISSUED] Some messages were expunged by another session: {} {}",
                if uid { "UIDs" } else { "messages" },
                crate::messages::compact_set(&missing)
            ));
        }
        Done::ok(if uid { "UID FETCH completed" } else { "FETCH completed" })
    }

    /// Answers FETCH for the messages at these view indices (in increasing
    /// order): their rows, stored envelopes and, when needed, analyses are
    /// read in a few bulk queries for the chunk's UID range.
    async fn fetch_chunk(
        &mut self,
        plan: &Plan<'_>,
        sel: &mut Selected,
        indices: &[usize],
        missing: &mut Vec<i64>,
    ) -> Result<(), Done> {
        let (uid, changed_since, utf8) = (plan.uid, plan.changed_since, self.enabled.utf8);
        // Only the UID range the chunk touches is read.
        let (first, last) = match (indices.first(), indices.last()) {
            (Some(a), Some(b)) => (i64::from(sel.uids[*a]), i64::from(sel.uids[*b])),
            _ => return Ok(()),
        };
        let ms = &self.mailstore;
        let rows = ms.messages_between(sel.mailbox.id, first, last).await.map_err(failed)?;
        let mut envelopes: HashMap<u32, String> = HashMap::new();
        if plan.wants_envelope && !plan.needs_analysis {
            let found = ms.envelopes_between(sel.mailbox.id, first, last, self.enabled.utf8).await.map_err(failed)?;
            envelopes.extend(found.into_iter().map(|(u, e)| (u as u32, e)));
        }
        let account = sel.mailbox.account_id;
        // The analyses needed: every message's for BODYSTRUCTURE and sections,
        // otherwise only those whose envelope was not stored (older contents).
        let mut metas: HashMap<BlobId, Option<Analysis>> = HashMap::new();
        let mut wanted: Vec<BlobId> = rows
            .iter()
            .filter(|r| plan.needs_analysis || (plan.wants_envelope && !envelopes.contains_key(&(r.uid as u32))))
            .map(|r| r.blob_hash.clone())
            .collect();
        if !wanted.is_empty() {
            wanted.sort_unstable();
            wanted.dedup();
            let found = ms.summaries(&wanted).await.map_err(failed)?;
            metas.extend(found.into_iter().map(|b| (b.id.clone(), from_stored(&b.meta_json))));
        }
        let mut by_uid: HashMap<u32, MessageRow> = rows.into_iter().map(|m| (m.uid as u32, m)).collect();
        // A non-PEEK body fetch sets \Seen: on every unseen message at once, in
        // one transaction that adds the flag to whatever flags it has then.
        let mut seen_now: Vec<u32> = Vec::new();
        if plan.sets_seen {
            let unseen: Vec<i64> = indices
                .iter()
                .filter_map(|i| by_uid.get(&sel.uids[*i]))
                .filter(|r| r.flags & Flag::Seen.bit() == 0)
                .filter(|r| changed_since.is_none_or(|since| r.modseq as u64 > since))
                .map(|r| r.uid)
                .collect();
            if !unseen.is_empty() {
                let seen = Flag::Seen.bit();
                let outcomes = self
                    .mailstore
                    .update_flags(account, sel.mailbox.id, &unseen, FlagOp::Add, seen, &[], None)
                    .await
                    .map_err(|e| failure(&e))?;
                for o in outcomes {
                    match o {
                        FlagOutcome::Changed { uid, flags, keywords, modseq } => {
                            sel.own.insert(modseq);
                            if let Some(row) = by_uid.get_mut(&(uid as u32)) {
                                (row.flags, row.keywords, row.modseq) = (flags, keywords, modseq);
                            }
                            seen_now.push(uid as u32);
                        }
                        FlagOutcome::Missing { uid } => {
                            by_uid.remove(&(uid as u32));
                        }
                        FlagOutcome::Unchanged { .. } | FlagOutcome::Modified { .. } => {}
                    }
                }
            }
        }
        let mut out: Vec<u8> = Vec::with_capacity(512);
        for &i in indices {
            let seq = i + 1;
            let Some(row) = by_uid.get(&sel.uids[i]) else {
                missing.push(if uid { i64::from(sel.uids[i]) } else { seq as i64 });
                continue;
            };
            if changed_since.is_some_and(|since| row.modseq as u64 <= since) {
                continue;
            }
            let set_seen_now = seen_now.contains(&(row.uid as u32));
            let analysis: Option<&Analysis> = metas.get(&row.blob_hash).and_then(Option::as_ref);
            let mut raw: Option<Vec<u8>> = None;
            out.clear();
            let _ = write!(out, "* {seq} FETCH (");
            let mut first = true;
            let mut flags_sent = false;
            for item in plan.items {
                if !first {
                    out.push(b' ');
                }
                first = false;
                match item {
                    FetchItem::Uid => {
                        let _ = write!(out, "UID {}", row.uid);
                    }
                    FetchItem::Flags => {
                        flags_sent = true;
                        out.extend_from_slice(b"FLAGS ");
                        flag_list(&mut out, row.flags, sel.recent.contains(&(row.uid as u32)), &row.keywords);
                    }
                    FetchItem::InternalDate => {
                        let _ = write!(out, "INTERNALDATE \"{}\"", crate::date::format_date_time(row.internal_date));
                    }
                    FetchItem::Size => {
                        let _ = write!(out, "RFC822.SIZE {}", row.size);
                    }
                    FetchItem::Modseq => {
                        let _ = write!(out, "MODSEQ ({})", row.modseq);
                    }
                    FetchItem::SaveDate => {
                        let _ = write!(out, "SAVEDATE \"{}\"", crate::date::format_date_time(row.saved_date));
                    }
                    FetchItem::EmailId => {
                        let _ = write!(out, "EMAILID ({})", email_id(row));
                    }
                    FetchItem::ThreadId => {
                        let _ = write!(out, "THREADID ({})", thread_id(row));
                    }
                    FetchItem::Envelope => {
                        out.extend_from_slice(b"ENVELOPE ");
                        match envelopes.get(&(row.uid as u32)) {
                            Some(stored) => out.extend_from_slice(stored.as_bytes()),
                            None => {
                                let env = analysis.map(|a| &a.envelope);
                                crate::resp::envelope(&mut out, env.unwrap_or(&Default::default()), utf8);
                            }
                        }
                    }
                    FetchItem::BodyStructure | FetchItem::BodyShape => {
                        let extended = *item == FetchItem::BodyStructure;
                        out.extend_from_slice(if extended { b"BODYSTRUCTURE " } else { b"BODY " });
                        let body = analysis.map(|a| &a.body);
                        crate::resp::body_structure(&mut out, body.unwrap_or(&Default::default()), extended, utf8);
                    }
                    FetchItem::Section { section, partial, label, .. } => {
                        // BODY[]<start.length> of a message not read yet: that
                        // range only, from the blob store (a bucket sends no more).
                        if let (None, SectionLabel::Body, Some((start, len)), true) =
                            (&raw, label, partial, section.part.is_empty() && section.text.is_none())
                        {
                            let range = u64::from(*start)..u64::from(*start) + u64::from(*len);
                            let mut d = match self.mailstore.message_range(&row.blob_hash, range).await {
                                Ok(bytes) => bytes,
                                Err(e) => return Err(failure(&e)),
                            };
                            crate::sections::replace_nuls(&mut d);
                            out.extend_from_slice(section_label(*label, section, *partial).as_bytes());
                            let _ = write!(out, " {{{}}}\r\n", d.len());
                            out.extend_from_slice(&d);
                            continue;
                        }
                        if raw.is_none() {
                            match self.mailstore.message_bytes(&row.blob_hash).await {
                                Ok(bytes) => raw = Some(bytes),
                                Err(e) => return Err(failure(&e)),
                            }
                        }
                        let bytes = raw.as_deref().unwrap_or_default();
                        let mut data = match analysis {
                            Some(a) => crate::sections::extract(bytes, a, section),
                            None if section.part.is_empty() && section.text.is_none() => Some(bytes.to_vec()),
                            None => None,
                        };
                        if matches!(label, SectionLabel::Binary | SectionLabel::BinarySize) && !section.part.is_empty()
                        {
                            let encoding = analysis
                                .and_then(|a| a.body.section(&section.part))
                                .map(|p| p.encoding.clone())
                                .unwrap_or_default();
                            data = match data.map(|d| crate::binary::decode(&encoding, &d)) {
                                Some(None) => return Err(Done::no("[UNKNOWN-CTE] Unknown content-transfer-encoding")),
                                Some(decoded) => decoded,
                                None => None,
                            };
                        }
                        if *label == SectionLabel::BinarySize {
                            let size = data.map_or(0, |d| d.len());
                            let _ = write!(out, "{} {size}", section_label(*label, section, None));
                            continue;
                        }
                        out.extend_from_slice(section_label(*label, section, *partial).as_bytes());
                        out.push(b' ');
                        match data {
                            Some(d) => {
                                let mut d = crate::sections::partial(d, *partial);
                                // Bytes with NUL in them need a literal8, which
                                // only BINARY may send (RFC 9051 section 4.3);
                                // elsewhere NUL goes as 0x80, as Dovecot does,
                                // so the announced sizes still hold.
                                let binary = *label == SectionLabel::Binary;
                                if !binary {
                                    crate::sections::replace_nuls(&mut d);
                                }
                                let tilde = if binary && d.contains(&0) { "~" } else { "" };
                                let _ = write!(out, "{tilde}{{{}}}\r\n", d.len());
                                out.extend_from_slice(&d);
                            }
                            None => out.extend_from_slice(b"NIL"),
                        }
                    }
                }
            }
            if set_seen_now && !flags_sent {
                out.extend_from_slice(b" FLAGS ");
                flag_list(&mut out, row.flags, sel.recent.contains(&(row.uid as u32)), &row.keywords);
            }
            out.extend_from_slice(b")\r\n");
            self.out.extend_from_slice(&out);
            if self.out.len() >= FLUSH_AT && self.flush().await.is_err() {
                return Err(Done::bad("Connection lost"));
            }
        }
        Ok(())
    }
}

/// RFC 8474 EMAILID: the same for every copy of one content in an account.
pub(crate) fn email_id(row: &MessageRow) -> String {
    format!("M{}", &row.blob_hash.as_str()[..row.blob_hash.as_str().len().min(32)])
}

/// RFC 8474 THREADID.
pub(crate) fn thread_id(row: &MessageRow) -> String {
    format!("T{}", row.thread_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_meta_reads_back() {
        let a = mailstore::analyse::analyse(b"Subject: x\r\n\r\nbody\r\n");
        let back = from_stored(&mailstore::analyse::stored::to_stored(&a)).unwrap();
        assert_eq!(back.body, a.body);
        let s = Section { part: vec![1, 2], text: Some(SectionText::Mime) };
        assert_eq!(section_label(SectionLabel::Body, &s, Some((0, 10))), "BODY[1.2.MIME]<0>");
    }
}
