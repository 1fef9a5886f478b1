//! rspamd's replies (as Debian's rspamd 3.4 wrote them) and the exchange
//! against a tiny in-test HTTP server. The end-to-end test against a real
//! rspamd is tests/e2e/test_rspamd.py.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::Settings;

const GTUBE: &str = r#"{"is_skipped":true,"score":15.0,"required_score":15.0,"action":"reject","symbols":{"GTUBE":{"name":"GTUBE","score":0.0,"metric_score":0.0}},"messages":{"smtp_message":"Gtube pattern"},"message-id":"x@example.org","time_real":0.169795}"#;

const CLEAN: &str = r#"{"is_skipped":false,"score":2.700000,"required_score":15.0,"action":"no action","symbols":{"MIME_TRACE":{"name":"MIME_TRACE","score":0.0,"metric_score":0.0,"options":["0:+"]},"HFILTER_FROMHOST_NORES_A_OR_MX":{"name":"HFILTER_FROMHOST_NORES_A_OR_MX","score":1.500000,"metric_score":1.500000,"description":"FROM host no resolve to A or MX","options":["example.org"]},"MIME_GOOD":{"name":"MIME_GOOD","score":-0.100000,"metric_score":-0.100000,"description":"Known content-type","options":["text/plain"]},"HFILTER_HELO_IP_A":{"name":"HFILTER_HELO_IP_A","score":1.0,"metric_score":1.0,"description":"Helo A IP != hostname IP","options":["mail.example.org"]},"HFILTER_HELO_NORES_A_OR_MX":{"name":"HFILTER_HELO_NORES_A_OR_MX","score":0.300000,"metric_score":0.300000,"options":["mail.example.org"]}},"messages":{},"message-id":"y@example.org","time_real":0.402920,"milter":{"remove_headers":{"X-Spam":0}}}"#;

fn builtin(score: f64) -> Verdict {
    let reasons = vec![Reason { code: "MISSING_DATE", points: score, detail: String::new() }];
    Verdict { score, reasons, external: true, ..Verdict::default() }
}

fn verdict(j: Judgement) -> Verdict {
    match j {
        Judgement::Verdict(v) => v,
        Judgement::Defer => panic!("deferred"),
    }
}

#[test]
fn replies_are_read() {
    let gtube = Report::parse(GTUBE.as_bytes()).unwrap();
    assert_eq!((gtube.score, gtube.required_score, gtube.action), (15.0, 15.0, RspamdAction::Reject));
    let codes: Vec<_> = gtube.reasons().iter().map(|r| r.code).collect();
    assert_eq!(codes, ["GTUBE"]);
    let clean = Report::parse(CLEAN.as_bytes()).unwrap();
    assert_eq!(clean.action, RspamdAction::NoAction);
    let reasons = clean.reasons();
    let got: Vec<_> = reasons.iter().map(|r| (r.code, r.points, r.detail.as_str())).collect();
    // Heaviest first, zero-score symbols left out.
    assert_eq!(
        got,
        [
            ("HFILTER_FROMHOST_NORES_A_OR_MX", 1.5, "example.org"),
            ("HFILTER_HELO_IP_A", 1.0, "mail.example.org"),
            ("HFILTER_HELO_NORES_A_OR_MX", 0.3, "mail.example.org"),
            ("MIME_GOOD", -0.1, "text/plain"),
        ]
    );
    for garbage in ["", "{}", "<html>", r#"{"score":1,"action":"explode"}"#, r#"{"score":"x","action":"reject"}"#] {
        assert!(matches!(Report::parse(garbage.as_bytes()), Err(Error::Reply(_))), "{garbage}");
    }
}

