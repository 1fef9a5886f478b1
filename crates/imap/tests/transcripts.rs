//! Byte-exact dialogues with a session driven in memory.

mod common;

use common::{Fixture, PASSWORD, create};
use model::{AccountStatus, Role};

const CAPS_TAIL: &str = "SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE SPECIAL-USE \
CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS CONDSTORE QRESYNC ESEARCH ESORT CONTEXT=SEARCH CONTEXT=SORT NOTIFY SEARCHRES MULTIAPPEND CATENATE BINARY COMPRESS=DEFLATE STATUS=SIZE UTF8=ACCEPT SAVEDATE OBJECTID QUOTA QUOTA=RES-STORAGE ACL RIGHTS=texk \
SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES";

const MAIL: &[u8] = b"From: Paul Durand <paul.durand@ac-demo.fr>\r\nTo: claire.martin@ac-demo.fr\r\n\
Subject: Conseil de classe\r\nMessage-ID: <cc1@ac-demo.fr>\r\n\r\nJeudi 18 h.\r\n";

#[tokio::test]
async fn cleartext_from_afar_has_logins_disabled() {
    let f = Fixture::new().await;
    let mut c = f.connect_from([192, 0, 2, 7]);
    assert_eq!(
        c.greeting().await,
        format!(
            "* OK [CAPABILITY IMAP4rev2 IMAP4rev1 LOGINDISABLED {CAPS_TAIL}] mail.ac-demo.fr Ardoise IMAP ready\r\n"
        )
    );
    assert_eq!(
        c.cmd("a", &format!("LOGIN claire.martin@ac-demo.fr {PASSWORD}")).await,
        "a NO [PRIVACYREQUIRED] Use STARTTLS or port 993 first / Utilisez STARTTLS ou le port 993\r\n"
    );
    assert_eq!(c.cmd("b", "SELECT INBOX").await, "b BAD Log in first (LOGIN or AUTHENTICATE)\r\n");
    assert_eq!(c.cmd("c", "LOGOUT").await, "* BYE Ardoise IMAP server logging out\r\nc OK LOGOUT completed\r\n");
    assert!(c.closed().await);
}

#[tokio::test]
async fn login_with_literals_and_refusals() {
    let f = Fixture::new().await;
    create(&f.store, "eleve.test", Role::Student, AccountStatus::Active).await;
    create(&f.store, "paul.durand", Role::Teacher, AccountStatus::Suspended).await;
    let mut c = f.connect();
    c.greeting().await;
    assert_eq!(
        c.cmd("a", "LOGIN claire.martin@ac-demo.fr wrong").await,
        "a NO [AUTHENTICATIONFAILED] Identifiant ou mot de passe incorrect / Invalid user name or password\r\n"
    );
    let r = c.cmd("b", &format!("LOGIN eleve.test@ac-demo.fr {PASSWORD}")).await;
    assert!(r.starts_with("b NO [AUTHORIZATIONFAILED] La messagerie IMAP n'est pas ouverte aux eleves"), "{r}");
    let r = c.cmd("c", &format!("LOGIN paul.durand@ac-demo.fr {PASSWORD}")).await;
    assert!(r.starts_with("c NO [AUTHORIZATIONFAILED] Compte suspendu"), "{r}");

    c.send(b"d LOGIN {24}\r\n").await;
    assert_eq!(c.read_until("+ ").await, "+ Ready for literal data\r\n");
    c.send(format!("claire.martin@ac-demo.fr {{{}+}}\r\n{PASSWORD}\r\n", PASSWORD.len()).as_bytes()).await;
    let done = c.read_until("d ").await;
    assert_eq!(done, format!("d OK [CAPABILITY IMAP4rev2 IMAP4rev1 {CAPS_TAIL}] Logged in\r\n"));
}

