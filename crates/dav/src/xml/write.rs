//! The multistatus writer (RFC 4918 section 13): one `<d:response>` per
//! resource, properties grouped by status, hrefs and texts escaped.

use quick_xml::escape::escape;

use super::{CALDAV, CARDDAV, CS, DAV, ICAL};

/// The prefixes declared once on the root element.
const PREFIXES: [(&str, &str); 5] = [("d", DAV), ("c", CALDAV), ("card", CARDDAV), ("cs", CS), ("ic", ICAL)];

/// A property's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PropName {
    pub ns: String,
    pub name: String,
}

impl PropName {
    pub fn new(ns: &str, name: &str) -> PropName {
        PropName { ns: ns.to_owned(), name: name.to_owned() }
    }

    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The element with `inner` (already XML) as content.
    pub fn element(&self, inner: &str) -> String {
        match PREFIXES.iter().find(|(_, ns)| *ns == self.ns) {
            Some((p, _)) if inner.is_empty() => format!("<{p}:{}/>", self.name),
            Some((p, _)) => format!("<{p}:{0}>{inner}</{p}:{0}>", self.name),
            None if inner.is_empty() => format!("<x:{} xmlns:x=\"{}\"/>", self.name, escape(self.ns.as_str())),
            None => format!("<x:{0} xmlns:x=\"{1}\">{inner}</x:{0}>", self.name, escape(self.ns.as_str())),
        }
    }
}

/// An HTTP status inside a multistatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u16);

impl Status {
    pub const OK: Status = Status(200);
    pub const FORBIDDEN: Status = Status(403);
    pub const NOT_FOUND: Status = Status(404);
    pub const FAILED_DEPENDENCY: Status = Status(424);

    fn line(self) -> String {
        let reason = match self.0 {
            200 => "OK",
            403 => "Forbidden",
            404 => "Not Found",
            409 => "Conflict",
            424 => "Failed Dependency",
            507 => "Insufficient Storage",
            _ => "",
        };
        format!("HTTP/1.1 {} {reason}", self.0)
    }
}

/// A multistatus body being written.
pub struct Multistatus {
    out: String,
}

impl Default for Multistatus {
    fn default() -> Multistatus {
        Multistatus::new()
    }
}

impl Multistatus {
    pub fn new() -> Multistatus {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus");
        for (p, ns) in PREFIXES {
            out.push_str(&format!(" xmlns:{p}=\"{ns}\""));
        }
        out.push('>');
        Multistatus { out }
    }

    /// A resource's properties, grouped by status (empty groups skipped);
    /// each property is a complete element.
    pub fn props(&mut self, href: &str, groups: &[(Status, Vec<String>)]) {
        self.out.push_str("<d:response><d:href>");
        self.out.push_str(&escape(href));
        self.out.push_str("</d:href>");
        for (status, props) in groups.iter().filter(|(_, p)| !p.is_empty()) {
            self.out.push_str("<d:propstat><d:prop>");
            for p in props {
                self.out.push_str(p);
            }
            self.out.push_str("</d:prop><d:status>");
            self.out.push_str(&status.line());
            self.out.push_str("</d:status></d:propstat>");
        }
        self.out.push_str("</d:response>");
    }

    /// A resource answered by a status alone (a deleted member, a missing href).
    pub fn status(&mut self, href: &str, status: Status) {
        self.out.push_str("<d:response><d:href>");
        self.out.push_str(&escape(href));
        self.out.push_str("</d:href><d:status>");
        self.out.push_str(&status.line());
        self.out.push_str("</d:status></d:response>");
    }

    /// What was written since the last take, for a body sent in parts
    /// (the first part starts with the XML declaration and root element).
    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    /// Closes the body, with the new token of a sync-collection report.
    pub fn finish(mut self, sync_token: Option<&str>) -> String {
        if let Some(token) = sync_token {
            self.out.push_str("<d:sync-token>");
            self.out.push_str(&escape(token));
            self.out.push_str("</d:sync-token>");
        }
        self.out.push_str("</d:multistatus>\n");
        self.out
    }
}

/// Text content, escaped.
pub fn text(s: &str) -> String {
    escape(s).into_owned()
}

/// `<d:href>` of `href`.
pub fn href(href: &str) -> String {
    format!("<d:href>{}</d:href>", escape(href))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_group_properties_by_status() {
        let mut ms = Multistatus::new();
        let name = PropName::new(DAV, "displayname");
        let unknown = PropName::new("urn:x", "y");
        ms.props(
            "/dav/calendars/a@b.fr/Réunions & co/",
            &[
                (Status::OK, vec![name.element(&text("A <b>"))]),
                (Status::NOT_FOUND, vec![unknown.element("")]),
                (Status::FORBIDDEN, vec![]),
            ],
        );
        ms.status("/dav/x.ics", Status::NOT_FOUND);
        let body = ms.finish(Some("urn:ardoise:sync:1-2"));
        assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"DAV:\""));
        assert!(body.contains(
            "<d:response><d:href>/dav/calendars/a@b.fr/Réunions &amp; co/</d:href><d:propstat><d:prop>\
             <d:displayname>A &lt;b&gt;</d:displayname></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>\
             <d:propstat><d:prop><x:y xmlns:x=\"urn:x\"/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status>\
             </d:propstat></d:response>"
        ));
        assert!(!body.contains("403"), "empty groups are left out");
        assert!(body.contains(
            "<d:response><d:href>/dav/x.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>"
        ));
        assert!(body.ends_with("<d:sync-token>urn:ardoise:sync:1-2</d:sync-token></d:multistatus>\n"));
        // What we write, we read back.
        let tree = crate::xml::parse(body.as_bytes()).unwrap();
        assert_eq!(tree.children_named(DAV, "response").count(), 2);
    }
}
