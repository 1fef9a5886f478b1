//! The texts of the Annuaire and Contacts pages.

use crate::base::i18n::{Lang, lookup};

/// What the templates call: `{{ a.get("ann.title") }}`.
#[derive(Debug, Clone, Copy)]
pub struct A(pub Lang);

impl A {
    pub fn get(&self, key: &str) -> &'static str {
        lookup(TEXTS, key, self.0)
    }
}

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("ann.title", "Annuaire", "Directory"),
    (
        "ann.intro",
        "Retrouvez un·e collègue, un service ou un établissement de l'académie par son nom, sa fonction ou son UAI.",
        "Find a colleague, a service or a school of the académie by name, function or UAI.",
    ),
    ("ann.search", "Rechercher dans l'annuaire", "Search the directory"),
    ("ann.search.button", "Rechercher", "Search"),
    (
        "ann.search.hint",
        "Par exemple : « Hélène », « secrétariat », « 0541234A »",
        "For example: « Hélène », « secrétariat », « 0541234A »",
    ),
    ("ann.none", "Personne ne correspond à cette recherche.", "No one matches this search."),
    ("ann.results", "Résultats", "Results"),
    (
        "ann.more",
        "Seuls les premiers résultats sont montrés : précisez la recherche.",
        "Only the first results are shown: refine the search.",
    ),
    ("ann.name", "Nom", "Name"),
    ("ann.function", "Fonction", "Function"),
    ("ann.unit", "Établissement ou service", "School or service"),
    ("ann.uai", "UAI", "UAI"),
    ("ann.address", "Adresse électronique", "Email address"),
    ("ann.write", "Écrire", "Write"),
    ("ann.add", "Ajouter à mes contacts", "Add to my contacts"),
    ("ann.added", "Fiche ajoutée à vos contacts.", "Card added to your contacts."),
    ("ann.back", "Retour à l'annuaire", "Back to the directory"),
    ("ann.card", "Fiche", "Card"),
    (
        "ann.list.note",
        "Liste de diffusion : un message écrit à cette adresse est remis à ses membres.",
        "Distribution list: a message to this address reaches its members.",
    ),
    ("ann.tabs", "Annuaire et contacts", "Directory and contacts"),
    ("con.title", "Mes contacts", "My contacts"),
    (
        "con.intro",
        "Vos contacts personnels, aussi visibles dans vos logiciels (Thunderbird, téléphone) par CardDAV.",
        "Your personal contacts, also visible in your apps (Thunderbird, phone) over CardDAV.",
    ),
    ("con.search", "Rechercher dans mes contacts", "Search my contacts"),
    ("con.none", "Aucun contact.", "No contacts."),
    ("con.new", "Nouveau contact", "New contact"),
    ("con.edit", "Modifier le contact", "Edit the contact"),
    ("con.name", "Nom", "Name"),
    ("con.emails", "Adresses électroniques (une par ligne)", "Email addresses (one per line)"),
    ("con.phone", "Téléphone", "Phone"),
    ("con.org", "Organisation", "Organisation"),
    ("con.title.field", "Fonction", "Function"),
    ("con.groups", "Groupes (séparés par des virgules)", "Groups (comma-separated)"),
    ("con.note", "Note", "Note"),
    ("con.save", "Enregistrer", "Save"),
    ("con.delete", "Supprimer", "Delete"),
    ("con.saved", "Contact enregistré.", "Contact saved."),
    ("con.deleted", "Contact supprimé.", "Contact deleted."),
    ("con.cancel", "Annuler", "Cancel"),
    ("con.groups.title", "Groupes", "Groups"),
    ("con.group.write", "Écrire au groupe", "Write to the group"),
    ("con.group.all", "Tous les contacts", "All contacts"),
    (
        "con.foreign",
        "Ce contact a été créé par un autre logiciel : modifiez-le dans celui-ci.",
        "This contact was made by another app: edit it there.",
    ),
    (
        "con.stale",
        "Le contact a changé entre-temps : rechargez la page.",
        "The contact changed meanwhile: reload the page.",
    ),
    (
        "con.unavailable",
        "Les contacts ne sont pas disponibles sur ce serveur.",
        "Contacts are not available on this server.",
    ),
    ("con.invalid", "Contact refusé :", "Contact refused:"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_translated_and_used_keys_exist() {
        for (i, (k, fr, en)) in TEXTS.iter().enumerate() {
            assert!(!fr.is_empty() && !en.is_empty(), "{k}");
            assert!(TEXTS[i + 1..].iter().all(|(k2, _, _)| k2 != k), "duplicate {k}");
        }
        let templates = [
            include_str!("../../templates/annuaire/directory.html"),
            include_str!("../../templates/annuaire/card.html"),
            include_str!("../../templates/annuaire/contacts.html"),
            include_str!("../../templates/annuaire/contact_form.html"),
            include_str!("../../templates/annuaire/tabs.html"),
        ];
        for t in templates {
            for piece in t.split("a.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(A(Lang::Fr).get(key) != "??", "missing text {key}");
            }
            for piece in t.split("c.t.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(crate::base::i18n::TEXTS.iter().any(|(k, _, _)| *k == key), "missing text {key}");
            }
        }
    }
}
