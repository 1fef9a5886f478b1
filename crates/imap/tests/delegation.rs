//! Delegation over IMAP (RFC 4314 ACL, the `Partages/` namespace): who may
//! do what with Claire's folders and a functional mailbox's, as byte-exact
//! dialogues and an authorization matrix over every right.

mod common;

use common::{Client, Fixture, PASSWORD, create};
use model::{AccountStatus, Rights, Role, SendRights};

const MAIL: &[u8] = b"From: Parent <parent@example.org>\r\nTo: claire.martin@ac-demo.fr\r\n\
Subject: Absence\r\nMessage-ID: <abs1@example.org>\r\n\r\nMon fils sera absent.\r\n";

async fn login_as(f: &Fixture, local: &str) -> Client {
    let mut c = f.connect();
    c.greeting().await;
    let r = c.cmd("l", &format!("LOGIN {local}@ac-demo.fr {PASSWORD}")).await;
    assert!(r.starts_with("l OK"), "{r}");
    c
}

/// Claire with one message in her Inbox and a folder `Projets`, and Paul.
async fn claire_and_paul() -> (Fixture, model::AccountId) {
    let f = Fixture::new().await;
    f.deliver(MAIL).await;
    f.ms.create_mailbox(f.claire.id, "Projets", None).await.unwrap();
    let paul = create(&f.store, "paul.durand", Role::Teacher, AccountStatus::Active).await;
    (f, paul.id)
}

#[tokio::test]
async fn acl_round_trip_and_shared_namespace() {
    let (f, _) = claire_and_paul().await;
    let mut claire = f.connect();
    claire.login().await;
    assert_eq!(
        claire.cmd("n", "NAMESPACE").await,
        "* NAMESPACE ((\"\" \"/\")) ((\"Partages/\" \"/\")) NIL\r\nn OK NAMESPACE completed\r\n"
    );
    assert_eq!(claire.cmd("a", "SETACL INBOX paul.durand@ac-demo.fr lrs").await, "a OK SETACL completed\r\n");
    assert_eq!(
        claire.cmd("b", "GETACL INBOX").await,
        "* ACL \"INBOX\" claire.martin@ac-demo.fr lrswipkxtea paul.durand@ac-demo.fr lrs\r\nb OK GETACL completed\r\n"
    );
    assert_eq!(claire.cmd("c", "SETACL INBOX paul.durand@ac-demo.fr +w").await, "c OK SETACL completed\r\n");
    assert!(claire.cmd("d", "GETACL INBOX").await.contains(" paul.durand@ac-demo.fr lrsw\r\n"));
    // Unknown rights are a BAD that names them; nothing changed.
    let bad = claire.cmd("e", "SETACL INBOX paul.durand@ac-demo.fr lrz").await;
    assert!(bad.starts_with("e BAD") && bad.contains("'z'"), "{bad}");
    assert!(claire.cmd("f", "GETACL INBOX").await.contains(" paul.durand@ac-demo.fr lrsw\r\n"));
    assert!(claire.cmd("g", "SETACL INBOX anyone lr").await.starts_with("g NO [CANNOT]"));
    assert!(claire.cmd("h", "SETACL INBOX inconnu@ac-demo.fr lr").await.starts_with("h NO [CANNOT]"));
    assert!(claire.cmd("i", "SETACL INBOX claire.martin@ac-demo.fr lr").await.starts_with("i NO [CANNOT]"));
    assert_eq!(
        claire.cmd("j", "LISTRIGHTS INBOX paul.durand@ac-demo.fr").await,
        "* LISTRIGHTS \"INBOX\" paul.durand@ac-demo.fr \"\" l r s w i p k x t e a\r\nj OK LISTRIGHTS completed\r\n"
    );

    let mut paul = login_as(&f, "paul.durand").await;
    let list = paul.cmd("k", "LIST \"\" \"Partages/*\"").await;
    assert_eq!(
        list,
        "* LIST (\\HasChildren \\Noselect) \"/\" \"Partages/claire.martin\"\r\n\
         * LIST (\\HasNoChildren) \"/\" \"Partages/claire.martin/INBOX\"\r\nk OK LIST completed\r\n"
    );
    assert_eq!(
        paul.cmd("m", "MYRIGHTS Partages/claire.martin/INBOX").await,
        "* MYRIGHTS \"Partages/claire.martin/INBOX\" lrsw\r\nm OK MYRIGHTS completed\r\n"
    );
    // Paul does not administer it: he cannot read or change its ACL.
    assert!(paul.cmd("o", "GETACL Partages/claire.martin/INBOX").await.starts_with("o NO [NOPERM]"));
    assert!(
        paul.cmd("p", "SETACL Partages/claire.martin/INBOX paul.durand@ac-demo.fr lrswipkxtea")
            .await
            .starts_with("p NO [NOPERM]")
    );
    // DELETEACL takes the rights away: the folder is gone for Paul.
    assert_eq!(claire.cmd("q", "DELETEACL INBOX paul.durand@ac-demo.fr").await, "q OK DELETEACL completed\r\n");
    assert_eq!(paul.cmd("r", "LIST \"\" \"Partages/*\"").await, "r OK LIST completed\r\n");
    assert_eq!(paul.cmd("s", "SELECT Partages/claire.martin/INBOX").await, "s NO [NONEXISTENT] No such mailbox\r\n");
}

