//! The web foundation: the HTTP listener, sessions, CSRF, security headers,
//! compiled templates and the identity pages (login, first login, second
//! factor, "Sécurité", a home page until the webmail exists).
//!
//! Server-rendered HTML from askama templates compiled into the binary, our
//! own sober CSS in the spirit of the French State design system, French
//! first with English (`?lang=en`, a cookie, or `Accept-Language`). No inline
//! script or style anywhere, so the CSP is strict: `default-src 'self'`.
//!
//! Safety rules the pages follow:
//! - every POST carries a CSRF token derived from the session (or, before
//!   login, from a pre-session cookie) with a server key, compared in
//!   constant time ([`session`]);
//! - the session cookie is HttpOnly, SameSite=Lax, Secure when served over
//!   TLS (ours, or a trusted reverse proxy's: [`base::proxy`]); its value is random and only its hash is stored; a new one is
//!   issued at every login step, so a planted cookie is worth nothing;
//! - logins go through the identity service ([`identity::Identity::login`])
//!   with the client's real address, like every other protocol; sessions,
//!   credentials and the journal are read and written through it too.
//!
//! Adapters stop here: the web never sees SQL; domain errors become pages in
//! one place, `base::error` ([`base::WebError`]).
//!
//! Three layers, each using only those before it: `base` (sessions, CSRF,
//! the language, the extractors, the error type, rendering), `pages` (the
//! login journey, the security page, password reset, mail client setup),
//! `mail` (the webmail). `idp` (the OpenID Connect provider and CAS server
//! over the `sso` domain) sits beside `mail`, on `base` and `pages`; so
//! does `admin`, the administration console over `identity::admin`.

mod admin;
mod agenda;
mod annuaire;
mod base;
mod conn;
mod headers;
mod idp;
mod mail;
mod pages;
mod partage;
#[cfg(test)]
mod router_tests;
mod server;

use std::sync::Arc;
use std::time::Duration;

use mailstore::Mailstore;

pub use admin::ConsoleSettings;
pub use base::clock::Clock;
pub use base::proxy::TrustedProxies;
pub use conn::Limits;
pub use mail::{Outbox, SendFuture, SendRefusal, send_delayed};
pub use pages::health::healthz;
pub use pages::setup::MailSetup;
pub use server::{Peer, router, serve, serve_tls, serve_tls_with, serve_with};

/// Settings of the web service.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Shown in page titles and as the TOTP issuer.
    pub hostname: String,
    /// Served over TLS: cookies get `Secure` and the `__Host-` prefix.
    pub tls: bool,
    /// Reverse proxies whose forwarding headers are believed (`[web] trusted_proxies`).
    pub proxies: TrustedProxies,
    /// Administrators (role `admin`, `direction`) must set up TOTP.
    pub require_2fa_for_admins: bool,
    /// Every account must set up TOTP.
    pub require_2fa_for_all: bool,
    /// How long a session lives without being used (idle timeout).
    pub session_ttl: Duration,
    /// How long a session lives at most, however busy (absolute lifetime).
    pub session_max_age: Duration,
    /// Connection caps and timeouts of the listeners.
    pub limits: Limits,
    /// The server key for CSRF tokens (32 random bytes kept in the data folder).
    pub secret: [u8; 32],
    /// The key of the NUMEN hashes (for "mot de passe oublié"); without it
    /// the reset page answers but never sends anything.
    pub numen_key: Option<identity::lifecycle::NumenKey>,
    /// The address users reach the web at, for links in mails (never taken
    /// from the request's Host header).
    pub public_url: String,
    /// The time zone dates are shown in (`[web] time_zone`).
    pub clock: base::clock::Clock,
    /// What mail clients are told to connect to (autoconfig, autodiscover).
    pub mail_setup: MailSetup,
    /// How long a sent message waits, cancellable, unless the user chose
    /// otherwise (`[web] undo_send_delay`; zero sends at once).
    pub undo_send: Duration,
    /// Days a deleted message stays restorable (`[mail] undelete_days`),
    /// said on « Messages supprimés récemment ».
    pub undelete_days: u64,
    /// The installation's automatic archiving delay in days (`[mail]
    /// archive_days`, 0: never), for accounts that did not choose theirs.
    pub archive_days: u64,
    /// Where « Signaler un hameçonnage » forwards a message (`[hygiene]
    /// security_address`); `None`: no such button.
    pub security_address: Option<model::Address>,
    /// `[upstream] only`: the web login goes through the upstream identity
    /// providers alone (the password form is hidden and refused on the web;
    /// IMAP and SMTP keep the password). Ignored while none is configured.
    pub upstream_only: bool,
    /// What the console's « Politiques » shows of the configuration, and the
    /// HR files waiting for confirmation.
    pub console: admin::ConsoleSettings,
}

