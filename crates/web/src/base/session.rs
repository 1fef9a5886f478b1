//! Who is asking: cookies, the web session, the language, the client's
//! address, and CSRF tokens.
//!
//! The session cookie holds 32 random characters; the store keeps only their
//! hash. A session has a stage (how far the login went): `totp`,
//! `change_password`, `enrol` or `full`; each step issues a new cookie and
//! deletes the old row, so an identifier planted before login (fixation) is
//! never the one that ends up logged in. CSRF tokens are a keyed BLAKE3 of
//! the session's hash (or of a pre-session cookie on the login pages), so
//! they are per session and need no storage; they are compared in constant
//! time. A session ends after `session_ttl` without use (a use moves its
//! expiry on, written at most once a minute) and `session_max_age` after the
//! login step that created it, however busy.

use std::net::IpAddr;

use axum::http::HeaderMap;
use axum::http::header;
use identity::credentials::hash::{random_token, token_hash};
use identity::{Account, WebSession};
use model::{AccountStatus, Role};
use subtle::ConstantTimeEq;

use crate::App;
use crate::base::error::WebError;
use crate::base::i18n::Lang;
use crate::base::proxy::Origin;

pub const STAGE_FULL: &str = "full";
pub const STAGE_TOTP: &str = "totp";
pub const STAGE_CHANGE: &str = "change_password";
pub const STAGE_ENROL: &str = "enrol";

/// The device cookie's name and lifetime (400 days, browsers' maximum).
const DEVICE_COOKIE: &str = "ardoise_appareil";
const DEVICE_COOKIE_AGE: i64 = 400 * 86_400;

/// The request's view of the visitor.
pub struct Visitor {
    pub lang: Lang,
    /// The client's address (behind a trusted proxy, the one it forwarded).
    pub ip: IpAddr,
    /// Reached over HTTPS (ours or a trusted proxy's): cookies are `Secure`
    /// and carry the `__Host-` prefix.
    pub https: bool,
    pub client: String,
    /// The live session and its account, whatever its stage.
    pub session: Option<(WebSession, Account)>,
    /// The pre-session cookie (login pages).
    pre: Option<String>,
    /// The device cookie: a long-lived token, signed by the identity
    /// service and bound to the account that last completed a login in this
    /// browser. It makes the browser a known device for the login throttle
    /// (issue 25, items 5 and 11); it grants nothing by itself.
    pub device: Option<String>,
    /// Where to go once the login ends: an application's sign-in request
    /// (`/oidc/authorize?…`, `/cas/login?…`) that sent the visitor to the
    /// login, from the `ardoise_suite` cookie ([`resume_target`]).
    pub resume: Option<String>,
    /// `Set-Cookie` values to send with the response.
    pub cookies: Vec<String>,
    /// The request's cookies, for the few read by one page only.
    received: Vec<(String, String)>,
    /// Theme, density and banner of the webmail's layout (set by the webmail's extractors).
    pub chrome: crate::base::chrome::Chrome,
    /// Signed in with an account that holds an administrative grant: the
    /// header links to the console (which checks the grant, and the second
    /// factor, again).
    pub admin: bool,
}

fn cookie_name(https: bool, base: &str) -> String {
    if https { format!("__Host-{base}") } else { base.to_owned() }
}

fn cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// The language saved in the `ardoise_lang` cookie.
pub(crate) fn lang_cookie(headers: &HeaderMap) -> Option<Lang> {
    cookie(&cookies(headers), "ardoise_lang").and_then(Lang::parse)
}

fn cookie<'a>(all: &'a [(String, String)], name: &str) -> Option<&'a str> {
    all.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

