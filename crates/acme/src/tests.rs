use super::*;

fn settings(dir: &Path, names: &[&str]) -> Settings {
    Settings {
        directory: "https://127.0.0.1:14000/dir".into(),
        contact: vec!["postmaster@ac-test.fr".into()],
        names: names.iter().map(|n| n.to_string()).collect(),
        root: None,
        renew_before: Duration::from_secs(30 * 86400),
        dir: dir.to_path_buf(),
        methods: vec![Method::Http01, Method::TlsAlpn01],
    }
}

/// A certificate for `names`, ending `days` from now.
fn certificate(names: &[&str], days: i64) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(days);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn keep(dir: &Path, (chain, key): &(String, String)) {
    net::write_atomically(&dir.join(KEY_FILE), key.as_bytes(), true).unwrap();
    net::write_atomically(&dir.join(CERT_FILE), chain.as_bytes(), false).unwrap();
}

#[test]
fn names_and_end_are_read_back_dns_and_ip() {
    let (chain, key) = certificate(&["mail.ac-test.fr", "127.0.0.1", "::1"], 90);
    let kept = read_certificate(chain, key).unwrap();
    assert_eq!(kept.names, ["mail.ac-test.fr", "127.0.0.1", "::1"]);
    let days = (kept.not_after - OffsetDateTime::now_utc()).whole_days();
    assert!((89..=90).contains(&days), "{days}");
    assert!(read_certificate("not a certificate".into(), String::new()).is_err());
}

#[test]
fn renewal_is_due_near_the_end_or_for_a_missing_name() {
    let dir = tempfile::tempdir().unwrap();
    let acme = Acme::new(settings(dir.path(), &["mail.ac-test.fr"]));
    let now = OffsetDateTime::now_utc();
    let fresh = read_certificate(certificate(&["Mail.ac-test.fr"], 90).0, String::new()).unwrap();
    assert!(!acme.due(&fresh, now), "90 days left, renewed 30 days before");
    assert!(acme.due(&fresh, now + time::Duration::days(61)));
    let other = read_certificate(certificate(&["autre.ac-test.fr"], 90).0, String::new()).unwrap();
    assert!(acme.due(&other, now), "a name not covered");
    assert_eq!(acme.until_renewal(&fresh, now).as_secs(), LOOK_AGAIN.as_secs(), "looked at again twice a day");
    let ending = read_certificate(certificate(&["mail.ac-test.fr"], 30).0, String::new()).unwrap();
    assert_eq!(acme.until_renewal(&ending, now), Duration::from_secs(60), "due now: at least a minute");
}

#[test]
fn the_kept_certificate_is_installed_only_while_good() {
    let dir = tempfile::tempdir().unwrap();
    let acme = Acme::new(settings(dir.path(), &["mail.ac-test.fr"]));
    let (chain, key) = certificate(&["localhost"], 365);
    let chain_der = net::parse_pem(&chain, &key).unwrap().0;
    let certs = net::Certificates::from_pem(&chain, &key).unwrap();

    assert!(!acme.install_kept(&certs), "nothing kept");
    keep(dir.path(), &certificate(&["mail.ac-test.fr"], 10));
    assert!(!acme.install_kept(&certs), "too near its end");
    assert_eq!(certs.leaf(), chain_der[0]);

    let good = certificate(&["mail.ac-test.fr"], 80);
    keep(dir.path(), &good);
    assert!(acme.install_kept(&certs));
    assert_eq!(certs.leaf(), net::parse_pem(&good.0, &good.1).unwrap().0[0]);
    // The key file stays private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn answers_are_served_only_while_asked_for() {
    let challenges = Challenges::default();
    assert_eq!(challenges.answer("tok"), None);
    challenges.put("tok".into(), "tok.thumb".into());
    assert_eq!(challenges.answer("tok").as_deref(), Some("tok.thumb"));
    challenges.forget(&["tok".into()]);
    assert_eq!(challenges.answer("tok"), None);
}

#[test]
fn retries_double_from_five_minutes_to_six_hours() {
    assert_eq!(retry_after(1), Duration::from_secs(300));
    assert_eq!(retry_after(2), Duration::from_secs(600));
    assert_eq!(retry_after(4), Duration::from_secs(2400));
    assert_eq!(retry_after(10), LAST_RETRY);
    assert_eq!(retry_after(u32::MAX), LAST_RETRY);
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let acme = Acme::new(Settings {
        directory: format!("https://127.0.0.1:{port}/dir"),
        ..settings(dir.path(), &["mail.ac-test.fr"])
    });
    assert!(acme.obtain().await.is_err());
    assert!(!dir.path().join(CERT_FILE).exists());
    assert!(!dir.path().join(ACCOUNT_FILE).exists());
}

#[test]
fn the_first_method_the_server_offers_is_chosen() {
    use ChallengeType::*;
    let both = [Method::Http01, Method::TlsAlpn01];
    assert_eq!(choose(&both, &[Dns01, TlsAlpn01, Http01]), Some(Method::Http01));
    assert_eq!(choose(&both, &[Dns01, TlsAlpn01]), Some(Method::TlsAlpn01));
    assert_eq!(choose(&[Method::TlsAlpn01], &[Http01, TlsAlpn01]), Some(Method::TlsAlpn01));
    assert_eq!(choose(&[Method::TlsAlpn01], &[Http01, Dns01]), None);
    assert_eq!(choose(&both, &[]), None);
}

#[test]
fn tls_alpn_answers_are_handed_out_only_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    assert!(Acme::new(settings(dir.path(), &["mail.ac-test.fr"])).alpn_challenges().is_some());
    let http_only = Settings { methods: vec![Method::Http01], ..settings(dir.path(), &["mail.ac-test.fr"]) };
    assert!(Acme::new(http_only).alpn_challenges().is_none());
}
