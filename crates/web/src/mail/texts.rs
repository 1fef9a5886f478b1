//! The webmail's texts, French first, in the way of `crate::base::i18n`.

use crate::base::i18n::Lang;

/// What webmail templates call to get a text: `{{ m.get("mail.compose") }}`.
#[derive(Debug, Clone, Copy)]
pub struct M(pub Lang);

impl M {
    pub fn get(&self, key: &str) -> &'static str {
        TABLES
            .iter()
            .map(|table| crate::base::i18n::lookup(table, key, self.0))
            .find(|text| *text != "??")
            .unwrap_or("??")
    }
}

/// Every webmail text table: this one, then one per area of the webmail
/// that keeps its texts beside its code.
const TABLES: &[&[(&str, &str, &str)]] = &[
    TEXTS,
    super::search::TEXTS,
    super::shortcuts::TEXTS,
    super::wtexts::TEXTS,
    super::settings::TEXTS,
    super::space::TEXTS,
    super::reading::TEXTS,
    super::invitation::TEXTS,
    super::attached::TEXTS,
    super::sending::TEXTS,
    super::rules::TEXTS,
    super::deleted::TEXTS,
    super::archiving::TEXTS,
    super::lecture::TEXTS,
    super::export::TEXTS,
    super::delegation::TEXTS,
    super::moderation::TEXTS,
    super::list_archive::TEXTS,
    crate::partage::TEXTS,
];

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("mail.title", "Courrier", "Mail"),
    ("mail.folders", "Dossiers", "Folders"),
    ("mail.unread", "non lus", "unread"),
    ("mail.compose", "Écrire", "Compose"),
    ("mail.search", "Rechercher dans ce dossier", "Search this folder"),
    ("mail.search.button", "Rechercher", "Search"),
    ("mail.search.results", "Résultats de la recherche", "Search results"),
    ("mail.search.clear", "Revenir au dossier", "Back to the folder"),
    ("mail.search.more", "Chercher dans les messages plus anciens", "Search older messages"),
    (
        "mail.search.unavailable",
        "La recherche est indisponible pour le moment. Réessayez dans un instant.",
        "Search is unavailable right now. Try again in a moment.",
    ),
    ("mail.list", "Messages", "Messages"),
    ("mail.empty", "Aucun message.", "No messages."),
    ("mail.from", "De", "From"),
    ("mail.to", "À", "To"),
    ("mail.cc", "Cc", "Cc"),
    ("mail.bcc", "Cci", "Bcc"),
    (
        "mail.compose.bcc.help",
        "Copie cachée : ces destinataires reçoivent le message sans que les autres voient leur adresse.",
        "Blind copy: these recipients get the message without the others seeing their address.",
    ),
    ("mail.subject", "Objet", "Subject"),
    ("mail.date", "Date", "Date"),
    ("mail.marks", "État", "Status"),
    ("mail.nosubject", "(sans objet)", "(no subject)"),
    ("mail.mark.unread", "Non lu", "Unread"),
    ("mail.mark.flagged", "Suivi", "Flagged"),
    ("mail.mark.attachment", "Pièce jointe", "Attachment"),
    ("mail.older", "Messages plus anciens", "Older messages"),
    ("mail.newest", "Messages les plus récents", "Newest messages"),
    ("mail.newfolder", "Nouveau dossier", "New folder"),
    ("mail.newfolder.name", "Nom du dossier", "Folder name"),
    ("mail.newfolder.create", "Créer", "Create"),
    ("mail.actions", "Actions sur le message", "Message actions"),
    ("mail.reply", "Répondre", "Reply"),
    ("mail.replyall", "Répondre à tous", "Reply all"),
    ("mail.markread", "Marquer comme lu", "Mark as read"),
    ("mail.markunread", "Marquer comme non lu", "Mark as unread"),
    ("mail.flag", "Suivre", "Flag"),
    ("mail.unflag", "Ne plus suivre", "Unflag"),
    ("mail.delete", "Supprimer", "Delete"),
    ("mail.move", "Déplacer vers", "Move to"),
    ("mail.move.choose", "— choisir un dossier —", "— choose a folder —"),
    ("mail.move.button", "Déplacer", "Move"),
    ("mail.back", "Retour à la liste", "Back to the list"),
    ("mail.attachments", "Pièces jointes", "Attachments"),
    ("mail.download", "Télécharger", "Download"),
    (
        "mail.images.blocked",
        "Les images distantes de ce message sont masquées.",
        "Remote images in this message are hidden.",
    ),
    ("mail.images.show", "Afficher les images", "Show images"),
    ("mail.frame", "Contenu du message", "Message content"),
    ("mail.compose.title", "Nouveau message", "New message"),
    ("mail.reply.title", "Répondre", "Reply"),
    ("mail.compose.to.help", "Séparez les adresses par des virgules.", "Separate addresses with commas."),
    ("mail.compose.body", "Message", "Message"),
    ("mail.compose.files", "Pièces jointes", "Attachments"),
    ("mail.compose.files.help", "20 Mo au total au plus.", "20 MB in total at most."),
    ("mail.compose.send", "Envoyer", "Send"),
    ("mail.compose.cancel", "Annuler", "Cancel"),
    (
        "mail.compose.refiles",
        "Les pièces jointes doivent être choisies à nouveau.",
        "Attachments must be chosen again.",
    ),
    ("mail.sent", "Votre message a été envoyé.", "Your message was sent."),
    ("mail.moved", "Le message a été déplacé.", "The message was moved."),
    ("mail.deleted", "Le message a été placé dans la corbeille.", "The message was moved to the trash."),
    (
        "mail.destroyed",
        "Le message a été supprimé définitivement ; il reste restaurable quelque temps depuis « Messages supprimés récemment ».",
        "The message was deleted for good; it can still be restored for a while from « Recently deleted messages ».",
    ),
    ("mail.created", "Le dossier a été créé.", "The folder was created."),
    ("mail.marked", "Le message a été marqué comme non lu.", "The message was marked as unread."),
    (
        "mail.notfound",
        "Ce message ou ce dossier n'existe pas (ou plus).",
        "This message or folder does not exist (any more).",
    ),
    ("mail.err.norecipient", "Indiquez au moins un destinataire.", "Enter at least one recipient."),
    ("mail.err.invalid", "Adresse invalide :", "Invalid address:"),
    ("mail.err.unknown", "Cette adresse n'existe pas :", "This address does not exist:"),
    (
        "mail.err.notlocal",
        "L'envoi hors de l'académie est refusé pour :",
        "Sending outside the academy is refused for:",
    ),
    ("mail.err.forged", "Vous ne pouvez pas envoyer au nom de cette adresse :", "You may not send as this address:"),
    ("mail.err.limit", "Limite d'envoi atteinte. Réessayez plus tard.", "Sending limit reached. Try again later."),
    (
        "mail.err.temporary",
        "L'envoi a échoué temporairement. Réessayez dans un instant.",
        "Sending failed for now. Try again in a moment.",
    ),
    ("mail.err.refused", "Le message a été refusé :", "The message was refused:"),
    (
        "mail.err.toobig",
        "Le message dépasse 20 Mo : retirez des pièces jointes.",
        "The message exceeds 20 MB: remove some attachments.",
    ),
    ("mail.err.form", "Le formulaire n'a pas pu être lu. Recommencez.", "The form could not be read. Try again."),
    (
        "mail.err.foldername",
        "Nom de dossier invalide (1 à 100 caractères, sans « / »).",
        "Invalid folder name (1 to 100 characters, no \"/\").",
    ),
    ("mail.err.folderexists", "Ce dossier existe déjà.", "This folder already exists."),
    ("mail.err.notrash", "Aucune corbeille n'est configurée pour ce compte.", "This account has no trash folder."),
    (
        "mail.err.nosent",
        "Le message est parti, mais aucun dossier « Envoyés » n'a pu en garder une copie.",
        "The message was sent, but no Sent folder could keep a copy.",
    ),
    ("mail.wrote", "a écrit :", "wrote:"),
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
            include_str!("../../templates/mail/layout.html"),
            include_str!("../../templates/mail/folders.html"),
            include_str!("../../templates/mail/list.html"),
            include_str!("../../templates/mail/row.html"),
            include_str!("../../templates/mail/read.html"),
            include_str!("../../templates/mail/read_article.html"),
            include_str!("../../templates/mail/compose.html"),
            include_str!("../../templates/mail/search.html"),
            include_str!("../../templates/mail/shortcuts.html"),
            include_str!("../../templates/mail/shortcuts_list.html"),
            include_str!("../../templates/mail/identities.html"),
            include_str!("../../templates/mail/confirm.html"),
            include_str!("../../templates/mail/settings.html"),
            include_str!("../../templates/mail/lecture.html"),
            include_str!("../../templates/mail/list_archive.html"),
            include_str!("../../templates/mail/list_archive_post.html"),
        ];
        for t in templates {
            for piece in t.split("m.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(M(crate::base::i18n::Lang::Fr).get(key) != "??", "missing text {key}");
            }
            for piece in t.split("c.t.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(crate::base::i18n::TEXTS.iter().any(|(k, _, _)| *k == key), "missing text {key}");
            }
        }
    }
}
