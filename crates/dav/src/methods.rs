//! PROPFIND, PROPPATCH, MKCALENDAR and extended MKCOL, GET/HEAD, PUT and
//! DELETE.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use groupware::{Collection, CollectionKind, CollectionPatch, NewProps, Precondition};

use crate::error::DavError;
use crate::path::Target;
use crate::props::{self, Ctx, Obj, Res};
use crate::xml::{CALDAV, CARDDAV, DAV, Element, ICAL, Multistatus, PropName, Status};
use crate::{Req, multistatus, read_body, read_xml};

/// What PROPFIND asks for.
pub(crate) enum Ask {
    All(Vec<PropName>),
    Names(Vec<PropName>),
    NamesOnly,
}

pub(crate) fn ctx<'a>(req: &'a Req<'_>) -> Ctx<'a> {
    Ctx {
        account: req.account,
        user: req.account.address.to_string(),
        max_object_bytes: req.dav.groupware.settings().max_object_bytes,
        read_only: req.shared.iter().filter(|s| !s.right.can_write()).map(|s| s.collection.id).collect(),
    }
}

/// The collection a target is in (or is), the defaults made on first use.
pub(crate) async fn collection_of(req: &Req<'_>) -> Result<Collection, DavError> {
    let (kind, segment) = match &req.target {
        Target::Collection(kind, _, segment) | Target::Object(kind, _, segment, _) => (*kind, segment),
        _ => return Err(DavError::not_found()),
    };
    // `<owner>~<segment>`: a calendar shared with the account, or nothing.
    if groupware::sharing::split_key(segment).is_some() {
        return crate::sharing::shared_of(req).map(|s| s.collection.clone()).ok_or_else(DavError::not_found);
    }
    req.dav.groupware.collection(req.account.id, kind, segment).await.map_err(|e| DavError::Domain(e, kind))
}

/// The prop names under `el` (a `<d:prop>`).
pub(crate) fn prop_names(el: &Element) -> Vec<PropName> {
    el.children.iter().map(|c| PropName::new(&c.ns, &c.name)).collect()
}

/// The Depth (0 or 1) and the body of a PROPFIND.
pub(crate) async fn read_propfind(req: &Req<'_>, body: Body) -> Result<(bool, Ask), DavError> {
    let depth_one = match req.headers.get("Depth").map(HeaderValue::as_bytes) {
        // RFC 4918 reads a missing Depth as infinity; clients that omit it mean the resource.
        None | Some(b"0") => false,
        Some(b"1") => true,
        Some(b"infinity") => return Err(DavError::forbidden(DAV, "propfind-finite-depth")),
        Some(_) => return Err(DavError::BadRequest("en-tête Depth invalide".into())),
    };
    let ask = match read_xml(body).await? {
        None => Ask::All(Vec::new()),
        Some(root) if root.is(DAV, "propfind") => {
            if let Some(prop) = root.child(DAV, "prop") {
                Ask::Names(prop_names(prop))
            } else if root.child(DAV, "propname").is_some() {
                Ask::NamesOnly
            } else if root.child(DAV, "allprop").is_some() {
                Ask::All(root.child(DAV, "include").map(prop_names).unwrap_or_default())
            } else {
                return Err(DavError::BadRequest("propfind sans prop, allprop ni propname".into()));
            }
        }
        Some(_) => return Err(DavError::BadRequest("élément propfind attendu".into())),
    };
    Ok((depth_one, ask))
}

impl Ask {
    /// The property groups of `res` this PROPFIND asks for.
    pub(crate) fn groups(&self, ctx: &Ctx<'_>, res: &Res<'_>) -> Vec<(Status, Vec<String>)> {
        match self {
            Ask::Names(names) => props::render(ctx, res, names),
            Ask::All(extra) => {
                let mut names = props::all(res);
                names.extend(extra.iter().cloned());
                props::render(ctx, res, &names)
            }
            Ask::NamesOnly => props::names_only(&props::all(res)),
        }
    }
}

