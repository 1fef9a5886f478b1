//! The scheduling inbox and outbox as collections (RFC 6638 sections 2.1 to
//! 2.3), under the calendar home: `/dav/calendars/<address>/inbox/` holds
//! the iTIP messages scheduling delivered to the account
//! (`groupware::scheduling::inbox`: the newest ones kept), which its own
//! client reads (PROPFIND, GET, calendar-multiget, sync-collection) and
//! deletes once processed; `outbox/` takes the free/busy POST
//! (`crate::schedule`). Both are the owner's only: another account's path
//! is already a 404 before this module is reached. Nothing is written into
//! them over DAV (PUT, PROPPATCH, MKCOL: 403), and calendar-query is not
//! offered on the inbox (RFC 6638 section 2.2 leaves it to the server).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use groupware::CollectionKind;
use groupware::InboxItem;

use crate::error::DavError;
use crate::methods::{ctx, read_propfind};
use crate::path::{self, Target};
use crate::props::{Ctx, Obj, Res};
use crate::xml::write::{href, text};
use crate::xml::{CALDAV, DAV, Multistatus, PropName};
use crate::{Req, multistatus, read_xml};

/// The inbox's segment under the calendar home.
pub const INBOX: &str = "inbox";
/// The outbox's segment under the calendar home.
pub const OUTBOX: &str = crate::schedule::OUTBOX;

/// Whether a target is in (or is) the inbox or the outbox.
pub(crate) fn is_mailbox(target: &Target) -> bool {
    matches!(target,
        Target::Collection(CollectionKind::Calendar, _, s) | Target::Object(CollectionKind::Calendar, _, s, _)
            if s == INBOX || s == OUTBOX)
}

/// The inbox's sync token: its newest message and how many there are (a
/// deposit raises the first, a deletion lowers the second).
pub(crate) fn token(items: &[InboxItem]) -> String {
    format!("urn:ardoise:inbox:{}-{}", items.last().map_or(0, |i| i.id), items.len())
}

pub(crate) async fn handle(req: &Req<'_>, method: &str, body: Body) -> Result<Response, DavError> {
    let inbox = matches!(&req.target, Target::Collection(_, _, s) | Target::Object(_, _, s, _) if s == INBOX);
    match method {
        "PROPFIND" => propfind(req, inbox, body).await,
        "GET" | "HEAD" => {
            let mut resp = get(req).await?;
            if method == "HEAD" {
                *resp.body_mut() = Body::empty();
            }
            Ok(resp)
        }
        "DELETE" => delete(req).await,
        "REPORT" if inbox => report(req, body).await,
        "REPORT" => Err(DavError::forbidden(DAV, "supported-report")),
        "POST" => crate::schedule::post(req, body).await,
        "PUT" | "PROPPATCH" | "MKCOL" | "MKCALENDAR" | "COPY" | "MOVE" => {
            Err(DavError::forbidden(DAV, "need-privileges"))
        }
        _ => Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED)),
    }
}

fn domain(e: groupware::Error) -> DavError {
    DavError::Domain(e, CollectionKind::Calendar)
}

/// The inbox message a target names.
fn item_name<'a>(req: &'a Req<'_>) -> Result<&'a str, DavError> {
    match &req.target {
        Target::Object(_, _, s, name) if s == INBOX => Ok(name),
        _ => Err(DavError::not_found()),
    }
}

fn obj(i: &InboxItem) -> Obj<'_> {
    let content = (!i.content.is_empty()).then_some(i.content.as_str());
    Obj { name: &i.name, etag: &i.etag, component: "", content }
}