#[tokio::test]
async fn a_delegate_reaching_another_folder_learns_nothing() {
    let (f, _) = claire_and_paul().await;
    let mut claire = f.connect();
    claire.login().await;
    claire.cmd("a", "SETACL Projets paul.durand@ac-demo.fr lr").await;
    let mut paul = login_as(&f, "paul.durand").await;
    let missing = paul.cmd("b", "SELECT Partages/claire.martin/Nulle-part").await;
    let not_given = paul.cmd("c", "SELECT Partages/claire.martin/INBOX").await;
    assert_eq!(missing.replace("b NO", "x NO"), not_given.replace("c NO", "x NO"));
    for (tag, command) in [
        ("d", "STATUS Partages/claire.martin/INBOX (MESSAGES)"),
        ("e", "MYRIGHTS Partages/claire.martin/INBOX"),
        ("f", "APPEND Partages/claire.martin/INBOX {1+}\r\nx"),
        ("g", "EXAMINE Partages/paul.durand/INBOX"),
        ("h", "GETACL Partages/claire.martin/INBOX"),
    ] {
        assert_eq!(paul.cmd(tag, command).await, format!("{tag} NO [NONEXISTENT] No such mailbox\r\n"), "{command}");
    }
    // What was given works, read-only.
    let examine = paul.cmd("i", "SELECT Partages/claire.martin/Projets").await;
    assert!(examine.ends_with("i OK [READ-ONLY] SELECT completed\r\n"), "{examine}");
    assert!(paul.cmd("j", "CREATE Partages/claire.martin/Nouveau").await.starts_with("j NO [NOPERM]"));
}

/// One right at a time on Claire's Inbox: what Paul can and cannot do.
#[tokio::test]
async fn authorization_matrix_over_each_right() {
    // (rights, select, fetch body marks \Seen, store \Flagged, store \Deleted, expunge, append, copy into)
    let cases: &[(&str, bool, bool, bool, bool, bool, bool)] = &[
        ("l", false, false, false, false, false, false),
        ("lr", true, false, false, false, false, false),
        ("lrs", true, true, false, false, false, false),
        ("lrw", true, false, true, false, false, false),
        ("lrt", true, false, false, true, false, false),
        ("lrte", true, false, false, true, true, false),
        ("lri", true, false, false, false, false, true),
        ("lrswipkxtea", true, true, true, true, true, true),
    ];
    for (rights, select, seen, flag, delete, expunge, insert) in cases.iter().copied() {
        let (f, paul) = claire_and_paul().await;
        let inbox = f.ms.mailbox_named(f.claire.id, "INBOX").await.unwrap().unwrap();
        let grant = Rights::parse(rights).unwrap();
        f.ms.set_account_rights(f.claire.id, paul, grant, SendRights::default()).await.unwrap();
        let mut c = login_as(&f, "paul.durand").await;
        let name = "Partages/claire.martin/INBOX";
        let r = c.cmd("a", &format!("SELECT {name}")).await;
        assert_eq!(r.contains("a OK"), select, "{rights}: SELECT {r}");
        if !select {
            assert!(r.contains("a NO [NOPERM]"), "{rights}: {r}");
            continue;
        }
        c.cmd("b", "FETCH 1 BODY[TEXT]").await;
        let flags = f.store.messages(inbox.id).await.unwrap()[0].flags;
        assert_eq!(flags & model::Flag::Seen.bit() != 0, seen, "{rights}: \\Seen after FETCH");
        let r = c.cmd("c", "STORE 1 +FLAGS.SILENT (\\Flagged)").await;
        assert_eq!(r.starts_with("c OK"), flag, "{rights}: {r}");
        let r = c.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
        assert_eq!(r.starts_with("d OK"), delete, "{rights}: {r}");
        let r = c.cmd("e", "EXPUNGE").await;
        assert_eq!(r.contains("e OK"), expunge, "{rights}: {r}");
        let r = c.cmd("f", &format!("APPEND {name} {{1+}}\r\nx")).await;
        assert_eq!(r.contains("f OK"), insert, "{rights}: {r}");
        let left = f.store.messages(inbox.id).await.unwrap().len();
        let expected = 1 - usize::from(expunge) + usize::from(insert);
        assert_eq!(left, expected, "{rights}: messages left");
        // Paul's own Inbox is never a target for Claire's messages: COPY
        // between two accounts is refused whatever the rights.
        if !expunge {
            let r = c.cmd("g", "COPY 1 INBOX").await;
            assert!(r.starts_with("g NO [CANNOT]"), "{rights}: {r}");
        }
    }
}

