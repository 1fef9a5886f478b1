//! SEARCH TEXT / BODY through the full-text index, and the end of sessions
//! whose account access is revoked.

mod common;

use common::Fixture;

const REUNION: &[u8] = b"From: =?UTF-8?Q?H=C3=A9l=C3=A8ne_Roux?= <helene.roux@ac-demo.fr>\r\n\
To: claire.martin@ac-demo.fr\r\nSubject: =?UTF-8?Q?R=C3=A9union_de_rentr=C3=A9e?=\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
L'ordre du jour est en pi\xc3\xa8ce jointe.\r\n\
--b\r\nContent-Type: application/pdf; name=\"planning-conseil.pdf\"\r\n\
Content-Disposition: attachment; filename=\"planning-conseil.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
JVBERi0xLjQK\r\n--b--\r\n";

const CANTINE: &[u8] = b"From: Paul Durand <paul.durand@ac-demo.fr>\r\nTo: claire.martin@ac-demo.fr\r\n\
Subject: Cantine\r\n\r\nLe menu de la semaine: gratin, compote.\r\n";

#[tokio::test]
async fn text_and_body_go_through_the_index() {
    let f = Fixture::new().await;
    f.deliver(REUNION).await;
    f.deliver(CANTINE).await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(c.cmd("a", "SEARCH TEXT reunion").await, "* SEARCH 1\r\na OK SEARCH completed\r\n");
    assert_eq!(c.cmd("b", "SEARCH TEXT \"RÉUNION\"").await, "* SEARCH 1\r\nb OK SEARCH completed\r\n");
    assert_eq!(c.cmd("c", "SEARCH BODY planning-conseil").await, "* SEARCH 1\r\nc OK SEARCH completed\r\n");
    assert_eq!(c.cmd("d", "SEARCH BODY reunion").await, "* SEARCH\r\nd OK SEARCH completed\r\n");
    assert_eq!(c.cmd("e", "SEARCH TEXT helene").await, "* SEARCH 1\r\ne OK SEARCH completed\r\n");
    assert_eq!(c.cmd("g", "SEARCH TEXT introuvable").await, "* SEARCH\r\ng OK SEARCH completed\r\n");
    assert_eq!(c.cmd("h", "SEARCH NOT TEXT reunion").await, "* SEARCH 2\r\nh OK SEARCH completed\r\n");
    assert_eq!(
        c.cmd("i", "UID SEARCH OR BODY gratin TEXT reunion").await,
        "* SEARCH 1 2\r\ni OK UID SEARCH completed\r\n"
    );
    assert_eq!(c.cmd("j", "SEARCH TEXT menu FROM paul").await, "* SEARCH 2\r\nj OK SEARCH completed\r\n");
    assert_eq!(c.cmd("k", "SEARCH TEXT menu FROM helene").await, "* SEARCH\r\nk OK SEARCH completed\r\n");
    // TEXT and BODY are substring searches too (RFC 9051), from three letters.
    assert_eq!(c.cmd("t1", "SEARCH TEXT union").await, "* SEARCH 1\r\nt1 OK SEARCH completed\r\n");
    assert_eq!(c.cmd("t2", "SEARCH BODY maine").await, "* SEARCH 2\r\nt2 OK SEARCH completed\r\n");
    assert_eq!(c.cmd("t3", "SEARCH BODY mpot").await, "* SEARCH 2\r\nt3 OK SEARCH completed\r\n");
    // SUBJECT and FROM stay substring searches on the metadata, accents folded.
    assert_eq!(c.cmd("k1", "SEARCH SUBJECT reunion").await, "* SEARCH 1\r\nk1 OK SEARCH completed\r\n");
    assert_eq!(c.cmd("k2", "SEARCH FROM \"HÉLÈNE R\"").await, "* SEARCH 1\r\nk2 OK SEARCH completed\r\n");
    assert_eq!(c.cmd("k3", "SEARCH SUBJECT union").await, "* SEARCH 1\r\nk3 OK SEARCH completed\r\n");
    // Another mailbox holding the same content is not searched from this one.
    c.cmd("m", "CREATE Archives").await;
    c.cmd("n", "MOVE 1 Archives").await;
    assert_eq!(c.cmd("o", "SEARCH TEXT reunion").await, "* SEARCH\r\no OK SEARCH completed\r\n");
    c.cmd("p", "SELECT Archives").await;
    assert_eq!(c.cmd("q", "SEARCH TEXT reunion").await, "* SEARCH 1\r\nq OK SEARCH completed\r\n");
}