async fn propfind(req: &Req<'_>, inbox: bool, body: Body) -> Result<Response, DavError> {
    let (depth_one, ask) = read_propfind(req, body).await?;
    let _turn = req.dav.turn(depth_one).await;
    let ctx = ctx(req);
    let mut ms = Multistatus::new();
    let gw = &req.dav.groupware;
    match (&req.target, inbox) {
        (Target::Collection(..), false) => {
            let res = Res::Outbox;
            ms.props(&ctx.href(&res), &ask.groups(&ctx, &res));
        }
        (Target::Collection(..), true) => {
            let items = gw.inbox(req.account.id).await.map_err(domain)?;
            let token = token(&items);
            let res = Res::Inbox(&token);
            ms.props(&ctx.href(&res), &ask.groups(&ctx, &res));
            if depth_one {
                for i in &items {
                    let res = Res::InboxItem(obj(i));
                    ms.props(&ctx.href(&res), &ask.groups(&ctx, &res));
                }
            }
        }
        _ => {
            let item = gw.inbox_item(req.account.id, item_name(req)?).await.map_err(domain)?;
            let res = Res::InboxItem(obj(&item));
            ms.props(&ctx.href(&res), &ask.groups(&ctx, &res));
        }
    }
    Ok(multistatus(ms.finish(None)))
}

async fn get(req: &Req<'_>) -> Result<Response, DavError> {
    let item = req.dav.groupware.inbox_item(req.account.id, item_name(req)?).await.map_err(domain)?;
    let etag = HeaderValue::from_str(&format!("\"{}\"", item.etag)).ok();
    let mut resp = item.content.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
    if let Some(etag) = etag {
        h.insert(header::ETAG, etag);
    }
    Ok(resp)
}

