use super::*;
use crate::{Action, Auth, Settings};

fn locals() -> Vec<String> {
    vec!["ac-demo.fr".into()]
}

fn ctx<'a>(locals: &'a [String], auth: Option<&'a Auth>) -> Context<'a> {
    Context {
        local_domains: locals,
        auth,
        helo: "mail.example.org",
        remote_ip: "192.0.2.7".parse().unwrap(),
        hostname: "mx.ac-demo.fr",
        display_name_is_colleague: false,
    }
}

const CLEAN: &str = "Received: from mail.example.org by mx.ac-demo.fr; Sun, 6 Dec 2026 04:00:00 +0000\r\n\
From: Marie Curie <marie@example.org>\r\nTo: claire.martin@ac-demo.fr\r\nSubject: Sortie au musee\r\n\
Date: Sun, 6 Dec 2026 04:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\nBonjour, la sortie est confirmee.\r\n";

fn verdict(raw: &str, ctx: &Context<'_>) -> Verdict {
    score(&Features::extract(raw.as_bytes()), ctx)
}

fn codes(v: &Verdict) -> Vec<&'static str> {
    v.codes().collect()
}

#[test]
fn an_ordinary_outside_message_is_clean() {
    let l = locals();
    let v = verdict(CLEAN, &ctx(&l, None));
    assert_eq!(v.score, 0.0, "{v:?}");
    assert!(v.external);
    assert_eq!(v.action(&Settings::default()), Action::Deliver);
}

#[test]
fn gtube_is_junk_and_refused_under_a_lower_threshold() {
    let l = locals();
    let raw = CLEAN.replace("confirmee.", "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X");
    let v = verdict(&raw, &ctx(&l, None));
    assert_eq!(codes(&v), ["GTUBE"]);
    assert_eq!(v.action(&Settings::default()), Action::Junk);
    let strict = Settings { reject_threshold: 8.0, ..Settings::default() };
    assert_eq!(v.action(&strict), Action::Reject);
}

#[test]
fn dmarc_quarantine_goes_to_junk_whatever_the_threshold() {
    let l = locals();
    let auth = Auth { spf: "fail".into(), dkim: "none".into(), dmarc: "fail".into(), dmarc_quarantine: true };
    let v = verdict(CLEAN, &ctx(&l, Some(&auth)));
    assert!(v.force_junk);
    assert_eq!(v.action(&Settings { junk_threshold: 50.0, ..Settings::default() }), Action::Junk);
}

#[test]
fn header_anomalies_weigh_little_alone_and_add_up() {
    let l = locals();
    let raw = "Received: from x by mx.ac-demo.fr; now\r\nReceived: from a by mx.ac-demo.fr; before\r\n\
From: a@example.org\r\nSubject: x\r\n\r\nhello\r\n";
    let mut c = ctx(&l, None);
    c.helo = "mx.ac-demo.fr";
    let v = verdict(raw, &c);
    assert_eq!(codes(&v), ["MISSING_DATE", "MISSING_MESSAGE_ID", "HELO_CLAIMS_LOCAL", "FORGED_RECEIVED"]);
    assert!(v.score >= 5.0, "all of them together do: {v:?}");
    c.helo = "[192.0.2.8]";
    let v = verdict(raw, &c);
    assert!(codes(&v).contains(&"HELO_IP_MISMATCH"));
    c.helo = "[192.0.2.7]";
    assert!(!codes(&verdict(raw, &c)).contains(&"HELO_IP_MISMATCH"));
    c.helo = "localhost";
    let v = verdict("From: a@example.org\r\nSubject: x\r\n\r\nhello\r\n", &c);
    assert_eq!(codes(&v), ["MISSING_DATE", "MISSING_MESSAGE_ID", "HELO_NOT_FQDN"]);
    assert_eq!(v.action(&Settings::default()), Action::Deliver);
}