#[test]
fn replace_maps_rspamds_action() {
    let settings = Settings::default();
    let report = |action, score| Report { score, required_score: 15.0, action, symbols: Vec::new() };
    let cases = [
        (RspamdAction::NoAction, 9.0, Action::Deliver),
        // A score band without rspamd's greylist module: deferring it would defer every retry too.
        (RspamdAction::Greylist, 4.5, Action::Deliver),
        (RspamdAction::AddHeader, 1.0, Action::Junk),
        (RspamdAction::RewriteSubject, 7.0, Action::Junk),
        (RspamdAction::Reject, 2.0, Action::Reject),
    ];
    for (action, score, expected) in cases {
        let v = verdict(combine(&report(action, score), Mode::Replace, builtin(20.0)));
        assert_eq!(v.action(&settings), expected, "{action:?}");
        assert_eq!(v.score, score);
        assert!(v.external, "the built-in verdict still says who is outside");
    }
    assert_eq!(combine(&report(RspamdAction::SoftReject, 1.0), Mode::Replace, builtin(0.0)), Judgement::Defer);
    // The stamp agrees with the decision, whatever the thresholds say.
    let delivered = verdict(combine(&report(RspamdAction::NoAction, 9.0), Mode::Replace, builtin(0.0)));
    assert!(crate::stamp::spam_fields(&delivered, &settings).starts_with("X-Spam-Status: No, score=9.0"));
}

#[test]
fn add_sums_scores_and_our_thresholds_decide() {
    let settings = Settings::default();
    let clean = Report::parse(CLEAN.as_bytes()).unwrap();
    let v = verdict(combine(&clean, Mode::Add, builtin(3.0)));
    assert!((v.score - 5.7).abs() < 1e-9);
    assert_eq!(v.action(&settings), Action::Junk);
    assert_eq!(v.reasons.len(), 5);
    assert_eq!(v.reasons[0].code, "MISSING_DATE");
    // rspamd's greylisting is its own policy, not ours: the scores count.
    let grey = Report { score: 0.5, required_score: 15.0, action: RspamdAction::Greylist, symbols: Vec::new() };
    assert_eq!(verdict(combine(&grey, Mode::Add, builtin(0.0))).action(&settings), Action::Deliver);
}

#[test]
fn urls_are_checked() {
    let t = Duration::from_secs(1);
    let parse = |u: &str| Rspamd::new(u, Mode::Replace, t, 10).map(|r| (r.authority, r.path));
    assert_eq!(parse("http://127.0.0.1:11333").unwrap(), ("127.0.0.1:11333".into(), "/checkv2".into()));
    assert_eq!(parse("http://rspamd/").unwrap(), ("rspamd:11333".into(), "/checkv2".into()));
    assert_eq!(parse("http://[::1]:8080/scan/").unwrap(), ("[::1]:8080".into(), "/scan/checkv2".into()));
    assert_eq!(parse("http://[::1]").unwrap(), ("[::1]:11333".into(), "/checkv2".into()));
    for bad in ["https://x:1", "127.0.0.1:11333", "http://", "http://x:y", "http://:1", "http://u@x:1", "http://[::1]x"]
    {
        assert!(matches!(parse(bad), Err(Error::Url(_))), "{bad}");
    }
}

#[test]
fn queue_ids_come_from_our_received_line() {
    let m = b"Received: from a ([192.0.2.1])\r\n\tby mx.ac-demo.fr with ESMTP id 4F2A9C;\r\n\tSun, 6 Dec 2026\r\nSubject: x\r\n\r\nb";
    assert_eq!(queue_id(m), Some("4F2A9C"));
    assert_eq!(queue_id(b"Subject: id 3\r\n\r\n"), None);
    assert_eq!(queue_id(b"Received: from a\r\nX-Id: id 3\r\n\r\n"), None);
}

#[test]
fn symbol_names_are_interned_once() {
    let a = symbol("R_SPF_ALLOW").unwrap();
    let b = symbol("R_SPF_ALLOW").unwrap();
    assert!(std::ptr::eq(a, b));
    for bad in ["", "A B", "X;Y", &"Z".repeat(65)] {
        assert_eq!(symbol(bad), None, "{bad}");
    }
}

/// A server that answers one request with `reply` after `delay`, and
/// sends back what it read.
async fn server(reply: &'static str, delay: Duration) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut read = Vec::new();
        let mut buf = [0u8; 4096];
        // Headers, then Content-Length bytes of body.
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            read.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&read).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap();
                if read.len() >= end + 4 + length || n == 0 {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        tokio::time::sleep(delay).await;
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
        read
    });
    (url, task)
}

