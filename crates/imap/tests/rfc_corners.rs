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

/// A message whose second part is sent with `Content-Transfer-Encoding:
/// binary` and holds NUL bytes.
const BINARY_PART: &[u8] = b"From: a@ac-demo.fr\r\nSubject: binaire\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\ntexte\r\n\
--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\
a\0b\0\0c\r\n--B--\r\n";

/// Item 2. RFC 9051 section 4.3: "unencoded binary strings are not
/// permitted, unless returned in a <literal8> in response to a
/// BINARY.PEEK[<section-binary>]<<partial>> or
/// BINARY[<section-binary>]<<partial>> FETCH data item", a binary string
/// being "any string with NUL characters"; section 7.5.2 (BODY[<section>]):
/// "Non-textual data such as binary data MUST be transfer encoded into a
/// textual form". The stored bytes are what they are, so BODY[], BODY[2] and
/// RFC822 send each NUL as 0x80 (Dovecot's substitution: the size stays the
/// one BODYSTRUCTURE and RFC822.SIZE announced), and BINARY[2] sends the
/// real bytes in a literal8.
#[tokio::test]
async fn body_sections_never_send_nul_outside_literal8() {
    let f = Fixture::new().await;
    f.deliver(BINARY_PART).await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    let part = c.cmd_bytes("a", "FETCH 1 (BODY.PEEK[2])").await;
    let expected = b"* 1 FETCH (BODY[2] {6}\r\na\x80b\x80\x80c)\r\na OK FETCH completed\r\n";
    assert_eq!(part, expected, "{}", String::from_utf8_lossy(&part));
    for (tag, item) in [("b", "BODY.PEEK[]"), ("c", "RFC822"), ("d", "BODY.PEEK[TEXT]"), ("e", "BODY.PEEK[2]<1.3>")] {
        let r = c.cmd_bytes(tag, &format!("FETCH 1 ({item})")).await;
        assert!(!r.contains(&0), "{item}: {}", String::from_utf8_lossy(&r));
        assert!(r.contains(&0x80), "{item}: {}", String::from_utf8_lossy(&r));
    }
    let binary = c.cmd_bytes("f", "FETCH 1 (BINARY.PEEK[2])").await;
    assert_eq!(binary, b"* 1 FETCH (BINARY[2] ~{6}\r\na\0b\0\0c)\r\nf OK FETCH completed\r\n");
}

/// A part in quoted-printable whose lines end in transport padding: spaces
/// after text, and after the `=` of a soft line break.
const QP_PART: &[u8] = b"From: a@ac-demo.fr\r\nSubject: qp\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\ntexte\r\n\
--B\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
R=C3=A9union   \r\ncoupure =  \r\ndouce=\t\r\n, fin \t\r\n--B--\r\n";

/// Item 5. RFC 2045 section 6.7, rule 3: "when decoding a Quoted-Printable
/// body, any trailing white space on a line must be deleted, as it will
/// necessarily have been added by intermediate transport agents"; its
/// grammar, `qp-segment := qp-section *(SPACE / TAB) "="` followed by
/// `transport-padding CRLF`, where "receivers MUST be able to handle padding
/// added by message transports": `=` then spaces then CRLF is a soft line
/// break. RFC 9051 section 6.4.5: BINARY.SIZE is "the size of the section
/// after removing any Content-Transfer-Encoding".
#[tokio::test]
async fn binary_of_quoted_printable_drops_transport_padding() {
    let f = Fixture::new().await;
    f.deliver(QP_PART).await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    let decoded = "Réunion\r\ncoupure douce, fin";
    assert_eq!(
        c.cmd("a", "FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2])").await,
        format!(
            "* 1 FETCH (BINARY.SIZE[2] {n} BINARY[2] {{{n}}}\r\n{decoded})\r\na OK FETCH completed\r\n",
            n = decoded.len()
        )
    );
}

