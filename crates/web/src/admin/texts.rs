//! The console's texts, French first, in the way of `crate::base::i18n`.

use crate::base::i18n::{Lang, lookup};

/// What console templates call to get a text: `{{ a.get("adm.search") }}`.
#[derive(Debug, Clone, Copy)]
pub struct A(pub Lang);

impl A {
    pub fn get(&self, key: &str) -> &'static str {
        TABLES.iter().map(|table| lookup(table, key, self.0)).find(|text| *text != "??").unwrap_or("??")
    }
}

/// Every console text table: this one, then the pages that keep theirs beside their code.
const TABLES: &[&[(&str, &str, &str)]] =
    &[TEXTS, super::requests::TEXTS, super::lists::TEXTS, super::functional::TEXTS];

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
    ("adm.done.session", "Session fermée.", "Session ended."),
    ("adm.done.sessions", "Toutes les sessions sont fermées.", "Every session ended."),
    ("adm.sessions.none", "Aucune session web ouverte.", "No open web session."),
    ("adm.session.opened", "Ouverte le", "Opened"),
    ("adm.session.seen", "Dernière activité", "Last active"),
    ("adm.session.client", "Navigateur", "Browser"),
    ("adm.session.partial", "connexion inachevée", "login not completed"),
    ("adm.session.end", "Fermer", "End"),
    ("adm.sessions.end", "Fermer toutes les sessions", "End every session"),
    (
        "adm.sessions.end.note",
        "Ferme les sessions web et les connexions IMAP et SMTP en cours ; le mot de passe reste valable.",
        "Ends the web sessions and the open IMAP and SMTP connections; the password stays valid.",
    ),
    ("adm.queue", "File d'envoi", "Outbound queue"),
    (
        "adm.queue.intro",
        "Les messages qui attendent de partir vers d'autres domaines, envoyés depuis les comptes de votre périmètre, du plus ancien au plus récent.",
        "Messages waiting to leave for other domains, sent from the accounts within your scope, oldest first.",
    ),
    ("adm.queue.total", "message(s) en attente", "message(s) waiting"),
    ("adm.queue.none", "Aucun message en attente.", "No message waiting."),
    ("adm.queue.sender", "Expéditeur", "Sender"),
    ("adm.queue.rcpts", "Destinataires", "Recipients"),
    ("adm.queue.more", "autre(s)", "more"),
    ("adm.queue.size", "Taille", "Size"),
    ("adm.queue.queued", "En file depuis", "Queued since"),
    ("adm.queue.next", "Prochain essai", "Next attempt"),
    ("adm.queue.expires", "Abandon le", "Gives up on"),
    ("adm.queue.attempts", "Essais", "Attempts"),
    ("adm.queue.retry", "Relancer maintenant", "Retry now"),
    ("adm.queue.delete", "Supprimer", "Delete"),
    (
        "adm.queue.delete.note",
        "Les destinataires en attente ne recevront rien et l'expéditeur ne sera pas prévenu.",
        "Pending recipients get nothing and the sender is not told.",
    ),
    ("adm.queue.bounce", "avis de non-remise", "bounce"),
    ("rcpt.pending", "en attente", "pending"),
    ("rcpt.sent", "remis", "sent"),
    ("rcpt.failed", "échec", "failed"),
    (
        "adm.done.retry",
        "Message relancé : il part au prochain passage de la file.",
        "Message retried: it leaves at the queue's next pass.",
    ),
    ("adm.done.delete", "Message supprimé de la file.", "Message deleted from the queue."),
    ("adm.quarantine", "Quarantaine", "Quarantine"),
    (
        "adm.quarantine.intro",
        "Les messages refusés à l'arrivée (virus, score de spam trop élevé), conservés quelques jours : libérez-les dans la boîte de réception de leurs destinataires ou supprimez-les. Chaque consultation est inscrite au journal d'audit.",
        "Messages refused on arrival (a virus, a spam score too high), kept a few days: release them into their recipients' Inbox or delete them. Every look is written to the audit log.",
    ),
    ("adm.quarantine.none", "Aucun message en quarantaine.", "No message in quarantine."),
    ("adm.quarantine.more", "D'autres messages, plus anciens, ne sont pas affichés.", "Older messages are not shown."),
    (
        "adm.quarantine.unavailable",
        "La quarantaine n'est pas disponible sur ce serveur.",
        "The quarantine is not available on this server.",
    ),
    ("adm.quarantine.reason", "Motif", "Reason"),
    ("adm.quarantine.subject", "Objet", "Subject"),
    ("adm.quarantine.received", "Reçu le", "Received"),
    ("adm.quarantine.expires", "Supprimé automatiquement le", "Deleted automatically on"),
    ("adm.quarantine.release", "Libérer", "Release"),
    (
        "adm.quarantine.release.note",
        "Le message est remis tel quel dans la boîte de réception de chaque destinataire.",
        "The message is delivered as it came into each recipient's Inbox.",
    ),
    ("adm.quarantine.virus", "virus", "virus"),
    ("adm.quarantine.spam", "spam", "spam"),
    ("adm.done.release", "Message libéré dans les boîtes de réception.", "Message released into the Inboxes."),
    ("adm.done.qdelete", "Message supprimé de la quarantaine.", "Message deleted from the quarantine."),
    ("adm.storage", "Stockage", "Storage"),
    (
        "adm.storage.intro",
        "L'espace occupé par les boîtes aux lettres de votre périmètre. Chaque contenu est stocké une seule fois, quel que soit le nombre de ses destinataires.",
        "The space taken by the mailboxes within your scope. Each content is stored once, whatever its number of recipients.",
    ),
    ("adm.storage.dedup", "Déduplication", "Deduplication"),
    ("adm.storage.messages", "Messages", "Messages"),
    ("adm.storage.logical", "Taille de toutes les copies", "Size of every copy"),
    ("adm.storage.physical", "Taille stockée (contenus distincts)", "Stored size (distinct contents)"),
    ("adm.storage.ratio", "Copies par contenu stocké", "Copies per stored content"),
    ("adm.storage.saved", "économisé", "saved"),
    ("adm.storage.units", "Occupation par unité", "Usage by unit"),
    (
        "adm.storage.units.caption",
        "Chaque unité compte aussi les unités placées sous elle",
        "Each unit also counts the units below it",
    ),
    ("adm.storage.unplaced", "Comptes hors de toute unité", "Accounts in no unit"),
    ("adm.storage.largest", "Boîtes les plus volumineuses", "Largest mailboxes"),
    ("adm.denied", "Action non autorisée", "Action not allowed"),
    ("adm.refused", "Action refusée", "Action refused"),
    ("adm.unconfirmed", "Cochez « Je confirme » pour cette action.", "Tick « I confirm » for this action."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_translated() {
        let all: Vec<_> = TABLES.iter().flat_map(|t| t.iter()).collect();
        for (i, (k, fr, en)) in all.iter().enumerate() {
            assert!(!fr.is_empty() && !en.is_empty(), "{k}");
            assert!(all[i + 1..].iter().all(|(k2, _, _)| k2 != k), "duplicate {k}");
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
            include_str!("../../templates/admin/queue.html"),
            include_str!("../../templates/admin/quarantine.html"),
            include_str!("../../templates/admin/storage.html"),
            include_str!("../../templates/admin/requests.html"),
            include_str!("../../templates/admin/lists.html"),
            include_str!("../../templates/admin/list.html"),
            include_str!("../../templates/admin/functional_list.html"),
            include_str!("../../templates/admin/functional.html"),
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
