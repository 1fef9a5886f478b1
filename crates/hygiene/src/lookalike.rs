//! Domains made to pass for the académie's own.
//!
//! A domain is decoded from punycode, then reduced to a *skeleton*: letters
//! that look alike become one (Cyrillic and Greek homoglyphs, `0` for `o`,
//! `1`/`i`/`l`, `rn` for `m`, `vv` for `w`), dots and hyphens become one
//! separator. It imitates a local domain when it is not that domain nor
//! below it, and either
//! - some run of its labels, glued together, spells the local domain's
//!   skeleton (`ac-dem0.fr`, `acdemo.fr`, `ac-demo-fr.com`,
//!   `ac-demo.fr.example.com`, `securite-ac-demo.fr`), or
//! - it is one edit away (two for names of 12 characters or more) from the
//!   local domain (`ac-deom.fr`, `ac-demi.fr`).

/// Whether `domain` imitates `local`.
pub fn imitates(domain: &str, local: &str) -> bool {
    let domain = unicode(domain);
    let local = unicode(local);
    if domain.is_empty() || local.is_empty() || domain == local || domain.ends_with(&format!(".{local}")) {
        return false;
    }
    let d = skeleton(&domain);
    let l = skeleton(&local);
    let wanted: String = l.split('.').collect();
    let labels: Vec<&str> = d.split('.').filter(|s| !s.is_empty()).collect();
    for start in 0..labels.len() {
        let mut glued = String::new();
        for label in &labels[start..] {
            glued.push_str(label);
            if glued == wanted {
                return true;
            }
            if glued.len() >= wanted.len() {
                break;
            }
        }
    }
    let limit = if local.chars().count() >= 12 { 2 } else { 1 };
    edit_distance(&domain, &local) <= limit
}

/// The first local domain that `domain` imitates.
pub fn imitated<'a>(domain: &str, locals: &'a [String]) -> Option<&'a str> {
    locals.iter().find(|l| imitates(domain, l)).map(String::as_str)
}

/// `domain` lower-case, punycode labels decoded (an undecodable name is
/// kept as written).
pub fn unicode(domain: &str) -> String {
    let lower = domain.trim().trim_end_matches('.').to_lowercase();
    if !lower.split('.').any(|l| l.starts_with("xn--")) {
        return lower;
    }
    let (decoded, result) = idna::domain_to_unicode(&lower);
    if result.is_ok() { decoded } else { lower }
}

/// Whether a domain is written with punycode or with letters of several
/// scripts (Latin mixed with Cyrillic or Greek).
pub fn is_deceptive_script(domain: &str) -> bool {
    let u = unicode(domain);
    let latin = u.chars().any(|c| c.is_ascii_alphabetic());
    let other = u.chars().any(|c| matches!(c as u32, 0x0370..=0x04FF));
    domain.to_ascii_lowercase().split('.').any(|l| l.starts_with("xn--")) || (latin && other)
}

/// Lookalike letters made one, separators made `.`.
pub fn skeleton(domain: &str) -> String {
    let mut out = String::with_capacity(domain.len());
    for c in domain.chars() {
        let mapped = match c {
            '.' | '-' | '_' | '\u{3002}' | '\u{ff0e}' => '.',
            '0' | 'о' | 'ο' | 'σ' | 'օ' => 'o',
            '1' | 'i' | 'l' | '|' | 'і' | 'ӏ' | 'ι' | 'ı' | 'ǀ' => 'l',
            '3' | 'е' | 'ε' | 'ё' => 'e',
            '5' | 'ѕ' => 's',
            'а' | 'α' => 'a',
            'с' | 'ϲ' => 'c',
            'р' | 'ρ' => 'p',
            'х' | 'χ' => 'x',
            'у' | 'γ' => 'y',
            'ԁ' => 'd',
            'ј' => 'j',
            'һ' => 'h',
            'ԛ' => 'q',
            'ԝ' | 'ω' => 'w',
            'к' | 'κ' => 'k',
            'м' => 'm',
            'т' | 'τ' => 't',
            'в' => 'b',
            'н' | 'η' => 'n',
            'ν' => 'v',
            c => c,
        };
        out.push(mapped);
    }
    out.replace("rn", "m").replace("vv", "w").replace("cl", "d")
}

/// Edit distance over characters, a swap of two neighbours counting as one
/// edit (optimal string alignment; domains are short).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 || a.len() > 255 || b.len() > 255 {
        return a.len().abs_diff(b.len()).max(3);
    }
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_briefs_lookalikes_are_caught() {
        for fake in [
            "ac-dem0.fr",
            "ac-demo-fr.com",
            "acdemo.fr",
            "ac-demo.fr.example.com",
            "securite-ac-demo.fr",
            "ас-demo.fr",         // Cyrillic а and с
            "xn---demo-3ve3j.fr", // the same, as punycode
            "ac-dern0.fr",
            "ac-deom.fr",
            "ac-demo.fr.",
        ] {
            if fake == "ac-demo.fr." {
                assert!(!imitates(fake, "ac-demo.fr"), "{fake}: our own domain");
                continue;
            }
            assert!(imitates(fake, "ac-demo.fr"), "{fake} should imitate ac-demo.fr");
        }
    }

    #[test]
    fn honest_domains_are_left_alone() {
        for honest in [
            "ac-demo.fr",
            "mx.ac-demo.fr",
            "AC-DEMO.FR",
            "ac-nancy-metz.fr",
            "ac-lyon.fr",
            "education.gouv.fr",
            "gmail.com",
            "demo.fr",
        ] {
            assert!(!imitates(honest, "ac-demo.fr"), "{honest} is not a lookalike");
        }
        assert!(!imitates("ac-dijon.fr", "ac-lyon.fr"));
        assert!(!imitates("ac-nice.fr", "ac-lille.fr"));
    }

    #[test]
    fn punycode_and_mixed_scripts_are_deceptive() {
        assert!(is_deceptive_script("xn---demo-3ve3j.fr"));
        assert!(is_deceptive_script("ас-demo.fr"));
        assert!(!is_deceptive_script("ac-demo.fr"));
        assert_eq!(unicode("XN---DEMO-3VE3J.FR"), "ас-demo.fr");
        assert_eq!(unicode("xn--garbage-.fr"), "xn--garbage-.fr");
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("ac-demo.fr", "ac-demo.fr"), 0);
        assert_eq!(edit_distance("ac-demo.fr", "ac-deom.fr"), 1);
        assert_eq!(edit_distance("ac-demo.fr", "ac-demi.fr"), 1);
        assert!(edit_distance("a", "abcdef") > 2);
    }
}
