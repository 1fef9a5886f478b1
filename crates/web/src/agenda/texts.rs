//! The Agenda's texts, French first, in the way of `crate::base::i18n`.

use crate::base::i18n::Lang;

/// What Agenda templates call to get a text: `{{ a.get("ag.title") }}`.
#[derive(Debug, Clone, Copy)]
pub struct A(pub Lang);

impl A {
    pub fn get(&self, key: &str) -> &'static str {
        crate::base::i18n::lookup(TEXTS, key, self.0)
    }

    pub fn en(&self) -> bool {
        self.0 == Lang::En
    }
}

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("ag.title", "Agenda", "Calendar"),
    ("ag.unavailable", "L'agenda est indisponible sur ce serveur.", "The calendar is unavailable on this server."),
    (
        "ag.notfound",
        "Cet agenda ou cet événement n'existe pas (ou plus).",
        "This calendar or event does not exist (any more).",
    ),
    ("ag.back", "Retour à l'agenda", "Back to the calendar"),
    ("ag.nav", "Périodes", "Periods"),
    ("ag.views", "Affichage", "View"),
    ("ag.view.jour", "Jour", "Day"),
    ("ag.view.semaine", "Semaine", "Week"),
    ("ag.view.mois", "Mois", "Month"),
    ("ag.view.liste", "Liste", "List"),
    ("ag.prev", "Précédent", "Previous"),
    ("ag.next", "Suivant", "Next"),
    ("ag.today", "Aujourd'hui", "Today"),
    ("ag.goto", "Aller au", "Go to"),
    ("ag.go", "Afficher", "Show"),
    ("ag.new", "Nouvel événement", "New event"),
    ("ag.calendars", "Mes agendas", "My calendars"),
    ("ag.calendars.apply", "Afficher ces agendas", "Show these calendars"),
    ("ag.zone", "Heures données dans le fuseau", "Times given in the zone"),
    ("ag.zone.change", "changer", "change"),
    ("ag.empty", "Aucun événement sur cette période.", "No events in this period."),
    ("ag.empty.day", "Rien de prévu.", "Nothing planned."),
    ("ag.untitled", "(sans titre)", "(untitled)"),
    ("ag.allday", "Journée entière", "All day"),
    ("ag.continued", "(suite)", "(continued)"),
    ("ag.recurring", "répétitif", "recurring"),
    ("ag.week.of", "Semaine du", "Week of"),
    ("ag.week.to", "au", "to"),
    ("ag.list.from", "À partir du", "From"),
    ("ag.info.cree", "L'événement a été ajouté.", "The event was added."),
    ("ag.info.modifie", "L'événement a été modifié.", "The event was changed."),
    ("ag.info.supprime", "L'événement a été supprimé.", "The event was deleted."),
    ("ag.new.title", "Nouvel événement", "New event"),
    ("ag.edit.title", "Modifier l'événement", "Edit the event"),
    ("ag.f.title", "Titre", "Title"),
    ("ag.f.place", "Lieu", "Place"),
    ("ag.f.notes", "Description", "Description"),
    ("ag.f.calendar", "Agenda", "Calendar"),
    ("ag.f.allday", "Journée entière", "All day"),
    ("ag.f.start", "Début", "Start"),
    ("ag.f.end", "Fin", "End"),
    ("ag.f.date", "Date", "Date"),
    ("ag.f.time", "Heure", "Time"),
    ("ag.f.zone", "Fuseau horaire", "Time zone"),
    ("ag.f.alarm", "Rappel", "Reminder"),
    ("ag.al.default", "Rappel de l'agenda (réglé dans « Rappels »)", "The calendar's reminder (set in « Rappels »)"),
    ("ag.al.off", "Aucun rappel", "No reminder"),
    ("ag.al.keep", "Inchangé (rappels d'un autre logiciel)", "Unchanged (another application's reminders)"),
    ("ag.al.0", "À l'heure de début", "At the start time"),
    ("ag.al.5", "5 minutes avant", "5 minutes before"),
    ("ag.al.10", "10 minutes avant", "10 minutes before"),
    ("ag.al.15", "15 minutes avant", "15 minutes before"),
    ("ag.al.30", "30 minutes avant", "30 minutes before"),
    ("ag.al.60", "1 heure avant", "1 hour before"),
    ("ag.al.120", "2 heures avant", "2 hours before"),
    ("ag.al.1440", "1 jour avant", "1 day before"),
    ("ag.err.alarm", "Ce rappel n'est pas proposé.", "This reminder is not offered."),
    ("ag.rem.title", "Rappels", "Reminders"),
    ("ag.rem.link", "Rappels", "Reminders"),
    ("ag.rem.at", "à", "at"),
    ("ag.rem.untitled", "(sans titre)", "(untitled)"),
    ("ag.rem.pending", "Rappels en attente", "Pending reminders"),
    ("ag.rem.none", "Aucun rappel en attente.", "No pending reminders."),
    ("ag.rem.dismiss", "Fermer", "Dismiss"),
    ("ag.rem.dismissall", "Tout fermer", "Dismiss all"),
    ("ag.rem.open", "Voir l'événement", "Open the event"),
    ("ag.rem.settings", "Rappels de mes agendas", "My calendars' reminders"),
    (
        "ag.rem.settings.help",
        "Le rappel par défaut s'applique aux événements avec un horaire qui n'ont pas de rappel à eux. Les rappels \
         s'affichent dans la messagerie ouverte (et en notification du navigateur si vous l'avez permis).",
        "The default reminder applies to timed events without a reminder of their own. Reminders show in the open \
         webmail (and as a browser notification if you allowed them).",
    ),
    ("ag.rem.default", "Rappel par défaut", "Default reminder"),
    ("ag.rem.mail", "M'envoyer aussi les rappels par courriel", "Also send me the reminders by mail"),
    ("ag.rem.save", "Enregistrer", "Save"),
    ("ag.rem.dismissed", "Rappel fermé.", "Reminder dismissed."),
    ("ag.rem.saved", "Rappels enregistrés.", "Reminders saved."),
    ("ag.f.repeat", "Répétition", "Repeat"),
    ("ag.f.days", "Les jours", "On"),
    ("ag.f.until", "Fin de la répétition", "Repeat until"),
    ("ag.f.untildate", "Jusqu'au", "Until"),
    ("ag.f.count", "Nombre de fois", "Number of times"),
    ("ag.f.series", "Les modifications s'appliquent à toute la série.", "Changes apply to the whole series."),
    ("ag.f.save", "Enregistrer", "Save"),
    ("ag.f.cancel", "Annuler", "Cancel"),
    ("ag.f.delete", "Supprimer…", "Delete…"),
    ("ag.rep.none", "Aucune", "None"),
    ("ag.rep.daily", "Tous les jours", "Every day"),
    ("ag.rep.weekly", "Toutes les semaines", "Every week"),
    ("ag.rep.monthly", "Tous les mois", "Every month"),
    ("ag.rep.yearly", "Tous les ans", "Every year"),
    ("ag.rep.keep", "Inchangée (règle d'un autre logiciel)", "Unchanged (another application's rule)"),
    ("ag.end.never", "Jamais", "Never"),
    ("ag.end.date", "À une date", "On a date"),
    ("ag.end.count", "Après un nombre de fois", "After a number of times"),
    ("ag.day.lu", "lundi", "Monday"),
    ("ag.day.ma", "mardi", "Tuesday"),
    ("ag.day.me", "mercredi", "Wednesday"),
    ("ag.day.je", "jeudi", "Thursday"),
    ("ag.day.ve", "vendredi", "Friday"),
    ("ag.day.sa", "samedi", "Saturday"),
    ("ag.day.di", "dimanche", "Sunday"),
    ("ag.delete.title", "Supprimer l'événement", "Delete the event"),
    ("ag.delete.ask", "Supprimer « {} » ?", "Delete \"{}\"?"),
    ("ag.delete.which", "Que supprimer ?", "What to delete?"),
    ("ag.delete.one", "Cette occurrence seulement :", "This occurrence only:"),
    ("ag.delete.all", "Toute la série", "The whole series"),
    ("ag.delete.confirm", "Supprimer", "Delete"),
    ("ag.err.invalid", "Événement refusé :", "Event refused:"),
    ("ag.err.unreadable", "Cet événement ne peut pas être lu :", "This event cannot be read:"),
    ("ag.err.date", "Date invalide (attendu : AAAA-MM-JJ).", "Invalid date (expected: YYYY-MM-DD)."),
    ("ag.err.time", "Heure invalide (attendu : HH:MM).", "Invalid time (expected: HH:MM)."),
    ("ag.err.zone", "Fuseau horaire non proposé.", "Time zone not offered."),
    ("ag.err.repeat", "Répétition non reconnue.", "Unrecognised repetition."),
    ("ag.err.until", "Date de fin de répétition invalide.", "Invalid end date of the repetition."),
    ("ag.err.count", "Nombre de répétitions invalide.", "Invalid number of repetitions."),
    ("ag.err.scope", "Choisissez ce qu'il faut supprimer.", "Choose what to delete."),
    (
        "ag.err.changed",
        "L'événement a été modifié entre-temps (par vous ailleurs, ou par un autre logiciel) : rouvrez-le et recommencez.",
        "The event was changed in the meantime (by you elsewhere, or by another application): open it again and retry.",
    ),
    ("ag.err.toolarge", "Cet événement est trop volumineux.", "This event is too large."),
    (
        "ag.err.readonly",
        "Cet agenda est partagé avec vous en lecture seule : vous ne pouvez pas le modifier.",
        "This calendar is shared with you read-only: you cannot change it.",
    ),
    ("ag.f.readonly", "Agenda partagé en lecture seule.", "Calendar shared read-only."),
    ("ag.busy", "Occupé", "Busy"),
    ("ag.right.freebusy", "disponibilités", "free/busy"),
    ("ag.right.read", "lecture", "read"),
    ("ag.right.write", "lecture et écriture", "read and write"),
    ("ag.share.link", "Partager mes agendas", "Share my calendars"),
    ("ag.share.title", "Partager un agenda", "Share a calendar"),
    ("ag.share.calendar", "Agenda", "Calendar"),
    ("ag.share.current", "Partagé avec", "Shared with"),
    ("ag.share.none", "Cet agenda n'est partagé avec personne.", "This calendar is shared with nobody."),
    ("ag.share.who", "Avec qui", "With whom"),
    (
        "ag.share.who.help",
        "L'adresse d'un collègue, le code UAI d'un établissement (ex. 0541234A) ou le nom exact d'une unité (DSDEN, académie).",
        "A colleague's address, a school's UAI code (e.g. 0541234A) or the exact name of a unit (DSDEN, académie).",
    ),
    ("ag.share.right", "Droit", "Right"),
    ("ag.share.add", "Partager", "Share"),
    ("ag.share.revoke", "Retirer", "Revoke"),
    ("ag.share.choose", "Choisir", "Choose"),
    ("ag.share.done", "Le partage est enregistré.", "The share was saved."),
    ("ag.share.revoked", "Le partage a été retiré.", "The share was revoked."),
    ("ag.share.refused", "Partage refusé :", "Share refused:"),
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
        let sources = [
            include_str!("../../templates/agenda/layout.html"),
            include_str!("../../templates/agenda/views.html"),
            include_str!("../../templates/agenda/event.html"),
            include_str!("../../templates/agenda/delete.html"),
            include_str!("../../templates/agenda/share.html"),
            include_str!("share.rs"),
            include_str!("mod.rs"),
            include_str!("views.rs"),
            include_str!("form.rs"),
        ];
        for t in sources {
            for piece in t.split("a.get(\"").skip(1).chain(t.split("A(lang).get(\"").skip(1)) {
                let key = piece.split('"').next().unwrap();
                assert!(A(Lang::Fr).get(key) != "??", "missing text {key}");
            }
            for piece in t.split("c.t.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(crate::base::i18n::TEXTS.iter().any(|(k, _, _)| *k == key), "missing text {key}");
            }
        }
        for key in ["ag.err.date", "ag.err.time", "ag.err.zone", "ag.err.repeat", "ag.err.until", "ag.err.count"] {
            assert!(A(Lang::En).get(key) != "??", "{key}");
        }
        for view in super::super::views::View::ALL {
            assert!(A(Lang::En).get(&format!("ag.view.{}", view.word())) != "??");
        }
        for day in ["lu", "ma", "me", "je", "ve", "sa", "di"] {
            assert!(A(Lang::En).get(&format!("ag.day.{day}")) != "??");
        }
    }
}
