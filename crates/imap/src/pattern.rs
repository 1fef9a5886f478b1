//! LIST and LSUB patterns (RFC 9051 section 6.3.9): `*` matches any
//! characters, `%` any characters but the hierarchy separator `/`.
//!
//! A pattern is compiled once into a small automaton whose states are the
//! positions in the pattern, kept as a bit set, and a name is read once,
//! character by character: the work is (pattern length / 64) x (name length)
//! whatever the pattern. A backtracking matcher, which this replaces, took
//! seconds to minutes of a worker thread for `*a*a*a*a*a*a*a*a*a*ab` against a
//! name of 48 `a`, and two such commands froze every service.

use std::collections::HashMap;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// Number of positions (pattern characters + the accepting one).
    states: usize,
    /// Positions holding `*`.
    star: Bits,
    /// Positions holding `%`.
    percent: Bits,
    /// For each literal character, the positions holding it.
    literal: HashMap<char, Bits>,
}

type Bits = Vec<u64>;

impl Pattern {
    /// Compiles `pattern`. The first hierarchy level `INBOX` is matched
    /// without regard to case, as the mailbox names are.
    pub(crate) fn new(pattern: &str) -> Pattern {
        let mut chars: Vec<char> = Vec::new();
        for c in inbox_folded(pattern).chars() {
            // Runs of wildcards match what their widest member matches:
            // "**", "*%" and "%*" are one `*`, "%%" one `%`.
            match (chars.last().copied(), c) {
                (Some('*'), '*' | '%') => {}
                (Some('%'), '%') => {}
                (Some('%'), '*') => {
                    if let Some(last) = chars.last_mut() {
                        *last = '*';
                    }
                }
                _ => chars.push(c),
            }
        }
        let states = chars.len() + 1;
        let words = states.div_ceil(64);
        let mut pattern = Pattern { states, star: vec![0; words], percent: vec![0; words], literal: HashMap::new() };
        for (i, c) in chars.into_iter().enumerate() {
            let set = match c {
                '*' => &mut pattern.star,
                '%' => &mut pattern.percent,
                c => pattern.literal.entry(c).or_insert_with(|| vec![0; words]),
            };
            set[i / 64] |= 1 << (i % 64);
        }
        pattern
    }

    /// Whether `name` matches.
    pub(crate) fn matches(&self, name: &str) -> bool {
        let words = self.star.len();
        let mut now = vec![0u64; words];
        now[0] = 1;
        self.close(&mut now);
        let mut next = vec![0u64; words];
        for c in inbox_folded(name).chars() {
            let literal = self.literal.get(&c);
            let mut carry = 0u64;
            for w in 0..words {
                // Consume `c` at a literal position: move one position on.
                let advanced = literal.map_or(0, |l| now[w] & l[w]);
                let shifted = (advanced << 1) | carry;
                carry = advanced >> 63;
                // A wildcard consumes `c` and stays where it is.
                let mut stay = now[w] & self.star[w];
                if c != '/' {
                    stay |= now[w] & self.percent[w];
                }
                next[w] = shifted | stay;
            }
            self.close(&mut next);
            std::mem::swap(&mut now, &mut next);
            if now.iter().all(|w| *w == 0) {
                return false;
            }
        }
        let last = self.states - 1;
        now[last / 64] & (1 << (last % 64)) != 0
    }

    /// Adds the positions reached by letting a wildcard match nothing. Runs
    /// of wildcards were merged, so one step is enough: the position after a
    /// wildcard holds a literal or is the end.
    fn close(&self, set: &mut [u64]) {
        let mut carry = 0u64;
        for ((word, star), percent) in set.iter_mut().zip(&self.star).zip(&self.percent) {
            let wild = *word & (star | percent);
            let shifted = (wild << 1) | carry;
            carry = wild >> 63;
            *word |= shifted;
        }
    }
}

/// The name with a first level spelt `inbox` in any case written `INBOX`.
fn inbox_folded(s: &str) -> std::borrow::Cow<'_, str> {
    let head = s.split('/').next().unwrap_or("");
    if head.eq_ignore_ascii_case("INBOX") && head != "INBOX" {
        format!("INBOX{}", &s[head.len()..]).into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn matches(pattern: &str, name: &str) -> bool {
        Pattern::new(pattern).matches(name)
    }

    /// The reference semantics, by plain recursion (exponential: only for
    /// short inputs).
    fn reference(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| reference(rest, &n[i..])),
            Some(('%', rest)) => {
                (0..=n.len()).take_while(|&i| i == 0 || n[i - 1] != '/').any(|i| reference(rest, &n[i..]))
            }
            Some((c, rest)) => n.first() == Some(c) && reference(rest, &n[1..]),
        }
    }

    #[test]
    fn list_wildcards() {
        assert!(matches("*", "Archives/2025"));
        assert!(matches("%", "Archives"));
        assert!(!matches("%", "Archives/2025"));
        assert!(matches("Archives/%", "Archives/2025"));
        assert!(matches("inbox", "INBOX"));
        assert!(matches("Inbox/*", "INBOX/Projets"));
        assert!(!matches("Arch", "Archives"));
        assert!(matches("", ""));
        assert!(!matches("", "INBOX"));
        assert!(matches("%/%", "a/b"));
        assert!(!matches("%/%", "a/b/c"));
        assert!(matches("*%", "a/b/c"));
        assert!(matches("%*", "a/b/c"));
        assert!(matches("Élèves/*", "Élèves/3e B"));
        assert!(!matches("Élèves/*", "Eleves/3e B"));
    }

    /// Every pattern over a small alphabet against every name up to a length,
    /// compared with the recursive definition.
    #[test]
    fn agrees_with_the_recursive_definition() {
        let alphabet = ['a', '/', '*', '%'];
        let names = ['a', 'b', '/'];
        let mut patterns = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> =
                patterns.iter().flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}"))).collect();
            patterns.extend(longer);
        }
        patterns.sort();
        patterns.dedup();
        let mut all_names = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> =
                all_names.iter().flat_map(|n| names.iter().map(move |c| format!("{n}{c}"))).collect();
            all_names.extend(longer);
        }
        all_names.sort();
        all_names.dedup();
        for p in &patterns {
            let compiled = Pattern::new(p);
            let pc: Vec<char> = p.chars().collect();
            for n in &all_names {
                let nc: Vec<char> = n.chars().collect();
                assert_eq!(compiled.matches(n), reference(&pc, &nc), "pattern {p:?} name {n:?}");
            }
        }
    }

    /// Issue 25, item 12: a pattern built to make a backtracking matcher
    /// explode answers at once (the old matcher did not return for minutes),
    /// and long patterns over 64 positions work across words.
    #[test]
    fn hostile_patterns_are_linear() {
        let name = "a".repeat(1000);
        assert!(!matches("*a*a*a*a*a*a*a*a*a*ab", &name));
        assert!(matches("*a*a*a*a*a*a*a*a*a*a", &name));
        let long = "*a".repeat(400) + "b";
        assert!(!matches(&long, &name));
        let long = "%a".repeat(300);
        assert!(matches(&long, &name[..300]));
        assert!(!matches(&long, &name[..299]));
    }
}
