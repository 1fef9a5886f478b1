//! Byte-exact transcripts of QUOTA, ACL, SORT, THREAD and ESEARCH.

mod common;

use common::Fixture;

fn mail(from: &str, subject: &str, date: &str, id: &str, reply_to: Option<&str>, body: &str) -> Vec<u8> {
    let mut m = format!(
        "From: {from}\r\nTo: claire.martin@ac-demo.fr\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\n"
    );
    if let Some(parent) = reply_to {
        m.push_str(&format!("In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"));
    }
    m.push_str(&format!("\r\n{body}\r\n"));
    m.into_bytes()
}

#[tokio::test]
async fn quota_follows_deliveries() {
    let f = Fixture::new().await;
    f.store.set_quota(f.claire.id, Some(10 * 1024 * 1024)).await.unwrap();
    let mut c = f.connect();
    c.login().await;
    assert_eq!(
        c.cmd("a", "GETQUOTAROOT INBOX").await,
        "* QUOTAROOT \"INBOX\" \"\"\r\n* QUOTA \"\" (STORAGE 0 10240)\r\na OK GETQUOTAROOT completed\r\n"
    );
    f.deliver(&mail("p@ac-demo.fr", "Un", "Mon, 1 Sep 2026 08:00:00 +0000", "1@x", None, &"x".repeat(3000))).await;
    assert_eq!(c.cmd("b", "GETQUOTA \"\"").await, "* QUOTA \"\" (STORAGE 4 10240)\r\nb OK GETQUOTA completed\r\n");
    assert_eq!(
        c.cmd("c", "GETQUOTA \"autre\"").await,
        "c NO [NONEXISTENT] No such quota root (the only one is \"\")\r\n"
    );
    assert!(c.cmd("d", "SETQUOTA \"\" (STORAGE 1)").await.starts_with("d NO [NOPERM]"));
    assert_eq!(c.cmd("e", "MYRIGHTS INBOX").await, "* MYRIGHTS \"INBOX\" lrswipkxtea\r\ne OK MYRIGHTS completed\r\n");
    assert_eq!(
        c.cmd("g", "GETACL INBOX").await,
        "* ACL \"INBOX\" claire.martin@ac-demo.fr lrswipkxtea\r\ng OK GETACL completed\r\n"
    );
    assert_eq!(c.cmd("h", "MYRIGHTS Nulle-part").await, "h NO [NONEXISTENT] No such mailbox\r\n");
    let special = c.cmd("l", "LIST (SPECIAL-USE) \"\" \"*\"").await;
    assert!(special.contains("\\Sent") && !special.contains("\"INBOX\""), "{special}");
    assert_eq!(
        c.cmd("i", "NAMESPACE").await,
        "* NAMESPACE ((\"\" \"/\")) ((\"Partages/\" \"/\")) NIL\r\ni OK NAMESPACE completed\r\n"
    );
}

