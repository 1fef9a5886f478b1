//! The académie directory as a read-only CardDAV address book,
//! `/dav/addressbooks/<address>/annuaire/`, over `identity::directory`
//! (the same source as the web's Annuaire page and the composer's
//! autocomplete). Its cards are written on the fly (`compte-<id>.vcf`,
//! `liste-<id>.vcf`); nothing is stored.
//!
//! PROPFIND (Depth 0 or 1), GET/HEAD, REPORT addressbook-query (at most
//! [`QUERY_LIMIT`] answers, a 507 on the collection when there were more),
//! addressbook-multiget and sync-collection (RFC 6578). Every write is
//! refused with `DAV:need-privileges`. A Depth 1 PROPFIND lists the whole
//! académie (47,000 people in the largest): the body is streamed, [`PAGE`]
//! people read and written at a time, so memory stays bounded whatever the
//! size.
//!
//! Sync: the book's `sync-token` (and `CS:getctag`) is
//! `urn:ardoise:annuaire:<scope>-<counter>`, the reader's scope (`a<id>` for
//! an académie, `d<domain>` for the unplaced) and the counter of the store's
//! directory change feed (`store::annuaire_sync`, written by triggers in the
//! transaction of every change to an account, list or unit). An empty token
//! streams every card like the Depth 1 PROPFIND; a token answers the cards
//! changed since (200 with their properties) and those the reader no longer
//! sees (404), at most [`SYNC_LIMIT`] changes (or the client's
//! `DAV:limit`) a time, a 507 on the collection saying that more follow the
//! token given. A token of another scope, malformed, from the future or
//! older than the feed keeps (30 days) is a 403 `DAV:valid-sync-token`: the
//! client reads the book again. Only `DAV:sync-level` 1; a limit on the
//! first (full) sync is refused with 507 `DAV:number-of-matches-within-limits`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use groupware::CollectionKind;
use identity::directory::{self, Entry, Key, vcard};
use identity::{Account, Identity};
use model::{ErrorKind, Transience};

use crate::error::DavError;
use crate::methods::{Ask, read_propfind};
use crate::path::{self, Target};
use crate::props::{Ctx, Obj, Res};
use crate::report::{card_matches, check_card_filter};
use crate::xml::{CARDDAV, DAV, Element, Multistatus, Status};
use crate::{Req, multistatus, read_xml};

/// The directory's segment in every account's address book home.
pub const SEGMENT: &str = "annuaire";
/// Most cards an addressbook-query answers.
pub const QUERY_LIMIT: usize = 200;
/// Most changes one incremental sync-collection answers.
pub const SYNC_LIMIT: usize = if cfg!(test) { 3 } else { 1000 };
/// The prefix of the directory's sync tokens.
const TOKEN_PREFIX: &str = "urn:ardoise:annuaire:";
/// People read (and written out) per step of a full listing.
pub const PAGE: usize = if cfg!(test) { 4 } else { 500 };

/// Whether a path is the directory or one of its cards.
pub(crate) fn is_directory(target: &Target) -> bool {
    matches!(target,
        Target::Collection(CollectionKind::AddressBook, _, s) | Target::Object(CollectionKind::AddressBook, _, s, _)
            if s == SEGMENT)
}

/// Every method on the directory.
pub(crate) async fn handle(req: &Req<'_>, method: &str, body: Body) -> Result<Response, DavError> {
    match method {
        "PROPFIND" => propfind(req, body).await,
        "GET" => get(req).await,
        "HEAD" => get(req).await.map(|mut r| {
            *r.body_mut() = Body::empty();
            r
        }),
        "REPORT" => report(req, body).await,
        "PUT" | "DELETE" | "PROPPATCH" | "MKCOL" | "MKCALENDAR" => Err(DavError::forbidden(DAV, "need-privileges")),
        _ => Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED)),
    }
}

/// A store failure: 503 when it may pass, else 500; never its text.
fn failed(e: identity::StoreError) -> DavError {
    tracing::warn!(error = %e, "dav: directory read failed");
    DavError::Status(match e.transience() {
        Transience::Temporary => StatusCode::SERVICE_UNAVAILABLE,
        Transience::Permanent => StatusCode::INTERNAL_SERVER_ERROR,
    })
}

