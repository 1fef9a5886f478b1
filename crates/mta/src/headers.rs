//! The author fields of a submitted message, read exactly as they will be
//! stored and signed, and its line endings made uniform.
//!
//! The sender check used to read the last `From:` field with one parser while
//! the stored ENVELOPE and the DKIM signature used the first one with another:
//! a message with two `From:` fields passed as the user and reached its
//! recipients as someone else (issue 25). Here the addresses come from
//! [`mailstore::analyse`], the very analyser that builds the stored ENVELOPE
//! (mail-parser's address parser), and a message whose header section does
//! not have exactly one `From:` field, however spelled (`FROM:`, `From :`), is
//! refused, so that no reader can pick another one.

use mailstore::analyse::{EnvelopeAddress, MAX_ADDRESSES, analyse};

/// One author address, lower-cased, with its display name (or group name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Author {
    pub(crate) address: String,
    pub(crate) name: Option<String>,
}

/// The authors of a message: its `From:` addresses, the `Sender:` ones, and
/// the names of the groups they appear in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Authors {
    pub(crate) from: Vec<Author>,
    pub(crate) sender: Vec<Author>,
    pub(crate) group_names: Vec<String>,
}

/// Why a header section cannot be accepted as it is (RFC 5322 section 3.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderProblem {
    /// Zero or several `From:` fields (exactly one is required).
    FromCount(usize),
    /// Several `Sender:` fields (at most one is allowed).
    SenderCount(usize),
    /// A `From:` field without any address.
    NoAuthor,
    /// More addresses than the analyser keeps: some would go unchecked.
    TooManyAuthors,
}

impl HeaderProblem {
    /// A one-line explanation for the client (French, then English).
    pub(crate) fn text(&self) -> String {
        match self {
            HeaderProblem::FromCount(0) => {
                "Le message n'a pas de champ From: / the message has no From: header field".into()
            }
            HeaderProblem::FromCount(n) => format!(
                "Le message a {n} champs From:, un seul est permis / the message has {n} From: header fields, exactly one is allowed (RFC 5322)"
            ),
            HeaderProblem::SenderCount(n) => format!(
                "Le message a {n} champs Sender:, un seul est permis / the message has {n} Sender: header fields, at most one is allowed (RFC 5322)"
            ),
            HeaderProblem::NoAuthor => {
                "Le champ From: ne contient aucune adresse / the From: header field holds no address".into()
            }
            HeaderProblem::TooManyAuthors => "Trop d'adresses dans From: / too many addresses in From:".into(),
        }
    }
}

/// The header section: every byte before the first empty line (all of the
/// message when there is none). Line endings are CRLF by then.
fn header_section(message: &[u8]) -> &[u8] {
    if message.starts_with(b"\r\n") {
        return &message[..2];
    }
    match message.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => &message[..at + 4],
        None => message,
    }
}

/// How many fields of the header section are named `name`, in any case and
/// with any white space before the colon. Every line of the section is looked
/// at, even past a line that is no field, so that this count is never smaller
/// than what a more lenient reader would see.
fn count_fields(header: &[u8], name: &str) -> usize {
    header
        .split(|&b| b == b'\n')
        .filter(|line| !matches!(line.first(), Some(b' ' | b'\t')))
        .filter_map(|line| line.iter().position(|&b| b == b':').map(|colon| line[..colon].trim_ascii()))
        .filter(|field| field.eq_ignore_ascii_case(name.as_bytes()))
        .count()
}

fn authors_of(list: &[EnvelopeAddress], group_names: &mut Vec<String>) -> Vec<Author> {
    let mut out = Vec::new();
    for a in list {
        if a.is_group_start() {
            group_names.push(a.mailbox.clone());
        } else if !a.is_group_end() {
            out.push(Author { address: a.address().trim().to_lowercase(), name: a.name.clone() });
        }
    }
    out
}

/// Reads the authors of `message` (whose line endings are CRLF).
pub(crate) fn authors(message: &[u8]) -> Result<Authors, HeaderProblem> {
    let header = header_section(message);
    let from_fields = count_fields(header, "from");
    if from_fields != 1 {
        return Err(HeaderProblem::FromCount(from_fields));
    }
    let sender_fields = count_fields(header, "sender");
    if sender_fields > 1 {
        return Err(HeaderProblem::SenderCount(sender_fields));
    }
    let envelope = analyse(header).envelope;
    if envelope.from.len() >= MAX_ADDRESSES || envelope.sender.len() >= MAX_ADDRESSES {
        return Err(HeaderProblem::TooManyAuthors);
    }
    let mut group_names = Vec::new();
    let from = authors_of(&envelope.from, &mut group_names);
    if from.is_empty() {
        return Err(HeaderProblem::NoAuthor);
    }
    let sender = authors_of(&envelope.sender, &mut group_names);
    Ok(Authors { from, sender, group_names })
}