#[tokio::test]
async fn authenticate_plain_with_and_without_initial_response() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.greeting().await;
    // "\0claire.martin@ac-demo.fr\0Ardoise-Demo-2026"
    let token = "AGNsYWlyZS5tYXJ0aW5AYWMtZGVtby5mcgBBcmRvaXNlLURlbW8tMjAyNg==";
    assert!(c.cmd("a", &format!("AUTHENTICATE PLAIN {token}")).await.starts_with("a OK [CAPABILITY"));
    let mut c = f.connect();
    c.greeting().await;
    c.send(b"b AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(c.read_until("+").await, "+ \r\n");
    c.send(format!("{token}\r\n").as_bytes()).await;
    assert!(c.read_until("b ").await.starts_with("b OK [CAPABILITY"));
    let mut c = f.connect();
    c.greeting().await;
    c.send(b"c AUTHENTICATE PLAIN\r\n").await;
    c.read_until("+").await;
    c.send(b"*\r\n").await;
    assert_eq!(c.read_until("c ").await, "c BAD AUTHENTICATE cancelled\r\n");
}

#[tokio::test]
async fn a_refused_bearer_token_gets_the_json_error_challenge_then_no() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.greeting().await;
    // SASL-IR with a token that is none of ours: "+ <JSON>", the client's 0x01, then NO.
    let garbage = b64("n,a=claire.martin@ac-demo.fr,\x01host=mail\x01port=993\x01auth=Bearer nimporte-quoi\x01\x01");
    c.send(format!("a AUTHENTICATE OAUTHBEARER {garbage}\r\n").as_bytes()).await;
    let challenge = c.read_until("+").await;
    let json = base64::engine::general_purpose::STANDARD.decode(challenge[2..].trim_end()).unwrap();
    assert!(String::from_utf8(json).unwrap().starts_with(r#"{"status":"invalid_token","scope":"openid mail""#));
    c.send(b"AQ==\r\n").await;
    assert_eq!(
        c.read_until("a ").await,
        "a NO [AUTHENTICATIONFAILED] Identifiant ou mot de passe incorrect / Invalid user name or password\r\n"
    );
    // XOAUTH2 after a continuation request; Google's error shape.
    c.send(b"b AUTHENTICATE XOAUTH2\r\n").await;
    assert_eq!(c.read_until("+").await, "+ \r\n");
    c.send(format!("{}\r\n", b64("user=claire.martin@ac-demo.fr\x01auth=Bearer faux\x01\x01")).as_bytes()).await;
    let challenge = c.read_until("+").await;
    let json = base64::engine::general_purpose::STANDARD.decode(challenge[2..].trim_end()).unwrap();
    assert_eq!(json, br#"{"status":"401","schemes":"bearer","scope":"openid mail"}"#);
    c.send(b"\r\n").await;
    assert!(c.read_until("b ").await.starts_with("b NO [AUTHENTICATIONFAILED]"));
    // Malformed responses are BAD before any token is looked at.
    let no_gs2 = b64("auth=Bearer abc\x01\x01");
    let r = c.cmd("c", &format!("AUTHENTICATE OAUTHBEARER {no_gs2}")).await;
    assert_eq!(r, "c BAD Malformed OAUTHBEARER response: malformed GS2 header\r\n");
    let cb = b64("p=tls-unique,,\x01auth=Bearer abc\x01\x01");
    let r = c.cmd("d", &format!("AUTHENTICATE OAUTHBEARER {cb}")).await;
    assert_eq!(r, "d BAD Malformed OAUTHBEARER response: channel binding is not supported\r\n");
    assert_eq!(c.cmd("e", "AUTHENTICATE XOAUTH2 A").await, "e BAD Invalid base64 in SASL response\r\n");
    assert!(c.cmd("f", "AUTHENTICATE CRAM-MD5").await.starts_with("f NO [CANNOT]"));
    assert!(c.cmd("g", "SELECT INBOX").await.starts_with("g BAD Log in first"));
}

#[tokio::test]
async fn select_fetch_and_list() {
    let f = Fixture::new().await;
    f.deliver(MAIL).await;
    let mut c = f.connect();
    c.login().await;
    let v = f.inbox_uid_validity().await;
    let id = f.ms.mailbox_named(f.claire.id, "INBOX").await.unwrap().unwrap().id;
    assert_eq!(
        c.cmd("s", "SELECT INBOX").await,
        format!(
            "* 1 EXISTS\r\n* 1 RECENT\r\n* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n\
             * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted\r\n\
             * OK [UNSEEN 1] First unseen message\r\n* OK [UIDVALIDITY {v}] UIDs valid\r\n\
             * OK [UIDNEXT 2] Predicted next UID\r\n* OK [HIGHESTMODSEQ 2] Highest\r\n\
             * OK [MAILBOXID (F{id})] Ok\r\ns OK [READ-WRITE] SELECT completed\r\n"
        )
    );
    assert_eq!(
        c.cmd("f", "FETCH 1 (UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (Subject)])").await,
        format!(
            "* 1 FETCH (UID 1 RFC822.SIZE {} INTERNALDATE \"01-Jan-2026 00:00:00 +0000\" \
         BODY[HEADER.FIELDS (Subject)] {{30}}\r\nSubject: Conseil de classe\r\n\r\n)\r\nf OK FETCH completed\r\n",
            MAIL.len()
        )
    );
    assert_eq!(
        c.cmd("g", "UID FETCH 1:* (BODY[TEXT]<0.5>)").await,
        // The first session to select the mailbox holds the message as recent.
        "* 1 FETCH (UID 1 BODY[TEXT]<0> {5}\r\nJeudi FLAGS (\\Seen \\Recent))\r\ng OK UID FETCH completed\r\n"
    );
    assert_eq!(c.cmd("h", "FETCH 1:*,*:1,4294967295 (FLAGS)").await, "h BAD Message sequence number out of range\r\n");
    assert_eq!(
        c.cmd("i", "UID FETCH 4294967295,*:1 (FLAGS)").await,
        "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent))\r\ni OK UID FETCH completed\r\n"
    );
    assert_eq!(
        c.cmd("l", "LIST \"\" %").await,
        "* LIST (\\HasNoChildren \\Archive) \"/\" \"Archives\"\r\n\
         * LIST (\\HasNoChildren \\Drafts) \"/\" \"Brouillons\"\r\n\
         * LIST (\\HasNoChildren \\Trash) \"/\" \"Corbeille\"\r\n\
         * LIST (\\HasNoChildren \\Sent) \"/\" \"Envoy&AOk-s\"\r\n\
         * LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n\
         * LIST (\\HasNoChildren \\Junk) \"/\" \"Ind&AOk-sirables\"\r\n\
         l OK LIST completed\r\n"
    );
    assert_eq!(c.cmd("e", "ENABLE UTF8=ACCEPT").await, "* ENABLED UTF8=ACCEPT\r\ne OK ENABLE completed\r\n");
    assert_eq!(
        c.cmd("m", "STATUS \"Envoyés\" (MESSAGES UNSEEN SIZE)").await,
        "* STATUS \"Envoyés\" (MESSAGES 0 UNSEEN 0 SIZE 0)\r\nm OK STATUS completed\r\n"
    );
}

#[tokio::test]
async fn other_sessions_see_flags_expunges_and_new_mail() {
    let f = Fixture::new().await;
    f.deliver(MAIL).await;
    f.deliver(MAIL).await;
    let (mut a, mut b) = (f.connect(), f.connect());
    a.login().await;
    b.login().await;
    a.cmd("s", "SELECT INBOX").await;
    b.cmd("s", "SELECT INBOX").await;
    assert_eq!(
        a.cmd("t", "STORE 1 +FLAGS (\\Deleted)").await,
        "* 1 FETCH (FLAGS (\\Deleted \\Recent))\r\nt OK STORE completed\r\n"
    );
    assert_eq!(b.cmd("n", "NOOP").await, "* 1 FETCH (UID 1 FLAGS (\\Deleted))\r\nn OK NOOP completed\r\n");
    assert_eq!(a.cmd("x", "EXPUNGE").await, "* 1 EXPUNGE\r\nx OK EXPUNGE completed\r\n");
    // No EXPUNGE during FETCH by sequence number; it comes with the next NOOP.
    assert_eq!(b.cmd("f", "FETCH 2 (UID)").await, "* 2 FETCH (UID 2)\r\nf OK FETCH completed\r\n");
    assert_eq!(b.cmd("n", "NOOP").await, "* 1 EXPUNGE\r\nn OK NOOP completed\r\n");
    f.deliver(MAIL).await;
    // B is the first session told of the new message: recent there.
    assert_eq!(b.cmd("n", "NOOP").await, "* 2 EXISTS\r\n* 1 RECENT\r\nn OK NOOP completed\r\n");

    b.send(b"i IDLE\r\n").await;
    assert_eq!(b.read_until("+").await, "+ idling\r\n");
    f.deliver(MAIL).await;
    assert_eq!(b.read_until("* 3 EXISTS").await, "* 3 EXISTS\r\n");
    b.send(b"DONE\r\n").await;
    assert_eq!(b.read_until("i ").await, "* 2 RECENT\r\ni OK IDLE terminated\r\n");
}

#[tokio::test]
async fn append_copy_move_and_search() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    let r = c
        .cmd(
            "a",
            &format!(
                "APPEND INBOX (\\Seen) \"05-Mar-2026 10:00:00 +0100\" {{{}+}}\r\n{}",
                MAIL.len(),
                String::from_utf8_lossy(MAIL)
            ),
        )
        .await;
    let v = f.inbox_uid_validity().await;
    assert_eq!(r, format!("a OK [APPENDUID {v} 1] APPEND completed\r\n"));
    let created = c.cmd("c", "CREATE Projets").await;
    let projets = f.ms.mailbox_named(f.claire.id, "Projets").await.unwrap().unwrap();
    assert_eq!(created, format!("c OK [MAILBOXID (F{})] CREATE completed\r\n", projets.id));
    assert_eq!(
        c.cmd("c1", "STATUS Projets (MAILBOXID MESSAGES)").await,
        format!("* STATUS \"Projets\" (MAILBOXID (F{}) MESSAGES 0)\r\nc1 OK STATUS completed\r\n", projets.id)
    );
    assert_eq!(c.cmd("c2", "CREATE Projets").await, "c2 NO [ALREADYEXISTS] mailbox Projets already exists\r\n");
    c.cmd("s", "SELECT INBOX").await;
    let target_v = f.ms.mailbox_named(f.claire.id, "Projets").await.unwrap().unwrap().uid_validity;
    assert_eq!(c.cmd("k", "COPY 1 Projets").await, format!("k OK [COPYUID {target_v} 1 1] COPY completed\r\n"));
    assert_eq!(
        c.cmd("q", "SEARCH SEEN SUBJECT conseil SINCE 1-Mar-2026").await,
        "* SEARCH 1\r\nq OK SEARCH completed\r\n"
    );
    assert_eq!(c.cmd("r", "SEARCH OR FLAGGED LARGER 100000").await, "* SEARCH\r\nr OK SEARCH completed\r\n");
    assert_eq!(c.cmd("t", "SEARCH TEXT conseil").await, "* SEARCH 1\r\nt OK SEARCH completed\r\n");
    assert_eq!(
        c.cmd("u", "UID SEARCH RETURN (MIN COUNT) ALL").await,
        "* ESEARCH (TAG \"u\") UID MIN 1 COUNT 1\r\nu OK UID SEARCH completed\r\n"
    );
    assert_eq!(
        c.cmd("m", "UID MOVE 1 Projets").await,
        format!("* OK [COPYUID {target_v} 1 2] Moved\r\n* 1 EXPUNGE\r\nm OK UID MOVE completed\r\n")
    );
    assert_eq!(c.cmd("v", "MOVE 1 Nulle-part").await, "v NO [TRYCREATE] No such mailbox\r\n");
    let rows = f.ms.messages(f.ms.mailbox_named(f.claire.id, "Projets").await.unwrap().unwrap().id);
    assert_eq!(rows.await.unwrap().len(), 2);
}

/// RFC 6851: a MOVE keeps flags and the internal date, leaves nothing behind
/// for undelete (it is not a deletion), and a MOVE into the selected mailbox
/// itself gives the message a new UID (before, every MOVE was a COPY then a
/// discard: a crash in between left the message in both folders).
#[tokio::test]
async fn move_is_one_step_and_not_a_deletion() {
    let f = Fixture::new().await;
    f.deliver(MAIL).await;
    let mut c = f.connect();
    c.login().await;
    c.cmd("c", "CREATE Projets").await;
    c.cmd("s", "SELECT INBOX").await;
    c.cmd("f", "STORE 1 +FLAGS.SILENT (\\Flagged $Important)").await;
    let v = f.inbox_uid_validity().await;
    assert_eq!(
        c.cmd("w", "MOVE 1 INBOX").await,
        format!("* OK [COPYUID {v} 1 2] Moved\r\n* 1 EXPUNGE\r\n* 1 EXISTS\r\n* 1 RECENT\r\nw OK MOVE completed\r\n")
    );
    let projets = f.ms.mailbox_named(f.claire.id, "Projets").await.unwrap().unwrap();
    assert_eq!(
        c.cmd("m", "UID MOVE 2 Projets").await,
        format!("* OK [COPYUID {} 2 1] Moved\r\n* 1 EXPUNGE\r\nm OK UID MOVE completed\r\n", projets.uid_validity)
    );
    c.cmd("p", "SELECT Projets").await;
    let fetched = c.cmd("g", "FETCH 1 (FLAGS INTERNALDATE)").await;
    assert!(fetched.contains("\\Flagged") && fetched.contains("$Important"), "{fetched}");
    let inbox = f.ms.mailbox_named(f.claire.id, "INBOX").await.unwrap().unwrap();
    assert!(f.ms.messages(inbox.id).await.unwrap().is_empty());
    assert_eq!(f.ms.deleted_count(f.claire.id).await.unwrap(), 0);
}

#[tokio::test]
async fn bad_input_gets_useful_answers() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    assert_eq!(c.cmd("a", "FETCH 1 FLAGS").await, "a BAD Select a mailbox first\r\n");
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(
        c.cmd("b", "FETCH 1:2 (FLAGS").await,
        "b BAD Unexpected end of command: expected a space (unbalanced parentheses?)\r\n"
    );
    assert_eq!(
        c.cmd("c", "SELECT \"&Jjo\"").await,
        "c NO [CANNOT] Invalid mailbox name (bad modified UTF-7 or UTF-8)\r\n"
    );
    assert_eq!(
        c.cmd("d", "APPEND INBOX {99999999}").await,
        "d BAD [TOOBIG] Literal of 99999999 bytes refused: the limit is 100000 bytes\r\n"
    );
    assert_eq!(c.cmd("e", "FROBNICATE").await, "e BAD Unknown command FROBNICATE\r\n");
    assert_eq!(c.cmd("f", "UID FETCH 0:* FLAGS").await, "f BAD Invalid sequence set at byte 12\r\n");
    let long = "x".repeat(2000);
    assert_eq!(c.cmd("g", &long).await, "g BAD Command line too long\r\n");

    // Ten thousand pipelined commands, answered in order.
    let mut burst = Vec::new();
    for i in 0..10_000 {
        burst.extend_from_slice(format!("p{i} NOOP\r\n").as_bytes());
    }
    c.send(&burst).await;
    let all = c.read_until("p9999 ").await;
    assert_eq!(all.matches(" OK NOOP completed\r\n").count(), 10_000);

    // A client that disconnects in the middle of APPEND leaves nothing behind.
    let mut d = f.connect();
    d.login().await;
    d.send(b"z APPEND INBOX {500+}\r\nFrom: x\r\n").await;
    drop(d);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        c.cmd("n", "STATUS INBOX (MESSAGES)").await,
        "* STATUS \"INBOX\" (MESSAGES 0)\r\nn OK STATUS completed\r\n"
    );
}

