//! The analyser against a corpus of real-looking and hostile messages: the
//! files under `tests/corpus/`, plus huge ones generated here rather than
//! checked in.

use std::ops::Range;
use std::time::{Duration, Instant};

use mailstore::analyse::{Analysis, BodyPart, EnvelopeAddress, MAX_ADDRESSES, MAX_DEPTH, MAX_PARTS, MAX_TEXT, analyse};

/// Hostile input must be analysed well within this, even in a debug build on
/// a busy machine.
const TIME_LIMIT: Duration = Duration::from_secs(5);

fn load(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text(raw: &[u8], r: Range<usize>) -> String {
    String::from_utf8_lossy(&raw[r]).into_owned()
}

/// Analyses `raw` within [`TIME_LIMIT`] and checks the offsets of every part.
fn analysed(raw: &[u8]) -> Analysis {
    let start = Instant::now();
    let a = analyse(raw);
    let took = start.elapsed();
    assert!(took < TIME_LIMIT, "analysis took {took:?}");
    check_offsets(&a.body, 0..raw.len());
    assert_eq!(a.body.offsets.header_start, 0);
    assert_eq!(a.body.offsets.end, raw.len());
    a
}

/// Offsets nest: each part lies inside its parent's body, children in order.
fn check_offsets(p: &BodyPart, within: Range<usize>) {
    let o = p.offsets;
    assert!(within.start <= o.header_start && o.header_start <= o.body_start, "{o:?} in {within:?}");
    assert!(o.body_start <= o.end && o.end <= within.end, "{o:?} in {within:?}");
    assert_eq!(p.size, o.end - o.body_start);
    let mut last = o.body_start;
    for c in &p.children {
        assert!(c.offsets.header_start >= last, "children overlap");
        check_offsets(c, o.body());
        last = c.offsets.end;
    }
    if let Some(m) = &p.message {
        assert_eq!(m.body.offsets.header_start, o.body_start);
        check_offsets(&m.body, o.body());
    }
}

fn addr(name: Option<&str>, mailbox: &str, host: &str) -> EnvelopeAddress {
    EnvelopeAddress { name: name.map(str::to_owned), mailbox: mailbox.to_owned(), host: host.to_owned() }
}

#[test]
fn latin1_plain_text() {
    let raw = load("latin1_plain.eml");
    let a = analysed(&raw);
    assert_eq!(a.subject, "Absence de Léo jeudi");
    assert_eq!(a.from, "Hélène Bernard <famille.bernard@gmail.example>");
    assert_eq!(a.sent_date, Some(1_772_435_700));
    assert_eq!(a.message_id.as_deref(), Some("absence-leo-1@gmail.example"));
    assert_eq!(a.envelope.date.as_deref(), Some("Mon, 2 Mar 2026 08:15:00 +0100"));
    assert_eq!(a.envelope.message_id.as_deref(), Some("<absence-leo-1@gmail.example>"));
    assert_eq!(a.envelope.to, vec![addr(Some("Claire Martin"), "claire.martin", "ac-demo.fr")]);
    // Sender and Reply-To default to From, as IMAP requires.
    assert_eq!(a.envelope.sender, a.envelope.from);
    assert_eq!(a.envelope.reply_to, a.envelope.from);
    assert_eq!((a.body.media_type.as_str(), a.body.subtype.as_str()), ("text", "plain"));
    assert_eq!(a.body.param("charset"), Some("ISO-8859-1"));
    assert_eq!(a.body.encoding, "8bit");
    assert_eq!(a.body.lines, Some(6));
    assert!(text(&raw, a.body.offsets.header()).ends_with("8bit\r\n\r\n"));
    assert!(a.preview.starts_with("Bonjour Madame Martin, Léo sera absent jeudi matin"), "{}", a.preview);
    assert!(a.text.contains("Merci de votre compréhension."));
    assert!(a.attachments.is_empty() && !a.has_attachment);
    assert!(a.references.is_empty());
}

#[test]
fn utf8_quoted_printable_reply() {
    let raw = load("utf8_qp.eml");
    let a = analysed(&raw);
    assert_eq!(a.subject, "Re: « Réunion parents-professeurs »");
    assert_eq!(a.envelope.subject.as_deref(), Some("Re: « Réunion parents-professeurs »"));
    assert_eq!(a.references, vec!["reunion-1@ac-demo.fr", "annonce-0@ac-demo.fr"]);
    assert_eq!(a.envelope.in_reply_to.as_deref(), Some("<reunion-1@ac-demo.fr>"));
    assert_eq!(a.envelope.cc, vec![addr(None, "secretariat.0541234a", "ac-demo.fr")]);
    assert_eq!(a.body.encoding, "quoted-printable");
    // The attribution line and the quoted lines stay out of the preview.
    assert_eq!(
        a.preview,
        "Bonjour Claire, Je serai présent à la réunion du 12 mars ; je m'occupe de la salle 204 et des émargements. Paul"
    );
    assert!(a.text.contains("> Peux-tu confirmer ta présence ?"));
    assert!(a.text.contains("de la salle 204"), "soft line breaks are joined");
}

#[test]
fn multipart_alternative_and_groups() {
    let raw = load("alternative.eml");
    let a = analysed(&raw);
    assert_eq!(a.subject, "La lettre du numérique éducatif");
    assert_eq!(a.from, "Lettre d'information du rectorat <communication@ac-demo.fr>");
    let to = &a.envelope.to;
    assert_eq!(to.len(), 4);
    assert!(to[0].is_group_start() && to[0].mailbox == "Equipe-5B");
    assert_eq!(to[1], addr(None, "claire.martin", "ac-demo.fr"));
    assert_eq!(to[2], addr(None, "paul.durand", "ac-demo.fr"));
    assert!(to[3].is_group_end());
    assert_eq!(a.envelope.cc.len(), 2);
    assert!(a.envelope.cc[0].is_group_start() && a.envelope.cc[1].is_group_end());

    assert_eq!(a.body.mime_type(), "multipart/alternative");
    assert_eq!(a.body.param("boundary"), Some("=_alt_42"));
    assert_eq!(a.body.children.len(), 2);
    let html = a.body.section(&[2]).unwrap();
    assert_eq!(html.mime_type(), "text/html");
    assert_eq!(
        text(&raw, html.offsets.body()),
        "<html><body><h1>Le num&eacute;rique &eacute;ducatif</h1><p>Trois outils &agrave; d&eacute;couvrir.</p></body></html>"
    );
    assert_eq!(html.lines, Some(1));
    // Plain text is preferred: the HTML alternative is not read twice.
    assert_eq!(a.preview, "Le numérique éducatif : trois outils à découvrir ce mois-ci.");
    assert!(!a.text.contains("Trois outils"));
    assert!(a.attachments.is_empty());
}

#[test]
fn multipart_mixed_with_rfc2231_attachments() {
    let raw = load("mixed_pdf.eml");
    let a = analysed(&raw);
    assert_eq!(a.subject, "Convocation à la réunion");
    assert_eq!(a.body.children.len(), 3);
    assert_eq!(a.preview, "Veuillez trouver ci-joint votre convocation.");
    assert_eq!(
        text(&raw, a.body.section(&[1]).unwrap().offsets.body()),
        "Veuillez trouver ci-joint votre convocation."
    );

    let pdf = a.body.section(&[2]).unwrap();
    assert_eq!(pdf.mime_type(), "application/pdf");
    assert_eq!(pdf.encoding, "base64");
    assert_eq!(pdf.description.as_deref(), Some("Convocation"));
    assert_eq!(pdf.file_name.as_deref(), Some("convocation_réunion.pdf"));
    assert_eq!(pdf.param("name*"), Some("utf-8''convocation_r%C3%A9union.pdf"));
    let disposition = pdf.disposition.as_ref().unwrap();
    assert_eq!(disposition.kind, "attachment");
    assert_eq!(disposition.params, vec![("filename*".to_owned(), "utf-8''convocation_r%C3%A9union.pdf".to_owned())]);
    assert_eq!(pdf.lines, None);
    // BODY[2.MIME] and BODY[2] slice back to the right bytes.
    let mime = text(&raw, pdf.offsets.header());
    assert!(
        mime.starts_with("Content-Type: application/pdf;\r\n name*=") && mime.ends_with("Convocation\r\n\r\n"),
        "{mime}"
    );
    let body = text(&raw, pdf.offsets.body());
    assert!(body.starts_with("JVBERi0xLjQK") && body.ends_with("o=\r\n"), "{body}");

    let csv = a.body.section(&[3]).unwrap();
    assert_eq!(csv.disposition.as_ref().unwrap().params[0].1, "utf-8''liste_%C3%A9l%C3%A8ves_5e_B.csv");
    assert_eq!(csv.file_name.as_deref(), Some("liste_élèves_5e_B.csv"));

    assert!(a.has_attachment);
    let got: Vec<_> = a
        .attachments
        .iter()
        .map(|x| (x.section.as_str(), x.file_name.as_deref(), x.content_type.as_str(), x.size))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2", Some("convocation_réunion.pdf"), "application/pdf", 77),
            ("3", Some("liste_élèves_5e_B.csv"), "text/csv", 37),
        ]
    );
    // The CSV is an attachment, not body text.
    assert!(!a.text.contains("Bernard;Léo"));
}