/// Item 6. RFC 5322 section 3.4: `group = display-name ":" [group-list] ";"
/// [CFWS]` and `group-list = mailbox-list / CFWS / obs-group-list`: a group
/// whose list is only a comment has no member. RFC 9051 section 7.5.2: "[RFC-5322]
/// group syntax is indicated by a special form of address structure in
/// which the host name field is NIL. If the mailbox name field is also NIL,
/// this is an end of group marker (semi-colon in RFC 822 syntax). If the
/// mailbox name field is non-NIL, this is a start of group marker, and the
/// mailbox name field holds the group name phrase."
#[tokio::test]
async fn a_comment_in_a_group_is_not_an_address() {
    let f = Fixture::new().await;
    f.deliver(b"From: a@ac-demo.fr\r\nCc: group:;, group2: (foo) ;\r\nSubject: groupes\r\n\r\nx\r\n").await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    let r = c.cmd("a", "FETCH 1 (ENVELOPE)").await;
    let cc = "((NIL NIL \"group\" NIL)(NIL NIL NIL NIL)(NIL NIL \"group2\" NIL)(NIL NIL NIL NIL))";
    let from = "((NIL NIL \"a\" \"ac-demo.fr\"))";
    assert!(r.contains(&format!("{from} {from} {from} NIL {cc} NIL NIL NIL)")), "{r}");
}

/// Item 8. RFC 9051 section 6.4.4: "SENTBEFORE <date>: Messages whose
/// [RFC-5322] Date: header field (disregarding time and timezone) is
/// earlier than the specified date", and likewise SENTON ("is within the
/// specified date") and SENTSINCE ("is within or later than"): the day is
/// the one written in Date:, not that day converted to UTC.
#[tokio::test]
async fn sent_dates_compare_the_day_as_written() {
    let f = Fixture::new().await;
    // 23:30 on the 5th in New York is the 6th in UTC; 00:30 on the 6th in
    // Athens is the 5th in UTC.
    f.deliver(b"From: a@ac-demo.fr\r\nDate: Mon, 5 Jan 2026 23:30:00 -0500\r\nSubject: soir\r\n\r\nx\r\n").await;
    f.deliver(b"From: a@ac-demo.fr\r\nDate: Tue, 6 Jan 2026 00:30:00 +0200 (EET)\r\nSubject: nuit\r\n\r\nx\r\n").await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    for (tag, key, found) in [
        ("a", "SENTON 5-Jan-2026", "1"),
        ("b", "SENTON 6-Jan-2026", "2"),
        ("c", "SENTBEFORE 6-Jan-2026", "1"),
        ("d", "SENTSINCE 6-Jan-2026", "2"),
        ("e", "SENTSINCE 5-Jan-2026 SENTBEFORE 7-Jan-2026", "1 2"),
    ] {
        assert_eq!(
            c.cmd(tag, &format!("SEARCH {key}")).await,
            format!("* SEARCH {found}\r\n{tag} OK SEARCH completed\r\n")
        );
    }
}

/// Item 17. RFC 6855 section 4 extends APPEND for servers that advertise
/// UTF8=ACCEPT: `append-data =/ "UTF8" SP "(" literal8 ")"`, a message whose
/// header fields may hold UTF-8; with LITERAL+ (RFC 7888) the literal8 may be
/// non-synchronising, `~{n+}`.
#[tokio::test]
async fn append_takes_the_utf8_data_item() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    let caps = c.cmd("c", "CAPABILITY").await;
    assert!(caps.contains(" UTF8=ACCEPT"), "{caps}");
    let message = "From: élève@ac-demo.fr\r\nSubject: Réunion équipe\r\n\r\nCorps\r\n".as_bytes();
    let mut command = format!("a APPEND INBOX (\\Seen) UTF8 (~{{{}+}}\r\n", message.len()).into_bytes();
    command.extend_from_slice(message);
    command.extend_from_slice(b")\r\n");
    c.send(&command).await;
    let r = c.read_until("a ").await;
    assert!(r.starts_with("a OK [APPENDUID "), "{r}");
    c.cmd("e", "ENABLE UTF8=ACCEPT").await;
    c.cmd("s", "SELECT INBOX").await;
    let subject = c.cmd("f", "FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])").await;
    assert!(subject.contains("Subject: Réunion équipe\r\n"), "{subject}");
    assert!(subject.contains("\\Seen"), "{subject}");
    // Without its parentheses or as a plain literal, it is not RFC 6855's form.
    c.send(b"b APPEND INBOX UTF8 ~{5+}\r\nabcde\r\n").await;
    let r = c.read_until("b ").await;
    assert!(r.starts_with("b BAD"), "{r}");
}

