//! Transliteration of French names into address local parts:
//! « Hélène Lefèvre-Dupré » becomes `helene.lefevre-dupre`.

/// Lower-cases and strips diacritics; keeps ASCII letters, digits and `-`;
/// spaces and apostrophes become `-`; anything else is dropped.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        let mapped: &str = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => "a",
            'ç' => "c",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'î' | 'ï' | 'í' | 'ì' => "i",
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' | 'ø' => "o",
            'ù' | 'û' | 'ü' | 'ú' => "u",
            'ÿ' | 'ý' => "y",
            'ñ' => "n",
            'æ' => "ae",
            'œ' => "oe",
            'ß' => "ss",
            ' ' | '\'' | '’' | '-' | '_' => "-",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        if mapped == "-" && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push_str(mapped);
    }
    out.trim_end_matches('-').to_owned()
}

/// `prenom.nom` for a person, transliterated.
pub fn local_part(first_name: &str, last_name: &str) -> String {
    format!("{}.{}", slug(first_name), slug(last_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_names() {
        assert_eq!(local_part("Hélène", "Lefèvre-Dupré"), "helene.lefevre-dupre");
        assert_eq!(local_part("Jean-François", "L'Hôpital"), "jean-francois.l-hopital");
        assert_eq!(local_part("Éloïse", "Cœur  de Lion"), "eloise.coeur-de-lion");
    }
}

/// `text` in printable ASCII, case kept: accents dropped (« Hélène » reads
/// `"Helene"`), French quotes and apostrophes made plain, line breaks and
/// controls made spaces, anything else `?`. For protocol lines that must be
/// 7-bit, such as an IMAP4rev1 `* OK [ALERT]`.
pub fn ascii(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let mut out = String::with_capacity(text.len());
    let mut after_open_quote = false;
    for c in text.nfd() {
        // « texte » reads "texte": the spaces French puts inside guillemets go.
        if std::mem::take(&mut after_open_quote) && c.is_whitespace() {
            continue;
        }
        match c {
            c if is_combining_mark(c) => {}
            '«' => {
                out.push('"');
                after_open_quote = true;
            }
            '»' => {
                out.truncate(out.trim_end().len());
                out.push('"');
            }
            c if c.is_ascii_control() || c.is_control() => out.push(' '),
            c if c.is_ascii() => out.push(c),
            '“' | '”' => out.push('"'),
            '’' | '‘' => out.push('\''),
            '\u{a0}' | '\u{202f}' => out.push(' '),
            'œ' => out.push_str("oe"),
            'Œ' => out.push_str("OE"),
            'æ' => out.push_str("ae"),
            'Æ' => out.push_str("AE"),
            'ß' => out.push_str("ss"),
            '–' | '—' => out.push('-'),
            '…' => out.push_str("..."),
            '€' => out.push_str("EUR"),
            _ => out.push('?'),
        }
    }
    out
}

#[cfg(test)]
mod ascii_tests {
    #[test]
    fn french_text_folds_to_readable_ascii() {
        assert_eq!(
            super::ascii("« Messagerie indisponible » samedi 8 h – 10 h, œuvre d’Hélène\r\nÉTÉ"),
            "\"Messagerie indisponible\" samedi 8 h - 10 h, oeuvre d'Helene  ETE"
        );
        assert_eq!(super::ascii("日本"), "??");
    }
}
