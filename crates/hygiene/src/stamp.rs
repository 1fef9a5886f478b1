//! The verdict in the message itself.
//!
//! Incoming `X-Spam-*` and `X-Virus-*` fields are removed before ours are
//! written (a sender cannot vouch for itself, nor make a reader believe it
//! was judged), ours go right below the MX's own `Received:` line (itself
//! below its `Authentication-Results:`, which stays first for
//! `mailstore::analyse::auth`). Reading back ([`read`]) believes only that
//! block: after an optional `Authentication-Results:` and one `Received:`,
//! the fields of ours before the first field of another name.

use std::borrow::Cow;

use crate::{Reason, Settings, Verdict, rules};

/// Fields we write and therefore remove from incoming mail (prefixes).
const OURS: &[&str] = &["x-spam-", "x-virus-"];

/// The spam fields for `verdict` under `settings` (CRLF-terminated).
pub fn spam_fields(verdict: &Verdict, settings: &Settings) -> String {
    let spam = verdict.action(settings) != crate::Action::Deliver;
    let tests: Vec<&str> = verdict.codes().collect();
    let mut out = format!(
        "X-Spam-Status: {}, score={:.1} required={:.1} tests={}\r\nX-Spam-Score: {:.1}\r\n",
        if spam { "Yes" } else { "No" },
        verdict.score,
        settings.junk_threshold,
        if tests.is_empty() { "none".to_owned() } else { tests.join(",") },
        verdict.score,
    );
    if !verdict.reasons.is_empty() {
        out.push_str("X-Spam-Report: ");
        for (i, r) in verdict.reasons.iter().enumerate() {
            let last = i + 1 == verdict.reasons.len();
            let line = format!("{} {:.1} {}", r.code, r.points, r.detail);
            out.push_str(line.trim_end());
            out.push_str(if last { "\r\n" } else { ";\r\n\t" });
        }
    }
    out
}

/// The virus scan's field: `clean`, `unknown` (scanner failed, accepted by
/// policy) or not scanned (`None`: no field).
pub fn virus_field(status: &str) -> String {
    format!("X-Virus-Status: {status}\r\n")
}

/// `raw` without incoming `X-Spam-*`/`X-Virus-*` fields and, with a tag,
/// its Subject prefixed (once) by `tag`.
pub fn clean<'a>(raw: &'a [u8], tag: Option<&str>) -> Cow<'a, [u8]> {
    let fields = fields(raw);
    let end = fields.last().map_or(0, |f| f.1);
    let ours = |f: &(usize, usize)| {
        let name = field_name(&raw[f.0..f.1]);
        OURS.iter().any(|p| name.len() > p.len() && name[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
    };
    let has_subject = fields.iter().any(|f| field_name(&raw[f.0..f.1]).eq_ignore_ascii_case(b"subject"));
    if !fields.iter().any(ours) && (tag.is_none()) {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + 32);
    if let Some(tag) = tag.filter(|_| !has_subject) {
        out.extend_from_slice(format!("Subject: {tag}\r\n").as_bytes());
    }
    for f in &fields {
        if ours(f) {
            continue;
        }
        let field = &raw[f.0..f.1];
        match tag {
            Some(tag) if field_name(field).eq_ignore_ascii_case(b"subject") => {
                let colon = field.iter().position(|b| *b == b':').unwrap_or(0);
                let value = &field[colon + 1..];
                let trimmed = value.iter().position(|b| !matches!(b, b' ' | b'\t')).unwrap_or(value.len());
                out.extend_from_slice(b"Subject: ");
                if !value[trimmed..].starts_with(tag.as_bytes()) {
                    out.extend_from_slice(tag.as_bytes());
                    out.push(b' ');
                }
                out.extend_from_slice(&value[trimmed..]);
            }
            _ => out.extend_from_slice(field),
        }
    }
    out.extend_from_slice(&raw[end..]);
    Cow::Owned(out)
}

/// `raw` (our `Received:` line first) with `ours` inserted after its first
/// field, the rest [`clean`]ed (incoming fields of ours removed, the Subject
/// tagged when `tag` is given).
pub fn insert(raw: &[u8], ours: &str, tag: Option<&str>) -> Vec<u8> {
    let first_end = fields(raw).first().map_or(0, |f| f.1);
    let rest = clean(&raw[first_end..], tag);
    let mut out = Vec::with_capacity(raw.len() + ours.len() + 16);
    out.extend_from_slice(&raw[..first_end]);
    out.extend_from_slice(ours.as_bytes());
    out.extend_from_slice(&rest);
    out
}

/// The byte ranges of the header fields (with their line ends and folded
/// lines); the body starts where the last ends.
fn fields(raw: &[u8]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        let line_end = raw[at..].iter().position(|b| *b == b'\n').map_or(raw.len(), |i| at + i + 1);
        let line = &raw[at..line_end];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        match (line.first(), out.last_mut()) {
            (Some(b' ' | b'\t'), Some(last)) => last.1 = line_end,
            _ if line.contains(&b':') => out.push((at, line_end)),
            // Not a header line: the header ended without a blank line.
            _ => break,
        }
        at = line_end;
    }
    out
}

fn field_name(field: &[u8]) -> &[u8] {
    let colon = field.iter().position(|b| *b == b':').unwrap_or(0);
    let name = &field[..colon];
    let end = name.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    &name[..end]
}

/// Our verdict read back from the top of a stored message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stamp {
    pub spam: bool,
    pub score: f64,
    pub reasons: Vec<Reason>,
    /// `X-Virus-Status`, when written.
    pub virus: Option<String>,
}

