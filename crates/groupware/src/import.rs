//! Calendars and contacts brought in as files (`ardoise import ics|vcf`):
//! a `.ics` export holds many events in one VCALENDAR, a `.vcf` many VCARDs
//! one after the other. [`split_ics`] makes one calendar object per UID (the
//! master and its overrides together, with the time zones they need),
//! [`split_vcf`] one object per card; each is then put like a CalDAV or
//! CardDAV client would, with `If-None-Match: *`, so a second import of the
//! same file finds everything already there, and a malformed entry is
//! reported on its own while the rest goes in.

use crate::{Collection, Error, Groupware, Precondition, Result};

/// One entry cut out of a file: its text, or why it could not be cut out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where it starts in the file (1-based line), for the report.
    pub line: usize,
    /// The entry's UID, when it has one.
    pub uid: Option<String>,
    pub text: Result<String, String>,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Imported {
    pub created: usize,
    /// Same name or same UID already in the collection.
    pub already: usize,
    /// (line, UID if known, reason in French).
    pub failed: Vec<(usize, Option<String>, String)>,
}

/// The property value of an unfolded content line `NAME[;params]:value`.
fn value_of<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.get(..name.len()).filter(|head| head.eq_ignore_ascii_case(name)).map(|_| &line[name.len()..])?;
    match rest.as_bytes().first() {
        Some(b':') => Some(&rest[1..]),
        Some(b';') => rest.split_once(':').map(|(_, v)| v),
        _ => None,
    }
}

/// Lines of `text`, unfolded (RFC 5545 section 3.1), each with the number of
/// its first physical line.
fn unfolded(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(cont) = raw.strip_prefix([' ', '\t'])
            && let Some(last) = out.last_mut()
        {
            last.1.push_str(cont);
            continue;
        }
        if !raw.is_empty() {
            out.push((i + 1, raw.to_owned()));
        }
    }
    out
}

/// A component `BEGIN:X` ... `END:X` at the top of its parent.
struct Block {
    line: usize,
    kind: String,
    /// Unfolded lines, each with the number of its first physical line.
    lines: Vec<(usize, String)>,
}

/// The top-level blocks of `lines` (nested ones stay inside their parent),
/// and the lines outside any block; an unterminated block is an error.
fn blocks(lines: &[(usize, String)]) -> (Vec<Block>, Vec<String>, Vec<(usize, String)>) {
    let mut out = Vec::new();
    let mut loose = Vec::new();
    let mut errors = Vec::new();
    let mut current: Option<(Block, usize)> = None;
    for (n, line) in lines {
        let begin = value_of(line, "BEGIN").map(|v| v.trim().to_ascii_uppercase());
        let end = value_of(line, "END").map(|v| v.trim().to_ascii_uppercase());
        match (&mut current, begin, end) {
            (None, Some(kind), _) => {
                current = Some((Block { line: *n, kind, lines: vec![(*n, line.clone())] }, 1));
            }
            (None, None, _) => loose.push(line.clone()),
            (Some((block, depth)), b, e) => {
                block.lines.push((*n, line.clone()));
                if b.is_some() {
                    *depth += 1;
                } else if let Some(kind) = e {
                    *depth -= 1;
                    if *depth == 0 {
                        let (block, _) = current.take().expect("a block is open");
                        if kind == block.kind {
                            out.push(block);
                        } else {
                            errors.push((block.line, format!("BEGIN:{} fermé par END:{kind}", block.kind)));
                        }
                    }
                }
            }
        }
    }
    if let Some((block, _)) = current {
        errors.push((block.line, format!("BEGIN:{} sans END (fichier tronqué ?)", block.kind)));
    }
    (out, loose, errors)
}

/// The UID of a block (its own property, not one of a nested component).
fn uid_of(block: &Block) -> Option<String> {
    let mut depth = 0;
    for (_, line) in &block.lines {
        if value_of(line, "BEGIN").is_some() {
            depth += 1;
        } else if value_of(line, "END").is_some() {
            depth -= 1;
        } else if depth == 1
            && let Some(v) = value_of(line, "UID")
        {
            let v = v.trim();
            return (!v.is_empty()).then(|| v.to_owned());
        }
    }
    None
}

