//! What every webmail page shows around its content and that depends on the
//! account or on the administrators: the theme and density classes on
//! `<body>` (from the account's saved preferences) and the announcement
//! banner (`ardoise admin banner set`). Loaded once per request by the
//! webmail's extractors into the visitor (and by the error pages), and
//! copied into the layout's data.

use mailstore::{Account, WebPrefs};

use crate::App;
use crate::base::session::unix_now;

/// The account- and installation-wide parts of the webmail's layout.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// Extra classes of `<body>`, each with a leading space (`" theme-sombre"`).
    pub body_class: String,
    /// The administrators' announcement, when one is set and not over.
    pub banner: Option<String>,
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

/// Reads the preferences of `account` and the banner. A failing read only
/// costs the decoration: the page is still served.
pub async fn load(app: &App, account: &Account) -> Chrome {
    let ms = &app.ms;
    let prefs = ms.preferences(account.id).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "reading web preferences failed");
        None
    });
    let banner = ms.banner(unix_now()).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "reading the banner failed");
        None
    });
    Chrome {
        body_class: prefs.as_ref().map(body_class).unwrap_or_default(),
        banner: banner.map(|b| b.text),
        quota_warn: nearly_full(account),
    }
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
        let p = WebPrefs { density: "compacte".into(), lang: "en".into(), theme: "sombre".into() };
        assert_eq!(body_class(&p), " theme-sombre densite-compacte");
        let odd = WebPrefs { theme: "\" onload=x".into(), ..WebPrefs::default() };
        assert_eq!(body_class(&odd), "", "only known words become classes");
    }
}
