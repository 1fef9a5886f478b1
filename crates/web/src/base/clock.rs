//! Dates and times as the reader reads them: in the reader's own time zone
//! (Réglages → Lecture, [`ZONES`]) or else the installation's (`[web]
//! time_zone`, Europe/Paris by default; an overseas académie sets its own),
//! relative where that helps (« hier 10:00 »), exact on hover. The IANA
//! database is bundled (jiff), so a server whose tzdata is old or missing
//! shows the same times.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use super::i18n::Lang;

/// The time zone every page's dates are shown in.
#[derive(Clone)]
pub struct Clock {
    zone: TimeZone,
    name: String,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.name)
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new(DEFAULT_ZONE).unwrap_or(Clock { zone: TimeZone::UTC, name: "UTC".into() })
    }
}

/// The zone of metropolitan France.
pub const DEFAULT_ZONE: &str = "Europe/Paris";

/// The zones a reader may choose: metropolitan France, the overseas
/// académies' and vice-rectorats', and UTC. (IANA name, French, English.)
pub const ZONES: &[(&str, &str, &str)] = &[
    ("Europe/Paris", "France métropolitaine (Paris)", "Metropolitan France (Paris)"),
    ("America/Guadeloupe", "Guadeloupe", "Guadeloupe"),
    ("America/Martinique", "Martinique", "Martinique"),
    ("America/Cayenne", "Guyane (Cayenne)", "French Guiana (Cayenne)"),
    ("Indian/Reunion", "La Réunion", "Réunion"),
    ("Indian/Mayotte", "Mayotte", "Mayotte"),
    ("America/Miquelon", "Saint-Pierre-et-Miquelon", "Saint Pierre and Miquelon"),
    ("Pacific/Noumea", "Nouvelle-Calédonie (Nouméa)", "New Caledonia (Nouméa)"),
    ("Pacific/Tahiti", "Polynésie française (Tahiti)", "French Polynesia (Tahiti)"),
    ("Pacific/Wallis", "Wallis-et-Futuna", "Wallis and Futuna"),
    ("UTC", "Temps universel (UTC)", "Coordinated Universal Time (UTC)"),
];

impl Clock {
    /// The clock of an IANA zone name (`Europe/Paris`, `America/Martinique`,
    /// `Indian/Reunion`, `Pacific/Noumea`...); `Err` names what is wrong.
    pub fn new(name: &str) -> Result<Clock, String> {
        let zone =
            TimeZone::get(name.trim()).map_err(|_| format!("fuseau horaire inconnu / unknown time zone: {name}"))?;
        Ok(Clock { zone, name: name.trim().to_owned() })
    }

    /// The zone itself (the Agenda computes its days in it).
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The IANA name of the zone.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn at(&self, unix: i64) -> Option<Zoned> {
        Some(Timestamp::from_second(unix).ok()?.to_zoned(self.zone.clone()))
    }

    /// `23/11/2026 17:40`, in the zone.
    pub fn full(&self, unix: i64) -> String {
        self.at(unix).map(|t| t.strftime("%d/%m/%Y %H:%M").to_string()).unwrap_or_default()
    }

    /// `23/11/2026 17:40:05 (UTC+01:00)`: what a hover shows.
    pub fn exact(&self, unix: i64) -> String {
        self.at(unix).map(|t| t.strftime("%d/%m/%Y %H:%M:%S (UTC%:z)").to_string()).unwrap_or_default()
    }

    /// A message's date as its reader shows it: « aujourd'hui 10:00 »,
    /// « hier 10:00 », else the day and the time (`full`).
    pub fn relative(&self, unix: i64, now: i64, lang: Lang) -> String {
        let (Some(t), Some(today)) = (self.at(unix), self.at(now)) else { return String::new() };
        let en = lang == Lang::En;
        if t.date() == today.date() {
            format!("{} {}", if en { "today" } else { "aujourd'hui" }, t.strftime("%H:%M"))
        } else if today.yesterday().is_ok_and(|y| y.date() == t.date()) {
            format!("{} {}", if en { "yesterday" } else { "hier" }, t.strftime("%H:%M"))
        } else {
            self.full(unix)
        }
    }

    /// A date in a list: the time today, « hier 10:00 » yesterday, the day
    /// before that.
    pub fn short(&self, unix: i64, now: i64, lang: Lang) -> String {
        let (Some(t), Some(now)) = (self.at(unix), self.at(now)) else { return String::new() };
        if t.date() == now.date() {
            t.strftime("%H:%M").to_string()
        } else if now.yesterday().is_ok_and(|y| y.date() == t.date()) {
            let word = if lang == Lang::En { "yesterday" } else { "hier" };
            format!("{word} {}", t.strftime("%H:%M"))
        } else {
            t.strftime("%d/%m/%Y").to_string()
        }
    }

    /// A wall-clock time of the IANA zone `tzid` (or of a Windows zone name,
    /// as Outlook writes them) as unix seconds; None when the zone is unknown.
    pub fn wall_time_in(tzid: &str, y: i16, m: i8, d: i8, hour: i8, minute: i8) -> Option<i64> {
        let zone = zone_named(tzid)?;
        let dt = DateTime::new(y, m, d, hour, minute, 0, 0).ok()?;
        Some(dt.to_zoned(zone).ok()?.timestamp().as_second())
    }

    /// The first second of a day in this zone, the day given as the unix
    /// time of its midnight in UTC (how search operators read dates): what
    /// « avant:23/11/2026 » means to a reader in La Réunion is 23/11 00:00
    /// there, 22/11 20:00 UTC.
    pub fn day_start(&self, utc_midnight: i64) -> i64 {
        let Ok(t) = Timestamp::from_second(utc_midnight) else { return utc_midnight };
        let date = t.to_zoned(TimeZone::UTC).date();
        date.to_zoned(self.zone.clone()).map(|z| z.timestamp().as_second()).unwrap_or(utc_midnight)
    }

