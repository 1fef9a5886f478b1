//! Corners of the IMAP RFCs an independent compliance suite and real clients
//! found (issue 26, items 14, 2, 5, 6 and 8): each test quotes the sentence
//! of the RFC it checks.

mod common;

use common::Fixture;

/// Item 14. RFC 9051 section 6.3.9: "The reference and mailbox name
/// arguments are interpreted into a canonical form that represents an
/// unambiguous left-to-right hierarchy", with the example reference `#news.`
/// and name `comp.mail.*` interpreted as `#news.comp.mail.*`: the two are
/// concatenated, no delimiter is inserted, so `LIST "__imapclient" "*"`
/// lists `__imapclient` itself and its children (as Dovecot answers, and
/// imapclient's live test suite expects at its first set-up).
#[tokio::test]
async fn list_concatenates_reference_and_pattern() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    for (tag, name) in [("a", "__imapclient"), ("b", "__imapclient/sub"), ("c", "Archives/2025")] {
        assert!(c.cmd(tag, &format!("CREATE {name}")).await.starts_with(&format!("{tag} OK ")));
    }
    assert_eq!(
        c.cmd("l", "LIST \"__imapclient\" \"*\"").await,
        "* LIST (\\HasChildren) \"/\" \"__imapclient\"\r\n\
         * LIST (\\HasNoChildren) \"/\" \"__imapclient/sub\"\r\n\
         l OK LIST completed\r\n"
    );
    assert_eq!(
        c.cmd("m", "LIST \"Archives/\" \"%\"").await,
        "* LIST (\\HasNoChildren) \"/\" \"Archives/2025\"\r\nm OK LIST completed\r\n"
    );
    // No delimiter is inserted: `Archives` and `%` is `Archives%`.
    assert_eq!(
        c.cmd("n", "LIST \"Archives\" \"%\"").await,
        "* LIST (\\HasChildren \\Archive) \"/\" \"Archives\"\r\nn OK LIST completed\r\n"
    );
    assert_eq!(c.cmd("o", "LIST \"Archives\" \"\"").await, "* LIST (\\Noselect) \"/\" \"\"\r\no OK LIST completed\r\n");
}
