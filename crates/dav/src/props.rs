//! Properties of each kind of resource: their values for PROPFIND and the
//! reports, and the set `allprop` gives.

use groupware::{Collection, CollectionKind};
use identity::Account;

use crate::path;
use crate::xml::write::{href, text};
use crate::xml::{CALDAV, CARDDAV, CS, DAV, ICAL, PropName, Status};

/// A resource whose properties are asked.
#[derive(Debug, Clone, Copy)]
pub enum Res<'a> {
    Root,
    Principal,
    Home(CollectionKind),
    Collection(&'a Collection),
    Object(&'a Collection, Obj<'a>),
    /// The académie directory, read-only (`crate::annuaire`), with its sync
    /// token when it was read.
    Directory(Option<&'a str>),
    /// A card of the directory.
    Card(Obj<'a>),
    /// The scheduling inbox, with its sync token (`crate::mailbox`).
    Inbox(&'a str),
    /// The scheduling outbox.
    Outbox,
    /// A message of the inbox.
    InboxItem(Obj<'a>),
}

/// What is known of an object: its text only when it was read.
#[derive(Debug, Clone, Copy)]
pub struct Obj<'a> {
    pub name: &'a str,
    pub etag: &'a str,
    pub component: &'a str,
    pub content: Option<&'a str>,
}

/// Who asks, and the limits to announce.
pub struct Ctx<'a> {
    pub account: &'a Account,
    /// The account's address, as paths name it.
    pub user: String,
    pub max_object_bytes: usize,
    /// Collections shared read-only with the account (by id).
    pub read_only: Vec<i64>,
}

impl Ctx<'_> {
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The href of a resource.
    pub fn href(&self, res: &Res<'_>) -> String {
        match res {
            Res::Root => path::ROOT.to_owned(),
            Res::Principal => path::principal(self.user()),
            Res::Home(kind) => path::home(*kind, self.user()),
            Res::Collection(c) => path::collection(c.kind, self.user(), &c.segment),
            Res::Object(c, o) => path::object(c.kind, self.user(), &c.segment, o.name),
            Res::Directory(_) => path::collection(CollectionKind::AddressBook, self.user(), crate::annuaire::SEGMENT),
            Res::Card(o) => path::object(CollectionKind::AddressBook, self.user(), crate::annuaire::SEGMENT, o.name),
            Res::Inbox(_) => path::collection(CollectionKind::Calendar, self.user(), crate::mailbox::INBOX),
            Res::Outbox => path::collection(CollectionKind::Calendar, self.user(), crate::mailbox::OUTBOX),
            Res::InboxItem(o) => path::object(CollectionKind::Calendar, self.user(), crate::mailbox::INBOX, o.name),
        }
    }
}

/// The sync token of a collection at `counter` (RFC 6578: a URI).
pub fn sync_token(c: &Collection, counter: i64) -> String {
    format!("urn:ardoise:sync:{}-{counter}", c.id)
}

/// The counter of `token` if it is one of `c`'s.
pub fn parse_sync_token(c: &Collection, token: &str) -> Option<i64> {
    let (id, counter) = token.strip_prefix("urn:ardoise:sync:")?.split_once('-')?;
    (id.parse::<i64>().ok()? == c.id).then_some(())?;
    counter.parse().ok()
}

/// What `allprop` answers for `res`.
pub fn all(res: &Res<'_>) -> Vec<PropName> {
    let mut names = vec![
        PropName::new(DAV, "resourcetype"),
        PropName::new(DAV, "displayname"),
        PropName::new(DAV, "current-user-principal"),
        PropName::new(DAV, "owner"),
    ];
    match res {
        Res::Root | Res::Home(_) | Res::Outbox => {}
        Res::Inbox(_) => names.push(PropName::new(DAV, "sync-token")),
        Res::Directory(_) => {
            names.push(PropName::new(CS, "getctag"));
            names.push(PropName::new(DAV, "sync-token"));
        }
        Res::Principal => {
            names.push(PropName::new(DAV, "principal-URL"));
            names.push(PropName::new(CALDAV, "calendar-home-set"));
            names.push(PropName::new(CARDDAV, "addressbook-home-set"));
        }
        Res::Collection(_) => {
            names.push(PropName::new(CS, "getctag"));
            names.push(PropName::new(DAV, "sync-token"));
        }
        Res::Object(..) | Res::Card(_) | Res::InboxItem(_) => {
            names.push(PropName::new(DAV, "getetag"));
            names.push(PropName::new(DAV, "getcontenttype"));
        }
    }
    names
}

/// The values of `names` for `res`: found (200) and missing (404) groups.
pub fn render(ctx: &Ctx<'_>, res: &Res<'_>, names: &[PropName]) -> Vec<(Status, Vec<String>)> {
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for name in names {
        match value(ctx, res, name) {
            Some(inner) => found.push(name.element(&inner)),
            None => missing.push(name.element("")),
        }
    }
    vec![(Status::OK, found), (Status::NOT_FOUND, missing)]
}

/// The names of `names` only (PROPFIND `propname`).
pub fn names_only(names: &[PropName]) -> Vec<(Status, Vec<String>)> {
    vec![(Status::OK, names.iter().map(|n| n.element("")).collect())]
}

fn privileges(ctx: &Ctx<'_>, res: &Res<'_>) -> String {
    let list: &[&str] = match res {
        Res::Root | Res::Principal | Res::Directory(_) | Res::Card(_) => &["read", "read-current-user-privilege-set"],
        Res::Collection(c) | Res::Object(c, _) if ctx.read_only.contains(&c.id) => {
            &["read", "read-current-user-privilege-set"]
        }
        _ => {
            &["read", "write", "write-properties", "write-content", "bind", "unbind", "read-current-user-privilege-set"]
        }
    };
    list.iter().map(|p| format!("<d:privilege><d:{p}/></d:privilege>")).collect()
}

fn value(ctx: &Ctx<'_>, res: &Res<'_>, name: &PropName) -> Option<String> {
    let principal = || href(&path::principal(ctx.user()));
    let (ns, local) = (name.ns.as_str(), name.name.as_str());
    if let Some(v) = directory_value(ns, local, res) {
        return v;
    }
    if let Some(v) = crate::mailbox::value(ctx, res, name) {
        return v;
    }
    match (ns, local, res) {
        (DAV, "resourcetype", Res::Root | Res::Home(_)) => Some("<d:collection/>".into()),
        (DAV, "resourcetype", Res::Principal) => Some("<d:collection/><d:principal/>".into()),
        (DAV, "resourcetype", Res::Collection(c)) => Some(match c.kind {
            CollectionKind::Calendar => "<d:collection/><c:calendar/>".into(),
            CollectionKind::AddressBook => "<d:collection/><card:addressbook/>".into(),
        }),
        (DAV, "resourcetype", Res::Object(..)) => Some(String::new()),
        (DAV, "displayname", Res::Principal) => Some(text(&ctx.account.display_name)),
        (DAV, "displayname", Res::Home(CollectionKind::Calendar)) => Some("Agendas".into()),
        (DAV, "displayname", Res::Home(CollectionKind::AddressBook)) => Some("Carnets d'adresses".into()),
        (DAV, "displayname", Res::Collection(c)) => Some(text(&c.display_name)),
        (DAV, "current-user-principal", _) => Some(principal()),
        (DAV, "principal-URL", Res::Principal) => Some(principal()),
        (DAV, "owner", Res::Root) => None,
        (DAV, "owner", _) => Some(principal()),
        (DAV, "current-user-privilege-set", _) => Some(privileges(ctx, res)),
        (CALDAV, "calendar-home-set", Res::Principal | Res::Root) => {
            Some(href(&path::home(CollectionKind::Calendar, ctx.user())))
        }
        (CARDDAV, "addressbook-home-set", Res::Principal | Res::Root) => {
            Some(href(&path::home(CollectionKind::AddressBook, ctx.user())))
        }
        (CALDAV, "calendar-user-address-set", Res::Principal) => Some(href(&format!("mailto:{}", ctx.user()))),
        (CALDAV, "schedule-outbox-URL", Res::Principal) => {
            Some(href(&format!("{}{}/", path::home(CollectionKind::Calendar, ctx.user()), crate::schedule::OUTBOX)))
        }
        (CALDAV, "schedule-inbox-URL", Res::Principal) => {
            Some(href(&path::collection(CollectionKind::Calendar, ctx.user(), crate::mailbox::INBOX)))
        }
        (CALDAV, "calendar-user-type", Res::Principal) => Some("INDIVIDUAL".into()),
        (DAV, "supported-report-set", Res::Collection(c)) => Some(reports(c.kind)),
        (DAV, "supported-report-set", Res::Home(_) | Res::Principal | Res::Root) => Some(String::new()),
        (CS, "getctag", Res::Collection(c)) => Some(text(&sync_token(c, c.sync_counter))),
        (DAV, "sync-token", Res::Collection(c)) => Some(text(&sync_token(c, c.sync_counter))),
        (CALDAV, "supported-calendar-component-set", Res::Collection(c)) if c.kind == CollectionKind::Calendar => {
            Some(c.components.split(',').map(|k| format!("<c:comp name=\"{}\"/>", text(k))).collect())
        }
        (CALDAV, "supported-calendar-data", Res::Collection(c)) if c.kind == CollectionKind::Calendar => {
            Some("<c:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>".into())
        }
        (CARDDAV, "supported-address-data", Res::Collection(c)) if c.kind == CollectionKind::AddressBook => Some(
            "<card:address-data-type content-type=\"text/vcard\" version=\"3.0\"/>\
             <card:address-data-type content-type=\"text/vcard\" version=\"4.0\"/>"
                .into(),
        ),
        (CALDAV, "calendar-description", Res::Collection(c)) if c.kind == CollectionKind::Calendar => {
            Some(text(&c.description))
        }
        (CARDDAV, "addressbook-description", Res::Collection(c)) if c.kind == CollectionKind::AddressBook => {
            Some(text(&c.description))
        }
        (ICAL, "calendar-color", Res::Collection(c)) if c.kind == CollectionKind::Calendar && !c.colour.is_empty() => {
            Some(text(&c.colour))
        }
        (CALDAV, "max-resource-size", Res::Collection(c)) if c.kind == CollectionKind::Calendar => {
            Some(ctx.max_object_bytes.to_string())
        }
        (CARDDAV, "max-resource-size", Res::Collection(c)) if c.kind == CollectionKind::AddressBook => {
            Some(ctx.max_object_bytes.to_string())
        }
        // Every calendar's events make its owner busy (RFC 6638 section 9.1).
        (CALDAV, "schedule-calendar-transp", Res::Collection(c)) if c.kind == CollectionKind::Calendar => {
            Some("<c:opaque/>".into())
        }
        (CALDAV, "schedule-tag", Res::Object(c, o)) if c.kind == CollectionKind::Calendar => {
            o.content.and_then(crate::schedule::tag_of).map(|t| text(&format!("\"{t}\"")))
        }
        (DAV, "getetag", Res::Object(_, o)) => Some(text(&format!("\"{}\"", o.etag))),
        (DAV, "getcontenttype", Res::Object(c, o)) => Some(content_type(c.kind, o.component).into()),
        (CALDAV, "calendar-data", Res::Object(c, o)) if c.kind == CollectionKind::Calendar => o.content.map(text),
        (CARDDAV, "address-data", Res::Object(c, o)) if c.kind == CollectionKind::AddressBook => o.content.map(text),
        _ => None,
    }
}

/// The directory's own answers (`Some(None)`: it has no such property).
fn directory_value(ns: &str, local: &str, res: &Res<'_>) -> Option<Option<String>> {
    let v = match (ns, local, res) {
        (CS, "getctag", Res::Directory(token)) | (DAV, "sync-token", Res::Directory(token)) => token.map(text),
        (DAV, "resourcetype", Res::Directory(_)) => Some("<d:collection/><card:addressbook/>".into()),
        (DAV, "resourcetype", Res::Card(_)) => Some(String::new()),
        (DAV, "displayname", Res::Directory(_)) => Some("Annuaire de l'académie".into()),
        (CARDDAV, "addressbook-description", Res::Directory(_)) => {
            Some(text("Personnels de l'académie, boîtes fonctionnelles et listes (lecture seule)"))
        }
        (DAV, "owner", Res::Directory(_) | Res::Card(_)) => None,
        (DAV, "supported-report-set", Res::Directory(_)) => Some(
            ["card:addressbook-query", "card:addressbook-multiget", "d:sync-collection"]
                .iter()
                .map(|r| format!("<d:supported-report><d:report><{r}/></d:report></d:supported-report>"))
                .collect(),
        ),
        (CARDDAV, "supported-address-data", Res::Directory(_)) => {
            Some("<card:address-data-type content-type=\"text/vcard\" version=\"4.0\"/>".into())
        }
        (DAV, "getetag", Res::Card(o)) => Some(text(&format!("\"{}\"", o.etag))),
        (DAV, "getcontenttype", Res::Card(_)) => Some("text/vcard; charset=utf-8".into()),
        (CARDDAV, "address-data", Res::Card(o)) => o.content.map(text),
        (DAV, "current-user-principal" | "current-user-privilege-set", _) => return None,
        (_, _, Res::Directory(_) | Res::Card(_)) => None,
        _ => return None,
    };
    Some(v)
}

fn reports(kind: CollectionKind) -> String {
    let list: &[&str] = match kind {
        CollectionKind::Calendar => &["c:calendar-query", "c:calendar-multiget", "d:sync-collection"],
        CollectionKind::AddressBook => &["card:addressbook-query", "card:addressbook-multiget", "d:sync-collection"],
    };
    list.iter().map(|r| format!("<d:supported-report><d:report><{r}/></d:report></d:supported-report>")).collect()
}

/// The media type of an object.
pub fn content_type(kind: CollectionKind, component: &str) -> &'static str {
    match (kind, component) {
        (CollectionKind::AddressBook, _) => "text/vcard; charset=utf-8",
        (CollectionKind::Calendar, "VTODO") => "text/calendar; charset=utf-8; component=vtodo",
        (CollectionKind::Calendar, "VJOURNAL") => "text/calendar; charset=utf-8; component=vjournal",
        (CollectionKind::Calendar, _) => "text/calendar; charset=utf-8; component=vevent",
    }
}