#[test]
fn forwarded_message_rfc822() {
    let raw = load("forward_rfc822.eml");
    let a = analysed(&raw);
    assert_eq!(a.subject, "Tr: Sortie pédagogique au musée");
    assert_eq!(a.preview, "Pour information, voir le message ci-dessous.");
    let fwd = a.body.section(&[2]).unwrap();
    assert_eq!(fwd.mime_type(), "message/rfc822");
    let m = fwd.message.as_ref().unwrap();
    assert_eq!(m.envelope.subject.as_deref(), Some("Sortie pédagogique au musée"));
    assert_eq!(m.envelope.from, vec![addr(Some("Musée des Beaux-Arts"), "reservations", "musee.example")]);
    assert_eq!(m.envelope.message_id.as_deref(), Some("<resa-555@musee.example>"));
    // BODY[2.HEADER], BODY[2.TEXT], and BODY[2.1] (the body of the nested message).
    let header = text(&raw, m.body.offsets.header());
    assert!(header.starts_with("From: =?utf-8?Q?Mus") && header.ends_with("charset=utf-8\r\n\r\n"), "{header}");
    let inner = a.body.section(&[2, 1]).unwrap();
    assert_eq!(inner.offsets, m.body.offsets);
    assert_eq!(
        text(&raw, inner.offsets.body()),
        "Votre réservation pour le 20 mars est confirmée.\r\nAccueil à 9 h 30."
    );
    assert_eq!(inner.lines, Some(2));
    assert_eq!(fwd.lines, Some(9));
    assert!(a.body.section(&[2, 2]).is_none() && a.body.section(&[3]).is_none() && a.body.section(&[0]).is_none());
    // The forward is listed as an attachment, and its text is searchable.
    assert_eq!(a.attachments.len(), 1);
    assert_eq!((a.attachments[0].section.as_str(), a.attachments[0].content_type.as_str()), ("2", "message/rfc822"));
    assert!(a.text.contains("Votre réservation pour le 20 mars est confirmée."));
}