pub(crate) async fn propfind(req: &Req<'_>, body: Body) -> Result<Response, DavError> {
    let (depth_one, ask) = read_propfind(req, body).await?;
    let _turn = req.dav.turn(depth_one).await;
    let gw = &req.dav.groupware;
    let owner = req.account.id;
    let kind_err = |kind| move |e| DavError::Domain(e, kind);
    let mut ms = Multistatus::new();
    let ctx = ctx(req);
    let mut write = |res: Res<'_>| {
        let groups = ask.groups(&ctx, &res);
        ms.props(&ctx.href(&res), &groups);
    };
    match &req.target {
        Target::Root => {
            write(Res::Root);
            if depth_one {
                write(Res::Principal);
                write(Res::Home(CollectionKind::Calendar));
                write(Res::Home(CollectionKind::AddressBook));
            }
        }
        Target::Principal(_) => write(Res::Principal),
        Target::Home(kind, _) => {
            write(Res::Home(*kind));
            if depth_one {
                let all = gw.collections(owner).await.map_err(kind_err(*kind))?;
                for c in all.iter().filter(|c| c.kind == *kind) {
                    write(Res::Collection(c));
                }
                for s in req.shared.iter().filter(|s| s.collection.kind == *kind) {
                    write(Res::Collection(&s.collection));
                }
                // The scheduling inbox and outbox (RFC 6638 section 2).
                if *kind == CollectionKind::Calendar {
                    let token = crate::mailbox::token(&gw.inbox(owner).await.map_err(kind_err(*kind))?);
                    write(Res::Inbox(&token));
                    write(Res::Outbox);
                }
                // The académie directory sits beside the personal address books.
                if *kind == CollectionKind::AddressBook {
                    let token = crate::annuaire::sync_token(req).await?;
                    write(Res::Directory(Some(&token)));
                }
            }
        }
        Target::Collection(kind, ..) => {
            let c = collection_of(req).await?;
            write(Res::Collection(&c));
            if depth_one {
                for t in gw.tags(&c).await.map_err(kind_err(*kind))? {
                    let obj = Obj { name: &t.name, etag: &t.etag, component: &t.component, content: None };
                    write(Res::Object(&c, obj));
                }
            }
        }
        Target::Object(kind, _, _, name) => {
            let c = collection_of(req).await?;
            let o = gw.get(&c, name).await.map_err(kind_err(*kind))?;
            let obj = Obj { name: &o.name, etag: &o.etag, component: &o.component, content: Some(&o.content) };
            write(Res::Object(&c, obj));
        }
    }
    Ok(multistatus(ms.finish(None)))
}

/// The properties PROPPATCH and MKCALENDAR/MKCOL may set on a collection.
#[derive(Default)]
struct Settable {
    props: NewProps,
    /// `Some` with the kind asked by an extended MKCOL's resourcetype.
    resourcetype: Option<Option<CollectionKind>>,
    refused: Vec<PropName>,
    accepted: Vec<PropName>,
}

impl Settable {
    fn read(&mut self, prop: &Element, removing: bool) {
        for p in &prop.children {
            let name = PropName::new(&p.ns, &p.name);
            let value = if removing { String::new() } else { p.text.trim().to_owned() };
            match (p.ns.as_str(), p.name.as_str()) {
                (DAV, "displayname") => self.props.display_name = Some(value),
                (CALDAV, "calendar-description") | (CARDDAV, "addressbook-description") => {
                    self.props.description = Some(value)
                }
                (ICAL, "calendar-color") => self.props.colour = Some(value),
                (CALDAV, "supported-calendar-component-set") if !removing => {
                    self.props.components =
                        p.children_named(CALDAV, "comp").filter_map(|c| c.attr("name").map(str::to_owned)).collect();
                }
                // Floating times are read in the installation's zone.
                (CALDAV, "calendar-timezone") => {}
                (DAV, "resourcetype") if !removing => {
                    let kind = if p.child(CALDAV, "calendar").is_some() {
                        Some(CollectionKind::Calendar)
                    } else if p.child(CARDDAV, "addressbook").is_some() {
                        Some(CollectionKind::AddressBook)
                    } else {
                        None
                    };
                    self.resourcetype = Some(kind);
                }
                _ => {
                    self.refused.push(name);
                    continue;
                }
            }
            self.accepted.push(name);
        }
    }

    fn from_body(root: Option<&Element>) -> Settable {
        let mut s = Settable::default();
        if let Some(root) = root {
            for set in root.children_named(DAV, "set") {
                if let Some(prop) = set.child(DAV, "prop") {
                    s.read(prop, false);
                }
            }
        }
        s
    }
}

pub(crate) async fn proppatch(req: &Req<'_>, body: Body) -> Result<Response, DavError> {
    let Target::Collection(kind, ..) = req.target else {
        return Err(DavError::forbidden(DAV, "cannot-modify-protected-property"));
    };
    let root = read_xml(body).await?.ok_or_else(|| DavError::BadRequest("corps vide".into()))?;
    if !root.is(DAV, "propertyupdate") {
        return Err(DavError::BadRequest("élément propertyupdate attendu".into()));
    }
    let c = collection_of(req).await?;
    let mut s = Settable::default();
    for op in &root.children {
        let removing = op.is(DAV, "remove");
        if let Some(prop) = op.child(DAV, "prop").filter(|_| removing || op.is(DAV, "set")) {
            s.read(prop, removing);
        }
    }
    let mut ms = Multistatus::new();
    let href = ctx(req).href(&Res::Collection(&c));
    let names = |list: &[PropName]| list.iter().map(|n| n.element("")).collect::<Vec<_>>();
    if !s.refused.is_empty() || s.resourcetype.is_some() {
        // All or nothing (RFC 4918 section 9.2).
        ms.props(&href, &[(Status::FORBIDDEN, names(&s.refused)), (Status::FAILED_DEPENDENCY, names(&s.accepted))]);
        return Ok(multistatus(ms.finish(None)));
    }
    let patch = CollectionPatch {
        display_name: s.props.display_name,
        colour: s.props.colour,
        description: s.props.description,
    };
    req.dav.groupware.update_collection(&c, &patch).await.map_err(|e| DavError::Domain(e, kind))?;
    ms.props(&href, &[(Status::OK, names(&s.accepted))]);
    Ok(multistatus(ms.finish(None)))
}

