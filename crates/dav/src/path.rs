//! The URL space, under `/dav/`:
//!
//! ```text
//! /dav/                                        root (finds the principal)
//! /dav/principals/<address>/                   the logged-in account
//! /dav/calendars/<address>/                    calendar home
//! /dav/calendars/<address>/<calendar>/         a calendar
//! /dav/calendars/<address>/<calendar>/<name>   an event, task or journal
//! /dav/addressbooks/<address>/...              the same for address books
//! ```
//!
//! Segments are percent-decoded here and encoded again in every href.

use groupware::CollectionKind;

/// The root of the DAV space.
pub const ROOT: &str = "/dav/";

/// What a path names. The address is as written (compared by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Root,
    Principal(String),
    Home(CollectionKind, String),
    Collection(CollectionKind, String, String),
    Object(CollectionKind, String, String, String),
}

impl Target {
    /// The address in the path, if any.
    pub fn user(&self) -> Option<&str> {
        match self {
            Target::Root => None,
            Target::Principal(u) | Target::Home(_, u) | Target::Collection(_, u, _) | Target::Object(_, u, _, _) => {
                Some(u)
            }
        }
    }
}

/// Reads a request path or an href (an absolute URL's scheme and host are
/// dropped). `None` when it names nothing of ours.
pub fn parse(href: &str) -> Option<Target> {
    let path = match href.split_once("://") {
        Some((_, rest)) => &rest[rest.find('/')?..],
        None => href,
    };
    let path = path.split(['?', '#']).next()?;
    let rest = path.strip_prefix("/dav")?;
    if rest.is_empty() || rest == "/" {
        return Some(Target::Root);
    }
    let rest = rest.strip_prefix('/')?;
    let segs: Vec<&str> = rest.strip_suffix('/').unwrap_or(rest).split('/').collect();
    let mut decoded = Vec::with_capacity(segs.len());
    for s in &segs {
        let d = model::percent::decode(s)?;
        if !groupware::valid_name(&d) {
            return None;
        }
        decoded.push(d);
    }
    let kind = match segs[0] {
        "principals" => {
            return match decoded.as_slice() {
                [_, user] => Some(Target::Principal(user.clone())),
                _ => None,
            };
        }
        "calendars" => CollectionKind::Calendar,
        "addressbooks" => CollectionKind::AddressBook,
        _ => return None,
    };
    match decoded.as_slice() {
        [_, user] => Some(Target::Home(kind, user.clone())),
        [_, user, coll] => Some(Target::Collection(kind, user.clone(), coll.clone())),
        [_, user, coll, name] => Some(Target::Object(kind, user.clone(), coll.clone(), name.clone())),
        _ => None,
    }
}

fn kind_segment(kind: CollectionKind) -> &'static str {
    match kind {
        CollectionKind::Calendar => "calendars",
        CollectionKind::AddressBook => "addressbooks",
    }
}

pub fn principal(user: &str) -> String {
    format!("/dav/principals/{}/", encode(user))
}

pub fn home(kind: CollectionKind, user: &str) -> String {
    format!("/dav/{}/{}/", kind_segment(kind), encode(user))
}

pub fn collection(kind: CollectionKind, user: &str, segment: &str) -> String {
    format!("{}{}/", home(kind, user), encode(segment))
}

pub fn object(kind: CollectionKind, user: &str, segment: &str, name: &str) -> String {
    format!("{}{}", collection(kind, user, segment), encode(name))
}

/// Percent-encodes a segment (RFC 3986 unreserved characters and `@` kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_hrefs_round_trip() {
        let u = "claire.martin@ac-demo.fr";
        assert_eq!(parse("/dav"), Some(Target::Root));
        assert_eq!(parse("/dav/"), Some(Target::Root));
        assert_eq!(parse(&principal(u)), Some(Target::Principal(u.into())));
        assert_eq!(
            parse("/dav/calendars/claire.martin%40ac-demo.fr"),
            Some(Target::Home(CollectionKind::Calendar, u.into()))
        );
        let href = object(CollectionKind::Calendar, u, "Réunions 2026", "a b.ics");
        assert_eq!(href, "/dav/calendars/claire.martin@ac-demo.fr/R%C3%A9unions%202026/a%20b.ics");
        let expected = Target::Object(CollectionKind::Calendar, u.into(), "Réunions 2026".into(), "a b.ics".into());
        assert_eq!(parse(&href), Some(expected.clone()));
        assert_eq!(parse(&format!("https://mail.ac-demo.fr{href}")), Some(expected));
        assert_eq!(
            parse("/dav/addressbooks/u/contacts/"),
            Some(Target::Collection(CollectionKind::AddressBook, "u".into(), "contacts".into()))
        );
    }

    #[test]
    fn foreign_or_broken_paths_name_nothing() {
        for p in [
            "/courrier",
            "/davx/",
            "/dav/calendars",
            "/dav/agendas/u/",
            "/dav/principals/u/x/",
            "/dav/calendars/u/c/o/extra",
            "/dav/calendars/u/%2e%2e/",
            "/dav/calendars/u/a%2Fb/",
            "/dav/calendars/u/%ZZ/",
            "/dav/calendars/u/%C3/",
            "/dav/calendars//c/",
        ] {
            assert_eq!(parse(p), None, "{p}");
        }
    }
}