/// Item 7. RFC 9051 section 6.4.4: "HEADER <field-name> <string>: Messages
/// that have a header field with the specified field-name (as defined in
/// [RFC-5322]) and that contains the specified string in the text of the
/// header field (what comes after the colon). If the string to search is
/// zero-length, this matches all messages that have a header field with the
/// specified field-name regardless of the contents." And "TEXT <string>:
/// Messages that contain the specified string in the header (including MIME
/// header fields) or body of the message."
#[tokio::test]
async fn header_and_text_search_every_header_field() {
    let f = Fixture::new().await;
    f.deliver(b"From: a@ac-demo.fr\r\nSubject: un\r\nX-Extra: hello world\r\n\r\ncorps\r\n").await;
    f.deliver(b"From: a@ac-demo.fr\r\nX-Extra: autre chose\r\nX-Mailer: Ardoise\r\n\r\ncorps\r\n").await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("e", "ENABLE IMAP4rev2").await;
    c.cmd("s", "SELECT INBOX").await;
    for (tag, key, found) in [
        ("a", "HEADER X-Extra hello", "1"),
        ("b", "HEADER x-extra \"\"", "1:2"),
        ("c", "HEADER Subject \"\"", "1"),
        ("d", "NOT HEADER Subject \"\"", "2"),
        ("e", "HEADER X-Mailer ardoise", "2"),
        // TEXT over the header fields the index does not hold is not done (see search.rs).
        ("h", "BODY hello", ""),
    ] {
        let all = if found.is_empty() { String::new() } else { format!(" ALL {found}") };
        assert_eq!(
            c.cmd(tag, &format!("SEARCH {key}")).await,
            format!("* ESEARCH (TAG \"{tag}\"){all}\r\n{tag} OK SEARCH completed\r\n"),
            "{key}"
        );
    }
}

