//! `/courrier/reglages`: the reader's own settings. The vacation reply (the
//! same store setting as `ardoise vacation`, so replies follow at once),
//! display (density, language, theme: saved per account and applied at every
//! login), the quota gauge with « Demander plus d'espace » (`space`), the senders whose images are always shown, and
//! links to "Sécurité" and to identities.
//!
//! Each form is a POST with the session's CSRF token; a valid one is
//! answered by a redirect, an invalid one by the page again with every
//! problem said in French (or English) and what was typed kept.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailstore::{Account, Vacation, WebPrefs};
use serde::Deserialize;

use super::folders::{FolderView, sidebar};
use super::read::human_size;
use super::space::SpaceRequest;
use super::{M, Reader, ReaderForm, common};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::i18n::Lang;
use crate::base::session::{Visitor, unix_now};
use crate::base::{Common, WebError, redirect, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("set.title", "Réglages", "Settings"),
    ("set.vacation", "Réponse automatique d'absence", "Vacation reply"),
    ("set.vacation.on", "Activer la réponse automatique", "Turn the vacation reply on"),
    (
        "set.vacation.subject",
        "Objet (facultatif : « Réponse automatique : » suivi de l'objet reçu)",
        "Subject (optional: \"Réponse automatique :\" and the subject received)",
    ),
    ("set.vacation.body", "Texte de la réponse", "Reply text"),
    ("set.vacation.start", "Premier jour d'absence (facultatif)", "First day away (optional)"),
    ("set.vacation.end", "Dernier jour d'absence, inclus (facultatif)", "Last day away, included (optional)"),
    (
        "set.vacation.help",
        "Choisissez le jour dans le calendrier, ou tapez-le : jj/mm/aaaa. Sans date, la réponse part dès maintenant.",
        "Pick the day in the calendar, or type it: dd/mm/yyyy. Without dates, replies start now.",
    ),
    (
        "set.vacation.once",
        "Chaque expéditeur reçoit la réponse au plus une fois par intervalle ; les listes de diffusion jamais.",
        "Each sender gets the reply at most once per interval; mailing lists never.",
    ),
    (
        "set.vacation.interval",
        "Jours entre deux réponses au même expéditeur (1 à 365)",
        "Days between two replies to the same sender (1 to 365)",
    ),
    ("set.vacation.save", "Enregistrer la réponse automatique", "Save the vacation reply"),
    ("set.vacation.active", "La réponse automatique est active.", "The vacation reply is on."),
    ("set.vacation.inactive", "La réponse automatique est désactivée.", "The vacation reply is off."),
    (
        "set.vacation.sieve",
        "Cette réponse est aussi le script de filtrage « reponse-automatique », visible et modifiable avec un \
         logiciel ManageSieve (module Sieve de Thunderbird, par exemple).",
        "This reply is also the filter script \"reponse-automatique\", which a ManageSieve client (Thunderbird's \
         Sieve add-on, say) shows and edits.",
    ),
    (
        "set.vacation.own",
        "Votre script de filtrage actif envoie aussi sa propre réponse automatique ; quand les deux s'appliquent, \
         c'est la sienne qui part. Script :",
        "Your active filter script also sends its own vacation reply; when both apply, its reply is the one sent. \
         Script:",
    ),
    ("set.display", "Affichage", "Display"),
    ("set.density", "Densité de la liste", "List density"),
    ("set.density.confortable", "Confortable", "Comfortable"),
    ("set.density.compacte", "Compacte", "Compact"),
    ("set.lang", "Langue", "Language"),
    ("set.theme", "Thème", "Theme"),
    ("set.theme.clair", "Clair", "Light"),
    ("set.theme.sombre", "Sombre", "Dark"),
    ("set.display.save", "Enregistrer l'affichage", "Save the display"),
    ("set.quota", "Espace de stockage", "Storage"),
    ("set.quota.label", "Espace utilisé", "Space used"),
    ("set.quota.of", "utilisés sur", "used of"),
    ("set.quota.unlimited", "utilisés (sans limite)", "used (no limit)"),
    (
        "set.quota.warn",
        "Votre boîte est presque pleine : supprimez des messages volumineux ou videz la corbeille, sinon les nouveaux messages seront refusés.",
        "Your mailbox is nearly full: delete large messages or empty the trash, or new mail will be refused.",
    ),
    ("set.quota.see", "Voir l'espace utilisé", "See the space used"),
    ("set.trusted", "Expéditeurs dont les images sont toujours affichées", "Senders whose images are always shown"),
    ("set.trusted.none", "Aucun pour l'instant. Ajoutez-en depuis un message.", "None yet. Add some from a message."),
    ("set.trusted.remove", "Retirer", "Remove"),
    ("set.more", "Autres réglages", "More settings"),
    (
        "set.security",
        "Sécurité : mot de passe, validation en deux étapes, appareils",
        "Security: password, two-step verification, devices",
    ),
    ("set.identities", "Identités et signatures", "Identities and signatures"),
    ("set.saved.vacation", "La réponse automatique a été enregistrée.", "The vacation reply was saved."),
    ("set.saved.display", "L'affichage a été enregistré.", "The display settings were saved."),
    ("set.saved.trusted", "L'expéditeur a été retiré de la liste.", "The sender was removed from the list."),
    ("set.err.title", "Le formulaire contient des erreurs :", "The form has errors:"),
    ("set.err.body", "Indiquez le texte de la réponse automatique.", "Enter the text of the vacation reply."),
    (
        "set.err.interval",
        "Intervalle invalide : un nombre de jours de 1 à 365.",
        "Invalid interval: a number of days from 1 to 365.",
    ),
    (
        "set.err.bodylong",
        "Le texte de la réponse est trop long (10 000 caractères au plus).",
        "The reply text is too long (10,000 characters at most).",
    ),
    (
        "set.err.subject",
        "L'objet est trop long (200 caractères au plus, sur une ligne).",
        "The subject is too long (200 characters at most, on one line).",
    ),
    ("set.err.start", "Premier jour invalide : attendu jj/mm/aaaa.", "Invalid first day: expected dd/mm/yyyy."),
    ("set.err.end", "Dernier jour invalide : attendu jj/mm/aaaa.", "Invalid last day: expected dd/mm/yyyy."),
    ("set.err.order", "Le dernier jour d'absence précède le premier.", "The last day away comes before the first."),
    ("set.err.past", "Le dernier jour d'absence est déjà passé.", "The last day away is already over."),
    ("set.err.choice", "Choix d'affichage inconnu.", "Unknown display choice."),
];

