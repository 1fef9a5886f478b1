//! RFC 2180: two sessions on the same mailbox, one expunging messages the
//! other has not been told about yet. Byte-exact dialogues.

mod common;

use common::Fixture;

const MAIL: &[u8] = b"From: Paul Durand <paul.durand@ac-demo.fr>\r\nTo: claire.martin@ac-demo.fr\r\n\
Subject: Conseil de classe\r\nMessage-ID: <cc1@ac-demo.fr>\r\n\r\nJeudi 18 h.\r\n";

/// Two sessions with INBOX selected, holding `n` messages (UIDs 1..=n).
async fn two_sessions(n: usize) -> (Fixture, common::Client, common::Client) {
    let f = Fixture::new().await;
    for _ in 0..n {
        f.deliver(MAIL).await;
    }
    // A first session takes the messages' \Recent (RFC 3501 section
    // 2.3.2), so that A's and B's answers do not depend on which selects first.
    let mut first = f.connect();
    first.login().await;
    first.cmd("s", "SELECT INBOX").await;
    first.cmd("o", "LOGOUT").await;
    let (mut a, mut b) = (f.connect(), f.connect());
    a.login().await;
    b.login().await;
    a.cmd("s", "SELECT INBOX").await;
    b.cmd("s", "SELECT INBOX").await;
    (f, a, b)
}

#[tokio::test]
async fn fetch_of_a_message_expunged_elsewhere_answers_expungeissued() {
    let (_f, mut a, mut b) = two_sessions(3).await;
    assert_eq!(a.cmd("d", "STORE 2 +FLAGS.SILENT (\\Deleted)").await, "d OK STORE completed\r\n");
    assert_eq!(a.cmd("x", "EXPUNGE").await, "* 2 EXPUNGE\r\nx OK EXPUNGE completed\r\n");

    // B still has message 2 in its view: the others are served, the tagged
    // reply says which one is gone, and no EXPUNGE interrupts a FETCH.
    assert_eq!(
        b.cmd("f", "FETCH 1:3 (UID FLAGS)").await,
        "* 1 FETCH (UID 1 FLAGS ())\r\n* 3 FETCH (UID 3 FLAGS ())\r\n\
         f NO [EXPUNGEISSUED] Some messages were expunged by another session: messages 2\r\n"
    );
    // A body fetch that sets \Seen does so on the others, and says the same.
    assert_eq!(
        b.cmd("g", "FETCH 2:3 (BODY[TEXT])").await,
        "* 3 FETCH (BODY[TEXT] {13}\r\nJeudi 18 h.\r\n FLAGS (\\Seen))\r\n\
         g NO [EXPUNGEISSUED] Some messages were expunged by another session: messages 2\r\n"
    );
    // UID FETCH: the same answer, and the EXPUNGE may come at once.
    assert_eq!(
        b.cmd("u", "UID FETCH 1:3 (FLAGS)").await,
        "* 1 FETCH (UID 1 FLAGS ())\r\n* 3 FETCH (UID 3 FLAGS (\\Seen))\r\n* 2 EXPUNGE\r\n\
         u NO [EXPUNGEISSUED] Some messages were expunged by another session: UIDs 2\r\n"
    );
    assert_eq!(
        b.cmd("h", "FETCH 1:* (UID)").await,
        "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 3)\r\nh OK FETCH completed\r\n"
    );
}

