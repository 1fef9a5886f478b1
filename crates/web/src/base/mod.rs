//! The base layer of the web crate: who is asking and how answers are made,
//! below every page.
//!
//! - [`session`]: cookies, the web session and its stages, CSRF tokens;
//! - [`i18n`]: the language (French first, English) and the identity pages' texts;
//! - [`extract`]: axum extractors for the visitor, the signed-in account,
//!   the language and the CSRF-checked form (a wrong token is a 403);
//! - [`error`]: [`WebError`], the one error type of the handlers, rendered
//!   as the French error page in one place;
//! - [`page`]: the layout's data, rendering and redirects; [`chrome`]: the
//!   webmail's theme and banner; [`assets`]: our stylesheets and scripts,
//!   gzip-compressed for browsers that accept it.
//!
//! The layers: `base`, then `pages` (login, security, reset), then `mail`
//! (the webmail). Nothing here names `pages` or `mail`; a test in
//! `router_tests` reads the sources to keep it so.

pub mod assets;
pub mod chrome;
pub mod clock;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod page;
pub mod proxy;
pub mod session;

pub use error::WebError;
pub use extract::{CsrfForm, HasCsrf, Peer, SignedForm, SignedIn, TokenOnly};
pub use page::{Common, MessagePage, redirect, render};
