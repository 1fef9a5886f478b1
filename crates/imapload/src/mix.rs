//! The command mix: imaptest's documented default states and probabilities,
//! as pure functions of a seeded random generator (no I/O, unit-tested).
//!
//! imaptest (dovecot/imaptest, `client-state.c`, "ImapTest States") walks its
//! states in order, running each with its probability:
//!
//! | state | % | here |
//! |---|---|---|
//! | LOGIN | 100 | `LOGIN user pass` |
//! | LIST | 50 | `LIST "" *` |
//! | STATUS | 50 | `STATUS INBOX (MESSAGES UNSEEN RECENT)` |
//! | SELECT | 100 | `SELECT INBOX` |
//! | FETCH | 100 | up to 100 random messages, 1-4 random items among UID, FLAGS, ENVELOPE, INTERNALDATE, BODY, BODYSTRUCTURE, RFC822.SIZE, `BODY.PEEK[HEADER.FIELDS (...)]` |
//! | FETCH2 | 100, again 30 | one random message: `BODY.PEEK[HEADER]`, `RFC822.HEADER`, `BODY.PEEK[]`, `BODY.PEEK[1]` or `BODY.PEEK[TEXT]` |
//! | COPY | 33 | **not run** (needs a second mailbox; out of this benchmark's scope) |
//! | STORE | 50 | `STORE set +FLAGS` or `-FLAGS` on random messages |
//! | DELETE | 100 | `STORE set +FLAGS (\Deleted)`, many when the mailbox is above 35 messages |
//! | EXPUNGE | 100 | `EXPUNGE` |
//! | APPEND | 100, again 5 | only while the mailbox has fewer than 30 messages |
//! | LOGOUT | 100 | `LOGOUT`, then a new connection |
//!
//! Differences from imaptest, all symmetric for the servers compared: one
//! command at a time (no pipelining), `UID` is always fetched (to check
//! bodies against what was appended), and STORE flags include a keyword that
//! only this client touches so that the result can be checked exactly.

use rand::Rng;

/// Steps of one session, in imaptest's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Login,
    List,
    Status,
    Select,
    Fetch,
    Fetch2,
    Store,
    Delete,
    Expunge,
    Append,
    Logout,
}

impl Step {
    /// Name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Step::Login => "LOGIN",
            Step::List => "LIST",
            Step::Status => "STATUS",
            Step::Select => "SELECT",
            Step::Fetch => "FETCH",
            Step::Fetch2 => "FETCH2",
            Step::Store => "STORE",
            Step::Delete => "DELETE",
            Step::Expunge => "EXPUNGE",
            Step::Append => "APPEND",
            Step::Logout => "LOGOUT",
        }
    }
}

/// Probabilities in percent (imaptest's defaults in [`Mix::IMAPTEST`]).
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub list: u32,
    pub status: u32,
    pub fetch2_again: u32,
    pub store: u32,
    pub append_again: u32,
    /// imaptest's `message_count_threshold`: APPEND only below it, DELETE
    /// many messages above it.
    pub threshold: u32,
}

impl Mix {
    pub const IMAPTEST: Mix = Mix { list: 50, status: 50, fetch2_again: 30, store: 50, append_again: 5, threshold: 30 };

    /// The steps of one session (LOGIN to LOGOUT). Steps that need messages
    /// or room are decided later, against the mailbox (see [`Mix::appends`]).
    pub fn session(&self, rng: &mut impl Rng) -> Vec<Step> {
        let mut steps = vec![Step::Login];
        if chance(rng, self.list) {
            steps.push(Step::List);
        }
        if chance(rng, self.status) {
            steps.push(Step::Status);
        }
        steps.extend([Step::Select, Step::Fetch, Step::Fetch2]);
        while chance(rng, self.fetch2_again) {
            steps.push(Step::Fetch2);
        }
        if chance(rng, self.store) {
            steps.push(Step::Store);
        }
        steps.extend([Step::Delete, Step::Expunge, Step::Append]);
        while chance(rng, self.append_again) {
            steps.push(Step::Append);
        }
        steps.push(Step::Logout);
        steps
    }