/// Longest subject and text of a vacation reply, in characters.
const MAX_SUBJECT: usize = 200;
const MAX_BODY: usize = 10_000;
const DAY: i64 = 86_400;

#[derive(Debug, Default, Deserialize)]
pub struct SettingsQuery {
    /// `vacation`, `display` or `trusted`: what was just saved.
    pub info: Option<String>,
}

/// Days between two replies to the same sender, unless the reader chose.
const DEFAULT_INTERVAL: i64 = 7;

/// What the vacation form shows (as typed, or as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VacationForm {
    pub on: bool,
    pub subject: String,
    pub body: String,
    pub start: String,
    pub end: String,
    /// Days between two replies to the same sender.
    pub interval: String,
}

impl Default for VacationForm {
    fn default() -> Self {
        VacationForm {
            on: false,
            subject: String::new(),
            body: String::new(),
            start: String::new(),
            end: String::new(),
            interval: DEFAULT_INTERVAL.to_string(),
        }
    }
}

/// The quota gauge.
pub struct Quota {
    pub used: i64,
    pub limit: Option<i64>,
    pub text: String,
    pub percent: i64,
}

#[derive(Template)]
#[template(path = "mail/settings.html")]
struct SettingsPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    vacation: VacationForm,
    active: bool,
    errors: Vec<&'static str>,
    prefs: WebPrefs,
    quota: Quota,
    /// The latest request for more space, and its answer.
    space: Option<SpaceRequest>,
    /// No request is open: the form is shown.
    may_ask_space: bool,
    trusted: Vec<String>,
    /// The delays to cancel a message sent (« Annuler l'envoi »).
    undo: Vec<UndoChoice>,
    /// The active filter script that has a `vacation` of its own, if any.
    own_vacation: Option<String>,
}