/// RFC 9051 section 6.4.4: "TEXT <string> Messages that contain the
/// specified string in the header (including MIME header fields) or body of
/// the message." Every header field counts, not only From/To/Cc/Subject;
/// BODY stays with the body.
#[tokio::test]
async fn text_covers_every_header_field_and_body_does_not() {
    let f = Fixture::new().await;
    f.deliver(
        b"From: paul.durand@ac-demo.fr\r\nTo: claire.martin@ac-demo.fr\r\n\
Reply-To: secretariat.college@ac-demo.fr\r\nX-Extra: hello Ardoise\r\nSubject: Cantine\r\n\r\nMenu.\r\n",
    )
    .await;
    f.deliver(CANTINE).await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(c.cmd("a", "SEARCH TEXT hello").await, "* SEARCH 1\r\na OK SEARCH completed\r\n");
    assert_eq!(c.cmd("b", "SEARCH TEXT secretariat").await, "* SEARCH 1\r\nb OK SEARCH completed\r\n");
    // The field's name is part of the header too.
    assert_eq!(c.cmd("c", "SEARCH TEXT x-extra").await, "* SEARCH 1\r\nc OK SEARCH completed\r\n");
    assert_eq!(c.cmd("d", "SEARCH BODY hello").await, "* SEARCH\r\nd OK SEARCH completed\r\n");
    assert_eq!(c.cmd("e", "SEARCH HEADER X-Extra hello").await, "* SEARCH 1\r\ne OK SEARCH completed\r\n");
}

#[tokio::test]
async fn other_accounts_and_expunged_messages_are_not_found() {
    let f = Fixture::new().await;
    let paul = common::create(&f.store, "paul.durand", model::Role::Teacher, model::AccountStatus::Active).await;
    f.ms.deliver(REUNION, &[paul.id], 1_767_225_600).await.unwrap();
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(c.cmd("a", "SEARCH TEXT reunion").await, "* SEARCH\r\na OK SEARCH completed\r\n");
    f.deliver(REUNION).await;
    // The new message is recent in this session, the first told of it.
    assert_eq!(
        c.cmd("b", "SEARCH TEXT reunion").await,
        "* SEARCH\r\n* 1 EXISTS\r\n* 1 RECENT\r\nb OK SEARCH completed\r\n"
    );
    assert_eq!(c.cmd("c", "SEARCH TEXT reunion").await, "* SEARCH 1\r\nc OK SEARCH completed\r\n");
    let index = f.ms.search_index().unwrap().clone();
    assert_eq!(index.len(), 1, "one document for the content both received");
    c.cmd("d", "STORE 1 +FLAGS (\\Deleted)").await;
    c.cmd("e", "EXPUNGE").await;
    assert_eq!(c.cmd("g", "SEARCH TEXT reunion").await, "* SEARCH\r\ng OK SEARCH completed\r\n");
    assert_eq!(index.len(), 1, "Paul still holds the content: its document stays");
}

#[tokio::test]
async fn revoked_access_closes_waiting_and_idle_sessions() {
    let f = Fixture::new().await;
    let mut waiting = f.connect();
    waiting.login().await;
    let mut idle = f.connect();
    idle.login().await;
    idle.cmd("s", "SELECT INBOX").await;
    idle.send(b"i IDLE\r\n").await;
    idle.read_until("+ ").await;
    let started = tokio::time::Instant::now();
    f.ms.revoke_access(f.claire.id);
    let bye = "* BYE Acces au compte retire / Account access revoked\r\n";
    assert_eq!(waiting.read_until("* BYE").await, bye);
    assert_eq!(idle.read_until("* BYE").await, bye);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert!(waiting.closed().await);
    assert!(idle.closed().await);
}

/// FETCH ENVELOPE copies the envelope stored at delivery: encoded words
/// for a session without UTF-8, the UTF-8 form once UTF8=ACCEPT is on, and
/// the same bytes whether one message or several are asked for.
#[tokio::test]
async fn fetch_envelope_uses_the_stored_forms() {
    let f = Fixture::new().await;
    f.deliver(REUNION).await;
    f.deliver(CANTINE).await;
    f.deliver(REUNION).await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    let cantine = "(NIL \"Cantine\" ((\"Paul Durand\" NIL \"paul.durand\" \"ac-demo.fr\")) \
        ((\"Paul Durand\" NIL \"paul.durand\" \"ac-demo.fr\")) ((\"Paul Durand\" NIL \"paul.durand\" \"ac-demo.fr\")) \
        ((NIL NIL \"claire.martin\" \"ac-demo.fr\")) NIL NIL NIL NIL)";
    assert_eq!(
        c.cmd("a", "UID FETCH 2 (FLAGS ENVELOPE)").await,
        format!("* 2 FETCH (UID 2 FLAGS (\\Recent) ENVELOPE {cantine})\r\na OK UID FETCH completed\r\n")
    );
    let all = c.cmd("b", "FETCH 1:* (ENVELOPE)").await;
    assert!(all.contains(&format!("* 2 FETCH (ENVELOPE {cantine})\r\n")), "{all}");
    let subject = "\"=?UTF-8?B?UsOpdW5pb24gZGUgcmVudHLDqWU=?=\"";
    assert!(all.starts_with(&format!("* 1 FETCH (ENVELOPE (NIL {subject} ((")), "{all}");
    assert!(all.contains(&format!("* 3 FETCH (ENVELOPE (NIL {subject} ((")), "{all}");
    c.cmd("e", "ENABLE UTF8=ACCEPT").await;
    let utf8 = c.cmd("c", "FETCH 3 (ENVELOPE)").await;
    assert!(utf8.starts_with("* 3 FETCH (ENVELOPE (NIL \"Réunion de rentrée\" ((\"Hélène Roux\" NIL"), "{utf8}");
    // With BODYSTRUCTURE the envelope comes from the stored analysis: the same bytes.
    let both = c.cmd("d", "FETCH 2 (ENVELOPE BODYSTRUCTURE)").await;
    assert!(both.starts_with(&format!("* 2 FETCH (ENVELOPE {cantine} BODYSTRUCTURE (")), "{both}");
}