    /// Whether an APPEND runs on a mailbox of `msgs` messages.
    pub fn appends(&self, msgs: u32) -> bool {
        msgs < self.threshold
    }

    /// How many messages DELETE marks (imaptest: many above threshold+5,
    /// else 0-4; duplicates merge, so the set may be smaller).
    pub fn delete_count(&self, rng: &mut impl Rng, msgs: u32) -> u32 {
        if msgs > self.threshold + 5 { rng.gen_range(0..msgs - self.threshold) } else { rng.gen_range(0..5) }
    }
}

fn chance(rng: &mut impl Rng, percent: u32) -> bool {
    rng.gen_range(0..100) < percent
}

/// `count` random sequence numbers in `1..=msgs`, sorted, duplicates removed.
pub fn random_seqs(rng: &mut impl Rng, msgs: u32, count: u32) -> Vec<u32> {
    if msgs == 0 {
        return Vec::new();
    }
    let mut v: Vec<u32> = (0..count).map(|_| rng.gen_range(1..=msgs)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A sequence set in IMAP syntax (`1:3,7`), from sorted distinct numbers.
pub fn seq_set(seqs: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < seqs.len() {
        let mut j = i;
        while j + 1 < seqs.len() && seqs[j + 1] == seqs[j] + 1 {
            j += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&seqs[i].to_string());
        if j > i {
            out.push(':');
            out.push_str(&seqs[j].to_string());
        }
        i = j + 1;
    }
    out
}

const FETCH_FIELDS: [&str; 7] = ["UID", "FLAGS", "ENVELOPE", "INTERNALDATE", "BODY", "BODYSTRUCTURE", "RFC822.SIZE"];
const HEADER_FIELDS: [&str; 8] =
    ["From", "To", "Cc", "Subject", "References", "In-Reply-To", "Message-ID", "Delivered-To"];
const FETCH2_FIELDS: [&str; 5] =
    ["BODY.PEEK[HEADER]", "RFC822.HEADER", "BODY.PEEK[]", "BODY.PEEK[1]", "BODY.PEEK[TEXT]"];

/// FETCH items: 1-4 picks, each a random field or (one time in four) a
/// `BODY.PEEK[HEADER.FIELDS (...)]` of 1-4 random headers. `UID` comes first.
pub fn fetch_items(rng: &mut impl Rng) -> Vec<String> {
    let mut items = vec!["UID".to_owned()];
    for _ in 0..rng.gen_range(1..=4) {
        let item = if rng.gen_range(0..4) != 0 {
            FETCH_FIELDS[rng.gen_range(0..FETCH_FIELDS.len())].to_owned()
        } else {
            let n = rng.gen_range(1..=4);
            let h: Vec<&str> = (0..n).map(|_| HEADER_FIELDS[rng.gen_range(0..HEADER_FIELDS.len())]).collect();
            format!("BODY.PEEK[HEADER.FIELDS ({})]", h.join(" "))
        };
        if !items.contains(&item) {
            items.push(item);
        }
    }
    items
}

/// The FETCH2 item (a body or header of one message).
pub fn fetch2_item(rng: &mut impl Rng) -> &'static str {
    FETCH2_FIELDS[rng.gen_range(0..FETCH2_FIELDS.len())]
}

/// How many messages a STORE touches (imaptest: up to all of a small
/// mailbox, up to a fifth (at most 50) of a larger one; 0 skips the STORE).
pub fn store_count(rng: &mut impl Rng, msgs: u32) -> u32 {
    let bound = if msgs < 10 { msgs } else { (msgs / 5).min(50) };
    if bound == 0 { 0 } else { rng.gen_range(0..bound) }
}

/// The name a FETCH response uses for a requested item.
pub fn response_name(item: &str) -> String {
    item.replacen(".PEEK", "", 1).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};
    use std::collections::HashMap;

    #[test]
    fn sessions_follow_imaptest_order_and_probabilities() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut counts: HashMap<Step, u32> = HashMap::new();
        let n = 20_000;
        for _ in 0..n {
            let s = Mix::IMAPTEST.session(&mut rng);
            assert_eq!(s.first(), Some(&Step::Login));
            assert_eq!(s.last(), Some(&Step::Logout));
            assert!(s.windows(2).all(|w| w[0] <= w[1]), "imaptest order: {s:?}");
            for step in s {
                *counts.entry(step).or_default() += 1;
            }
        }
        let per_session = |s: Step| f64::from(counts[&s]) / f64::from(n);
        for always in [Step::Login, Step::Select, Step::Fetch, Step::Delete, Step::Expunge, Step::Logout] {
            assert_eq!(counts[&always], n, "{always:?}");
        }
        assert!((per_session(Step::List) - 0.5).abs() < 0.02);
        assert!((per_session(Step::Status) - 0.5).abs() < 0.02);
        assert!((per_session(Step::Store) - 0.5).abs() < 0.02);
        // FETCH2 repeats with 30%: geometric, mean 1 / (1 - 0.3).
        assert!((per_session(Step::Fetch2) - 1.0 / 0.7).abs() < 0.03);
        assert!((per_session(Step::Append) - 1.0 / 0.95).abs() < 0.01);
    }

    #[test]
    fn same_seed_same_choices() {
        let a: Vec<_> = (0..50).map(|_| ()).scan(StdRng::seed_from_u64(42), |r, _| Some(fetch_items(r))).collect();
        let b: Vec<_> = (0..50).map(|_| ()).scan(StdRng::seed_from_u64(42), |r, _| Some(fetch_items(r))).collect();
        assert_eq!(a, b);
        let c: Vec<_> = (0..50).map(|_| ()).scan(StdRng::seed_from_u64(43), |r, _| Some(fetch_items(r))).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn append_and_delete_keep_the_mailbox_near_the_threshold() {
        let m = Mix::IMAPTEST;
        assert!(m.appends(29) && !m.appends(30));
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..1000 {
            assert!(m.delete_count(&mut rng, 10) < 5);
            assert!(m.delete_count(&mut rng, 50) < 20);
        }
    }

    #[test]
    fn fetch_items_are_valid_and_start_with_uid() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut saw_headers = false;
        for _ in 0..500 {
            let items = fetch_items(&mut rng);
            assert_eq!(items[0], "UID");
            assert!(!items.is_empty() && items.len() <= 5, "{items:?}");
            for i in &items[1..] {
                saw_headers |= i.starts_with("BODY.PEEK[HEADER.FIELDS (");
                assert!(FETCH_FIELDS.contains(&i.as_str()) || i.ends_with(")]"), "{i}");
            }
        }
        assert!(saw_headers);
        assert_eq!(response_name("BODY.PEEK[HEADER.FIELDS (From)]"), "BODY[HEADER.FIELDS (FROM)]");
        assert_eq!(response_name("rfc822.size"), "RFC822.SIZE");
    }

    #[test]
    fn seq_sets_and_counts() {
        assert_eq!(seq_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(seq_set(&[4]), "4");
        let mut rng = StdRng::seed_from_u64(9);
        let s = random_seqs(&mut rng, 30, 30);
        assert!(s.windows(2).all(|w| w[0] < w[1]) && s.iter().all(|&x| (1..=30).contains(&x)));
        assert!(random_seqs(&mut rng, 0, 5).is_empty());
        assert_eq!(store_count(&mut rng, 0), 0);
        for _ in 0..100 {
            assert!(store_count(&mut rng, 8) < 8);
            assert!(store_count(&mut rng, 1000) < 50);
        }
    }
}