fn ok(json: &str) -> &'static str {
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    );
    Box::leak(reply.into_boxed_str())
}

fn request<'a>(rcpts: &'a [String]) -> Request<'a> {
    Request {
        ip: "192.0.2.1".parse().unwrap(),
        helo: "mail.example.org",
        from: "a@example.org",
        rcpts,
        hostname: "mx.ac-demo.fr",
        queue_id: Some("4F2A9C"),
        user: None,
    }
}

#[tokio::test]
async fn the_envelope_goes_in_headers_and_the_reply_is_read() {
    let (url, seen) = server(ok(GTUBE), Duration::ZERO).await;
    let rspamd = Rspamd::new(&url, Mode::Replace, Duration::from_secs(5), 1000).unwrap();
    let rcpts = vec!["claire.martin@ac-demo.fr".to_owned(), "paul.durand@ac-demo.fr".to_owned()];
    let message = b"Subject: x\r\n\r\nhello\r\n";
    let report = rspamd.check(message, &request(&rcpts)).await.unwrap();
    assert_eq!(report.action, RspamdAction::Reject);
    let seen = String::from_utf8(seen.await.unwrap()).unwrap();
    let (head, body) = seen.split_once("\r\n\r\n").unwrap();
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("post /checkv2 http/1.1\r\n"), "{head}");
    for field in [
        "ip: 192.0.2.1",
        "helo: mail.example.org",
        "from: a@example.org",
        "rcpt: claire.martin@ac-demo.fr",
        "rcpt: paul.durand@ac-demo.fr",
        "hostname: mx.ac-demo.fr",
        "queue-id: 4f2a9c",
        "content-length: 21",
    ] {
        assert!(head.lines().any(|l| l == field), "{field} missing from {head}");
    }
    assert!(!head.contains("\r\nuser:"));
    assert_eq!(body.as_bytes(), message);
}

/// A server's reply, its delay, and the error it must give.
type Failure = (&'static str, Duration, fn(&Error) -> bool);

#[tokio::test]
async fn failures_fall_back_to_the_built_in_verdict() {
    let rcpts = vec!["claire.martin@ac-demo.fr".to_owned()];
    let t = Duration::from_millis(500);
    let cases: [Failure; 4] = [
        (ok("<html>not json</html>"), Duration::ZERO, |e| matches!(e, Error::Reply(_))),
        ("HTTP/1.1 500 Internal\r\nContent-Length: 0\r\n\r\n", Duration::ZERO, |e| matches!(e, Error::Status(500))),
        ("garbage\r\n\r\n", Duration::ZERO, |e| matches!(e, Error::Http(_))),
        (ok(GTUBE), Duration::from_secs(3), |e| matches!(e, Error::Timeout)),
    ];
    for (reply, delay, expected) in cases {
        let (url, _seen) = server(reply, delay).await;
        let rspamd = Rspamd::new(&url, Mode::Replace, t, 1000).unwrap();
        let e = rspamd.check(b"Subject: x\r\n\r\nb", &request(&rcpts)).await.unwrap_err();
        assert!(expected(&e), "{reply:?}: {e:?}");
        let (url, _seen) = server(reply, delay).await;
        let rspamd = Rspamd::new(&url, Mode::Replace, t, 1000).unwrap();
        assert_eq!(
            rspamd.judge(b"Subject: x\r\n\r\nb", &request(&rcpts), builtin(4.0)).await,
            Judgement::Verdict(builtin(4.0))
        );
    }
    // Nobody listening.
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let rspamd = Rspamd::new(&format!("http://127.0.0.1:{port}"), Mode::Replace, t, 1000).unwrap();
    let e = rspamd.check(b"x", &request(&rcpts)).await.unwrap_err();
    assert!(matches!(e, Error::Connect(_)), "{e:?}");
    // Over the size cap: never sent.
    let small = Rspamd::new(&format!("http://127.0.0.1:{port}"), Mode::Replace, t, 4).unwrap();
    assert!(matches!(small.check(b"12345", &request(&rcpts)).await, Err(Error::TooLarge(5))));
}
