//! CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 section 4): the ESEARCH
//! answer of SEARCH and SORT with `RETURN (...)` (PARTIAL included), and
//! the searches kept up to date (`RETURN (UPDATE)`).
//!
//! A search with UPDATE becomes a [`Context`] of the selected mailbox: its
//! program and its current results (UIDs, in mailbox order for SEARCH, in
//! the requested order for SORT). Whenever the session reports changes to
//! the mailbox ([`Conn::sync`]: after every command, during IDLE, and when
//! NOTIFY or a context makes it listen between commands), each context is
//! evaluated again and the difference goes out as
//! `* ESEARCH (TAG "t") [UID] REMOVEFROM (...) ADDTO (...)`, after the
//! EXISTS that brought new messages and before the EXPUNGE that removes
//! old ones, so that message numbers in it are valid when sent
//! (RFC 5267 sections 4.3.3 and 4.3.4). Contexts end with the selection or
//! with CANCELUPDATE; a session keeps at most [`MAX_CONTEXTS`], beyond which
//! the search is answered without updates and `* NO [NOUPDATE "t"]`.

use std::collections::HashSet;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::{ReturnOptions, SearchKey, SortKey};
use crate::messages::compact_set;
use crate::reply::Done;
use crate::selected::Selected;
use crate::session::Conn;

/// Updating contexts a session may keep at once (RFC 5267 section 4.3.1:
/// "Servers MUST provide at least one updating context per client").
pub const MAX_CONTEXTS: usize = 8;

/// A search kept up to date for the client.
#[derive(Debug)]
pub struct Context {
    /// The tag of the searching command: the ESEARCH correlator.
    pub tag: String,
    /// UID SEARCH/SORT: updates name UIDs, else message numbers.
    pub uid: bool,
    pub key: SearchKey,
    /// The SORT criteria; `None` for a SEARCH (results in mailbox order).
    pub sort: Option<Vec<SortKey>>,
    /// The results the client holds, as UIDs, in result order.
    pub results: Vec<u32>,
}

/// The ESEARCH line answering a SEARCH or SORT with return options:
/// `results` are UIDs or message numbers, in result order.
pub(crate) fn esearch_line(tag: &str, uid: bool, results: &[i64], opts: &ReturnOptions) -> String {
    let mut line = format!("ESEARCH (TAG \"{tag}\")");
    if uid {
        line.push_str(" UID");
    }
    let items: Vec<&str> = if opts.items.is_empty() && opts.partial.is_none() && !opts.update {
        vec!["ALL"]
    } else {
        opts.items.iter().map(String::as_str).collect()
    };
    for item in items {
        match item {
            "MIN" if !results.is_empty() => line.push_str(&format!(" MIN {}", results[0])),
            "MAX" if !results.is_empty() => line.push_str(&format!(" MAX {}", results[results.len() - 1])),
            "COUNT" => line.push_str(&format!(" COUNT {}", results.len())),
            "ALL" if !results.is_empty() => line.push_str(&format!(" ALL {}", compact_set(results))),
            _ => {}
        }
    }
    if let Some((first, last)) = opts.partial {
        // RFC 5267 section 4.4: the range as asked, and the results that
        // exist in it, or NIL.
        let from = (first as usize - 1).min(results.len());
        let to = (last as usize).min(results.len());
        let part = &results[from..to];
        let set = if part.is_empty() { "NIL".to_owned() } else { compact_set(part) };
        line.push_str(&format!(" PARTIAL ({first}:{last} {set})"));
    }
    line
}

