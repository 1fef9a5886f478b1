//! « Aide »: where things are for a signed-in user (the mail, the
//! settings, the security page, the keyboard shortcuts) and what a mail
//! client needs to connect. A page of text in the visitor's language,
//! reached from the header of every signed-in page.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::App;
use crate::base::{Common, SignedIn, render};

#[derive(Template)]
#[template(path = "help.html")]
struct HelpPage {
    c: Common,
}

/// `GET /aide`.
pub async fn help(State(app): State<Arc<App>>, SignedIn { mut v, .. }: SignedIn) -> Response {
    let c = Common::new(&app, &mut v, "nav.help");
    render(&v, StatusCode::OK, &HelpPage { c })
}
