//! Corners of the IMAP RFCs about a mailbox's state as sessions share it
//! (issue 26, items 12, 1 and 4): new keywords, `\Recent`, CONDSTORE. Each
//! test quotes the sentence of the RFC it checks.

mod common;

use common::Fixture;

const SYSTEM: &str = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

/// Item 12. RFC 9051 section 7.3.5 (FLAGS response): "The update from the
/// FLAGS response MUST be recorded by the client"; it "occurs as a result of
/// a SELECT or EXAMINE command", and RFC 3501 section 7.2.6 likewise. A
/// STORE that gives the mailbox its first message with a keyword changes the
/// mailbox's flags, so every session that has it selected hears `FLAGS` and
/// `PERMANENTFLAGS` again, the storing one before its own FETCH response:
/// otherwise a client sees a keyword "used without being in FLAGS".
#[tokio::test]
async fn a_new_keyword_is_announced_to_every_session() {
    let f = Fixture::new().await;
    f.deliver(b"From: a@ac-demo.fr\r\nSubject: un\r\n\r\nx\r\n").await;
    let (mut a, mut b) = (f.connect(), f.connect());
    for c in [&mut a, &mut b] {
        c.login().await;
        c.cmd("e", "ENABLE IMAP4rev2").await;
        c.cmd("s", "SELECT INBOX").await;
    }
    let announced =
        format!("* FLAGS ({SYSTEM} $Nouveau)\r\n* OK [PERMANENTFLAGS ({SYSTEM} $Nouveau \\*)] Flags permitted\r\n");
    assert_eq!(
        a.cmd("t", "STORE 1 +FLAGS ($Nouveau)").await,
        format!("{announced}* 1 FETCH (FLAGS ($Nouveau))\r\nt OK STORE completed\r\n")
    );
    assert_eq!(
        b.cmd("n", "NOOP").await,
        format!("{announced}* 1 FETCH (UID 1 FLAGS ($Nouveau))\r\nn OK NOOP completed\r\n")
    );
    // A keyword the mailbox already has is not announced again, even silently stored.
    assert_eq!(a.cmd("u", "STORE 1 -FLAGS.SILENT ($Nouveau)").await, "u OK STORE completed\r\n");
    assert_eq!(
        a.cmd("v", "STORE 1 +FLAGS ($Nouveau)").await,
        "* 1 FETCH (FLAGS ($Nouveau))\r\nv OK STORE completed\r\n"
    );
    // Even with .SILENT, the mailbox's new flags are told.
    assert_eq!(
        a.cmd("w", "STORE 1 +FLAGS.SILENT ($Autre)").await,
        format!(
            "* FLAGS ({SYSTEM} $Autre $Nouveau)\r\n* OK [PERMANENTFLAGS ({SYSTEM} $Autre $Nouveau \\*)] Flags permitted\r\n\
         w OK STORE completed\r\n"
        )
    );
}

fn message(subject: &str) -> Vec<u8> {
    format!("From: a@ac-demo.fr\r\nSubject: {subject}\r\n\r\nx\r\n").into_bytes()
}

/// Item 1. RFC 3501 section 2.3.2: "\Recent Message is "recently" arrived
/// in this mailbox. This session is the first session to have been notified
/// about this message; if the session is read-write, subsequent sessions will
/// not see \Recent set for this message." Section 7.3.2: "RECENT: The number
/// of messages with the \Recent flag set. This response occurs as a result of
/// a SELECT or EXAMINE command, and if the size of the mailbox changes (e.g.,
/// new messages)." Section 6.4.4: "NEW: Messages that have the \Recent flag
/// set but not the \Seen flag", "OLD: Messages that do not have the \Recent
/// flag set", "RECENT: Messages that have the \Recent flag set."
#[tokio::test]
async fn recent_belongs_to_the_first_session_that_selects() {
    let f = Fixture::new().await;
    f.deliver(&message("un")).await;
    f.deliver(&message("deux")).await;
    let (mut a, mut b) = (f.connect(), f.connect());
    a.login().await;
    b.login().await;
    let r = a.cmd("s", "SELECT INBOX").await;
    assert!(r.contains("* 2 EXISTS\r\n* 2 RECENT\r\n"), "{r}");
    assert_eq!(
        a.cmd("f", "FETCH 1:2 (FLAGS)").await,
        "* 1 FETCH (FLAGS (\\Recent))\r\n* 2 FETCH (FLAGS (\\Recent))\r\nf OK FETCH completed\r\n"
    );
    let r = b.cmd("s", "SELECT INBOX").await;
    assert!(r.contains("* 2 EXISTS\r\n* 0 RECENT\r\n"), "{r}");
    assert_eq!(b.cmd("f", "FETCH 1 (FLAGS)").await, "* 1 FETCH (FLAGS ())\r\nf OK FETCH completed\r\n");
    // New mail: the first session told of it holds it as recent.
    f.deliver(&message("trois")).await;
    assert_eq!(a.cmd("n", "NOOP").await, "* 3 EXISTS\r\n* 3 RECENT\r\nn OK NOOP completed\r\n");
    assert_eq!(b.cmd("n", "NOOP").await, "* 3 EXISTS\r\nn OK NOOP completed\r\n");
    assert_eq!(
        a.cmd("t", "STORE 1 +FLAGS (\\Seen)").await,
        "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\nt OK STORE completed\r\n"
    );
    assert_eq!(a.cmd("r", "SEARCH RECENT").await, "* SEARCH 1 2 3\r\nr OK SEARCH completed\r\n");
    assert_eq!(a.cmd("w", "SEARCH NEW").await, "* SEARCH 2 3\r\nw OK SEARCH completed\r\n");
    assert_eq!(a.cmd("o", "SEARCH OLD").await, "* SEARCH\r\no OK SEARCH completed\r\n");
    assert_eq!(b.cmd("n", "NOOP").await, "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\nn OK NOOP completed\r\n");
    assert_eq!(b.cmd("r", "SEARCH RECENT").await, "* SEARCH\r\nr OK SEARCH completed\r\n");
    assert_eq!(b.cmd("o", "SEARCH OLD").await, "* SEARCH 1 2 3\r\no OK SEARCH completed\r\n");
    // A later session sees none of them as recent.
    let mut c = f.connect();
    c.login().await;
    let r = c.cmd("s", "SELECT INBOX").await;
    assert!(r.contains("* 3 EXISTS\r\n* 0 RECENT\r\n"), "{r}");
}

