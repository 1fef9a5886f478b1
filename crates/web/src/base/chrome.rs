//! What every page shows around its content and that depends on the
//! account or on the administrators: the theme and density classes on
//! `<body>` (from the account's saved preferences, loaded by the webmail's
//! extractors and the error pages) and the administrators' maintenance
//! notices (`ardoise admin notice`, `ardoise admin banner`), read for every
//! visitor, signed in or not, so the login page shows them too. Copied into
//! the layout's data.

use mailstore::{Account, Severity, WebPrefs};

use crate::App;
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
