//! REPORT: calendar-query and calendar-multiget (RFC 4791 section 7),
//! addressbook-query and addressbook-multiget (RFC 6352 section 8), and
//! sync-collection (RFC 6578).

use axum::body::Body;
use axum::response::Response;
use groupware::{Collection, CollectionKind, CollectionObject, Query};

use crate::error::DavError;
use crate::methods::{collection_of, ctx, prop_names};
use crate::path::{self, Target};
use crate::props::{self, Obj, Res};
use crate::xml::{CALDAV, CARDDAV, DAV, Element, Multistatus, PropName, Status};
use crate::{Req, multistatus, read_xml};

pub(crate) async fn report(req: &Req<'_>, body: Body) -> Result<Response, DavError> {
    let root = read_xml(body).await?.ok_or_else(|| DavError::BadRequest("corps vide".into()))?;
    let _turn = req.dav.turn(true).await;
    let kind = match &req.target {
        Target::Collection(kind, ..) => *kind,
        _ => return Err(DavError::forbidden(DAV, "supported-report")),
    };
    let c = collection_of(req).await?;
    let names = asked(&root);
    let gw = &req.dav.groupware;
    let err = |e| DavError::Domain(e, kind);
    match (root.ns.as_str(), root.name.as_str(), kind) {
        (CALDAV, "calendar-query", CollectionKind::Calendar) => {
            let query = calendar_filter(&root)?;
            let found = gw.query(&c, &query).await.map_err(err)?;
            Ok(objects(req, &c, &names, &found, &[]))
        }
        (CARDDAV, "addressbook-query", CollectionKind::AddressBook) => {
            let mut found = gw.query(&c, &Query::default()).await.map_err(err)?;
            if let Some(filter) = root.child(CARDDAV, "filter") {
                check_card_filter(filter)?;
                found.retain(|o| card_matches(&o.content, filter));
            }
            let limit = root.child(CARDDAV, "limit").and_then(|l| l.child(CARDDAV, "nresults"));
            if let Some(n) = limit.and_then(|n| n.text.trim().parse::<usize>().ok()) {
                found.truncate(n);
            }
            Ok(objects(req, &c, &names, &found, &[]))
        }
        (CALDAV, "calendar-multiget", CollectionKind::Calendar)
        | (CARDDAV, "addressbook-multiget", CollectionKind::AddressBook) => {
            let (mine, missing) = hrefs(req, &c, &root);
            let found = gw.multiget(&c, &mine).await.map_err(err)?;
            let absent: Vec<&String> = mine.iter().filter(|n| !found.iter().any(|o| &&o.name == n)).collect();
            let mut missing = missing;
            missing.extend(
                absent.into_iter().map(|n| path::object(c.kind, &req.account.address.to_string(), &c.segment, n)),
            );
            Ok(objects(req, &c, &names, &found, &missing))
        }
        (DAV, "sync-collection", _) => sync_collection(req, &c, &root, &names).await,
        _ => Err(DavError::forbidden(DAV, "supported-report")),
    }
}

/// The properties a report asks for (getetag when it names none).
pub(crate) fn asked(root: &Element) -> Vec<PropName> {
    match root.child(DAV, "prop") {
        Some(prop) => prop_names(prop),
        None => vec![PropName::new(DAV, "getetag")],
    }
}

/// Whether the properties need the objects' texts.
fn wants_data(names: &[PropName]) -> bool {
    names.iter().any(|n| n.is(CALDAV, "calendar-data") || n.is(CARDDAV, "address-data"))
}

/// One response per object, then a 404 per href that names nothing of this collection.
fn objects(
    req: &Req<'_>,
    c: &Collection,
    names: &[PropName],
    found: &[CollectionObject],
    missing: &[String],
) -> Response {
    let ctx = ctx(req);
    let mut ms = Multistatus::new();
    for o in found {
        let res =
            Res::Object(c, Obj { name: &o.name, etag: &o.etag, component: &o.component, content: Some(&o.content) });
        ms.props(&ctx.href(&res), &props::render(&ctx, &res, names));
    }
    for href in missing {
        ms.status(href, Status::NOT_FOUND);
    }
    multistatus(ms.finish(None))
}

