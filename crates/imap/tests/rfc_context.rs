//! CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 section 4): PARTIAL results,
//! searches kept up to date with ADDTO/REMOVEFROM, CANCELUPDATE, NOUPDATE.
//! Each test quotes the sentence it checks; the expected lines follow the
//! RFC's own examples.

mod common;

use common::Fixture;

fn mail(subject: &str) -> Vec<u8> {
    format!("From: paul.durand@ac-demo.fr\r\nTo: claire.martin@ac-demo.fr\r\nSubject: {subject}\r\n\r\nTexte.\r\n")
        .into_bytes()
}

async fn five(f: &Fixture) {
    for s in ["Alpha", "Bravo", "Charlie", "Delta", "Echo"] {
        f.deliver(&mail(s)).await;
    }
}

/// RFC 5267 section 4.4: "the first 500 results would be obtained by a
/// return option of "PARTIAL 1:500"" ... "Where a PARTIAL search return
/// option references results that do not exist ... the server returns the
/// results that are in the set. This yields a PARTIAL return data item that
/// has, as payload, the original range" ... "NIL indicates no results
/// correspond to the requested range." ... "A range 500:400 is the same as 400:500."
#[tokio::test]
async fn partial_results() {
    let f = Fixture::new().await;
    five(&f).await;
    let mut c = f.connect();
    c.login().await;
    // IMAP4rev2: no \Recent in the flags below.
    c.cmd("v", "ENABLE IMAP4rev2").await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(
        c.cmd("a", "UID SEARCH RETURN (PARTIAL 2:3) ALL").await,
        "* ESEARCH (TAG \"a\") UID PARTIAL (2:3 2:3)\r\na OK UID SEARCH completed\r\n"
    );
    assert_eq!(
        c.cmd("b", "SEARCH RETURN (COUNT PARTIAL 4:10) ALL").await,
        "* ESEARCH (TAG \"b\") COUNT 5 PARTIAL (4:10 4:5)\r\nb OK SEARCH completed\r\n"
    );
    assert_eq!(
        c.cmd("c", "UID SEARCH RETURN (PARTIAL 9:12) ALL").await,
        "* ESEARCH (TAG \"c\") UID PARTIAL (9:12 NIL)\r\nc OK UID SEARCH completed\r\n"
    );
    assert_eq!(
        c.cmd("d", "UID SEARCH RETURN (PARTIAL 3:2) ALL").await,
        "* ESEARCH (TAG \"d\") UID PARTIAL (2:3 2:3)\r\nd OK UID SEARCH completed\r\n"
    );
    // "A single command MUST NOT contain more than one PARTIAL or ALL search return option".
    assert!(c.cmd("e", "SEARCH RETURN (PARTIAL 1:2 ALL) ALL").await.starts_with("e BAD"));
    assert!(c.cmd("g", "SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL").await.starts_with("g BAD"));
    assert!(c.cmd("h", "SEARCH RETURN (PARTIAL 0:2) ALL").await.starts_with("h BAD"));
    // CONTEXT=SORT: the window is taken in the requested order.
    assert_eq!(
        c.cmd("i", "UID SORT RETURN (PARTIAL 1:2) (REVERSE SUBJECT) UTF-8 ALL").await,
        "* ESEARCH (TAG \"i\") UID PARTIAL (1:2 5,4)\r\ni OK UID SORT completed\r\n"
    );
    // CONTEXT is a hint, accepted.
    assert_eq!(
        c.cmd("j", "SEARCH RETURN (CONTEXT COUNT) ALL").await,
        "* ESEARCH (TAG \"j\") COUNT 5\r\nj OK SEARCH completed\r\n"
    );
}

