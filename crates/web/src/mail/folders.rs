//! The folder list of the sidebar: special-use folders first (Inbox,
//! Drafts, Sent, Archive, Junk, Trash), then the others by name, each with
//! its unread count.

use mailstore::{Account, Mailbox};
use model::SpecialUse;

use super::M;
use crate::App;
use crate::base::i18n::Lang;

/// One folder as the sidebar and the "move to" menu show it.
#[derive(Debug, Clone)]
pub struct FolderView {
    pub id: i64,
    pub name: String,
    /// The full path (`Projets/2026`), for menus where levels matter.
    pub path: String,
    /// A special-use folder: never renamed or deleted from the webmail.
    pub special: bool,
    pub unread: i64,
    pub current: bool,
    /// Nesting level (0 for top-level folders).
    pub depth: usize,
}

impl FolderView {
    /// The CSS class for the nesting level (no inline style is allowed).
    pub fn level_class(&self) -> String {
        format!("niveau-{}", self.depth.min(4))
    }
}

fn rank(m: &Mailbox) -> usize {
    let order = [
        SpecialUse::Inbox,
        SpecialUse::Drafts,
        SpecialUse::Sent,
        SpecialUse::Archive,
        SpecialUse::Junk,
        SpecialUse::Trash,
    ];
    m.special_use.and_then(|s| order.iter().position(|o| *o == s)).unwrap_or(order.len())
}

/// The name to show: special-use folders in the reader's language.
pub fn display_name(m: &Mailbox, t: M) -> String {
    let english = t.0 == Lang::En;
    match (m.special_use, english) {
        (Some(SpecialUse::Inbox), false) => "Boîte de réception".into(),
        (Some(SpecialUse::Inbox), true) => "Inbox".into(),
        (Some(SpecialUse::Drafts), true) => "Drafts".into(),
        (Some(SpecialUse::Sent), true) => "Sent".into(),
        (Some(SpecialUse::Trash), true) => "Trash".into(),
        (Some(SpecialUse::Junk), true) => "Junk".into(),
        (Some(SpecialUse::Archive), true) => "Archive".into(),
        _ => m.name.rsplit('/').next().unwrap_or(&m.name).to_owned(),
    }
}

/// Orders an account's mailboxes for display.
pub fn sorted(mut boxes: Vec<Mailbox>) -> Vec<Mailbox> {
    // Level by level, so that a folder's children come right after it.
    boxes.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.name.split('/').cmp(b.name.split('/'))));
    boxes
}

/// The sidebar of `account`, `current` highlighted.
pub async fn sidebar(
    app: &App,
    account: &Account,
    current: Option<i64>,
    t: M,
) -> Result<Vec<FolderView>, mailstore::Error> {
    let boxes = sorted(app.ms.mailboxes(account.id).await?);
    let mut out = Vec::with_capacity(boxes.len());
    for m in boxes {
        let unread = app.ms.unseen_count(m.id).await?;
        out.push(FolderView {
            id: m.id,
            name: display_name(&m, t),
            path: if m.special_use.is_some() { display_name(&m, t) } else { m.name.clone() },
            special: m.special_use.is_some() || m.name == "INBOX",
            unread,
            current: current == Some(m.id),
            depth: m.name.matches('/').count(),
        });
    }
    Ok(out)
}

/// Checks a new folder's name: 1 to 100 characters, no control characters,
/// no `/` (a sub-folder is made by choosing its parent) and no IMAP wildcards.
pub fn valid_new_name(name: &str) -> Option<&str> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= 100
        && !name.chars().any(|c| c.is_control() || matches!(c, '/' | '%' | '*' | '\\'))
        && !name.eq_ignore_ascii_case("inbox");
    ok.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_folder_names() {
        assert_eq!(valid_new_name("  Projets 2026 "), Some("Projets 2026"));
        assert_eq!(valid_new_name("Élèves"), Some("Élèves"));
        for bad in ["", "   ", "a/b", "x%", "inbox", "a\u{7}b", &"x".repeat(101)] {
            assert_eq!(valid_new_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn children_follow_their_parent() {
        let mk = |name: &str| Mailbox {
            id: 0,
            account_id: 1,
            parent_id: None,
            name: name.into(),
            special_use: None,
            uid_validity: 1,
            uid_next: 1,
            highest_modseq: 0,
            placeholder: false,
            created_at: 0,
        };
        let names: Vec<String> =
            sorted(vec![mk("Projets 2026"), mk("Projets/Sorties"), mk("Projets"), mk("Archives perso")])
                .into_iter()
                .map(|m| m.name)
                .collect();
        assert_eq!(names, ["Archives perso", "Projets", "Projets/Sorties", "Projets 2026"]);
    }
}
