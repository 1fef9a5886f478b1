//! Sieve runs on messages that crash naive code (issue 20, "Bad input"):
//! a thousand nested parts, broken base64, an endless header, no header at
//! all, binary garbage. Every run ends, bounded, with a decision or a clean
//! failure; the fuzz target `fuzz/fuzz_targets/sieve_run.rs` explores the
//! same entry point with arbitrary bytes.

use std::sync::Arc;

use filter::compile::check;
use filter::run::detached;

const SCRIPT: &str = "require [\"fileinto\", \"body\", \"mime\", \"regex\", \"variables\", \"relational\", \
    \"comparator-i;ascii-numeric\", \"vacation\", \"envelope\", \"date\"];\r\n\
    if header :mime :anychild :contains \"Content-Type\" \"pdf\" { fileinto \"PJ\"; }\r\n\
    if body :text :contains \"facture\" { fileinto \"Factures\"; }\r\n\
    if header :regex \"subject\" \"^(.*)(a+)+b$\" { set \"m\" \"${1}\"; fileinto \"R-${m}\"; }\r\n\
    if date :value \"ge\" \"date\" \"date\" \"2026-01-01\" { vacation :days 1 \"Absente.\"; }\r\n\
    if header :count \"ge\" :comparator \"i;ascii-numeric\" \"received\" \"50\" { discard; }\r\n";

fn nested(depth: usize) -> Vec<u8> {
    let mut m = String::from("From: a@example.org\r\nTo: claire.martin@ac-demo.fr\r\nSubject: imbriqué\r\n");
    for i in 0..depth {
        m.push_str(&format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"));
    }
    m.push_str("Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%facture===\r\n");
    m.into_bytes()
}

fn run(message: &[u8]) -> Result<filter::Decision, String> {
    detached(Arc::new(check(SCRIPT, 64 * 1024).expect("the script compiles")), message)
}

#[test]
fn a_thousand_nested_parts_and_broken_base64_end_in_a_decision() {
    let d = run(&nested(1_000)).expect("a decision");
    assert!(!d.filings.is_empty() && d.filings.len() <= 3 && d.redirects.is_empty(), "{d:?}");
}

#[test]
fn a_regex_built_to_backtrack_and_an_endless_header_are_bounded() {
    let subject = format!("{}c", "a".repeat(5_000));
    let mut m = format!("From: a@example.org\r\nTo: claire.martin@ac-demo.fr\r\nSubject: {subject}\r\n");
    m.push_str(&format!("X-Long: {}\r\n", "x ".repeat(200_000)));
    for i in 0..60 {
        m.push_str(&format!("Received: from h{i}\r\n"));
    }
    m.push_str("\r\nfacture\r\n");
    let d = run(m.as_bytes()).expect("a decision");
    // `discard` cancels only the implicit keep: the explicit fileinto stays.
    let folders: Vec<_> = d.filings.iter().map(|f| f.folder.as_deref()).collect();
    assert_eq!(folders, [Some("Factures")], "sixty Received: fields: no Inbox copy");
}

#[test]
fn garbage_and_empty_messages_get_the_implicit_keep() {
    for message in [&b""[..], b"\0\xff\xfe garbage \r\n\r\n\r\n", b"no header at all"] {
        let d = run(message).expect("a decision");
        assert_eq!(d.filings, vec![filter::Filing::inbox()], "{message:?}");
    }
}
