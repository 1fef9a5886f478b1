//! The search box's little language, parsed without I/O so that every rule
//! is unit-tested: `de:`, `à:`/`a:`, `objet:`, `pj:oui`/`pj:non`,
//! `avant:`, `après:`/`apres:`, `dans:`, quoted phrases, and free words.
//! A value may be quoted (`de:"Claire Martin"`). Operators are read without
//! regard to case or accents; a few English names are accepted too.
//! Anything that looks like an operator but is not one is an error the user
//! sees, rather than a silent search for the wrong thing.

use time::{Date, Month};

/// Longest query read (characters).
pub const MAX_QUERY: usize = 500;

/// A parsed query. Every part must hold (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Free words and phrases, searched in every part of the message.
    pub text: Vec<String>,
    pub from: Vec<String>,
    /// To and Cc.
    pub to: Vec<String>,
    pub subject: Vec<String>,
    /// `pj:oui` / `pj:non`.
    pub attachment: Option<bool>,
    /// Received strictly before this day (unix seconds at 00:00 UTC).
    pub before: Option<i64>,
    /// Received on or after this day (unix seconds at 00:00 UTC).
    pub since: Option<i64>,
    /// A folder name, as typed (matched later against the account's folders).
    pub folder: Option<String>,
}

impl Query {
    /// Whether the query asks for nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == Query::default()
    }
}

/// What is wrong with a query, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// `xyz:` is not an operator.
    UnknownOperator(String),
    /// `de:` with nothing after it.
    MissingValue(String),
    /// `pj:` takes `oui` or `non`.
    BadAttachment(String),
    /// Not a date in either accepted form (or not a real day).
    BadDate { op: String, value: String },
    /// `après:` falls after `avant:`: nothing can match.
    EmptyRange,
    /// `dans:` twice.
    TwoFolders,
}

/// The operators, by their folded name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    From,
    To,
    Subject,
    Attachment,
    Before,
    Since,
    Folder,
}

fn operator(name: &str) -> Option<Op> {
    Some(match fold_name(name).as_str() {
        "de" | "from" => Op::From,
        "a" | "to" | "cc" => Op::To,
        "objet" | "sujet" | "subject" => Op::Subject,
        "pj" | "attachment" => Op::Attachment,
        "avant" | "before" => Op::Before,
        "apres" | "after" | "depuis" | "since" => Op::Since,
        "dans" | "in" | "dossier" => Op::Folder,
        _ => return None,
    })
}

/// Lower case without the accents French operators may carry.
fn fold_name(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            other => other,
        })
        .collect()
}

/// Reads a quoted run starting after the opening quote; an unclosed quote
/// runs to the end.
fn quoted(chars: &[char], mut i: usize) -> (String, usize) {
    let start = i;
    while i < chars.len() && chars[i] != '"' {
        i += 1;
    }
    let text: String = chars[start..i].iter().collect();
    (text, (i + 1).min(chars.len()))
}

/// Reads a bare run up to the next white space.
fn bare(chars: &[char], mut i: usize) -> (String, usize) {
    let start = i;
    while i < chars.len() && !chars[i].is_whitespace() {
        i += 1;
    }
    (chars[start..i].iter().collect(), i)
}

