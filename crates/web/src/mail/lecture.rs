//! Réglages → Lecture (`/courrier/reglages/lecture`, issue 19): the reader's
//! time zone (every date the webmail shows, search days included), the
//! reading pane beside or under the list on a wide screen, and browser
//! notifications of new mail (off, all, or high priority only). Saved
//! through `Mailstore::set_reading_preferences`, apart from density,
//! language and theme, so the two forms of Réglages never overwrite each
//! other. The page works without script; only allowing notifications in
//! the browser needs it (`courrier.js`, one click on « Autoriser »).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailstore::ReadingPrefs;
use serde::Deserialize;

use super::folders::{FolderView, sidebar};
use super::{M, Reader, ReaderForm, common};
use crate::App;
use crate::base::chrome::{NOTIFY, Pane};
use crate::base::clock::{Clock, ZONES};
use crate::base::extract::has_csrf;
use crate::base::i18n::Lang;
use crate::base::session::unix_now;
use crate::base::{Common, WebError, redirect, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("lec.title", "Heure, volet de lecture et notifications", "Time, reading pane and notifications"),
    ("lec.link", "Heure, volet de lecture et notifications", "Time, reading pane and notifications"),
    ("lec.zone", "Fuseau horaire", "Time zone"),
    (
        "lec.zone.help",
        "Toutes les dates du courrier (liste, lecture, réponses, invitations, recherche par date) sont données dans ce fuseau.",
        "Every date in the mail (list, reading, replies, invitations, search by date) is given in this zone.",
    ),
    ("lec.zone.default", "Fuseau de l'académie", "The académie's zone"),
    ("lec.zone.now", "Heure actuelle dans ce fuseau :", "Time now in this zone:"),
    ("lec.pane", "Volet de lecture (écran large)", "Reading pane (wide screen)"),
    ("lec.pane.aucun", "Aucun : le message s'ouvre seul", "None: the message opens on its own"),
    ("lec.pane.droite", "À droite de la liste", "Right of the list"),
    ("lec.pane.dessous", "Sous la liste", "Below the list"),
    (
        "lec.pane.help",
        "Sur un téléphone, le message s'ouvre toujours seul.",
        "On a phone, the message always opens on its own.",
    ),
    ("lec.notify", "Notifications du navigateur pour le nouveau courrier", "Browser notifications for new mail"),
    ("lec.notify.non", "Désactivées", "Off"),
    ("lec.notify.tous", "Pour chaque nouveau message", "For every new message"),
    ("lec.notify.prioritaires", "Pour les messages prioritaires seulement", "For high-priority messages only"),
    (
        "lec.notify.help",
        "Prioritaire : message marqué « priorité haute » par son expéditeur (X-Priority, Importance), ou envoyé par la direction de votre établissement. Les notifications n'apparaissent que lorsqu'une page du courrier est ouverte.",
        "High priority: marked \"high priority\" by its sender (X-Priority, Importance), or sent by your school's management. Notifications only appear while a mail page is open.",
    ),
    ("lec.notify.allow", "Autoriser les notifications dans ce navigateur", "Allow notifications in this browser"),
    ("lec.notify.granted", "Ce navigateur affichera les notifications.", "This browser will show notifications."),
    (
        "lec.notify.denied",
        "Ce navigateur refuse les notifications pour ce site : changez-le dans les réglages du navigateur.",
        "This browser blocks notifications for this site: change it in the browser's settings.",
    ),
    (
        "lec.notify.unsupported",
        "Ce navigateur ne sait pas afficher de notifications.",
        "This browser cannot show notifications.",
    ),
    ("lec.notify.new", "Nouveau message", "New message"),
    ("lec.notify.priority", "Message prioritaire", "High-priority message"),
    ("lec.save", "Enregistrer", "Save"),
    ("lec.saved", "Réglages de lecture enregistrés.", "Reading settings saved."),
    ("lec.invalid", "Choix non reconnu.", "Unrecognised choice."),
];