#[test]
fn message_without_headers() {
    let raw = load("no_headers.eml");
    let a = analysed(&raw);
    assert_eq!((a.subject.as_str(), a.from.as_str(), a.sent_date), ("", "", None));
    assert_eq!(a.envelope.subject, None);
    assert!(a.envelope.from.is_empty());
    assert_eq!(a.body.offsets.header(), 0..0);
    assert_eq!(a.body.offsets.body(), 0..raw.len());
    assert_eq!(a.body.mime_type(), "text/plain");
    assert_eq!(a.body.lines, Some(4));
    assert_eq!(a.preview, "Bonjour, Ceci est un message sans aucun en-tête. À bientôt.");
    assert_eq!(a.body.section(&[1]), Some(&a.body));
}

#[test]
fn boundary_that_never_appears() {
    let raw = load("broken_boundary.eml");
    let a = analysed(&raw);
    assert_eq!(a.subject, "Boundary mismatch");
    // Nothing to split on: the body is read as text rather than lost.
    assert_eq!(a.body.mime_type(), "text/plain");
    assert!(a.body.children.is_empty() && a.body.param("boundary").is_none());
    assert!(a.preview.contains("Le texte est quand meme lisible."), "{}", a.preview);
}

#[test]
fn unclosed_inner_multipart() {
    let raw = load("unclosed_multipart.eml");
    let a = analysed(&raw);
    assert_eq!(a.body.children.len(), 2);
    let alt = &a.body.children[0];
    assert_eq!((alt.mime_type().as_str(), alt.children.len()), ("multipart/alternative", 1));
    assert_eq!(text(&raw, a.body.section(&[1, 1]).unwrap().offsets.body()), "Partie interne sans fermeture.");
    assert_eq!(a.preview, "Partie interne sans fermeture.");
    assert_eq!(a.attachments.len(), 1);
    assert_eq!(a.attachments[0].file_name.as_deref(), Some("donnees.bin"));
    assert_eq!(a.attachments[0].section, "2");
    assert_eq!(text(&raw, a.body.section(&[2]).unwrap().offsets.body()), "AAAA");
}

