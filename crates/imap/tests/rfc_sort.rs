//! SORT and THREAD as RFC 5256 and RFC 5051 define them (issue 26, items
//! 16, 9 and 10): each test quotes the sentence of the RFC it checks.

mod common;

use common::Fixture;

fn mail(n: u32, subject: &str, id: &str, references: &str, in_reply_to: &str) -> Vec<u8> {
    let mut m = format!(
        "From: a@ac-demo.fr\r\nSubject: {subject}\r\nDate: Tue, 1 Sep 2026 08:{n:02}:00 +0000\r\nMessage-ID: <{id}>\r\n"
    );
    if !references.is_empty() {
        m.push_str(&format!("References: {references}\r\n"));
    }
    if !in_reply_to.is_empty() {
        m.push_str(&format!("In-Reply-To: {in_reply_to}\r\n"));
    }
    m.push_str("\r\nx\r\n");
    m.into_bytes()
}

/// Items 16 and 9. RFC 5051 section 2 defines `i;unicode-casemap` by a key
/// per string, each character titlecased and the result decomposed, so that
/// "Characters with diacritical marks sort after the base character" and
/// case does not matter; RFC 5256 section 3 makes `i;ascii-casemap` (which
/// upper-cases: `Z` before `[` before `_`) the base comparator of SORT, and
/// `i;unicode-casemap` extends it beyond ASCII. « Élection » sorts among
/// the E, « Réunion équipe » before « Réunion parents ».
#[tokio::test]
async fn sort_subject_uses_unicode_casemap() {
    let f = Fixture::new().await;
    let subjects =
        ["Vie scolaire", "Élection des délégués", "Réunion parents", "Réunion équipe", "_brouillon", "avis", "zéro"];
    for (i, s) in subjects.iter().enumerate() {
        f.deliver(&mail(i as u32, s, &format!("m{i}@x"), "", "")).await;
    }
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(c.cmd("a", "SORT (SUBJECT) UTF-8 ALL").await, "* SORT 6 2 4 3 1 7 5\r\na OK SORT completed\r\n");
    assert_eq!(c.cmd("b", "SORT (REVERSE SUBJECT) UTF-8 ALL").await, "* SORT 5 7 1 3 4 2 6\r\nb OK SORT completed\r\n");
}

/// Item 10. RFC 5256 section 2.2, step 4: "(B) If it is a dummy message
/// with children, delete it, but promote its children to the current level.
/// In other words, splice them in with the dummy's siblings. Do not promote
/// the children if doing so would make them children of the root, unless
/// there is only one child." Step 5: "Gather together messages under the
/// root that have the same base subject text": a dummy holding a subject
/// takes the other threads of that subject; "If the current message is a
/// reply or forward and the message in the subject table is not, make the
/// current message a child of the message in the subject table";
/// "Otherwise, create a new dummy message and make both the current message
/// and the message in the subject table children of the dummy." Section 4
/// shows a dummy parent as `((3)(5))`.
#[tokio::test]
async fn thread_references_keeps_top_dummies_and_gathers_subjects() {
    let f = Fixture::new().await;
    // 2 replies to 1 through a message that is not there: promoted under 1.
    f.deliver(&mail(1, "Projet", "p1@x", "", "")).await;
    f.deliver(&mail(2, "Re: Projet", "p2@x", "<p1@x> <absent@x>", "<absent@x>")).await;
    // 3 and 4 answer a message that is not there: they stay under a dummy.
    f.deliver(&mail(3, "Re: Voyage", "v3@x", "", "<v0@x>")).await;
    f.deliver(&mail(4, "Re: Voyage", "v4@x", "", "<v0@x>")).await;
    // 5, then a reply by subject only.
    f.deliver(&mail(5, "Sortie", "s5@x", "", "")).await;
    f.deliver(&mail(6, "Re: Sortie", "s6@x", "", "")).await;
    // Two messages of one subject, neither a reply: a new dummy.
    f.deliver(&mail(7, "Cantine", "c7@x", "", "")).await;
    f.deliver(&mail(8, "Cantine", "c8@x", "", "")).await;
    // The subject of the dummy of 3 and 4: joins it.
    f.deliver(&mail(9, "Voyage", "v9@x", "", "")).await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(
        c.cmd("t", "THREAD REFERENCES UTF-8 ALL").await,
        "* THREAD (1 2)((3)(4)(9))(5 6)((7)(8))\r\nt OK THREAD completed\r\n"
    );
    // Without 9 and 4, the dummy over 3 alone is promoted away.
    assert_eq!(
        c.cmd("u", "THREAD REFERENCES UTF-8 NOT 4 NOT 9").await,
        "* THREAD (1 2)(3)(5 6)((7)(8))\r\nu OK THREAD completed\r\n"
    );
}
