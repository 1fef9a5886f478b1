//! The folder list of the sidebar: special-use folders first (Inbox,
//! Drafts, Sent, Archive, Junk, Trash), then the others by name, each with
//! its unread count; below them, each mailbox shared with the reader (a
//! functional mailbox they are a member of, a colleague's delegated
//! folders: issue 22), under its owner's name, with the folders they may
//! look up ([`mailstore::Mailstore::shared_with`]).

use mailstore::{Account, Mailbox};
use model::{Rights, SpecialUse};

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
    /// The account whose folder it is.
    pub owner: i64,
    /// Another account's folder shared with the reader.
    pub shared: bool,
    /// The first folder of a shared mailbox: its owner's label, shown as a heading.
    pub heading: Option<String>,
    /// The reader may file messages into it (`i`).
    pub insert: bool,
    /// The last folder of a shared mailbox (its list ends after it).
    pub group_end: bool,
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
            owner: account.id,
            shared: false,
            heading: None,
            insert: true,
            group_end: false,
        });
    }
    let mut last_owner = None;
    for s in app.ms.shared_with(account.id).await? {
        if s.mailbox.placeholder {
            continue;
        }
        let unread = if s.rights.contains(Rights::READ) { app.ms.unseen_count(s.mailbox.id).await? } else { 0 };
        let first = last_owner != Some(s.mailbox.account_id);
        last_owner = Some(s.mailbox.account_id);
        out.push(FolderView {
            id: s.mailbox.id,
            name: display_name(&s.mailbox, t),
            path: format!("{} / {}", s.label, display_name(&s.mailbox, t)),
            special: true,
            unread,
            current: current == Some(s.mailbox.id),
            depth: s.mailbox.name.matches('/').count(),
            owner: s.mailbox.account_id,
            shared: true,
            heading: first.then(|| s.label.clone()),
            insert: s.rights.contains(Rights::INSERT),
            group_end: false,
        });
    }
    let count = out.len();
    for i in 0..count {
        let next_starts = out.get(i + 1).is_none_or(|n| n.heading.is_some());
        if out[i].shared && next_starts {
            out[i].group_end = true;
        }
    }
    Ok(out)
}

/// The folders messages of `mailbox` may go to from `folders` (a sidebar):
/// the same owner's, that the reader may file into, other than itself.
pub fn targets(folders: &[FolderView], mailbox: &Mailbox) -> Vec<FolderView> {
    folders.iter().filter(|f| f.owner == mailbox.account_id && f.insert && f.id != mailbox.id).cloned().collect()
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