#[tokio::test]
async fn expunge_reports_what_other_sessions_removed_too() {
    let (_f, mut a, mut b) = two_sessions(4).await;
    assert_eq!(a.cmd("d", "STORE 2,4 +FLAGS.SILENT (\\Deleted)").await, "d OK STORE completed\r\n");
    // B removes UID 2 only (UIDPLUS), and hears of A's flags.
    assert_eq!(
        b.cmd("x", "UID EXPUNGE 2").await,
        "* 2 EXPUNGE\r\n* 3 FETCH (UID 4 FLAGS (\\Deleted))\r\nx OK UID EXPUNGE completed\r\n"
    );
    // A's EXPUNGE removes UID 4 itself (message 4 of its view), then reports
    // UID 2, which B removed (message 2): A's view is then UIDs 1 and 3.
    assert_eq!(a.cmd("x", "EXPUNGE").await, "* 4 EXPUNGE\r\n* 2 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
    assert_eq!(
        a.cmd("f", "FETCH 1:* (UID)").await,
        "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 3)\r\nf OK FETCH completed\r\n"
    );
    // Nothing is left to report to either session.
    assert_eq!(a.cmd("n", "NOOP").await, "n OK NOOP completed\r\n");
    assert_eq!(b.cmd("n", "NOOP").await, "* 3 EXPUNGE\r\nn OK NOOP completed\r\n");
    assert_eq!(b.cmd("n", "NOOP").await, "n OK NOOP completed\r\n");

    // Everything B's EXPUNGE would have removed was already removed by A.
    assert_eq!(a.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)").await, "d OK STORE completed\r\n");
    assert_eq!(b.cmd("n", "NOOP").await, "* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\nn OK NOOP completed\r\n");
    assert_eq!(a.cmd("x", "EXPUNGE").await, "* 1 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
    assert_eq!(b.cmd("x", "EXPUNGE").await, "* 1 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
    assert_eq!(b.cmd("f", "FETCH 1:* (UID)").await, "* 1 FETCH (UID 3)\r\nf OK FETCH completed\r\n");
}

#[tokio::test]
async fn store_on_an_expunged_message_still_applies_to_the_rest() {
    let (_f, mut a, mut b) = two_sessions(3).await;
    assert_eq!(a.cmd("d", "STORE 2 +FLAGS.SILENT (\\Deleted)").await, "d OK STORE completed\r\n");
    assert_eq!(a.cmd("x", "EXPUNGE").await, "* 2 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
    assert_eq!(
        b.cmd("s", "STORE 1:3 +FLAGS (\\Flagged)").await,
        "* 1 FETCH (FLAGS (\\Flagged))\r\n* 3 FETCH (FLAGS (\\Flagged))\r\n\
         s NO [EXPUNGEISSUED] Flags stored except on messages 2, expunged by another session\r\n"
    );
    assert_eq!(b.cmd("n", "NOOP").await, "* 2 EXPUNGE\r\nn OK NOOP completed\r\n");
    assert_eq!(
        b.cmd("f", "FETCH 1:* (UID FLAGS)").await,
        "* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n* 2 FETCH (UID 3 FLAGS (\\Flagged))\r\nf OK FETCH completed\r\n"
    );
    // A hears of B's flags.
    assert_eq!(
        a.cmd("n", "NOOP").await,
        "* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n* 2 FETCH (UID 3 FLAGS (\\Flagged))\r\nn OK NOOP completed\r\n"
    );

    // UID STORE: same, and the EXPUNGE comes at once.
    assert_eq!(a.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)").await, "d OK STORE completed\r\n");
    assert_eq!(a.cmd("x", "EXPUNGE").await, "* 1 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
    assert_eq!(
        b.cmd("u", "UID STORE 1,3 -FLAGS (\\Flagged)").await,
        "* 2 FETCH (UID 3 FLAGS ())\r\n* 1 EXPUNGE\r\n\
         u NO [EXPUNGEISSUED] Flags stored except on UIDs 1, expunged by another session\r\n"
    );
    // A silent STORE says it too.
    assert!(a.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)").await.ends_with("d OK STORE completed\r\n"));
    assert_eq!(a.cmd("x", "EXPUNGE").await, "* 1 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
    assert_eq!(
        b.cmd("v", "STORE 1 +FLAGS.SILENT (\\Seen)").await,
        "v NO [EXPUNGEISSUED] Flags stored except on messages 1, expunged by another session\r\n"
    );
}

/// Concurrent +FLAGS from two sessions on the same message: neither undoes
/// the other (each is computed from the flags current in the transaction).
#[tokio::test]
async fn concurrent_flag_additions_are_all_kept() {
    let (_f, a, b) = two_sessions(5).await;
    let (mut a, mut b) = (a, b);
    let one = async {
        for n in 0..10 {
            a.cmd("a", &format!("STORE 1:5 +FLAGS.SILENT ($A{n})")).await;
        }
        a.cmd("d", "STORE 1:5 +FLAGS.SILENT (\\Deleted)").await;
    };
    let two = async {
        for n in 0..10 {
            b.cmd("b", &format!("STORE 1:5 +FLAGS.SILENT ($B{n})")).await;
        }
    };
    tokio::join!(one, two);
    let r = a.cmd("f", "FETCH 1:5 (FLAGS)").await;
    let want: Vec<String> = (0..10).map(|n| format!("$A{n}")).chain((0..10).map(|n| format!("$B{n}"))).collect();
    let want = format!("FLAGS (\\Deleted {})", want.join(" "));
    for n in 1..=5 {
        assert!(r.contains(&format!("* {n} FETCH ({want})\r\n")), "{r}");
    }
    assert_eq!(a.cmd("x", "EXPUNGE").await.matches("* 1 EXPUNGE\r\n").count(), 5);
}

#[tokio::test]
async fn a_message_that_came_and_went_is_announced_then_expunged() {
    // B must hear of every arrival (a client that has just appended waits
    // for its EXISTS), even when A expunged the message in between.
    let (f, mut a, mut b) = two_sessions(2).await;
    f.deliver(MAIL).await;
    // A is the first session told of it: the message is recent there.
    assert_eq!(a.cmd("n", "NOOP").await, "* 3 EXISTS\r\n* 1 RECENT\r\nn OK NOOP completed\r\n");
    assert_eq!(a.cmd("d", "STORE 3 +FLAGS.SILENT (\\Deleted)").await, "d OK STORE completed\r\n");
    assert_eq!(a.cmd("x", "EXPUNGE").await, "* 3 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
    assert_eq!(b.cmd("n", "NOOP").await, "* 3 EXISTS\r\n* 3 EXPUNGE\r\nn OK NOOP completed\r\n");
    // Where expunges may not be reported (FETCH by number), it is not announced.
    f.deliver(MAIL).await;
    // A is the first session told of it: the message is recent there.
    assert_eq!(a.cmd("n", "NOOP").await, "* 3 EXISTS\r\n* 1 RECENT\r\nn OK NOOP completed\r\n");
    assert_eq!(a.cmd("d", "STORE 3 +FLAGS.SILENT (\\Deleted)").await, "d OK STORE completed\r\n");
    assert_eq!(a.cmd("x", "EXPUNGE").await, "* 3 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
    assert_eq!(b.cmd("f", "FETCH 1 (UID)").await, "* 1 FETCH (UID 1)\r\nf OK FETCH completed\r\n");
    assert_eq!(b.cmd("n", "NOOP").await, "n OK NOOP completed\r\n");
}