pub(crate) async fn mkcalendar(req: &Req<'_>, body: Body) -> Result<Response, DavError> {
    let Target::Collection(CollectionKind::Calendar, _, segment) = &req.target else {
        return Err(DavError::Status(StatusCode::FORBIDDEN));
    };
    let root = read_xml(body).await?;
    if root.as_ref().is_some_and(|r| !r.is(CALDAV, "mkcalendar")) {
        return Err(DavError::BadRequest("élément mkcalendar attendu".into()));
    }
    create(req, CollectionKind::Calendar, segment, Settable::from_body(root.as_ref())).await
}

pub(crate) async fn mkcol(req: &Req<'_>, body: Body) -> Result<Response, DavError> {
    let Target::Collection(kind, _, segment) = &req.target else {
        return Err(DavError::Status(StatusCode::FORBIDDEN));
    };
    let root = read_xml(body).await?;
    if root.as_ref().is_some_and(|r| !r.is(DAV, "mkcol")) {
        return Err(DavError::Status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    let s = Settable::from_body(root.as_ref());
    // A plain MKCOL in a home makes a collection of the home's kind.
    if s.resourcetype.is_some_and(|asked| asked != Some(*kind)) {
        return Err(DavError::forbidden(DAV, "valid-resourcetype"));
    }
    create(req, *kind, segment, s).await
}

async fn create(req: &Req<'_>, kind: CollectionKind, segment: &str, s: Settable) -> Result<Response, DavError> {
    if !s.refused.is_empty() {
        let mut ms = Multistatus::new();
        let names = |list: &[PropName]| list.iter().map(|n| n.element("")).collect::<Vec<_>>();
        ms.props(
            &req.target_href(),
            &[(Status::FORBIDDEN, names(&s.refused)), (Status::FAILED_DEPENDENCY, names(&s.accepted))],
        );
        let mut resp = multistatus(ms.finish(None));
        *resp.status_mut() = StatusCode::FORBIDDEN;
        return Ok(resp);
    }
    req.dav
        .groupware
        .create_collection(req.account.id, kind, segment, &s.props)
        .await
        .map_err(|e| DavError::Domain(e, kind))?;
    Ok(StatusCode::CREATED.into_response())
}

pub(crate) async fn get(req: &Req<'_>) -> Result<Response, DavError> {
    let Target::Object(kind, _, _, name) = &req.target else {
        return Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED));
    };
    let c = collection_of(req).await?;
    let o = req.dav.groupware.get(&c, name).await.map_err(|e| DavError::Domain(e, *kind))?;
    let mut resp = o.content.clone().into_response();
    if *kind == CollectionKind::Calendar {
        crate::schedule::tag_header(&mut resp, &o.content);
    }
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(props::content_type(*kind, &o.component)));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", o.etag)) {
        h.insert(header::ETAG, etag);
    }
    Ok(resp)
}