/// Reads our fields from the top block of `raw` (see the module's doc);
/// `None` when the message carries no verdict of ours.
pub fn read(raw: &[u8]) -> Option<Stamp> {
    let head = &raw[..raw.len().min(64 * 1024)];
    let mut stamp = Stamp::default();
    let mut found = false;
    let mut received = false;
    for (start, end) in fields(head) {
        let field = &head[start..end];
        let name = String::from_utf8_lossy(field_name(field)).to_ascii_lowercase();
        let colon = field.iter().position(|b| *b == b':').unwrap_or(0);
        let value = String::from_utf8_lossy(&field[colon + 1..]);
        let value: String = value.split_whitespace().collect::<Vec<_>>().join(" ");
        match name.as_str() {
            "authentication-results" if !found && !received => continue,
            "received" if !found && !received => received = true,
            // Ours are never above our Received: line.
            _ if !received => break,
            "x-spam-status" => {
                found = true;
                stamp.spam = value.to_ascii_lowercase().starts_with("yes");
            }
            "x-spam-score" => {
                found = true;
                stamp.score = value.trim().parse().unwrap_or(0.0);
            }
            "x-spam-report" => {
                found = true;
                for item in value.split(';') {
                    let mut words = item.split_whitespace();
                    let (Some(code), Some(points)) = (words.next(), words.next()) else { continue };
                    let Some(code) = rules::known(code).or_else(|| crate::rspamd::symbol(code)) else { continue };
                    let detail = words.collect::<Vec<_>>().join(" ");
                    stamp.reasons.push(Reason { code, points: points.parse().unwrap_or(0.0), detail });
                }
            }
            "x-virus-status" => {
                found = true;
                stamp.virus = Some(value);
            }
            _ => break,
        }
    }
    found.then_some(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict() -> Verdict {
        Verdict {
            score: 8.5,
            reasons: vec![
                Reason { code: "LOOKALIKE_DOMAIN", points: 6.0, detail: "ac-dem0.fr".into() },
                Reason { code: "LINK_MISMATCH", points: 2.5, detail: "webmail.ac-demo.fr -> ac-demo-fr.com".into() },
            ],
            force_junk: false,
            external: true,
            decided: None,
        }
    }

    #[test]
    fn fields_are_written_and_read_back() {
        let fields = spam_fields(&verdict(), &Settings::default());
        assert_eq!(
            fields,
            "X-Spam-Status: Yes, score=8.5 required=5.0 tests=LOOKALIKE_DOMAIN,LINK_MISMATCH\r\nX-Spam-Score: 8.5\r\n\
X-Spam-Report: LOOKALIKE_DOMAIN 6.0 ac-dem0.fr;\r\n\tLINK_MISMATCH 2.5 webmail.ac-demo.fr -> ac-demo-fr.com\r\n"
        );
        let message = format!(
            "Authentication-Results: mx; spf=none\r\nReceived: from x\r\n{fields}{}Received: from y\r\nX-Spam-Status: No\r\n\r\nbody",
            virus_field("clean")
        );
        let stamp = read(message.as_bytes()).unwrap();
        assert!(stamp.spam);
        assert_eq!(stamp.score, 8.5);
        assert_eq!(stamp.reasons, verdict().reasons);
        assert_eq!(stamp.virus.as_deref(), Some("clean"));
        let none = spam_fields(&Verdict::default(), &Settings::default());
        assert_eq!(none, "X-Spam-Status: No, score=0.0 required=5.0 tests=none\r\nX-Spam-Score: 0.0\r\n");
    }

    #[test]
    fn a_senders_own_fields_are_never_believed() {
        // Below a second Received: line, or without any of ours at the top.
        assert_eq!(read(b"Received: from x\r\nReceived: from y\r\nX-Spam-Status: No\r\n\r\nbody"), None);
        assert_eq!(read(b"Subject: x\r\n\r\nX-Spam-Status: Yes\r\n"), None);
        assert_eq!(read(b"X-Spam-Status: Yes\r\n\r\n"), None);
    }

    #[test]
    fn ours_go_below_our_received_line() {
        let raw = b"Received: from x\r\n\tby mx\r\nX-Spam-Status: Yes\r\nSubject: s\r\n\r\nb";
        let out = insert(raw, "X-Spam-Status: No\r\n", None);
        assert_eq!(&out[..], b"Received: from x\r\n\tby mx\r\nX-Spam-Status: No\r\nSubject: s\r\n\r\nb");
        assert!(!read(&out).unwrap().spam);
    }

    #[test]
    fn incoming_fields_are_removed_and_the_subject_tagged() {
        let raw = b"Received: from x\r\nX-Spam-Status: No,\r\n tests=none\r\nx-virus-status: clean\r\n\
Subject: Bonjour\r\nX-Spamassassin-Like: keep\r\n\r\nX-Spam-Status: in the body stays\r\n";
        let out = clean(raw, None);
        assert_eq!(
            &*out,
            b"Received: from x\r\nSubject: Bonjour\r\nX-Spamassassin-Like: keep\r\n\r\nX-Spam-Status: in the body stays\r\n"
        );
        let tagged = clean(&out, Some("[EXTERNE]"));
        assert!(tagged.windows(28).any(|w| w == b"Subject: [EXTERNE] Bonjour\r\n"));
        // Once only.
        assert_eq!(clean(&tagged, Some("[EXTERNE]")), tagged);
        // No Subject: one is added.
        assert!(clean(b"From: a@b\r\n\r\nx", Some("[EXTERNE]")).starts_with(b"Subject: [EXTERNE]\r\n"));
        // Untouched messages are not copied.
        assert!(matches!(clean(b"From: a@b\r\n\r\nx", None), Cow::Borrowed(_)));
    }
}
