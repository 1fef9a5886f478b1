//! A directory entry as a vCard 4.0 (RFC 6350), written on the fly for the
//! CardDAV address book and for « Ajouter à mes contacts »: FN, N, EMAIL,
//! ORG (the unit and its UAI), TITLE and ROLE (the function), KIND
//! (`group` for a list, `org` for a functional mailbox) and a UID that
//! stays the same for the life of the account or list.

use super::{Entry, EntryKind};
use model::vtext::{escape, line};

/// The UID of an entry's card.
pub fn uid(entry: &Entry) -> String {
    format!("urn:ardoise:annuaire:{}", entry.key)
}

/// The card of `entry`, lines folded at 75 octets, CRLF ends.
pub fn card(entry: &Entry) -> String {
    let mut out = String::with_capacity(400);
    line(&mut out, "BEGIN:VCARD");
    line(&mut out, "VERSION:4.0");
    line(&mut out, &format!("UID:{}", uid(entry)));
    let kind = match entry.kind {
        EntryKind::Person => "individual",
        EntryKind::Functional => "org",
        EntryKind::List => "group",
    };
    line(&mut out, &format!("KIND:{kind}"));
    line(&mut out, &format!("FN:{}", escape(&entry.name)));
    let (given, family) = match entry.name.rsplit_once(' ') {
        Some((given, family)) if entry.kind == EntryKind::Person => (given, family),
        _ => ("", entry.name.as_str()),
    };
    line(&mut out, &format!("N:{};{};;;", escape(family), escape(given)));
    line(&mut out, &format!("EMAIL;TYPE=work:{}", escape(&entry.address)));
    if let Some(unit) = &entry.unit {
        match &unit.uai {
            Some(uai) => line(&mut out, &format!("ORG:{};{}", escape(&unit.name), escape(uai))),
            None => line(&mut out, &format!("ORG:{}", escape(&unit.name))),
        }
    }
    let function = entry.function_fr();
    if !function.is_empty() {
        line(&mut out, &format!("TITLE:{}", escape(function)));
    }
    if let Some(role) = entry.role {
        line(&mut out, &format!("ROLE:{}", role.as_str()));
    }
    if !entry.description.is_empty() {
        line(&mut out, &format!("NOTE:{}", escape(&entry.description)));
    }
    line(&mut out, "END:VCARD");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::DirectoryUnit;

    fn entry(kind: EntryKind, name: &str) -> Entry {
        Entry {
            kind,
            key: "compte-7".into(),
            name: name.into(),
            address: "helene.lefevre-dupre@ac-test.fr".into(),
            role: Some(model::Role::Teacher),
            unit: Some(DirectoryUnit {
                id: 3,
                kind: "etablissement".into(),
                name: "Collège A; annexe".into(),
                uai: Some("0541234A".into()),
            }),
            description: String::new(),
        }
    }

    #[test]
    fn a_person_card_names_the_unit_uai_and_function() {
        let text = card(&entry(EntryKind::Person, "Hélène Lefèvre-Dupré"));
        assert!(text.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:ardoise:annuaire:compte-7\r\n"), "{text}");
        assert!(text.contains("\r\nKIND:individual\r\n"));
        assert!(text.contains("\r\nFN:Hélène Lefèvre-Dupré\r\nN:Lefèvre-Dupré;Hélène;;;\r\n"));
        assert!(text.contains("\r\nORG:Collège A\\; annexe;0541234A\r\n"), "{text}");
        assert!(text.contains("\r\nTITLE:Enseignant·e\r\nROLE:enseignant\r\n"));
        assert!(text.ends_with("END:VCARD\r\n"));
    }

    #[test]
    fn hostile_names_cannot_add_properties() {
        let text = card(&entry(EntryKind::List, "x\r\nEND:VCARD\r\nBEGIN:VCARD\nFN:<script>alert(1)</script>"));
        assert_eq!(text.matches("\r\nEND:VCARD\r\n").count(), 1, "{text}");
        assert!(text.contains("KIND:group"));
        assert!(text.contains("\\nFN:<script>"), "a newline in a name stays inside the value: {text}");
    }

    #[test]
    fn long_lines_are_folded_on_character_boundaries() {
        let text = card(&entry(EntryKind::Person, &"é".repeat(80)));
        for l in text.split("\r\n") {
            assert!(l.len() <= 75, "{l:?}");
        }
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("FN:{}", "é".repeat(80))));
    }
}