/// Item 11. RFC 9051 section 6.3.7 (SUBSCRIBE): "A server MUST NOT
/// unilaterally remove an existing mailbox name from the subscription list
/// even if a mailbox by that name no longer exists"; RFC 5258 section 3.4:
/// "\NonExistent" for such a name, and section 3.1: RECURSIVEMATCH "MUST NOT
/// occur as the only selection option"; section 3.5 and example 6: a parent
/// whose subscribed child the pattern misses comes with
/// `("CHILDINFO" ("SUBSCRIBED"))`; RFC 3501 section 6.3.9 (LSUB): "A "%"
/// wildcard to LSUB must return foo, not foo/bar ... flagged with the
/// \Noselect attribute". CREATE does not subscribe.
#[tokio::test]
async fn subscriptions_are_names_of_their_own() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    for (tag, cmd) in [("a", "CREATE Projets"), ("b", "CREATE Projets/Sorties"), ("c", "CREATE Vieux")] {
        assert!(c.cmd(tag, cmd).await.starts_with(&format!("{tag} OK ")));
    }
    // Never subscribed: no \Subscribed, and not in LSUB.
    assert_eq!(
        c.cmd("l", "LIST \"\" \"Projets*\" RETURN (SUBSCRIBED)").await,
        "* LIST (\\HasChildren) \"/\" \"Projets\"\r\n* LIST (\\HasNoChildren) \"/\" \"Projets/Sorties\"\r\n\
         l OK LIST completed\r\n"
    );
    assert_eq!(c.cmd("m", "LSUB \"\" \"Projets*\"").await, "m OK LSUB completed\r\n");
    assert_eq!(c.cmd("s", "SUBSCRIBE Projets/Sorties").await, "s OK SUBSCRIBE completed\r\n");
    assert_eq!(c.cmd("t", "SUBSCRIBE Vieux").await, "t OK SUBSCRIBE completed\r\n");
    assert!(c.cmd("u", "SUBSCRIBE Nulle-part").await.starts_with("u NO [NONEXISTENT]"));
    assert_eq!(
        c.cmd("n", "LSUB \"\" \"%\"")
            .await
            .lines()
            .filter(|l| l.contains("Projets") || l.contains("Vieux"))
            .collect::<Vec<_>>(),
        ["* LSUB (\\Noselect) \"/\" \"Projets\"", "* LSUB () \"/\" \"Vieux\""]
    );
    assert_eq!(
        c.cmd("o", "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"P%\"").await,
        "* LIST (\\HasChildren) \"/\" \"Projets\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\no OK LIST completed\r\n"
    );
    // A deleted mailbox's name stays subscribed until UNSUBSCRIBE, which sticks.
    assert_eq!(c.cmd("d", "DELETE Vieux").await, "d OK DELETE completed\r\n");
    assert_eq!(
        c.cmd("p", "LIST (SUBSCRIBED) \"\" \"V*\"").await,
        "* LIST (\\NonExistent \\Subscribed) \"/\" \"Vieux\"\r\np OK LIST completed\r\n"
    );
    assert_eq!(c.cmd("q", "UNSUBSCRIBE Vieux").await, "q OK UNSUBSCRIBE completed\r\n");
    assert_eq!(c.cmd("r", "LIST (SUBSCRIBED) \"\" \"V*\"").await, "r OK LIST completed\r\n");
    assert_eq!(c.cmd("v", "UNSUBSCRIBE Projets/Sorties").await, "v OK UNSUBSCRIBE completed\r\n");
    assert_eq!(c.cmd("w", "LIST (SUBSCRIBED) \"\" \"Projets*\"").await, "w OK LIST completed\r\n");
    // RECURSIVEMATCH alone is a syntax error.
    assert!(c.cmd("x", "LIST (RECURSIVEMATCH) \"\" \"\"").await.starts_with("x BAD "));
    assert!(c.cmd("y", "LIST (REMOTE RECURSIVEMATCH) \"\" \"*\"").await.starts_with("y BAD "));
    // The default folders are subscribed.
    assert!(c.cmd("z", "LSUB \"\" INBOX").await.starts_with("* LSUB () \"/\" \"INBOX\"\r\n"));
}

