//! What every page shows around its content and that depends on the
//! account or on the administrators: the theme and density classes on
//! `<body>` (from the account's saved preferences, loaded by the webmail's
//! extractors and the error pages), the reader's clock, reading pane and
//! notification choice (Réglages → Lecture) and the administrators' maintenance
//! notices (`ardoise admin notice`, `ardoise admin banner`), read for every
//! visitor, signed in or not, so the login page shows them too; and for a
//! list moderator, how many posts wait (the sidebar's « À modérer »). Copied
//! into the layout's data.

use mailstore::{Account, ReadingPrefs, Severity, WebPrefs};

use crate::App;
use crate::base::clock::Clock;
use crate::base::i18n::Lang;
use crate::base::session::unix_now;

/// A notice as the layout shows it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub text: String,
    /// `info`, `maintenance` or `incident`: the notice's class.
    pub severity: &'static str,
}

/// The account- and installation-wide parts of the webmail's layout.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// Extra classes of `<body>`, each with a leading space (`" theme-sombre"`).
    pub body_class: String,
    /// The administrators' notices showing now, the most severe first.
    pub notices: Vec<Shown>,
    /// The account's storage is more than 90 % full.
    pub quota_warn: bool,
    /// The zone the reader reads dates in.
    pub clock: Clock,
    /// Where the selected message shows beside the list on a wide screen.
    pub pane: Pane,
    /// Which new messages the browser announces (`non`, `tous`, `prioritaires`).
    pub notify: &'static str,
    /// The account moderates a list now (the sidebar's « Listes · À modérer »).
    pub moderator: bool,
    /// The posts waiting on the lists it moderates.
    pub held: i64,
}

/// The reading pane's place (Réglages → Lecture).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    /// The list alone; a message opens in its own page.
    #[default]
    None,
    /// The message to the right of the list.
    Right,
    /// The message under the list.
    Below,
}

impl Pane {
    /// The stored word.
    pub fn word(self) -> &'static str {
        match self {
            Pane::None => "aucun",
            Pane::Right => "droite",
            Pane::Below => "dessous",
        }
    }

    /// The place a stored word names (the default for anything else).
    pub fn parse(word: &str) -> Pane {
        match word {
            "droite" => Pane::Right,
            "dessous" => Pane::Below,
            _ => Pane::None,
        }
    }
}

/// The notification choices, as stored.
pub const NOTIFY: [&str; 3] = ["non", "tous", "prioritaires"];

/// The reader's clock: their chosen zone, else the installation's.
pub fn clock_of(app: &App, prefs: &ReadingPrefs) -> Clock {
    prefs.time_zone.as_deref().and_then(|z| Clock::new(z).ok()).unwrap_or_else(|| app.cfg.clock.clone())
}

/// The clock of `account` alone (pages outside the webmail's extractors).
pub async fn clock(app: &App, account: &Account) -> Clock {
    match app.ms.reading_preferences(account.id).await {
        Ok(p) => clock_of(app, &p),
        Err(e) => {
            tracing::warn!(error = %e, "reading the reading preferences failed");
            app.cfg.clock.clone()
        }
    }
}

/// The classes of `<body>` for saved preferences.
pub fn body_class(p: &WebPrefs) -> String {
    let mut c = String::new();
    if p.theme == "sombre" {
        c.push_str(" theme-sombre");
    }
    if p.density == "compacte" {
        c.push_str(" densite-compacte");
    }
    c
}

/// Adds what depends on `account` (preferences, quota) to `chrome`. A
/// failing read only costs the decoration: the page is still served.
pub async fn load(app: &App, account: &Account, chrome: &mut Chrome) {
    let prefs = app.ms.preferences(account.id).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "reading web preferences failed");
        None
    });
    chrome.body_class = prefs.as_ref().map(body_class).unwrap_or_default();
    chrome.quota_warn = nearly_full(account);
    let reading = app.ms.reading_preferences(account.id).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "reading the reading preferences failed");
        ReadingPrefs::default()
    });
    chrome.clock = clock_of(app, &reading);
    chrome.pane = Pane::parse(reading.reading_pane.as_deref().unwrap_or(""));
    chrome.notify = NOTIFY.into_iter().find(|w| reading.notify.as_deref() == Some(*w)).unwrap_or("non");
    if let Some(lists) = &app.lists {
        let waiting = lists.waiting_for(account.id).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "counting the posts to moderate failed");
            None
        });
        chrome.moderator = waiting.is_some();
        chrome.held = waiting.unwrap_or(0);
    }
}

/// The notices showing now, in `lang` (French when a notice has no English).
pub async fn notices(app: &App, lang: Lang) -> Vec<Shown> {
    let notices = app.ms.notices(unix_now()).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "reading the notices failed");
        Vec::new()
    });
    let code = if lang == Lang::En { "en" } else { "fr" };
    notices
        .iter()
        .map(|n| Shown {
            text: n.text(code).to_owned(),
            severity: match n.severity {
                Severity::Info => "info",
                Severity::Maintenance => "maintenance",
                Severity::Incident => "incident",
            },
        })
        .collect()
}

/// Whether the account uses more than 90 % of a set quota.
pub fn nearly_full(account: &Account) -> bool {
    account.quota_bytes.filter(|q| *q > 0).is_some_and(|l| account.used_bytes.saturating_mul(10) > l.saturating_mul(9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_saved_choices() {
        assert_eq!(body_class(&WebPrefs::default()), "");
        let p = WebPrefs { density: "compacte".into(), lang: "en".into(), theme: "sombre".into(), undo_send: None };
        assert_eq!(body_class(&p), " theme-sombre densite-compacte");
        let odd = WebPrefs { theme: "\" onload=x".into(), ..WebPrefs::default() };
        assert_eq!(body_class(&odd), "", "only known words become classes");
    }
}