/// One delay offered to cancel a message sent.
pub struct UndoChoice {
    pub secs: i64,
    pub label: String,
    pub selected: bool,
}

/// The delays offered, `current` selected.
fn undo_choices(default: i64, current: i64, m: M) -> Vec<UndoChoice> {
    super::sending::choices(default)
        .into_iter()
        .map(|secs| UndoChoice {
            secs,
            label: if secs == 0 {
                m.get("set.undo.none").to_owned()
            } else {
                format!("{secs} {}", m.get("set.undo.secs"))
            },
            selected: secs == current,
        })
        .collect()
}

/// One of the page's forms.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub csrf: String,
    /// `absence`, `affichage` or `expediteur`.
    #[serde(default)]
    pub section: String,
    pub absence: Option<String>,
    #[serde(default)]
    pub objet: String,
    #[serde(default)]
    pub texte: String,
    #[serde(default)]
    pub debut: String,
    #[serde(default)]
    pub fin: String,
    /// Days between two replies to the same sender.
    #[serde(default)]
    pub intervalle: String,
    #[serde(default)]
    pub densite: String,
    #[serde(default)]
    pub langue: String,
    #[serde(default)]
    pub theme: String,
    /// Seconds to cancel a message sent.
    #[serde(default)]
    pub annulation: String,
    /// The trusted sender to remove.
    #[serde(default)]
    pub retirer: String,
}

/// `AAAA-MM-JJ` of a unix time (UTC).
fn day_text(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| t.format(&format).ok()).unwrap_or_default()
}

/// A day typed as the French picker shows it (`jj/mm/aaaa`) in the form the
/// browser sends (`aaaa-mm-jj`); anything else as it is.
fn iso_day(text: &str) -> String {
    let parts: Vec<&str> = text.split('/').map(str::trim).collect();
    match parts[..] {
        [d, m, y] if [d, m, y].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) => {
            format!("{y:0>4}-{m:0>2}-{d:0>2}")
        }
        _ => text.to_owned(),
    }
}

impl VacationForm {
    /// The stored setting as the form shows it (the last day is the day
    /// before the stored, excluded, end).
    pub fn from_stored(v: &Vacation) -> VacationForm {
        VacationForm {
            on: v.enabled,
            subject: v.subject.clone(),
            body: v.body.clone(),
            start: v.starts_at.map(day_text).unwrap_or_default(),
            end: v.ends_at.map(|e| day_text(e - DAY)).unwrap_or_default(),
            interval: v.interval_days.to_string(),
        }
    }

    /// The setting to store, or the keys of every problem. An empty interval
    /// keeps `interval_days` (the previous setting's); `now` refuses an end
    /// already over.
    pub fn validate(&self, interval_days: i64, now: i64) -> Result<Vacation, Vec<&'static str>> {
        let mut errors = Vec::new();
        let interval = match self.interval.trim() {
            "" => interval_days.clamp(1, 365),
            typed => typed.parse::<i64>().ok().filter(|d| (1..=365).contains(d)).unwrap_or_else(|| {
                errors.push("set.err.interval");
                DEFAULT_INTERVAL
            }),
        };
        let subject = self.subject.trim();
        if subject.chars().count() > MAX_SUBJECT || subject.contains(['\r', '\n']) {
            errors.push("set.err.subject");
        }
        let body = self.body.replace("\r\n", "\n");
        if self.on && body.trim().is_empty() {
            errors.push("set.err.body");
        }
        if body.chars().count() > MAX_BODY {
            errors.push("set.err.bodylong");
        }
        let parse = |text: &str, key| -> Result<Option<i64>, &'static str> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            identity::lifecycle::format::unix_day(&iso_day(text)).map(Some).ok_or(key)
        };
        let start = parse(&self.start, "set.err.start").map_err(|k| errors.push(k)).ok().flatten();
        // The last day is included: the reply stops at the next midnight.
        let end = parse(&self.end, "set.err.end").map_err(|k| errors.push(k)).ok().flatten().map(|e| e + DAY);
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            errors.push("set.err.order");
        } else if self.on && end.is_some_and(|e| e <= now) {
            errors.push("set.err.past");
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Vacation {
            enabled: self.on,
            subject: subject.to_owned(),
            body,
            starts_at: start,
            ends_at: end,
            interval_days: interval,
        })
    }
}

