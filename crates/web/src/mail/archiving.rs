//! Automatic archiving in Réglages (`/courrier/reglages/archivage`, issue
//! 20): each user chooses whether the Inbox's messages older than some days
//! move to `Archives/AAAA` (the year of the message), or follows the
//! installation's default (`[mail] archive_days`). The move itself is the
//! housekeeping's (`mailstore::Mailstore::archive_account`), hourly.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::folders::{FolderView, sidebar};
use super::{M, Reader, ReaderForm, common};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::{Common, WebError, redirect, render};

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("arch.title", "Archivage automatique", "Automatic archiving"),
    (
        "arch.intro",
        "Les messages de la boîte de réception plus anciens que le délai choisi sont rangés chaque nuit dans Archives, un dossier par année (Archives/2025…). Ils restent lisibles et cherchables.",
        "Inbox messages older than the chosen delay are moved every night to Archives, one folder per year (Archives/2025…). They stay readable and searchable.",
    ),
    ("arch.choice", "Archiver les messages de la boîte de réception", "Archive Inbox messages"),
    ("arch.default", "Réglage par défaut de l'académie", "The académie's default"),
    ("arch.never", "jamais", "never"),
    ("arch.after", "après", "after"),
    ("arch.days", "jours", "days"),
    ("arch.save", "Enregistrer", "Save"),
    ("arch.saved", "Archivage enregistré.", "Archiving saved."),
    ("arch.link", "Archivage automatique", "Automatic archiving"),
    ("arch.invalid", "Délai non reconnu.", "Unrecognised delay."),
];

/// The delays offered, in days.
const CHOICES: [i64; 6] = [30, 90, 180, 365, 730, 1825];
/// Longest delay accepted from a form.
const MAX_DAYS: i64 = 36_500;

#[derive(Debug, Default, Deserialize)]
pub struct ArchivingQuery {
    info: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ArchivingForm {
    #[serde(default)]
    pub csrf: String,
    /// `defaut`, `0` (never) or a number of days.
    #[serde(default)]
    pub jours: String,
}

has_csrf!(ArchivingForm);

/// One option of the select.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "mail/archiving.html")]
struct ArchivingPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    choices: Vec<Choice>,
}

/// What the form's value means: `Ok(None)` the default, `Ok(Some(days))`.
fn parse_choice(text: &str) -> Result<Option<i64>, ()> {
    match text.trim() {
        "defaut" => Ok(None),
        n => match n.parse::<i64>() {
            Ok(d) if (0..=MAX_DAYS).contains(&d) => Ok(Some(d)),
            _ => Err(()),
        },
    }
}

fn label(m: M, days: i64) -> String {
    if days == 0 {
        m.get("arch.never").to_owned()
    } else {
        format!("{} {days} {}", m.get("arch.after"), m.get("arch.days"))
    }
}

/// `GET /courrier/reglages/archivage`.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<ArchivingQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let folders = sidebar(&app, &account, None, m).await?;
    let own = app.ms.archive_days(account.id).await?;
    let default = app.cfg.archive_days as i64;
    let mut choices = vec![Choice {
        value: "defaut".into(),
        label: format!("{} ({})", m.get("arch.default"), label(m, default)),
        selected: own.is_none(),
    }];
    let mut offered: Vec<i64> = std::iter::once(0).chain(CHOICES).collect();
    if let Some(d) = own.filter(|d| !offered.contains(d)) {
        offered.push(d);
        offered.sort_unstable();
    }
    choices.extend(offered.into_iter().map(|d| Choice {
        value: d.to_string(),
        label: label(m, d),
        selected: own == Some(d),
    }));
    let mut c = common(&app, &mut v, m.get("arch.title"));
    if q.info.as_deref() == Some("enregistre") {
        c.info = Some(m.get("arch.saved").to_owned());
    }
    Ok(render(&v, StatusCode::OK, &ArchivingPage { c, m, folders, choices }))
}

/// `POST /courrier/reglages/archivage`.
pub async fn save(
    State(app): State<Arc<App>>,
    ReaderForm { v, account, form }: ReaderForm<ArchivingForm>,
) -> Result<Response, WebError> {
    let Ok(days) = parse_choice(&form.jours) else {
        return Err(super::refused(v.lang, M(v.lang).get("arch.invalid"), "/courrier/reglages/archivage"));
    };
    app.ms.set_archive_days(account.id, days).await?;
    Ok(redirect(&v, "/courrier/reglages/archivage?info=enregistre"))
}

#[cfg(test)]
mod tests {
    use super::parse_choice;

    #[test]
    fn choices_are_the_default_never_or_days() {
        assert_eq!(parse_choice("defaut"), Ok(None));
        assert_eq!(parse_choice("0"), Ok(Some(0)));
        assert_eq!(parse_choice(" 365 "), Ok(Some(365)));
        assert_eq!(parse_choice("-1"), Err(()));
        assert_eq!(parse_choice("99999999"), Err(()));
        assert_eq!(parse_choice("<script>"), Err(()));
        assert_eq!(parse_choice(""), Err(()));
    }
}
