//! Deterministic test messages: the same (seed, account, number, size) gives
//! the same bytes, so two servers can be loaded with identical data.
//! One message in three is `multipart/alternative` (text and HTML) so that
//! BODYSTRUCTURE and `BODY[1]` have something to describe.

use rand::{Rng, SeedableRng, rngs::StdRng};

const WORDS: [&str; 24] = [
    "conseil",
    "classe",
    "élèves",
    "réunion",
    "parents",
    "bulletin",
    "trimestre",
    "emploi",
    "temps",
    "sortie",
    "scolaire",
    "académie",
    "rectorat",
    "inspection",
    "collège",
    "lycée",
    "professeur",
    "principal",
    "cantine",
    "examen",
    "brevet",
    "baccalauréat",
    "vacances",
    "inscription",
];

/// A message of about `size` bytes (never less than its headers).
pub fn build(seed: u64, account: u32, number: u64, size: usize) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed ^ (u64::from(account) << 40) ^ number.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let subject: Vec<&str> = (0..rng.gen_range(3..7)).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect();
    let day = rng.gen_range(1..=28);
    let id = format!("<load.{seed}.{account}.{number}@bench.ac-test.fr>");
    let mut head = format!(
        "Date: Mon, {day} Sep 2026 08:{:02}:00 +0200\r\nFrom: Direction <direction{}@ac-test.fr>\r\n\
         To: agent{account:02} <agent{account:02}@ac-test.fr>\r\nSubject: {}\r\nMessage-ID: {id}\r\nMIME-Version: 1.0\r\n",
        rng.gen_range(0..60),
        rng.gen_range(1..50),
        subject.join(" "),
    );
    if number % 5 == 1 {
        head.push_str(&format!("In-Reply-To: <load.{seed}.{account}.{}@bench.ac-test.fr>\r\n", number - 1));
    }
    let budget = size.saturating_sub(head.len() + 200);
    if number.is_multiple_of(3) {
        let b = format!("alt{seed}x{account}x{number}");
        let text = paragraph(&mut rng, budget / 2);
        let html = format!("<p>{}</p>", paragraph(&mut rng, budget / 2 * 17 / 18).replace("\r\n", "<br>\r\n"));
        format!(
            "{head}Content-Type: multipart/alternative; boundary=\"{b}\"\r\n\r\n--{b}\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n--{b}\r\n\
             Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n--{b}--\r\n"
        )
        .into_bytes()
    } else {
        let text = paragraph(&mut rng, budget);
        format!("{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n")
            .into_bytes()
    }
}

/// Lines of words, about `bytes` long, CRLF-terminated, under 78 columns.
fn paragraph(rng: &mut StdRng, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 80);
    let mut line = 0;
    while out.len() < bytes.max(1) {
        let w = WORDS[rng.gen_range(0..WORDS.len())];
        if line + w.len() > 70 {
            out.push_str("\r\n");
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(w);
        line += w.len();
    }
    out
}

/// A cheap fingerprint of a body (FNV-1a, 64 bits), to compare what was
/// appended with what is fetched without keeping every message.
pub fn fingerprint(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_sized_and_well_formed() {
        assert_eq!(build(1, 2, 3, 5000), build(1, 2, 3, 5000));
        assert_ne!(build(1, 2, 3, 5000), build(1, 2, 4, 5000));
        for n in 0..6 {
            for size in [2_000, 76_800] {
                let m = build(9, 1, n, size);
                assert!(m.len() >= size * 9 / 10 && m.len() <= size + 400, "{n} {size}: {}", m.len());
                let text = String::from_utf8(m).unwrap();
                assert!(text.contains("\r\n\r\n"));
                assert!(text.lines().all(|l| l.len() < 998));
                assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
            }
        }
        assert!(String::from_utf8(build(9, 1, 3, 3000)).unwrap().contains("multipart/alternative"));
    }

    #[test]
    fn fingerprints_differ() {
        assert_ne!(fingerprint(b"abc"), fingerprint(b"abd"));
        assert_eq!(fingerprint(b""), 0xcbf2_9ce4_8422_2325);
    }
}
