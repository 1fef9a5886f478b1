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
