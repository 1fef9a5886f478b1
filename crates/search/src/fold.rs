//! The French folding analyser in one pass.
//!
//! It produces exactly what tantivy's chain `SimpleTokenizer`,
//! `RemoveLongFilter::limit(64)`, `LowerCaser`, `AsciiFoldingFilter` produces
//! (same texts, positions and offsets; `tests` below compare the two), at a
//! fraction of the cost on French text: that chain decodes, lower-cases
//! through the Unicode tables, and re-encodes every word holding one accented
//! letter, three passes over it. Indexing a 75 KB message spent about a tenth
//! of the server's CPU there (bench/notes.md, R3).
//!
//! Lower-casing and folding act on each character alone, so their composition
//! is a map from one character to a short string. For ASCII that map is
//! `to_ascii_lowercase`; for the Latin blocks (U+0080 to U+024F: é, ç, œ, ß...)
//! it is computed once, by running tantivy's own filters on each character;
//! a word holding any other non-ASCII letter goes through tantivy's filters
//! whole, as before.

use std::sync::LazyLock;

use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RawTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer};

/// Words this many bytes long or longer are dropped (base64 left in a body).
pub(crate) const MAX_WORD_BYTES: usize = 64;

/// Characters whose map is precomputed: Latin-1 Supplement, Latin
/// Extended-A and Latin Extended-B.
const TABLE_START: u32 = 0x80;
const TABLE_END: u32 = 0x250;

/// For each character of the table: whether it belongs to a word, and what
/// it becomes.
struct Entry {
    alphanumeric: bool,
    folded: Box<str>,
}

static TABLE: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    let mut slow = slow_fold();
    (TABLE_START..TABLE_END)
        .map(|u| {
            let c = char::from_u32(u).unwrap_or('\u{FFFD}');
            Entry {
                alphanumeric: c.is_alphanumeric(),
                folded: fold_slowly(&mut slow, c.encode_utf8(&mut [0; 4])).into(),
            }
        })
        .collect()
});

/// tantivy's lower-casing and folding applied to a whole string as one token.
fn slow_fold() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

fn fold_slowly(slow: &mut TextAnalyzer, word: &str) -> String {
    let mut stream = slow.token_stream(word);
    if stream.advance() { stream.token().text.clone() } else { String::new() }
}

/// Splits on anything not alphanumeric, drops words of [`MAX_WORD_BYTES`] or
/// more, lower-cases and folds accents.
#[derive(Clone)]
pub(crate) struct FoldingTokenizer {
    token: Token,
    slow: TextAnalyzer,
}

impl Default for FoldingTokenizer {
    fn default() -> Self {
        FoldingTokenizer { token: Token::default(), slow: slow_fold() }
    }
}

impl Tokenizer for FoldingTokenizer {
    type TokenStream<'a> = FoldingStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> FoldingStream<'a> {
        self.token.reset();
        FoldingStream { text, at: 0, token: &mut self.token, slow: &mut self.slow }
    }
}

pub(crate) struct FoldingStream<'a> {
    text: &'a str,
    /// Byte offset where the search for the next word starts.
    at: usize,
    token: &'a mut Token,
    slow: &'a mut TextAnalyzer,
}

/// The character starting at byte `at` of `text`, its length in bytes, and
/// its table entry when it has one.
fn char_at(text: &str, at: usize) -> (char, usize, Option<&'static Entry>) {
    let c = text[at..].chars().next().unwrap_or('\u{FFFD}');
    let entry = (TABLE_START..TABLE_END).contains(&(c as u32)).then(|| &TABLE[(c as u32 - TABLE_START) as usize]);
    (c, c.len_utf8(), entry)
}

impl FoldingStream<'_> {
    /// Finds the next word: its byte range, and whether some character of it
    /// has no precomputed map. Fills the token's text with the folded form
    /// of the characters that have one.
    fn next_word(&mut self) -> Option<(usize, usize, bool)> {
        let bytes = self.text.as_bytes();
        let out = &mut self.token.text;
        out.clear();
        let (mut start, mut odd) = (None, false);
        let mut i = self.at;
        while i < bytes.len() {
            let b = bytes[i];
            let (len, word) = if b.is_ascii() {
                let word = b.is_ascii_alphanumeric();
                if word {
                    out.push(char::from(b.to_ascii_lowercase()));
                }
                (1, word)
            } else {
                let (c, len, entry) = char_at(self.text, i);
                let word = match entry {
                    Some(e) => {
                        if e.alphanumeric {
                            out.push_str(&e.folded);
                        }
                        e.alphanumeric
                    }
                    None => {
                        let word = c.is_alphanumeric();
                        odd |= word;
                        word
                    }
                };
                (len, word)
            };
            match (word, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    self.at = i + len;
                    return Some((s, i, odd));
                }
                _ => {}
            }
            i += len;
        }
        self.at = bytes.len();
        start.map(|s| (s, bytes.len(), odd))
    }
}

impl TokenStream for FoldingStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            self.token.position = self.token.position.wrapping_add(1);
            let Some((from, to, odd)) = self.next_word() else {
                self.token.text.clear();
                return false;
            };
            if to - from >= MAX_WORD_BYTES {
                continue;
            }
            self.token.offset_from = from;
            self.token.offset_to = to;
            if odd {
                self.token.text = fold_slowly(self.slow, &self.text[from..to]);
            }
            return true;
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{RemoveLongFilter, SimpleTokenizer};

    use super::*;

    /// The chain this tokenizer replaces.
    fn reference() -> TextAnalyzer {
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build()
    }

    fn tokens(a: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            let t = s.token();
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    fn same(text: &str) {
        let mut ours = TextAnalyzer::from(FoldingTokenizer::default());
        assert_eq!(tokens(&mut ours, text), tokens(&mut reference(), text), "{text:?}");
    }

    #[test]
    fn french_words() {
        let mut ours = TextAnalyzer::from(FoldingTokenizer::default());
        let words: Vec<String> =
            tokens(&mut ours, "Réunion du CONSEIL d'école — Noël, Œuvre, Straße").into_iter().map(|t| t.0).collect();
        assert_eq!(words, ["reunion", "du", "conseil", "d", "ecole", "noel", "oeuvre", "strasse"]);
        same("Réunion du CONSEIL d'école — Noël. Baccalauréat: inscriptions ouvertes à 8h30 (salle B12)!");
        same("");
        same("   ,;  ");
        same("élève");
    }

    #[test]
    fn every_character_up_to_the_cjk_block_alone_and_inside_words() {
        let mut text = String::new();
        for u in 0..0x3100u32 {
            let Some(c) = char::from_u32(u) else { continue };
            text.push(c);
            text.push_str(" a");
            text.push(c);
            text.push_str("Z ");
        }
        same(&text);
    }

    #[test]
    fn mixed_scripts_and_long_words() {
        // A fixed pseudo-random walk over characters of several scripts.
        let pool: Vec<char> = "aZ9 é ÉçŒœßÆ-_'.,\t\nİıΣσςДжЖ漢字🙂\u{301}\u{200B}ǅǈⅫ①\u{FFFD}".chars().collect();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for round in 0..400 {
            let mut text = String::new();
            for _ in 0..(round % 90 + 1) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push(pool[(state % pool.len() as u64) as usize]);
            }
            same(&text);
        }
        for n in [60, 62, 63, 64, 65, 70] {
            same(&format!("court {} fin", "a".repeat(n)));
            same(&format!("court {} fin", "é".repeat(n / 2)));
            same(&"漢".repeat(n / 3));
        }
    }
}