#[test]
fn undeclared_eight_bit() {
    let raw = load("undeclared_8bit.eml");
    let a = analysed(&raw);
    assert_eq!(a.subject, "Sortie scolaire à Nancy");
    assert_eq!(a.from, "José García <jose@example.org>");
    assert_eq!(a.preview, "Les élèves partiront à 8 h.");
}

#[test]
fn nul_bytes() {
    let raw = load("nul_bytes.eml");
    let a = analysed(&raw);
    assert!(a.subject.starts_with("Nul") && a.subject.ends_with("octet"), "{:?}", a.subject);
    assert!(!a.text.contains('\0') && !a.preview.contains('\0'));
    assert!(a.text.contains("Avant") && a.text.contains("après") && a.text.ends_with("fin"), "{:?}", a.text);
}

#[test]
fn html_only_with_script() {
    let raw = load("html_script.eml");
    let a = analysed(&raw);
    assert_eq!(a.body.mime_type(), "text/html");
    assert_eq!(a.preview, "Bonjour & bienvenue à la réunion ! Fin… — merci");
    for hidden in ["secret", "alert", "encore", "Titre", "color", "commentaire", "<"] {
        assert!(!a.text.contains(hidden), "{hidden:?} leaked into {:?}", a.text);
    }
    assert!(a.text.contains("> Ancien message cite"));
}

#[test]
fn analysis_survives_serde() {
    for name in ["mixed_pdf.eml", "forward_rfc822.eml", "alternative.eml"] {
        let a = analyse(&load(name));
        let json = serde_json::to_string(&a).unwrap();
        let back: Analysis = serde_json::from_str(&json).unwrap();
        assert_eq!(a, back, "{name}");
    }
}

/// Every prefix and many mutations of every corpus file: no panic, sane offsets.
#[test]
fn truncated_and_mutated_corpus() {
    let mut names: Vec<_> = std::fs::read_dir(format!("{}/tests/corpus", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.len() >= 11);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for name in names {
        let raw = load(&name);
        for cut in 0..=raw.len() {
            analysed(&raw[..cut]);
        }
        for _ in 0..300 {
            let mut m = raw.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed % m.len() as u64) as usize;
                m[i] = [b'\n', b'-', b'=', b':', b'\0', 0xe9, b'"', b';'][(seed >> 32) as usize % 8];
            }
            analysed(&m);
        }
    }
}

#[test]
fn one_megabyte_single_line() {
    let mut raw = b"Subject: Ligne g\xc3\xa9ante\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n".to_vec();
    let header_len = raw.len();
    raw.extend(std::iter::repeat_n(b'a', 1 << 20));
    raw.extend_from_slice(b" fin");
    let a = analysed(&raw);
    assert_eq!(a.subject, "Ligne géante");
    assert_eq!(a.body.lines, Some(1));
    assert_eq!(a.body.size, raw.len() - header_len);
    assert!(a.text.len() <= MAX_TEXT && a.text.starts_with("aaaa"));
    assert_eq!(a.preview.chars().count(), 200);

    // The same line as a header.
    let mut raw = b"Subject: ".to_vec();
    raw.extend(std::iter::repeat_n(b'x', 1 << 20));
    raw.extend_from_slice(b"\r\n\r\ncorps\r\n");
    let a = analysed(&raw);
    assert_eq!(a.subject.len(), 1 << 20);
    assert_eq!(a.preview, "corps");
}