#[tokio::test]
async fn sort_and_thread() {
    let f = Fixture::new().await;
    // 1: root, 2: other topic, 3: reply to 1, 4: reply to 3, 5: second reply to 1.
    f.deliver(&mail("Zoe <zoe@ac-demo.fr>", "Conseil", "Tue, 1 Sep 2026 08:00:00 +0000", "a@x", None, "a")).await;
    f.deliver(&mail("Anne <anne@ac-demo.fr>", "Cantine", "Mon, 31 Aug 2026 08:00:00 +0000", "b@x", None, "bb")).await;
    f.deliver(&mail("bob@ac-demo.fr", "Re: Conseil", "Wed, 2 Sep 2026 08:00:00 +0000", "c@x", Some("a@x"), "c")).await;
    f.deliver(&mail(
        "Yves <yves@ac-demo.fr>",
        "RE: Re: conseil",
        "Thu, 3 Sep 2026 08:00:00 +0000",
        "d@x",
        Some("c@x"),
        "d",
    ))
    .await;
    f.deliver(&mail(
        "Carl <carl@ac-demo.fr>",
        "Fwd: Conseil",
        "Fri, 4 Sep 2026 08:00:00 +0000",
        "e@x",
        Some("a@x"),
        "e",
    ))
    .await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(c.cmd("a", "SORT (DATE) UTF-8 ALL").await, "* SORT 2 1 3 4 5\r\na OK SORT completed\r\n");
    assert_eq!(c.cmd("b", "SORT (REVERSE DATE) UTF-8 ALL").await, "* SORT 5 4 3 1 2\r\nb OK SORT completed\r\n");
    // ESORT (RFC 5267 section 3.1): MIN and MAX are the first and last in
    // the sort order, ALL keeps that order; SAVE keeps the set for `$`.
    assert_eq!(
        c.cmd("b1", "SORT RETURN (MIN MAX COUNT ALL) (REVERSE DATE) UTF-8 ALL").await,
        "* ESEARCH (TAG \"b1\") MIN 5 MAX 2 COUNT 5 ALL 5,4,3,1:2\r\nb1 OK SORT completed\r\n"
    );
    assert_eq!(
        c.cmd("b2", "UID SORT RETURN () (DATE) UTF-8 ALL").await,
        "* ESEARCH (TAG \"b2\") UID ALL 2,1,3:5\r\nb2 OK UID SORT completed\r\n"
    );
    assert_eq!(c.cmd("b3", "SORT RETURN (SAVE) (DATE) UTF-8 NOT FROM anne").await, "b3 OK SORT completed\r\n");
    assert!(c.cmd("b4", "SEARCH $").await.starts_with("* SEARCH 1 3 4 5\r\n"));
    // CONTEXT=SORT (RFC 5267 section 4.4): PARTIAL takes a window of the sorted results.
    assert_eq!(
        c.cmd("b5", "SORT RETURN (PARTIAL 1:2) (DATE) UTF-8 ALL").await,
        "* ESEARCH (TAG \"b5\") PARTIAL (1:2 2,1)\r\nb5 OK SORT completed\r\n"
    );
    assert_eq!(c.cmd("c", "SORT (SUBJECT DATE) UTF-8 ALL").await, "* SORT 2 1 3 4 5\r\nc OK SORT completed\r\n");
    assert_eq!(c.cmd("d", "SORT (FROM) UTF-8 ALL").await, "* SORT 2 3 5 4 1\r\nd OK SORT completed\r\n");
    assert_eq!(c.cmd("e", "SORT (DISPLAYFROM) UTF-8 ALL").await, "* SORT 2 3 5 4 1\r\ne OK SORT completed\r\n");
    assert_eq!(
        c.cmd("g", "SORT (SIZE ARRIVAL) UTF-8 NOT FROM anne").await,
        "* SORT 1 3 5 4\r\ng OK SORT completed\r\n"
    );
    assert_eq!(
        c.cmd("h", "UID SORT (REVERSE DATE) UTF-8 TEXT conseil").await,
        "* SORT 5 4 3 1\r\nh OK UID SORT completed\r\n"
    );
    assert_eq!(
        c.cmd("i", "THREAD ORDEREDSUBJECT UTF-8 ALL").await,
        "* THREAD (2)(1 (3)(4)(5))\r\ni OK THREAD completed\r\n"
    );
    assert_eq!(
        c.cmd("j", "THREAD REFERENCES UTF-8 ALL").await,
        "* THREAD (2)(1 (3 4)(5))\r\nj OK THREAD completed\r\n"
    );
    assert_eq!(
        c.cmd("k", "UID THREAD REFERENCES UTF-8 NOT UID 1").await,
        // 1 is not among the results: 3 and 5 stay under a dummy at the top
        // level (RFC 5256 section 2.2, step 4 (B): "Do not promote the
        // children if doing so would make them children of the root, unless
        // there is only one child").
        "* THREAD (2)((3 4)(5))\r\nk OK UID THREAD completed\r\n"
    );
    // OBJECTID: copies share EMAILID, a reply shares its thread's THREADID.
    let ids = c.cmd("oid", "FETCH 1,3 (EMAILID THREADID)").await;
    let thread: Vec<&str> = ids.lines().filter_map(|l| l.split("THREADID (").nth(1)).collect();
    assert_eq!(thread.len(), 2, "{ids}");
    assert_eq!(thread[0], thread[1], "{ids}");
    let email = ids.lines().next().unwrap().split("EMAILID (").nth(1).unwrap().split(')').next().unwrap().to_owned();
    assert_eq!(c.cmd("oe", &format!("SEARCH EMAILID {email}")).await, "* SEARCH 1\r\noe OK SEARCH completed\r\n");
    // Saved now, whatever the internal date says (1 Jan 2026 here).
    assert!(c.cmd("sd", "FETCH 2 (SAVEDATE)").await.starts_with("* 2 FETCH (SAVEDATE \""));
    assert_eq!(c.cmd("sb", "SEARCH SAVEDBEFORE 1-Jan-2026").await, "* SEARCH\r\nsb OK SEARCH completed\r\n");
    assert_eq!(
        c.cmd("ss", "SEARCH SAVEDSINCE 1-Jan-2026 BEFORE 2-Jan-2026").await,
        "* SEARCH 1 2 3 4 5\r\nss OK SEARCH completed\r\n"
    );
    // SEARCHRES: save, then use `$` as a set and as a search key.
    assert_eq!(
        c.cmd("sv", "UID SEARCH RETURN (SAVE) TEXT conseil").await,
        "sv OK UID SEARCH completed, result saved\r\n"
    );
    assert_eq!(
        c.cmd("sf", "FETCH $ (UID)").await,
        "* 1 FETCH (UID 1)\r\n* 3 FETCH (UID 3)\r\n* 4 FETCH (UID 4)\r\n* 5 FETCH (UID 5)\r\nsf OK FETCH completed\r\n"
    );
    assert_eq!(c.cmd("sn", "SEARCH NOT $").await, "* SEARCH 2\r\nsn OK SEARCH completed\r\n");
    assert_eq!(
        c.cmd("sm", "SEARCH RETURN (SAVE MIN) FROM anne").await,
        "* ESEARCH (TAG \"sm\") MIN 2\r\nsm OK SEARCH completed\r\n"
    );
    assert_eq!(c.cmd("su", "UID SEARCH $").await, "* SEARCH 2\r\nsu OK UID SEARCH completed\r\n");
    assert_eq!(c.cmd("m", "SORT (BOGUS) UTF-8 ALL").await, "m BAD Unknown sort criterion BOGUS\r\n");
    assert!(c.cmd("n", "SORT (DATE) KOI8-R ALL").await.starts_with("n BAD [BADCHARSET"));
    assert_eq!(
        c.cmd("o", "SEARCH RETURN (MIN MAX COUNT ALL) TEXT conseil").await,
        "* ESEARCH (TAG \"o\") MIN 1 MAX 5 COUNT 4 ALL 1,3:5\r\no OK SEARCH completed\r\n"
    );
    assert_eq!(
        c.cmd("p", "SEARCH RETURN () TEXT introuvable").await,
        "* ESEARCH (TAG \"p\")\r\np OK SEARCH completed\r\n"
    );
}