#[tokio::test]
async fn a_members_change_reaches_another_member_in_idle_and_the_journal() {
    let f = Fixture::new().await;
    let secretariat = create(&f.store, "secretariat.0541234a", Role::Functional, AccountStatus::Active).await;
    let paul = create(&f.store, "paul.durand", Role::Teacher, AccountStatus::Active).await;
    let both = SendRights { send_as: true, on_behalf: true };
    f.ms.set_account_rights(secretariat.id, paul.id, Rights::READ_WRITE, both).await.unwrap();
    f.ms.set_account_rights(secretariat.id, f.claire.id, Rights::READ_WRITE, both).await.unwrap();
    f.ms.deliver(MAIL, &[secretariat.id], 1_767_225_600).await.unwrap();
    let name = "Partages/secretariat.0541234a/INBOX";

    let mut claire = f.connect();
    claire.login().await;
    let r = claire.cmd("a", &format!("SELECT {name}")).await;
    assert!(r.ends_with("a OK [READ-WRITE] SELECT completed\r\n"), "{r}");
    claire.send(b"i IDLE\r\n").await;
    claire.read_until("+ idling").await;

    let mut paul = login_as(&f, "paul.durand").await;
    paul.cmd("b", &format!("SELECT {name}")).await;
    assert!(paul.cmd("c", "STORE 1 +FLAGS (\\Deleted)").await.contains("c OK"));
    claire.read_until("* 1 FETCH").await;
    assert!(paul.cmd("d", "EXPUNGE").await.contains("d OK"));
    claire.read_until("* 1 EXPUNGE").await;
    claire.send(b"DONE\r\n").await;
    claire.read_until("i OK").await;

    let journal = f.ms.delegation_journal(secretariat.id).await.unwrap();
    let actions: Vec<(&str, &str)> = journal.iter().map(|e| (e.actor_address.as_str(), e.action.as_str())).collect();
    assert!(actions.contains(&("paul.durand@ac-demo.fr", "suppression")), "{actions:?}");
    assert!(actions.contains(&("paul.durand@ac-demo.fr", "lecture")), "{actions:?}");
    assert!(actions.contains(&("claire.martin@ac-demo.fr", "lecture")), "{actions:?}");
    // A functional mailbox's special folders are not the members' own.
    let list = paul.cmd("e", "LIST (SPECIAL-USE) \"\" \"*\"").await;
    assert!(!list.contains("Partages"), "{list}");
}

/// RFC 4314 section 4: CREATE under a shared folder needs `k` on it. The
/// child is the owner's, carries the parent's ACL, and appears for the
/// delegate under the same parent; without `k` the answer is NOPERM and
/// nothing is made; the shared root itself is never a place to create.
#[tokio::test]
async fn create_under_a_shared_folder_needs_k_and_inherits_its_acl() {
    let (f, paul) = claire_and_paul().await;
    let mut claire = f.connect();
    claire.login().await;
    assert_eq!(claire.cmd("a", "SETACL Projets paul.durand@ac-demo.fr lrs").await, "a OK SETACL completed\r\n");
    let mut paul_c = login_as(&f, "paul.durand").await;
    let refused = paul_c.cmd("b", "CREATE Partages/claire.martin/Projets/2027").await;
    assert_eq!(refused, "b NO [NOPERM] Creating folders here needs the k right\r\n");
    assert!(f.ms.mailbox_named(f.claire.id, "Projets/2027").await.unwrap().is_none());

    assert_eq!(claire.cmd("c", "SETACL Projets paul.durand@ac-demo.fr +k").await, "c OK SETACL completed\r\n");
    let made = paul_c.cmd("d", "CREATE Partages/claire.martin/Projets/2027").await;
    assert!(made.starts_with("d OK [MAILBOXID (F"), "{made}");
    let child = f.ms.mailbox_named(f.claire.id, "Projets/2027").await.unwrap().expect("made in Claire's account");
    assert_eq!(f.ms.rights_on(paul, &child).await.unwrap().to_string(), "lrsk");
    assert!(
        claire.cmd("e", "GETACL Projets/2027").await.contains(" paul.durand@ac-demo.fr lrsk\r\n"),
        "the child carries the parent's ACL"
    );
    let list = paul_c.cmd("f", "LIST \"\" \"Partages/claire.martin/Projets/*\"").await;
    assert!(list.contains("\"Partages/claire.martin/Projets/2027\""), "{list}");
    // A folder he was not given is not a parent he can create under.
    let elsewhere = paul_c.cmd("g", "CREATE Partages/claire.martin/INBOX/Secret").await;
    assert!(elsewhere.starts_with("g NO [NOPERM]"), "{elsewhere}");
    assert!(paul_c.cmd("h", "CREATE Partages/Nouveau").await.starts_with("h NO [NOPERM]"));
    assert!(f.ms.mailbox_named(f.claire.id, "INBOX/Secret").await.unwrap().is_none());
}