/// The gauge of `account`: bytes used, the limit, the share used.
pub fn quota(account: &Account, m: M) -> Quota {
    let used = account.used_bytes.max(0);
    let limit = account.quota_bytes.filter(|q| *q > 0);
    let size = |b: i64| human_size(usize::try_from(b).unwrap_or(usize::MAX), m);
    match limit {
        Some(l) => {
            let percent = (used.saturating_mul(100) / l).min(999);
            Quota {
                used,
                limit,
                text: format!("{} {} {} ({percent} %)", size(used), m.get("set.quota.of"), size(l)),
                percent,
            }
        }
        None => Quota { used, limit, text: format!("{} {}", size(used), m.get("set.quota.unlimited")), percent: 0 },
    }
}

/// Whether a display choice is one the page offers.
fn valid_prefs(p: &WebPrefs) -> bool {
    ["confortable", "compacte"].contains(&p.density.as_str())
        && ["fr", "en"].contains(&p.lang.as_str())
        && ["clair", "sombre"].contains(&p.theme.as_str())
}

/// `GET /courrier/reglages`.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<SettingsQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let stored = app.ms.vacation(account.id).await?;
    let form = stored.as_ref().map(VacationForm::from_stored).unwrap_or_default();
    let info = match q.info.as_deref() {
        Some("vacation") => Some("set.saved.vacation"),
        Some("display") => Some("set.saved.display"),
        Some("trusted") => Some("set.saved.trusted"),
        Some("espace") => Some("space.sent"),
        Some("espace-raison") => Some("space.err.reason"),
        Some("espace-ouverte") => Some("space.err.open"),
        _ => None,
    };
    show(&app, &mut v, &account, form, stored.is_some_and(|s| s.active_at(unix_now())), Vec::new(), info).await
}

