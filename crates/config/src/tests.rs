use super::*;

fn uncomment_keys(sample: &str) -> String {
    sample
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if fields().any(|f| rest.starts_with(&format!("{} = ", f.key))) => rest.to_owned(),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn sample_with_every_key_uncommented_is_the_default() {
    let text = uncomment_keys(&sample());
    assert_eq!(check(&text).unwrap(), Config::default());
}

#[test]
fn checked_in_sample_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ardoise.sample.toml");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    if std::env::var_os("UPDATE_SAMPLE").is_some() {
        std::fs::write(path, sample()).unwrap();
        return;
    }
    assert_eq!(on_disk, sample(), "ardoise.sample.toml is stale: rerun with UPDATE_SAMPLE=1");
}

#[test]
fn empty_file_is_the_default() {
    assert_eq!(check("").unwrap(), Config::default());
}

#[test]
fn reports_every_problem_with_its_line() {
    let text = "\
[server]
hostname = \"\"
colour = \"blue\"

[smtp]
listen = [\"127.0.0.1:25\", \"nowhere\"]
max_message_size = \"huge\"
max_recipients = 0
idle_timeout = \"5m\"

[imaginary]
x = 1
";
    let problems = check(text).unwrap_err();
    let lines: Vec<Option<usize>> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![Some(2), Some(3), Some(6), Some(7), Some(8), Some(11)], "{problems:#?}");
    assert!(problems[1].message.contains("clé inconnue « colour »"));
    assert!(problems[2].message.contains("« nowhere »"));
    assert!(problems[5].message.contains("[imaginary]"));
}

#[test]
fn syntax_errors_do_not_hide_later_problems() {
    let text = "[server]\nhostname = \n[smtp]\nmax_errors = \"x\"\n";
    let problems = check(text).unwrap_err();
    assert!(problems.iter().any(|p| p.line == Some(2) && p.message.contains("syntaxe")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.line == Some(4) && p.message.contains("max_errors")), "{problems:#?}");
}

#[test]
fn tls_cert_needs_key() {
    let problems = check("[tls]\ncert = \"a.pem\"\n").unwrap_err();
    assert!(problems[0].message.contains("tls.key"));
}

#[test]
fn sizes_and_durations() {
    assert_eq!(parse_size("20M"), Some(20 << 20));
    assert_eq!(parse_size("1024"), Some(1024));
    assert_eq!(parse_size("x"), None);
    assert_eq!(parse_duration_secs("5m"), Some(300));
    assert_eq!(parse_duration_secs("90s"), Some(90));
    let c = check("[quota]\ndefault = \"0\"\n[smtp]\nmax_message_size = 1000\n").unwrap();
    assert_eq!(c.quota.default_bytes, None);
    assert_eq!(c.smtp.max_message_size, 1000);
}

#[test]
fn store_url_default_and_scheme() {
    let c = Config::default();
    assert_eq!(c.store_url(), "sqlite://ardoise-data/ardoise.db");
    assert!(check("[store]\nurl = \"mysql://x\"\n").is_err());
}

#[test]
fn time_zones_are_iana_names() {
    let c = check("[web]\ntime_zone = \"Indian/Reunion\"\n").unwrap();
    assert_eq!(c.web.time_zone, "Indian/Reunion");
    let problems = check("[web]\ntime_zone = \"Europe/Atlantide\"\n").unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, Some(2));
    assert!(format!("{problems:?}").contains("fuseau horaire inconnu"), "{problems:?}");
}

#[test]
fn trusted_proxies_are_networks() {
    let c = check("[web]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"2001:db8::/32\"]\n").unwrap();
    assert_eq!(c.web.trusted_proxies, ["127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32"]);
    for bad in ["\"10.0.0.0/33\"", "\"proxy.ac-test.fr\"", "\"10.0.0.0/\"", "\"::1/129\""] {
        let problems = check(&format!("[web]\ntrusted_proxies = [{bad}]\n")).unwrap_err();
        assert!(format!("{problems:?}").contains("réseau invalide"), "{bad}: {problems:?}");
    }
}

#[test]
fn the_mail_host_is_a_host_name() {
    let c = check("[web]\nmail_host = \"imap.ac-demo.fr\"\n").unwrap();
    assert_eq!(c.web.mail_host, "imap.ac-demo.fr");
    let problems = check("[web]\nmail_host = \"mail.ac-demo.fr/<script>\"\n").unwrap_err();
    assert!(format!("{problems:?}").contains("nom d'hôte invalide"), "{problems:?}");
}

#[test]
fn managesieve_settings() {
    let cfg =
        check("[managesieve]\nlisten = [\"127.0.0.1:4190\"]\nmax_script_size = \"32K\"\nmax_scripts = 5\n").unwrap();
    assert_eq!(cfg.managesieve.listen, vec!["127.0.0.1:4190".parse().unwrap()]);
    assert_eq!((cfg.managesieve.max_script_size, cfg.managesieve.max_scripts), (32 * 1024, 5));
    assert!(Config::default().managesieve.listen.is_empty(), "off unless configured");
    let problems = check("[managesieve]\nmax_script_size = \"10M\"\n").unwrap_err();
    assert_eq!(problems[0].line, Some(2), "{problems:#?}");
    assert!(problems[0].message.contains("entre 1K et 1M"), "{problems:#?}");
}

