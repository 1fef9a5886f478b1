//! NOTIFY (RFC 5465): what a session is told between commands and during
//! IDLE, for the selected mailbox and for others. Each test quotes the
//! sentences it checks.

mod common;

use common::Fixture;

fn mail(subject: &str) -> Vec<u8> {
    format!("From: paul.durand@ac-demo.fr\r\nTo: claire.martin@ac-demo.fr\r\nSubject: {subject}\r\n\r\nTexte.\r\n")
        .into_bytes()
}

async fn session(f: &Fixture) -> common::Client {
    let mut c = f.connect();
    c.login().await;
    // IMAP4rev2: no \Recent or RECENT in what follows.
    c.cmd("v", "ENABLE IMAP4rev2").await;
    c
}

/// Section 5: "If one of MessageNew or MessageExpunge is specified, then
/// both events MUST be specified. Otherwise, the server MUST respond with
/// the tagged BAD response." "If the FlagChange and/or AnnotationChange
/// events are specified, MessageNew and MessageExpunge MUST also be
/// specified". Section 6.1: "Only one of the mailbox specifiers affecting
/// the currently selected mailbox can be specified" and "It is an error to
/// specify other types of events with either the SELECTED or the
/// SELECTED-DELAYED selector." Section 3.1: "If the client requests
/// information for events of an unsupported type, the server MUST refuse
/// the command with a tagged NO response (not a BAD). This response SHOULD
/// contain the BADEVENT response code, which MUST list names of all events
/// supported by the server."
#[tokio::test]
async fn malformed_and_unsupported_requests() {
    let f = Fixture::new().await;
    let mut c = session(&f).await;
    for (tag, cmd) in [
        ("b1", "NOTIFY SET (selected (MessageNew))"),
        ("b2", "NOTIFY SET (personal (MessageExpunge))"),
        ("b3", "NOTIFY SET (personal (FlagChange))"),
        ("b4", "NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))"),
        ("b5", "NOTIFY SET (selected (MailboxName))"),
        ("b6", "NOTIFY SET (nowhere (MailboxName))"),
        ("b7", "NOTIFY SET (personal ())"),
        ("b8", "NOTIFY MAYBE"),
    ] {
        let r = c.cmd(tag, cmd).await;
        assert!(r.starts_with(&format!("{tag} BAD")), "{cmd}: {r}");
    }
    let r = c.cmd("n1", "NOTIFY SET (personal (MailboxMetadataChange))").await;
    assert!(
        r.starts_with("n1 NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)]"),
        "{r}"
    );
    assert_eq!(c.cmd("ok", "NOTIFY SET (personal NONE)").await, "ok OK NOTIFY completed\r\n");
    assert_eq!(c.cmd("none", "NOTIFY NONE").await, "none OK NOTIFY completed\r\n");
}

/// Section 5.2: "If the new/appended message is in the selected mailbox,
/// the server notifies the client by sending an unsolicited EXISTS
/// response, followed by an unsolicited FETCH response containing the
/// information requested by the client." Section 5.3: "If the expunged
/// message or messages are in the selected mailbox, the server notifies the
/// client using EXPUNGE". Section 5.1: an "unsolicited FETCH response,
/// which MUST include UID and FLAGS". All with no command in progress.
#[tokio::test]
async fn selected_mailbox_events_arrive_between_commands() {
    let f = Fixture::new().await;
    f.deliver(&mail("Premier")).await;
    let mut c = session(&f).await;
    c.cmd("s", "SELECT INBOX").await;
    assert_eq!(
        c.cmd(
            "N",
            "NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge FlagChange))"
        )
        .await,
        "N OK NOTIFY completed\r\n"
    );
    f.deliver(&mail("Conseil de classe")).await;
    assert_eq!(c.read_until("").await, "* 2 EXISTS\r\n",);
    assert_eq!(
        c.read_until(")").await,
        "* 2 FETCH (UID 2 BODY[HEADER.FIELDS (Subject)] {30}\r\nSubject: Conseil de classe\r\n\r\n)\r\n"
    );
    let mut other = session(&f).await;
    other.cmd("s", "SELECT INBOX").await;
    other.cmd("f", "UID STORE 2 +FLAGS (\\Flagged)").await;
    assert_eq!(c.read_until("").await, "* 2 FETCH (UID 2 FLAGS (\\Flagged))\r\n");
    other.cmd("x", "UID STORE 1 +FLAGS (\\Deleted)").await;
    c.read_until("* 1 FETCH").await;
    other.cmd("e", "EXPUNGE").await;
    assert_eq!(c.read_until("").await, "* 1 EXPUNGE\r\n");
    // Section 5.2: the notification must not set \Seen (BODY.PEEK).
    assert_eq!(c.cmd("g", "FETCH 1 FLAGS").await, "* 1 FETCH (FLAGS (\\Flagged))\r\ng OK FETCH completed\r\n");
}