#[tokio::test]
async fn shutdown_says_bye() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.login().await;
    f.shutdown.send(true).unwrap();
    assert_eq!(c.read_until("* BYE").await, "* BYE [UNAVAILABLE] Server shutting down, try again soon\r\n");
    assert!(c.closed().await);
}

#[tokio::test]
async fn imap4rev2_clients_get_utf8_names_and_esearch() {
    let f = Fixture::new().await;
    f.deliver(MAIL).await;
    let mut c = f.connect();
    c.login().await;
    assert_eq!(c.cmd("e", "ENABLE IMAP4rev2").await, "* ENABLED IMAP4REV2\r\ne OK ENABLE completed\r\n");
    let r = c.cmd("s", "SELECT \"Envoyés\"").await;
    assert!(r.contains("* LIST () \"/\" \"Envoyés\"\r\n") && !r.contains("RECENT"), "{r}");
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(c.cmd("q", "SEARCH ALL").await, "* ESEARCH (TAG \"q\") ALL 1\r\nq OK SEARCH completed\r\n");
    // The missing parent is made too (RFC 9051 section 6.3.4), as a
    // \Noselect placeholder, which LIST-STATUS gives no STATUS for (RFC 5819
    // section 2); creating it by name makes it a mailbox.
    assert!(c.cmd("c", "CREATE \"Réunions/2026\"").await.ends_with("] CREATE completed\r\n"));
    let r = c.cmd("l", "LIST \"\" \"R*\" RETURN (STATUS (MESSAGES))").await;
    assert_eq!(
        r,
        "* LIST (\\HasChildren \\Noselect) \"/\" \"Réunions\"\r\n\
         * LIST (\\HasNoChildren) \"/\" \"Réunions/2026\"\r\n* STATUS \"Réunions/2026\" (MESSAGES 0)\r\n\
         l OK LIST completed\r\n"
    );
    assert_eq!(c.cmd("d", "DELETE \"Réunions/2026\"").await, "d OK DELETE completed\r\n");
    assert!(c.cmd("d", "CREATE \"Réunions\"").await.ends_with("] CREATE completed\r\n"));
    let r = c.cmd("l", "LIST \"\" \"R*\" RETURN (STATUS (MESSAGES UIDNEXT))").await;
    assert_eq!(
        r,
        "* LIST (\\HasNoChildren) \"/\" \"Réunions\"\r\n* STATUS \"Réunions\" (MESSAGES 0 UIDNEXT 1)\r\nl OK LIST completed\r\n"
    );
}

