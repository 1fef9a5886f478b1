//! Reading many message rows at once on SQLite: one aggregated row instead
//! of one row per message.
//!
//! sqlx's SQLite driver runs each connection on a worker thread and hands
//! every result row to the async caller through a channel (50 rows deep),
//! duplicating each column value on the way. For the 20,000-100,000 rows of
//! a large mailbox (IMAP SELECT, SEARCH, FETCH 1:*) that per-row hand-off
//! and copying cost more than the query itself (profile in bench/notes.md).
//! Here SQLite concatenates the rows into one text value (`group_concat`),
//! which crosses the thread boundary once and is parsed below. PostgreSQL
//! streams rows from its socket without such hand-offs and keeps the plain
//! queries.
//!
//! Encoding: records separated by `\n`, fields by one space; the message-id
//! header (free text) is hex-encoded, keywords (IMAP atoms, validated on
//! write) come last. Envelopes are length-prefixed (`uid len:bytes`), so
//! their content needs no escaping.

use model::MailboxId;

use crate::error::{Error, Result};
use crate::types::{MessageRow, blob_id, split_keywords};
use crate::{Backend, Store};

/// One record per message, in the field order [`parse_rows`] reads.
const ROW_RECORD: &str = "id || ' ' || account_id || ' ' || mailbox_id || ' ' || uid || ' ' || modseq \
     || ' ' || flags || ' ' || internal_date || ' ' || saved_date || ' ' || size || ' ' || thread_id \
     || ' ' || blob_hash || ' ' || CASE WHEN msgid_header IS NULL THEN '-' ELSE 'h' || hex(msgid_header) END \
     || ' ' || keywords";

fn corrupt(what: &str) -> Error {
    Error::Corrupt(format!("aggregated message rows: {what}"))
}

fn int(field: Option<&str>) -> Result<i64> {
    field.and_then(|f| f.parse().ok()).ok_or_else(|| corrupt("bad integer"))
}

fn unhex(hex: &str) -> Result<String> {
    let bytes = hex.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return Err(corrupt("odd hex"));
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8).ok_or_else(|| corrupt("bad hex"));
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks(2) {
        out.push(digit(pair[0])? << 4 | digit(pair[1])?);
    }
    String::from_utf8(out).map_err(|_| corrupt("message id is not UTF-8"))
}

/// Parses the output of a `group_concat` of [`ROW_RECORD`]s, sorted by UID.
pub(crate) fn parse_rows(text: &str) -> Result<Vec<MessageRow>> {
    let mut out = Vec::with_capacity(text.len() / 140 + 1);
    for record in text.split('\n').filter(|r| !r.is_empty()) {
        let mut f = record.splitn(13, ' ');
        let (id, account_id, mailbox_id) = (int(f.next())?, int(f.next())?, int(f.next())?);
        let (uid, modseq, flags) = (int(f.next())?, int(f.next())?, int(f.next())?);
        let (internal_date, saved_date, size, thread_id) =
            (int(f.next())?, int(f.next())?, int(f.next())?, int(f.next())?);
        let blob_hash = blob_id(f.next().ok_or_else(|| corrupt("no blob hash"))?)?;
        let msgid_header = match f.next() {
            Some("-") => None,
            Some(h) if h.starts_with('h') => Some(unhex(&h[1..])?),
            _ => return Err(corrupt("bad message id")),
        };
        let keywords = split_keywords(f.next().unwrap_or(""));
        out.push(MessageRow {
            id,
            account_id,
            mailbox_id,
            uid,
            modseq,
            flags,
            keywords,
            internal_date,
            saved_date,
            size,
            thread_id,
            blob_hash,
            msgid_header,
        });
    }
    if !out.is_sorted_by_key(|m| m.uid) {
        out.sort_unstable_by_key(|m| m.uid);
    }
    Ok(out)
}

