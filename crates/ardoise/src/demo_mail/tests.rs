//! Every demo message parses, reads French, carries the expected attachments
//! and threading headers; the generated files are well-formed.

use std::collections::HashSet;

use mail_parser::{HeaderValue, MessageParser};

use super::*;

/// Monday 9 March 2026, 10:40 UTC: a fixed "now" so the tests are exact.
const NOW: i64 = 1_773_052_800;
const DOMAIN: &str = "ac-demo.fr";

fn staff() -> Vec<(String, String)> {
    [
        ("claire.martin", "Claire Martin"),
        ("paul.durand", "Paul Durand"),
        ("secretariat.0541234a", "Secrétariat — Collège Jules Ferry"),
        ("admin", "Administration de l'académie"),
        ("helene.lefevre-dupre", "Hélène Lefèvre-Dupré"),
        ("theo.girard", "Théo Girard"),
    ]
    .iter()
    .map(|(l, n)| (format!("{l}@{DOMAIN}"), (*n).to_owned()))
    .collect()
}

fn specs_and_mails() -> (Vec<Spec>, Vec<DemoMail>) {
    let staff = staff();
    let ctx = Ctx { domain: DOMAIN, now: NOW, staff: &staff };
    (content::specs(&ctx), demo_mails_at(DOMAIN, &staff, NOW))
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn is_french(subject: &str) -> bool {
    subject.chars().any(|c| "éèêàâçôîûùÉÀ«»".contains(c))
        || [" de ", " du ", " la ", " le ", " des ", " à ", " : ", " pour "].iter().any(|w| subject.contains(w))
}

#[test]
fn every_message_parses_with_french_subject_and_attachments() {
    let (specs, mails) = specs_and_mails();
    assert_eq!(specs.len(), mails.len());
    assert!((25..=40).contains(&mails.len()), "{} messages", mails.len());
    let parser = MessageParser::default();
    let mut seen_ids = HashSet::new();
    for (i, (spec, mail)) in specs.iter().zip(&mails).enumerate() {
        let m = parser.parse(&mail.raw).unwrap_or_else(|| panic!("message {i} does not parse"));
        let subject = m.subject().unwrap_or_default();
        assert_eq!(subject, spec.subject);
        assert!(is_french(subject), "not French: {subject}");
        let id = format!("demo-{}@{DOMAIN}", i + 1);
        assert_eq!(m.message_id(), Some(id.as_str()));
        assert!(seen_ids.insert(id));
        assert_eq!(m.attachment_count(), spec.files.len(), "{subject}");
        for (j, f) in spec.files.iter().enumerate() {
            assert_eq!(m.attachment(j as u32).map(|a| a.contents()), Some(f.data.as_slice()), "{}", f.name);
        }
        assert_eq!(
            m.date().map(|d| d.to_timestamp()),
            Some(NOW - i64::from(mail.days_ago) * 86_400 - spec.minutes * 60)
        );
        assert!(mail.days_ago <= 30 && !mail.to.is_empty(), "{subject}");
        assert!(mail.to.iter().all(|a| a.ends_with("@ac-demo.fr")));
        let body = m.body_text(0).unwrap_or_default();
        assert!(body.contains(spec.text.lines().next().unwrap_or_default()), "{subject}: {body}");

        // Our own analyser agrees, down to the decoded file names.
        let a = mailstore::analyse::analyse(&mail.raw);
        assert_eq!(a.subject, spec.subject);
        assert_eq!(a.message_id.as_deref(), m.message_id());
        let names: Vec<_> = a.attachments.iter().map(|x| x.file_name.clone().unwrap_or_default()).collect();
        let expected: Vec<_> = spec.files.iter().map(|f| f.name.clone()).collect();
        assert_eq!(names, expected);
        assert!(!a.preview.is_empty());
    }
    let with = |n: usize| specs.iter().filter(|s| s.files.len() == n).count();
    assert!(with(1) >= 8, "attachments: {}", with(1));
    let kinds: HashSet<_> = specs.iter().flat_map(|s| &s.files).map(|f| f.content_type.c_type.to_string()).collect();
    for kind in ["application/pdf", "text/calendar", "text/csv"] {
        assert!(kinds.contains(kind), "no {kind} attachment");
    }
}

#[test]
fn replies_carry_threading_headers() {
    let (specs, mails) = specs_and_mails();
    let parser = MessageParser::default();
    let mut replies = 0;
    for (i, spec) in specs.iter().enumerate() {
        let m = parser.parse(&mails[i].raw).unwrap();
        let Some(parent) = spec.reply_to else {
            assert!(m.in_reply_to().is_empty() && m.references().is_empty());
            continue;
        };
        replies += 1;
        assert!(parent < i && specs[parent].days_ago >= spec.days_ago, "a reply follows its parent");
        assert!(
            spec.subject.starts_with("Re : ")
                && spec.subject.ends_with(specs[parent].subject.trim_start_matches("Re : "))
        );
        assert_eq!(ids(m.in_reply_to()), vec![format!("demo-{}@{DOMAIN}", parent + 1)]);
        let expected: Vec<String> = ancestors(&specs, i).iter().map(|a| format!("demo-{}@{DOMAIN}", a + 1)).collect();
        assert_eq!(ids(m.references()), expected);
        let a = mailstore::analyse::analyse(&mails[i].raw);
        assert_eq!(a.references.first(), Some(&format!("demo-{}@{DOMAIN}", parent + 1)));
    }
    assert!(replies >= 4);
    // The museum thread is four messages deep.
    assert!(specs.iter().enumerate().any(|(i, _)| ancestors(&specs, i).len() == 3));
}

#[test]
fn mailboxes_flags_and_circulars() {
    let (specs, mails) = specs_and_mails();
    let count = |local: &str| mails.iter().filter(|m| m.to.contains(&format!("{local}@{DOMAIN}"))).count();
    assert!(count("claire.martin") >= 18, "claire: {}", count("claire.martin"));
    assert!(count("paul.durand") >= 15, "paul: {}", count("paul.durand"));
    assert!((3..=10).contains(&count("secretariat.0541234a")));
    assert!(mails.iter().any(|m| m.seen) && mails.iter().any(|m| !m.seen));
    assert!(mails.iter().filter(|m| m.flagged).count() >= 2);
    let everyone = staff().len();
    assert!(mails.iter().filter(|m| m.to.len() == everyone).count() >= 2, "circulars to all staff");
    // One newsletter in HTML, with its plain-text alternative.
    let html: Vec<_> = specs.iter().zip(&mails).filter(|(s, _)| s.html.is_some()).collect();
    assert_eq!(html.len(), 1);
    let a = mailstore::analyse::analyse(&html[0].1.raw);
    assert_eq!(a.body.mime_type(), "multipart/alternative");
    assert!(a.preview.starts_with("La lettre du numérique éducatif"));
    // Dates spread over the month.
    let days: HashSet<_> = mails.iter().map(|m| m.days_ago).collect();
    assert!(days.len() >= 20 && days.contains(&0) && days.iter().all(|&d| d <= 30));
}

#[test]
fn deterministic_for_a_given_now() {
    let staff = staff();
    let a = demo_mails_at(DOMAIN, &staff, NOW);
    let b = demo_mails_at(DOMAIN, &staff, NOW);
    assert!(a.iter().zip(&b).all(|(x, y)| x.raw == y.raw && x.to == y.to));
    // Without a directory, the named accounts still get their mail.
    let bare = demo_mails(DOMAIN, &[]);
    assert_eq!(bare.len(), a.len());
    assert!(bare.iter().all(|m| !m.to.is_empty()));
}

#[test]
fn generated_pdfs_are_well_formed() {
    let (specs, _) = specs_and_mails();
    let pdfs: Vec<&File> =
        specs.iter().flat_map(|s| &s.files).filter(|f| f.content_type.c_type == "application/pdf").collect();
    assert!(pdfs.len() >= 4);
    for f in pdfs {
        let d = &f.data;
        assert!(d.starts_with(b"%PDF-1.4\n") && d.ends_with(b"%%EOF\n"), "{}", f.name);
        let text = String::from_utf8_lossy(d);
        let startxref: usize = text.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(d[startxref..].starts_with(b"xref\n0 8\n"));
        let table = String::from_utf8_lossy(&d[startxref..]);
        for (n, line) in table.lines().skip(3).take(7).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(d[offset..].starts_with(format!("{} 0 obj\n", n + 1).as_bytes()), "{}: object {}", f.name, n + 1);
        }
        // Accents are WinAnsi bytes, not UTF-8.
        assert!(!d.windows(2).any(|w| w == "é".as_bytes()));
    }
}

