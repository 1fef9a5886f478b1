//! The tokeniser: what the statistical classifier counts in a message.
//!
//! Everything comes from the [`Features`] read once by the MX (so never more
//! than [`crate::features::MAX_TEXT`] bytes of text): words of the subject
//! (`s:`), of the body, of the From display name (`n:`), the From domain
//! (`f:`), the hosts of links (`u:`, and the domain above a host), and the
//! extensions of attached files (`x:`).
//!
//! Words are lower-case, 3 to 40 characters. French accents are folded so
//! that « réunion » and « reunion » match, and a word written with accents
//! also counts under its own accented form, so é and e stay told apart where
//! it matters (mail in French without its accents is itself a sign). Longer
//! runs become one `skip:` token by first letter and length (base64 debris,
//! hashes in URLs). Each token is counted once per message and at most
//! [`MAX_TOKENS`] are kept, so the work per message is bounded.
//!
//! A token is stored as the first 64 bits of its BLAKE3 hash: the tables
//! never hold the words of anyone's mail.

use std::collections::HashSet;

use crate::features::Features;

/// The per-message sets: foldhash, not SipHash (nothing here is keyed by
/// what a sender could aim at another message with, and each set lives for
/// one message).
type Set<T> = HashSet<T, foldhash::fast::RandomState>;

/// Distinct tokens kept per message.
pub const MAX_TOKENS: usize = 3000;
const MIN_WORD: usize = 3;
const MAX_WORD: usize = 40;

/// The distinct tokens of one message, with their hashes (same order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    pub words: Vec<String>,
    pub hashes: Vec<i64>,
}

impl Tokens {
    /// The tokens of a message read by [`Features::extract`].
    pub fn of(f: &Features) -> Tokens {
        let mut t = Builder::default();
        words(&f.subject, |w| t.push(format!("s:{w}")));
        if let Some(name) = &f.display_name {
            words(name, |w| t.push(format!("n:{w}")));
        }
        if let Some(domain) = &f.from_domain {
            t.push(format!("f:{domain}"));
        }
        for host in &f.url_hosts {
            t.push(format!("u:{host}"));
            let labels: Vec<&str> = host.split('.').collect();
            if labels.len() > 2 {
                t.push(format!("u:{}", labels[labels.len() - 2..].join(".")));
            }
        }
        for name in &f.attachment_names {
            if let Some((_, ext)) = name.rsplit_once('.')
                && (1..=8).contains(&ext.len())
            {
                t.push(format!("x:{}", ext.to_lowercase()));
            }
        }
        words(&f.text, |w| t.push(w));
        t.done()
    }

    /// Tokens from words given as they are (tests, tools).
    pub fn from_words<I: IntoIterator<Item = S>, S: Into<String>>(words: I) -> Tokens {
        let mut t = Builder::default();
        for w in words {
            t.push(w.into());
        }
        t.done()
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

#[derive(Default)]
struct Builder {
    seen: Set<i64>,
    out: Tokens,
}

impl Builder {
    /// Adds `word` once; `false` when no more tokens are taken.
    fn push(&mut self, word: String) -> bool {
        if self.out.hashes.len() >= MAX_TOKENS {
            return false;
        }
        let h = hash(&word);
        if self.seen.insert(h) {
            self.out.hashes.push(h);
            self.out.words.push(word);
        }
        true
    }

    fn done(self) -> Tokens {
        self.out
    }
}

/// The stored form of a token: the first 64 bits of its BLAKE3 hash.
pub fn hash(token: &str) -> i64 {
    let digest = blake3::hash(token.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_bytes()[..8]);
    i64::from_le_bytes(first)
}

/// Calls `emit` with the tokens of the words of `text`: the folded form,
/// and the accented form too when it differs; stops when `emit` says so.
fn words(text: &str, mut emit: impl FnMut(String) -> bool) {
    // A word met before gave its tokens already: they would be duplicates.
    let mut seen = Set::default();
    for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_')) {
        let raw = raw.trim_matches(|c| c == '-' || c == '_');
        if !seen.insert(raw) {
            continue;
        }
        let length = raw.chars().count();
        if length < MIN_WORD {
            continue;
        }
        if length > MAX_WORD {
            let first = raw.chars().next().map(|c| c.to_lowercase().to_string()).unwrap_or_default();
            if !emit(format!("skip:{first}:{}", length / 10 * 10)) {
                return;
            }
            continue;
        }
        // ASCII words (most of them) have nothing to fold: one lower-case copy.
        if raw.is_ascii() {
            if !emit(raw.to_ascii_lowercase()) {
                return;
            }
            continue;
        }
        let lower = raw.to_lowercase();
        let folded = crate::rules::fold(&lower);
        if folded != lower && !emit(format!("a:{lower}")) {
            return;
        }
        if !emit(folded) {
            return;
        }
    }
}

/// `emit` for each token of `text` as words of a body; for tests of the
/// word rules.
#[cfg(test)]
fn body_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    words(text, |w| {
        out.push(w);
        true
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_and_bounded() {
        assert_eq!(
            body_words("Réunion du CONSEIL, l'école; ok? peut-être --trait-- x"),
            ["a:réunion", "reunion", "conseil", "a:école", "ecole", "a:peut-être", "peut-etre", "trait"]
        );
        let long = "a".repeat(41);
        assert_eq!(body_words(&format!("{long} {}", "b".repeat(40))), ["skip:a:40".to_owned(), "b".repeat(40)]);
        // « reunion » written without accents matches the folded form only.
        assert_eq!(body_words("reunion"), ["reunion"]);
    }

    #[test]
    fn a_message_gives_prefixed_distinct_tokens() {
        let raw = b"From: \"Service Paie\" <paie@promo.example>\r\nSubject: Gagnez un iPhone\r\n\
Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/html\r\n\r\n\
<p>Gagnez vite <a href=\"https://www.cadeaux.promo.example/x\">ici</a> gagnez</p>\r\n--z\r\n\
Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"Facture.PDF.exe\"\r\n\r\nMZ\r\n--z--\r\n";
        let t = Tokens::of(&Features::extract(raw));
        for w in [
            "s:gagnez",
            "s:iphone",
            "n:service",
            "n:paie",
            "f:promo.example",
            "u:www.cadeaux.promo.example",
            "u:promo.example",
            "x:exe",
            "gagnez",
            "vite",
        ] {
            assert!(t.words.iter().any(|x| x == w), "{w} missing from {:?}", t.words);
        }
        assert_eq!(t.words.iter().filter(|w| *w == "gagnez").count(), 1, "counted once");
        assert_eq!(t.hashes.len(), t.words.len());
        assert_eq!(t.hashes[0], hash(&t.words[0]));
    }

    #[test]
    fn a_huge_text_gives_a_bounded_number_of_tokens() {
        let text: String = (0..20_000).map(|i| format!("mot{i} ")).collect();
        let f = Features { text, ..Features::default() };
        assert_eq!(Tokens::of(&f).len(), MAX_TOKENS);
    }

    #[test]
    fn hashes_are_stable() {
        // Stored in the database: a change of hash would orphan every count.
        assert_eq!(hash("reunion"), hash("reunion"));
        assert_ne!(hash("reunion"), hash("a:réunion"));
        let digest = blake3::hash(b"s:gagnez");
        assert_eq!(&hash("s:gagnez").to_le_bytes()[..], &digest.as_bytes()[..8]);
    }
}
