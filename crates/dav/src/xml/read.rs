//! A bounded XML reader: the request body becomes a tree of [`Element`]s
//! with resolved namespaces. No DTD is read (a `DOCTYPE` is refused, so no
//! entity can expand), depth and element count are capped, and the caller
//! caps the body's size before it gets here.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Deepest nesting accepted (DAV requests need about 8).
pub const MAX_DEPTH: usize = 32;
/// Most elements in one request.
pub const MAX_ELEMENTS: usize = 20_000;

/// An element: its namespace and local name, attributes by local name,
/// children, and its text (trimmed, concatenated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub ns: String,
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// Whether this is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The first child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// Every child `{ns}name`.
    pub fn children_named<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// The attribute of that local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Why a body is not acceptable XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("DOCTYPE refusé")]
    Doctype,
    #[error("imbrication de plus de {MAX_DEPTH} niveaux")]
    TooDeep,
    #[error("plus de {MAX_ELEMENTS} éléments")]
    TooManyElements,
    #[error("préfixe d'espace de noms inconnu")]
    UnknownPrefix,
    #[error("corps vide")]
    Empty,
    #[error("XML mal formé : {0}")]
    Malformed(String),
}

/// Parses `body` into its root element.
pub fn parse(body: &[u8]) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_reader(body);
    reader.config_mut().trim_text(true);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (ns, event) = reader.read_resolved_event_into(&mut buf).map_err(|e| XmlError::Malformed(e.to_string()))?;
        let ns = match ns {
            ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(_) => return Err(XmlError::UnknownPrefix),
        };
        match event {
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Start(ref e) | Event::Empty(ref e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooManyElements);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                if root.is_some() {
                    return Err(XmlError::Malformed("plusieurs éléments racine".into()));
                }
                let mut el = Element {
                    ns,
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Element::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|e| XmlError::Malformed(e.to_string()))?;
                    let key = a.key.as_ref();
                    if key == b"xmlns" || key.starts_with(b"xmlns:") {
                        continue;
                    }
                    let value = a.unescape_value().map_err(|e| XmlError::Malformed(e.to_string()))?;
                    el.attrs
                        .push((String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(), value.into_owned()));
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(el);
                } else {
                    close(el, &mut stack, &mut root);
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| XmlError::Malformed("fin sans début".into()))?;
                close(el, &mut stack, &mut root);
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| XmlError::Malformed(e.to_string()))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(XmlError::Malformed("texte hors de l'élément racine".into())),
                }
            }
            Event::CData(t) => {
                let text = String::from_utf8(t.into_inner().into_owned())
                    .map_err(|_| XmlError::Malformed("UTF-8 invalide".into()))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed("élément non fermé".into()));
    }
    root.ok_or(XmlError::Empty)
}

fn close(el: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_resolved_and_text_unescaped() {
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
            <D:propfind xmlns:D="DAV:" xmlns="urn:ietf:params:xml:ns:caldav">
              <D:prop><D:displayname/><calendar-home-set/></D:prop>
              <D:href>/a&amp;b</D:href><x:y xmlns:x="urn:x" k="v&lt;"/>
            </D:propfind>"#;
        let root = parse(body).unwrap();
        assert!(root.is("DAV:", "propfind"));
        let prop = root.child("DAV:", "prop").unwrap();
        assert!(prop.children[0].is("DAV:", "displayname"));
        assert!(prop.children[1].is(crate::xml::CALDAV, "calendar-home-set"));
        assert_eq!(root.child("DAV:", "href").unwrap().text, "/a&b");
        assert_eq!(root.child("urn:x", "y").unwrap().attr("k"), Some("v<"));
    }

    #[test]
    fn entity_bombs_and_doctypes_are_refused() {
        let bomb = br#"<?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
            <D:propfind xmlns:D="DAV:">&lol2;</D:propfind>"#;
        assert_eq!(parse(bomb), Err(XmlError::Doctype));
        let external = br#"<!DOCTYPE x SYSTEM "file:///etc/passwd"><x>&xxe;</x>"#;
        assert_eq!(parse(external), Err(XmlError::Doctype));
        // Without a DTD, an undeclared entity is an error, never expanded.
        assert!(matches!(parse(b"<x>&xxe;</x>"), Err(XmlError::Malformed(_))));
    }

    #[test]
    fn deep_nesting_and_element_floods_are_refused() {
        let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 1), "</a>".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
        let flood = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert_eq!(parse(flood.as_bytes()), Err(XmlError::TooManyElements));
    }

    #[test]
    fn malformed_bodies_are_refused() {
        assert_eq!(parse(b""), Err(XmlError::Empty));
        assert_eq!(parse(b"<a:b/>"), Err(XmlError::UnknownPrefix));
        assert!(matches!(parse(b"<a><b></a>"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse(b"<a>"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse(b"<a/><b/>"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse(b"texte"), Err(XmlError::Malformed(_))));
    }
}