#[test]
fn undo_send_delay_is_bounded_and_may_be_off() {
    assert_eq!(check("").unwrap().web.undo_send_delay_secs, 10, "the documented default");
    assert_eq!(check("[web]\nundo_send_delay = \"0s\"\n").unwrap().web.undo_send_delay_secs, 0);
    assert_eq!(check("[web]\nundo_send_delay = \"30s\"\n").unwrap().web.undo_send_delay_secs, 30);
    let problems = check("[web]\nundo_send_delay = \"1h\"\n").unwrap_err();
    assert!(format!("{problems:?}").contains("600 s au plus"), "{problems:?}");
    assert!(check("[web]\nundo_send_delay = \"bientôt\"\n").is_err());
}

#[test]
fn acme_keys_are_checked() {
    let cfg = check(
        "[acme]\ndirectory = \"https://127.0.0.1:14000/dir\"\ncontact = [\"postmaster@ac-test.fr\"]\n\
         names = [\"mail.ac-test.fr\", \"127.0.0.1\"]\nrenew_before = \"20d\"\n\
         [web]\nlisten = [\"0.0.0.0:80\"]\n",
    )
    .unwrap();
    assert_eq!(cfg.acme.names, ["mail.ac-test.fr", "127.0.0.1"]);
    assert_eq!(cfg.acme.renew_before_secs, 20 * 86400);
    for bad in [
        "directory = \"http://acme.example/dir\"",
        "contact = [\"postmaster\"]",
        "names = [\"mail..ac-test.fr\"]",
        "names = [\"-x.fr\"]",
        "renew_before = \"jamais\"",
        "challenge = \"dns-01\"",
        "domaines = []",
    ] {
        assert!(check(&format!("[acme]\n{bad}\n")).is_err(), "{bad}");
    }
}

#[test]
fn an_acme_challenge_needs_its_web_listener() {
    let acme = "[acme]\ndirectory = \"https://127.0.0.1:14000/dir\"\n";
    let cfg = check(&format!("{acme}challenge = \"tls-alpn-01\"\n[web]\nlisten_tls = [\"0.0.0.0:443\"]\n")).unwrap();
    assert_eq!(cfg.acme.challenge, AcmeChallenge::TlsAlpn01);
    let plain = check(&format!("{acme}[web]\nlisten = [\"0.0.0.0:80\"]\n")).unwrap();
    assert_eq!(plain.acme.challenge, AcmeChallenge::Auto);
    for (challenge, web) in
        [("tls-alpn-01", "listen = [\"0.0.0.0:80\"]"), ("http-01", "listen = []"), ("auto", "listen = []")]
    {
        let text = format!("{acme}challenge = \"{challenge}\"\n[web]\n{web}\n");
        let problems = check(&text).unwrap_err();
        assert!(problems.iter().any(|p| p.message.starts_with("acme.challenge")), "{text}: {problems:?}");
    }
}

#[test]
fn the_cluster_bus_is_nats_urls_or_nothing() {
    assert_eq!(check("").unwrap().cluster.nats, None, "one node by default");
    assert_eq!(check("[cluster]\nnats = \"\"\n").unwrap().cluster.nats, None);
    let cfg = check("[cluster]\nnats = \"nats://10.0.0.1:4222,nats://10.0.0.2:4222\"\n").unwrap();
    assert_eq!(cfg.cluster.nats.as_deref(), Some("nats://10.0.0.1:4222,nats://10.0.0.2:4222"));
    assert!(check("[cluster]\nnats = \"http://10.0.0.1\"\n").is_err());
    assert!(check("[cluster]\nnats = 4222\n").is_err());
}

#[test]
fn blobs_are_local_or_in_an_s3_bucket_named_by_a_checked_url() {
    let cfg = check("").unwrap();
    assert_eq!((cfg.blob.url, cfg.blob.credentials), (None, None), "local files by default");
    let cfg = check(
        "[blob]\nurl = \"s3://ardoise-mail/nancy?endpoint=https://s3.ac-test.fr&region=fr-est\"\n\
         credentials = \"/etc/ardoise/s3.cle\"\n",
    )
    .unwrap();
    assert_eq!(cfg.blob.url.as_deref(), Some("s3://ardoise-mail/nancy?endpoint=https://s3.ac-test.fr&region=fr-est"));
    assert_eq!(cfg.blob.credentials.as_deref(), Some(std::path::Path::new("/etc/ardoise/s3.cle")));
    for (bad, says) in [
        ("https://s3.ac-test.fr/seau", "s3://"),
        ("s3://Seau", "nom de seau"),
        ("s3://seau?endpoint=s3.ac-test.fr", "endpoint"),
        ("s3://seau?secret_access_key=abc", "inconnu"),
    ] {
        let problems = check(&format!("[blob]\nurl = \"{bad}\"\n")).unwrap_err();
        assert_eq!(problems[0].line, Some(2), "{bad}");
        assert!(problems[0].message.contains(says), "{bad}: {}", problems[0].message);
    }
}
