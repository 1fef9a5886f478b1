//! Untagged responses as data, written in one place: the lines that report
//! a mailbox's state and its changes (EXISTS, EXPUNGE, VANISHED, flag
//! updates, the response codes of SELECT). Other lines (LIST, STATUS,
//! SEARCH...) are one-off and go as text through [`Untagged::Line`]. FETCH
//! writes its data items straight into the output with [`flag_list`], so
//! that no message costs an allocation of its own.

use std::io::Write;

use model::Flag;

/// One untagged response (`* ...\r\n`).
pub(crate) enum Untagged<'a> {
    /// `n EXISTS`: the mailbox holds `n` messages.
    Exists(usize),
    /// `n RECENT`, for IMAP4rev1 clients (RFC 9051 has no \Recent): the
    /// messages this session holds as recent.
    Recent(usize),
    /// `n EXPUNGE`: the message with this sequence number is gone.
    Expunge(usize),
    /// `VANISHED [(EARLIER)] uids` (QRESYNC), for a non-empty sorted list.
    Vanished { earlier: bool, uids: &'a [i64] },
    /// `n FETCH ([UID u ]FLAGS (...)[ MODSEQ (m)])`: a message's flags now
    /// (with `\Recent` when the session holds it as recent).
    Flags { seq: usize, uid: Option<i64>, flags: i64, recent: bool, keywords: &'a [String], modseq: Option<i64> },
    /// `FLAGS (...)`: the flags of the selected mailbox, with its keywords.
    MailboxFlags { keywords: &'a [&'a str] },
    /// `OK [code] text`.
    Ok(Code<'a>),
    /// Any other response, already written (without `* ` and CRLF).
    Line(&'a str),
}

/// The response codes of untagged OK lines.
pub(crate) enum Code<'a> {
    /// SELECT while another mailbox was selected (CONDSTORE).
    Closed,
    /// The flags a client may set; none when the mailbox is read-only.
    PermanentFlags {
        keywords: &'a [&'a str],
        read_only: bool,
    },
    /// The first unseen message (IMAP4rev1 only).
    Unseen(usize),
    UidValidity(i64),
    UidNext(i64),
    HighestModseq(i64),
    MailboxId(i64),
}

/// The system flags a mailbox offers.
const SYSTEM_FLAGS: &str = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

impl Untagged<'_> {
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"* ");
        // Writing to a Vec cannot fail.
        let _ = match self {
            Untagged::Exists(n) => write!(out, "{n} EXISTS"),
            Untagged::Recent(n) => write!(out, "{n} RECENT"),
            Untagged::Expunge(seq) => write!(out, "{seq} EXPUNGE"),
            Untagged::Vanished { earlier, uids } => {
                let earlier = if *earlier { "(EARLIER) " } else { "" };
                write!(out, "VANISHED {earlier}{}", crate::messages::compact_set(uids))
            }
            Untagged::Flags { seq, uid, flags, recent, keywords, modseq } => {
                let _ = write!(out, "{seq} FETCH (");
                if let Some(uid) = uid {
                    let _ = write!(out, "UID {uid} ");
                }
                out.extend_from_slice(b"FLAGS ");
                flag_list(out, *flags, *recent, keywords);
                if let Some(modseq) = modseq {
                    let _ = write!(out, " MODSEQ ({modseq})");
                }
                write!(out, ")")
            }
            Untagged::MailboxFlags { keywords } => {
                write!(out, "FLAGS ({SYSTEM_FLAGS}{})", Extra(keywords))
            }
            Untagged::Ok(code) => write_code(out, code),
            Untagged::Line(line) => write!(out, "{line}"),
        };
        out.extend_from_slice(b"\r\n");
    }
}

fn write_code(out: &mut Vec<u8>, code: &Code<'_>) -> std::io::Result<()> {
    match code {
        Code::Closed => write!(out, "OK [CLOSED] Previous mailbox closed"),
        Code::PermanentFlags { read_only: true, .. } => write!(out, "OK [PERMANENTFLAGS ()] Flags permitted"),
        Code::PermanentFlags { keywords, read_only: false } => {
            write!(out, "OK [PERMANENTFLAGS ({SYSTEM_FLAGS}{} \\*)] Flags permitted", Extra(keywords))
        }
        Code::Unseen(seq) => write!(out, "OK [UNSEEN {seq}] First unseen message"),
        Code::UidValidity(v) => write!(out, "OK [UIDVALIDITY {v}] UIDs valid"),
        Code::UidNext(n) => write!(out, "OK [UIDNEXT {n}] Predicted next UID"),
        Code::HighestModseq(m) => write!(out, "OK [HIGHESTMODSEQ {m}] Highest"),
        Code::MailboxId(id) => write!(out, "OK [MAILBOXID (F{id})] Ok"),
    }
}

/// Keywords after the system flags, each with a space before it.
struct Extra<'a>(&'a [&'a str]);

impl std::fmt::Display for Extra<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|k| write!(f, " {k}"))
    }
}

/// Writes `(\Seen \Flagged \Recent $Keyword)` for a message (`\Recent`
/// only for the IMAP4rev1 session that holds the message as recent).
pub(crate) fn flag_list(out: &mut Vec<u8>, bits: i64, recent: bool, keywords: &[String]) {
    out.push(b'(');
    let system = Flag::ALL.into_iter().filter(|f| bits & f.bit() != 0).map(|f| f.imap_name().as_bytes());
    let recent = recent.then_some(b"\\Recent".as_slice());
    for (i, name) in system.chain(recent).chain(keywords.iter().map(|k| k.as_bytes())).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(name);
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(u: Untagged<'_>) -> String {
        let mut out = Vec::new();
        u.write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lines() {
        let kw = ["$Junk".to_owned()];
        let flags = Flag::Seen.bit() | Flag::Flagged.bit();
        assert_eq!(
            line(Untagged::Flags { seq: 3, uid: Some(7), flags, recent: true, keywords: &kw, modseq: Some(9) }),
            "* 3 FETCH (UID 7 FLAGS (\\Seen \\Flagged \\Recent $Junk) MODSEQ (9))\r\n"
        );
        assert_eq!(
            line(Untagged::Flags { seq: 1, uid: None, flags: 0, recent: false, keywords: &[], modseq: None }),
            "* 1 FETCH (FLAGS ())\r\n"
        );
        assert_eq!(line(Untagged::Vanished { earlier: true, uids: &[1, 2, 3, 5] }), "* VANISHED (EARLIER) 1:3,5\r\n");
        assert_eq!(
            line(Untagged::Ok(Code::PermanentFlags { keywords: &["$a"], read_only: false })),
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $a \\*)] Flags permitted\r\n"
        );
        assert_eq!(
            line(Untagged::MailboxFlags { keywords: &[] }),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
        );
    }
}
