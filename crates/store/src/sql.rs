//! Helpers shared by the query modules: placeholder lists for batched
//! statements, row locking, and checks on flags, keywords and message ids.

use std::collections::BTreeSet;

use model::{Flag, Keyword};
use sqlx::AnyConnection;

use crate::error::{Error, Result};
use crate::{Backend, Store};

/// Rows per batched statement. It keeps every statement far below the
/// parameter limits of both engines (32,766 for SQLite, 65,535 for PostgreSQL)
/// while turning a delivery to 2,000 mailboxes into a handful of round trips.
pub(crate) const CHUNK_ROWS: usize = 250;

/// Message ids longer than this are ignored for threading and not indexed:
/// PostgreSQL refuses index entries above about 2,700 bytes, and RFC 5322
/// caps a header line at 998 characters anyway.
const MAX_MSGID_LEN: usize = 998;

/// At most this many referenced ids take part in threading, so that a
/// hostile References header cannot blow up a delivery.
pub(crate) const MAX_REFERENCES: usize = 64;

/// The condition keeping the rows whose `column` (an account's unit) is in
/// `units` (`None`: any unit) and, with `unplaced`, those of no unit: the
/// administrators' scopes, as the console's queries share them.
pub(crate) fn units_condition(column: &str, units: Option<&[model::OrgUnitId]>, unplaced: bool) -> String {
    let placed = match units {
        None => format!("{column} IS NOT NULL"),
        // Unit ids are numbers from the database, never text from a request.
        Some(ids) if !ids.is_empty() => {
            format!("{column} IN ({})", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
        }
        Some(_) => "1 = 0".to_owned(),
    };
    if unplaced { format!("({placed} OR {column} IS NULL)") } else { placed }
}

/// `$first, $first+1, ...` (`n` placeholders); a never-matching `NULL`
/// for none (`IN ()` does not parse).
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    if n == 0 {
        return "NULL".into();
    }
    let mut out = String::with_capacity(n * 6);
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('$');
        out.push_str(&(first + i).to_string());
    }
    out
}

/// `rows` tuples for a multi-row VALUES list. Each tuple starts with the
/// `shared` placeholders (bound once for the whole statement), followed by
/// `cols` placeholders of its own numbered from `first`. With shared
/// placeholders numbered below `first`, every placeholder first appears in
/// numeric order, as SQLite wants.
pub(crate) fn tuples(shared: &str, first: usize, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * (cols * 6 + shared.len() + 4));
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        if !shared.is_empty() {
            out.push_str(shared);
            out.push_str(", ");
        }
        out.push_str(&placeholders(first + r * cols, cols));
        out.push(')');
    }
    out
}

/// Tables whose rows writers lock before changing them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Locked {
    Accounts,
    Mailboxes,
}

impl Store {
    /// Locks the rows with these keys, in increasing order, for the rest of
    /// the transaction. Every writer locks accounts, then mailboxes, in key
    /// order, so two deliveries to overlapping recipients wait for each other
    /// instead of deadlocking. On SQLite this is a no-op: `BEGIN IMMEDIATE`
    /// already holds the database's single write lock.
    pub(crate) async fn lock_ids(&self, conn: &mut AnyConnection, table: Locked, ids: &[i64]) -> Result<()> {
        if self.backend == Backend::Sqlite || ids.is_empty() {
            return Ok(());
        }
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let table = match table {
            Locked::Accounts => "accounts",
            Locked::Mailboxes => "mailboxes",
        };
        for chunk in sorted.chunks(CHUNK_ROWS) {
            // FOR NO KEY UPDATE is the lock an UPDATE of non-key columns takes;
            // it still lets foreign-key checks of other inserts through.
            let sql = format!(
                "SELECT id FROM {table} WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *conn).await?;
        }
        Ok(())
    }

    /// Locks a local domain's row and tells whether the domain exists. Taking
    /// this lock before creating an address serialises address allocation
    /// within a domain, so an alias and an account can never be given the same
    /// address by two concurrent transactions.
    pub(crate) async fn claim_domain(&self, conn: &mut AnyConnection, domain: &str) -> Result<bool> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT name FROM domains WHERE name = $1",
            Backend::Postgres => "SELECT name FROM domains WHERE name = $1 FOR NO KEY UPDATE",
        };
        Ok(sqlx::query(sql).bind(domain).fetch_optional(conn).await?.is_some())
    }
}

/// Checks a flag bit set against the known system flags.
pub(crate) fn check_flags(flags: i64) -> Result<()> {
    let known = Flag::ALL.iter().fold(0, |acc, f| acc | f.bit());
    if flags & !known != 0 {
        return Err(Error::Invalid(format!("unknown flag bits in {flags:#x}")));
    }
    Ok(())
}

/// Validates keywords and stores them as sorted, de-duplicated, space
/// separated text.
pub(crate) fn keywords_text(keywords: &[String]) -> Result<String> {
    let mut set = BTreeSet::new();
    for k in keywords {
        let kw = Keyword::new(k).ok_or_else(|| Error::Invalid(format!("invalid keyword {k:?}")))?;
        set.insert(kw.as_str().to_owned());
    }
    Ok(set.into_iter().collect::<Vec<_>>().join(" "))
}

/// A message id without its angle brackets, or `None` if it is empty, too
/// long or contains control characters.
pub(crate) fn normalize_msgid(raw: &str) -> Option<String> {
    let t = raw.trim();
    let t = t.strip_prefix('<').and_then(|s| s.strip_suffix('>')).unwrap_or(t).trim();
    let ok = !t.is_empty() && t.len() <= MAX_MSGID_LEN && !t.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then(|| t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_lists() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(tuples("", 1, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(tuples("$1, $2", 3, 2, 1), "($1, $2, $3), ($1, $2, $4)");
    }

    #[test]
    fn keywords_are_checked_and_sorted() {
        let kw = vec!["$Junk".to_owned(), "$Forwarded".to_owned(), "$Junk".to_owned()];
        assert_eq!(keywords_text(&kw).unwrap(), "$Forwarded $Junk");
        assert!(keywords_text(&["bad word".to_owned()]).is_err());
        assert!(check_flags(Flag::Seen.bit() | Flag::Draft.bit()).is_ok());
        assert!(check_flags(1 << 20).is_err());
    }

    #[test]
    fn message_ids_lose_their_brackets() {
        assert_eq!(normalize_msgid(" <abc@x.fr> ").as_deref(), Some("abc@x.fr"));
        assert_eq!(normalize_msgid("abc@x.fr").as_deref(), Some("abc@x.fr"));
        assert_eq!(normalize_msgid("<>"), None);
        assert_eq!(normalize_msgid(&"a".repeat(2000)), None);
    }
}
