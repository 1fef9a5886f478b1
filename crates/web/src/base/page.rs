//! What every page shares: the layout's data ([`Common`]), rendering a
//! template with the visitor's cookies, redirects, and the page with one
//! sentence and a link ([`MessagePage`]).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::App;
use crate::base::chrome::Chrome;
use crate::base::i18n::Tr;
use crate::base::session::Visitor;

/// What the layout shows on every page.
pub struct Common {
    pub t: Tr,
    pub title: String,
    pub csrf: String,
    pub user: Option<String>,
    /// The header's « Administration » link (an account holding a grant).
    pub admin: bool,
    pub error: Option<String>,
    pub info: Option<String>,
    pub host: String,
    /// The webmail's theme, density and banner (empty elsewhere).
    pub chrome: Chrome,
}

impl Common {
    pub fn new(app: &App, v: &mut Visitor, title_key: &str) -> Common {
        let t = Tr(v.lang);
        Common {
            t,
            title: t.get(title_key).to_owned(),
            csrf: v.csrf(app),
            user: v.account().map(|a| a.display_name.clone()),
            admin: v.admin && v.account().is_some(),
            error: None,
            info: None,
            host: app.cfg.hostname.clone(),
            chrome: v.chrome.clone(),
        }
    }
}

/// The `?lang=` query every page accepts.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

/// Renders a template with the visitor's cookies. During an application's
/// sign-in (the visitor's `resume`), the page's forms may end at that
/// application ([`crate::headers::FormTarget`]).
pub fn render(v: &Visitor, status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut resp = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
            if let Some(target) = v.resume.as_deref().and_then(application_of) {
                resp.extensions_mut().insert(crate::headers::FormTarget(target));
            }
            with_cookies(v, resp)
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne / internal error").into_response()
        }
    }
}

/// Where an application's sign-in request (`/oidc/authorize?…`,
/// `/cas/login?…`) sends the visitor back: its `redirect_uri` or `service`.
fn application_of(resume: &str) -> Option<String> {
    let query = resume.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        matches!(k, "redirect_uri" | "service").then(|| model::percent::decode(&v.replace('+', " ")))?
    })
}

/// A 303 to `to` with the visitor's cookies.
pub fn redirect(v: &Visitor, to: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(loc) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    with_cookies(v, resp)
}

fn with_cookies(v: &Visitor, mut resp: Response) -> Response {
    for c in &v.cookies {
        if let Ok(value) = HeaderValue::from_str(c) {
            resp.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    resp
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub c: Common,
    pub heading: String,
    pub text: String,
    pub link: String,
    pub link_text: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_application_of_a_sign_in_request() {
        let a = super::application_of;
        assert_eq!(
            a("/oidc/authorize?client_id=x&redirect_uri=https%3A%2F%2Fent.fr%2Fcb&state=s").as_deref(),
            Some("https://ent.fr/cb")
        );
        assert_eq!(
            a("/cas/login?service=http%3A%2F%2Flocalhost%3A9%2Fent%2F").as_deref(),
            Some("http://localhost:9/ent/")
        );
        assert_eq!(a("/oidc/authorize?client_id=x"), None);
    }
}