/// A card's name in the collection.
fn name_of(entry: &Entry) -> String {
    format!("{}.vcf", entry.key)
}

/// The card named `name`, if `req`'s account may see it.
async fn entry(req: &Req<'_>, name: &str) -> Result<Entry, DavError> {
    let key = directory::parse_key(name).filter(|_| name.ends_with(".vcf")).ok_or_else(DavError::not_found)?;
    let found = req.dav.identity.directory_entries(req.account, &[key]).await.map_err(failed)?;
    found.into_iter().next().ok_or_else(DavError::not_found)
}

/// The book's sync token for `point`.
fn token_of(point: &directory::SyncPoint) -> String {
    format!("{TOKEN_PREFIX}{}-{}", point.scope, point.counter)
}

/// The point a token names, if it is one of the directory's.
fn parse_token(token: &str) -> Option<directory::SyncPoint> {
    let (scope, counter) = token.strip_prefix(TOKEN_PREFIX)?.rsplit_once('-')?;
    let counter: i64 = counter.parse().ok().filter(|c| *c >= 0 && !counter.starts_with('+'))?;
    (!scope.is_empty()).then(|| directory::SyncPoint { scope: scope.to_owned(), counter })
}

/// The directory's current sync token for `req`'s account.
pub(crate) async fn sync_token(req: &Req<'_>) -> Result<String, DavError> {
    Ok(token_of(&req.dav.identity.directory_sync(req.account).await.map_err(failed)?))
}

fn ctx<'a>(req: &'a Req<'_>) -> Ctx<'a> {
    crate::methods::ctx(req)
}

/// The properties of one card, its text made here.
fn write_card(ms: &mut Multistatus, ctx: &Ctx<'_>, ask: &Ask, entry: &Entry) {
    let name = name_of(entry);
    let text = vcard::card(entry);
    let etag = groupware::etag_of(&text);
    let res = Res::Card(Obj { name: &name, etag: &etag, component: "VCARD", content: Some(&text) });
    ms.props(&ctx.href(&res), &ask.groups(ctx, &res));
}

async fn propfind(req: &Req<'_>, body: Body) -> Result<Response, DavError> {
    let (depth_one, ask) = read_propfind(req, body).await?;
    let _turn = req.dav.turn(depth_one).await;
    let ctx = ctx(req);
    let mut ms = Multistatus::new();
    match &req.target {
        Target::Object(.., name) => {
            let e = entry(req, name).await?;
            write_card(&mut ms, &ctx, &ask, &e);
            Ok(multistatus(ms.finish(None)))
        }
        _ => {
            let token = sync_token(req).await?;
            let dir = Res::Directory(Some(&token));
            ms.props(&ctx.href(&dir), &ask.groups(&ctx, &dir));
            if !depth_one {
                return Ok(multistatus(ms.finish(None)));
            }
            full_listing(req, ms, ask, None).await
        }
    }
}

/// Every card of `req`'s directory after what `ms` holds already, streamed:
/// the lists, then the people page by page; `token` ends the body.
async fn full_listing(
    req: &Req<'_>,
    mut ms: Multistatus,
    ask: Ask,
    token: Option<String>,
) -> Result<Response, DavError> {
    let ctx = ctx(req);
    for l in req.dav.identity.directory_lists(req.account).await.map_err(failed)? {
        write_card(&mut ms, &ctx, &ask, &l);
    }
    let head = ms.take();
    let listing = Listing {
        identity: Arc::clone(&req.dav.identity),
        account: req.account.clone(),
        ask,
        max_object_bytes: ctx.max_object_bytes,
        after: 0,
        done: false,
        token,
    };
    Ok(stream(head, listing))
}

/// The state of a streamed listing: the next page starts after `after`.
struct Listing {
    identity: Arc<Identity>,
    account: Account,
    ask: Ask,
    max_object_bytes: usize,
    after: i64,
    done: bool,
    /// The sync token that closes the body (sync-collection).
    token: Option<String>,
}

