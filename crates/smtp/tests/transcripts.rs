//! Byte-exact SMTP dialogues driven in memory against a fake mail sink.

mod common;

use common::{FakeSink, HOST, check, check_with, config, converse};
use model::Transience;
use smtp::{DeliverError, SmtpConfig};

#[tokio::test]
async fn happy_path_with_pipelining() {
    let sink = check(
        "S: 220 mx.ac-demo.fr ESMTP Ardoise
         C: EHLO client.example.org
         S: <ehlo>
         C: MAIL FROM:<Paul.Personne@Example.ORG> SIZE=120 BODY=8BITMIME
         C: RCPT TO:<claire.martin@ac-demo.fr>
         C: RCPT TO:<Paul.Durand@AC-DEMO.fr>
         C: DATA
         S: 250 2.1.0 Ok
         S: 250 2.1.5 Ok
         S: 250 2.1.5 Ok
         S: 354 2.0.0 End data with <CR><LF>.<CR><LF>
         C: From: <paul.personne@example.org>
         C: Subject: Conseil de classe
         C:
         C: Bonjour à tous.
         C: .
         C: QUIT
         S: 250 2.0.0 Ok: queued as *
         S: 221 2.0.0 mx.ac-demo.fr Bye",
    )
    .await;
    let (envelope, message) = sink.single_message();
    assert_eq!(envelope.mail_from.unwrap().to_string(), "paul.personne@example.org");
    let rcpts: Vec<_> = envelope.recipients.iter().map(|(a, id)| (a.to_string(), *id)).collect();
    assert_eq!(rcpts, [("claire.martin@ac-demo.fr".to_owned(), 1), ("paul.durand@ac-demo.fr".to_owned(), 2)]);
    assert_eq!(envelope.helo, "client.example.org");
    assert_eq!(envelope.remote_ip.to_string(), common::CLIENT_IP);
    assert!(!envelope.tls);
    assert!(
        message.ends_with(
            "\r\nFrom: <paul.personne@example.org>\r\nSubject: Conseil de classe\r\n\r\nBonjour à tous.\r\n"
        )
    );
    assert_eq!(*sink.declared_sizes.lock().unwrap(), [Some(120), Some(120)]);
}

#[tokio::test]
async fn received_header_is_prepended() {
    let sink = check(
        "S: 220 *
         C: EHLO relay.example.org
         S: <ehlo>
         C: MAIL FROM:<>
         C: RCPT TO:<claire.martin@ac-demo.fr>
         C: DATA
         S: 250 2.1.0 Ok
         S: 250 2.1.5 Ok
         S: 354 *
         C: Subject: x
         C:
         C: body
         C: .
         S: 250 2.0.0 Ok: queued as *",
    )
    .await;
    let (envelope, message) = sink.single_message();
    assert_eq!(envelope.mail_from, None, "<> is the null sender");
    let (received, rest) = message.split_once(";\r\n\t").unwrap();
    assert!(
        received.starts_with("Received: from relay.example.org ([192.0.2.7])\r\n\tby mx.ac-demo.fr with ESMTP id ")
    );
    assert!(received.ends_with("\r\n\tfor <claire.martin@ac-demo.fr>"), "{received}");
    let (date, body) = rest.split_once("\r\n").unwrap();
    assert!(date.ends_with(" +0000") && date.len() > 25, "{date}");
    assert_eq!(body, "Subject: x\r\n\r\nbody\r\n");
}

#[tokio::test]
async fn helo_and_simple_commands() {
    let sink = check(
        "S: 220 *
         C: HELO old.example.org
         S: 250 mx.ac-demo.fr Bonjour [192.0.2.7]
         C: NOOP
         S: 250 2.0.0 Ok
         C: VRFY claire.martin
         S: 252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery
         C: HELP
         S: 214 2.0.0 Ardoise SMTP, see RFC 5321
         C: MAIL FROM:<a@example.org>
         S: 250 2.1.0 Ok
         C: RSET
         S: 250 2.0.0 Ok
         C: RCPT TO:<claire.martin@ac-demo.fr>
         S: 503 5.5.1 Bad sequence of commands: need MAIL before RCPT
         C: MAIL FROM:<a@example.org>
         S: 250 2.1.0 Ok
         C: RCPT TO:<claire.martin@ac-demo.fr>
         S: 250 2.1.5 Ok
         C: DATA
         S: 354 *
         C: x
         C: .
         S: 250 2.0.0 Ok: queued as *
         C: quit
         S: 221 2.0.0 mx.ac-demo.fr Bye",
    )
    .await;
    let (_, message) = sink.single_message();
    assert!(message.contains("with SMTP id"), "HELO sessions are plain SMTP: {message}");
}