#[tokio::test]
async fn an_account_has_a_session_cap() {
    let f = Fixture::with_admission(imap::Admission::new(100, 1)).await;
    let mut a = f.connect();
    a.login().await;
    let mut b = f.connect();
    b.greeting().await;
    assert_eq!(
        b.cmd("l", &format!("LOGIN claire.martin@ac-demo.fr {PASSWORD}")).await,
        "l NO [LIMIT] Trop de connexions pour ce compte / Too many connections for this account\r\n"
    );
    a.cmd("o", "LOGOUT").await;
    assert!(a.closed().await);
    assert!(b.cmd("m", &format!("LOGIN claire.martin@ac-demo.fr {PASSWORD}")).await.starts_with("m OK"));
}

#[tokio::test]
async fn condstore_changedsince_and_unchangedsince() {
    let f = Fixture::new().await;
    f.deliver(MAIL).await;
    f.deliver(MAIL).await;
    let mut c = f.connect();
    c.login().await;
    let r = c.cmd("s", "SELECT INBOX (CONDSTORE)").await;
    assert!(r.contains("* OK [HIGHESTMODSEQ 3] Highest\r\n"), "{r}");
    // RFC 7162 section 3.2: "An untagged FETCH response MUST be sent, even if
    // the .SILENT suffix is specified, and the response MUST include the
    // MODSEQ message data item" (found by the Dovecot differential test).
    assert_eq!(
        c.cmd("a", "STORE 2 +FLAGS.SILENT (\\Flagged)").await,
        "* 2 FETCH (UID 2 MODSEQ (4))\r\na OK STORE completed\r\n"
    );
    assert_eq!(
        c.cmd("b", "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 3)").await,
        "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent) MODSEQ (4))\r\nb OK UID FETCH completed\r\n"
    );
    assert_eq!(
        c.cmd("d", "UID STORE 1:2 (UNCHANGEDSINCE 3) +FLAGS (\\Seen)").await,
        "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) MODSEQ (5))\r\nd OK [MODIFIED 2] Conditional STORE failed for some messages\r\n"
    );
    assert_eq!(c.cmd("e", "SEARCH MODSEQ 5").await, "* SEARCH 1 (MODSEQ 5)\r\ne OK SEARCH completed\r\n");
}