/// Parses `uid len:bytes` records.
fn parse_envelopes(text: &str) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (uid, after) = rest.split_once(' ').ok_or_else(|| corrupt("envelope without uid"))?;
        let (len, after) = after.split_once(':').ok_or_else(|| corrupt("envelope without length"))?;
        let len: usize = len.parse().map_err(|_| corrupt("bad envelope length"))?;
        let env = after.get(..len).ok_or_else(|| corrupt("short envelope"))?;
        out.push((uid.parse().map_err(|_| corrupt("bad uid"))?, env.to_owned()));
        rest = &after[len..];
    }
    Ok(out)
}

impl Store {
    /// SQLite: the messages of a mailbox (with a UID in `range` if given)
    /// through one aggregated row; `None` on PostgreSQL.
    pub(crate) async fn rows_aggregated(
        &self,
        mailbox: MailboxId,
        range: Option<(i64, i64)>,
    ) -> Result<Option<Vec<MessageRow>>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let filter = if range.is_some() { " AND uid >= $2 AND uid <= $3" } else { "" };
        let sql = format!("SELECT group_concat({ROW_RECORD}, char(10)) FROM messages WHERE mailbox_id = $1{filter}");
        let mut q = sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(sql)).bind(mailbox);
        if let Some((first, last)) = range {
            q = q.bind(first).bind(last);
        }
        let text = q.fetch_one(&self.pool).await?;
        Ok(Some(parse_rows(text.as_deref().unwrap_or(""))?))
    }

    /// The IMAP ENVELOPE stored for each message of `mailbox` with a UID in
    /// `first..=last`, as `(uid, envelope)` in no particular order, in the
    /// form for UTF8=ACCEPT sessions when `utf8`. Messages whose content was
    /// stored before envelopes were (schema version 11) are left out: the
    /// caller renders those from the stored analysis.
    pub async fn envelopes_between(
        &self,
        mailbox: MailboxId,
        first: i64,
        last: i64,
        utf8: bool,
    ) -> Result<Vec<(i64, String)>> {
        let env = if utf8 { "coalesce(b.imap_envelope_utf8, b.imap_envelope)" } else { "b.imap_envelope" };
        let from = "FROM messages m JOIN blobs b ON b.hash = m.blob_hash \
             WHERE m.mailbox_id = $1 AND m.uid >= $2 AND m.uid <= $3";
        if self.backend == Backend::Sqlite {
            let sql =
                format!("SELECT group_concat(m.uid || ' ' || length(CAST({env} AS BLOB)) || ':' || {env}, '') {from}");
            let text: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(mailbox)
                .bind(first)
                .bind(last)
                .fetch_one(&self.pool)
                .await?;
            return parse_envelopes(text.as_deref().unwrap_or(""));
        }
        let sql = format!("SELECT m.uid, {env} AS env {from} AND {env} IS NOT NULL");
        let rows: Vec<(i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(mailbox).bind(first).bind(last).fetch_all(&self.pool).await?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_back() {
        let hash = "ab".repeat(32);
        let text =
            format!("7 1 2 9 12 3 100 101 5000 4 {hash} h3c613e $Junk $Work\n6 1 2 8 11 0 100 101 5000 4 {hash} - ");
        let rows = parse_rows(&text).unwrap();
        assert_eq!(rows.iter().map(|r| r.uid).collect::<Vec<_>>(), [8, 9], "sorted by uid");
        assert_eq!(rows[1].msgid_header.as_deref(), Some("<a>"));
        assert_eq!(rows[1].keywords, ["$Junk", "$Work"]);
        assert_eq!((rows[1].id, rows[1].modseq, rows[1].flags, rows[1].size), (7, 12, 3, 5000));
        assert_eq!(rows[0].msgid_header, None);
        assert!(rows[0].keywords.is_empty());
        assert!(parse_rows("").unwrap().is_empty());
        assert!(parse_rows("1 2 3").is_err());
    }

    #[test]
    fn envelopes_parse_back_whatever_they_hold() {
        let env = "(NIL {5}\r\n\u{e9}t\u{e9} \"x\")";
        let text = format!("3 {}:{env}12 3:NIL", env.len());
        assert_eq!(parse_envelopes(&text).unwrap(), [(3, env.to_owned()), (12, "NIL".to_owned())]);
        assert!(parse_envelopes("3 99:NIL").is_err());
    }
}
