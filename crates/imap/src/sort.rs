//! SORT and THREAD (RFC 5256, with DISPLAYFROM/DISPLAYTO of RFC 5957) over
//! the messages a search matched, from the metadata kept at delivery.
//!
//! THREAD=REFERENCES follows the RFC's algorithm (section 2.2): threads
//! linked by Message-ID, In-Reply-To and References; dummy containers (a
//! referenced message not among the results) pruned, their children
//! promoted except to the top level when there are several (step 4); the
//! top-level threads then gathered by base subject (step 5); siblings
//! sorted by date (step 6).

use std::cmp::Ordering;
use std::collections::HashMap;

use mailstore::MessageRow;
use mailstore::analyse::EnvelopeAddress;
use model::collate::casemap_key;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::{ReturnOptions, SearchKey, SortBy, SortKey};
use crate::context::esearch_line;
use crate::reply::Done;
use crate::search::{Matched, Meta};
use crate::selected::Selected;
use crate::seqset::SeqSet;
use crate::session::Conn;

/// Deepest nesting written in a THREAD response; deeper replies are listed
/// as siblings of the last level.
const MAX_THREAD_DEPTH: usize = 100;

/// The base subject (RFC 5256 section 2.1): without `Re:`, `Fwd:`,
/// `[list]` prefixes and `(fwd)` trailers, lower-cased, spaces collapsed.
pub(crate) fn base_subject(subject: &str) -> String {
    let mut s: String = subject.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    loop {
        let before = s.clone();
        while let Some(rest) = s.strip_suffix("(fwd)") {
            s = rest.trim_end().to_owned();
        }
        loop {
            let t = s.trim_start();
            let mut rest = t;
            while let Some(r) = strip_blob(rest) {
                rest = r.trim_start();
            }
            let leader = ["re", "fwd", "fw"].iter().find_map(|p| rest.strip_prefix(p));
            let after = leader.map(|r| {
                let r = r.trim_start();
                strip_blob(r).unwrap_or(r).trim_start()
            });
            match after.and_then(|r| r.strip_prefix(':')) {
                Some(r) => s = r.trim_start().to_owned(),
                None => {
                    // A leading [blob] goes too, unless it is all there is.
                    match strip_blob(t) {
                        Some(r) if !r.trim().is_empty() => s = r.trim_start().to_owned(),
                        _ => break,
                    }
                }
            }
        }
        if let Some(inner) = s.strip_prefix("[fwd:").and_then(|r| r.strip_suffix(']')) {
            s = inner.trim().to_owned();
        }
        if s == before {
            return s;
        }
    }
}

fn strip_blob(s: &str) -> Option<&str> {
    let rest = s.strip_prefix('[')?;
    let end = rest.find(']')?;
    if rest[..end].contains('[') {
        return None;
    }
    Some(&rest[end + 1..])
}

fn first_mailbox(list: &[EnvelopeAddress]) -> String {
    list.first().map(|a| a.mailbox.to_lowercase()).unwrap_or_default()
}

fn first_display(list: &[EnvelopeAddress]) -> String {
    list.first()
        .map(|a| match &a.name {
            Some(n) if !n.trim().is_empty() => n.to_lowercase(),
            _ => a.address().to_lowercase(),
        })
        .unwrap_or_default()
}

/// One sort value.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Number(i64),
    Text(String),
}

/// The sort value of a message. Texts are compared with the
/// `i;unicode-casemap` comparator (RFC 5051, [`model::collate`]), as
/// Dovecot does: RFC 5256 section 3 makes `i;ascii-casemap` the base, which
/// upper-cases, and `i;unicode-casemap` extends it to accents and case
/// beyond ASCII.
fn value(by: SortBy, row: &MessageRow, meta: Option<&Meta>) -> Value {
    let analysis = meta.and_then(|m| m.analysis.as_ref());
    let env = analysis.map(|a| &a.envelope);
    let text =
        |f: &dyn Fn(&mailstore::analyse::Envelope) -> String| Value::Text(casemap_key(&env.map(f).unwrap_or_default()));
    match by {
        SortBy::Arrival => Value::Number(row.internal_date),
        SortBy::Date => Value::Number(meta.and_then(|m| m.sent_date).unwrap_or(row.internal_date)),
        SortBy::Size => Value::Number(row.size),
        SortBy::Subject => Value::Text(casemap_key(&base_subject(analysis.map(|a| a.subject.as_str()).unwrap_or("")))),
        SortBy::From => text(&|e| first_mailbox(&e.from)),
        SortBy::To => text(&|e| first_mailbox(&e.to)),
        SortBy::Cc => text(&|e| first_mailbox(&e.cc)),
        SortBy::DisplayFrom => text(&|e| first_display(&e.from)),
        SortBy::DisplayTo => text(&|e| first_display(&e.to)),
    }
}

