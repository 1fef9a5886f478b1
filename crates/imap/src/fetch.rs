//! FETCH: one response per message, built from the message row, the blob's
//! stored analysis and, for body sections only, the blob's bytes.

use std::collections::HashMap;

use mailstore::analyse::Analysis;
use model::{BlobId, Flag};
use store::{FlagOp, FlagOutcome, MessageRow};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::{FetchItem, Section, SectionLabel, SectionText};
use crate::reply::{Done, failure, store_failure};
use crate::selected::flag_list;
use crate::session::{FLUSH_AT, Session};

/// Reads a blob's stored analysis. The stored JSON leaves out the
/// full-text `text`, which is put back empty.
pub(crate) fn analysis_of(meta_json: &str) -> Option<Analysis> {
    let mut value: serde_json::Value = serde_json::from_str(meta_json).ok()?;
    value.as_object_mut()?.entry("text").or_insert(serde_json::Value::String(String::new()));
    serde_json::from_value(value).ok()
}

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

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<'_, S> {
    /// FETCH and UID FETCH over the messages at these view indices.
    pub(crate) async fn fetch(
        &mut self,
        uid: bool,
        indices: Vec<usize>,
        mut items: Vec<FetchItem>,
        changed_since: Option<u64>,
    ) -> Done {
        let Some(sel) = self.selected.clone() else {
            return Done::bad("No mailbox selected");
        };
        if uid && !items.contains(&FetchItem::Uid) {
            items.insert(0, FetchItem::Uid);
        }
        if changed_since.is_some() {
            self.condstore = true;
            if !items.contains(&FetchItem::Modseq) {
                items.push(FetchItem::Modseq);
            }
        }
        let needs_meta = items.iter().any(|i| {
            matches!(
                i,
                FetchItem::Envelope | FetchItem::BodyStructure | FetchItem::BodyShape | FetchItem::Section { .. }
            )
        });
        let sets_seen = !sel.read_only && items.iter().any(|i| matches!(i, FetchItem::Section { peek: false, .. }));
        // Only the UID range the command touches is read.
        let (first, last) = match (indices.first(), indices.last()) {
            (Some(a), Some(b)) => (i64::from(sel.uids[*a]), i64::from(sel.uids[*b])),
            _ => return Done::ok(if uid { "UID FETCH completed" } else { "FETCH completed" }),
        };
        let rows = match self.mailstore.store().messages_between(sel.mailbox.id, first, last).await {
            Ok(rows) => rows,
            Err(e) => return store_failure(e),
        };
        let account = self.account.as_ref().map(|a| a.id).unwrap_or_default();
        let mut metas: HashMap<BlobId, Option<Analysis>> = HashMap::new();
        if needs_meta {
            let mut wanted: Vec<BlobId> = rows.iter().map(|r| r.blob_hash.clone()).collect();
            wanted.sort_unstable();
            wanted.dedup();
            match self.mailstore.store().blob_metas(&wanted).await {
                Ok(found) => metas.extend(found.into_iter().map(|b| (b.id.clone(), analysis_of(&b.meta_json)))),
                Err(e) => return store_failure(e),
            }
        }
        let mut by_uid: HashMap<u32, MessageRow> = rows.into_iter().map(|m| (m.uid as u32, m)).collect();
        // A non-PEEK body fetch sets \Seen: on every unseen message at once, in
        // one transaction that adds the flag to whatever flags it has then.
        let mut seen_now: Vec<u32> = Vec::new();
        if sets_seen {
            let unseen: Vec<i64> = indices
                .iter()
                .filter_map(|i| by_uid.get(&sel.uids[*i]))
                .filter(|r| r.flags & Flag::Seen.bit() == 0)
                .filter(|r| changed_since.is_none_or(|since| r.modseq as u64 > since))
                .map(|r| r.uid)
                .collect();
            if !unseen.is_empty() {
                let seen = Flag::Seen.bit();
                let outcomes = match self
                    .mailstore
                    .update_flags(account, sel.mailbox.id, &unseen, FlagOp::Add, seen, &[], None)
                    .await
                {
                    Ok(o) => o,
                    Err(e) => return failure(&e),
                };
                for o in outcomes {
                    match o {
                        FlagOutcome::Changed { uid, flags, keywords, modseq } => {
                            if let Some(sel) = self.selected.as_mut() {
                                sel.own.insert(modseq);
                            }
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
        for i in indices {
            let seq = i + 1;
            let Some(row) = by_uid.get(&sel.uids[i]).cloned() else {
                missing.push(if uid { i64::from(sel.uids[i]) } else { seq as i64 });
                continue;
            };
            if changed_since.is_some_and(|since| row.modseq as u64 <= since) {
                continue;
            }
            let set_seen_now = seen_now.contains(&(row.uid as u32));
            let analysis = if needs_meta {
                if !metas.contains_key(&row.blob_hash) {
                    let meta = match self.mailstore.store().blob_meta(&row.blob_hash).await {
                        Ok(m) => m.and_then(|b| analysis_of(&b.meta_json)),
                        Err(e) => return store_failure(e),
                    };
                    metas.insert(row.blob_hash.clone(), meta);
                }
                metas.get(&row.blob_hash).cloned().flatten()
            } else {
                None
            };
            let mut raw: Option<Vec<u8>> = None;
            let mut out: Vec<u8> = format!("* {seq} FETCH (").into_bytes();
            let mut first = true;
            let mut flags_sent = false;
            for item in &items {
                if !first {
                    out.push(b' ');
                }
                first = false;
                match item {
                    FetchItem::Uid => out.extend_from_slice(format!("UID {}", row.uid).as_bytes()),
                    FetchItem::Flags => {
                        flags_sent = true;
                        out.extend_from_slice(format!("FLAGS {}", flag_list(row.flags, &row.keywords)).as_bytes());
                    }
                    FetchItem::InternalDate => out.extend_from_slice(
                        format!("INTERNALDATE \"{}\"", crate::date::format_date_time(row.internal_date)).as_bytes(),
                    ),
                    FetchItem::Size => out.extend_from_slice(format!("RFC822.SIZE {}", row.size).as_bytes()),
                    FetchItem::Modseq => out.extend_from_slice(format!("MODSEQ ({})", row.modseq).as_bytes()),
                    FetchItem::SaveDate => out.extend_from_slice(
                        format!("SAVEDATE \"{}\"", crate::date::format_date_time(row.saved_date)).as_bytes(),
                    ),
                    FetchItem::EmailId => out.extend_from_slice(format!("EMAILID ({})", email_id(&row)).as_bytes()),
                    FetchItem::ThreadId => out.extend_from_slice(format!("THREADID ({})", thread_id(&row)).as_bytes()),
                    FetchItem::Envelope => {
                        out.extend_from_slice(b"ENVELOPE ");
                        let env = analysis.as_ref().map(|a| a.envelope.clone()).unwrap_or_default();
                        crate::resp::envelope(&mut out, &env, self.utf8);
                    }
                    FetchItem::BodyStructure | FetchItem::BodyShape => {
                        let extended = *item == FetchItem::BodyStructure;
                        out.extend_from_slice(if extended { b"BODYSTRUCTURE " } else { b"BODY " });
                        let body = analysis.as_ref().map(|a| a.body.clone()).unwrap_or_default();
                        crate::resp::body_structure(&mut out, &body, extended, self.utf8);
                    }
                    FetchItem::Section { section, partial, label, .. } => {
                        if raw.is_none() {
                            match self.mailstore.blobs().get(&row.blob_hash).await {
                                Ok(bytes) => raw = Some(bytes),
                                Err(e) => return failure(&mailstore::Error::Blob(e)),
                            }
                        }
                        let bytes = raw.as_deref().unwrap_or_default();
                        let mut data = match &analysis {
                            Some(a) => crate::sections::extract(bytes, a, section),
                            None if section.part.is_empty() && section.text.is_none() => Some(bytes.to_vec()),
                            None => None,
                        };
                        if matches!(label, SectionLabel::Binary | SectionLabel::BinarySize) && !section.part.is_empty()
                        {
                            let encoding = analysis
                                .as_ref()
                                .and_then(|a| a.body.section(&section.part))
                                .map(|p| p.encoding.clone())
                                .unwrap_or_default();
                            data = match data.map(|d| crate::binary::decode(&encoding, &d)) {
                                Some(None) => return Done::no("[UNKNOWN-CTE] Unknown content-transfer-encoding"),
                                Some(decoded) => decoded,
                                None => None,
                            };
                        }
                        if *label == SectionLabel::BinarySize {
                            let size = data.map_or(0, |d| d.len());
                            out.extend_from_slice(
                                format!("{} {size}", section_label(*label, section, None)).as_bytes(),
                            );
                            continue;
                        }
                        out.extend_from_slice(section_label(*label, section, *partial).as_bytes());
                        out.push(b' ');
                        match data {
                            Some(d) => {
                                let d = crate::sections::partial(d, *partial);
                                // Decoded bytes with NUL in them need a literal8 (RFC 3516).
                                let tilde = if *label == SectionLabel::Binary && d.contains(&0) { "~" } else { "" };
                                out.extend_from_slice(format!("{tilde}{{{}}}\r\n", d.len()).as_bytes());
                                out.extend_from_slice(&d);
                            }
                            None => out.extend_from_slice(b"NIL"),
                        }
                    }
                }
            }
            if set_seen_now && !flags_sent {
                out.extend_from_slice(format!(" FLAGS {}", flag_list(row.flags, &row.keywords)).as_bytes());
            }
            out.extend_from_slice(b")\r\n");
            self.out.extend_from_slice(&out);
            if self.out.len() >= FLUSH_AT && self.flush().await.is_err() {
                return Done::bad("Connection lost");
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
}

/// RFC 8474 EMAILID: the same for every copy of one content in an account.
pub(crate) fn email_id(row: &store::MessageRow) -> String {
    format!("M{}", &row.blob_hash.as_str()[..row.blob_hash.as_str().len().min(32)])
}

/// RFC 8474 THREADID.
pub(crate) fn thread_id(row: &store::MessageRow) -> String {
    format!("T{}", row.thread_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_meta_reads_back() {
        let a = mailstore::analyse::analyse(b"Subject: x\r\n\r\nbody\r\n");
        let mut v = serde_json::to_value(&a).unwrap();
        v.as_object_mut().unwrap().remove("text");
        let back = analysis_of(&v.to_string()).unwrap();
        assert_eq!(back.body, a.body);
        let s = Section { part: vec![1, 2], text: Some(SectionText::Mime) };
        assert_eq!(section_label(SectionLabel::Body, &s, Some((0, 10))), "BODY[1.2.MIME]<0>");
    }
}