/// Section 6.1.2 (selected-delayed): expunges wait for a command that may
/// carry them, new messages do not.
#[tokio::test]
async fn selected_delayed_holds_expunges_for_a_command() {
    let f = Fixture::new().await;
    f.deliver(&mail("Un")).await;
    f.deliver(&mail("Deux")).await;
    let mut c = session(&f).await;
    c.cmd("s", "SELECT INBOX").await;
    c.cmd("N", "NOTIFY SET (selected-delayed (MessageNew MessageExpunge))").await;
    let mut other = session(&f).await;
    other.cmd("s", "SELECT INBOX").await;
    other.cmd("x", "UID STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    other.cmd("e", "EXPUNGE").await;
    f.deliver(&mail("Trois")).await;
    // The arrival is told at once; the expunged message keeps its number.
    assert!(c.read_until("* 3 EXISTS").await.ends_with("* 3 EXISTS\r\n"));
    let noop = c.cmd("n", "NOOP").await;
    assert!(noop.contains("* 1 EXPUNGE\r\n"), "{noop}");
}

/// Section 5.2: "If the new/appended message is in another mailbox, the
/// server sends an unsolicited STATUS (UIDNEXT MESSAGES) response for the
/// relevant mailbox." Section 3.1: with the STATUS indicator, "the server
/// MUST send a STATUS response for that mailbox before NOTIFY's tagged OK."
/// During IDLE (section 4) "the server MUST send exactly the same events as
/// instructed using the NOTIFY command".
#[tokio::test]
async fn other_mailboxes_report_status() {
    let f = Fixture::new().await;
    let mut c = session(&f).await;
    c.cmd("c", "CREATE Projets").await;
    c.cmd("s", "SELECT INBOX").await;
    let validity = f.ms.mailbox_named(f.claire.id, "Projets").await.unwrap().unwrap().uid_validity;
    let r = c.cmd("N", "NOTIFY SET STATUS (selected (MessageNew MessageExpunge)) (personal (MessageNew MessageExpunge FlagChange))").await;
    // Every personal mailbox but the selected one, before the OK.
    assert!(
        r.contains(&format!("* STATUS \"Projets\" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY {validity} UNSEEN 0)\r\n")),
        "{r}"
    );
    assert!(!r.contains("STATUS INBOX"), "{r}");
    assert!(r.ends_with("N OK NOTIFY completed\r\n"), "{r}");
    let mut other = session(&f).await;
    other.cmd("a", "APPEND Projets {6+}\r\nSujet.").await;
    assert_eq!(
        c.read_until("").await,
        format!("* STATUS \"Projets\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY {validity} UNSEEN 1)\r\n")
    );
    // FlagChange: the unseen count moves.
    other.cmd("s", "SELECT Projets").await;
    c.send(b"i IDLE\r\n").await;
    c.read_until("+").await;
    other.cmd("f", "STORE 1 +FLAGS (\\Seen)").await;
    assert_eq!(
        c.read_until("").await,
        format!("* STATUS \"Projets\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY {validity} UNSEEN 0)\r\n")
    );
    c.send(b"DONE\r\n").await;
    assert_eq!(c.read_until("i ").await, "i OK IDLE terminated\r\n");
    // After NOTIFY NONE, nothing more.
    c.cmd("n", "NOTIFY NONE").await;
    other.cmd("a2", "APPEND Projets {6+}\r\nSujet.").await;
    assert_eq!(c.cmd("p", "NOOP").await, "p OK NOOP completed\r\n");
}

/// Section 5.4: "The server notifies the client by sending an unsolicited
/// LIST response for each affected mailbox name. If, after the event, the
/// mailbox name does not refer to a mailbox accessible to the client, the
/// \Nonexistent flag MUST be included." "For each LISTable mailbox renamed,
/// the server sends an extended LIST response for the new mailbox name,
/// containing the OLDNAME extended data item with the old mailbox name."
/// Section 5.5: "If and only if the mailbox is subscribed after the event,
/// the \Subscribed attribute is included."
#[tokio::test]
async fn mailbox_names_and_subscriptions() {
    let f = Fixture::new().await;
    let mut c = session(&f).await;
    c.cmd("N", "NOTIFY SET (personal (MailboxName SubscriptionChange))").await;
    let mut other = session(&f).await;
    other.cmd("c", "CREATE \"Élèves\"").await;
    assert_eq!(c.read_until("").await, "* LIST () \"/\" \"Élèves\"\r\n");
    other.cmd("r", "RENAME \"Élèves\" Classes").await;
    assert_eq!(c.read_until("").await, "* LIST () \"/\" \"Classes\" (\"OLDNAME\" (\"Élèves\"))\r\n");
    other.cmd("s", "SUBSCRIBE Classes").await;
    assert_eq!(c.read_until("").await, "* LIST (\\Subscribed) \"/\" \"Classes\"\r\n");
    other.cmd("u", "UNSUBSCRIBE Classes").await;
    assert_eq!(c.read_until("").await, "* LIST () \"/\" \"Classes\"\r\n");
    other.cmd("d", "DELETE Classes").await;
    assert_eq!(c.read_until("").await, "* LIST (\\NonExistent) \"/\" \"Classes\"\r\n");
    // A group naming other mailboxes leaves these out.
    c.cmd("N2", "NOTIFY SET (mailboxes Sorties (MailboxName))").await;
    other.cmd("c2", "CREATE Divers").await;
    other.cmd("c3", "CREATE Sorties").await;
    assert_eq!(c.read_until("").await, "* LIST () \"/\" \"Sorties\"\r\n");
}