#[test]
fn multipart_nested_one_hundred_deep() {
    let depth = 100;
    let mut raw = b"Subject: Poupees russes\r\n".to_vec();
    for i in 0..depth {
        raw.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"Content-Type: text/plain\r\n\r\nau fond\r\n");
    for i in (0..depth).rev() {
        raw.extend_from_slice(format!("--b{i}--\r\n").as_bytes());
    }
    let a = analysed(&raw);
    // Multiparts down to depth MAX_DEPTH - 1, then one opaque leaf.
    let mut p = &a.body;
    let mut levels = 0;
    while let Some(first) = p.children.first() {
        assert_eq!(p.mime_type(), "multipart/mixed");
        assert_eq!(p.children.len(), 1);
        p = first;
        levels += 1;
    }
    assert_eq!(levels, MAX_DEPTH);
    assert_eq!(p.mime_type(), "application/octet-stream");
    let opaque = text(&raw, p.offsets.body());
    assert!(opaque.starts_with(&format!("--b{MAX_DEPTH}\r\n")) && opaque.contains("au fond"), "{opaque}");
    assert!(opaque.ends_with(&format!("--b{MAX_DEPTH}--")), "closed by its own delimiter, before the parent's");
    assert_eq!(a.attachments.len(), 1);
}

#[test]
fn message_rfc822_nested_one_hundred_deep() {
    let mut raw = Vec::new();
    for i in 0..100 {
        raw.extend_from_slice(format!("Subject: niveau {i}\r\nContent-Type: message/rfc822\r\n\r\n").as_bytes());
    }
    raw.extend_from_slice(b"Subject: fond\r\n\r\ntexte\r\n");
    let a = analysed(&raw);
    let mut p = &a.body;
    let mut levels = 0;
    while let Some(m) = &p.message {
        p = &m.body;
        levels += 1;
    }
    assert_eq!(levels, MAX_DEPTH);
    assert_eq!(p.mime_type(), "application/octet-stream");
    assert_eq!(a.subject, "niveau 0");
}

#[test]
fn one_hundred_thousand_recipients() {
    let mut raw = b"From: DRH <drh@ac-demo.fr>\r\nSubject: Note de service\r\nTo: ".to_vec();
    for i in 0..100_000 {
        if i > 0 {
            raw.extend_from_slice(b",\r\n ");
        }
        raw.extend_from_slice(format!("Agent {i} <agent.{i}@ac-demo.fr>").as_bytes());
    }
    raw.extend_from_slice(b"\r\n\r\nMesdames et Messieurs,\r\n");
    let a = analysed(&raw);
    assert_eq!(a.envelope.to.len(), MAX_ADDRESSES);
    assert_eq!(a.envelope.to[0], addr(Some("Agent 0"), "agent.0", "ac-demo.fr"));
    assert_eq!(a.envelope.to[MAX_ADDRESSES - 1].mailbox, format!("agent.{}", MAX_ADDRESSES - 1));
    assert_eq!(a.preview, "Mesdames et Messieurs,");
}

#[test]
fn too_many_parts_and_dash_lines() {
    // Many tiny parts: the structure stops at MAX_PARTS.
    let mut raw = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n".to_vec();
    for _ in 0..(MAX_PARTS + 5_000) {
        raw.extend_from_slice(b"--x\r\n\r\n.\r\n");
    }
    raw.extend_from_slice(b"--x--\r\n");
    let a = analysed(&raw);
    assert_eq!(a.body.children.len(), MAX_PARTS - 1);

    // Deep boundaries and a flood of lines that almost match them.
    let mut raw = Vec::new();
    for i in 0..MAX_DEPTH {
        raw.extend_from_slice(
            format!(
                "Content-Type: multipart/mixed; boundary=\"{}{i}\"\r\n\r\n--{}{i}\r\n",
                "q".repeat(60),
                "q".repeat(60)
            )
            .as_bytes(),
        );
    }
    raw.extend_from_slice(b"\r\n");
    for _ in 0..200_000 {
        raw.extend_from_slice(format!("--{}\r\n", "q".repeat(60)).as_bytes());
    }
    analysed(&raw);
}