/// The TZIDs a component refers to (`DTSTART;TZID=Europe/Paris:...`).
fn tzids(block: &Block) -> Vec<String> {
    let mut out = Vec::new();
    for (_, line) in &block.lines {
        let head = line.split(':').next().unwrap_or_default();
        for param in head.split(';').skip(1) {
            if let Some((k, v)) = param.split_once('=')
                && k.eq_ignore_ascii_case("TZID")
            {
                let v = v.trim_matches('"').to_owned();
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
    }
    out
}

/// One calendar object per UID from an iCalendar file that may hold
/// several VCALENDARs, each with many components.
pub fn split_ics(text: &str) -> Vec<Entry> {
    let lines = unfolded(text);
    let (calendars, _, errors) = blocks(&lines);
    let mut out: Vec<Entry> = errors.into_iter().map(|(line, e)| Entry { line, uid: None, text: Err(e) }).collect();
    if calendars.is_empty() && out.is_empty() {
        out.push(Entry { line: 1, uid: None, text: Err("aucun BEGIN:VCALENDAR dans le fichier".into()) });
    }
    for cal in calendars {
        if cal.kind != "VCALENDAR" {
            out.push(Entry { line: cal.line, uid: None, text: Err(format!("{} hors d'un VCALENDAR", cal.kind)) });
            continue;
        }
        // The calendar's own properties (VERSION, PRODID...), minus METHOD,
        // which a stored object must not carry.
        let inner = &cal.lines[1..cal.lines.len() - 1];
        let (components, props, errors) = blocks(inner);
        out.extend(errors.into_iter().map(|(line, e)| Entry { line, uid: None, text: Err(e) }));
        let props: Vec<String> = props.into_iter().filter(|p| value_of(p, "METHOD").is_none()).collect();
        let (zones, items): (Vec<Block>, Vec<Block>) = components.into_iter().partition(|b| b.kind == "VTIMEZONE");
        // UID -> the components sharing it, in file order.
        let mut groups: Vec<(Option<String>, Vec<Block>)> = Vec::new();
        for item in items {
            let uid = uid_of(&item);
            match groups.iter_mut().find(|(u, _)| uid.is_some() && *u == uid) {
                Some((_, g)) => g.push(item),
                None => groups.push((uid, vec![item])),
            }
        }
        for (uid, group) in groups {
            let line = group[0].line;
            let Some(uid) = uid else {
                out.push(Entry { line, uid: None, text: Err(format!("{} sans UID", group[0].kind)) });
                continue;
            };
            let mut text = String::from("BEGIN:VCALENDAR\r\n");
            for p in &props {
                text.push_str(p);
                text.push_str("\r\n");
            }
            let needed: Vec<String> = group.iter().flat_map(tzids).collect();
            for zone in &zones {
                let id = zone.lines.iter().find_map(|(_, l)| value_of(l, "TZID")).map(|v| v.trim().to_owned());
                if id.is_some_and(|id| needed.contains(&id)) {
                    push_block(&mut text, zone);
                }
            }
            for item in &group {
                push_block(&mut text, item);
            }
            text.push_str("END:VCALENDAR\r\n");
            out.push(Entry { line, uid: Some(uid), text: Ok(text) });
        }
    }
    out.sort_by_key(|e| e.line);
    out
}

fn push_block(text: &mut String, block: &Block) {
    for (_, l) in &block.lines {
        text.push_str(l);
        text.push_str("\r\n");
    }
}

/// One object per VCARD of a vCard file.
pub fn split_vcf(text: &str) -> Vec<Entry> {
    let lines = unfolded(text);
    let (cards, _, errors) = blocks(&lines);
    let mut out: Vec<Entry> = errors.into_iter().map(|(line, e)| Entry { line, uid: None, text: Err(e) }).collect();
    if cards.is_empty() && out.is_empty() {
        out.push(Entry { line: 1, uid: None, text: Err("aucun BEGIN:VCARD dans le fichier".into()) });
    }
    for card in cards {
        if card.kind != "VCARD" {
            out.push(Entry { line: card.line, uid: None, text: Err(format!("{} au lieu de VCARD", card.kind)) });
            continue;
        }
        let uid = uid_of(&card);
        let mut text = String::new();
        push_block(&mut text, &card);
        match uid {
            Some(uid) => out.push(Entry { line: card.line, uid: Some(uid), text: Ok(text) }),
            None => out.push(Entry { line: card.line, uid: None, text: Err("VCARD sans UID".into()) }),
        }
    }
    out.sort_by_key(|e| e.line);
    out
}

/// A stored object's name for a UID: the UID when it is a safe name, else
/// its hash.
pub(crate) fn object_name(uid: &str, extension: &str) -> String {
    let safe = !uid.is_empty()
        && uid.len() <= 200
        && uid.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
        && !uid.starts_with('.');
    if safe {
        format!("{uid}.{extension}")
    } else {
        format!("{}.{extension}", &blake3::hash(uid.as_bytes()).to_hex()[..32])
    }
}

impl Groupware {
    /// Puts each of `entries` into `c` unless already there (same name or
    /// same UID), each entry on its own.
    pub async fn import(&self, c: &Collection, entries: Vec<Entry>) -> Result<Imported> {
        let extension = match c.kind {
            crate::CollectionKind::Calendar => "ics",
            crate::CollectionKind::AddressBook => "vcf",
        };
        let mut done = Imported::default();
        for entry in entries {
            let text = match entry.text {
                Ok(t) => t,
                Err(why) => {
                    done.failed.push((entry.line, entry.uid, why));
                    continue;
                }
            };
            let name = object_name(entry.uid.as_deref().unwrap_or_default(), extension);
            match self.put(c, &name, &text, Precondition::Absent).await {
                Ok(_) => done.created += 1,
                Err(Error::PreconditionFailed | Error::UidConflict(_)) => done.already += 1,
                Err(e @ (Error::Store(_) | Error::NotFound)) => return Err(e),
                Err(e) => done.failed.push((entry.line, entry.uid, e.to_string())),
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//FR\r\nMETHOD:PUBLISH\r\n\
BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\n\
TZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nUID:conseil-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Paris:20261005T160000\r\n\
SUMMARY:Conseil de\r\n  classe\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261006T160000Z\r\nSUMMARY:Sans UID\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:conseil-1\r\nRECURRENCE-ID;TZID=Europe/Paris:20261012T160000\r\nDTSTAMP:20260101T000000Z\r\n\
DTSTART;TZID=Europe/Paris:20261012T170000\r\nEND:VEVENT\r\n\
BEGIN:VTODO\r\nUID:copies\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Copies\r\nEND:VTODO\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn an_ics_file_becomes_one_object_per_uid_with_its_time_zones() {
        let entries = split_ics(ICS);
        let uids: Vec<_> = entries.iter().map(|e| e.uid.clone()).collect();
        assert_eq!(uids, vec![Some("conseil-1".to_owned()), None, Some("copies".to_owned())]);
        let conseil = entries[0].text.as_ref().unwrap();
        assert_eq!(conseil.matches("BEGIN:VEVENT").count(), 2, "the master and its override");
        assert!(conseil.contains("TZID:Europe/Paris") && conseil.contains("SUMMARY:Conseil de classe"));
        assert!(!conseil.contains("METHOD"), "{conseil}");
        assert_eq!(entries[1].text, Err("VEVENT sans UID".into()));
        assert_eq!(entries[1].line, 21);
        let copies = entries[2].text.as_ref().unwrap();
        assert!(!copies.contains("VTIMEZONE"), "no zone it does not use");
    }

    #[test]
    fn a_truncated_file_keeps_what_is_whole() {
        let text = "BEGIN:VCARD\nVERSION:3.0\nUID:a\nFN:A\nEND:VCARD\nBEGIN:VCARD\nUID:b\nFN:B";
        let entries = split_vcf(text);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].uid.as_deref(), Some("a"));
        assert!(entries[0].text.as_ref().unwrap().ends_with("END:VCARD\r\n"));
        assert!(entries[1].text.as_ref().unwrap_err().contains("sans END"));
        assert_eq!(split_vcf("bonjour")[0].text, Err("aucun BEGIN:VCARD dans le fichier".into()));
    }

    #[test]
    fn object_names_are_safe() {
        assert_eq!(object_name("conseil-1", "ics"), "conseil-1.ics");
        assert_eq!(object_name("../../etc", "vcf").len(), 36);
        assert_eq!(object_name("a/b", "vcf").len(), 36);
    }
}