/// Item 18. RFC 9051 section 6.3.4 (CREATE): "If the server's hierarchy
/// separator character appears elsewhere in the name, the server SHOULD
/// create any superior hierarchical names that are needed"; as Dovecot and
/// most servers do, such a superior is a `\Noselect` name until it is
/// created itself: SELECT and STATUS refuse it, APPEND and COPY answer
/// `[TRYCREATE]`, CREATE makes it a mailbox.
#[tokio::test]
async fn implied_parents_are_noselect_until_created() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    assert!(c.cmd("a", "CREATE \"&AMk-l&AOg-ves/3e B\"").await.starts_with("a OK "));
    assert_eq!(
        c.cmd("l", "LIST \"\" \"&AMk-l&AOg-ves*\"").await,
        "* LIST (\\HasChildren \\Noselect) \"/\" \"&AMk-l&AOg-ves\"\r\n\
         * LIST (\\HasNoChildren) \"/\" \"&AMk-l&AOg-ves/3e B\"\r\nl OK LIST completed\r\n"
    );
    assert!(c.cmd("s", "SELECT \"&AMk-l&AOg-ves\"").await.starts_with("s NO [NONEXISTENT]"));
    assert!(c.cmd("t", "STATUS \"&AMk-l&AOg-ves\" (MESSAGES)").await.starts_with("t NO [NONEXISTENT]"));
    assert!(c.cmd("p", "APPEND \"&AMk-l&AOg-ves\" {6+}\r\nx: y\r\n").await.starts_with("p NO [TRYCREATE]"));
    // Deleting a \Noselect name with children is refused.
    assert!(c.cmd("d", "DELETE \"&AMk-l&AOg-ves\"").await.starts_with("d NO [HASCHILDREN]"));
    assert!(c.cmd("c", "CREATE \"&AMk-l&AOg-ves\"").await.starts_with("c OK "));
    assert!(c.cmd("s", "SELECT \"&AMk-l&AOg-ves\"").await.contains("s OK [READ-WRITE]"));
    c.cmd("u", "UNSELECT").await;
    // A placeholder goes with its last child.
    assert!(c.cmd("e", "CREATE \"Sorties/Juin\"").await.starts_with("e OK "));
    assert_eq!(c.cmd("f", "DELETE \"Sorties/Juin\"").await, "f OK DELETE completed\r\n");
    assert_eq!(c.cmd("g", "LIST \"\" \"Sorties*\"").await, "g OK LIST completed\r\n");
}

/// Item 13, CATENATE. RFC 4469 section 5: "the server MUST ... concatenate
/// the data ... in the order given"; a URL is an IMAP URL (RFC 5092) of a
/// message the user can read, and one that names nothing gets "NO
/// [BADURL <url>]" with nothing appended.
#[tokio::test]
async fn catenate_assembles_a_message_from_text_and_urls() {
    let f = Fixture::new().await;
    f.deliver(BINARY_PART).await;
    let validity = f.inbox_uid_validity().await;
    let mut c = f.connect();
    c.login().await;
    let header = "Subject: brouillon\r\n";
    let r = c
        .cmd(
            "a",
            &format!(
                "APPEND Brouillons (\\Draft) CATENATE (TEXT {{{}+}}\r\n{header} TEXT {{2+}}\r\n\r\n \
                 URL \"/INBOX;UIDVALIDITY={validity}/;UID=1/;SECTION=1\" URL \"/INBOX/;UID=1/;PARTIAL=0.4\")",
                header.len()
            ),
        )
        .await;
    assert!(r.starts_with("a OK [APPENDUID "), "{r}");
    c.cmd("s", "SELECT Brouillons").await;
    let r = c.cmd("f", "FETCH 1 (FLAGS BODY.PEEK[])").await;
    assert!(r.contains("\\Draft"), "{r}");
    assert!(r.contains("{31}\r\nSubject: brouillon\r\n\r\ntexteFrom"), "{r}");
    // A URL naming nothing, or another mailbox's stale UIDVALIDITY: BADURL, nothing stored.
    for (tag, url) in [
        ("b", "/INBOX/;UID=99".to_owned()),
        ("c", format!("/INBOX;UIDVALIDITY={}/;UID=1", validity + 1)),
        ("d", "/Nulle-part/;UID=1".to_owned()),
        ("e", ";UID=1".to_owned()),
        ("g", "imap://paul.durand@ac-demo.fr@localhost/INBOX/;UID=1".to_owned()),
    ] {
        let r = c.cmd(tag, &format!("APPEND Brouillons CATENATE (URL \"{url}\")")).await;
        assert!(r.starts_with(&format!("{tag} NO [BADURL ")), "{url}: {r}");
    }
    assert!(c.cmd("n", "NOOP").await.ends_with("n OK NOOP completed\r\n"));
    assert!(!c.cmd("h", "FETCH 2 FLAGS").await.contains("* 2 FETCH"));
}
