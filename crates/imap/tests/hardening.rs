//! Regression tests for the hardening issue (25): inputs built to make the
//! server burn CPU or memory, or to panic it, get a prompt answer and leave
//! the session usable.

mod common;

use common::{Fixture, PASSWORD};

/// Item 12: a LIST pattern that makes a backtracking matcher explode
/// (`*a*a…*ab` against a name of 48 `a`) answered after seconds to minutes
/// and froze the worker threads. It must answer at once (the client gives up
/// after 10 s).
#[tokio::test]
async fn list_patterns_built_to_backtrack_answer_at_once() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    let name = "a".repeat(48);
    let r = c.cmd("c", &format!("CREATE {name}")).await;
    assert!(r.starts_with("c OK"), "{r}");
    let hostile = "*a".repeat(9) + "*ab";
    assert_eq!(c.cmd("l", &format!("LIST \"\" \"{hostile}\"")).await, "l OK LIST completed\r\n");
    let r = c.cmd("m", &format!("LIST \"\" \"{}\"", "*a".repeat(10))).await;
    assert_eq!(r, format!("* LIST (\\HasNoChildren) \"/\" \"{name}\"\r\nm OK LIST completed\r\n"));
}

/// Item 15: before login a literal of more than a few KiB is refused without
/// a continuation (a 60 MiB LOGIN literal used to be read into memory); once
/// logged in, APPEND still takes a large one.
#[tokio::test]
async fn large_literals_wait_for_login_and_for_append() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.greeting().await;
    c.send(b"a LOGIN {62914560}\r\n").await;
    let r = c.read_until("a ").await;
    assert!(r.starts_with("a BAD [TOOBIG]"), "{r}");
    let r = c.cmd("b", &format!("LOGIN claire.martin@ac-demo.fr {PASSWORD}")).await;
    assert!(r.starts_with("b OK"), "{r}");
    c.send(b"s SEARCH TEXT {50000}\r\n").await;
    let r = c.read_until("s ").await;
    assert!(r.starts_with("s BAD [TOOBIG]"), "{r}");
    let body = format!("From: a@ac-demo.fr\r\nSubject: gros\r\n\r\n{}\r\n", "x".repeat(50_000));
    c.send(format!("d APPEND INBOX {{{}}}\r\n", body.len()).as_bytes()).await;
    assert_eq!(c.read_until("+ ").await, "+ Ready for literal data\r\n");
    c.send(body.as_bytes()).await;
    c.send(b"\r\n").await;
    let r = c.read_until("d ").await;
    assert!(r.starts_with("d OK [APPENDUID"), "{r}");
}

/// Item 17: a date-time whose zone holds a multi-byte character panicked the
/// connection's task. It is a plain refusal, and the session goes on.
#[tokio::test]
async fn a_malformed_append_date_is_refused_not_a_panic() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    let r = c.cmd("a", "APPEND INBOX \"17-Jul-1996 02:44:25 é000\" {5+}\r\nHello").await;
    assert!(r.starts_with("a BAD") || r.starts_with("a NO"), "{r}");
    assert_eq!(c.cmd("b", "NOOP").await, "b OK NOOP completed\r\n");
}
