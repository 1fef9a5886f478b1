//! « Rappels » (`/agenda/rappels`): the reminders that fired for the reader
//! and are not dismissed yet (each with « Fermer », and « Tout fermer »),
//! and each of their own calendars' reminder settings: the default
//! reminder of timed events without one of their own, and whether
//! reminders are mailed too. The webmail's live stream shows the same
//! reminders as they fire (`courrier.js`, and a browser notification when
//! the reader allowed them); this page works without script.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use groupware::Groupware;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::form::Choice;
use super::views::{local, long_date};
use super::{A, calendars, enc, not_found, refused, service};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::session::unix_now;
use crate::base::{Common, WebError, redirect, render};
use crate::mail::{Reader, ReaderForm};

/// The default reminders a calendar may have (minutes before).
const DEFAULTS: [i64; 7] = [0, 5, 10, 15, 30, 60, 1440];

/// A fired reminder as the reader sees it (also the live stream's JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub id: i64,
    pub title: String,
    /// « lundi 7 décembre 2026 à 18:00 » in the reader's zone.
    pub when: String,
    pub location: String,
    /// The event in the agenda (the reader's own calendars), else empty.
    pub href: String,
}

/// The reader's pending reminders, newest first.
pub async fn shown(gw: &Groupware, account: i64, a: A, zone: &TimeZone) -> Result<Vec<Shown>, groupware::Error> {
    let own: Vec<(i64, String)> = gw
        .collections(account)
        .await?
        .into_iter()
        .filter(|c| c.kind == groupware::CollectionKind::Calendar)
        .map(|c| (c.id, c.segment))
        .collect();
    let at = a.get("ag.rem.at");
    Ok(gw
        .pending_reminders(account, unix_now())
        .await?
        .into_iter()
        .map(|r| {
            let (day, h, m) = local(zone, r.starts_at);
            let href = own
                .iter()
                .find(|(id, _)| *id == r.collection_id)
                .map(|(_, seg)| format!("/agenda/{}/{}", enc(seg), enc(&r.object_name)))
                .unwrap_or_default();
            let title = if r.title.trim().is_empty() { a.get("ag.rem.untitled").to_owned() } else { r.title };
            Shown {
                id: r.id,
                title,
                when: format!("{} {at} {h:02}:{m:02}", long_date(a, day)),
                location: r.location,
                href,
            }
        })
        .collect())
}

/// One calendar's reminder settings in the form.
pub struct Setting {
    pub segment: String,
    pub name: String,
    pub choices: Vec<Choice>,
    pub mail: bool,
}

#[derive(Template)]
#[template(path = "agenda/reminders.html")]
struct RemindersPage {
    c: Common,
    a: A,
    reminders: Vec<Shown>,
    settings: Vec<Setting>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InfoQuery {
    info: Option<String>,
}

/// `GET /agenda/rappels`.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<InfoQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let a = A(v.lang);
    let gw = service(&app, v.lang)?;
    let reminders = shown(gw, account.id, a, v.chrome.clock.zone()).await.map_err(|e| super::internal(&e))?;
    let settings = calendars(gw, &account)
        .await?
        .into_iter()
        .map(|c| {
            let current = c.reminder_minutes.map(|m| m.to_string()).unwrap_or_else(|| "aucun".into());
            let mut choices = vec![Choice {
                value: "aucun".into(),
                label: a.get("ag.al.off").to_owned(),
                selected: current == "aucun",
            }];
            choices.extend(DEFAULTS.iter().map(|m| Choice {
                value: m.to_string(),
                label: a.get(&format!("ag.al.{m}")).to_owned(),
                selected: current == m.to_string(),
            }));
            Setting { segment: c.segment, name: c.display_name, choices, mail: c.reminder_mail }
        })
        .collect();
    let mut c = Common::new(&app, &mut v, "nav.agenda");
    c.title = a.get("ag.rem.title").to_owned();
    c.info = match q.info.as_deref() {
        Some("ferme") => Some(a.get("ag.rem.dismissed").to_owned()),
        Some("regle") => Some(a.get("ag.rem.saved").to_owned()),
        _ => None,
    };
    Ok(render(&v, StatusCode::OK, &RemindersPage { c, a, reminders, settings }))
}

#[derive(Debug, Default, Deserialize)]
pub struct RemindersForm {
    #[serde(default)]
    pub csrf: String,
    /// `fermer` (one, `rappel`), `tout` or `regler` (`agenda`, `defaut`, `courriel`).
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub rappel: String,
    #[serde(default)]
    pub agenda: String,
    #[serde(default)]
    pub defaut: String,
    pub courriel: Option<String>,
    /// `json`: the live stream's script asks, and wants no page back.
    #[serde(default)]
    pub reponse: String,
}

has_csrf!(RemindersForm);

/// `POST /agenda/rappels`.
pub async fn act(
    State(app): State<Arc<App>>,
    ReaderForm { v, account, form }: ReaderForm<RemindersForm>,
) -> Result<Response, WebError> {
    let a = A(v.lang);
    let gw = service(&app, v.lang)?;
    let back = "/agenda/rappels";
    let info = match form.action.as_str() {
        "fermer" => {
            let Ok(id) = form.rappel.parse::<i64>() else { return Err(not_found(v.lang)) };
            // Another account's reminder is answered like a missing one.
            if !gw.dismiss_reminder(account.id, id).await.map_err(|e| super::internal(&e))? {
                return Err(not_found(v.lang));
            }
            "ferme"
        }
        "tout" => {
            gw.dismiss_all_reminders(account.id).await.map_err(|e| super::internal(&e))?;
            "ferme"
        }
        "regler" => {
            let minutes = match form.defaut.as_str() {
                "aucun" => None,
                n => match n.parse::<i64>() {
                    Ok(m) if DEFAULTS.contains(&m) => Some(m),
                    _ => return Err(refused(v.lang, a.get("ag.err.alarm"), back)),
                },
            };
            // Only the reader's own calendars: a shared one's key is no segment of theirs.
            let c = match gw.collection(account.id, groupware::CollectionKind::Calendar, &form.agenda).await {
                Ok(c) => c,
                Err(groupware::Error::NotFound) => return Err(not_found(v.lang)),
                Err(e) => return Err(super::internal(&e)),
            };
            gw.set_reminders(&c, minutes, form.courriel.is_some()).await.map_err(|e| super::internal(&e))?;
            "regle"
        }
        _ => return Err(refused(v.lang, a.get("ag.err.scope"), back)),
    };
    if form.reponse == "json" {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(redirect(&v, &format!("{back}?info={info}")))
}
