//! `GET /agenda`: the day, week, month and list views. A view is a range
//! of days of the reader's zone; each calendar shown gives its occurrences
//! in that range (UTC bounds of the first and last local midnight), each
//! placed on every local day it covers (whole-day events by their dates).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use groupware::event::Date;
use groupware::{Occurrence, Right};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{A, Visible, enc, service, visible};
use crate::App;
use crate::base::session::unix_now;
use crate::base::{Common, WebError, render};
use crate::mail::Reader;

/// The four views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Day,
    Week,
    Month,
    List,
}

impl View {
    pub const ALL: [View; 4] = [View::Day, View::Week, View::Month, View::List];

    fn parse(s: &str) -> View {
        match s {
            "jour" => View::Day,
            "mois" => View::Month,
            "liste" => View::List,
            _ => View::Week,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            View::Day => "jour",
            View::Week => "semaine",
            View::Month => "mois",
            View::List => "liste",
        }
    }

    /// The days shown around `d`: [first, end).
    fn range(self, d: Date) -> (Date, Date) {
        match self {
            View::Day => (d, d.add_days(1)),
            View::Week => {
                let monday = d.add_days(-i64::from(d.weekday()));
                (monday, monday.add_days(7))
            }
            View::Month => {
                let first = Date { day: 1, ..d };
                let next = next_month(first);
                let last = next.add_days(-1);
                (first.add_days(-i64::from(first.weekday())), last.add_days(7 - i64::from(last.weekday())))
            }
            View::List => (d, d.add_days(LIST_DAYS)),
        }
    }

    /// The day the previous and next pages are centred on.
    fn step(self, d: Date) -> (Date, Date) {
        match self {
            View::Day => (d.add_days(-1), d.add_days(1)),
            View::Week => (d.add_days(-7), d.add_days(7)),
            View::Month => {
                let first = Date { day: 1, ..d };
                (Date { day: 1, ..first.add_days(-1) }, next_month(first))
            }
            View::List => (d.add_days(-LIST_DAYS), d.add_days(LIST_DAYS)),
        }
    }
}

/// Days the list view covers.
const LIST_DAYS: i64 = 30;

fn next_month(first: Date) -> Date {
    if first.month == 12 {
        Date { year: first.year + 1, month: 1, day: 1 }
    } else {
        Date { month: first.month + 1, day: 1, ..first }
    }
}

/// One occurrence in a day.
pub struct Item {
    pub summary: String,
    /// « 17:00 – 18:30 », « Journée entière », « (suite) ».
    pub when: String,
    pub location: String,
    pub href: String,
    /// `cal-0`...`cal-7`: the calendar's colour.
    pub class: String,
    pub calendar: String,
    pub recurring: bool,
    pub all_day: bool,
    /// Sort key: whole days first, then by start.
    key: (bool, i64),
}

/// One day of a view.
pub struct Day {
    pub iso: String,
    /// « lundi 7 septembre 2026 ».
    pub label: String,
    /// « lun. 7 ».
    pub short: String,
    pub today: bool,
    /// In the month view: a day of the previous or next month.
    pub outside: bool,
    pub items: Vec<Item>,
}

/// A calendar in the side panel.
pub struct CalChoice {
    pub segment: String,
    pub name: String,
    pub class: String,
    pub shown: bool,
    /// Shared with the reader for free/busy only, or read only.
    pub freebusy: bool,
    pub read_only: bool,
}

/// A link to another view of the same day.
pub struct ViewLink {
    pub word: &'static str,
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "agenda/views.html")]
struct ViewPage {
    c: Common,
    a: A,
    view: &'static str,
    /// « Semaine du 7 au 13 septembre 2026 ».
    heading: String,
    days: Vec<Day>,
    /// The month view's rows.
    weeks: Vec<Vec<Day>>,
    weekdays: Vec<&'static str>,
    prev: String,
    next: String,
    today: String,
    date: String,
    calendars: Vec<CalChoice>,
    views: Vec<ViewLink>,
    /// The selection of calendars, as query pairs for every link.
    keep: String,
    zone: String,
    new_href: String,
    /// Reminders fired and not dismissed.
    pending: usize,
}