#[test]
fn the_academies_authenticated_mail_is_never_scored_for_headers() {
    let l = locals();
    let raw = "From: Paul Durand <paul.durand@ac-demo.fr>\r\nSubject: x\r\n\r\nVotre mot de passe : confirmez-le.\r\n";
    let pass = Auth { spf: "pass".into(), dkim: "pass".into(), dmarc: "pass".into(), dmarc_quarantine: false };
    let mut c = ctx(&l, Some(&pass));
    c.helo = "localhost";
    let v = verdict(raw, &c);
    assert_eq!(v.score, 0.0, "{v:?}");
    assert!(!v.external);
    // The same unauthenticated is a forgery.
    let fail = Auth { spf: "fail".into(), dkim: "none".into(), dmarc: "none".into(), dmarc_quarantine: false };
    let v = verdict(raw, &ctx(&l, Some(&fail)));
    assert!(codes(&v).contains(&"FORGED_LOCAL_SENDER"), "{v:?}");
    assert!(codes(&v).contains(&"CREDENTIAL_REQUEST"), "{v:?}");
    // Without inbound checks nothing can be said of it.
    assert!(!codes(&verdict(raw, &ctx(&l, None))).contains(&"FORGED_LOCAL_SENDER"));
}

#[test]
fn lookalike_phishing_is_scored_with_reasons() {
    let l = locals();
    let raw = "From: \"Service informatique\" <dsi@ac-dem0.fr>\r\nSubject: Votre compte sera suspendu\r\n\
Date: Sun, 6 Dec 2026 04:00:00 +0000\r\nMessage-ID: <1@ac-dem0.fr>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p>Veuillez confirmer votre mot de passe en cliquant sur <a href=\"https://ac-demo-fr.com/login\">https://webmail.ac-demo.fr</a>.</p>\r\n";
    let v = verdict(raw, &ctx(&l, None));
    let c = codes(&v);
    for code in ["LOOKALIKE_DOMAIN", "LOOKALIKE_LINK", "LINK_MISMATCH", "CREDENTIAL_REQUEST", "ACCOUNT_THREAT"] {
        assert!(c.contains(&code), "{code} missing from {v:?}");
    }
    // Every sign at once is refused outright.
    assert_eq!(v.action(&Settings::default()), Action::Reject);
    let lookalike = v.reasons.iter().find(|r| r.code == "LOOKALIKE_DOMAIN").unwrap();
    assert_eq!(lookalike.detail, "ac-dem0.fr");
    assert!(lookalike.text(false).starts_with("Le domaine de l'expéditeur imite"));
    assert!(lookalike.text(true).contains("(ac-dem0.fr)"));
}

#[test]
fn a_lookalike_sender_alone_goes_to_junk() {
    let l = locals();
    let raw = CLEAN.replace("marie@example.org", "marie@ac-demo-fr.com");
    let v = verdict(&raw, &ctx(&l, None));
    assert_eq!(codes(&v), ["LOOKALIKE_DOMAIN"]);
    assert_eq!(v.action(&Settings::default()), Action::Junk);
    assert_eq!(v.spamtest(&Settings::default()), 6);
    assert_eq!(verdict(CLEAN, &ctx(&l, None)).spamtest(&Settings::default()), 1);
}

#[test]
fn english_credential_requests_too() {
    let l = locals();
    let raw = "From: it@example.net\r\nSubject: Action required\r\n\r\nPlease verify your password here. Your mailbox is full.\r\n";
    let c = codes(&verdict(raw, &ctx(&l, None)));
    assert!(c.contains(&"CREDENTIAL_REQUEST") && c.contains(&"ACCOUNT_THREAT"), "{c:?}");
    let innocent = "From: it@example.net\r\nSubject: Cours\r\n\r\nLe mot de passe du wifi est au tableau.\r\n";
    assert!(!codes(&verdict(innocent, &ctx(&l, None))).contains(&"CREDENTIAL_REQUEST"));
}

#[test]
fn display_names_claiming_colleagues_or_local_addresses() {
    let l = locals();
    let raw = "From: \"claire.martin@ac-demo.fr\" <claire.martin@example.com>\r\nSubject: x\r\n\r\nhi\r\n";
    assert!(codes(&verdict(raw, &ctx(&l, None))).contains(&"DISPLAY_NAME_LOCAL_ADDRESS"));
    let honest = "From: \"claire.martin@ac-demo.fr\" <claire.martin@ac-demo.fr>\r\nSubject: x\r\n\r\nhi\r\n";
    assert!(!codes(&verdict(honest, &ctx(&l, None))).contains(&"DISPLAY_NAME_LOCAL_ADDRESS"));
    let mut c = ctx(&l, None);
    c.display_name_is_colleague = true;
    let raw = "From: Claire Martin <c.martin1987@example.com>\r\nSubject: x\r\n\r\nhi\r\n";
    assert!(codes(&verdict(raw, &c)).contains(&"DISPLAY_NAME_COLLEAGUE"));
}