#[tokio::test]
async fn sequence_and_syntax_errors() {
    // Ten client errors would end the session (see too_many_errors_closes_with_421).
    let cfg = SmtpConfig { max_errors: 100, ..config() };
    let sink = FakeSink::default();
    check_with(
        &cfg,
        &sink,
        "S: 220 *
         C: MAIL FROM:<a@example.org>
         S: 503 5.5.1 Bad sequence of commands: send HELO or EHLO first
         C: EHLO c
         S: <ehlo>
         C: DATA
         S: 503 5.5.1 Bad sequence of commands: need MAIL and RCPT before DATA
         C: XYZZY
         S: 500 5.5.2 Command unrecognized
         C: MAIL FROM claire
         S: 501 5.5.4 Syntax error: MAIL FROM:<reverse-path> [parameters]
         C: MAIL FROM:<not an address>
         S: 501 5.1.7 Bad sender address syntax
         C: MAIL FROM:<a@example.org> RET=FULL
         S: 555 5.5.4 Unsupported parameter RET/ENVID
         C: MAIL FROM:<a@example.org> SIZE=20971521
         S: 552 5.3.4 Message too big for system
         C: MAIL FROM:<a@example.org>
         S: 250 2.1.0 Ok
         C: MAIL FROM:<b@example.org>
         S: 503 5.5.1 Bad sequence of commands: nested MAIL command
         C: RCPT TO:<a..b@ac-demo.fr>
         S: 501 5.1.3 Bad recipient address syntax
         C: DATA
         S: 554 5.5.1 No valid recipients
         C: AUTH PLAIN AGEAYg==
         S: 502 5.5.1 AUTH not implemented
         C: STARTTLS
         S: 502 5.5.1 STARTTLS not implemented
         C: QUIT
         S: 221 *",
    )
    .await;
    assert!(sink.deliveries().is_empty());
}

#[tokio::test]
async fn recipient_verdicts() {
    let cfg = SmtpConfig { max_recipients: 2, ..config() };
    let sink = FakeSink::default();
    check_with(
        &cfg,
        &sink,
        "S: 220 *
         C: EHLO c
         S: <ehlo>
         C: MAIL FROM:<a@example.org>
         C: RCPT TO:<inconnu@ac-demo.fr>
         C: RCPT TO:<someone@elsewhere.example>
         C: RCPT TO:<plein@ac-demo.fr>
         C: RCPT TO:<panne@ac-demo.fr>
         C: RCPT TO:<claire.martin@ac-demo.fr>
         C: RCPT TO:<claire.martin@ac-demo.fr>
         C: RCPT TO:<postmaster>
         C: RCPT TO:<paul.durand@ac-demo.fr>
         C: RCPT TO:<hélène@ac-demo.fr>
         S: 250 2.1.0 Ok
         S: 550 5.1.1 No such user here
         S: 554 5.7.1 Relaying denied
         S: 452 4.2.2 Mailbox full, try again later
         S: 451 4.3.0 Temporary failure, try again later
         S: 250 2.1.5 Ok
         S: 250 2.1.5 Ok
         S: 250 2.1.5 Ok
         S: 452 4.5.3 Too many recipients
         S: 553 5.6.7 Non-ASCII address requires SMTPUTF8",
    )
    .await;
    assert!(sink.deliveries().is_empty(), "no DATA, no delivery");
}

#[tokio::test]
async fn smtputf8_addresses() {
    let sink = check(
        "S: 220 *
         C: EHLO c
         S: <ehlo>
         C: MAIL FROM:<josé@exemple.fr> SMTPUTF8
         C: RCPT TO:<hélène@ac-demo.fr>
         C: DATA
         S: 250 2.1.0 Ok
         S: 250 2.1.5 Ok
         S: 354 *
         C: .
         S: 250 2.0.0 Ok: queued as *",
    )
    .await;
    let (envelope, message) = sink.single_message();
    assert_eq!(envelope.recipients[0].0.local(), "hélène");
    assert!(message.contains("with UTF8SMTP id"));
}