/// The e-mail addresses written inside a display name or a group name,
/// lower-cased: `"recteur@ac-demo.fr" <claire…>` names `recteur@ac-demo.fr`.
/// Full-width at signs count as at signs, since they look the same to a reader.
pub(crate) fn addresses_in_name(name: &str) -> Vec<String> {
    let name: String = name.chars().map(|c| if matches!(c, '\u{ff20}' | '\u{fe6b}') { '@' } else { c }).collect();
    name.split(|c: char| c.is_whitespace() || "<>()\"',;:[]{}|/\\".contains(c))
        .map(|token| token.trim_matches('.'))
        .filter(|token| token.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty()))
        .map(str::to_lowercase)
        .collect()
}

/// The message with every line ending made CRLF: a bare CR or a bare LF
/// becomes CRLF.
///
/// Submitted messages are normalised rather than refused: a few clients and
/// scripts still write bare LF, and the message is ours to sign from here on.
/// What matters is that every reader downstream (our analyser, DKIM, the
/// receiving servers) sees the same lines, so that neither a second `From:`
/// nor an end of data can hide behind a bare CR (SMTP smuggling).
pub(crate) fn normalize_line_endings(message: Vec<u8>) -> Vec<u8> {
    let clean = message.iter().enumerate().all(|(i, &b)| match b {
        b'\r' => message.get(i + 1) == Some(&b'\n'),
        b'\n' => i > 0 && message[i - 1] == b'\r',
        _ => true,
    });
    if clean {
        return message;
    }
    let mut out = Vec::with_capacity(message.len() + message.len() / 32);
    let mut i = 0;
    while let Some(&b) = message.get(i) {
        match b {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if message.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_fields_are_counted_in_every_spelling() {
        let h = b"From: a@x.fr\r\nFROM : b@x.fr\r\nfrom\t: c@x.fr\r\nX-From: d\r\n\tFrom: e\r\nnot a field\r\nFrom: f\r\n\r\n";
        assert_eq!(count_fields(header_section(h), "from"), 4);
        assert_eq!(count_fields(header_section(b"Subject: x\r\n\r\nFrom: a@x.fr\r\n"), "from"), 0);
    }

    #[test]
    fn authors_come_from_the_analyser_with_groups_flattened() {
        let m = b"From: Equipe: Claire <Claire.Martin@ac-demo.fr>, b@ac-demo.fr;\r\nSender: c@ac-demo.fr\r\n\r\nbody";
        let a = authors(m).unwrap();
        let from: Vec<&str> = a.from.iter().map(|a| a.address.as_str()).collect();
        assert_eq!(from, ["claire.martin@ac-demo.fr", "b@ac-demo.fr"]);
        assert_eq!(a.sender[0].address, "c@ac-demo.fr");
        assert_eq!(a.group_names, ["Equipe"]);
        assert_eq!(authors(b"From: a@x.fr\r\nFrom : b@x.fr\r\n\r\n"), Err(HeaderProblem::FromCount(2)));
        assert_eq!(authors(b"To: a@x.fr\r\n\r\n"), Err(HeaderProblem::FromCount(0)));
    }

    #[test]
    fn addresses_hidden_in_names_are_found() {
        assert_eq!(addresses_in_name("recteur@ac-demo.fr"), ["recteur@ac-demo.fr"]);
        assert_eq!(addresses_in_name("Le Recteur (Recteur@ac-demo.fr)."), ["recteur@ac-demo.fr"]);
        assert_eq!(addresses_in_name("recteur\u{ff20}ac-demo.fr"), ["recteur@ac-demo.fr"]);
        assert!(addresses_in_name("Claire Martin").is_empty());
        assert!(addresses_in_name("@ twitter").is_empty());
    }

    #[test]
    fn every_line_ending_becomes_crlf() {
        assert_eq!(normalize_line_endings(b"a\rb\nc\r\nd\r".to_vec()), b"a\r\nb\r\nc\r\nd\r\n");
        assert_eq!(normalize_line_endings(b"\n\r\r\n".to_vec()), b"\r\n\r\n\r\n");
        assert_eq!(normalize_line_endings(b"ok\r\n".to_vec()), b"ok\r\n");
    }
}
