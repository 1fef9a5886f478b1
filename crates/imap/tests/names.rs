//! Mailbox names as RFC 9051 spells them (issue 26, item 3).
//!
//! Section 9: `mailbox = "INBOX" / astring`, `astring = 1*ASTRING-CHAR /
//! string`, `ATOM-CHAR = <any CHAR except atom-specials>` and
//! `atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards /
//! quoted-specials / resp-specials`: `~` is not among them, so `~foo` is an
//! atom; only `"~{" number64 ["+"] "}"` starts a literal8. Section 7.1: BAD
//! reports "a protocol-level error in the client's command", NO "an
//! operational error"; section 6.3.2: SELECT answers NO when there is "no
//! such mailbox".

mod common;

use common::Fixture;

#[tokio::test]
async fn select_of_a_tilde_atom_is_no_nonexistent() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    assert_eq!(c.cmd("a", "SELECT ~foo").await, "a NO [NONEXISTENT] No such mailbox\r\n");
    assert_eq!(c.cmd("b", "CREATE ~foo").await.split(' ').nth(1), Some("OK"));
    let selected = c.cmd("c", "SELECT ~foo").await;
    assert!(selected.ends_with("c OK [READ-WRITE] SELECT completed\r\n"), "{selected}");
    assert_eq!(c.cmd("d", "LIST \"\" ~*").await, "* LIST (\\HasNoChildren) \"/\" \"~foo\"\r\nd OK LIST completed\r\n");
}

/// A name that is a well-formed astring but not valid modified UTF-7
/// (RFC 3501 section 5.1.3: `&` starts a base64 run that `-` must end)
/// names no mailbox: the command is refused with NO, not BAD.
#[tokio::test]
async fn invalid_modified_utf7_is_no_not_bad() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    let no = "NO [CANNOT] Invalid mailbox name (bad modified UTF-7 or UTF-8)\r\n";
    for (tag, command) in
        [("a", "SELECT &Jjo"), ("b", "EXAMINE \"&Jjo\""), ("c", "CREATE &Jjo"), ("d", "STATUS &Jjo (MESSAGES)")]
    {
        assert_eq!(c.cmd(tag, command).await, format!("{tag} {no}"));
    }
}
