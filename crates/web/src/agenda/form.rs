//! The event form: create (`/agenda/nouveau`), edit or move
//! (`/agenda/{calendar}/{name}`: the whole series for a recurring event),
//! delete one occurrence or the series (`.../supprimer`). A refused form is
//! shown again with what was typed and the reason.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use groupware::Groupware;
use groupware::event::{self, AlarmChoice, Date, EventDraft, Frequency, Moment, Recurrence, Until};
use jiff::tz::TimeZone;
use mailstore::Account;
use serde::Deserialize;

use super::views::{local, long_date, today};
use super::{A, Visible, calendar, enc, event_error, not_found, read_only, service, visible};
use crate::App;
use crate::base::clock::ZONES;
use crate::base::extract::has_csrf;
use crate::base::session::unix_now;
use crate::base::{Common, WebError, redirect, render};
use crate::mail::{Reader, ReaderForm};

/// Day boxes of the weekly recurrence: (field, key of its label).
const DAY_FIELDS: [&str; 7] = ["lu", "ma", "me", "je", "ve", "sa", "di"];

#[derive(Debug, Default, Deserialize)]
pub struct EventForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub titre: String,
    #[serde(default)]
    pub lieu: String,
    #[serde(default)]
    pub description: String,
    /// The calendar's segment (creation only).
    #[serde(default)]
    pub agenda: String,
    pub journee: Option<String>,
    #[serde(default)]
    pub debut_date: String,
    #[serde(default)]
    pub debut_heure: String,
    #[serde(default)]
    pub fin_date: String,
    #[serde(default)]
    pub fin_heure: String,
    #[serde(default)]
    pub fuseau: String,
    /// `aucune`, `quotidienne`, `hebdomadaire`, `mensuelle`, `annuelle`, `inchangee`.
    #[serde(default)]
    pub repetition: String,
    pub lu: Option<String>,
    pub ma: Option<String>,
    pub me: Option<String>,
    pub je: Option<String>,
    pub ve: Option<String>,
    pub sa: Option<String>,
    pub di: Option<String>,
    /// `jamais`, `date` or `nombre`.
    #[serde(default)]
    pub fin_repetition: String,
    #[serde(default)]
    pub jusqu_au: String,
    #[serde(default)]
    pub nombre: String,
    /// The reminder: `defaut`, `aucun`, `garder` or minutes before.
    #[serde(default)]
    pub rappel: String,
    /// The version edited (edit only).
    #[serde(default)]
    pub etag: String,
}

has_csrf!(EventForm);

impl EventForm {
    fn days(&self) -> [bool; 7] {
        [&self.lu, &self.ma, &self.me, &self.je, &self.ve, &self.sa, &self.di].map(Option::is_some)
    }

    /// The draft, or the key of the text saying what is wrong.
    fn draft(&self) -> Result<(EventDraft, bool), &'static str> {
        let whole = self.journee.is_some();
        let start_date = Date::parse(&self.debut_date).ok_or("ag.err.date")?;
        let end_date = if self.fin_date.trim().is_empty() {
            start_date
        } else {
            Date::parse(&self.fin_date).ok_or("ag.err.date")?
        };
        let (start, end) = if whole {
            (Moment { date: start_date, time: None }, Moment { date: end_date.add_days(1), time: None })
        } else {
            let st = parse_time(&self.debut_heure).ok_or("ag.err.time")?;
            let en = parse_time(&self.fin_heure).ok_or("ag.err.time")?;
            (Moment { date: start_date, time: Some(st) }, Moment { date: end_date, time: Some(en) })
        };
        let zone = self.fuseau.trim();
        if !ZONES.iter().any(|(z, _, _)| *z == zone) {
            return Err("ag.err.zone");
        }
        let keep = self.repetition == "inchangee";
        let frequency = match self.repetition.as_str() {
            "aucune" | "" | "inchangee" => None,
            "quotidienne" => Some(Frequency::Daily),
            "hebdomadaire" => {
                let days = self.days();
                Some(Frequency::Weekly((0u8..7).filter(|d| days[usize::from(*d)]).collect()))
            }
            "mensuelle" => Some(Frequency::Monthly),
            "annuelle" => Some(Frequency::Yearly),
            _ => return Err("ag.err.repeat"),
        };
        let recurrence = match frequency {
            None => None,
            Some(frequency) => {
                let until = match self.fin_repetition.as_str() {
                    "jamais" | "" => Until::Never,
                    "date" => Until::Date(Date::parse(&self.jusqu_au).ok_or("ag.err.until")?),
                    "nombre" => Until::Count(self.nombre.trim().parse().map_err(|_| "ag.err.count")?),
                    _ => return Err("ag.err.repeat"),
                };
                Some(Recurrence { frequency, until })
            }
        };
        let draft = EventDraft {
            summary: self.titre.trim().to_owned(),
            location: self.lieu.trim().to_owned(),
            description: self.description.replace("\r\n", "\n"),
            start,
            end,
            zone: zone.to_owned(),
            recurrence,
            alarm: AlarmChoice::parse(&self.rappel).ok_or("ag.err.alarm")?,
        };
        Ok((draft, keep))
    }
}

