//! Which names LIST and LSUB answer with, and their attributes: a pure
//! function of the account's mailboxes, its subscriptions and the patterns.
//!
//! - RFC 9051 section 6.3.9 and RFC 5258 (LIST-EXTENDED): the SUBSCRIBED
//!   selection lists subscribed names whether or not a mailbox has them
//!   (`\NonExistent` when none does); RECURSIVEMATCH adds a name whose
//!   descendant is selected but does not match the pattern, with
//!   `("CHILDINFO" ("SUBSCRIBED"))`; the SUBSCRIBED return option marks
//!   subscribed names `\Subscribed`.
//! - RFC 3501 section 6.3.9 (LSUB): when `foo/bar` is subscribed and `foo`
//!   is not, `LSUB "" "%"` returns `foo` with `\Noselect`.
//! - A placeholder parent (made by creating something below it) is
//!   `\Noselect`; every existing name gets `\HasChildren` or
//!   `\HasNoChildren`, and its special use (RFC 6154).

use std::collections::{BTreeMap, BTreeSet};

use mailstore::Mailbox;

use crate::command::ListOptions;
use crate::mailboxes::special_attribute;
use crate::pattern::Pattern;

/// One line of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    pub name: String,
    pub attributes: Vec<&'static str>,
    /// `("CHILDINFO" ("SUBSCRIBED"))`: a descendant is subscribed but was
    /// not listed itself.
    pub childinfo_subscribed: bool,
    /// The mailbox, when it exists and can be selected (LIST-STATUS answers
    /// for these only, RFC 5819 section 2).
    pub selectable: Option<&'a Mailbox>,
}

/// The answer to LIST with these options.
pub(crate) fn list<'a>(
    mailboxes: &'a [Mailbox],
    subscriptions: &[String],
    patterns: &[Pattern],
    options: ListOptions,
) -> Vec<Entry<'a>> {
    let by_name: BTreeMap<&str, &Mailbox> = mailboxes.iter().map(|m| (m.name.as_str(), m)).collect();
    let subscribed: BTreeSet<&str> = subscriptions.iter().map(String::as_str).collect();
    let matches = |name: &str| patterns.iter().any(|p| p.matches(name));
    // Does this name meet the selection criteria (apart from the pattern)?
    let selected = |name: &str| -> bool {
        (!options.subscribed || subscribed.contains(name))
            && (!options.special_use
                || by_name.get(name).is_some_and(|m| m.special_use.and_then(special_attribute).is_some()))
    };
    // The names to consider: every mailbox, and with SUBSCRIBED every
    // subscribed name and its ancestors (which RECURSIVEMATCH may list).
    let mut names: BTreeSet<&str> = by_name.keys().copied().collect();
    if options.subscribed {
        for s in &subscribed {
            names.insert(s);
            names.extend(ancestors(s));
        }
    }
    let mut out = Vec::new();
    for name in names {
        if !matches(name) {
            continue;
        }
        let is_selected = selected(name);
        // RECURSIVEMATCH (RFC 5258 section 3.5): the CHILDINFO extended
        // item says a descendant meets the criteria without matching the
        // pattern. Only SUBSCRIBED has a CHILDINFO value defined.
        let childinfo = options.recursive
            && options.subscribed
            && subscribed
                .range(name..)
                .take_while(|s| s.starts_with(name))
                .any(|s| s.len() > name.len() && s.as_bytes()[name.len()] == b'/' && selected(s) && !matches(s));
        if !is_selected && !childinfo {
            continue;
        }
        let mut attributes = attributes_of(name, by_name.get(name).copied(), &by_name);
        if options.return_subscribed && subscribed.contains(name) {
            attributes.push("\\Subscribed");
        }
        let selectable = by_name.get(name).copied().filter(|m| !m.placeholder);
        out.push(Entry { name: name.to_owned(), attributes, childinfo_subscribed: childinfo, selectable });
    }
    out
}

/// The answer to LSUB (RFC 3501 section 6.3.9).
pub(crate) fn lsub<'a>(mailboxes: &'a [Mailbox], subscriptions: &[String], patterns: &[Pattern]) -> Vec<Entry<'a>> {
    let by_name: BTreeMap<&str, &Mailbox> = mailboxes.iter().map(|m| (m.name.as_str(), m)).collect();
    let subscribed: BTreeSet<&str> = subscriptions.iter().map(String::as_str).collect();
    let matches = |name: &str| patterns.iter().any(|p| p.matches(name));
    // A subscribed name that the pattern misses (`%` stops at `/`) shows
    // through its nearest ancestor the pattern matches, as `\Noselect`.
    let mut shown: BTreeMap<&str, bool> = BTreeMap::new();
    for s in &subscribed {
        if matches(s) {
            shown.insert(s, true);
        } else if let Some(a) = ancestors(s).into_iter().rev().find(|a| matches(a)) {
            shown.entry(a).or_insert(false);
        }
    }
    shown
        .into_iter()
        .map(|(name, is_subscribed)| {
            let mailbox = by_name.get(name).copied().filter(|m| !m.placeholder);
            let attributes = if is_subscribed && mailbox.is_some() { Vec::new() } else { vec!["\\Noselect"] };
            Entry { name: name.to_owned(), attributes, childinfo_subscribed: false, selectable: mailbox }
        })
        .collect()
}

