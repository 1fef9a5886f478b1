//! Maildir trees: Dovecot's and Courier's Maildir++ (the Inbox at the top,
//! folders as `.Parent.Child` directories, names in modified UTF-7) and
//! plain nested folders (`Parent/Child/{cur,new}`, Dovecot's `LAYOUT=fs`).
//! Flags come from the `:2,` info of each file name, keywords from the
//! lowercase letters through the folder's `dovecot-keywords`, the internal
//! date from the file's modification time (as Dovecot takes it). Anything
//! else found is a stray, reported and left alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use model::Flag;

use model::mutf7;

/// Paths found that are neither folders nor messages, with the reason.
pub type Strays = Vec<(PathBuf, String)>;

/// A folder found in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Our name (levels joined with `/`); `None` for the Inbox.
    pub name: Option<String>,
    pub path: PathBuf,
}

/// Files of a Maildir that are not messages and not strays.
const KNOWN_FILES: &[&str] = &[
    "dovecot-uidlist",
    "dovecot-keywords",
    "dovecot-shared",
    "subscriptions",
    "maildirfolder",
    "maildirsize",
    "courierimapkeywords",
    "courierimapsubscribed",
    "courierimapuiddb",
];

fn known_file(name: &str) -> bool {
    KNOWN_FILES.contains(&name) || name.starts_with("dovecot.") || name.starts_with("dovecot-uidvalidity")
}

fn is_maildir(path: &Path) -> bool {
    path.join("cur").is_dir() || path.join("new").is_dir()
}

/// Every folder of the tree, and the strays met on the way (path, reason).
pub fn folders(root: &Path) -> std::io::Result<(Vec<Folder>, Strays)> {
    let mut found = Vec::new();
    let mut strays = Vec::new();
    if is_maildir(root) {
        found.push(Folder { name: None, path: root.to_owned() });
    }
    walk(root, &[], &mut found, &mut strays)?;
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((found, strays))
}

fn decode_level(level: &str) -> String {
    mutf7::decode(level.as_bytes()).unwrap_or_else(|| level.to_owned())
}

fn walk(
    dir: &Path,
    parents: &[String],
    found: &mut Vec<Folder>,
    strays: &mut Vec<(PathBuf, String)>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_file() {
            if !known_file(&name) {
                strays.push((path, "fichier inconnu hors de cur/ et new/".into()));
            }
            continue;
        }
        if !kind.is_dir() {
            strays.push((path, "ni fichier ni dossier".into()));
            continue;
        }
        if ["cur", "new", "tmp"].contains(&name.as_str()) && parents.is_empty() && is_maildir(dir) {
            continue;
        }
        if ["cur", "new", "tmp"].contains(&name.as_str()) && !parents.is_empty() {
            continue;
        }
        if let Some(dotted) = name.strip_prefix('.').filter(|_| parents.is_empty()) {
            // Maildir++: `.A.B` is A/B; `.` and `..` never appear in read_dir.
            let levels: Vec<String> = dotted.split('.').filter(|l| !l.is_empty()).map(decode_level).collect();
            match crate::folders::our_name(&levels.join("\u{0}"), Some('\u{0}')) {
                Some(our) if is_maildir(&path) => found.push(Folder { name: Some(our), path: path.clone() }),
                _ => strays.push((path, "dossier caché qui n'est pas un dossier Maildir++".into())),
            }
            continue;
        }
        let mut levels = parents.to_vec();
        levels.push(decode_level(&name));
        let before = found.len();
        if is_maildir(&path) {
            let our = crate::folders::our_name(&levels.join("\u{0}"), Some('\u{0}'));
            match our {
                Some(our) => found.push(Folder { name: Some(our), path: path.clone() }),
                None => strays.push((path.clone(), "nom de dossier vide".into())),
            }
        }
        walk(&path, &levels, found, strays)?;
        if found.len() == before {
            strays.push((path, "dossier sans messages Maildir (ni cur/ ni new/)".into()));
        }
    }
    Ok(())
}

/// One message file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFile {
    pub path: PathBuf,
    pub file_name: String,
    pub flags: i64,
    pub keywords: Vec<String>,
}

/// The keywords of a folder's `dovecot-keywords` (`0 $Label1`), by letter.
pub fn keyword_letters(folder: &Path) -> HashMap<char, String> {
    let Ok(text) = std::fs::read_to_string(folder.join("dovecot-keywords")) else { return HashMap::new() };
    text.lines()
        .filter_map(|l| {
            let (n, name) = l.split_once(' ')?;
            let n: u32 = n.trim().parse().ok()?;
            (n < 26).then(|| (char::from(b'a' + n as u8), name.trim().to_owned()))
        })
        .collect()
}