/// The reminder choices, the current one selected (« Inchangé » only
/// when the event holds reminders the form cannot show).
fn alarm_choices(a: A, current: &str) -> Vec<Choice> {
    let current = if current.is_empty() { "defaut" } else { current };
    let mut out = Vec::new();
    if current == "garder" {
        out.push(Choice { value: "garder".into(), label: a.get("ag.al.keep").to_owned(), selected: true });
    }
    out.push(Choice {
        value: "defaut".into(),
        label: a.get("ag.al.default").to_owned(),
        selected: current == "defaut",
    });
    out.push(Choice { value: "aucun".into(), label: a.get("ag.al.off").to_owned(), selected: current == "aucun" });
    for m in event::ALARM_CHOICES {
        let value = m.to_string();
        let selected = value == current;
        out.push(Choice { label: a.get(&format!("ag.al.{m}")).to_owned(), value, selected });
    }
    out
}

/// `HH:MM` (an HTML time input).
fn parse_time(s: &str) -> Option<(u8, u8)> {
    let (h, m) = s.trim().split_once(':')?;
    let m = m.get(..2).unwrap_or(m);
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

/// One option of a select or radio group.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A weekday box of the weekly recurrence.
pub struct DayBox {
    pub field: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "agenda/event.html")]
struct FormPage {
    c: Common,
    a: A,
    heading: String,
    action: String,
    editing: bool,
    f: EventForm,
    whole_day: bool,
    calendars: Vec<Choice>,
    zones: Vec<Choice>,
    repeats: Vec<Choice>,
    alarms: Vec<Choice>,
    ends: Vec<Choice>,
    days: Vec<DayBox>,
    /// A calendar shared read-only: the event is shown, not editable.
    readonly: bool,
    delete_href: String,
    back: String,
}

