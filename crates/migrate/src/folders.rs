//! Where a source folder goes: its name decoded and re-spelt with our `/`
//! separator, or one of our special folders when the source marks it
//! (SPECIAL-USE attributes, RFC 6154) or names it as the usual clients do.
//! `--folder-map` overrides come first.

use model::SpecialUse;

/// Our hierarchy separator.
pub const SEPARATOR: char = '/';

/// Where the messages of one source folder go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// One of the account's special folders (Inbox included), whatever its name.
    Special(SpecialUse),
    /// A folder by name (made if missing).
    Named(String),
}

/// `SRC=DEST` pairs given on the command line; SRC is the decoded source name.
#[derive(Debug, Clone, Default)]
pub struct FolderMap {
    pairs: Vec<(String, String)>,
}

impl FolderMap {
    /// Reads `SRC=DEST` arguments.
    pub fn parse(args: &[String]) -> Result<FolderMap, String> {
        let mut pairs = Vec::new();
        for arg in args {
            let Some((src, dest)) = arg.split_once('=') else {
                return Err(format!("--folder-map {arg:?} : attendu SOURCE=DESTINATION / expected SRC=DEST"));
            };
            let (src, dest) = (src.trim(), dest.trim());
            if src.is_empty() || dest.is_empty() {
                return Err(format!("--folder-map {arg:?} : nom vide / empty name"));
            }
            pairs.push((src.to_owned(), dest.to_owned()));
        }
        Ok(FolderMap { pairs })
    }

    fn get(&self, source: &str) -> Option<&str> {
        self.pairs.iter().find(|(s, _)| s == source).map(|(_, d)| d.as_str())
    }
}

/// The special use a source folder's LIST attributes give (RFC 6154), if any.
pub fn special_from_attributes(attributes: &[String]) -> Option<SpecialUse> {
    attributes.iter().find_map(|a| match a.to_ascii_lowercase().as_str() {
        "\\sent" => Some(SpecialUse::Sent),
        "\\drafts" => Some(SpecialUse::Drafts),
        "\\trash" => Some(SpecialUse::Trash),
        "\\junk" => Some(SpecialUse::Junk),
        "\\archive" => Some(SpecialUse::Archive),
        _ => None,
    })
}

/// The special use the usual clients' names for a top-level folder mean
/// (Thunderbird, Outlook, Apple Mail, Roundcube, Zimbra, in English and French).
pub fn special_from_name(name: &str) -> Option<SpecialUse> {
    let lower = name.trim().to_lowercase();
    let is = |names: &[&str]| names.contains(&lower.as_str());
    if is(&["sent", "sent items", "sent messages", "sent mail", "éléments envoyés", "envoyés", "messages envoyés"])
    {
        Some(SpecialUse::Sent)
    } else if is(&["drafts", "draft", "brouillons", "brouillon"]) {
        Some(SpecialUse::Drafts)
    } else if is(&["trash", "deleted items", "deleted messages", "bin", "corbeille", "éléments supprimés"]) {
        Some(SpecialUse::Trash)
    } else if is(&["junk", "spam", "junk e-mail", "junk email", "bulk mail", "indésirables", "courrier indésirable"])
    {
        Some(SpecialUse::Junk)
    } else if is(&["archive", "archives"]) {
        Some(SpecialUse::Archive)
    } else {
        None
    }
}

/// A source name (already decoded from modified UTF-7) split at the source's
/// separator and spelt with ours. A level holding our separator gets `-`
/// instead; `.` and `..` (meaningless as folder names, dangerous to tools
/// that write folders as directories) get a leading `_`; empty levels are
/// dropped.
pub fn our_name(source: &str, delimiter: Option<char>) -> Option<String> {
    let levels: Vec<String> = match delimiter {
        Some(d) => source.split(d).map(str::to_owned).collect(),
        None => vec![source.to_owned()],
    };
    let levels: Vec<String> = levels
        .into_iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.replace(SEPARATOR, "-"))
        .map(|l| if l == "." || l == ".." { format!("_{l}") } else { l })
        .map(|l| l.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|l| !l.trim().is_empty())
        .collect();
    (!levels.is_empty()).then(|| levels.join("/"))
}

