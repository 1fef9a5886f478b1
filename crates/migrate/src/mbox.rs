//! mbox files (RFC 4155): messages split at `From ` lines, `>From ` lines
//! un-escaped (mboxrd: one `>` removed from any `>+From `; mboxo: only
//! `>From `), lines ended CRLF as IMAP serves them, the date of the `From `
//! line kept as internal date, and the flags mail programs wrote into the
//! headers (`Status`/`X-Status` of mutt and Dovecot, Thunderbird's
//! `X-Mozilla-Status` and `X-Mozilla-Keys`). The headers stay as they were.

use model::Flag;

use crate::imap::proto::{days_from_civil, month_number};

/// How `From ` lines in bodies were escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Mboxrd,
    Mboxo,
}

/// One message of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// 1 for the first message of the file.
    pub number: usize,
    /// Unix seconds of the `From ` line's date, when it has one.
    pub from_date: Option<i64>,
    /// The message, un-escaped, CRLF line ends.
    pub raw: Vec<u8>,
    /// The file ended inside this message, without a final line end.
    pub truncated: bool,
}

/// Splits a whole file. An error when it is not an mbox file at all.
pub fn split(data: &[u8], format: Format) -> Result<Vec<Message>, String> {
    let start = data.iter().position(|b| !b"\r\n".contains(b)).unwrap_or(data.len());
    if start == data.len() {
        return Ok(Vec::new());
    }
    if !data[start..].starts_with(b"From ") {
        return Err("le fichier ne commence pas par une ligne « From » : ce n'est pas un fichier mbox".into());
    }
    let truncated_file = !data.ends_with(b"\n");
    let mut messages: Vec<Message> = Vec::new();
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut previous_blank = true;
    let mut from_date = None;
    let flush = |lines: &mut Vec<&[u8]>, from_date: Option<i64>, messages: &mut Vec<Message>| {
        // The blank line before the next `From ` belongs to the file's format.
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        let mut raw = Vec::with_capacity(lines.iter().map(|l| l.len() + 2).sum());
        for line in lines.iter() {
            raw.extend_from_slice(unescape(line, format));
            raw.extend_from_slice(b"\r\n");
        }
        messages.push(Message { number: messages.len() + 1, from_date, raw, truncated: false });
        lines.clear();
    };
    let mut first = true;
    for line in data[start..].split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"From ") && previous_blank {
            if !first {
                flush(&mut lines, from_date, &mut messages);
            }
            first = false;
            from_date = date_of_from_line(&String::from_utf8_lossy(line));
            previous_blank = false;
            continue;
        }
        previous_blank = line.is_empty();
        lines.push(line);
    }
    // split() yields an empty piece after the final line end.
    if !truncated_file && lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    flush(&mut lines, from_date, &mut messages);
    if truncated_file && let Some(last) = messages.last_mut() {
        last.truncated = true;
        // The CRLF added after the cut line was not in the file.
        last.raw.truncate(last.raw.len().saturating_sub(2));
    }
    Ok(messages)
}

fn unescape(line: &[u8], format: Format) -> &[u8] {
    let quoted = line.iter().take_while(|&&b| b == b'>').count();
    let escaped = match format {
        Format::Mboxrd => quoted >= 1,
        Format::Mboxo => quoted == 1,
    };
    if escaped && line[quoted..].starts_with(b"From ") { &line[1..] } else { line }
}

/// The date of `From sender Sat Dec  5 21:27:10 2026` (asctime, taken as
/// UTC), if it has one.
pub fn date_of_from_line(line: &str) -> Option<i64> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().skip(2).position(|w| month_number(w).is_some())? + 2;
    let month = month_number(words[at])?;
    let day: i64 = words.get(at + 1)?.parse().ok()?;
    let mut time = words.get(at + 2)?.split(':');
    let (h, m): (i64, i64) = (time.next()?.parse().ok()?, time.next()?.parse().ok()?);
    let s: i64 = time.next().map(str::parse).transpose().ok()?.unwrap_or(0);
    let year: i64 = words.get(at + 3)?.parse().ok()?;
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 || !(1970..=9999).contains(&year) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// What the headers say of a message's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub flags: i64,
    pub keywords: Vec<String>,
    /// Thunderbird marked it expunged (0x0008): deleted, waiting for the
    /// folder's compaction.
    pub expunged: bool,
}

