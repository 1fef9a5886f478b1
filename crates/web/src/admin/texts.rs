//! The console's texts, French first, in the way of `crate::base::i18n`.

use crate::base::i18n::{Lang, lookup};

/// What console templates call to get a text: `{{ a.get("adm.search") }}`.
#[derive(Debug, Clone, Copy)]
pub struct A(pub Lang);

impl A {
    pub fn get(&self, key: &str) -> &'static str {
        lookup(TEXTS, key, self.0)
    }
}

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("adm.title", "Administration", "Administration"),
    ("adm.nav", "Console d'administration", "Administration console"),
    ("adm.tree", "Organisation", "Organisation"),
    ("adm.accounts", "Comptes", "Accounts"),
    ("adm.audit", "Journal d'audit", "Audit log"),
    ("adm.roles", "Vos rôles", "Your roles"),
    ("adm.tree.intro", "Les unités de votre périmètre.", "The units within your scope."),
    ("adm.tree.search", "comptes", "accounts"),
    ("adm.search.text", "Nom, adresse ou identifiant", "Name, address or identifier"),
    ("adm.search.uai", "UAI de l'établissement", "School UAI"),
    ("adm.search.status", "État", "Status"),
    ("adm.search.any", "Tous", "Any"),
    ("adm.search.go", "Rechercher", "Search"),
    ("adm.search.found", "compte(s) trouvé(s)", "account(s) found"),
    ("adm.search.none", "Aucun compte ne correspond.", "No account matches."),
    ("adm.page", "Page", "Page"),
    ("adm.prev", "Page précédente", "Previous page"),
    ("adm.next", "Page suivante", "Next page"),
    ("adm.address", "Adresse", "Address"),
    ("adm.name", "Nom", "Name"),
    ("adm.role", "Fonction", "Role"),
    ("adm.unit", "Unité", "Unit"),
    ("adm.status", "État", "Status"),
    ("st.provisional", "provisoire", "provisional"),
    ("st.active", "actif", "active"),
    ("st.suspended", "suspendu", "suspended"),
    ("st.closed", "fermé", "closed"),
    ("adm.quota", "Quota", "Quota"),
    ("adm.used", "Utilisé", "Used"),
    ("adm.unlimited", "illimité", "unlimited"),
    ("adm.aliases", "Adresses supplémentaires", "Aliases"),
    ("adm.none", "aucune", "none"),
    ("adm.2fa", "Validation en deux étapes", "Two-step verification"),
    ("adm.passkeys", "Clés d'accès", "Passkeys"),
    ("adm.on", "activée", "on"),
    ("adm.off", "désactivée", "off"),
    ("adm.throttle", "Échecs de connexion récents", "Recent failed logins"),
    ("adm.slowed", "connexions ralenties jusqu'à", "logins slowed down until"),
    ("adm.sessions", "Sessions web ouvertes", "Open web sessions"),
    ("adm.grants", "Rôles d'administration", "Administrative roles"),
    ("adm.journal", "Dernières connexions", "Latest logins"),
    ("adm.when", "Date", "When"),
    ("adm.protocol", "Protocole", "Protocol"),
    ("adm.ip", "Adresse IP", "IP address"),
    ("adm.result", "Résultat", "Result"),
    ("adm.actions", "Actions", "Actions"),
    ("adm.confirm", "Je confirme", "I confirm"),
    ("adm.suspend", "Suspendre le compte", "Suspend the account"),
    (
        "adm.suspend.note",
        "La connexion est refusée partout et les sessions ouvertes se ferment ; le courrier continue d'arriver.",
        "Logins are refused everywhere and open sessions end; mail still arrives.",
    ),
    ("adm.reactivate", "Réactiver le compte", "Reactivate the account"),
    ("adm.quota.set", "Changer le quota", "Change the quota"),
    ("adm.quota.hint", "ex. 500M, 2G ; 0 = illimité", "e.g. 500M, 2G; 0 = unlimited"),
    ("adm.reset", "Mot de passe provisoire", "Provisional password"),
    (
        "adm.reset.note",
        "Un nouveau mot de passe provisoire, affiché une seule fois, à changer à la prochaine connexion ; les sessions se ferment.",
        "A new provisional password, shown once, to change at the next login; sessions end.",
    ),
    ("adm.reset.go", "Réinitialiser le mot de passe", "Reset the password"),
    ("adm.reset.done", "Mot de passe provisoire (affiché une seule fois) :", "Provisional password (shown only once):"),
    ("adm.2fa.reset", "Désactiver la validation en deux étapes", "Turn two-step verification off"),
    ("adm.passkeys.reset", "Réinitialiser les clés d'accès", "Reset the passkeys"),
    ("adm.unlock", "Débloquer les connexions", "Unlock logins"),
    (
        "adm.unlock.note",
        "Les échecs passés ne ralentissent plus les connexions de ce compte.",
        "Past failures no longer slow this account's logins down.",
    ),
    ("adm.grant", "Donner un rôle", "Grant a role"),
    ("adm.grant.unit", "Sur l'unité", "On the unit"),
    ("adm.grant.go", "Donner le rôle", "Grant the role"),
    ("adm.back", "Retour à la recherche", "Back to the search"),
    (
        "adm.audit.verified",
        "Chaîne vérifiée : aucune ligne modifiée ni supprimée.",
        "Chain verified: no row edited or deleted.",
    ),
    ("adm.audit.broken", "Chaîne rompue : lignes modifiées ou supprimées :", "Chain broken: rows edited or deleted:"),
    ("adm.audit.total", "lignes au journal", "rows in the log"),
    ("adm.audit.actor", "Acteur", "Actor"),
    ("adm.audit.target", "Cible", "Target"),
    ("adm.audit.action", "Action", "Action"),
    ("adm.audit.scope", "Périmètre", "Scope"),
    ("adm.audit.detail", "Détail", "Detail"),
    ("adm.audit.filter", "Filtrer", "Filter"),
    ("adm.audit.none", "Aucune entrée.", "No entry."),
    ("adm.done.suspend", "Compte suspendu.", "Account suspended."),
    ("adm.done.activate", "Compte réactivé.", "Account reactivated."),
    ("adm.done.quota", "Quota changé.", "Quota changed."),
    ("adm.done.2fa", "Validation en deux étapes désactivée.", "Two-step verification turned off."),
    ("adm.done.passkeys", "Clés d'accès réinitialisées.", "Passkeys reset."),
    ("adm.done.unlock", "Connexions débloquées.", "Logins unlocked."),
    ("adm.done.grant", "Rôle donné.", "Role granted."),
    ("adm.denied", "Action non autorisée", "Action not allowed"),
    ("adm.refused", "Action refusée", "Action refused"),
    ("adm.unconfirmed", "Cochez « Je confirme » pour cette action.", "Tick « I confirm » for this action."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_translated() {
        for (i, (k, fr, en)) in TEXTS.iter().enumerate() {
            assert!(!fr.is_empty() && !en.is_empty(), "{k}");
            assert!(TEXTS[i + 1..].iter().all(|(k2, _, _)| k2 != k), "duplicate {k}");
        }
    }

    #[test]
    fn every_key_used_by_a_template_exists() {
        let templates = [
            include_str!("../../templates/admin/nav.html"),
            include_str!("../../templates/admin/tree.html"),
            include_str!("../../templates/admin/search.html"),
            include_str!("../../templates/admin/account.html"),
            include_str!("../../templates/admin/audit.html"),
        ];
        for t in templates {
            for piece in t.split("a.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(TEXTS.iter().any(|(k, _, _)| *k == key), "missing text {key}");
            }
            for piece in t.split("c.t.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(crate::base::i18n::TEXTS.iter().any(|(k, _, _)| *k == key), "missing text {key}");
            }
        }
    }
}