#[tokio::test]
async fn delivery_failures_follow_transience() {
    for (transience, reply) in [
        (Transience::Temporary, "451 4.3.0 Temporary failure: store unavailable"),
        (Transience::Permanent, "554 5.6.0 store unavailable"),
    ] {
        let sink = FakeSink::default();
        *sink.fail_with.lock().unwrap() = Some(DeliverError::failed(transience, "store unavailable"));
        let transcript = format!(
            "S: 220 *
             C: EHLO c
             S: <ehlo>
             C: MAIL FROM:<a@example.org>
             C: RCPT TO:<claire.martin@ac-demo.fr>
             C: DATA
             S: 250 2.1.0 Ok
             S: 250 2.1.5 Ok
             S: 354 *
             C: hello
             C: .
             S: {reply}
             C: RCPT TO:<claire.martin@ac-demo.fr>
             S: 503 5.5.1 Bad sequence of commands: need MAIL before RCPT"
        );
        check_with(&config(), &sink, &transcript).await;
    }
}

#[tokio::test]
async fn dot_stuffing_is_undone() {
    let sink = check(
        "S: 220 *
         C: EHLO c
         S: <ehlo>
         C: MAIL FROM:<a@example.org>
         C: RCPT TO:<claire.martin@ac-demo.fr>
         C: DATA
         S: 250 2.1.0 Ok
         S: 250 2.1.5 Ok
         S: 354 *
         C: ..
         C: ..leading
         C: ...
         C: a.b
         C: .
         S: 250 2.0.0 Ok: queued as *",
    )
    .await;
    let (_, message) = sink.single_message();
    assert!(message.ends_with("\r\n.\r\n.leading\r\n..\r\na.b\r\n"), "{message:?}");
}

#[tokio::test]
async fn bdat_with_several_chunks() {
    let mut input = b"EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\n".to_vec();
    // Binary-looking content, CRLF.CRLF included, must come through untouched.
    input.extend_from_slice(b"BDAT 12\r\nSubject: a\r\n");
    input.extend_from_slice(b"BDAT 7\r\n\r\n.\r\n\x00\xff");
    input.extend_from_slice(b"BDAT 0\r\n");
    input.extend_from_slice(b"BDAT 4 LAST\r\nend.QUIT\r\n");
    let sink = FakeSink::default();
    let output = String::from_utf8(converse(&config(), &sink, &input).await).unwrap();
    let tail = output.split_once("250 CHUNKING\r\n").unwrap().1;
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "250 2.1.0 Ok",
            "250 2.1.5 Ok",
            "250 2.0.0 12 octets received",
            "250 2.0.0 7 octets received",
            "250 2.0.0 0 octets received"
        ]
    );
    assert!(lines[5].starts_with("250 2.0.0 Ok: queued as "));
    assert_eq!(lines[6], "221 2.0.0 mx.ac-demo.fr Bye");
    let delivered = sink.deliveries();
    let body = delivered[0].1.split(|&b| b == b'\t').next_back().unwrap();
    assert!(body.ends_with(b"Subject: a\r\n\r\n.\r\n\x00\xffend."), "{:?}", String::from_utf8_lossy(body));
}

#[tokio::test]
async fn bdat_errors_still_consume_the_chunk() {
    let input =
        b"EHLO c\r\nBDAT 10\r\nNOOP\r\nNOOPBDAT 3 LAST\r\nabcMAIL FROM:<a@example.org>\r\nBDAT 2 LAST\r\nxyQUIT\r\n";
    let sink = FakeSink::default();
    let output = String::from_utf8(converse(&config(), &sink, input).await).unwrap();
    let tail = output.split_once("250 CHUNKING\r\n").unwrap().1;
    assert_eq!(
        tail,
        "503 5.5.1 Bad sequence of commands: need MAIL and RCPT before BDAT\r\n\
         503 5.5.1 Bad sequence of commands: need MAIL and RCPT before BDAT\r\n\
         250 2.1.0 Ok\r\n554 5.5.1 No valid recipients\r\n221 2.0.0 mx.ac-demo.fr Bye\r\n"
    );
    assert!(sink.deliveries().is_empty());
}

#[tokio::test]
async fn one_megabyte_line_is_stored_faithfully() {
    let line = "x".repeat(1024 * 1024);
    let input = format!(
        "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nDATA\r\n{line}\r\n.\r\nQUIT\r\n"
    );
    let sink = FakeSink::default();
    let output = String::from_utf8(converse(&config(), &sink, input.as_bytes()).await).unwrap();
    assert!(output.contains("\r\n250 2.0.0 Ok: queued as ") && output.ends_with("221 2.0.0 mx.ac-demo.fr Bye\r\n"));
    let (_, message) = sink.single_message();
    assert!(message.ends_with(&format!("\r\n{line}\r\n")));
}