/// Item 1. RFC 3501 section 6.4.7 (COPY): "the \Recent flag SHOULD be set,
/// in the copy"; section 6.3.11 (APPEND): "In either case, the Recent flag
/// is also set"; section 6.3.2 (EXAMINE) opens the mailbox read-only, and
/// "if the session is read-write, subsequent sessions will not see \Recent"
/// (section 2.3.2): EXAMINE leaves the messages recent for the next SELECT.
/// Section 6.3.10: STATUS "RECENT: The number of messages with the \Recent
/// flag set."
#[tokio::test]
async fn copies_and_appended_messages_are_recent_in_the_destination() {
    let f = Fixture::new().await;
    f.deliver(&message("un")).await;
    f.deliver(&message("deux")).await;
    let (mut a, mut c) = (f.connect(), f.connect());
    a.login().await;
    c.login().await;
    assert!(a.cmd("k", "CREATE Dossier").await.starts_with("k OK"));
    a.cmd("s", "SELECT INBOX").await;
    assert!(a.cmd("c", "COPY 1:2 Dossier").await.contains("c OK"));
    assert_eq!(
        c.cmd("t", "STATUS Dossier (MESSAGES RECENT)").await,
        "* STATUS \"Dossier\" (MESSAGES 2 RECENT 2)\r\nt OK STATUS completed\r\n"
    );
    let r = c.cmd("e", "EXAMINE Dossier").await;
    assert!(r.contains("* 2 EXISTS\r\n* 0 RECENT\r\n"), "{r}");
    let r = c.cmd("s", "SELECT Dossier").await;
    assert!(r.contains("* 2 EXISTS\r\n* 2 RECENT\r\n"), "{r}");
    a.send(b"p APPEND Dossier (\\Seen) {21}\r\n").await;
    a.read_until("+ ").await;
    a.send(b"Subject: trois\r\n\r\nx\r\n\r\n").await;
    assert!(a.read_until("p ").await.contains("p OK"), "APPEND");
    assert_eq!(c.cmd("n", "NOOP").await, "* 3 EXISTS\r\n* 3 RECENT\r\nn OK NOOP completed\r\n");
    assert_eq!(c.cmd("f", "FETCH 3 (FLAGS)").await, "* 3 FETCH (FLAGS (\\Seen \\Recent))\r\nf OK FETCH completed\r\n");
    assert_eq!(c.cmd("t", "STATUS INBOX (RECENT)").await, "* STATUS \"INBOX\" (RECENT 0)\r\nt OK STATUS completed\r\n");
}

/// Item 1. RFC 9051 (IMAP4rev2) has no \Recent (its appendix E lists the
/// flag, the RECENT response and the RECENT/NEW/OLD keys as removed): a session that
/// enabled IMAP4rev2 gets no RECENT response and claims nothing, so the
/// next IMAP4rev1 session still sees the new messages as recent.
#[tokio::test]
async fn imap4rev2_sessions_neither_see_nor_take_recent() {
    let f = Fixture::new().await;
    f.deliver(&message("un")).await;
    let mut d = f.connect();
    d.login().await;
    d.cmd("e", "ENABLE IMAP4rev2").await;
    let r = d.cmd("s", "SELECT INBOX").await;
    assert!(!r.contains("RECENT"), "{r}");
    f.deliver(&message("deux")).await;
    assert_eq!(d.cmd("n", "NOOP").await, "* 2 EXISTS\r\nn OK NOOP completed\r\n");
    assert_eq!(
        d.cmd("f", "FETCH 1:2 (FLAGS)").await,
        "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\nf OK FETCH completed\r\n"
    );
    let mut e = f.connect();
    e.login().await;
    let r = e.cmd("s", "SELECT INBOX").await;
    assert!(r.contains("* 2 EXISTS\r\n* 2 RECENT\r\n"), "{r}");
}

