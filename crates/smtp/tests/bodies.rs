//! Message bodies past the in-memory threshold go through a temporary file and
//! arrive intact; a spent memory budget answers `452 4.3.1` (issue 25, item 15).

mod common;

use std::sync::Arc;

use common::{FakeSink, check_with, config, converse};
use smtp::{BodyBudget, SmtpConfig};

/// A message of `lines` numbered lines (about 40 bytes each), some starting with a dot.
fn big_body(lines: usize) -> String {
    (0..lines)
        .map(|i| format!("{}ligne {i:08} du compte rendu du conseil\r\n", if i % 7 == 0 { "." } else { "" }))
        .collect()
}

fn stuffed(body: &str) -> String {
    body.split_inclusive("\r\n").map(|l| if l.starts_with('.') { format!(".{l}") } else { l.to_owned() }).collect()
}

#[tokio::test]
async fn a_large_data_body_goes_through_a_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let budget = BodyBudget::new(4 << 20);
    let cfg = SmtpConfig { body_budget: budget.clone(), spool_dir: Some(dir.path().to_owned()), ..config() };
    let sink = FakeSink::default();
    let body = big_body(30_000);
    assert!(body.len() > 1 << 20, "well past the in-memory threshold");
    let wire = format!(
        "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nDATA\r\n{}.\r\nQUIT\r\n",
        stuffed(&body)
    );
    let out = String::from_utf8(converse(&cfg, &sink, wire.as_bytes()).await).unwrap();
    assert!(out.contains("250 2.0.0 Ok: queued as "), "{out}");
    let (_, message) = sink.single_message();
    assert!(message.starts_with("Received: ") && message.ends_with(&body), "body changed on the way");
    assert_eq!(budget.used(), 0, "every charge is given back");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "temporary files leave no name behind");
}

#[tokio::test]
async fn bdat_chunks_past_the_threshold_arrive_intact() {
    let sink = FakeSink::default();
    let body = big_body(20_000);
    let (a, b) = body.split_at(body.len() / 3);
    let wire = format!(
        "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nBDAT {}\r\n{a}BDAT {} LAST\r\n{b}QUIT\r\n",
        a.len(),
        b.len()
    );
    let out = String::from_utf8(converse(&config(), &sink, wire.as_bytes()).await).unwrap();
    assert!(out.contains("250 2.0.0 Ok: queued as "), "{out}");
    assert!(sink.single_message().1.ends_with(&body));
}

#[tokio::test]
async fn a_spent_budget_answers_452_and_keeps_the_session() {
    // Nothing at all: DATA itself is refused.
    let sink = FakeSink::default();
    let cfg = SmtpConfig { body_budget: BodyBudget::new(0), ..config() };
    check_with(
        &cfg,
        &sink,
        "S: 220 mx.ac-demo.fr ESMTP Ardoise
         C: EHLO c
         S: <ehlo>
         C: MAIL FROM:<a@example.org>
         S: 250 2.1.0 Ok
         C: RCPT TO:<claire.martin@ac-demo.fr>
         S: 250 2.1.5 Ok
         C: DATA
         S: 452 4.3.1 Ressources insuffisantes, reessayez plus tard / Insufficient system resources, try again later
         C: QUIT
         S: 221 2.0.0 mx.ac-demo.fr Bye",
    )
    .await;
    // A little: the body waits on disk, but the complete message cannot be loaded.
    let budget: Arc<BodyBudget> = BodyBudget::new(2000);
    let cfg = SmtpConfig { body_budget: budget.clone(), body_memory_threshold: 100, ..config() };
    let body = big_body(100);
    let wire = format!(
        "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nDATA\r\n{}.\r\nQUIT\r\n",
        stuffed(&body)
    );
    let out = String::from_utf8(converse(&cfg, &sink, wire.as_bytes()).await).unwrap();
    assert!(out.contains("\r\n452 4.3.1 Ressources insuffisantes"), "{out}");
    assert!(out.ends_with("221 2.0.0 mx.ac-demo.fr Bye\r\n"), "{out}");
    assert!(sink.deliveries().is_empty());
    assert_eq!(budget.used(), 0);
}
