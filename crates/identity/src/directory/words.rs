//! How a query's words are read: folded (lower case, no accents) and matched
//! against units and functions, which are few enough to compare here.

use model::Role;
use store::{DirectoryUnit, DirectoryWord};

/// Lower case without accents; ASCII is kept as is (so `.`, `@`, `%` and
/// `_` stay, and are escaped by the store), other letters lose their
/// diacritics (« Hélène » reads `helene`), anything else is dropped.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if c.is_whitespace() {
            out.push(' ');
        } else {
            out.push_str(&model::translit::slug(c.encode_utf8(&mut [0u8; 4])));
        }
    }
    out
}

/// Words that name each role, folded; a query word matches a role when it
/// starts one of them (three letters at least).
fn role_words(role: Role) -> &'static [&'static str] {
    match role {
        Role::Teacher => &["enseignant", "enseignante", "professeur", "professeure", "teacher"],
        Role::Administrative => &["administratif", "administrative", "gestionnaire", "agent"],
        Role::Direction => &["direction", "directeur", "directrice", "principal", "proviseur", "chef"],
        Role::Functional => &["fonctionnelle", "service", "functional"],
        Role::Admin => &["administrateur", "administratrice", "admin"],
        Role::Student => &[],
    }
}

/// The function of a role as the card shows it, in French.
pub fn role_label_fr(role: Role) -> &'static str {
    match role {
        Role::Teacher => "Enseignant·e",
        Role::Administrative => "Personnel administratif",
        Role::Direction => "Direction",
        Role::Functional => "Boîte fonctionnelle",
        Role::Admin => "Administration du service",
        Role::Student => "",
    }
}

/// The function of a role, in English.
pub fn role_label_en(role: Role) -> &'static str {
    match role {
        Role::Teacher => "Teacher",
        Role::Administrative => "Administrative staff",
        Role::Direction => "Management",
        Role::Functional => "Functional mailbox",
        Role::Admin => "Service administration",
        Role::Student => "",
    }
}

/// One word of a query, with the units and roles it names.
pub fn word(raw: &str, units: &[DirectoryUnit]) -> DirectoryWord {
    let lower = raw.to_lowercase();
    let folded = fold(raw);
    let units = if folded.chars().count() >= 2 {
        units
            .iter()
            .filter(|u| {
                fold(&u.name).contains(&folded) || u.uai.as_deref().is_some_and(|uai| uai.eq_ignore_ascii_case(&folded))
            })
            .map(|u| u.id)
            .take(500)
            .collect()
    } else {
        Vec::new()
    };
    let roles = if folded.len() >= 3 {
        Role::ALL
            .iter()
            .filter(|r| role_words(**r).iter().any(|w| w.starts_with(folded.as_str())))
            .map(|r| r.as_str())
            .collect()
    } else {
        Vec::new()
    };
    DirectoryWord { lower, folded, units, roles }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: i64, name: &str, uai: Option<&str>) -> DirectoryUnit {
        DirectoryUnit { id, kind: "etablissement".into(), name: name.into(), uai: uai.map(str::to_owned) }
    }

    #[test]
    fn accents_and_case_are_ignored() {
        assert_eq!(fold("Hélène LEFÈVRE"), "helene lefevre");
        assert_eq!(fold("claire.martin@ac-demo.fr"), "claire.martin@ac-demo.fr");
        assert_eq!(fold("50%_x"), "50%_x");
        assert_eq!(fold("Cœur"), "coeur");
    }

    #[test]
    fn words_name_units_by_name_or_uai_and_roles_by_function() {
        let units = [unit(1, "Collège Jean Moulin", Some("0541234A")), unit(2, "Lycée Poincaré", Some("0570456C"))];
        assert_eq!(word("collège", &units).units, [1]);
        assert_eq!(word("0541234a", &units).units, [1]);
        assert_eq!(word("POINCARE", &units).units, [2]);
        assert!(word("0541234", &units).units.is_empty(), "a UAI is matched whole");
        assert_eq!(word("prof", &units).roles, ["enseignant"]);
        assert_eq!(word("administrative", &units).roles, ["administratif"]);
        assert!(word("el", &units).roles.is_empty());
        assert!(word("eleve", &units).roles.is_empty(), "students are never a function");
        assert_eq!(word("%", &units).folded, "%");
    }
}