pub(crate) async fn put(req: &Req<'_>, body: Body) -> Result<Response, DavError> {
    let Target::Object(kind, _, _, name) = &req.target else {
        return Err(DavError::Status(StatusCode::METHOD_NOT_ALLOWED));
    };
    let kind = *kind;
    let gw = &req.dav.groupware;
    let max = gw.settings().max_object_bytes;
    let bytes = read_body(body, max)
        .await
        .map_err(|_| DavError::Domain(groupware::Error::TooLarge(max), kind))?
        .unwrap_or_default();
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| DavError::Domain(groupware::Error::Invalid("texte UTF-8 attendu".into()), kind))?;
    // RFC 4918 section 9.7.1: no PUT into a collection that does not exist.
    let c = collection_of(req).await.map_err(|e| match e {
        DavError::Domain(groupware::Error::NotFound, _) => DavError::Status(StatusCode::CONFLICT),
        other => other,
    })?;
    let if_match = etag_header(req, header::IF_MATCH);
    let current;
    let pre = match if_match.as_deref() {
        Some("*") => {
            current = gw.get(&c, name).await.map_err(|_| DavError::Status(StatusCode::PRECONDITION_FAILED))?.etag;
            Precondition::Matches(&current)
        }
        Some(etag) => Precondition::Matches(etag),
        None if etag_header(req, header::IF_NONE_MATCH).as_deref() == Some("*") => Precondition::Absent,
        None => Precondition::Any,
    };
    let tagged = if kind == CollectionKind::Calendar { crate::schedule::check_tag(req, &c, name).await? } else { None };
    let pre = match (&tagged, pre) {
        (Some(etag), Precondition::Any) => Precondition::Matches(etag),
        (_, pre) => pre,
    };
    // A calendar object is scheduled (RFC 6638): invitations, answers.
    let (written, rewritten) = match kind {
        CollectionKind::Calendar => {
            let who = principal(req);
            let acting = acting(req, &c).await?;
            let s = gw.put_scheduled(&acting, &c, name, text, pre).await.map_err(|e| DavError::Domain(e, kind))?;
            gw.journal_acting(&who, &acting, "agenda", &format!("{} {name}", c.display_name)).await;
            (s.written, s.rewritten)
        }
        CollectionKind::AddressBook => {
            (gw.put(&c, name, text, pre).await.map_err(|e| DavError::Domain(e, kind))?, false)
        }
    };
    let status = if written.created { StatusCode::CREATED } else { StatusCode::NO_CONTENT };
    let mut resp = status.into_response();
    // RFC 6638 section 3.2.1: no ETag when the stored object is not the text sent.
    if !rewritten && let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", written.etag)) {
        resp.headers_mut().insert(header::ETAG, etag);
    }
    if kind == CollectionKind::Calendar {
        crate::schedule::tag_header(&mut resp, text);
    }
    Ok(resp)
}

pub(crate) async fn delete(req: &Req<'_>) -> Result<Response, DavError> {
    let gw = &req.dav.groupware;
    match &req.target {
        Target::Object(kind, _, _, name) => {
            let c = collection_of(req).await?;
            let if_match = etag_header(req, header::IF_MATCH).filter(|e| e != "*");
            let if_match = if_match.or(crate::schedule::check_tag(req, &c, name).await?);
            let deleted = match kind {
                CollectionKind::Calendar => {
                    let (who, acting) = (principal(req), acting(req, &c).await?);
                    let done = gw.delete_scheduled(&acting, &c, name, if_match.as_deref()).await;
                    if done.is_ok() {
                        let detail = format!("{} {name}", c.display_name);
                        gw.journal_acting(&who, &acting, "agenda-suppression", &detail).await;
                    }
                    done
                }
                CollectionKind::AddressBook => gw.delete(&c, name, if_match.as_deref()).await,
            };
            deleted.map_err(|e| DavError::Domain(e, *kind))?;
        }
        Target::Collection(kind, ..) => {
            let c = collection_of(req).await?;
            gw.delete_collection(&c).await.map_err(|e| DavError::Domain(e, *kind))?;
        }
        _ => return Err(DavError::Status(StatusCode::FORBIDDEN)),
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The logged-in account as scheduling sees it.
pub(crate) fn principal(req: &Req<'_>) -> groupware::scheduling::Principal {
    groupware::scheduling::Principal {
        id: req.account.id,
        address: req.account.address.clone(),
        display_name: req.account.display_name.clone(),
    }
}

/// Who scheduling acts as for a write in `c`: the logged-in account, or the
/// calendar's owner when the account is their delegate
/// ([`groupware::Groupware::acting_for`]).
async fn acting(req: &Req<'_>, c: &Collection) -> Result<groupware::scheduling::Principal, DavError> {
    let who = principal(req);
    let Some(shared) = crate::sharing::shared_of(req) else { return Ok(who) };
    req.dav.groupware.acting_for(&who, c, shared.right).await.map_err(|e| DavError::Domain(e, c.kind))
}

/// The etag of an `If-Match`/`If-None-Match` header, unquoted (`*` as is;
/// the first of a list; a weak one never matches a strong etag).
fn etag_header(req: &Req<'_>, name: header::HeaderName) -> Option<String> {
    let v = req.headers.get(name)?.to_str().ok()?.split(',').next()?.trim();
    if v == "*" {
        return Some("*".into());
    }
    if v.starts_with("W/") {
        return Some(String::new());
    }
    Some(v.trim_matches('"').to_owned())
}

impl Req<'_> {
    /// The href of the request's own target.
    pub(crate) fn target_href(&self) -> String {
        let user = &self.account.address.to_string();
        match &self.target {
            Target::Root => crate::path::ROOT.to_owned(),
            Target::Principal(_) => crate::path::principal(user),
            Target::Home(k, _) => crate::path::home(*k, user),
            Target::Collection(k, _, s) => crate::path::collection(*k, user, s),
            Target::Object(k, _, s, n) => crate::path::object(*k, user, s, n),
        }
    }
}
