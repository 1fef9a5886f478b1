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
