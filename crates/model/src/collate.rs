//! The `i;unicode-casemap` comparator (RFC 5051), which IMAP SORT and the
//! webmail's lists use to order subjects and names: case and accents set
//! aside the way a reader expects, so « Élection » sorts among the E, and
//! « Réunion équipe » before « Réunion parents ».
//!
//! RFC 5051 section 2 builds a key per string: each character is mapped to
//! its titlecase form, then the string is decomposed (Unicode normalization
//! form KD); two strings compare as the octets of their keys. Accents become
//! combining marks after their base letter, so they only break ties.

use unicode_normalization::UnicodeNormalization;

/// The `i;unicode-casemap` key of `text`: compare two keys (as strings,
/// that is by UTF-8 octets) to compare the texts. Callers sorting many rows
/// compute each key once.
pub fn casemap_key(text: &str) -> String {
    // Titlecase again after the decomposition: a compatibility character
    // such as the ligature `ﬁ` has no one-letter titlecase but decomposes
    // into letters that have one.
    text.chars().map(titlecase).nfkd().map(titlecase).collect()
}

/// The simple titlecase mapping of a character: its upper case when that is
/// one character (Unicode's full upper-casing turns `ß` into `SS`, which the
/// simple mapping does not), and the titlecase letters of the four Latin
/// digraphs, whose titlecase is not their upper case.
fn titlecase(c: char) -> char {
    match c {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        _ => {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(one), None) => one,
                _ => c,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::casemap_key;

    fn sorted(words: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        v.sort_by_cached_key(|w| casemap_key(w));
        v
    }

    #[test]
    fn french_subjects_sort_as_readers_expect() {
        assert_eq!(sorted(&["Vie scolaire", "Élection", "avis"]), ["avis", "Élection", "Vie scolaire"]);
        assert_eq!(sorted(&["Réunion parents", "Réunion équipe"]), ["Réunion équipe", "Réunion parents"]);
        assert_eq!(casemap_key("élève"), casemap_key("ÉLÈVE"));
        assert_ne!(casemap_key("eleve"), casemap_key("élève"));
        // Upper-cased like the i;ascii-casemap base, not lower-cased: `Z`
        // (0x5A) comes before `[` (0x5B) and `_` (0x5F).
        assert_eq!(sorted(&["_b", "[a", "z"]), ["z", "[a", "_b"]);
        assert_eq!(casemap_key("ǆ"), casemap_key("ǅ"));
        assert_eq!(casemap_key("ß"), "ß");
        assert_eq!(casemap_key("ﬁn"), "FIN");
    }
}