#[derive(Debug, Default, Deserialize)]
pub struct LectureQuery {
    info: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LectureForm {
    #[serde(default)]
    pub csrf: String,
    /// `defaut` or one of [`ZONES`].
    #[serde(default)]
    pub fuseau: String,
    /// `aucun`, `droite` or `dessous`.
    #[serde(default)]
    pub volet: String,
    /// `non`, `tous` or `prioritaires`.
    #[serde(default)]
    pub notifications: String,
}

has_csrf!(LectureForm);

/// One option of a choice.
struct Choice {
    value: &'static str,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "mail/lecture.html")]
struct LecturePage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    zones: Vec<Choice>,
    panes: Vec<Choice>,
    notify: Vec<Choice>,
    /// The time now in the reader's zone, with the zone's name.
    now: String,
}

/// The preferences a form asks for, or `Err` when a value is not offered.
fn parse_form(f: &LectureForm) -> Result<ReadingPrefs, ()> {
    let time_zone = match f.fuseau.trim() {
        "defaut" | "" => None,
        z => Some(ZONES.iter().find(|(name, _, _)| *name == z).ok_or(())?.0.to_owned()),
    };
    let pane = Pane::parse(f.volet.trim());
    if pane.word() != f.volet.trim() {
        return Err(());
    }
    let notify = NOTIFY.into_iter().find(|w| *w == f.notifications.trim()).ok_or(())?;
    Ok(ReadingPrefs { time_zone, reading_pane: Some(pane.word().to_owned()), notify: Some(notify.to_owned()) })
}

/// A zone's label in `lang`.
fn zone_label(lang: Lang, fr: &str, en: &str, name: &str) -> String {
    format!("{} — {name}", if lang == Lang::En { en } else { fr })
}

/// `GET /courrier/reglages/lecture`.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<LectureQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let folders = sidebar(&app, &account, None, m).await?;
    let saved = app.ms.reading_preferences(account.id).await?;
    let own = saved.time_zone.as_deref();
    let mut zones = vec![Choice {
        value: "defaut",
        label: format!("{} ({})", m.get("lec.zone.default"), app.cfg.clock.name()),
        selected: own.is_none(),
    }];
    zones.extend(ZONES.iter().map(|&(name, fr, en)| Choice {
        value: name,
        label: zone_label(v.lang, fr, en, name),
        selected: own == Some(name),
    }));
    let pane = v.chrome.pane;
    let panes = [Pane::None, Pane::Right, Pane::Below]
        .into_iter()
        .map(|p| Choice {
            value: p.word(),
            label: m.get(&format!("lec.pane.{}", p.word())).to_owned(),
            selected: p == pane,
        })
        .collect();
    let chosen = v.chrome.notify;
    let notify = NOTIFY
        .into_iter()
        .map(|w| Choice {
            value: w,
            label: m.get(&format!("lec.notify.{w}")).to_owned(),
            selected: w == chosen || (w == "non" && !NOTIFY.contains(&chosen)),
        })
        .collect();
    let clock: &Clock = &v.chrome.clock;
    let now = format!("{} ({})", clock.full(unix_now()), clock.name());
    let mut c = common(&app, &mut v, m.get("lec.title"));
    if q.info.as_deref() == Some("enregistre") {
        c.info = Some(m.get("lec.saved").to_owned());
    }
    Ok(render(&v, StatusCode::OK, &LecturePage { c, m, folders, zones, panes, notify, now }))
}

/// `POST /courrier/reglages/lecture`.
pub async fn save(
    State(app): State<Arc<App>>,
    ReaderForm { v, account, form }: ReaderForm<LectureForm>,
) -> Result<Response, WebError> {
    let Ok(prefs) = parse_form(&form) else {
        return Err(super::refused(v.lang, M(v.lang).get("lec.invalid"), "/courrier/reglages/lecture"));
    };
    app.ms.set_reading_preferences(account.id, &prefs).await?;
    Ok(redirect(&v, "/courrier/reglages/lecture?info=enregistre"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fuseau: &str, volet: &str, notifications: &str) -> LectureForm {
        LectureForm {
            csrf: String::new(),
            fuseau: fuseau.into(),
            volet: volet.into(),
            notifications: notifications.into(),
        }
    }

    #[test]
    fn only_offered_choices_are_saved() {
        let p = parse_form(&form("Indian/Reunion", "droite", "prioritaires")).unwrap();
        assert_eq!(p.time_zone.as_deref(), Some("Indian/Reunion"));
        assert_eq!(p.reading_pane.as_deref(), Some("droite"));
        assert_eq!(p.notify.as_deref(), Some("prioritaires"));
        assert_eq!(parse_form(&form("defaut", "aucun", "non")).unwrap().time_zone, None);
        assert_eq!(parse_form(&form("UTC", "dessous", "tous")).unwrap().time_zone.as_deref(), Some("UTC"));
        // A real zone that is not offered, and words that are not choices.
        assert!(parse_form(&form("Asia/Tokyo", "aucun", "non")).is_err());
        assert!(parse_form(&form("defaut", "gauche", "non")).is_err());
        assert!(parse_form(&form("defaut", "aucun", "oui")).is_err());
        assert!(parse_form(&form("defaut", "\" onload=", "non")).is_err());
    }
}