impl Listing {
    /// The next chunk of the body, `None` at the end.
    async fn next(&mut self) -> Option<Result<String, std::io::Error>> {
        if self.done {
            return None;
        }
        let page = match self.identity.directory_page(&self.account, self.after, PAGE).await {
            Ok(page) => page,
            Err(e) => {
                // The status is sent already: cut the body short, which the client sees as an error.
                tracing::warn!(error = %e, "dav: directory listing failed");
                self.done = true;
                return Some(Err(std::io::Error::other("directory listing failed")));
            }
        };
        let ctx = Ctx {
            account: &self.account,
            user: self.account.address.to_string(),
            max_object_bytes: self.max_object_bytes,
            read_only: Vec::new(),
        };
        let mut ms = Multistatus::new();
        let _ = ms.take();
        for e in &page {
            write_card(&mut ms, &ctx, &self.ask, e);
        }
        match page.last().and_then(|e| directory::parse_key(&e.key)) {
            Some(Key::Account(id)) if page.len() == PAGE => {
                self.after = id;
                Some(Ok(ms.take()))
            }
            _ => {
                self.done = true;
                Some(Ok(ms.finish(self.token.as_deref())))
            }
        }
    }
}

/// A 207 whose body is `head` then the listing's pages.
fn stream(head: String, listing: Listing) -> Response {
    let first = futures_util::stream::once(async move { Ok::<String, std::io::Error>(head) });
    let rest = futures_util::stream::unfold(listing, |mut l| async move { l.next().await.map(|chunk| (chunk, l)) });
    let body = Body::from_stream(futures_util::StreamExt::chain(first, rest));
    let mut resp = (StatusCode::MULTI_STATUS, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"));
    resp
}

async fn get(req: &Req<'_>) -> Result<Response, DavError> {
    let Target::Object(.., name) = &req.target else {
        return Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED));
    };
    let text = vcard::card(&entry(req, name).await?);
    let etag = groupware::etag_of(&text);
    let mut resp = text.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/vcard; charset=utf-8"));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        h.insert(header::ETAG, etag);
    }
    Ok(resp)
}

async fn report(req: &Req<'_>, body: Body) -> Result<Response, DavError> {
    let root = read_xml(body).await?.ok_or_else(|| DavError::BadRequest("corps vide".into()))?;
    let _turn = req.dav.turn(true).await;
    if !matches!(req.target, Target::Collection(..)) {
        return Err(DavError::forbidden(DAV, "supported-report"));
    }
    let names = crate::report::asked(&root);
    let ask = Ask::Names(names);
    let ctx = ctx(req);
    let mut ms = Multistatus::new();
    let identity = &req.dav.identity;
    match (root.ns.as_str(), root.name.as_str()) {
        (CARDDAV, "addressbook-query") => {
            let filter = root.child(CARDDAV, "filter");
            if let Some(filter) = filter {
                check_card_filter(filter)?;
            }
            let asked = root
                .child(CARDDAV, "limit")
                .and_then(|l| l.child(CARDDAV, "nresults"))
                .and_then(|n| n.text.trim().parse::<usize>().ok())
                .unwrap_or(QUERY_LIMIT)
                .min(QUERY_LIMIT);
            let (found, more) = query(req, filter, asked).await?;
            for e in &found {
                write_card(&mut ms, &ctx, &ask, e);
            }
            if more {
                // RFC 6352 section 8.6.1: the request-URI answers 507, truncated.
                ms.status(&ctx.href(&Res::Directory(None)), Status(507));
            }
        }
        (CARDDAV, "addressbook-multiget") => {
            let mut keys = Vec::new();
            let mut missing = Vec::new();
            for h in root.children_named(DAV, "href").take(1000) {
                let href = h.text.trim();
                match path::parse(href) {
                    Some(ref t @ Target::Object(.., ref user, _, ref name))
                        if is_directory(t) && user.eq_ignore_ascii_case(&ctx.user) =>
                    {
                        match directory::parse_key(name).filter(|_| name.ends_with(".vcf")) {
                            Some(k) => keys.push((k, href.to_owned())),
                            None => missing.push(href.to_owned()),
                        }
                    }
                    _ => missing.push(href.to_owned()),
                }
            }
            let wanted: Vec<Key> = keys.iter().map(|(k, _)| *k).collect();
            let found = identity.directory_entries(req.account, &wanted).await.map_err(failed)?;
            for (k, href) in &keys {
                match found.iter().find(|e| directory::parse_key(&e.key) == Some(*k)) {
                    Some(e) => write_card(&mut ms, &ctx, &ask, e),
                    None => missing.push(href.clone()),
                }
            }
            for href in &missing {
                ms.status(href, Status::NOT_FOUND);
            }
        }
        (DAV, "sync-collection") => return sync_collection(req, &root, ask).await,
        _ => return Err(DavError::forbidden(DAV, "supported-report")),
    }
    Ok(multistatus(ms.finish(None)))
}