/// The names of the hrefs that are objects of `c`; the others, as given.
fn hrefs(req: &Req<'_>, c: &Collection, root: &Element) -> (Vec<String>, Vec<String>) {
    let (mut mine, mut others) = (Vec::new(), Vec::new());
    for h in root.children_named(DAV, "href") {
        let href = h.text.trim();
        match path::parse(href) {
            Some(Target::Object(kind, user, segment, name))
                if kind == c.kind
                    && user.eq_ignore_ascii_case(&req.account.address.to_string())
                    && segment == c.segment =>
            {
                mine.push(name)
            }
            _ => others.push(href.to_owned()),
        }
    }
    (mine, others)
}

async fn sync_collection(
    req: &Req<'_>,
    c: &Collection,
    root: &Element,
    names: &[PropName],
) -> Result<Response, DavError> {
    let err = |e| DavError::Domain(e, c.kind);
    let token = root.child(DAV, "sync-token").map(|t| t.text.trim()).unwrap_or("");
    let since = match token {
        "" => None,
        t => Some(props::parse_sync_token(c, t).ok_or_else(|| err(groupware::Error::InvalidSyncToken))?),
    };
    let gw = &req.dav.groupware;
    let changes = gw.changes(c, since).await.map_err(err)?;
    let ctx = ctx(req);
    let mut ms = Multistatus::new();
    if wants_data(names) {
        let wanted: Vec<String> = changes.changed.iter().map(|t| t.name.clone()).collect();
        for o in gw.multiget(c, &wanted).await.map_err(err)? {
            let res = Res::Object(
                c,
                Obj { name: &o.name, etag: &o.etag, component: &o.component, content: Some(&o.content) },
            );
            ms.props(&ctx.href(&res), &props::render(&ctx, &res, names));
        }
    } else {
        for t in &changes.changed {
            let res = Res::Object(c, Obj { name: &t.name, etag: &t.etag, component: &t.component, content: None });
            ms.props(&ctx.href(&res), &props::render(&ctx, &res, names));
        }
    }
    for name in &changes.deleted {
        ms.status(&path::object(c.kind, ctx.user(), &c.segment, name), Status::NOT_FOUND);
    }
    Ok(multistatus(ms.finish(Some(&props::sync_token(c, changes.token)))))
}

/// The component and time range of a calendar-query filter: a VCALENDAR
/// comp-filter holding at most one comp-filter with at most a time-range.
/// Other filters are refused with `CALDAV:supported-filter` rather than
/// answered wrongly.
fn calendar_filter(root: &Element) -> Result<Query, DavError> {
    let unsupported = || DavError::forbidden(CALDAV, "supported-filter");
    let Some(filter) = root.child(CALDAV, "filter") else {
        return Err(DavError::forbidden(CALDAV, "valid-filter"));
    };
    let top = match filter.children.as_slice() {
        [top] if top.is(CALDAV, "comp-filter") && top.attr("name") == Some("VCALENDAR") => top,
        _ => return Err(DavError::forbidden(CALDAV, "valid-filter")),
    };
    let mut query = Query::default();
    match top.children.as_slice() {
        [] => {}
        [inner] if inner.is(CALDAV, "comp-filter") => {
            let name = inner.attr("name").ok_or_else(|| DavError::forbidden(CALDAV, "valid-filter"))?;
            query.component = Some(name.to_ascii_uppercase());
            for f in &inner.children {
                if !f.is(CALDAV, "time-range") {
                    return Err(unsupported());
                }
                query.start = f.attr("start").map(utc_seconds).transpose()?;
                query.end = f.attr("end").map(utc_seconds).transpose()?;
            }
        }
        _ => return Err(unsupported()),
    }
    Ok(query)
}

/// `20260907T080000Z` in UTC seconds.
fn utc_seconds(s: &str) -> Result<i64, DavError> {
    let bad = || DavError::forbidden(CALDAV, "valid-filter");
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<i64>().ok()).ok_or_else(bad);
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400 + hh * 3_600 + mm * 60 + ss)
}