const WEEKDAYS_FR: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
const WEEKDAYS_EN: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn weekday_name(a: A, d: Date) -> &'static str {
    let i = usize::from(d.weekday());
    if a.en() { WEEKDAYS_EN[i] } else { WEEKDAYS_FR[i] }
}

fn month_name(a: A, month: u8) -> &'static str {
    let i = usize::from(month.clamp(1, 12) - 1);
    if a.en() { MONTHS_EN[i] } else { MONTHS_FR[i] }
}

/// « lundi 7 septembre 2026 » / « Monday 7 September 2026 ».
pub fn long_date(a: A, d: Date) -> String {
    format!("{} {} {} {}", weekday_name(a, d), d.day, month_name(a, d.month), d.year)
}

/// The unix second of local midnight starting `d` in `zone`.
pub fn midnight(zone: &TimeZone, d: Date) -> i64 {
    jiff::civil::Date::new(d.year as i16, d.month as i8, d.day as i8)
        .ok()
        .and_then(|j| j.to_zoned(zone.clone()).ok())
        .map(|z| z.timestamp().as_second())
        .unwrap_or(d.days() * 86_400)
}

/// The local day and time of a unix second in `zone`.
pub fn local(zone: &TimeZone, unix: i64) -> (Date, u8, u8) {
    match Timestamp::from_second(unix) {
        Ok(t) => {
            let z = t.to_zoned(zone.clone());
            let d = Date { year: i32::from(z.year()), month: z.month() as u8, day: z.day() as u8 };
            (d, z.hour() as u8, z.minute() as u8)
        }
        Err(_) => (Date::from_days(unix.div_euclid(86_400)), 0, 0),
    }
}

/// Today in `zone`.
pub fn today(zone: &TimeZone) -> Date {
    local(zone, unix_now()).0
}

/// The page's query: the view, the day, and (when `choix` is set) which calendars to show.
fn parse_query(pairs: &[(String, String)]) -> (View, Option<Date>, Option<Vec<String>>) {
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let view = View::parse(get("vue").unwrap_or(""));
    let date = get("date").and_then(Date::parse);
    let chosen =
        get("choix").map(|_| pairs.iter().filter(|(k, _)| k == "voir").map(|(_, v)| v.clone()).take(100).collect());
    (view, date, chosen)
}