#[test]
fn bidi_overrides_and_disguised_executables() {
    let l = locals();
    let raw = "From: a@example.org\r\nSubject: =?utf-8?q?Facture_=E2=80=AEfdp.exe?=\r\n\
Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nCi-joint.\r\n\
--z\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"facture.pdf.exe\"\r\n\r\nMZ\r\n--z--\r\n";
    let v = verdict(raw, &ctx(&l, None));
    assert!(codes(&v).contains(&"BIDI_OVERRIDE"), "{v:?}");
    assert!(codes(&v).contains(&"DOUBLE_EXTENSION"), "{v:?}");
    // Plain right-to-left text is no override.
    assert!(!has_bidi_override("مرحبا"));
}

#[test]
fn link_texts_that_are_not_domains_do_not_count() {
    assert_eq!(named_domain("cliquez ici"), None);
    assert_eq!(named_domain("version 2.0"), None);
    assert_eq!(named_domain("Voir www.ac-demo.fr."), Some("www.ac-demo.fr".into()));
    assert!(related("www.ac-demo.fr", "ac-demo.fr"));
    assert!(!related("ac-demo.fr", "ac-demo-fr.com"));
}

#[test]
fn every_rule_is_explained_in_both_languages() {
    for (code, points, fr, en) in RULES {
        assert!(*points > 0.0 && !fr.is_empty() && !en.is_empty(), "{code}");
        assert_eq!(known(&code.to_ascii_lowercase()), Some(*code));
    }
}

#[test]
fn folding_lowers_and_strips_french_accents_ascii_or_not() {
    assert_eq!(fold("Mot De PASSE `ÉLÈVE` Ça’va\u{a0}Où"), "mot de passe 'eleve' ca'va ou");
    assert_eq!(fold("İ"), "i\u{307}", "multi-character lower cases are kept whole");
}

/// The credential and the request must be in the same sentence, wherever
/// it is in a long text, and however many credentials come before it.
#[test]
fn credentials_are_asked_for_within_one_sentence() {
    let asks_for_credentials = |text: &str| phrases_in(text).credential_request;
    let threatens_account = |text: &str| phrases_in(text).account_threat;
    assert!(asks_for_credentials("merci de confirmer votre mot de passe"));
    assert!(!asks_for_credentials("votre mot de passe est personnel. merci de confirmer la reunion"));
    assert!(!asks_for_credentials("confirmez la date\nle mot de passe du wifi est au cdi"));
    let long = "le mot de passe du wifi change. ".repeat(2000) + "cliquez ici et saisissez votre identifiant";
    assert!(asks_for_credentials(&long));
    assert!(!asks_for_credentials(&"le mot de passe du wifi change. ".repeat(2000)));
    assert!(asks_for_credentials("mots de passe : envoyez-les"), "overlapping phrases");
    assert!(threatens_account("votre compte sera suspendu demain"));
    assert!(!threatens_account("la reunion sera deplacee"));
}

/// One pass finds both, in either order, and a threat after a credential
/// that was not asked for (or inside its sentence) is still seen.
#[test]
fn credentials_and_threats_are_found_in_one_pass() {
    let both = Phrases { credential_request: true, account_threat: true };
    assert_eq!(phrases_in("votre boite aux lettres est pleine. confirmez votre mot de passe"), both);
    assert_eq!(phrases_in("confirmez votre mot de passe sinon il sera supprime"), both);
    assert_eq!(
        phrases_in("le mot de passe du wifi change. votre compte sera bloque"),
        Phrases { credential_request: false, account_threat: true }
    );
    assert_eq!(phrases_in("rien a signaler"), Phrases::default());
    assert!(phrases_in("mailbox quota: verify your password").account_threat);
}