impl WebConfig {
    /// Defaults with a given key: 2FA required for administrators, sessions
    /// ending after 2 idle hours and at most 12 hours after login.
    pub fn new(hostname: String, secret: [u8; 32]) -> WebConfig {
        WebConfig {
            hostname: hostname.clone(),
            tls: false,
            require_2fa_for_admins: true,
            require_2fa_for_all: false,
            session_ttl: Duration::from_secs(2 * 3600),
            session_max_age: Duration::from_secs(12 * 3600),
            limits: Limits::default(),
            secret,
            numen_key: None,
            public_url: format!("https://{hostname}"),
            clock: base::clock::Clock::default(),
            mail_setup: MailSetup::default(),
            proxies: TrustedProxies::default(),
            undo_send: Duration::from_secs(10),
            undelete_days: 30,
            archive_days: 0,
            security_address: None,
            upstream_only: false,
            console: admin::ConsoleSettings::default(),
        }
    }
}

/// What every handler shares.
pub struct App {
    pub ms: Arc<Mailstore>,
    /// Logins, sessions and credentials (the password policy is its own).
    pub identity: Arc<identity::Identity>,
    pub cfg: WebConfig,
    /// The submission pipeline for the webmail's sending; without it the
    /// composer answers that sending is unavailable.
    pub outbox: Option<Arc<dyn Outbox>>,
    /// The OpenID Connect and CAS provider; without it `/oidc/` and `/cas/`
    /// answer that single sign-on is not set up.
    pub sso: Option<Arc<sso::Sso>>,
    /// The accounts' filter rules (Réglages → Filtres); without it the page
    /// answers that filters are unavailable.
    pub filters: Option<Arc<filter::Filters>>,
    /// The users' own exports (Réglages → « Exporter mes données »); without
    /// it the page says that export is unavailable.
    pub exports: Option<Arc<export::Exports>>,
    /// Large-file sharing (« Partage de fichiers », `/partage/`); without it
    /// the pages say that sharing is unavailable.
    pub sharing: Option<Arc<sharing::Sharing>>,
    /// Calendars and address books (the Agenda, « Contacts », « Ajouter à
    /// mes contacts »); without it those pages say they are unavailable.
    pub groupware: Option<Arc<groupware::Groupware>>,
    /// The MX's quarantine, for the console's « Quarantaine »; without it
    /// that page says the quarantine is unavailable.
    pub quarantine: Option<Arc<hygiene::quarantine::Quarantine>>,
    /// Distribution lists, for the console's « Listes » and the webmail's
    /// « À modérer » (the held posts of the lists the reader moderates);
    /// without it those pages say lists are unavailable.
    pub lists: Option<Arc<lists::Lists>>,
}

/// Loads the web key from `path`, creating it (mode 0600) on first start.
pub fn load_or_create_secret(path: &std::path::Path) -> std::io::Result<[u8; 32]> {
    if let Ok(bytes) = std::fs::read(path)
        && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
    {
        return Ok(key);
    }
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(&key)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(key)
}