/// The HIGHESTMODSEQ a SELECT reported.
fn highest_modseq(select: &str) -> u64 {
    let at = select.find("[HIGHESTMODSEQ ").unwrap() + "[HIGHESTMODSEQ ".len();
    select[at..].split(']').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn qresync_reports_vanished_and_changed_flags() {
    let f = Fixture::new().await;
    for i in 1..=3 {
        f.deliver(&mail(
            "p@ac-demo.fr",
            &format!("M{i}"),
            "Mon, 1 Sep 2026 08:00:00 +0000",
            &format!("{i}@x"),
            None,
            "x",
        ))
        .await;
    }
    let v = f.inbox_uid_validity().await;
    let mut b = f.connect();
    b.login().await;
    let known = highest_modseq(&b.cmd("s", "SELECT INBOX").await);
    b.cmd("u", "UNSELECT").await;
    let mut a = f.connect();
    a.login().await;
    a.cmd("s", "SELECT INBOX").await;
    a.cmd("f", "STORE 2 +FLAGS.SILENT (\\Flagged)").await;
    a.cmd("d", "STORE 3 +FLAGS.SILENT (\\Deleted)").await;
    a.cmd("x", "EXPUNGE").await;
    assert_eq!(b.cmd("s0", &format!("SELECT INBOX (QRESYNC ({v} {known}))")).await, "s0 BAD ENABLE QRESYNC first\r\n");
    assert_eq!(b.cmd("e", "ENABLE QRESYNC").await, "* ENABLED QRESYNC\r\ne OK ENABLE completed\r\n");
    let r = b.cmd("s1", &format!("SELECT INBOX (QRESYNC ({v} {known} 1:3))")).await;
    let flagged_modseq = known + 1;
    let tail = format!(
        "* VANISHED (EARLIER) 3\r\n* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ ({flagged_modseq}))\r\n\
         s1 OK [READ-WRITE] SELECT completed\r\n"
    );
    assert!(r.starts_with("* OK [CLOSED]") || r.starts_with("* 2 EXISTS"), "{r}");
    assert!(r.ends_with(&tail), "{r}");
    // Live expunges come as VANISHED once QRESYNC is on.
    a.cmd("d2", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    a.cmd("x2", "EXPUNGE").await;
    let n = b.cmd("n", "NOOP").await;
    assert!(n.contains("* VANISHED 1\r\n") && !n.contains("EXPUNGE"), "{n}");
    assert_eq!(
        b.cmd("g", &format!("UID FETCH 1:* (FLAGS) (CHANGEDSINCE {known} VANISHED)")).await,
        format!(
            "* VANISHED (EARLIER) 1,3\r\n* 1 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ ({flagged_modseq}))\r\ng OK UID FETCH completed\r\n"
        )
    );
}

#[tokio::test]
async fn multiappend_is_all_or_nothing() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    let (a, b) = ("Subject: un\r\n\r\nA\r\n", "Subject: deux\r\n\r\nB\r\n");
    let v = f.inbox_uid_validity().await;
    let r = c
        .cmd(
            "m",
            &format!(
                "APPEND INBOX (\\Seen) {{{}+}}\r\n{a} \"05-Mar-2026 10:00:00 +0100\" {{{}+}}\r\n{b}",
                a.len(),
                b.len()
            ),
        )
        .await;
    assert_eq!(r, format!("m OK [APPENDUID {v} 1:2] APPEND completed\r\n"));
    // A bad flag on the second message: nothing of the command is stored.
    let r = c.cmd("n", &format!("APPEND INBOX {{{}+}}\r\n{a} (\\Bogus) {{{}+}}\r\n{b}", a.len(), b.len())).await;
    assert_eq!(r, "n BAD Unknown system flag \\Bogus\r\n");
    let inbox = f.ms.mailbox_named(f.claire.id, "INBOX").await.unwrap().unwrap();
    assert_eq!(f.ms.messages(inbox.id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn odd_sets_and_a_multiappend_cut_short() {
    let f = Fixture::new().await;
    f.deliver(&mail("p@ac-demo.fr", "Un", "Mon, 1 Sep 2026 08:00:00 +0000", "1@x", None, "x")).await;
    f.deliver(&mail("p@ac-demo.fr", "Deux", "Mon, 1 Sep 2026 08:00:00 +0000", "2@x", None, "x")).await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(
        c.cmd("a", "UID FETCH 1:*,*:1,4294967295 (UID)").await,
        "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\na OK UID FETCH completed\r\n"
    );
    assert_eq!(c.cmd("b", "UID SEARCH UID 4294967295").await, "* SEARCH\r\nb OK UID SEARCH completed\r\n");
    assert_eq!(c.cmd("c", "FETCH 4294967296 (UID)").await, "c BAD Invalid sequence set at byte 8\r\n");
    assert_eq!(
        c.cmd("d", "SEARCH ((SEEN)").await,
        "d BAD Unexpected end of command: expected ')' (unbalanced parentheses?)\r\n"
    );
    // The second message of a MULTIAPPEND never arrives: the first is not kept.
    let mut d = f.connect();
    d.login().await;
    d.send(b"z APPEND INBOX {8+}\r\nSubject:  {500+}\r\nFrom: x\r\n").await;
    drop(d);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        c.cmd("n", "STATUS INBOX (MESSAGES)").await,
        "* STATUS \"INBOX\" (MESSAGES 2)\r\nn OK STATUS completed\r\n"
    );
}

#[tokio::test]
async fn binary_undoes_transfer_encodings() {
    let f = Fixture::new().await;
    f.deliver(
        b"Subject: pj\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
R=C3=A9union\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n\
AAECAw==\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n\
begin\r\n--b--\r\n",
    )
    .await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(
        c.cmd("a", "FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[2])").await,
        "* 1 FETCH (BINARY[1] {8}\r\nRéunion BINARY.SIZE[2] 4)\r\na OK FETCH completed\r\n"
    );
    assert_eq!(
        c.cmd("b", "FETCH 1 (BINARY.PEEK[2])").await,
        "* 1 FETCH (BINARY[2] ~{4}\r\n\u{0}\u{1}\u{2}\u{3})\r\nb OK FETCH completed\r\n"
    );
    assert_eq!(
        c.cmd("c", "FETCH 1 (BINARY.PEEK[3])").await,
        "c NO [UNKNOWN-CTE] Unknown content-transfer-encoding\r\n"
    );
    assert_eq!(c.cmd("d", "FETCH 1 (BINARY[1.MIME])").await, "d BAD BINARY sections are part numbers only\r\n");
    let v = f.inbox_uid_validity().await;
    assert_eq!(
        c.cmd("e", "APPEND INBOX ~{14+}\r\nSubject: \u{0}\r\n\r\n").await,
        // Appended to the selected mailbox: recent in this session (RFC 3501 section 6.3.11).
        format!("* 2 EXISTS\r\n* 2 RECENT\r\ne OK [APPENDUID {v} 2] APPEND completed\r\n")
    );
}

#[tokio::test]
async fn compress_deflate_both_ways() {
    use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let f = Fixture::new().await;
    f.deliver(&mail("p@ac-demo.fr", "Un", "Mon, 1 Sep 2026 08:00:00 +0000", "1@x", None, "x")).await;
    let mut c = f.connect();
    c.login().await;
    assert_eq!(c.cmd("z", "COMPRESS DEFLATE").await, "z OK DEFLATE active\r\n");
    let (mut out, mut inp) = (Compress::new(Compression::default(), false), Decompress::new(false));
    let mut packed = Vec::with_capacity(4096);
    out.compress_vec(b"s SELECT INBOX\r\nn NOOP\r\nz COMPRESS DEFLATE\r\n", &mut packed, FlushCompress::Sync).unwrap();
    c.stream.write_all(&packed).await.unwrap();
    let mut plain = Vec::with_capacity(1 << 16);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !String::from_utf8_lossy(&plain).contains("z NO") {
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout_at(deadline, c.stream.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0);
        inp.decompress_vec(&buf[..n], &mut plain, FlushDecompress::Sync).unwrap();
    }
    let text = String::from_utf8_lossy(&plain);
    assert!(text.contains("* 1 EXISTS\r\n") && text.contains("s OK [READ-WRITE] SELECT completed\r\n"), "{text}");
    assert!(text.contains("n OK NOOP completed\r\nz NO [COMPRESSIONACTIVE]"), "{text}");
}