/// The REMOVEFROM and ADDTO pairs `(position, uid)` that turn `old` into
/// `new`, positions 1-based and applied in order. For a SEARCH (mailbox
/// order) positions are 0 ("wherever they occur", RFC 5267 section 4.3.3).
/// The results that stay keep their relative order (sort keys do not
/// change while a message lives), so removing first and then inserting
/// left to right is exact.
pub(crate) fn diff(old: &[u32], new: &[u32], positional: bool) -> (Placed, Placed) {
    let now: HashSet<u32> = new.iter().copied().collect();
    let before: HashSet<u32> = old.iter().copied().collect();
    let mut removed = Vec::new();
    let mut shift = 0;
    for (i, u) in old.iter().enumerate() {
        if !now.contains(u) {
            removed.push((if positional { i + 1 - shift } else { 0 }, *u));
            shift += 1;
        }
    }
    let added = new
        .iter()
        .enumerate()
        .filter(|(_, u)| !before.contains(u))
        .map(|(j, u)| (if positional { j + 1 } else { 0 }, *u))
        .collect();
    (removed, added)
}

/// `(position, uid)` pairs of an ADDTO or REMOVEFROM.
pub(crate) type Placed = Vec<(usize, u32)>;

/// `(0 set)` for mailbox-order contexts, `(p1 n1 p2 n2 ...)` for sorted ones.
fn pairs(list: &[(usize, i64)], positional: bool) -> String {
    if !positional {
        let numbers: Vec<i64> = list.iter().map(|(_, n)| *n).collect();
        return format!("0 {}", compact_set(&numbers));
    }
    list.iter().map(|(p, n)| format!("{p} {n}")).collect::<Vec<_>>().join(" ")
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// Keeps the search answered under `tag` up to date, or says why not.
    /// `results` are the UIDs just sent, in result order.
    pub(crate) fn keep_context(
        &mut self,
        sel: &mut Selected,
        tag: &str,
        uid: bool,
        (key, sort): (&SearchKey, Option<&[SortKey]>),
        results: Vec<u32>,
    ) {
        if sel.contexts.len() >= MAX_CONTEXTS {
            self.untagged(&format!(
                "NO [NOUPDATE \"{tag}\"] Trop de recherches suivies, annulez-en une / Too many updating contexts"
            ));
            return;
        }
        sel.contexts.push(Context {
            tag: tag.to_owned(),
            uid,
            key: key.clone(),
            sort: sort.map(<[_]>::to_vec),
            results,
        });
    }

    /// Evaluates every context again and reports how its results changed.
    /// Called by [`Conn::sync`] once new messages are in the view and
    /// before expunged ones leave it.
    pub(crate) async fn refresh_contexts(&mut self, sel: &mut Selected) {
        let account = sel.mailbox.account_id;
        let mut contexts = std::mem::take(&mut sel.contexts);
        for c in &mut contexts {
            let now: Vec<u32> = match self.matching(account, sel, &c.key, c.sort.is_some()).await {
                Ok(matched) => match &c.sort {
                    Some(criteria) => {
                        crate::sort::sorted(criteria, &matched).into_iter().map(|(_, uid)| uid as u32).collect()
                    }
                    None => matched.rows.iter().map(|(_, r)| r.uid as u32).collect(),
                },
                Err(_) => continue,
            };
            let positional = c.sort.is_some();
            let (removed, added) = diff(&c.results, &now, positional);
            if removed.is_empty() && added.is_empty() {
                continue;
            }
            let number = |u: u32| if c.uid { Some(i64::from(u)) } else { sel.seq_of(u).map(|s| s as i64) };
            let numbered = |list: &[(usize, u32)]| -> Vec<(usize, i64)> {
                list.iter().filter_map(|(p, u)| number(*u).map(|n| (*p, n))).collect()
            };
            let (removed, added) = (numbered(&removed), numbered(&added));
            let mut line = format!("ESEARCH (TAG \"{}\")", c.tag);
            if c.uid {
                line.push_str(" UID");
            }
            if !removed.is_empty() {
                line.push_str(&format!(" REMOVEFROM ({})", pairs(&removed, positional)));
            }
            if !added.is_empty() {
                line.push_str(&format!(" ADDTO ({})", pairs(&added, positional)));
            }
            self.untagged(&line);
            c.results = now;
        }
        sel.contexts = contexts;
    }
}