/// Reads `Status`, `X-Status`, `X-Mozilla-Status` and `X-Mozilla-Keys`.
pub fn state(raw: &[u8]) -> State {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len());
    let header = String::from_utf8_lossy(&raw[..end]);
    let mut st = State::default();
    for line in header.split("\r\n") {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "status" if value.contains('R') => st.flags |= Flag::Seen.bit(),
            "x-status" => {
                for (c, flag) in [('A', Flag::Answered), ('F', Flag::Flagged), ('T', Flag::Draft), ('D', Flag::Deleted)]
                {
                    if value.contains(c) {
                        st.flags |= flag.bit();
                    }
                }
            }
            "x-mozilla-status" => {
                let bits = u32::from_str_radix(value, 16).unwrap_or(0);
                for (bit, flag) in [(0x1, Flag::Seen), (0x2, Flag::Answered), (0x4, Flag::Flagged)] {
                    if bits & bit != 0 {
                        st.flags |= flag.bit();
                    }
                }
                st.expunged = bits & 0x8 != 0;
            }
            "x-mozilla-keys" => {
                st.keywords
                    .extend(value.split_whitespace().filter_map(model::Keyword::new).map(|k| k.as_str().to_owned()));
            }
            _ => {}
        }
    }
    st.keywords.sort();
    st.keywords.dedup();
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &[u8] = b"From alice@example.org Sat Dec  5 21:27:10 2026\n\
Subject: un\n\
Status: RO\n\
\n\
>From the start\n\
>>From quoted\n\
From here too (no blank line before)\n\
\n\
From bob@example.org Thu Jan  1 00:00:00 1970\n\
Subject: deux\n\
X-Mozilla-Status: 0005\n\
X-Mozilla-Keys: $label1 Travail\n\
\n\
corps\n";

    #[test]
    fn mboxrd_splits_and_unescapes() {
        let m = split(FILE, Format::Mboxrd).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            String::from_utf8_lossy(&m[0].raw),
            "Subject: un\r\nStatus: RO\r\n\r\nFrom the start\r\n>From quoted\r\nFrom here too (no blank line before)\r\n"
        );
        assert_eq!(m[0].from_date, Some(1_796_506_030));
        assert_eq!(m[1].number, 2);
        assert_eq!(m[1].from_date, Some(0));
        assert!(m[1].raw.ends_with(b"\r\n\r\ncorps\r\n"));
        assert!(!m[1].truncated);
    }

    #[test]
    fn mboxo_unescapes_one_level_only() {
        let m = split(FILE, Format::Mboxo).unwrap();
        assert!(String::from_utf8_lossy(&m[0].raw).contains("\r\nFrom the start\r\n>>From quoted\r\n"));
    }

    #[test]
    fn truncated_and_foreign_files() {
        let m = split(b"From a Sat Dec  5 21:27:10 2026\nSubject: x\n\ncut he", Format::Mboxrd).unwrap();
        assert_eq!(m.len(), 1);
        assert!(m[0].truncated);
        assert_eq!(m[0].raw, b"Subject: x\r\n\r\ncut he");
        assert!(split(b"Subject: not an mbox\n", Format::Mboxrd).is_err());
        assert!(split(b"", Format::Mboxrd).unwrap().is_empty());
        assert_eq!(date_of_from_line("From MAILER-DAEMON nonsense"), None);
    }

    #[test]
    fn header_flags() {
        let m = split(FILE, Format::Mboxrd).unwrap();
        assert_eq!(state(&m[0].raw).flags, Flag::Seen.bit());
        let st = state(&m[1].raw);
        assert_eq!(st.flags, Flag::Seen.bit() | Flag::Flagged.bit());
        assert_eq!(st.keywords, ["$label1", "Travail"]);
        assert!(!st.expunged);
        assert!(state(b"X-Mozilla-Status: 0009\r\n\r\n").expunged);
        assert_eq!(state(b"X-Status: AF\r\n\r\n").flags, Flag::Answered.bit() | Flag::Flagged.bit());
    }
}