/// A message's date for threading: sent date, else arrival.
fn date_of(row: &MessageRow, meta: Option<&Meta>) -> i64 {
    meta.and_then(|m| m.sent_date).unwrap_or(row.internal_date)
}

/// The matched messages in the order of `criteria`, ties by message
/// number: `(message number, UID)`.
pub(crate) fn sorted(criteria: &[SortKey], matched: &Matched) -> Vec<(u32, i64)> {
    let keyed: Vec<(Vec<Value>, u32, i64)> = matched
        .rows
        .iter()
        .map(|(seq, row)| {
            let meta = matched.metas.get(&row.blob_hash);
            (criteria.iter().map(|c| value(c.by, row, meta)).collect(), *seq, row.uid)
        })
        .collect();
    let mut order: Vec<usize> = (0..keyed.len()).collect();
    order.sort_by(|&a, &b| {
        for (i, c) in criteria.iter().enumerate() {
            let o = keyed[a].0[i].cmp(&keyed[b].0[i]);
            let o = if c.reverse { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        keyed[a].1.cmp(&keyed[b].1)
    });
    order.iter().map(|&i| (keyed[i].1, keyed[i].2)).collect()
}

struct Node {
    /// Position in the matched rows; `None` for a message only referenced.
    msg: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// SORT and UID SORT; with RETURN options (ESORT, RFC 5267 section 3)
    /// the answer is an ESEARCH whose MIN and MAX are the first and last
    /// messages in the sort order and whose ALL lists them in that order.
    pub(crate) async fn sort(
        &mut self,
        tag: &str,
        sel: &mut Selected,
        uid: bool,
        (criteria, key): (&[SortKey], &SearchKey),
        esort: Option<&ReturnOptions>,
    ) -> Done {
        if let Some(done) = crate::context::reused(sel, tag, esort) {
            return done;
        }
        let key = &crate::search::unsave(key, &SeqSet::of(&sel.saved));
        let matched = match self.matching(sel.mailbox.account_id, sel, key, true).await {
            Ok(m) => m,
            Err(done) => return done,
        };
        let order = sorted(criteria, &matched);
        let numbers: Vec<i64> = order.iter().map(|(seq, u)| if uid { *u } else { i64::from(*seq) }).collect();
        let done = Done::ok(if uid { "UID SORT completed" } else { "SORT completed" });
        let Some(options) = esort else {
            let mut line = String::from("SORT");
            for n in &numbers {
                line.push_str(&format!(" {n}"));
            }
            self.untagged(&line);
            return done;
        };
        if options.has("SAVE") {
            // RFC 5182 with ESORT: the saved result is the set of messages.
            let mut uids: Vec<u32> = matched.rows.iter().map(|(_, r)| r.uid as u32).collect();
            uids.sort_unstable();
            sel.saved = uids;
        }
        if !(options.has("SAVE") && options.asks_nothing() && !options.update) {
            self.untagged(&esearch_line(tag, uid, &numbers, options));
        }
        if options.update {
            let results = order.iter().map(|(_, u)| *u as u32).collect();
            self.keep_context(sel, tag, uid, (key, Some(criteria)), results);
        }
        done
    }

    pub(crate) async fn thread(&mut self, sel: &mut Selected, uid: bool, references: bool, key: &SearchKey) -> Done {
        let matched = match self.matching(sel.mailbox.account_id, sel, key, true).await {
            Ok(m) => m,
            Err(done) => return done,
        };
        let rows = &matched.rows;
        let dates: Vec<i64> = rows.iter().map(|(_, r)| date_of(r, matched.metas.get(&r.blob_hash))).collect();
        let numbers: Vec<i64> = rows.iter().map(|(seq, r)| if uid { r.uid } else { i64::from(*seq) }).collect();
        let by_date = |a: &usize, b: &usize| dates[*a].cmp(&dates[*b]).then(a.cmp(b));
        let mut nodes: Vec<Node> = Vec::new();
        if references {
            link_references(&matched, &mut nodes);
        } else {
            let mut groups: HashMap<String, usize> = HashMap::new();
            let mut order: Vec<usize> = (0..rows.len()).collect();
            order.sort_by(by_date);
            for i in order {
                let (_, row) = &rows[i];
                let subject = matched.metas.get(&row.blob_hash).and_then(|m| m.analysis.as_ref());
                let base = base_subject(subject.map(|a| a.subject.as_str()).unwrap_or(""));
                nodes.push(Node { msg: Some(i), parent: None, children: Vec::new() });
                let me = nodes.len() - 1;
                match groups.get(&base) {
                    Some(&first) => {
                        nodes[me].parent = Some(first);
                        nodes[first].children.push(me);
                    }
                    None => {
                        groups.insert(base, me);
                    }
                }
            }
        }
        // Order siblings and roots by date; a dummy (only at the top level,
        // holding several threads) takes the date of its first child.
        let key_of = |n: &Node| n.msg.map(|m| (dates[m], m)).unwrap_or((i64::MAX, usize::MAX));
        let mut keys: Vec<(i64, usize)> = nodes.iter().map(key_of).collect();
        for i in 0..nodes.len() {
            let mut children = std::mem::take(&mut nodes[i].children);
            children.sort_by_key(|c| keys[*c]);
            if nodes[i].msg.is_none() {
                keys[i] = children.first().map_or(keys[i], |c| keys[*c]);
            }
            nodes[i].children = children;
        }
        let mut roots: Vec<usize> = (0..nodes.len()).filter(|i| nodes[*i].parent.is_none()).collect();
        roots.sort_by_key(|r| keys[*r]);
        let mut line = String::from("THREAD ");
        for r in roots {
            line.push('(');
            render(&nodes, &numbers, r, 0, &mut line);
            line.push(')');
        }
        self.untagged(line.trim_end());
        Done::ok(if uid { "UID THREAD completed" } else { "THREAD completed" })
    }
}

/// `n` then its replies: one reply follows inline, several go in
/// parentheses each (RFC 5256 section 4).
fn render(nodes: &[Node], numbers: &[i64], mut n: usize, depth: usize, out: &mut String) {
    loop {
        let Some(msg) = nodes[n].msg else {
            // A dummy: its threads side by side (RFC 5256 section 4's
            // `((3)(5))`).
            for c in &nodes[n].children {
                out.push('(');
                render(nodes, numbers, *c, depth + 1, out);
                out.push(')');
            }
            return;
        };
        out.push_str(&numbers[msg].to_string());
        match nodes[n].children.as_slice() {
            [] => return,
            [only] => {
                out.push(' ');
                n = *only;
            }
            many => {
                out.push(' ');
                for c in many {
                    out.push('(');
                    if depth < MAX_THREAD_DEPTH {
                        render(nodes, numbers, *c, depth + 1, out);
                    } else {
                        out.push_str(&numbers[nodes[*c].msg.unwrap_or(0)].to_string());
                    }
                    out.push(')');
                }
                return;
            }
        }
    }
}

/// Links messages by Message-ID, In-Reply-To and References, then drops
/// the containers of messages not in the result, promoting their replies.
fn link_references(matched: &crate::search::Matched, nodes: &mut Vec<Node>) {
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut node_for = |id: &str, nodes: &mut Vec<Node>| -> usize {
        *by_id.entry(id.to_owned()).or_insert_with(|| {
            nodes.push(Node { msg: None, parent: None, children: Vec::new() });
            nodes.len() - 1
        })
    };
    let is_ancestor = |nodes: &Vec<Node>, maybe: usize, of: usize| {
        let mut cur = Some(of);
        let mut steps = 0;
        while let Some(c) = cur {
            if c == maybe || steps > 10_000 {
                return true;
            }
            cur = nodes[c].parent;
            steps += 1;
        }
        false
    };
    let link = |nodes: &mut Vec<Node>, parent: usize, child: usize| {
        if nodes[child].parent.is_none() && !is_ancestor(nodes, child, parent) {
            nodes[child].parent = Some(parent);
        }
    };
    for (i, (_, row)) in matched.rows.iter().enumerate() {
        let analysis = matched.metas.get(&row.blob_hash).and_then(|m| m.analysis.as_ref());
        let own = row.msgid_header.clone().unwrap_or_else(|| format!("\u{0}{i}"));
        let mut me = node_for(&own, nodes);
        if nodes[me].msg.is_some() {
            me = node_for(&format!("\u{0}dup{i}"), nodes);
        }
        nodes[me].msg = Some(i);
        let Some(a) = analysis else { continue };
        let irt = a.envelope.in_reply_to.as_deref().map(|s| s.trim().trim_start_matches('<').trim_end_matches('>'));
        let mut chain: Vec<&str> = a.references.iter().map(String::as_str).filter(|r| Some(*r) != irt).collect();
        chain.extend(irt);
        let mut prev: Option<usize> = None;
        for id in &chain {
            let n = node_for(id, nodes);
            if let Some(p) = prev {
                link(nodes, p, n);
            }
            prev = Some(n);
        }
        if let Some(p) = prev {
            // The message's own parent is its last reference, whatever was guessed before.
            nodes[me].parent = None;
            if !is_ancestor(nodes, me, p) {
                nodes[me].parent = Some(p);
            }
        }
    }
    let kept = prune(nodes);
    let roots: Vec<usize> = (0..kept.len()).filter(|i| kept[*i].parent.is_none()).collect();
    let mut out = kept;
    gather_by_subject(matched, &mut out, roots);
    *nodes = out;
}

/// RFC 5256 section 2.2 step 4, without recursion (a thread can be very
/// deep): "(A) If it is a dummy message with NO children, delete it. (B) If
/// it is a dummy message with children, delete it, but promote its children
/// to the current level. [...] Do not promote the children if doing so
/// would make them children of the root, unless there is only one child."
/// Each message goes under its nearest ancestor that is a message; when
/// there is none but the thread's top is a dummy, under that dummy, which
/// stays only if it then holds several messages.
fn prune(nodes: &[Node]) -> Vec<Node> {
    let mut kept: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut out: Vec<Node> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        if n.msg.is_some() {
            kept[i] = Some(out.len());
            out.push(Node { msg: n.msg, parent: None, children: Vec::new() });
        }
    }
    // Per top-level dummy, the messages that would go under it.
    let mut under_dummy: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let Some(me) = kept[i] else { continue };
        let (mut up, mut top) = (n.parent, None);
        let mut steps = 0;
        while let Some(p) = up {
            if kept[p].is_some() || steps > 10_000 {
                break;
            }
            top = Some(p);
            up = nodes[p].parent;
            steps += 1;
        }
        match (up.and_then(|p| kept[p]), top) {
            (Some(parent), _) => {
                out[me].parent = Some(parent);
                out[parent].children.push(me);
            }
            (None, Some(dummy)) if up.is_none() => under_dummy.entry(dummy).or_default().push(me),
            _ => {}
        }
    }
    let mut dummies: Vec<(usize, Vec<usize>)> = under_dummy.into_iter().filter(|(_, k)| k.len() > 1).collect();
    dummies.sort_unstable();
    for (_, kids) in dummies {
        out.push(Node { msg: None, parent: None, children: kids.clone() });
        let dummy = out.len() - 1;
        for k in kids {
            out[k].parent = Some(dummy);
        }
    }
    out
}