fn choices(options: &[(&str, &str)], a: A, current: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(value, key)| Choice {
            value: (*value).to_owned(),
            label: a.get(key).to_owned(),
            selected: *value == current,
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    app: &App,
    v: &mut crate::base::session::Visitor,
    account: &Account,
    gw: &Groupware,
    f: EventForm,
    target: Option<(&Visible, &str)>,
    complex: bool,
    occurrence: Option<i64>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let a = A(v.lang);
    let writable: Vec<Visible> = visible(gw, account).await?.into_iter().filter(|c| c.right.can_write()).collect();
    let current_cal = target.map(|(c, _)| c.key.clone()).unwrap_or_else(|| f.agenda.clone());
    let cals = writable
        .iter()
        .map(|c| Choice { value: c.key.clone(), label: c.name.clone(), selected: c.key == current_cal })
        .collect();
    let readonly = target.is_some_and(|(c, _)| !c.right.can_write());
    let zones = ZONES
        .iter()
        .map(|(name, fr, en)| Choice {
            value: (*name).to_owned(),
            label: format!("{} — {name}", if a.en() { en } else { fr }),
            selected: *name == f.fuseau,
        })
        .collect();
    let mut repeat_options =
        vec![("aucune", "ag.rep.none"), ("quotidienne", "ag.rep.daily"), ("hebdomadaire", "ag.rep.weekly")];
    repeat_options.extend([("mensuelle", "ag.rep.monthly"), ("annuelle", "ag.rep.yearly")]);
    if complex {
        repeat_options.insert(0, ("inchangee", "ag.rep.keep"));
    }
    let repeats = choices(&repeat_options, a, if f.repetition.is_empty() { "aucune" } else { &f.repetition });
    let alarms = alarm_choices(a, &f.rappel);
    let ends = choices(
        &[("jamais", "ag.end.never"), ("date", "ag.end.date"), ("nombre", "ag.end.count")],
        a,
        if f.fin_repetition.is_empty() { "jamais" } else { &f.fin_repetition },
    );
    let checked = f.days();
    let days = DAY_FIELDS
        .iter()
        .enumerate()
        .map(|(i, field)| DayBox { field, label: a.get(&format!("ag.day.{field}")), checked: checked[i] })
        .collect();
    let (action, heading, delete_href) = match target {
        Some((c, name)) => {
            let base = format!("/agenda/{}/{}", enc(&c.key), enc(name));
            let occ = occurrence.map(|o| format!("?occurrence={o}")).unwrap_or_default();
            (format!("{base}{occ}"), a.get("ag.edit.title").to_owned(), format!("{base}/supprimer{occ}"))
        }
        None => ("/agenda/nouveau".to_owned(), a.get("ag.new.title").to_owned(), String::new()),
    };
    let back = format!("/agenda?date={}", Date::parse(&f.debut_date).map(Date::iso).unwrap_or_default());
    let mut c = Common::new(app, v, "nav.agenda");
    c.title = heading.clone();
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    c.error = error;
    let whole_day = f.journee.is_some();
    let page = FormPage {
        c,
        a,
        heading,
        action,
        editing: target.is_some(),
        f,
        whole_day,
        calendars: cals,
        zones,
        repeats,
        alarms,
        ends,
        days,
        readonly,
        delete_href,
        back,
    };
    Ok(render(v, status, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    date: Option<String>,
    heure: Option<String>,
}

/// `GET /agenda/nouveau?date=2026-09-07&heure=17:00`.
pub async fn new_page(
    State(app): State<Arc<App>>,
    Query(q): Query<NewQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let gw = service(&app, v.lang)?;
    let zone = v.chrome.clock.name().to_owned();
    let date = q.date.as_deref().and_then(Date::parse).unwrap_or_else(|| today(v.chrome.clock.zone()));
    let (h, m) = q.heure.as_deref().and_then(parse_time).unwrap_or((9, 0));
    let end_h = (h + 1).min(23);
    let f = EventForm {
        debut_date: date.iso(),
        fin_date: date.iso(),
        debut_heure: format!("{h:02}:{m:02}"),
        fin_heure: format!("{end_h:02}:{:02}", if end_h == h { 59 } else { m }),
        fuseau: if ZONES.iter().any(|(z, _, _)| *z == zone) { zone } else { "Europe/Paris".into() },
        agenda: groupware::DEFAULT_CALENDAR.to_owned(),
        ..EventForm::default()
    };
    form_page(&app, &mut v, &account, gw, f, None, false, None, None).await
}

/// `POST /agenda/nouveau`.
pub async fn create(
    State(app): State<Arc<App>>,
    ReaderForm { mut v, account, form }: ReaderForm<EventForm>,
) -> Result<Response, WebError> {
    let a = A(v.lang);
    let gw = service(&app, v.lang)?;
    let c = calendar(gw, &account, &form.agenda, v.lang).await?;
    if !c.right.can_write() {
        return Err(read_only(v.lang, "/agenda"));
    }
    let draft = match form.draft() {
        Ok((d, _)) => d,
        Err(key) => {
            let error = Some(a.get(key).to_owned());
            return form_page(&app, &mut v, &account, gw, form, None, false, None, error).await;
        }
    };
    match gw.create_event(&c.collection, &draft, unix_now()).await {
        Ok(_) => Ok(redirect(&v, &format!("/agenda?date={}&info=cree", draft.start.date.iso()))),
        Err(groupware::Error::Invalid(why)) => {
            let error = Some(format!("{} {why}", a.get("ag.err.invalid")));
            form_page(&app, &mut v, &account, gw, form, None, false, None, error).await
        }
        Err(e) => Err(event_error(v.lang, e, "/agenda/nouveau")),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct OccurrenceQuery {
    occurrence: Option<i64>,
}

/// The form's fields for an existing event, times in a zone the form offers.
fn fields_of(read: &event::ReadDraft, etag: &str, reader: &TimeZone, reader_name: &str) -> EventForm {
    let d = &read.draft;
    let (mut start, mut end, mut zone) = (d.start, d.end, d.zone.clone());
    if !ZONES.iter().any(|(z, _, _)| *z == zone) && start.time.is_some() {
        // Another client's zone: the same instants in the reader's.
        if let (Some(s), Some(e)) = (instant(start, &zone), instant(end, &zone)) {
            let (sd, sh, sm) = local(reader, s);
            let (ed, eh, em) = local(reader, e);
            start = Moment { date: sd, time: Some((sh, sm)) };
            end = Moment { date: ed, time: Some((eh, em)) };
            zone = reader_name.to_owned();
        }
    }
    let hm = |m: Moment| m.time.map(|(h, mi)| format!("{h:02}:{mi:02}")).unwrap_or_default();
    let whole = start.time.is_none();
    let last = if whole { end.date.add_days(-1).max(start.date) } else { end.date };
    let mut f = EventForm {
        titre: d.summary.clone(),
        lieu: d.location.clone(),
        description: d.description.clone(),
        journee: whole.then(|| "1".to_owned()),
        debut_date: start.date.iso(),
        debut_heure: if whole { "09:00".into() } else { hm(start) },
        fin_date: last.iso(),
        fin_heure: if whole { "10:00".into() } else { hm(end) },
        fuseau: zone,
        etag: etag.to_owned(),
        repetition: if read.complex_rule { "inchangee".into() } else { "aucune".into() },
        rappel: d.alarm.value(),
        ..EventForm::default()
    };
    if let Some(r) = &d.recurrence {
        f.repetition = match &r.frequency {
            Frequency::Daily => "quotidienne",
            Frequency::Weekly(days) => {
                let set = |i: u8| days.contains(&i).then(|| "1".to_owned());
                (f.lu, f.ma, f.me, f.je, f.ve, f.sa, f.di) = (set(0), set(1), set(2), set(3), set(4), set(5), set(6));
                "hebdomadaire"
            }
            Frequency::Monthly => "mensuelle",
            Frequency::Yearly => "annuelle",
        }
        .into();
        match r.until {
            Until::Never => f.fin_repetition = "jamais".into(),
            Until::Date(u) => (f.fin_repetition, f.jusqu_au) = ("date".into(), u.iso()),
            Until::Count(n) => (f.fin_repetition, f.nombre) = ("nombre".into(), n.to_string()),
        }
    }
    f
}

/// The unix second of a wall-clock moment of the IANA zone `zone`.
fn instant(m: Moment, zone: &str) -> Option<i64> {
    let (h, mi) = m.time?;
    let tz = TimeZone::get(zone).ok()?;
    let dt =
        jiff::civil::DateTime::new(m.date.year as i16, m.date.month as i8, m.date.day as i8, h as i8, mi as i8, 0, 0)
            .ok()?;
    Some(dt.to_zoned(tz).ok()?.timestamp().as_second())
}

/// The event `name` of the reader's calendar `segment`, read for the form.
async fn load(
    gw: &Groupware,
    account: &Account,
    segment: &str,
    name: &str,
    lang: crate::base::i18n::Lang,
) -> Result<(Visible, groupware::CollectionObject, event::ReadDraft), WebError> {
    let c = calendar(gw, account, segment, lang).await?;
    // Free/busy only: the event itself is not theirs to see.
    if !c.right.can_read() {
        return Err(not_found(lang));
    }
    let object = match gw.get(&c.collection, name).await {
        Ok(o) if o.component == "VEVENT" => o,
        Ok(_) | Err(groupware::Error::NotFound) => return Err(not_found(lang)),
        Err(e) => return Err(super::internal(&e)),
    };
    let read = event::read_draft(&object.content, gw.settings().time_zone.as_str())
        .map_err(|why| super::refused(lang, &format!("{} {why}", A(lang).get("ag.err.unreadable")), "/agenda"))?;
    Ok((c, object, read))
}

/// `GET /agenda/{calendar}/{name}?occurrence=…`.
pub async fn edit_page(
    State(app): State<Arc<App>>,
    Path((segment, name)): Path<(String, String)>,
    Query(q): Query<OccurrenceQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let gw = service(&app, v.lang)?;
    let (c, object, read) = load(gw, &account, &segment, &name, v.lang).await?;
    let clock = v.chrome.clock.clone();
    let f = fields_of(&read, &object.etag, clock.zone(), clock.name());
    form_page(&app, &mut v, &account, gw, f, Some((&c, &name)), read.complex_rule, q.occurrence, None).await
}

/// Whether the form's recurrence is the object's own (its RRULE and EXDATEs then stay).
fn same_rule(form: Option<&Recurrence>, read: Option<&Recurrence>) -> bool {
    let norm = |r: Option<&Recurrence>| {
        r.cloned().map(|mut r| {
            if let Frequency::Weekly(days) = &mut r.frequency {
                days.sort_unstable();
                days.dedup();
            }
            r
        })
    };
    norm(form) == norm(read)
}

/// `POST /agenda/{calendar}/{name}`: the event changed (moved, renamed, its recurrence edited).
pub async fn save(
    State(app): State<Arc<App>>,
    Path((segment, name)): Path<(String, String)>,
    Query(q): Query<OccurrenceQuery>,
    ReaderForm { mut v, account, form }: ReaderForm<EventForm>,
) -> Result<Response, WebError> {
    let a = A(v.lang);
    let gw = service(&app, v.lang)?;
    let (c, _, read) = load(gw, &account, &segment, &name, v.lang).await?;
    let back = format!("/agenda/{}/{}", enc(&segment), enc(&name));
    if !c.right.can_write() {
        return Err(read_only(v.lang, &back));
    }
    let target = Some((&c, name.as_str()));
    let (draft, keep) = match form.draft() {
        Ok(d) => d,
        Err(key) => {
            let error = Some(a.get(key).to_owned());
            return form_page(&app, &mut v, &account, gw, form, target, read.complex_rule, q.occurrence, error).await;
        }
    };
    let keep_rule =
        if (keep && read.complex_rule) || same_rule(draft.recurrence.as_ref(), read.draft.recurrence.as_ref()) {
            read.rule.as_deref()
        } else {
            None
        };
    match gw.edit_event(&c.collection, &name, &form.etag, &draft, keep_rule, unix_now()).await {
        Ok(_) => Ok(redirect(&v, &format!("/agenda?date={}&info=modifie", draft.start.date.iso()))),
        Err(groupware::Error::Invalid(why)) => {
            let error = Some(format!("{} {why}", a.get("ag.err.invalid")));
            form_page(&app, &mut v, &account, gw, form, target, read.complex_rule, q.occurrence, error).await
        }
        Err(e) => Err(event_error(v.lang, e, &back)),
    }
}

#[derive(Template)]
#[template(path = "agenda/delete.html")]
struct DeletePage {
    c: Common,
    a: A,
    /// « Supprimer « Conseil de classe » ? ».
    question: String,
    action: String,
    recurring: bool,
    /// The occurrence chosen, as a unix second and in words.
    occurrence: Option<(i64, String)>,
    etag: String,
    back: String,
}

/// `GET /agenda/{calendar}/{name}/supprimer?occurrence=…`.
pub async fn delete_page(
    State(app): State<Arc<App>>,
    Path((segment, name)): Path<(String, String)>,
    Query(q): Query<OccurrenceQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let a = A(v.lang);
    let gw = service(&app, v.lang)?;
    let (c, object, read) = load(gw, &account, &segment, &name, v.lang).await?;
    if !c.right.can_write() {
        return Err(read_only(v.lang, &format!("/agenda/{}/{}", enc(&segment), enc(&name))));
    }
    let recurring = read.rule.is_some();
    let zone = v.chrome.clock.zone().clone();
    let occurrence = q.occurrence.filter(|_| recurring).map(|o| {
        let (d, h, m) = local(&zone, o);
        let words = if read.draft.start.time.is_none() {
            long_date(a, d)
        } else {
            format!("{} {h:02}:{m:02}", long_date(a, d))
        };
        (o, words)
    });
    let base = format!("/agenda/{}/{}", enc(&segment), enc(&name));
    let mut c = Common::new(&app, &mut v, "nav.agenda");
    c.title = a.get("ag.delete.title").to_owned();
    let page = DeletePage {
        c,
        a,
        question: a.get("ag.delete.ask").replace("{}", &read.draft.summary),
        action: format!("{base}/supprimer"),
        recurring,
        occurrence,
        etag: object.etag,
        back: base,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    pub csrf: String,
    /// `serie` or `occurrence`.
    #[serde(default)]
    pub portee: String,
    pub occurrence: Option<i64>,
    #[serde(default)]
    pub etag: String,
}

has_csrf!(DeleteForm);

/// `POST /agenda/{calendar}/{name}/supprimer`.
pub async fn delete(
    State(app): State<Arc<App>>,
    Path((segment, name)): Path<(String, String)>,
    ReaderForm { v, account, form }: ReaderForm<DeleteForm>,
) -> Result<Response, WebError> {
    let gw = service(&app, v.lang)?;
    let vis = calendar(gw, &account, &segment, v.lang).await?;
    let back = format!("/agenda/{}/{}/supprimer", enc(&segment), enc(&name));
    if !vis.right.can_read() {
        return Err(not_found(v.lang));
    }
    if !vis.right.can_write() {
        return Err(read_only(v.lang, &back));
    }
    let c = &vis.collection;
    let result = match (form.portee.as_str(), form.occurrence) {
        ("occurrence", Some(start)) => gw.exclude_occurrence(c, &name, start).await.map(|_| ()),
        ("serie", _) => gw.delete(c, &name, Some(form.etag.as_str()).filter(|e| !e.is_empty())).await,
        _ => return Err(super::refused(v.lang, A(v.lang).get("ag.err.scope"), &back)),
    };
    match result {
        Ok(()) => Ok(redirect(&v, "/agenda?info=supprime")),
        Err(e) => Err(event_error(v.lang, e, &back)),
    }
}