/// RFC 5267 section 4.3: "An attempt to use UPDATE where a tag is already
/// in use with a previous searching command that itself used UPDATE SHALL
/// result in the server rejecting the searching command with a BAD response."
pub(crate) fn reused(sel: &Selected, tag: &str, opts: Option<&ReturnOptions>) -> Option<Done> {
    (opts.is_some_and(|o| o.update) && sel.contexts.iter().any(|c| c.tag == tag))
        .then(|| Done::bad("Tag reuse: an updating search already has this tag"))
}

/// CANCELUPDATE: the named contexts stop; a tag that names none is a BAD.
pub(crate) fn cancel(sel: &mut Selected, tags: &[String]) -> Done {
    if let Some(unknown) = tags.iter().find(|t| !sel.contexts.iter().any(|c| &c.tag == *t)) {
        return Done::bad(&format!("No updating search has the tag {unknown}"));
    }
    sel.contexts.retain(|c| !tags.contains(&c.tag));
    Done::ok("CANCELUPDATE completed")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies REMOVEFROM then ADDTO as RFC 5267 sections 4.3.3/4.3.4 tell a client to.
    fn apply(old: &[u32], removed: &[(usize, u32)], added: &[(usize, u32)]) -> Vec<u32> {
        let mut list = old.to_vec();
        for (p, u) in removed {
            if *p == 0 {
                list.retain(|x| x != u);
            } else {
                assert_eq!(list[p - 1], *u, "REMOVEFROM position names the result");
                list.remove(p - 1);
            }
        }
        for (p, u) in added {
            if *p == 0 {
                let at = list.iter().position(|x| x > u).unwrap_or(list.len());
                list.insert(at, *u);
            } else {
                list.insert(p - 1, *u);
            }
        }
        list
    }

    #[test]
    fn sorted_diffs_replay_to_the_new_order() {
        let cases: &[(&[u32], &[u32])] = &[
            (&[5, 3, 9, 1], &[5, 9, 1]),
            (&[5, 3, 9, 1], &[7, 5, 3, 8, 9, 1, 2]),
            (&[5, 3, 9, 1], &[4, 9, 6]),
            (&[], &[2, 1]),
            (&[2, 1], &[]),
        ];
        for (old, new) in cases {
            let (removed, added) = diff(old, new, true);
            assert_eq!(apply(old, &removed, &added), *new, "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn mailbox_order_diffs_use_position_zero() {
        let (removed, added) = diff(&[1, 4, 7], &[1, 7, 8, 9], false);
        assert_eq!(removed, [(0, 4)]);
        assert_eq!(added, [(0, 8), (0, 9)]);
        assert_eq!(apply(&[1, 4, 7], &removed, &added), [1, 7, 8, 9]);
    }

    #[test]
    fn partial_gives_the_range_asked_and_what_exists_in_it() {
        let opts = |p| ReturnOptions { partial: Some(p), ..ReturnOptions::default() };
        let results = [2, 3, 4, 10, 11];
        // RFC 5267 section 4.4 example shapes: a range past the end, then none at all.
        assert_eq!(esearch_line("A02", true, &results, &opts((4, 9))), "ESEARCH (TAG \"A02\") UID PARTIAL (4:9 10:11)");
        assert_eq!(
            esearch_line("A04", true, &results, &opts((20, 30))),
            "ESEARCH (TAG \"A04\") UID PARTIAL (20:30 NIL)"
        );
        let both = ReturnOptions { items: vec!["COUNT".into()], partial: Some((1, 2)), update: false };
        assert_eq!(esearch_line("t", false, &results, &both), "ESEARCH (TAG \"t\") COUNT 5 PARTIAL (1:2 2:3)");
        // RETURN (UPDATE) asks for no result item.
        let update = ReturnOptions { update: true, ..ReturnOptions::default() };
        assert_eq!(esearch_line("u", true, &results, &update), "ESEARCH (TAG \"u\") UID");
        assert_eq!(
            esearch_line("e", true, &results, &ReturnOptions::default()),
            "ESEARCH (TAG \"e\") UID ALL 2:4,10:11"
        );
    }
}
