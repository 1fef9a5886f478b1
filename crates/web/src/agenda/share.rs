//! « Partager mes agendas » (`/agenda/partager?agenda=…`): the shares of one
//! of the reader's own calendars, a form to share it with a colleague, an
//! établissement (UAI) or a unit with a right (free/busy, read, read and
//! write), and a button to revoke each share. Only the owner reaches it:
//! a calendar shared with the reader is not theirs to share.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use groupware::{CollectionKind, Right, ShareGrantee};
use serde::Deserialize;

use super::form::Choice;
use super::{A, calendars, enc, event_error, not_found, service};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::{Common, WebError, redirect, render};
use crate::mail::{Reader, ReaderForm};

const RIGHTS: [(&str, &str); 3] =
    [("freebusy", "ag.right.freebusy"), ("read", "ag.right.read"), ("write", "ag.right.write")];

#[derive(Debug, Default, Deserialize)]
pub struct ShareQuery {
    agenda: Option<String>,
    info: Option<String>,
}

/// One share shown with its revoke button.
pub struct ShareView {
    pub label: String,
    pub right: &'static str,
    /// `account:ID` or `unit:ID`.
    pub grantee: String,
}

#[derive(Template)]
#[template(path = "agenda/share.html")]
struct SharePage {
    c: Common,
    a: A,
    calendars: Vec<Choice>,
    segment: String,
    name: String,
    shares: Vec<ShareView>,
    rights: Vec<Choice>,
}

fn grantee_word(g: ShareGrantee) -> String {
    match g {
        ShareGrantee::Account(id) => format!("account:{id}"),
        ShareGrantee::Unit(id) => format!("unit:{id}"),
    }
}

fn parse_grantee(s: &str) -> Option<ShareGrantee> {
    let (kind, id) = s.split_once(':')?;
    let id: i64 = id.parse().ok()?;
    match kind {
        "account" => Some(ShareGrantee::Account(id)),
        "unit" => Some(ShareGrantee::Unit(id)),
        _ => None,
    }
}

/// `GET /agenda/partager?agenda=agenda`.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<ShareQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let a = A(v.lang);
    let gw = service(&app, v.lang)?;
    let own = calendars(gw, &account).await?;
    let segment = q.agenda.unwrap_or_else(|| groupware::DEFAULT_CALENDAR.to_owned());
    let Some(current) = own.iter().find(|c| c.segment == segment) else {
        return Err(not_found(v.lang));
    };
    let shares = gw
        .shares(current)
        .await
        .map_err(|e| super::internal(&e))?
        .into_iter()
        .map(|s| ShareView {
            label: s.label,
            right: a.get(&format!("ag.right.{}", s.right.as_str())),
            grantee: grantee_word(s.grantee),
        })
        .collect();
    let calendars = own
        .iter()
        .map(|c| Choice { value: c.segment.clone(), label: c.display_name.clone(), selected: c.segment == segment })
        .collect();
    let rights = RIGHTS
        .iter()
        .map(|(value, key)| Choice {
            value: (*value).to_owned(),
            label: a.get(key).to_owned(),
            selected: *value == "read",
        })
        .collect();
    let name = current.display_name.clone();
    let mut c = Common::new(&app, &mut v, "nav.agenda");
    c.title = a.get("ag.share.title").to_owned();
    c.info = match q.info.as_deref() {
        Some("partage") => Some(a.get("ag.share.done").to_owned()),
        Some("retire") => Some(a.get("ag.share.revoked").to_owned()),
        _ => None,
    };
    let page = SharePage { c, a, calendars, segment, name, shares, rights };
    Ok(render(&v, StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub agenda: String,
    /// `partager` or `retirer`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub qui: String,
    #[serde(default)]
    pub droit: String,
    #[serde(default)]
    pub partage: String,
}

has_csrf!(ShareForm);

/// `POST /agenda/partager`.
pub async fn act(
    State(app): State<Arc<App>>,
    ReaderForm { v, account, form }: ReaderForm<ShareForm>,
) -> Result<Response, WebError> {
    let a = A(v.lang);
    let gw = service(&app, v.lang)?;
    let back = format!("/agenda/partager?agenda={}", enc(&form.agenda));
    // Only the owner's own calendars: a shared one's key is not a segment of theirs.
    let c = match gw.collection(account.id, CollectionKind::Calendar, &form.agenda).await {
        Ok(c) => c,
        Err(groupware::Error::NotFound) => return Err(not_found(v.lang)),
        Err(e) => return Err(super::internal(&e)),
    };
    match form.action.as_str() {
        "partager" => {
            let Some(right) = Right::parse(&form.droit) else {
                return Err(super::refused(v.lang, a.get("ag.err.scope"), &back));
            };
            match gw.share(&c, &form.qui, right).await {
                Ok(_) => Ok(redirect(&v, &format!("{back}&info=partage"))),
                Err(groupware::Error::Invalid(why)) => {
                    Err(super::refused(v.lang, &format!("{} {why}", a.get("ag.share.refused")), &back))
                }
                Err(e) => Err(event_error(v.lang, e, &back)),
            }
        }
        "retirer" => {
            let Some(grantee) = parse_grantee(&form.partage) else { return Err(not_found(v.lang)) };
            match gw.unshare(&c, grantee).await {
                Ok(()) => Ok(redirect(&v, &format!("{back}&info=retire"))),
                Err(e) => Err(event_error(v.lang, e, &back)),
            }
        }
        _ => Err(super::refused(v.lang, a.get("ag.err.scope"), &back)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grantees_round_trip_and_junk_is_refused() {
        for g in [ShareGrantee::Account(7), ShareGrantee::Unit(12)] {
            assert_eq!(parse_grantee(&grantee_word(g)), Some(g));
        }
        for junk in ["", "account", "account:", "account:x", "group:1", "unit:1:2", ":1"] {
            assert_eq!(parse_grantee(junk), None, "{junk}");
        }
    }
}