/// The number after `label ` in a response (`HIGHESTMODSEQ 7`).
fn number_after(response: &str, label: &str) -> i64 {
    let at = response.find(label).unwrap_or_else(|| panic!("no {label} in {response}")) + label.len();
    response[at..].trim_start().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

/// Item 4. RFC 7162 section 3.1: FETCH with the MODSEQ item is a
/// "CONDSTORE enabling command", after which "the server MUST automatically
/// include both UID and mod-sequence data in all subsequent untagged FETCH
/// responses (until the connection is closed), whether they were caused by a
/// regular STORE/UID STORE, a STORE/UID STORE with an UNCHANGEDSINCE
/// modifier, a FETCH/UID FETCH that implicitly set the \Seen flag, or an
/// external agent"; a client that enables CONDSTORE with a mailbox already
/// selected (which it selected without CONDSTORE) is told the mailbox's
/// HIGHESTMODSEQ then, in an untagged OK.
#[tokio::test]
async fn condstore_enabled_by_fetch_modseq_shapes_store_replies() {
    let f = Fixture::new().await;
    f.deliver(&message("un")).await;
    let (mut a, mut b) = (f.connect(), f.connect());
    a.login().await;
    b.login().await;
    let selected = a.cmd("s", "SELECT INBOX").await;
    let highest = number_after(&selected, "HIGHESTMODSEQ");
    let r = a.cmd("f", "FETCH 1 (MODSEQ)").await;
    let modseq = number_after(&r, "MODSEQ (");
    assert_eq!(
        r,
        format!(
            "* OK [HIGHESTMODSEQ {highest}] Highest\r\n* 1 FETCH (UID 1 MODSEQ ({modseq}))\r\nf OK FETCH completed\r\n"
        )
    );
    let r = a.cmd("t", "STORE 1 +FLAGS (\\Seen)").await;
    let after = number_after(&r, "MODSEQ (");
    assert!(after > modseq, "{r}");
    assert_eq!(r, format!("* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) MODSEQ ({after}))\r\nt OK STORE completed\r\n"));
    // A second enabling command reports nothing more.
    assert_eq!(
        a.cmd("g", "FETCH 1 (MODSEQ)").await,
        format!("* 1 FETCH (UID 1 MODSEQ ({after}))\r\ng OK FETCH completed\r\n")
    );
    // ENABLE CONDSTORE with a mailbox selected.
    b.cmd("s", "SELECT INBOX").await;
    assert_eq!(
        b.cmd("e", "ENABLE CONDSTORE").await,
        format!("* ENABLED CONDSTORE\r\n* OK [HIGHESTMODSEQ {after}] Highest\r\ne OK ENABLE completed\r\n")
    );
}

/// Item 4. RFC 7162 section 3.1.5: "If client specifies a MODSEQ criterion
/// in a SEARCH (or UID SEARCH) command and the server returns a non-empty
/// SEARCH result, the server MUST also append (to the end of the untagged
/// SEARCH response) the highest mod-sequence for all messages being
/// returned"; its grammar (section 7) allows an entry name and type:
/// `search-modsequence = "MODSEQ" [search-modseq-ext] SP
/// mod-sequence-valzer`, `search-modseq-ext = SP entry-name SP
/// entry-type-req`, `entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE`,
/// `entry-type-req = entry-type-resp / "all"`.
#[tokio::test]
async fn search_modseq_takes_an_entry_name_and_type() {
    let f = Fixture::new().await;
    f.deliver(&message("un")).await;
    f.deliver(&message("deux")).await;
    let mut a = f.connect();
    a.login().await;
    a.cmd("s", "SELECT INBOX").await;
    let r = a.cmd("t", "STORE 2 +FLAGS.SILENT (\\Seen)").await;
    assert_eq!(r, "t OK STORE completed\r\n");
    let r = a.cmd("f", "FETCH 2 (MODSEQ)").await;
    let top = number_after(&r, "MODSEQ (");
    assert_eq!(
        a.cmd("q", &format!("SEARCH MODSEQ \"/flags/\\\\seen\" all {top}")).await,
        format!("* SEARCH 2 (MODSEQ {top})\r\nq OK SEARCH completed\r\n")
    );
    assert_eq!(
        a.cmd("r", "SEARCH MODSEQ \"/flags/\\\\seen\" all 1").await,
        format!("* SEARCH 1 2 (MODSEQ {top})\r\nr OK SEARCH completed\r\n")
    );
    assert!(a.cmd("u", "SEARCH MODSEQ \"/flags/\\\\seen\" partout 1").await.starts_with("u BAD"));
}