#[test]
fn invitations_are_valid_icalendar() {
    let (specs, _) = specs_and_mails();
    let icals: Vec<&File> =
        specs.iter().flat_map(|s| &s.files).filter(|f| f.content_type.c_type == "text/calendar").collect();
    assert_eq!(icals.len(), 3);
    for f in &icals {
        let text = std::str::from_utf8(&f.data).unwrap();
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.split("\r\n").all(|l| l.len() <= 75));
        assert!(!text.replace("\r\n", "").contains('\n'));
        for key in ["BEGIN:VEVENT", "UID:", "DTSTART:", "DTEND:", "SUMMARY:", "ORGANIZER;CN="] {
            assert!(text.contains(key), "{key}");
        }
    }
    // The convocation to the conseil pédagogique is an invitation that Claire, Paul and the room can answer.
    let board = icals.iter().find(|f| String::from_utf8_lossy(&f.data).contains("Conseil p")).expect("the convocation");
    let text = String::from_utf8_lossy(&board.data).replace("\r\n ", "");
    assert!(text.contains("METHOD:REQUEST") && text.contains("ORGANIZER;CN=\"Secr"), "{text}");
    for who in ["claire.martin", "paul.durand", "salle-du-conseil.0541234a"] {
        assert!(text.contains("PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=") && text.contains(who), "{who}");
    }
    assert!(text.contains("CUTYPE=ROOM"));
}

#[test]
fn french_dates_and_paris_time() {
    // 9 March 2026 is a Monday, in winter time; 1 July 2026 is in summer time.
    assert_eq!(fr_day(NOW), "lundi 9 mars");
    assert_eq!(paris_offset(NOW).whole_hours(), 1);
    assert_eq!(paris_offset(1_782_907_200).whole_hours(), 2);
    assert_eq!(fr_day(1_782_907_200), "mercredi 1er juillet");
    assert_eq!(rfc2822(NOW), "Mon, 09 Mar 2026 11:40:00 +0100");
    let staff = staff();
    let ctx = Ctx { domain: DOMAIN, now: NOW, staff: &staff };
    // Five days after a Monday is a Saturday: the meeting moves to Monday.
    let m = ctx.meeting(NOW, 5, 17, 30);
    assert_eq!((fr_day(m), fr_time(m)), ("lundi 16 mars".to_owned(), "17 h 30".to_owned()));
}