    /// Whether `tzid` names the same zone as this clock's (so that naming it is useless).
    pub fn is_zone(&self, tzid: &str) -> bool {
        zone_named(tzid).and_then(|z| z.iana_name().map(str::to_owned)).as_deref() == self.zone.iana_name()
    }
}

/// A zone by IANA name, or by one of the Windows names Outlook puts in
/// invitations for the zones of France and its neighbours.
fn zone_named(tzid: &str) -> Option<TimeZone> {
    let tzid = tzid.trim().trim_matches('"');
    if let Ok(z) = TimeZone::get(tzid) {
        return Some(z);
    }
    let iana = match tzid {
        "Romance Standard Time" => "Europe/Paris",
        "W. Europe Standard Time" => "Europe/Berlin",
        "GMT Standard Time" => "Europe/London",
        "UTC" | "Coordinated Universal Time" => "UTC",
        "SA Western Standard Time" => "America/Martinique",
        "SA Eastern Standard Time" => "America/Cayenne",
        "Mauritius Standard Time" => "Indian/Reunion",
        "E. Africa Standard Time" => "Indian/Mayotte",
        "Central Pacific Standard Time" => "Pacific/Noumea",
        "Hawaiian Standard Time" => "Pacific/Tahiti",
        _ => return None,
    };
    TimeZone::get(iana).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_time_in_winter_and_summer() {
        let c = Clock::default();
        // 2026-12-01T09:00:00Z is 10:00 in Paris (UTC+1), 2026-07-01T08:00:00Z is 10:00 too (UTC+2).
        assert_eq!(c.full(1_796_115_600), "01/12/2026 10:00");
        assert_eq!(c.full(1_782_892_800), "01/07/2026 10:00");
        assert_eq!(c.exact(1_796_115_600), "01/12/2026 10:00:00 (UTC+01:00)");
        let martinique = Clock::new("America/Martinique").unwrap();
        assert_eq!(martinique.full(1_796_115_600), "01/12/2026 05:00");
        assert!(Clock::new("Europe/Atlantide").is_err());
    }

    #[test]
    fn lists_say_today_yesterday_or_the_day() {
        let c = Clock::default();
        let now = 1_796_115_600; // 01/12/2026 10:00 in Paris
        assert_eq!(c.short(now - 3600, now, Lang::Fr), "09:00");
        // 30/11 23:30 Paris is still 30/11 22:30 UTC: yesterday in Paris.
        assert_eq!(c.short(now - 37_800, now, Lang::Fr), "hier 23:30");
        assert_eq!(c.short(now - 37_800, now, Lang::En), "yesterday 23:30");
        // 00:30 on 01/12 in Paris is 30/11 in UTC, but today here.
        assert_eq!(c.short(now - 34_200, now, Lang::Fr), "00:30");
        assert_eq!(c.short(now - 3 * 86_400, now, Lang::Fr), "28/11/2026");
    }

    #[test]
    fn readers_say_today_and_yesterday() {
        let reunion = Clock::new("Indian/Reunion").unwrap();
        let now = 1_796_115_600; // 01/12/2026 13:00 in La Réunion
        assert_eq!(reunion.relative(now - 3 * 3600, now, Lang::Fr), "aujourd'hui 10:00");
        assert_eq!(reunion.relative(now - 3 * 3600, now, Lang::En), "today 10:00");
        // 30/11 21:00 UTC is already 01/12 01:00 there: today; 30/11 19:00 UTC is yesterday 23:00.
        assert_eq!(reunion.relative(now - 12 * 3600, now, Lang::Fr), "aujourd'hui 01:00");
        assert_eq!(reunion.relative(now - 14 * 3600, now, Lang::Fr), "hier 23:00");
        assert_eq!(reunion.relative(now - 3 * 86_400, now, Lang::Fr), "28/11/2026 13:00");
    }

    #[test]
    fn every_offered_zone_is_known_and_days_start_in_the_zone() {
        for (name, _, _) in ZONES {
            assert_eq!(Clock::new(name).unwrap().name(), *name);
        }
        let day = 1_795_392_000; // 2026-11-23T00:00:00Z
        assert_eq!(Clock::new("UTC").unwrap().day_start(day), day);
        assert_eq!(Clock::default().day_start(day), day - 3600, "Paris is UTC+1 in November");
        assert_eq!(Clock::new("Indian/Reunion").unwrap().day_start(day), day - 4 * 3600);
        assert_eq!(Clock::new("Pacific/Tahiti").unwrap().day_start(day), day + 10 * 3600);
        // 10:00 +0100 is 13:00 in La Réunion.
        assert_eq!(Clock::new("Indian/Reunion").unwrap().full(1_796_115_600), "01/12/2026 13:00");
    }

    #[test]
    fn invitation_zones_by_iana_and_windows_names() {
        let paris = Clock::wall_time_in("Europe/Paris", 2026, 12, 8, 17, 0).unwrap();
        assert_eq!(Clock::default().full(paris), "08/12/2026 17:00");
        assert_eq!(Clock::wall_time_in("Romance Standard Time", 2026, 12, 8, 17, 0), Some(paris));
        assert_eq!(Clock::wall_time_in("Mars/Olympus", 2026, 12, 8, 17, 0), None);
        assert!(Clock::default().is_zone("Romance Standard Time") && !Clock::default().is_zone("Indian/Reunion"));
    }
}