/// addressbook-query filters: prop-filters with text-match or
/// is-not-defined (RFC 6352 section 10.5); param-filter is refused.
pub(crate) fn check_card_filter(filter: &Element) -> Result<(), DavError> {
    for pf in &filter.children {
        if !pf.is(CARDDAV, "prop-filter") || pf.attr("name").is_none() {
            return Err(DavError::forbidden(CARDDAV, "supported-filter"));
        }
        if pf.children.iter().any(|c| !c.is(CARDDAV, "text-match") && !c.is(CARDDAV, "is-not-defined")) {
            return Err(DavError::forbidden(CARDDAV, "supported-filter"));
        }
    }
    Ok(())
}

pub(crate) fn card_matches(card: &str, filter: &Element) -> bool {
    let unfolded = card.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "");
    let all = filter.attr("test") == Some("allof");
    let mut results = filter.children.iter().map(|pf| prop_filter_matches(&unfolded, pf));
    if all { results.all(|r| r) } else { results.any(|r| r) }
}

fn prop_filter_matches(card: &str, pf: &Element) -> bool {
    let name = pf.attr("name").unwrap_or("");
    let values: Vec<String> = card
        .lines()
        .filter_map(|line| {
            let (head, value) = line.split_once(':')?;
            let prop = head.split(';').next()?;
            let prop = prop.rsplit('.').next()?;
            prop.eq_ignore_ascii_case(name).then(|| value.to_lowercase())
        })
        .collect();
    if pf.child(CARDDAV, "is-not-defined").is_some() {
        return values.is_empty();
    }
    let matches: Vec<&Element> = pf.children_named(CARDDAV, "text-match").collect();
    if matches.is_empty() {
        return !values.is_empty();
    }
    let test = |tm: &Element| {
        let needle = tm.text.trim().to_lowercase();
        let hit = values.iter().any(|v| match tm.attr("match-type").unwrap_or("contains") {
            "equals" => *v == needle,
            "starts-with" => v.starts_with(&needle),
            "ends-with" => v.ends_with(&needle),
            _ => v.contains(&needle),
        });
        hit != (tm.attr("negate-condition") == Some("yes"))
    };
    if pf.attr("test") == Some("allof") { matches.iter().all(|m| test(m)) } else { matches.iter().any(|m| test(m)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_range_dates_are_utc_seconds() {
        assert_eq!(utc_seconds("19700101T000000Z").unwrap(), 0);
        assert_eq!(utc_seconds("20260907T080000Z").unwrap(), 1_788_739_200 + 8 * 3_600);
        assert_eq!(utc_seconds("20240229T235959Z").unwrap(), 1_709_251_199);
        for bad in ["20260907T080000", "2026-09-07T08:00:00Z", "20261307T080000Z", "2026090xT080000Z", ""] {
            assert!(utc_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn card_filters_match_properties_and_text() {
        let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:1\r\nFN:Paul Du\r\n rand\r\nitem1.EMAIL;TYPE=work:paul.durand@ac-demo.fr\r\nEND:VCARD\r\n";
        let filter = |xml: &str| crate::xml::parse(xml.as_bytes()).unwrap();
        let ns = "xmlns:C=\"urn:ietf:params:xml:ns:carddav\"";
        assert!(card_matches(
            card,
            &filter(&format!(
                "<C:filter {ns}><C:prop-filter name=\"FN\"><C:text-match>durand</C:text-match></C:prop-filter></C:filter>"
            ))
        ));
        assert!(card_matches(
            card,
            &filter(&format!(
                "<C:filter {ns}><C:prop-filter name=\"EMAIL\"><C:text-match match-type=\"ends-with\">@ac-demo.fr</C:text-match></C:prop-filter></C:filter>"
            ))
        ));
        assert!(!card_matches(
            card,
            &filter(&format!(
                "<C:filter {ns}><C:prop-filter name=\"FN\"><C:text-match negate-condition=\"yes\">paul</C:text-match></C:prop-filter></C:filter>"
            ))
        ));
        assert!(card_matches(
            card,
            &filter(&format!(
                "<C:filter {ns}><C:prop-filter name=\"TEL\"><C:is-not-defined/></C:prop-filter></C:filter>"
            ))
        ));
        assert!(!card_matches(
            card,
            &filter(&format!(
                "<C:filter {ns} test=\"allof\"><C:prop-filter name=\"FN\"/><C:prop-filter name=\"TEL\"/></C:filter>"
            ))
        ));
    }
}