/// RFC 5267 section 4.3: "The search return option UPDATE, if used by a
/// client, causes the server to issue unsolicited notifications containing
/// updates to the results that would be returned by an unmodified searching
/// command." Section 4.3.3's example: "B01 UID SEARCH RETURN (UPDATE) DELETED"
/// then, after a STORE +FLAGS (\Deleted), "* ESEARCH (TAG "B01") UID ADDTO
/// (0 32768:32769)"; section 4.3.4: a REMOVEFROM "MUST be sent prior to the
/// expunge notification itself".
#[tokio::test]
async fn updated_search_follows_flags_and_expunges() {
    let f = Fixture::new().await;
    five(&f).await;
    let mut c = f.connect();
    c.login().await;
    // IMAP4rev2: no \Recent in the flags below.
    c.cmd("v", "ENABLE IMAP4rev2").await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(
        c.cmd("B01", "UID SEARCH RETURN (UPDATE COUNT) DELETED").await,
        "* ESEARCH (TAG \"B01\") UID COUNT 0\r\nB01 OK UID SEARCH completed\r\n"
    );
    // The session's own STORE.
    assert_eq!(
        c.cmd("C01", "UID STORE 2:3 +FLAGS.SILENT (\\Deleted)").await,
        "* ESEARCH (TAG \"B01\") UID ADDTO (0 2:3)\r\nC01 OK UID STORE completed\r\n"
    );
    // Another session's change arrives unsolicited, with no command running.
    let mut other = f.connect();
    other.login().await;
    other.cmd("s", "SELECT INBOX").await;
    other.cmd("x", "UID STORE 5 +FLAGS (\\Deleted)").await;
    assert_eq!(
        c.read_until("* ESEARCH").await,
        "* 5 FETCH (UID 5 FLAGS (\\Deleted))\r\n* ESEARCH (TAG \"B01\") UID ADDTO (0 5)\r\n"
    );
    // An expunge elsewhere: REMOVEFROM now, the EXPUNGE itself only when a
    // command may carry it, after.
    other.cmd("y", "UID EXPUNGE 2").await;
    assert_eq!(c.read_until("").await, "* ESEARCH (TAG \"B01\") UID REMOVEFROM (0 2)\r\n");
    assert_eq!(c.cmd("n", "NOOP").await, "* 2 EXPUNGE\r\nn OK NOOP completed\r\n");
    // A new message that matches.
    assert_eq!(c.cmd("a", "APPEND INBOX (\\Deleted) {6+}\r\nSujet.").await.lines().next(), Some("* 5 EXISTS"));
    assert_eq!(
        c.cmd("m", "UID SEARCH DELETED").await,
        "* ESEARCH (TAG \"m\") UID ALL 3,5:6\r\nm OK UID SEARCH completed\r\n"
    );
    // "An attempt to use UPDATE where a tag is already in use ... SHALL
    // result in the server rejecting the searching command with a BAD response."
    assert!(c.cmd("B01", "UID SEARCH RETURN (UPDATE) ALL").await.starts_with("B01 BAD"));
    // Section 4.3.5: CANCELUPDATE stops them.
    assert_eq!(c.cmd("c", "CANCELUPDATE \"B01\"").await, "c OK CANCELUPDATE completed\r\n");
    other.cmd("z", "UID STORE 1 +FLAGS (\\Deleted)").await;
    assert_eq!(c.cmd("n2", "NOOP").await, "* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\nn2 OK NOOP completed\r\n");
    assert!(c.cmd("c2", "CANCELUPDATE \"B01\"").await.starts_with("c2 BAD"));
    // Contexts end with the selection.
    c.cmd("B02", "SEARCH RETURN (UPDATE) ALL").await;
    c.cmd("u", "UNSELECT").await;
    c.cmd("s2", "SELECT INBOX").await;
    assert!(c.cmd("c3", "CANCELUPDATE \"B02\"").await.starts_with("c3 BAD"));
}

/// RFC 5267 section 4.3.3: "If the context position is non-zero, the result
/// update is inserted at the given context position"; for a SORT, the
/// updates keep the requested order ("servers MUST generate ADDTO and
/// REMOVEFROM responses such that the results are maintained in the
/// requested order"). Message numbers: "an ADDTO containing message
/// sequence numbers added as a result of those messages being delivered or
/// appended MUST be sent after the EXISTS notification itself".
#[tokio::test]
async fn updated_sort_inserts_at_positions() {
    let f = Fixture::new().await;
    for s in ["Alpha", "Charlie", "Echo"] {
        f.deliver(&mail(s)).await;
    }
    let mut c = f.connect();
    c.login().await;
    // IMAP4rev2: no \Recent in the flags below.
    c.cmd("v", "ENABLE IMAP4rev2").await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(
        c.cmd("S1", "SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 ALL").await,
        "* ESEARCH (TAG \"S1\") ALL 1:3\r\nS1 OK SORT completed\r\n"
    );
    f.deliver(&mail("Bravo")).await;
    assert_eq!(c.read_until("* ESEARCH").await, "* 4 EXISTS\r\n* ESEARCH (TAG \"S1\") ADDTO (2 4)\r\n");
    f.deliver(&mail("Delta")).await;
    assert!(c.read_until("* ESEARCH").await.ends_with("* ESEARCH (TAG \"S1\") ADDTO (4 5)\r\n"));
    // Removal at its position in the sorted results.
    c.cmd("d", "STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    let r = c.cmd("e", "EXPUNGE").await;
    assert_eq!(r, "* ESEARCH (TAG \"S1\") REMOVEFROM (3 2)\r\n* 2 EXPUNGE\r\ne OK EXPUNGE completed\r\n");
}

/// RFC 5267 section 4.3.1: "an untagged NO is generated during processing
/// of the command with a response-code of NOUPDATE" ... "Other return
/// options specified SHALL still be honoured."
#[tokio::test]
async fn too_many_contexts_are_refused_with_noupdate() {
    let f = Fixture::new().await;
    five(&f).await;
    let mut c = f.connect();
    c.login().await;
    // IMAP4rev2: no \Recent in the flags below.
    c.cmd("v", "ENABLE IMAP4rev2").await;
    c.cmd("s", "SELECT INBOX").await;
    for i in 0..8 {
        let r = c.cmd(&format!("k{i}"), "SEARCH RETURN (UPDATE) UNSEEN").await;
        assert!(!r.contains("NOUPDATE"), "{r}");
    }
    let r = c.cmd("k8", "SEARCH RETURN (UPDATE COUNT) UNSEEN").await;
    assert!(r.starts_with("* NO [NOUPDATE \"k8\"]"), "{r}");
    assert!(r.contains("* ESEARCH (TAG \"k8\") COUNT 5\r\nk8 OK SEARCH completed"), "{r}");
}