#[tokio::test]
async fn one_megabyte_command_line_is_refused() {
    let input = format!("EHLO c\r\nNOOP {}\r\nNOOP\r\nQUIT\r\n", "y".repeat(1024 * 1024));
    let sink = FakeSink::default();
    let output = String::from_utf8(converse(&config(), &sink, input.as_bytes()).await).unwrap();
    let tail = output.split_once("250 CHUNKING\r\n").unwrap().1;
    assert_eq!(tail, "500 5.5.6 Line too long\r\n250 2.0.0 Ok\r\n221 2.0.0 mx.ac-demo.fr Bye\r\n");
}

#[tokio::test]
async fn oversize_message_is_refused_after_reading_it() {
    let cfg = SmtpConfig { max_message_size: 1000, ..config() };
    let big = "z".repeat(600);
    for body in [format!("{big}\r\n{big}\r\n.\r\n"), format!("{}\r\n.\r\n", "z".repeat(5 * 1024 * 1024))] {
        let input = format!(
            "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nDATA\r\n{body}NOOP\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nQUIT\r\n"
        );
        let sink = FakeSink::default();
        let output = String::from_utf8(converse(&cfg, &sink, input.as_bytes()).await).unwrap();
        let tail = output.split_once("\r\n354 ").unwrap().1.split_once("\r\n").unwrap().1;
        assert_eq!(
            tail,
            "552 5.3.4 Message too big for system\r\n250 2.0.0 Ok\r\n\
             503 5.5.1 Bad sequence of commands: need MAIL before RCPT\r\n221 2.0.0 mx.ac-demo.fr Bye\r\n"
        );
        assert!(sink.deliveries().is_empty());
    }

    let input = format!(
        "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nBDAT 600\r\n{big}BDAT 600\r\n{big}BDAT 3 LAST\r\nabcQUIT\r\n"
    );
    let sink = FakeSink::default();
    let output = String::from_utf8(converse(&cfg, &sink, input.as_bytes()).await).unwrap();
    assert!(output.ends_with(
        "250 2.0.0 600 octets received\r\n552 5.3.4 Message too big for system\r\n\
         503 5.5.1 Bad sequence of commands: need MAIL and RCPT before BDAT\r\n221 2.0.0 mx.ac-demo.fr Bye\r\n"
    ));
    assert!(sink.deliveries().is_empty());
}

#[tokio::test]
async fn exact_size_limit_is_accepted() {
    let cfg = SmtpConfig { max_message_size: 10, ..config() };
    let sink = FakeSink::default();
    check_with(
        &cfg,
        &sink,
        "S: 220 *
         C: EHLO c
         S: 250-*
         S: 250-PIPELINING
         S: 250-SIZE 10
         S: 250-8BITMIME
         S: 250-SMTPUTF8
         S: 250-ENHANCEDSTATUSCODES
         S: 250 CHUNKING
         C: MAIL FROM:<a@example.org> SIZE=10
         C: RCPT TO:<claire.martin@ac-demo.fr>
         C: DATA
         S: 250 2.1.0 Ok
         S: 250 2.1.5 Ok
         S: 354 *
         C: 12345678
         C: .
         S: 250 2.0.0 Ok: queued as *",
    )
    .await;
    assert_eq!(sink.deliveries().len(), 1);
}

#[tokio::test]
async fn disconnect_mid_data_delivers_nothing() {
    let sink = check(
        "S: 220 *
         C: EHLO c
         S: <ehlo>
         C: MAIL FROM:<a@example.org>
         C: RCPT TO:<claire.martin@ac-demo.fr>
         C: DATA
         S: 250 2.1.0 Ok
         S: 250 2.1.5 Ok
         S: 354 *
         C: Subject: cut short
         C:
         C: the terminator never comes",
    )
    .await;
    assert!(sink.deliveries().is_empty());

    // Also in the middle of a BDAT chunk.
    let sink = FakeSink::default();
    converse(
        &config(),
        &sink,
        b"EHLO c\r\nMAIL FROM:<a@b.fr>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nBDAT 100 LAST\r\nshort",
    )
    .await;
    assert!(sink.deliveries().is_empty());
}

