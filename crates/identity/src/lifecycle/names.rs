//! Addresses (`prenom.nom@domain`) and short logins (`cmartin`) for new and
//! renamed people: transliterated from the French names, numbered on
//! collision (`jean.martin`, `jean.martin2`, `jean.martin3`...).

use std::collections::{HashMap, HashSet};

use model::AccountId;
use model::translit::{local_part, slug};

/// Hands out unused addresses and logins, remembering what it gave.
pub struct Names {
    domain: String,
    /// Address -> owning account (an account's own aliases are free for it).
    addresses: HashMap<String, Option<AccountId>>,
    logins: HashSet<String>,
    /// Next number to try per base, so 1,000 namesakes cost 1,000 probes, not 500,000.
    next: HashMap<String, u32>,
}

impl Names {
    pub fn new(domain: &str, addresses: HashMap<String, AccountId>, logins: Vec<String>) -> Names {
        Names {
            domain: domain.to_owned(),
            addresses: addresses.into_iter().map(|(a, id)| (a, Some(id))).collect(),
            logins: logins.into_iter().collect(),
            next: HashMap::new(),
        }
    }

    /// The address base for a person: `prenom.nom`.
    pub fn base(prenom: &str, nom: &str) -> String {
        local_part(prenom, nom)
    }

    /// A free address for `prenom.nom`. `owner` may take back one of its own aliases.
    pub fn address(&mut self, prenom: &str, nom: &str, owner: Option<AccountId>) -> String {
        let base = Names::base(prenom, nom);
        let mut n = if owner.is_some() { 1 } else { self.next.get(&base).copied().unwrap_or(1) };
        loop {
            let local = if n == 1 { base.clone() } else { format!("{base}{n}") };
            let address = format!("{local}@{}", self.domain);
            let free = match self.addresses.get(&address) {
                None => true,
                Some(holder) => owner.is_some() && *holder == owner,
            };
            if free {
                self.addresses.insert(address.clone(), owner);
                if owner.is_none() {
                    self.next.insert(base, n + 1);
                }
                return address;
            }
            n += 1;
        }
    }

    /// A free short login: first letter of the first name and the last name
    /// (`Claire Martin` -> `cmartin`), numbered on collision.
    pub fn login(&mut self, prenom: &str, nom: &str) -> String {
        let initial: String = slug(prenom).chars().find(char::is_ascii_alphanumeric).into_iter().collect();
        let base = format!("{initial}{}", slug(nom).replace('-', ""));
        let key = format!("login:{base}");
        let mut n = self.next.get(&key).copied().unwrap_or(1);
        loop {
            let login = if n == 1 { base.clone() } else { format!("{base}{n}") };
            if self.logins.insert(login.clone()) {
                self.next.insert(key, n + 1);
                return login;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterated_and_numbered() {
        let mut taken = HashMap::new();
        taken.insert("jean.martin@ac-demo.fr".to_owned(), 7);
        let mut names = Names::new("ac-demo.fr", taken, vec!["jmartin".into()]);
        assert_eq!(names.address("Hélène", "Lefèvre-Dupré", None), "helene.lefevre-dupre@ac-demo.fr");
        assert_eq!(names.login("Hélène", "Lefèvre-Dupré"), "hlefevredupre");
        assert_eq!(names.address("Jean", "Martin", None), "jean.martin2@ac-demo.fr");
        assert_eq!(names.address("Jean", "Martin", None), "jean.martin3@ac-demo.fr");
        assert_eq!(names.login("Jean", "Martin"), "jmartin2");
        assert_eq!(names.login("Jeanne", "Martin"), "jmartin3");
        // The owner of an alias may take it back.
        assert_eq!(names.address("Jean", "Martin", Some(7)), "jean.martin@ac-demo.fr");
    }

    #[test]
    fn a_thousand_namesakes() {
        let mut names = Names::new("ac-demo.fr", HashMap::new(), Vec::new());
        let all: HashSet<String> = (0..1000).map(|_| names.address("Marie", "Dupont", None)).collect();
        assert_eq!(all.len(), 1000);
        assert!(all.contains("marie.dupont1000@ac-demo.fr"));
    }
}