/// Where the source folder `source` (decoded) goes.
pub fn destination(
    source: &str,
    delimiter: Option<char>,
    attributes: &[String],
    map: &FolderMap,
) -> Option<Destination> {
    if let Some(dest) = map.get(source) {
        return Some(match dest.to_ascii_uppercase().as_str() {
            "INBOX" => Destination::Special(SpecialUse::Inbox),
            _ => Destination::Named(dest.to_owned()),
        });
    }
    if source.eq_ignore_ascii_case("INBOX") {
        return Some(Destination::Special(SpecialUse::Inbox));
    }
    if let Some(special) = special_from_attributes(attributes) {
        return Some(Destination::Special(special));
    }
    // Courier and Cyrus put every folder under INBOX ("INBOX.Sent"): the
    // special names are looked for one level below it too.
    let top = match delimiter {
        Some(d) => {
            let inbox_child = source.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("INBOX"))
                && source.get(5..).is_some_and(|rest| rest.starts_with(d) && rest.len() > d.len_utf8());
            if inbox_child { &source[5 + d.len_utf8()..] } else { source }
        }
        None => source,
    };
    if delimiter.is_none_or(|d| !top.contains(d))
        && let Some(special) = special_from_name(top)
    {
        return Some(Destination::Special(special));
    }
    our_name(source, delimiter).map(Destination::Named)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(name: &str, delim: char, attrs: &[&str]) -> Option<Destination> {
        let attrs: Vec<String> = attrs.iter().map(|s| s.to_string()).collect();
        destination(name, Some(delim), &attrs, &FolderMap::default())
    }

    #[test]
    fn special_use_attributes_come_first() {
        assert_eq!(
            dest("Mes envois", '/', &["\\HasNoChildren", "\\Sent"]),
            Some(Destination::Special(SpecialUse::Sent))
        );
        assert_eq!(dest("Poubelle", '.', &["\\Trash"]), Some(Destination::Special(SpecialUse::Trash)));
        assert_eq!(dest("inbox", '/', &[]), Some(Destination::Special(SpecialUse::Inbox)));
    }

    #[test]
    fn usual_names_map_to_special_folders() {
        for (name, want) in [
            ("Sent", SpecialUse::Sent),
            ("Sent Items", SpecialUse::Sent),
            ("Éléments envoyés", SpecialUse::Sent),
            ("Drafts", SpecialUse::Drafts),
            ("Trash", SpecialUse::Trash),
            ("Deleted Items", SpecialUse::Trash),
            ("Junk", SpecialUse::Junk),
            ("Spam", SpecialUse::Junk),
            ("INBOX.Sent", SpecialUse::Sent),
            ("Archives", SpecialUse::Archive),
        ] {
            assert_eq!(dest(name, '.', &[]), Some(Destination::Special(want)), "{name}");
        }
        assert_eq!(dest("Projets/Sent", '/', &[]), Some(Destination::Named("Projets/Sent".into())), "only at the top");
        assert_eq!(
            dest("Élèves", '.', &[]),
            Some(Destination::Named("Élèves".into())),
            "multibyte names near INBOX's length"
        );
    }

    #[test]
    fn names_are_respelt_with_our_separator() {
        assert_eq!(
            dest("Réunions.Conseil de classe", '.', &[]),
            Some(Destination::Named("Réunions/Conseil de classe".into()))
        );
        assert_eq!(dest("A/B.C", '.', &[]), Some(Destination::Named("A-B/C".into())), "our separator inside a level");
        assert_eq!(dest("..", '/', &[]), Some(Destination::Named("_..".into())));
        assert_eq!(dest("a/../b", '/', &[]), Some(Destination::Named("a/_../b".into())));
        assert_eq!(dest("//", '/', &[]), None);
    }

    #[test]
    fn the_folder_map_overrides() {
        let map = FolderMap::parse(&["Sent=Archives/Envois 2024".into(), "Boîte=INBOX".into()]).unwrap();
        assert_eq!(
            destination("Sent", Some('/'), &["\\Sent".into()], &map),
            Some(Destination::Named("Archives/Envois 2024".into()))
        );
        assert_eq!(destination("Boîte", Some('/'), &[], &map), Some(Destination::Special(SpecialUse::Inbox)));
        assert!(FolderMap::parse(&["nothing".into()]).is_err());
        assert!(FolderMap::parse(&["=x".into()]).is_err());
    }
}