impl Visitor {
    /// Reads the visitor from the request. `lang_param` is the `?lang=` query.
    pub async fn read(app: &App, headers: &HeaderMap, origin: Origin, lang_param: Option<&str>) -> Visitor {
        let Origin { ip, https } = origin;
        let all = cookies(headers);
        let mut out_cookies = Vec::new();
        let lang = crate::base::extract::requested_lang(headers, lang_param);
        if lang_param.and_then(Lang::parse).is_some() {
            out_cookies.push(format!("ardoise_lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code()));
        }
        let client: String = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let mut session = None;
        if let Some(token) = cookie(&all, &cookie_name(https, "ardoise_session")).filter(|t| t.len() <= 64) {
            let hash = token_hash("session", token);
            if let Ok(Some(mut s)) = app.identity.web_session(&hash).await
                && let Ok(Some(a)) = app.identity.account(s.account_id).await
            {
                if may_use_web(&a) {
                    touch(app, &mut s, unix_now()).await;
                    session = Some((s, a));
                } else {
                    // Suspended, closed or a student since: the session ends now.
                    let _ = app.identity.delete_web_sessions(a.id, None).await;
                }
            }
        }
        // One look at the grants, for signed-in pages only (a failed read
        // only hides the link).
        let admin = match &session {
            Some((s, a)) if s.stage == STAGE_FULL => app.identity.holds_grant(a.id).await.unwrap_or(false),
            _ => false,
        };
        let pre = cookie(&all, &cookie_name(https, "ardoise_pre")).filter(|t| t.len() <= 64).map(str::to_owned);
        let device = cookie(&all, &cookie_name(https, DEVICE_COOKIE)).filter(|t| t.len() <= 128).map(str::to_owned);
        let resume = cookie(&all, &cookie_name(https, RESUME_COOKIE)).and_then(resume_target);
        Visitor {
            lang,
            ip,
            https,
            client,
            session,
            pre,
            device,
            resume,
            cookies: out_cookies,
            received: all,
            chrome: Default::default(),
            admin,
        }
    }

    /// Switches the language for this response and the next ones (cookie).
    pub fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
        self.cookies.push(format!("ardoise_lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code()));
    }

    /// The session when it reached `stage`.
    pub fn at(&self, stage: &str) -> Option<&(WebSession, Account)> {
        self.session.as_ref().filter(|(s, _)| s.stage == stage)
    }

    /// The logged-in account (full session).
    pub fn account(&self) -> Option<&Account> {
        self.at(STAGE_FULL).map(|(_, a)| a)
    }

    /// The CSRF token for forms of this page, creating a pre-session cookie
    /// when there is no session yet.
    pub fn csrf(&mut self, app: &App) -> String {
        if let Some((s, _)) = &self.session {
            return derive(app, "s", &s.token_hash);
        }
        let pre = match &self.pre {
            Some(p) => p.clone(),
            None => {
                let p = random_token(32);
                self.cookies.push(set_cookie(self.https, "ardoise_pre", &p, None));
                self.pre = Some(p.clone());
                p
            }
        };
        derive(app, "p", &pre)
    }

    /// Whether `token` is this visitor's CSRF token (constant time).
    pub fn csrf_ok(&self, app: &App, token: &str) -> bool {
        let expected = match (&self.session, &self.pre) {
            (Some((s, _)), _) => derive(app, "s", &s.token_hash),
            (None, Some(p)) => derive(app, "p", p),
            (None, None) => return false,
        };
        expected.len() == token.len() && bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    }

    /// [`Visitor::csrf_ok`] as a result: a wrong token is a 403 page.
    pub fn check_csrf(&self, app: &App, token: &str) -> Result<(), WebError> {
        if self.csrf_ok(app, token) { Ok(()) } else { Err(WebError::Csrf) }
    }

    /// Replaces any session by a new one for `account` at `stage` (a new
    /// random identifier at every step: no fixation).
    pub async fn start(&mut self, app: &App, account: &Account, stage: &str) -> Result<(), identity::StoreError> {
        if let Some((old, _)) = self.session.take() {
            app.identity.delete_web_session(old.account_id, &old.token_hash).await?;
        }
        let token = random_token(32);
        let now = unix_now();
        let s = WebSession {
            token_hash: token_hash("session", &token),
            account_id: account.id,
            stage: stage.to_owned(),
            created_at: now,
            last_seen: now,
            expires_at: expiry(app, now, now),
            ip: self.ip.to_string(),
            client: self.client.clone(),
        };
        app.identity.create_web_session(&s).await?;
        self.cookies.push(set_cookie(self.https, "ardoise_session", &token, None));
        self.session = Some((s, account.clone()));
        if stage == STAGE_FULL {
            apply_saved_lang(app, self, account).await;
            // A complete login makes this browser one of the account's devices.
            if self.device.as_deref().and_then(|d| app.identity.device_of(account.id, d)).is_none() {
                let token = app.identity.new_device_token(account.id);
                self.cookies.push(set_cookie(self.https, DEVICE_COOKIE, &token, Some(DEVICE_COOKIE_AGE)));
                self.device = Some(token);
            }
        }
        Ok(())
    }

    /// Remembers `target` (a path of [`resume_target`]'s) as where the
    /// login goes once it ends.
    pub fn set_resume(&mut self, target: &str) {
        use base64::Engine;
        if resume_target(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(target)).is_none() {
            return;
        }
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(target);
        self.cookies.push(set_cookie(self.https, RESUME_COOKIE, &value, Some(RESUME_AGE)));
        self.resume = Some(target.to_owned());
    }

    /// Where a completed login lands: the application's request that sent
    /// the visitor here (once), else the webmail.
    pub fn landing(&mut self) -> String {
        match self.resume.take() {
            Some(target) => {
                self.cookies.push(set_cookie(self.https, RESUME_COOKIE, "", Some(0)));
                target
            }
            None => "/courrier".to_owned(),
        }
    }

    /// The value of our cookie `base` (with the `__Host-` prefix over HTTPS).
    pub fn cookie_value(&self, base: &str) -> Option<String> {
        cookie(&self.received, &cookie_name(self.https, base)).filter(|v| v.len() <= 4096).map(str::to_owned)
    }

    /// Sets our cookie `base` (HttpOnly, SameSite=Lax, Secure over HTTPS).
    pub fn set_cookie(&mut self, base: &str, value: &str, max_age: Option<i64>) {
        self.cookies.push(set_cookie(self.https, base, value, max_age));
    }

    /// Ends the current session (logout).
    pub async fn end(&mut self, app: &App) -> Result<(), identity::StoreError> {
        if let Some((old, _)) = self.session.take() {
            app.identity.delete_web_session(old.account_id, &old.token_hash).await?;
        }
        self.cookies.push(set_cookie(self.https, "ardoise_session", "", Some(0)));
        Ok(())
    }
}

/// The cookie holding where a login resumes, and how long it lasts.
const RESUME_COOKIE: &str = "ardoise_suite";
const RESUME_AGE: i64 = 1800;

/// The path a resume cookie names, if it is one of ours: only the
/// single sign-on entry points, as local paths (never another site).
pub fn resume_target(cookie_value: &str) -> Option<String> {
    use base64::Engine;
    if cookie_value.len() > 6000 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cookie_value).ok()?;
    let path = String::from_utf8(bytes).ok()?;
    let ours = ["/oidc/authorize?", "/cas/login?"].iter().any(|p| path.starts_with(p));
    (ours && path.chars().all(|c| c.is_ascii_graphic())).then_some(path)
}

/// At the end of a login: the account's saved language wins over the
/// browser's (cookie and all), so the choice follows the person.
async fn apply_saved_lang(app: &App, v: &mut Visitor, account: &Account) {
    if let Ok(Some(p)) = app.ms.preferences(account.id).await
        && let Some(lang) = Lang::parse(&p.lang)
    {
        v.set_lang(lang);
    }
}

/// When a session created at `created_at` and used at `now` ends: after
/// `session_ttl` without use, and `session_max_age` after login at the latest.
fn expiry(app: &App, created_at: i64, now: i64) -> i64 {
    let idle = now.saturating_add(secs(app.cfg.session_ttl));
    idle.min(created_at.saturating_add(secs(app.cfg.session_max_age)))
}

/// Records a use of `s` at `now`, writing at most once a minute (more often
/// only for idle timeouts under four minutes): a page view costs no write.
async fn touch(app: &App, s: &mut WebSession, now: i64) {
    let every = (secs(app.cfg.session_ttl) / 4).clamp(1, 60);
    if now - s.last_seen < every {
        return;
    }
    let expires_at = expiry(app, s.created_at, now);
    // A failed write only means the session may end a little early.
    if app.identity.touch_web_session(&s.token_hash, now, expires_at).await.is_ok() {
        s.last_seen = now;
        s.expires_at = expires_at;
    }
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Whether an account's session may go on (checked on every request, so a
/// suspension takes effect at the next click).
pub(crate) fn may_use_web(a: &Account) -> bool {
    a.role != Role::Student && matches!(a.status, AccountStatus::Active | AccountStatus::Provisional)
}

pub(crate) fn derive(app: &App, kind: &str, value: &str) -> String {
    let mut h = blake3::Hasher::new_keyed(&app.cfg.secret);
    h.update(b"csrf:");
    h.update(kind.as_bytes());
    h.update(b":");
    h.update(value.as_bytes());
    h.finalize().to_hex().to_string()
}

fn set_cookie(https: bool, base: &str, value: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{}={value}; Path=/; HttpOnly; SameSite=Lax", cookie_name(https, base));
    if https {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