async fn delete(req: &Req<'_>) -> Result<Response, DavError> {
    let Target::Object(..) = &req.target else {
        return Err(DavError::forbidden(DAV, "need-privileges"));
    };
    let name = item_name(req)?;
    let if_match = req
        .headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').next().unwrap_or("").trim())
        .filter(|v| *v != "*")
        .map(|v| v.trim_matches('"').to_owned());
    req.dav.groupware.inbox_delete(req.account.id, name, if_match.as_deref()).await.map_err(domain)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn report(req: &Req<'_>, body: Body) -> Result<Response, DavError> {
    let root = read_xml(body).await?.ok_or_else(|| DavError::BadRequest("corps vide".into()))?;
    let _turn = req.dav.turn(true).await;
    if !matches!(req.target, Target::Collection(..)) {
        return Err(DavError::forbidden(DAV, "supported-report"));
    }
    let names = crate::report::asked(&root);
    let gw = &req.dav.groupware;
    let owner = req.account.id;
    let ctx = ctx(req);
    let mut ms = Multistatus::new();
    let user = ctx.user().to_owned();
    match (root.ns.as_str(), root.name.as_str()) {
        (CALDAV, "calendar-multiget") => {
            for h in root.children_named(DAV, "href") {
                let href_text = h.text.trim();
                let found = match path::parse(href_text) {
                    Some(Target::Object(CollectionKind::Calendar, u, s, name))
                        if s == INBOX && u.eq_ignore_ascii_case(&user) =>
                    {
                        gw.inbox_item(owner, &name).await.ok()
                    }
                    _ => None,
                };
                match found {
                    Some(item) => write_item(&ctx, &mut ms, &item, &names),
                    None => ms.status(href_text, crate::xml::Status::NOT_FOUND),
                }
            }
            Ok(multistatus(ms.finish(None)))
        }
        (DAV, "sync-collection") => {
            let items = gw.inbox(owner).await.map_err(domain)?;
            let now = token(&items);
            let asked = root.child(DAV, "sync-token").map(|t| t.text.trim()).unwrap_or("");
            // Deletions are not logged: an older token is refused (RFC 6578
            // section 3.2) and the client syncs again from nothing.
            if asked == now {
                return Ok(multistatus(ms.finish(Some(&now))));
            }
            if !asked.is_empty() {
                return Err(domain(groupware::Error::InvalidSyncToken));
            }
            let wants_data = names.iter().any(|n| n.is(CALDAV, "calendar-data"));
            for i in &items {
                if wants_data {
                    if let Ok(item) = gw.inbox_item(owner, &i.name).await {
                        write_item(&ctx, &mut ms, &item, &names);
                    }
                } else {
                    write_item(&ctx, &mut ms, i, &names);
                }
            }
            Ok(multistatus(ms.finish(Some(&now))))
        }
        _ => Err(DavError::forbidden(DAV, "supported-report")),
    }
}

fn write_item(ctx: &Ctx<'_>, ms: &mut Multistatus, item: &InboxItem, names: &[PropName]) {
    let res = Res::InboxItem(obj(item));
    ms.props(&ctx.href(&res), &crate::props::render(ctx, &res, names));
}

/// The properties of the inbox, the outbox and the inbox's messages
/// (`None`: `res` is none of them; `Some(None)`: no such property).
pub(crate) fn value(ctx: &Ctx<'_>, res: &Res<'_>, name: &PropName) -> Option<Option<String>> {
    if !matches!(res, Res::Inbox(_) | Res::Outbox | Res::InboxItem(_)) {
        return None;
    }
    let principal = || href(&path::principal(ctx.user()));
    let v = match (name.ns.as_str(), name.name.as_str(), res) {
        (DAV, "resourcetype", Res::Inbox(_)) => Some("<d:collection/><c:schedule-inbox/>".into()),
        (DAV, "resourcetype", Res::Outbox) => Some("<d:collection/><c:schedule-outbox/>".into()),
        (DAV, "resourcetype", _) => Some(String::new()),
        (DAV, "displayname", Res::Inbox(_)) => Some(text("Invitations reçues")),
        (DAV, "displayname", Res::Outbox) => Some(text("Invitations envoyées")),
        (DAV, "current-user-principal" | "owner", _) => Some(principal()),
        (DAV, "current-user-privilege-set", _) => Some(privileges(res)),
        (DAV, "supported-report-set", Res::Inbox(_)) => Some(
            ["c:calendar-multiget", "d:sync-collection"]
                .iter()
                .map(|r| format!("<d:supported-report><d:report><{r}/></d:report></d:supported-report>"))
                .collect(),
        ),
        (DAV, "supported-report-set", Res::Outbox) => Some(String::new()),
        (DAV, "sync-token", Res::Inbox(token)) => Some(text(token)),
        (crate::xml::CS, "getctag", Res::Inbox(token)) => Some(text(token)),
        (CALDAV, "schedule-default-calendar-URL", Res::Inbox(_)) => {
            Some(href(&path::collection(CollectionKind::Calendar, ctx.user(), groupware::DEFAULT_CALENDAR)))
        }
        (CALDAV, "supported-calendar-component-set", Res::Inbox(_) | Res::Outbox) => {
            Some("<c:comp name=\"VEVENT\"/><c:comp name=\"VTODO\"/><c:comp name=\"VFREEBUSY\"/>".into())
        }
        (DAV, "getetag", Res::InboxItem(o)) => Some(text(&format!("\"{}\"", o.etag))),
        (DAV, "getcontenttype", Res::InboxItem(_)) => Some("text/calendar; charset=utf-8".into()),
        (CALDAV, "calendar-data", Res::InboxItem(o)) => o.content.map(text),
        _ => None,
    };
    Some(v)
}

/// RFC 6638 section 6: the owner delivers to and reads and empties their
/// inbox, and sends from their outbox.
fn privileges(res: &Res<'_>) -> String {
    let (dav, caldav): (&[&str], &[&str]) = match res {
        Res::Inbox(_) => (
            &["read", "unbind", "read-current-user-privilege-set"],
            &["schedule-deliver", "schedule-deliver-invite", "schedule-deliver-reply", "schedule-query-freebusy"],
        ),
        Res::Outbox => (
            &["read", "read-current-user-privilege-set"],
            &["schedule-send", "schedule-send-invite", "schedule-send-reply", "schedule-send-freebusy"],
        ),
        _ => (&["read", "read-current-user-privilege-set"], &[]),
    };
    let dav = dav.iter().map(|p| format!("<d:privilege><d:{p}/></d:privilege>"));
    let caldav = caldav.iter().map(|p| format!("<d:privilege><c:{p}/></d:privilege>"));
    dav.chain(caldav).collect()
}