/// Parses `YYYY-MM-DD` or `DD/MM/YYYY` (UTC day start, unix seconds).
pub fn parse_date(value: &str) -> Option<i64> {
    let parts: Vec<&str> = if value.contains('-') { value.split('-').collect() } else { value.split('/').collect() };
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let (y, m, d) = if value.contains('-') { (parts[0], parts[1], parts[2]) } else { (parts[2], parts[1], parts[0]) };
    if y.len() != 4 || m.len() > 2 || d.len() > 2 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let date = Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// Parses what the user typed.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    let chars: Vec<char> = input.chars().take(MAX_QUERY).collect();
    let mut q = Query::default();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '"' {
            let (phrase, next) = quoted(&chars, i + 1);
            i = next;
            if !phrase.trim().is_empty() {
                q.text.push(phrase.trim().to_owned());
            }
            continue;
        }
        // A name made of letters followed by ':' is an operator.
        let mut j = i;
        while j < chars.len() && chars[j].is_alphabetic() {
            j += 1;
        }
        let is_op = j > i && j < chars.len() && chars[j] == ':';
        if !is_op {
            let (word, next) = bare(&chars, i);
            i = next;
            q.text.push(word);
            continue;
        }
        let name: String = chars[i..j].iter().collect();
        let after = j + 1;
        let (value, next) =
            if chars.get(after) == Some(&'"') { quoted(&chars, after + 1) } else { bare(&chars, after) };
        i = next;
        let value = value.trim().to_owned();
        let Some(op) = operator(&name) else {
            // "Réunion:" or a link is text, "xyz:valeur" a mistake to report.
            if value.is_empty() || value.starts_with("//") {
                q.text.push(format!("{name}:{value}"));
                continue;
            }
            return Err(QueryError::UnknownOperator(name));
        };
        if value.is_empty() {
            return Err(QueryError::MissingValue(name));
        }
        match op {
            Op::From => q.from.push(value),
            Op::To => q.to.push(value),
            Op::Subject => q.subject.push(value),
            Op::Attachment => {
                q.attachment = Some(match fold_name(&value).as_str() {
                    "oui" | "yes" | "o" | "y" => true,
                    "non" | "no" | "n" => false,
                    _ => return Err(QueryError::BadAttachment(value)),
                })
            }
            Op::Before | Op::Since => {
                let Some(day) = parse_date(&value) else {
                    return Err(QueryError::BadDate { op: name, value });
                };
                if op == Op::Before {
                    q.before = Some(q.before.map_or(day, |b| b.min(day)));
                } else {
                    q.since = Some(q.since.map_or(day, |s| s.max(day)));
                }
            }
            Op::Folder => {
                if q.folder.is_some() {
                    return Err(QueryError::TwoFolders);
                }
                q.folder = Some(value);
            }
        }
    }
    if let (Some(since), Some(before)) = (q.since, q.before)
        && since >= before
    {
        return Err(QueryError::EmptyRange);
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u8, d: u8) -> i64 {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap().midnight().assume_utc().unix_timestamp()
    }

    #[test]
    fn free_words_and_phrases() {
        let q = parse("  conseil  \"ordre du jour\" classe ").unwrap();
        assert_eq!(q.text, ["conseil", "ordre du jour", "classe"]);
        assert!(parse("   ").unwrap().is_empty());
        // An unclosed quote runs to the end.
        assert_eq!(parse("\"sortie scolaire").unwrap().text, ["sortie scolaire"]);
    }

    #[test]
    fn operators_and_quoted_values() {
        let q = parse("de:claire À:\"Paul Durand\" objet:réunion a:x@ac-demo.fr Objet:conseil").unwrap();
        assert_eq!(q.from, ["claire"]);
        assert_eq!(q.to, ["Paul Durand", "x@ac-demo.fr"]);
        assert_eq!(q.subject, ["réunion", "conseil"]);
        assert!(q.text.is_empty());
        let q = parse("pj:oui dans:\"Boîte de réception\" rapport").unwrap();
        assert_eq!(q.attachment, Some(true));
        assert_eq!(q.folder.as_deref(), Some("Boîte de réception"));
        assert_eq!(q.text, ["rapport"]);
        assert!(parse("pj:non").unwrap().text.is_empty());
        assert_eq!(parse("PJ:Non").unwrap().attachment, Some(false));
        assert_eq!(
            parse("from:a subject:b to:c").unwrap(),
            Query { from: vec!["a".into()], subject: vec!["b".into()], to: vec!["c".into()], ..Query::default() }
        );
    }

    #[test]
    fn dates_in_both_forms() {
        let q = parse("avant:2026-11-23 après:01/09/2026").unwrap();
        assert_eq!(q.before, Some(day(2026, 11, 23)));
        assert_eq!(q.since, Some(day(2026, 9, 1)));
        assert_eq!(parse("apres:2026-09-01").unwrap().since, Some(day(2026, 9, 1)));
        assert_eq!(parse("après:1/9/2026").unwrap().since, Some(day(2026, 9, 1)));
        // The narrowest bounds win.
        let q = parse("avant:2026-11-23 avant:2026-10-01").unwrap();
        assert_eq!(q.before, Some(day(2026, 10, 1)));
        for bad in ["2026-13-01", "31/02/2026", "hier", "2026/11/23x", "26-11-23", "2026-11"] {
            let err = parse(&format!("avant:{bad}")).unwrap_err();
            assert_eq!(err, QueryError::BadDate { op: "avant".into(), value: bad.into() }, "{bad}");
        }
        assert_eq!(parse("après:2026-11-23 avant:2026-11-23").unwrap_err(), QueryError::EmptyRange);
    }

    #[test]
    fn mistakes_are_reported() {
        assert_eq!(parse("expediteur:claire").unwrap_err(), QueryError::UnknownOperator("expediteur".into()));
        assert_eq!(parse("de: claire").unwrap_err(), QueryError::MissingValue("de".into()));
        assert_eq!(parse("objet:\"\"").unwrap_err(), QueryError::MissingValue("objet".into()));
        assert_eq!(parse("pj:peut-être").unwrap_err(), QueryError::BadAttachment("peut-être".into()));
        assert_eq!(parse("dans:a dans:b").unwrap_err(), QueryError::TwoFolders);
        // Not operators: a word ending with ':', a time, a link.
        assert_eq!(parse("Réunion: 10:30").unwrap().text, ["Réunion:", "10:30"]);
        assert_eq!(parse("https://ac-demo.fr/x").unwrap().text, ["https://ac-demo.fr/x"]);
    }

    #[test]
    fn long_input_is_cut() {
        let q = parse(&"mot ".repeat(1000)).unwrap();
        assert_eq!(q.text.len(), MAX_QUERY / 4);
    }
}
