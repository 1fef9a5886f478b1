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
    // « Annuaire RH » (hr.rs)
    ("adm.hr", "Annuaire RH", "HR directory"),
    (
        "adm.hr.intro",
        "Déposez le fichier RH (CSV UTF-8, le format de « ardoise directory sync ») : la simulation montre \
         ce qui changerait, sans rien modifier ; vous confirmez ensuite. Seules les lignes de votre académie \
         sont prises en compte.",
        "Upload the HR file (UTF-8 CSV, the format of « ardoise directory sync »): the dry run shows what would \
         change, changing nothing; then you confirm. Only your académie's rows are taken.",
    ),
    (
        "adm.hr.format",
        "Colonnes : numen, civilite, nom, prenom, role, statut, uai, adresse_secondaire, date_effet ; séparateur « ; » ou « , ».",
        "Columns: numen, civilite, nom, prenom, role, statut, uai, adresse_secondaire, date_effet; separator « ; » or « , ».",
    ),
    ("adm.hr.file", "Fichier RH (CSV)", "HR file (CSV)"),
    ("adm.hr.max", "Mio au plus", "MiB at most"),
    ("adm.hr.domain", "Domaine des adresses créées", "Domain of new addresses"),
    ("adm.hr.check", "Simuler la synchronisation", "Dry-run the sync"),
    ("adm.hr.errors", "Le fichier n'a pas été appliqué", "The file was not applied"),
    ("adm.hr.result", "Résultat de la simulation (rien n'a été modifié)", "Dry-run result (nothing changed)"),
    ("adm.hr.done", "Synchronisation appliquée", "Sync applied"),
    ("adm.hr.rows", "ligne(s) lue(s)", "row(s) read"),
    ("adm.hr.counts", "Décompte", "Counts"),
    ("adm.hr.nochange", "Aucun changement.", "No change."),
    ("adm.hr.line", "Ligne", "Line"),
    ("adm.hr.detail", "Détail", "Detail"),
    ("adm.hr.arrivals", "Arrivées", "Arrivals"),
    ("adm.hr.moves", "Mutations depuis une autre académie", "Moves from another académie"),
    ("adm.hr.departures", "Départs et suspensions", "Departures and suspensions"),
    ("adm.hr.changes", "Autres changements", "Other changes"),
    ("adm.hr.refused", "Lignes refusées", "Rows refused"),
    ("adm.hr.k.created", "créé", "created"),
    ("adm.hr.k.renamed", "renommé", "renamed"),
    ("adm.hr.k.transferred", "muté", "moved"),
    ("adm.hr.k.updated", "modifié", "updated"),
    ("adm.hr.k.suspended", "suspendu", "suspended"),
    ("adm.hr.k.reactivated", "réactivé", "reactivated"),
    ("adm.hr.k.closed", "fermé", "closed"),
    (
        "adm.hr.apply.note",
        "Appliquer crée, modifie et suspend les comptes ci-dessus, en une seule fois. Si l'annuaire a changé \
         depuis la simulation, rien n'est appliqué et la nouvelle simulation s'affiche.",
        "Applying creates, changes and suspends the accounts above, all at once. If the directory changed \
         since the dry run, nothing is applied and the new dry run is shown.",
    ),
    ("adm.hr.apply", "Appliquer la synchronisation", "Apply the sync"),
    ("adm.hr.nofile", "Choisissez un fichier RH.", "Choose an HR file."),
    ("adm.hr.toolarge", "Fichier trop volumineux ({} Mio au plus).", "File too large ({} MiB at most)."),
    (
        "adm.hr.gone",
        "Ce fichier n'est plus disponible (30 minutes passées, ou un autre fichier déposé depuis) : déposez-le à nouveau.",
        "This file is no longer available (30 minutes passed, or another file uploaded since): upload it again.",
    ),
    (
        "adm.hr.changed",
        "L'annuaire a changé depuis la simulation : rien n'a été appliqué. Voici la nouvelle simulation, à confirmer.",
        "The directory changed since the dry run: nothing was applied. Here is the new dry run, to confirm.",
    ),
    (
        "adm.hr.applied",
        "Synchronisation appliquée et inscrite au journal d'audit.",
        "Sync applied and written to the audit log.",
    ),
    ("adm.hr.nothing", "Rien à appliquer.", "Nothing to apply."),
    // « Politiques » (policies.rs)
    ("adm.pol", "Politiques", "Policies"),
    (
        "adm.pol.intro",
        "Les règles qui s'appliquent aux comptes de votre périmètre.",
        "The rules that apply to the accounts within your scope.",
    ),
    ("adm.pol.pw", "Mots de passe", "Passwords"),
    ("adm.pol.pw.length", "Longueur minimale", "Minimum length"),
    ("adm.pol.pw.classes", "Types de caractères exigés (sur 4)", "Character classes required (of 4)"),
    ("adm.pol.pw.strength", "Robustesse minimale (zxcvbn)", "Minimum strength (zxcvbn)"),
    ("adm.pol.pw.history", "Anciens mots de passe refusés", "Previous passwords refused"),
    ("adm.pol.pw.age", "Changement obligatoire après", "Change required after"),
    ("adm.pol.install", "Réglages de l'installation", "Installation settings"),
    (
        "adm.pol.install.note",
        "Ces réglages valent pour toute l'installation et se trouvent dans le fichier de configuration : ils \
         ne se modifient pas ici. Changez la clé indiquée puis redémarrez le service.",
        "These settings apply to the whole installation and live in the configuration file: they are not \
         changed here. Change the key shown, then restart the service.",
    ),
    ("adm.pol.setting", "Réglage", "Setting"),
    ("adm.pol.value", "Valeur", "Value"),
    ("adm.pol.key", "Clé de configuration", "Configuration key"),
    (
        "adm.pol.fwd.default",
        "Transfert automatique hors de l'installation (par défaut)",
        "Automatic forwarding outside (default)",
    ),
    (
        "adm.pol.arch.default",
        "Archivage automatique de la boîte de réception (par défaut)",
        "Automatic Inbox archiving (default)",
    ),
    ("adm.pol.junk", "Score de classement en Indésirables", "Junk score threshold"),
    ("adm.pol.reject", "Score de refus à la réception", "Rejection score threshold"),
    (
        "adm.pol.size",
        "Taille maximale d'un message (pièces jointes comprises)",
        "Largest message (attachments included)",
    ),
    ("adm.pol.share", "Durée d'un lien de partage (par défaut)", "Share link lifetime (default)"),
    ("adm.pol.share.max", "Durée maximale d'un lien de partage", "Longest share link lifetime"),
    ("adm.pol.quota", "Quota des nouveaux comptes", "Quota of new accounts"),
    ("adm.pol.fwd.internal", "jamais hors des domaines de l'installation", "never outside the installation's domains"),
    ("adm.pol.fwd.anywhere", "partout", "anywhere"),
    ("adm.pol.fwd.domains", "vers les domaines listés", "to the listed domains"),
    ("adm.pol.never", "jamais", "never"),
    ("adm.pol.days", "jours", "days"),
    ("adm.pol.inherited", "celle de l'unité du dessus", "the unit above's"),
    ("adm.pol.units", "Par unité", "Per unit"),
    (
        "adm.pol.units.intro",
        "La politique d'une unité vaut pour les unités placées sous elle qui n'en ont pas ; sans aucune, le \
         réglage de l'installation s'applique.",
        "A unit's policy covers the units below it that have none; without any, the installation's setting applies.",
    ),
    ("adm.pol.fwd", "Transfert automatique", "Automatic forwarding"),
    ("adm.pol.arch", "Archivage automatique", "Automatic archiving"),
    ("adm.pol.inherit", "Celle de l'unité du dessus", "The unit above's"),
    ("adm.pol.domains", "Domaines permis (séparés par des espaces)", "Allowed domains (space separated)"),
    ("adm.pol.days.label", "Jours (vide : celui du dessus ; 0 : jamais)", "Days (empty: the unit above's; 0: never)"),
    ("adm.pol.save", "Enregistrer", "Save"),
    ("adm.pol.done.fwd", "Politique de transfert enregistrée.", "Forwarding policy saved."),
    ("adm.pol.done.arch", "Délai d'archivage enregistré.", "Archiving delay saved."),
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
            include_str!("../../templates/admin/hr.html"),
            include_str!("../../templates/admin/policies.html"),
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
