//! Sieve on arbitrary input, as delivery meets it. The first byte picks the
//! mode: even, the rest is a script's text, which is compiled with this
//! server's limits and, when it compiles, run on a fixed message; odd, the
//! rest is a message, run through fixed scripts that touch every extension
//! we offer (headers, addresses, envelope, body, MIME parts, dates,
//! variables and regexes, vacation, spamtest). Neither may panic, and a run
//! stays within the runtime's bounds (its decision is small).

#![no_main]

use std::sync::LazyLock;

use filter::compile::check;
use filter::run::detached;
use libfuzzer_sys::fuzz_target;

const MESSAGE: &[u8] = b"From: Paul Durand <paul.durand@ac-autre.fr>\r\nTo: claire.martin@ac-demo.fr\r\n\
Subject: =?utf-8?q?R=C3=A9union?= du conseil\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nBonjour\r\n\
--b\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";

const SCRIPTS: &[&str] = &[
    "require [\"fileinto\", \"imap4flags\", \"variables\", \"regex\"];\r\n\
     if header :regex \"subject\" \"^(.*)(r[ée]union)(.*)$\" { set \"sujet\" \"${2}\"; fileinto :flags \"\\\\Seen\" \"R-${sujet}\"; }\r\n\
     if address :domain :is \"from\" \"ac-autre.fr\" { addflag \"$Externe\"; }\r\n",
    "require [\"body\", \"mime\", \"relational\", \"comparator-i;ascii-numeric\", \"spamtest\"];\r\n\
     if body :text :contains \"bonjour\" { keep; }\r\n\
     if header :mime :anychild :contains \"Content-Type\" \"pdf\" { keep; }\r\n\
     if size :over 10K { discard; stop; }\r\n\
     if spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"6\" { discard; }\r\n",
    "require [\"date\", \"relational\", \"envelope\", \"subaddress\", \"vacation\", \"reject\"];\r\n\
     if date :value \"ge\" \"date\" \"date\" \"2026-01-01\" { vacation :days 1 :subject \"Absente\" \"Je suis absente.\"; }\r\n\
     if envelope :detail \"to\" \"spam\" { reject \"non\"; }\r\n\
     if exists [\"x-a\", \"x-b\"] { redirect \"paul.durand@ac-demo.fr\"; }\r\n",
];

static COMPILED: LazyLock<Vec<std::sync::Arc<filter::Sieve>>> = LazyLock::new(|| {
    SCRIPTS.iter().map(|s| std::sync::Arc::new(check(s, 64 * 1024).expect("fixed scripts compile"))).collect()
});

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else { return };
        if let Ok(script) = check(text, 8 * 1024) {
            if let Ok(decision) = detached(std::sync::Arc::new(script), MESSAGE) {
                assert!(decision.redirects.len() <= 1 && decision.replies.len() <= 2);
            }
        }
    } else {
        for script in COMPILED.iter() {
            if let Ok(decision) = detached(script.clone(), rest) {
                assert!(decision.redirects.len() <= 1 && decision.filings.len() <= 8);
            }
        }
    }
});