async fn show(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    vacation: VacationForm,
    active: bool,
    errors: Vec<&'static str>,
    info: Option<&str>,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let ms = &app.ms;
    let folders = sidebar(app, account, None, m).await?;
    let prefs = ms
        .preferences(account.id)
        .await?
        .unwrap_or_else(|| WebPrefs { lang: v.lang.code().to_owned(), ..WebPrefs::default() });
    let trusted = ms.trusted_senders(account.id).await?;
    let mut c = common(app, v, m.get("set.title"));
    match info {
        Some(k) if k.starts_with("space.err.") => c.error = Some(m.get(k).to_owned()),
        _ => c.info = info.map(|k| m.get(k).to_owned()),
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let default = super::sending::installation_delay(app);
    let undo = undo_choices(default, prefs.undo_send.unwrap_or(default), m);
    let own_vacation = match &app.filters {
        Some(filters) => filters.vacation_in_active_script(account.id).await?,
        None => None,
    };
    let quota = quota(account, m);
    let space = app.identity.own_quota_request(account.id).await?.map(|r| SpaceRequest::of(&r, &app.cfg.clock, m));
    let may_ask_space = space.as_ref().is_none_or(|r| !r.open);
    let page = SettingsPage {
        c,
        m,
        folders,
        vacation,
        active,
        errors,
        prefs,
        quota,
        space,
        may_ask_space,
        trusted,
        undo,
        own_vacation,
    };
    Ok(render(v, status, &page))
}

has_csrf!(SettingsForm);

/// `POST /courrier/reglages`: one of the forms.
pub async fn save(
    State(app): State<Arc<App>>,
    ReaderForm { mut v, account, form }: ReaderForm<SettingsForm>,
) -> Result<Response, WebError> {
    let ms = &app.ms;
    match form.section.as_str() {
        "absence" => {
            let previous = ms.vacation(account.id).await?;
            let typed = VacationForm {
                on: form.absence.is_some(),
                subject: form.objet,
                body: form.texte,
                start: form.debut,
                end: form.fin,
                interval: form.intervalle,
            };
            let interval = previous.as_ref().map_or(DEFAULT_INTERVAL, |p| p.interval_days);
            match typed.validate(interval, unix_now()) {
                Ok(vacation) => {
                    // With the filter service, the reply is also its Sieve
                    // script (what delivery runs, what ManageSieve shows).
                    match &app.filters {
                        Some(filters) => filters.set_vacation(account.id, &vacation).await?,
                        None => ms.set_vacation(account.id, &vacation).await?,
                    }
                    Ok(redirect(&v, "/courrier/reglages?info=vacation"))
                }
                Err(errors) => {
                    let active = previous.is_some_and(|p| p.active_at(unix_now()));
                    show(&app, &mut v, &account, typed, active, errors, None).await
                }
            }
        }
        "affichage" => {
            let default = super::sending::installation_delay(&app);
            let undo = form.annulation.trim().parse::<i64>().ok();
            let offered = undo.is_some_and(|u| super::sending::choices(default).contains(&u));
            // The installation's default is not pinned: it follows a change of [web] undo_send_delay.
            let undo_send = undo.filter(|u| *u != default);
            let prefs = WebPrefs { density: form.densite, lang: form.langue, theme: form.theme, undo_send };
            if !valid_prefs(&prefs) || !offered {
                let stored = ms.vacation(account.id).await.ok().flatten();
                let vac = stored.as_ref().map(VacationForm::from_stored).unwrap_or_default();
                let active = stored.is_some_and(|s| s.active_at(unix_now()));
                return show(&app, &mut v, &account, vac, active, vec!["set.err.choice"], None).await;
            }
            ms.set_preferences(account.id, &prefs).await?;
            if let Some(lang) = Lang::parse(&prefs.lang) {
                v.set_lang(lang);
            }
            Ok(redirect(&v, "/courrier/reglages?info=display"))
        }
        "expediteur" => {
            ms.distrust_sender(account.id, &form.retirer).await?;
            Ok(redirect(&v, "/courrier/reglages?info=trusted"))
        }
        _ => Ok(redirect(&v, "/courrier/reglages")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::chrome::nearly_full;

    const NOW: i64 = 1_795_000_000; // 2026-11-18

    fn form(on: bool, body: &str, start: &str, end: &str) -> VacationForm {
        // No interval typed: the previous setting's is kept.
        let interval = String::new();
        VacationForm {
            on,
            body: body.into(),
            start: start.into(),
            end: end.into(),
            interval,
            ..VacationForm::default()
        }
    }

    #[test]
    fn the_interval_is_chosen_or_kept() {
        let with = |interval: &str| VacationForm { interval: interval.into(), ..form(true, "x", "", "") };
        assert_eq!(with("3").validate(7, NOW).unwrap().interval_days, 3);
        assert_eq!(with(" 365 ").validate(7, NOW).unwrap().interval_days, 365);
        assert_eq!(with("").validate(14, NOW).unwrap().interval_days, 14, "empty keeps the previous");
        for bad in ["0", "366", "-2", "une semaine", "2.5"] {
            assert_eq!(with(bad).validate(7, NOW).unwrap_err(), ["set.err.interval"], "{bad}");
        }
        assert_eq!(VacationForm::default().interval, "7");
    }

    #[test]
    fn a_valid_reply_keeps_the_last_day_included() {
        let v = form(true, "Absente.\r\nClaire", "2026-12-19", "2027-01-03").validate(7, NOW).unwrap();
        assert_eq!(v.starts_at, Some(1_797_638_400));
        assert_eq!(v.ends_at, Some(1_798_934_400 + DAY), "back on the 4th");
        assert_eq!(v.body, "Absente.\nClaire");
        assert_eq!(VacationForm::from_stored(&v).end, "2027-01-03");
        assert_eq!(VacationForm::from_stored(&v).start, "2026-12-19");
        let open = form(true, "Absente.", "", "").validate(3, NOW).unwrap();
        assert_eq!((open.starts_at, open.ends_at, open.interval_days), (None, None, 3));
    }

    #[test]
    fn every_problem_is_reported() {
        assert_eq!(form(true, "  ", "", "").validate(7, NOW).unwrap_err(), ["set.err.body"]);
        assert!(form(false, "", "", "").validate(7, NOW).is_ok(), "off with no text is fine");
        assert_eq!(form(true, "x", "2027-01-10", "2027-01-03").validate(7, NOW).unwrap_err(), ["set.err.order"]);
        assert!(form(true, "x", "2027-01-03", "2027-01-03").validate(7, NOW).is_ok(), "one day");
        assert_eq!(
            form(true, "x", "demain", "2027-02-30").validate(7, NOW).unwrap_err(),
            ["set.err.start", "set.err.end"]
        );
        assert_eq!(form(true, "x", "", "2020-01-01").validate(7, NOW).unwrap_err(), ["set.err.past"]);
        // What the French date picker shows (jj/mm/aaaa), typed by hand, is read too.
        assert_eq!(iso_day("5/1/2030"), "2030-01-05");
        assert_eq!(iso_day("2030-01-05"), "2030-01-05");
        let typed = form(true, "x", "05/01/2030", "07/01/2030").validate(7, NOW).unwrap();
        let iso = form(true, "x", "2030-01-05", "2030-01-07").validate(7, NOW).unwrap();
        assert_eq!((typed.starts_at, typed.ends_at), (iso.starts_at, iso.ends_at));
        assert!(form(true, "x", "32/01/2030", "").validate(7, NOW).is_err());
        let long = form(true, &"a".repeat(MAX_BODY + 1), "", "");
        assert_eq!(long.validate(7, NOW).unwrap_err(), ["set.err.bodylong"]);
        let subject = VacationForm { subject: "é".repeat(MAX_SUBJECT + 1), ..form(true, "x", "", "") };
        assert_eq!(subject.validate(7, NOW).unwrap_err(), ["set.err.subject"]);
        let injected = VacationForm { subject: "Absent\r\nBcc: x@y".into(), ..form(true, "x", "", "") };
        assert_eq!(injected.validate(7, NOW).unwrap_err(), ["set.err.subject"]);
    }

    #[test]
    fn the_gauge_warns_past_ninety_percent() {
        let fr = M(Lang::Fr);
        let mut a = Account {
            id: 1,
            address: model::Address::parse("a@b.fr").unwrap(),
            login: None,
            display_name: String::new(),
            role: model::Role::Teacher,
            status: model::AccountStatus::Active,
            quota_bytes: Some(1 << 20),
            used_bytes: 943_718,
            org_unit: None,
            password_hash: None,
            created_at: 0,
            status_changed_at: 0,
        };
        let q = quota(&a, fr);
        assert_eq!((q.percent, nearly_full(&a)), (89, false));
        assert_eq!(q.text, "921,6 Ko utilisés sur 1,0 Mo (89 %)");
        a.used_bytes = 943_719;
        assert_eq!((quota(&a, fr).percent, nearly_full(&a)), (90, true), "just past 90 %");
        a.quota_bytes = None;
        let q = quota(&a, fr);
        assert!(!nearly_full(&a) && q.limit.is_none() && q.text.ends_with("(sans limite)"));
    }

    #[test]
    fn undo_delays_offer_the_installation_default() {
        let fr = M(Lang::Fr);
        let offered = |d| undo_choices(d, d, fr).into_iter().map(|u| u.secs).collect::<Vec<_>>();
        assert_eq!(offered(10), [0, 5, 10, 20, 30]);
        assert_eq!(offered(15), [0, 5, 10, 15, 20, 30]);
        let list = undo_choices(10, 0, fr);
        assert_eq!(
            list.iter().filter(|u| u.selected).map(|u| u.label.as_str()).collect::<Vec<_>>(),
            ["aucun (envoi immédiat)"]
        );
        assert_eq!(list[3].label, "20 secondes");
    }

    #[test]
    fn only_offered_display_choices_are_kept() {
        assert!(valid_prefs(&WebPrefs::default()));
        let dark =
            WebPrefs { density: "compacte".into(), lang: "en".into(), theme: "sombre".into(), undo_send: Some(5) };
        assert!(valid_prefs(&dark));
        assert!(!valid_prefs(&WebPrefs { theme: "\" onload=".into(), ..WebPrefs::default() }));
        assert!(!valid_prefs(&WebPrefs { lang: "de".into(), ..WebPrefs::default() }));
    }
}
