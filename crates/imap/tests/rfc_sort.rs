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
