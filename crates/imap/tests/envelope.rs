//! The ENVELOPE a client reads is the same whether the mail domain stored
//! the forms IMAP rendered at delivery (the server) or stored none (tools,
//! contents older than version 11), in which case FETCH writes it from the
//! stored analysis.

mod common;

use common::Fixture;

/// Messages whose envelopes exercise every rule: 8-bit names and subject
/// (encoded words or UTF-8), a group, quotes and backslashes, a subject too
/// long to quote, no date, In-Reply-To.
fn messages() -> Vec<Vec<u8>> {
    let long = "x".repeat(600);
    vec![
        "From: =?UTF-8?Q?H=C3=A9l=C3=A8ne_Roux?= <helene.roux@ac-demo.fr>\r\nTo: claire.martin@ac-demo.fr\r\n\
         Date: Mon, 5 Jan 2026 08:00:00 +0100\r\nSubject: Réunion de rentrée\r\nMessage-ID: <r1@ac-demo.fr>\r\n\r\nx\r\n"
            .as_bytes()
            .to_vec(),
        b"From: \"Le \\\"chef\\\" \\\\ adjoint\" <chef@ac-demo.fr>\r\nTo: Equipe: a@ac-demo.fr, b@ac-demo.fr;\r\n\
          Cc: undisclosed-recipients:;\r\nIn-Reply-To: <r1@ac-demo.fr>\r\nSubject: Re: \"tout\" \\ rien\r\n\r\ny\r\n"
            .to_vec(),
        format!("From: x@ac-demo.fr\r\nSubject: {long}\r\nReply-To: Sécrétariat <secretariat@ac-demo.fr>\r\n\r\nz\r\n")
            .into_bytes(),
    ]
}

/// Every message's ENVELOPE, without UTF-8 then with UTF8=ACCEPT.
async fn envelopes(f: &Fixture) -> (String, String) {
    for raw in messages() {
        f.deliver(&raw).await;
    }
    let mut c = f.connect();
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    let plain = c.cmd("a", "FETCH 1:* (ENVELOPE)").await;
    c.cmd("e", "ENABLE UTF8=ACCEPT").await;
    let utf8 = c.cmd("b", "FETCH 1:* (ENVELOPE)").await;
    (plain, utf8)
}

#[tokio::test]
async fn stored_and_rendered_envelopes_fetch_identically() {
    let stored = Fixture::new().await;
    let rendered = Fixture::without_envelope_forms().await;
    let inbox = |f: &Fixture| {
        let (ms, id) = (f.ms.clone(), f.claire.id);
        async move { ms.mailbox_named(id, "INBOX").await.unwrap().unwrap().id }
    };
    let with_forms = envelopes(&stored).await;
    let without = envelopes(&rendered).await;
    // Both paths were taken: one domain stored every envelope, the other none.
    let kept = stored.ms.envelopes_between(inbox(&stored).await, 1, 10, false).await.unwrap();
    assert_eq!(kept.len(), 3);
    assert!(rendered.ms.envelopes_between(inbox(&rendered).await, 1, 10, false).await.unwrap().is_empty());
    assert_eq!(with_forms.0, without.0);
    assert_eq!(with_forms.1, without.1);
    assert!(with_forms.0.contains("\"=?UTF-8?B?UsOpdW5pb24gZGUgcmVudHLDqWU=?=\""), "{}", with_forms.0);
    assert!(with_forms.1.contains("\"Réunion de rentrée\""), "{}", with_forms.1);
    assert!(with_forms.0.contains("{600}\r\n"), "a long subject goes as a literal: {}", with_forms.0);
}
