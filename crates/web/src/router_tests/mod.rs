//! The router, driven in process (no socket): for every route of
//! [`crate::router`], the answer to a visitor signed out, to another
//! account asking for the first one's folder, message, app password or
//! session (404, never the data), and to a POST with a wrong CSRF token
//! (403). The table in [`table`] must name every route: [`every_route_is_in_the_table`]
//! reads the router's sources, so a new route without a case fails here.

mod annuaire;
mod attached;
mod autocomplete;
mod console;
mod console_hr;
mod console_lists;
mod delegation;
mod deleted;
mod export;
mod fixture;
mod invitation;
mod list_archive;
mod moderation;
mod partage;
mod reauth;
mod sso;
mod table;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};

use fixture::{Fixture, Who};
use table::{Case, Form, cases};

/// The `(method, pattern)` pairs the router's sources declare.
fn declared_routes() -> BTreeSet<(String, String)> {
    let sources = [
        include_str!("../server.rs"),
        include_str!("../mail/mod.rs"),
        include_str!("../idp/mod.rs"),
        include_str!("../admin/mod.rs"),
        include_str!("../partage/mod.rs"),
        include_str!("../annuaire/mod.rs"),
        include_str!("../agenda/mod.rs"),
    ];
    let mut out = BTreeSet::new();
    for line in sources.iter().flat_map(|s| s.lines()) {
        let Some(rest) = line.trim().strip_prefix(".route(\"") else { continue };
        let Some((path, handlers)) = rest.split_once('"') else { continue };
        for method in ["get", "post"] {
            let called = [" ", "(", "."].iter().any(|before| handlers.contains(&format!("{before}{method}(")));
            if called {
                out.insert((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    out
}

#[test]
fn every_route_is_in_the_table() {
    let declared = declared_routes();
    assert!(declared.len() > 40, "the sources were read: {declared:?}");
    let tested: BTreeSet<(String, String)> =
        cases().iter().map(|c| (c.method.to_string(), c.pattern.to_owned())).collect();
    let missing: Vec<_> = declared.difference(&tested).collect();
    assert!(missing.is_empty(), "routes without a case in router_tests/table.rs: {missing:?}");
    let stale: Vec<_> = tested.difference(&declared).collect();
    assert!(stale.is_empty(), "cases for routes that no longer exist: {stale:?}");
}

/// `base` names neither `pages` nor `mail`; `pages` does not name `mail`.
#[test]
fn the_layers_only_look_down() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (layer, forbidden) in [
        ("base", &["crate::pages", "crate::mail", "crate::idp", "crate::admin", "crate::annuaire"][..]),
        ("pages", &["crate::mail", "crate::idp", "crate::admin", "crate::annuaire"][..]),
        ("idp", &["crate::mail", "crate::admin", "crate::annuaire"][..]),
        ("admin", &["crate::mail", "crate::idp", "crate::annuaire"][..]),
        ("annuaire", &["crate::mail", "crate::idp", "crate::admin"][..]),
    ] {
        let mut files = Vec::new();
        let mut dirs = vec![src.join(layer)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() { dirs.push(path) } else { files.push(path) }
            }
        }
        assert!(files.len() >= 3, "{layer}: its files were found");
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            for f in forbidden {
                assert!(!text.contains(f), "{} names {f}", path.display());
            }
        }
    }
}

/// Runs one case as `who`, the CSRF token right or wrong.
async fn run(fx: &Fixture, case: &Case, who: Who, right_token: bool) -> (StatusCode, String) {
    let session = fx.session(who).await;
    let path = fx.fill(case.path);
    let token = match (&session, right_token) {
        (Some(s), true) => s.csrf.clone(),
        _ => "jeton-faux".to_owned(),
    };
    let cookie = session.as_ref().map(|s| s.cookie.clone());
    let body = match &case.form {
        // A POST with no field of its own still carries its token.
        Form::None if case.method == Method::POST => Some(Form::url(&token, "")),
        Form::None => None,
        Form::Url(fields) => Some(Form::url(&token, &fx.fill(fields))),
        Form::Multipart(fields) => Some(Form::multipart(&token, fields)),
        Form::Xml(doc) => Some(("text/xml; charset=utf-8".to_owned(), doc.as_bytes().to_vec())),
        Form::Client(fields) => Some(("application/x-www-form-urlencoded".to_owned(), fx.fill(fields).into_bytes())),
    };
    fx.request(case.method.clone(), &path, cookie.as_deref(), body).await
}

#[tokio::test]
async fn every_route_answers_as_expected_signed_out_as_another_account_and_with_a_wrong_token() {
    let fx = Fixture::new().await;
    let mut wrong = Vec::new();
    for case in cases() {
        let (status, _) = run(&fx, &case, Who::Nobody, false).await;
        if status.as_u16() != case.signed_out {
            wrong.push(format!("{} {} signed out: {status}, expected {}", case.method, case.path, case.signed_out));
        }
        let (status, body) = run(&fx, &case, Who::Other, true).await;
        if status.as_u16() != case.other {
            wrong.push(format!("{} {} as B: {status}, expected {}", case.method, case.path, case.other));
        }
        for secret in fx.secrets() {
            if body.contains(secret) {
                wrong.push(format!("{} {} as B shows A's data ({secret})", case.method, case.path));
            }
        }
        // Refusals are the site's error page, in French, not a bare status.
        if status == StatusCode::NOT_FOUND
            && !case.path.ends_with(".svg")
            && !body.contains("<h1>Page introuvable</h1>")
        {
            wrong.push(format!("{} {} as B: not the error page: {body}", case.method, case.path));
        }
        // Mail clients' XML and applications' token requests carry no
        // token: nothing there acts for a browser session.
        if case.method == Method::POST && !matches!(case.form, Form::Xml(_) | Form::Client(_)) {
            for who in [Who::Owner, Who::Other] {
                let (status, body) = run(&fx, &case, who, false).await;
                if status != StatusCode::FORBIDDEN {
                    wrong.push(format!("{} {} wrong token as {who:?}: {status}, expected 403", case.method, case.path));
                }
                if !body.contains("Le formulaire a expiré") {
                    wrong.push(format!("{} {} wrong token as {who:?}: not the CSRF page", case.method, case.path));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    fx.a_still_has_everything().await;
}

/// A path no route serves: the error page, in the language the request asks for.
#[tokio::test]
async fn an_unknown_path_is_the_error_page_in_the_asked_language() {
    let fx = Fixture::new().await;
    let (status, body) = fx.request(Method::GET, "/nulle-part", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("<h1>Page introuvable</h1>"), "{body}");
    let (status, body) = fx.request(Method::GET, "/nulle-part?lang=en", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("<h1>Page not found</h1>"), "{body}");
}