#[tokio::test]
async fn too_many_errors_closes_with_421() {
    let cfg = SmtpConfig { max_errors: 3, ..config() };
    check_with(
        &cfg,
        &FakeSink::default(),
        "S: 220 *
         C: EHLO c
         S: <ehlo>
         C: BOGUS 1
         C: NOOP
         C: BOGUS 2
         C: RCPT TO:<nobody@ac-demo.fr>
         C: NOOP
         C: NOOP
         S: 500 5.5.2 Command unrecognized
         S: 250 2.0.0 Ok
         S: 500 5.5.2 Command unrecognized
         S: 503 5.5.1 Bad sequence of commands: need MAIL before RCPT
         S: 421 4.7.0 mx.ac-demo.fr Too many errors, closing connection",
    )
    .await;
}

#[tokio::test]
async fn too_many_commands_closes_with_421() {
    let cfg = SmtpConfig { max_commands: 3, ..config() };
    check_with(
        &cfg,
        &FakeSink::default(),
        "S: 220 *
         C: NOOP
         C: NOOP
         C: NOOP
         C: NOOP
         S: 250 2.0.0 Ok
         S: 250 2.0.0 Ok
         S: 250 2.0.0 Ok
         S: 421 4.7.0 mx.ac-demo.fr Too many commands, closing connection",
    )
    .await;
}

#[tokio::test]
async fn command_budget_restarts_after_each_accepted_message() {
    // Four commands per message with a budget of five: a sender reusing its
    // connection for many messages must never be cut off.
    let cfg = SmtpConfig { max_commands: 5, ..config() };
    let sink = FakeSink::default();
    let mut input = b"HELO c\r\n".to_vec();
    for i in 0..50 {
        input.extend_from_slice(
            format!(
                "MAIL FROM:<a{i}@example.org>\r\nRCPT TO:<claire.martin@ac-demo.fr>\r\nDATA\r\nmessage {i}\r\n.\r\n"
            )
            .as_bytes(),
        );
    }
    input.extend_from_slice(b"QUIT\r\n");
    let output = String::from_utf8(converse(&cfg, &sink, &input).await).unwrap();
    assert_eq!(sink.deliveries().len(), 50, "{output}");
    // Look at reply codes only: queue ids are hex and may contain "421".
    assert!(!output.lines().any(|l| l.starts_with("421")), "{output}");
    assert!(output.ends_with("221 2.0.0 mx.ac-demo.fr Bye\r\n"));
}

#[tokio::test]
async fn ten_thousand_pipelined_commands() {
    let cfg = SmtpConfig { max_commands: 20_000, ..config() };
    let mut input = b"EHLO c\r\n".to_vec();
    for _ in 0..10_000 {
        input.extend_from_slice(b"NOOP\r\n");
    }
    input.extend_from_slice(b"QUIT\r\n");
    let output = String::from_utf8(converse(&cfg, &FakeSink::default(), &input).await).unwrap();
    assert_eq!(output.matches("250 2.0.0 Ok\r\n").count(), 10_000);
    assert!(output.ends_with("221 2.0.0 mx.ac-demo.fr Bye\r\n"));
}

#[tokio::test]
async fn second_transaction_on_the_same_session() {
    let sink = check(
        "S: 220 *
         C: EHLO c
         S: <ehlo>
         C: MAIL FROM:<a@example.org>
         C: RCPT TO:<claire.martin@ac-demo.fr>
         C: DATA
         S: 250 2.1.0 Ok
         S: 250 2.1.5 Ok
         S: 354 *
         C: one
         C: .
         C: MAIL FROM:<b@example.org>
         C: RCPT TO:<paul.durand@ac-demo.fr>
         C: BDAT 5 LAST
         C: two
         S: 250 2.0.0 Ok: queued as *
         S: 250 2.1.0 Ok
         S: 250 2.1.5 Ok
         S: 250 2.0.0 Ok: queued as *",
    )
    .await;
    let delivered = sink.deliveries();
    assert_eq!(delivered.len(), 2);
    assert!(delivered[0].1.ends_with(b"\r\none\r\n"));
    assert!(delivered[1].1.ends_with(b"\r\ntwo\r\n"));
    assert_eq!(delivered[1].0.recipients[0].1, 2);
    assert!(String::from_utf8_lossy(&delivered[1].1).contains(HOST));
}