/// `GET /agenda?vue=semaine&date=2026-09-07&choix=1&voir=agenda`.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(pairs): Query<Vec<(String, String)>>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let a = A(v.lang);
    let gw = service(&app, v.lang)?;
    let zone = v.chrome.clock.zone().clone();
    let (view, date, chosen) = parse_query(&pairs);
    let now_day = today(&zone);
    let date = date.unwrap_or(now_day);
    let (first, end) = view.range(date);
    let (start_utc, end_utc) = (midnight(&zone, first), midnight(&zone, end));
    let all = visible(gw, &account).await?;
    let mut choices = Vec::new();
    let mut shown: Vec<(usize, &Visible)> = Vec::new();
    for (i, c) in all.iter().enumerate() {
        let on = chosen.as_ref().is_none_or(|list| list.contains(&c.key));
        choices.push(CalChoice {
            segment: c.key.clone(),
            name: c.name.clone(),
            class: format!("cal-{}", i % 8),
            shown: on,
            freebusy: c.right == Right::FreeBusy,
            read_only: c.right == Right::Read,
        });
        if on {
            shown.push((i, c));
        }
    }
    let keep: String = match &chosen {
        None => String::new(),
        Some(list) => {
            std::iter::once("&choix=1".to_owned()).chain(list.iter().map(|s| format!("&voir={}", enc(s)))).collect()
        }
    };
    let mut days: Vec<Day> = (0..(end.days() - first.days()))
        .map(|n| {
            let d = first.add_days(n);
            Day {
                iso: d.iso(),
                label: long_date(a, d),
                short: format!("{}. {}", weekday_name(a, d).chars().take(3).collect::<String>(), d.day),
                today: d == now_day,
                outside: view == View::Month && d.month != date.month,
                items: Vec::new(),
            }
        })
        .collect();
    for (i, c) in shown {
        let found = gw.occurrences(&c.collection, start_utc, end_utc).await.map_err(|e| super::internal(&e))?;
        for o in found {
            // Free/busy only: busy blocks, nothing of what they are.
            if c.right == Right::FreeBusy && !o.busy {
                continue;
            }
            place(&mut days, first, &zone, a, i, c, &o);
        }
    }
    for d in &mut days {
        d.items.sort_by_key(|i| i.key);
    }
    let heading = heading(a, view, date, first, end);
    let (prev, next) = view.step(date);
    let href = |vw: View, d: Date| format!("/agenda?vue={}&date={}{keep}", vw.word(), d.iso());
    let views = View::ALL
        .into_iter()
        .map(|vw| ViewLink {
            word: vw.word(),
            label: a.get(&format!("ag.view.{}", vw.word())),
            href: href(vw, date),
            current: vw == view,
        })
        .collect();
    let weekdays = (0..7).map(|n| weekday_name(a, Date::from_days(4 + n))).collect();
    let weeks = if view == View::Month {
        let mut rows = Vec::new();
        let mut it = days.into_iter();
        loop {
            let row: Vec<Day> = it.by_ref().take(7).collect();
            if row.is_empty() {
                break;
            }
            rows.push(row);
        }
        days = Vec::new();
        rows
    } else {
        if view == View::List {
            days.retain(|d| !d.items.is_empty());
        }
        Vec::new()
    };
    let zone_name = v.chrome.clock.name().to_owned();
    let pending = gw.pending_reminders(account.id, unix_now()).await.map(|r| r.len()).unwrap_or(0);
    let mut c = Common::new(&app, &mut v, "nav.agenda");
    c.title = format!("{} — {heading}", a.get("ag.title"));
    let info = pairs.iter().find(|(k, _)| k == "info").map(|(_, v)| v.as_str());
    if let Some(word @ ("cree" | "modifie" | "supprime")) = info {
        c.info = Some(a.get(&format!("ag.info.{word}")).to_owned());
    }
    let page = ViewPage {
        c,
        a,
        view: view.word(),
        heading,
        days,
        weeks,
        weekdays,
        prev: href(view, prev),
        next: href(view, next),
        today: href(view, now_day),
        date: date.iso(),
        calendars: choices,
        views,
        keep,
        zone: zone_name,
        new_href: format!("/agenda/nouveau?date={}", date.iso()),
        pending,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// Puts `o` on every shown day it covers.
fn place(days: &mut [Day], first: Date, zone: &TimeZone, a: A, index: usize, c: &Visible, o: &Occurrence) {
    let busy_only = c.right == Right::FreeBusy;
    let href = if busy_only {
        String::new()
    } else {
        format!("/agenda/{}/{}?occurrence={}", enc(&c.key), enc(&o.name), o.start)
    };
    let summary = if busy_only {
        a.get("ag.busy").to_owned()
    } else if o.summary.is_empty() {
        a.get("ag.untitled").to_owned()
    } else {
        o.summary.clone()
    };
    let item = |when: String, all_day: bool| Item {
        summary: summary.clone(),
        when,
        location: if busy_only { String::new() } else { o.location.clone() },
        href: href.clone(),
        class: format!("cal-{}", index % 8),
        calendar: c.name.clone(),
        recurring: o.recurring && !busy_only,
        all_day,
        key: (!all_day, o.start),
    };
    let slot = |d: Date| usize::try_from(d.days() - first.days()).ok();
    if let Some((from, to)) = o.days {
        let mut d = from;
        while d < to {
            if let Some(day) = slot(d).and_then(|i| days.get_mut(i)) {
                day.items.push(item(a.get("ag.allday").to_owned(), true));
            }
            d = d.add_days(1);
        }
        return;
    }
    let (sd, sh, sm) = local(zone, o.start);
    let (ed, eh, em) = local(zone, o.end);
    // An end at midnight belongs to the day before.
    let last = if (eh, em) == (0, 0) && ed > sd { ed.add_days(-1) } else { ed };
    let mut d = sd;
    while d <= last {
        if let Some(day) = slot(d).and_then(|i| days.get_mut(i)) {
            let when = if d == sd && d == last {
                if o.end > o.start {
                    format!("{sh:02}:{sm:02} – {eh:02}:{em:02}")
                } else {
                    format!("{sh:02}:{sm:02}")
                }
            } else if d == sd {
                format!("{sh:02}:{sm:02} →")
            } else if d == last {
                format!("→ {eh:02}:{em:02}")
            } else {
                a.get("ag.continued").to_owned()
            };
            day.items.push(item(when, false));
        }
        d = d.add_days(1);
    }
}

/// The title of the range shown.
fn heading(a: A, view: View, date: Date, first: Date, end: Date) -> String {
    match view {
        View::Day => long_date(a, date),
        View::Week => {
            let last = end.add_days(-1);
            format!(
                "{} {} {} {} {} {} {}",
                a.get("ag.week.of"),
                first.day,
                month_name(a, first.month),
                a.get("ag.week.to"),
                last.day,
                month_name(a, last.month),
                last.year
            )
        }
        View::Month => format!("{} {}", month_name(a, date.month), date.year),
        View::List => format!("{} {}", a.get("ag.list.from"), long_date(a, date)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn views_cover_whole_weeks_and_months() {
        let sept_9 = d(2026, 9, 9);
        assert_eq!(View::Week.range(sept_9), (d(2026, 9, 7), d(2026, 9, 14)));
        assert_eq!(View::Day.range(sept_9), (sept_9, d(2026, 9, 10)));
        // September 2026 starts on a Tuesday and ends on a Wednesday.
        assert_eq!(View::Month.range(sept_9), (d(2026, 8, 31), d(2026, 10, 5)));
        assert_eq!(View::Month.step(sept_9), (d(2026, 8, 1), d(2026, 10, 1)));
        assert_eq!(View::Month.step(d(2026, 1, 31)), (d(2025, 12, 1), d(2026, 2, 1)));
        assert_eq!(View::Month.step(d(2026, 12, 5)).1, d(2027, 1, 1));
        assert_eq!(View::parse("n'importe quoi"), View::Week);
    }

    #[test]
    fn queries_say_the_view_the_day_and_the_calendars() {
        let pairs = |s: &[(&str, &str)]| s.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        let (view, date, chosen) = parse_query(&pairs(&[("vue", "mois"), ("date", "2026-02-30")]));
        assert_eq!((view, date, chosen), (View::Month, None, None));
        let (_, date, chosen) = parse_query(&pairs(&[("date", "2026-09-07"), ("choix", "1"), ("voir", "agenda")]));
        assert_eq!(date, Some(d(2026, 9, 7)));
        assert_eq!(chosen, Some(vec!["agenda".to_owned()]));
        let (_, _, chosen) = parse_query(&pairs(&[("choix", "1")]));
        assert_eq!(chosen, Some(vec![]), "every box unticked shows none");
    }

    #[test]
    fn days_are_the_readers() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let reunion = TimeZone::get("Indian/Reunion").unwrap();
        // 2026-09-07T00:00:00Z is 02:00 in Paris, 04:00 in La Réunion.
        assert_eq!(midnight(&paris, d(2026, 9, 7)), 1_788_739_200 - 2 * 3600);
        assert_eq!(local(&reunion, 1_788_739_200 - 3 * 3600), (d(2026, 9, 7), 1, 0));
        assert_eq!(local(&paris, 1_788_739_200 - 3 * 3600), (d(2026, 9, 6), 23, 0));
    }
}