/// Every command of the authenticated state is refused before login, every
/// command of the selected state also without a mailbox (RFC 9051: BAD),
/// and those of the not-authenticated state after login; the commands of
/// any state work in each.
#[tokio::test]
async fn each_command_is_refused_outside_its_state() {
    let f = Fixture::new().await;
    let mut c = f.connect();
    c.greeting().await;
    let authenticated = [
        "ENABLE CONDSTORE",
        "COMPRESS DEFLATE",
        "IDLE",
        "SELECT INBOX",
        "EXAMINE INBOX",
        "LIST \"\" *",
        "STATUS INBOX (MESSAGES)",
        "CREATE Projets",
        "DELETE Projets",
        "RENAME Projets Archives",
        "SUBSCRIBE INBOX",
        "UNSUBSCRIBE INBOX",
        "APPEND INBOX {1+}\r\nx",
        "GETQUOTA \"\"",
        "GETQUOTAROOT INBOX",
        "MYRIGHTS INBOX",
        "GETACL INBOX",
        "LISTRIGHTS INBOX anyone",
    ];
    let selected =
        ["CLOSE", "UNSELECT", "EXPUNGE", "UID EXPUNGE 1", "FETCH 1 FLAGS", "STORE 1 +FLAGS (\\Seen)", "COPY 1 INBOX"];
    let selected_too =
        ["MOVE 1 INBOX", "SEARCH ALL", "UID SEARCH ALL", "SORT (DATE) UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL"];
    for (i, command) in authenticated.iter().chain(&selected).chain(&selected_too).enumerate() {
        let tag = format!("a{i}");
        assert_eq!(c.cmd(&tag, command).await, format!("{tag} BAD Log in first (LOGIN or AUTHENTICATE)\r\n"));
    }
    for (tag, command) in [("n", "NOOP"), ("i", "ID NIL"), ("s", "NAMESPACE")] {
        assert!(c.cmd(tag, command).await.contains(&format!("{tag} OK ")));
    }
    let login = c.cmd("k", &format!("LOGIN claire.martin@ac-demo.fr {PASSWORD}")).await;
    assert!(login.starts_with("k OK"), "{login}");
    for (i, command) in selected.iter().chain(&selected_too).enumerate() {
        let tag = format!("b{i}");
        assert_eq!(c.cmd(&tag, command).await, format!("{tag} BAD Select a mailbox first\r\n"));
    }
    assert_eq!(
        c.cmd("l", &format!("LOGIN claire.martin@ac-demo.fr {PASSWORD}")).await,
        "l BAD Already authenticated\r\n"
    );
    assert_eq!(c.cmd("p", "AUTHENTICATE PLAIN AGNsYWlyZQBwdw==").await, "p BAD Already authenticated\r\n");
    assert!(c.cmd("q", "STATUS INBOX (MESSAGES)").await.ends_with("q OK STATUS completed\r\n"));
    c.cmd("s", "SELECT INBOX").await;
    assert!(c.cmd("f", "FETCH 1:* FLAGS").await.ends_with("f OK FETCH completed\r\n"));
    assert_eq!(c.cmd("u", "UNSELECT").await, "u OK UNSELECT completed\r\n");
    assert_eq!(c.cmd("v", "FETCH 1 FLAGS").await, "v BAD Select a mailbox first\r\n");
}