/// REPORT sync-collection (RFC 6578) on the directory.
async fn sync_collection(req: &Req<'_>, root: &Element, ask: Ask) -> Result<Response, DavError> {
    let invalid = || DavError::forbidden(DAV, "valid-sync-token");
    match root.child(DAV, "sync-level").map(|l| l.text.trim()) {
        None | Some("1") => {}
        Some("infinite") => return Err(DavError::forbidden(DAV, "sync-traversal-supported")),
        Some(_) => return Err(DavError::BadRequest("sync-level : 1 attendu".into())),
    }
    let limit = match root.child(DAV, "limit") {
        None => None,
        Some(l) => {
            let n = l.child(DAV, "nresults").map(|n| n.text.trim()).unwrap_or("");
            match n.parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(DavError::BadRequest("limit : nresults doit être un entier positif".into())),
            }
        }
    };
    let token = root.child(DAV, "sync-token").map(|t| t.text.trim()).unwrap_or("");
    let ctx = ctx(req);
    let mut ms = Multistatus::new();
    if token.is_empty() {
        if limit.is_some() {
            // The full listing is not cut: RFC 6578 section 3.7.
            return Err(DavError::Condition {
                status: StatusCode::INSUFFICIENT_STORAGE,
                ns: DAV,
                name: "number-of-matches-within-limits",
                reason: None,
            });
        }
        // The token is read before the cards: what changes meanwhile comes again next time.
        let token = sync_token(req).await?;
        return full_listing(req, ms, ask, Some(token)).await;
    }
    let since = parse_token(token).ok_or_else(invalid)?;
    let limit = limit.unwrap_or(SYNC_LIMIT).min(SYNC_LIMIT);
    let delta =
        req.dav.identity.directory_changes(req.account, &since, limit).await.map_err(failed)?.ok_or_else(invalid)?;
    for e in &delta.changed {
        write_card(&mut ms, &ctx, &ask, e);
    }
    for key in &delta.vanished {
        ms.status(
            &ctx.href(&Res::Card(Obj { name: &format!("{key}.vcf"), etag: "", component: "VCARD", content: None })),
            Status::NOT_FOUND,
        );
    }
    if delta.more {
        // RFC 6578 section 3.6: truncated; the token given continues.
        ms.status(&ctx.href(&Res::Directory(None)), Status(507));
    }
    Ok(multistatus(ms.finish(Some(&token_of(&delta.point)))))
}

/// The cards an addressbook-query finds: the directory is searched for the
/// filter's first text, then every card checked against the whole filter;
/// without a text, the first people of the listing. `true` when there were
/// more than `limit`.
async fn query(req: &Req<'_>, filter: Option<&Element>, limit: usize) -> Result<(Vec<Entry>, bool), DavError> {
    let identity = &req.dav.identity;
    let needle = filter.and_then(first_text).unwrap_or_default();
    let candidates = if needle.is_empty() {
        let mut all = identity.directory_lists(req.account).await.map_err(failed)?;
        all.extend(identity.directory_page(req.account, 0, limit + 1).await.map_err(failed)?);
        all
    } else {
        identity.directory_search(req.account, &needle, directory::MAX_MATCHES).await.map_err(failed)?
    };
    let mut found: Vec<Entry> = candidates
        .into_iter()
        .filter(|e| filter.is_none_or(|f| card_matches(&vcard::card(e), f)))
        .take(limit + 1)
        .collect();
    let more = found.len() > limit;
    found.truncate(limit);
    Ok((found, more))
}

/// The first text-match of a filter (a negated one says nothing of what is sought).
fn first_text(filter: &Element) -> Option<String> {
    filter
        .children_named(CARDDAV, "prop-filter")
        .flat_map(|pf| pf.children_named(CARDDAV, "text-match"))
        .find(|tm| tm.attr("negate-condition") != Some("yes"))
        .map(|tm| tm.text.trim().to_owned())
}