/// A session keeps the rows a SEARCH read while the mailbox does not change;
/// another session's flag change, an expunge or a delivery is seen at once.
#[tokio::test]
async fn repeated_searches_see_every_change() {
    let f = Fixture::new().await;
    f.deliver(REUNION).await;
    f.deliver(CANTINE).await;
    let mut a = f.connect();
    a.login().await;
    a.cmd("s", "SELECT INBOX").await;
    let mut b = f.connect();
    b.login().await;
    b.cmd("s", "SELECT INBOX").await;
    assert_eq!(a.cmd("a", "SEARCH UNSEEN").await, "* SEARCH 1 2\r\na OK SEARCH completed\r\n");
    assert_eq!(a.cmd("b", "SEARCH UNSEEN").await, "* SEARCH 1 2\r\nb OK SEARCH completed\r\n");
    b.cmd("c", "STORE 1 +FLAGS.SILENT (\\Seen)").await;
    assert_eq!(
        a.cmd("d", "SEARCH UNSEEN").await,
        // A selected first: the messages are recent in A.
        "* SEARCH 2\r\n* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent))\r\nd OK SEARCH completed\r\n"
    );
    f.deliver(CANTINE).await;
    assert_eq!(
        a.cmd("e", "SEARCH UNSEEN TEXT cantine").await,
        "* SEARCH 2\r\n* 3 EXISTS\r\n* 3 RECENT\r\ne OK SEARCH completed\r\n"
    );
    assert_eq!(a.cmd("f", "SEARCH UNSEEN TEXT cantine").await, "* SEARCH 2 3\r\nf OK SEARCH completed\r\n");
    b.cmd("g", "STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    b.cmd("h", "EXPUNGE").await;
    let after = a.cmd("i", "SEARCH DELETED").await;
    assert!(after.ends_with("i OK SEARCH completed\r\n"), "{after}");
    assert!(!after.contains("* SEARCH 2"), "{after}");
}

/// DELETE of a folder full of mail goes through the domain: the account's
/// other sessions hear of it (a `MailEvent` for that folder) and the
/// messages it held no longer match a search of the account.
#[tokio::test]
async fn deleting_a_folder_tells_the_account_and_leaves_the_index() {
    let f = Fixture::new().await;
    f.deliver(CANTINE).await;
    let mut c = f.connect();
    c.login().await;
    let created = c.cmd("a", "CREATE Projets").await;
    let id: i64 = created
        .split("[MAILBOXID (F")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no MAILBOXID in {created}"));
    c.cmd("s", "SELECT INBOX").await;
    assert!(c.cmd("b", "MOVE 1 Projets").await.contains("b OK"));
    c.cmd("u", "UNSELECT").await;
    let found = |text: &'static str| {
        let ms = f.ms.clone();
        let account = f.claire.id;
        async move { ms.search_text(account, &mailstore::Field::ALL, text).await.unwrap().unwrap().unwrap().len() }
    };
    assert_eq!(found("gratin").await, 1);
    let mut events = f.ms.watch(f.claire.id);
    assert_eq!(c.cmd("d", "DELETE Projets").await, "d OK DELETE completed\r\n");
    let mut heard = Vec::new();
    while let Ok(e) = events.try_recv() {
        heard.push(e);
    }
    assert!(
        heard.iter().any(|e| matches!(e, mailstore::MailEvent::Changed { account, mailbox, .. }
            if *account == f.claire.id && *mailbox == id)),
        "no event for the deleted folder: {heard:?}"
    );
    assert_eq!(found("gratin").await, 0, "the deleted message still matches a search");
}