/// The attributes of a name that a mailbox may have: children, whether it
/// can be selected, its special use.
fn attributes_of(name: &str, mailbox: Option<&Mailbox>, by_name: &BTreeMap<&str, &Mailbox>) -> Vec<&'static str> {
    let Some(m) = mailbox else {
        // RFC 5258 section 3.4: \NonExistent implies \Noselect.
        return vec!["\\NonExistent"];
    };
    let prefix = format!("{name}/");
    let has_children = by_name.range(prefix.as_str()..).next().is_some_and(|(n, _)| n.starts_with(&prefix));
    let mut attributes = vec![if has_children { "\\HasChildren" } else { "\\HasNoChildren" }];
    if m.placeholder {
        attributes.push("\\Noselect");
    }
    if let Some(special) = m.special_use.and_then(special_attribute) {
        attributes.push(special);
    }
    attributes
}

/// `a`, `a/b` for `a/b/c`: the superior names of a name, outermost first.
fn ancestors(name: &str) -> Vec<&str> {
    name.match_indices('/').map(|(i, _)| &name[..i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mbx(name: &str, placeholder: bool) -> Mailbox {
        Mailbox {
            id: name.len() as i64,
            account_id: 1,
            parent_id: None,
            name: name.into(),
            special_use: None,
            uid_validity: 1,
            uid_next: 1,
            highest_modseq: 1,
            placeholder,
            created_at: 0,
        }
    }

    fn lines(entries: &[Entry<'_>]) -> Vec<String> {
        entries
            .iter()
            .map(|e| {
                let info = if e.childinfo_subscribed { " CHILDINFO" } else { "" };
                format!("({}) {}{info}", e.attributes.join(" "), e.name)
            })
            .collect()
    }

    fn subs(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn opts(subscribed: bool, recursive: bool, return_subscribed: bool) -> ListOptions {
        ListOptions { subscribed, special_use: false, recursive, return_subscribed }
    }

    #[test]
    fn placeholders_are_noselect_parents() {
        let boxes = [mbx("INBOX", false), mbx("Élèves", true), mbx("Élèves/3e B", false)];
        let all = list(&boxes, &[], &[Pattern::new("*")], ListOptions::default());
        assert_eq!(
            lines(&all),
            ["(\\HasNoChildren) INBOX", "(\\HasChildren \\Noselect) Élèves", "(\\HasNoChildren) Élèves/3e B"]
        );
        assert!(all[1].selectable.is_none() && all[2].selectable.is_some());
    }

    /// RFC 5258 section 5, example 5 (adapted to our delimiter): subscribed
    /// names with and without mailboxes.
    #[test]
    fn subscribed_selection_lists_names_without_mailboxes() {
        let boxes = [mbx("INBOX", false), mbx("Fruit", false), mbx("Fruit/Banana", false), mbx("Tofu", false)];
        let s = subs(&["INBOX", "Fruit/Banana", "Fruit/Peach"]);
        let got = list(&boxes, &s, &[Pattern::new("*")], opts(true, false, true));
        assert_eq!(
            lines(&got),
            [
                "(\\HasNoChildren \\Subscribed) Fruit/Banana",
                "(\\NonExistent \\Subscribed) Fruit/Peach",
                "(\\HasNoChildren \\Subscribed) INBOX",
            ]
        );
        // Plain LIST with RETURN (SUBSCRIBED) marks them, lists no ghost.
        let got = list(&boxes, &s, &[Pattern::new("*")], opts(false, false, true));
        assert_eq!(lines(&got)[..2], ["(\\HasChildren) Fruit", "(\\HasNoChildren \\Subscribed) Fruit/Banana"]);
        assert_eq!(got.len(), 4);
    }

    /// RFC 5258 section 5, example 6: RECURSIVEMATCH with `%`.
    #[test]
    fn recursivematch_gives_childinfo() {
        let boxes = [mbx("Foo", false), mbx("Foo/Bar", false), mbx("Foo/Baz", false), mbx("Moo", false)];
        let s = subs(&["Foo/Baz", "Moo", "Ghost/Child"]);
        let got = list(&boxes, &s, &[Pattern::new("%")], opts(true, true, true));
        assert_eq!(
            lines(&got),
            ["(\\HasChildren) Foo CHILDINFO", "(\\NonExistent) Ghost CHILDINFO", "(\\HasNoChildren \\Subscribed) Moo"]
        );
        // Without RECURSIVEMATCH, `%` misses Foo/Baz and lists no parent.
        let got = list(&boxes, &s, &[Pattern::new("%")], opts(true, false, true));
        assert_eq!(lines(&got), ["(\\HasNoChildren \\Subscribed) Moo"]);
        // A descendant that matches the pattern itself gives no CHILDINFO.
        let got = list(&boxes, &s, &[Pattern::new("*")], opts(true, true, true));
        assert!(got.iter().all(|e| !e.childinfo_subscribed), "{:?}", lines(&got));
    }

    #[test]
    fn lsub_shows_unsubscribed_parents_as_noselect() {
        let boxes = [mbx("foo", false), mbx("foo/bar", false), mbx("gone", false)];
        let s = subs(&["foo/bar", "deleted"]);
        assert_eq!(lines(&lsub(&boxes, &s, &[Pattern::new("%")])), ["(\\Noselect) deleted", "(\\Noselect) foo"]);
        assert_eq!(lines(&lsub(&boxes, &s, &[Pattern::new("*")])), ["(\\Noselect) deleted", "() foo/bar"]);
        assert!(lsub(&boxes, &[], &[Pattern::new("*")]).is_empty());
    }

    #[test]
    fn special_use_selection() {
        let mut sent = mbx("Envoyés", false);
        sent.special_use = Some(model::SpecialUse::Sent);
        let boxes = [mbx("INBOX", false), sent];
        let o = ListOptions { special_use: true, ..ListOptions::default() };
        assert_eq!(lines(&list(&boxes, &[], &[Pattern::new("*")], o)), ["(\\HasNoChildren \\Sent) Envoyés"]);
    }
}