/// The flags and keywords of a file name's `:2,` info (`1.M2.host:2,FRSa`).
pub fn info_flags(file_name: &str, letters: &HashMap<char, String>) -> (i64, Vec<String>) {
    let Some((_, info)) = file_name.rsplit_once(":2,").or_else(|| file_name.rsplit_once("!2,")) else {
        return (0, Vec::new());
    };
    let mut bits = 0;
    let mut keywords = Vec::new();
    for c in info.chars() {
        match c {
            'S' => bits |= Flag::Seen.bit(),
            'R' => bits |= Flag::Answered.bit(),
            'F' => bits |= Flag::Flagged.bit(),
            'T' => bits |= Flag::Deleted.bit(),
            'D' => bits |= Flag::Draft.bit(),
            'P' => keywords.push("$Forwarded".to_owned()),
            'a'..='z' => {
                if let Some(k) = letters.get(&c) {
                    keywords.push(k.clone());
                }
            }
            _ => {}
        }
    }
    keywords.sort();
    keywords.dedup();
    (bits, keywords)
}

/// The messages of a folder (`cur/` then `new/`), and its strays.
pub fn messages(folder: &Path) -> std::io::Result<(Vec<MessageFile>, Strays)> {
    let letters = keyword_letters(folder);
    let mut out = Vec::new();
    let mut strays = Vec::new();
    for sub in ["cur", "new"] {
        let dir = folder.join(sub);
        let Ok(read) = std::fs::read_dir(&dir) else { continue };
        let mut entries: Vec<_> = read.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if file_name.starts_with('.') || !entry.file_type()?.is_file() {
                strays.push((entry.path(), "ni un message ni un fichier ordinaire".into()));
                continue;
            }
            // Mail in new/ was never seen by a client: no flags yet.
            let (flags, keywords) = if sub == "cur" { info_flags(&file_name, &letters) } else { (0, Vec::new()) };
            out.push(MessageFile { path: entry.path(), file_name, flags, keywords });
        }
    }
    Ok((out, strays))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_flags_and_keywords() {
        let letters: HashMap<char, String> = [('a', "$Label1".to_owned()), ('b', "Travail".to_owned())].into();
        let (bits, kw) = info_flags("1733.M1P2.host,S=1234,W=1260:2,FRSab", &letters);
        assert_eq!(bits, Flag::Flagged.bit() | Flag::Answered.bit() | Flag::Seen.bit());
        assert_eq!(kw, ["$Label1", "Travail"]);
        assert_eq!(
            info_flags("1733.M1P2.host:2,DPT", &letters),
            (Flag::Draft.bit() | Flag::Deleted.bit(), vec!["$Forwarded".into()])
        );
        assert_eq!(info_flags("1733.M1P2.host", &letters), (0, vec![]));
        assert_eq!(info_flags("x:2,z", &letters), (0, vec![]), "an unknown letter is no keyword");
    }

    #[test]
    fn both_layouts_and_strays() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        for d in
            ["cur", "new", "tmp", ".Projets/cur", ".Projets.Ann&AOk-e 2025/cur", "Archives/2024/cur", ".cache", "vide"]
        {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        std::fs::write(r.join("dovecot-uidlist"), "").unwrap();
        std::fs::write(r.join("notes.txt"), "x").unwrap();
        std::fs::write(r.join("cur/1.M1.h:2,S"), "Subject: a\r\n\r\n").unwrap();
        std::fs::write(r.join("cur/.hidden"), "").unwrap();
        std::fs::write(r.join("new/2.M2.h"), "Subject: b\r\n\r\n").unwrap();
        let (found, strays) = folders(r).unwrap();
        let names: Vec<Option<&str>> = found.iter().map(|f| f.name.as_deref()).collect();
        assert_eq!(names, [None, Some("Archives/2024"), Some("Projets"), Some("Projets/Année 2025")]);
        let stray_names: Vec<String> =
            strays.iter().map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(stray_names, [".cache", "notes.txt", "vide"]);
        let (msgs, strays) = messages(r).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].flags, Flag::Seen.bit());
        assert_eq!(msgs[1].flags, 0);
        assert_eq!(strays.len(), 1);
    }
}