/// Whether a subject is a reply or a forward: what RFC 5256 section 2.1
/// removes as `subj-refwd` (`re:`, `fw:`, `fwd:` after optional `[blob]`s),
/// a `[fwd: ...]` wrapper or a `(fwd)` trailer.
fn is_reply_or_forward(subject: &str) -> bool {
    let s = subject.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    if s.ends_with("(fwd)") || s.starts_with("[fwd:") {
        return true;
    }
    let mut rest = s.as_str();
    while let Some(r) = strip_blob(rest) {
        rest = r.trim_start();
    }
    ["re", "fwd", "fw"].iter().filter_map(|p| rest.strip_prefix(p)).any(|r| {
        let r = r.trim_start();
        strip_blob(r).unwrap_or(r).trim_start().starts_with(':')
    })
}

/// RFC 5256 section 2.2 step 5: the top-level threads gathered by base
/// subject. The subject table keeps one container per subject, a dummy
/// over a message and a message that is not a reply over one that is; then
/// each other thread of that subject is merged with it: "If both messages
/// are dummies, append the current message's children to the children of
/// the message in the subject table [...] If the message in the subject
/// table is a dummy and the current message is not, make the current
/// message a child of the message in the subject table [...] If the current
/// message is a reply or forward and the message in the subject table is
/// not, make the current message a child of the message in the subject
/// table [...] Otherwise, create a new dummy message and make both the
/// current message and the message in the subject table children of the
/// dummy."
fn gather_by_subject(matched: &crate::search::Matched, out: &mut Vec<Node>, roots: Vec<usize>) {
    let subject_of = |out: &Vec<Node>, n: usize| -> String {
        let msg = out[n].msg.or_else(|| out[n].children.first().and_then(|c| out[*c].msg));
        let row = msg.map(|m| &matched.rows[m].1);
        let a = row.and_then(|r| matched.metas.get(&r.blob_hash)).and_then(|m| m.analysis.as_ref());
        a.map(|a| a.subject.clone()).unwrap_or_default()
    };
    let mut table: HashMap<String, usize> = HashMap::new();
    for &r in &roots {
        let subject = subject_of(out, r);
        let base = base_subject(&subject);
        if base.is_empty() {
            continue;
        }
        match table.get(&base) {
            None => {
                table.insert(base, r);
            }
            Some(&t) if out[t].msg.is_some() => {
                let dummy = out[r].msg.is_none();
                let replaces = is_reply_or_forward(&subject_of(out, t)) && !is_reply_or_forward(&subject);
                if dummy || replaces {
                    table.insert(base, r);
                }
            }
            Some(_) => {}
        }
    }
    for &r in &roots {
        let subject = subject_of(out, r);
        let base = base_subject(&subject);
        let Some(&t) = table.get(&base) else { continue };
        if t == r || base.is_empty() || out[r].parent.is_some() {
            continue;
        }
        let adopt = |out: &mut Vec<Node>, parent: usize, child: usize| {
            out[child].parent = Some(parent);
            out[parent].children.push(child);
        };
        match (out[t].msg.is_none(), out[r].msg.is_none()) {
            (true, true) => {
                let kids = std::mem::take(&mut out[r].children);
                for k in kids {
                    adopt(out, t, k);
                }
                // An emptied dummy: a child of the one kept, so it is no
                // root; without children it renders as nothing.
                out[r].parent = Some(t);
            }
            (true, false) => adopt(out, t, r),
            _ if is_reply_or_forward(&subject) && !is_reply_or_forward(&subject_of(out, t)) => adopt(out, t, r),
            _ => {
                out.push(Node { msg: None, parent: None, children: Vec::new() });
                let dummy = out.len() - 1;
                adopt(out, dummy, t);
                adopt(out, dummy, r);
                table.insert(base, dummy);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::base_subject;

    #[test]
    fn base_subjects() {
        assert_eq!(base_subject("Re: Conseil de classe"), "conseil de classe");
        assert_eq!(base_subject("RE: [Profs] Fwd: re:  Conseil   de classe (fwd)"), "conseil de classe");
        assert_eq!(base_subject("[Fwd: Réunion]"), "réunion");
        assert_eq!(base_subject("[Profs]"), "[profs]");
        assert_eq!(base_subject("Reunion"), "reunion");
        assert_eq!(base_subject(""), "");
    }
}

#[cfg(test)]
mod esort_tests {
    use crate::command::ReturnOptions;
    use crate::context::esearch_line;

    #[test]
    fn all_keeps_the_sort_order() {
        let items: Vec<String> = ["MIN", "MAX", "COUNT", "ALL"].iter().map(|s| (*s).to_owned()).collect();
        let opts = ReturnOptions { items, ..ReturnOptions::default() };
        assert_eq!(
            esearch_line("a", true, &[5, 1, 2, 3, 9, 7], &opts),
            "ESEARCH (TAG \"a\") UID MIN 5 MAX 7 COUNT 6 ALL 5,1:3,9,7"
        );
        assert_eq!(esearch_line("b", false, &[], &opts), "ESEARCH (TAG \"b\") COUNT 0");
    }
}
