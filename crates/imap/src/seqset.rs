//! Sequence sets (`1:4,7,9:*`): parsed once, resolved against a mailbox.

/// One end of a range: a number or `*` (the largest in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqNum {
    Value(u32),
    Star,
}

/// A parsed sequence set. Ranges may be given in either order (`*:1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeqSet(pub Vec<(SeqNum, SeqNum)>);

/// How `$` is held until the session replaces it: 0 is never a valid number.
const SAVED: (SeqNum, SeqNum) = (SeqNum::Value(0), SeqNum::Value(0));

/// Most comma-separated elements accepted in one set.
const MAX_ELEMENTS: usize = 10_000;

impl SeqSet {
    /// Parses `1:4,7,9:*`, or `$` (SEARCHRES: the saved search result,
    /// which the session substitutes, see [`SeqSet::is_saved`]).
    pub fn parse(text: &[u8]) -> Option<SeqSet> {
        if text == b"$" {
            return Some(SeqSet(vec![SAVED]));
        }
        let mut out = Vec::new();
        for item in text.split(|&b| b == b',') {
            if out.len() >= MAX_ELEMENTS {
                return None;
            }
            let (a, b) = match item.iter().position(|&b| b == b':') {
                Some(i) => (num(&item[..i])?, num(&item[i + 1..])?),
                None => {
                    let n = num(item)?;
                    (n, n)
                }
            };
            out.push((a, b));
        }
        Some(SeqSet(out))
    }

    /// Whether this is `$`, the saved search result.
    pub fn is_saved(&self) -> bool {
        self.0 == [SAVED]
    }

    /// The set of exactly these numbers.
    pub fn of(numbers: &[u32]) -> SeqSet {
        SeqSet(numbers.iter().map(|n| (SeqNum::Value(*n), SeqNum::Value(*n))).collect())
    }

    /// Whether `n` is in the set, `*` standing for `largest`.
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        self.0.iter().any(|&(a, b)| {
            let (a, b) = (resolve(a, largest), resolve(b, largest));
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            (lo..=hi).contains(&n)
        })
    }

    /// The members among `present` (sorted ascending), `*` being the last of
    /// them; used for UID sets, where most numbers name no message.
    pub fn select<'a>(&'a self, present: &'a [u32]) -> impl Iterator<Item = usize> + 'a {
        let largest = present.last().copied().unwrap_or(0);
        let mut ranges: Vec<(u32, u32)> = self
            .0
            .iter()
            .map(|&(a, b)| {
                let (a, b) = (resolve(a, largest), resolve(b, largest));
                if a <= b { (a, b) } else { (b, a) }
            })
            .collect();
        ranges.sort_unstable();
        present
            .iter()
            .enumerate()
            .filter(move |(_, n)| ranges.iter().any(|(lo, hi)| (lo..=hi).contains(n)))
            .map(|(i, _)| i)
    }
}

fn resolve(n: SeqNum, largest: u32) -> u32 {
    match n {
        SeqNum::Value(v) => v,
        SeqNum::Star => largest,
    }
}

fn num(text: &[u8]) -> Option<SeqNum> {
    if text == b"*" {
        return Some(SeqNum::Star);
    }
    if text.is_empty() || text.len() > 10 || !text.iter().all(u8::is_ascii_digit) || text[0] == b'0' {
        return None;
    }
    let v: u64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    u32::try_from(v).ok().map(SeqNum::Value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_sets_resolve() {
        let s = SeqSet::parse(b"1:*,*:1,4294967295").unwrap();
        assert!(s.contains(1, 5) && s.contains(5, 5));
        assert!(s.contains(u32::MAX, 5));
        let s = SeqSet::parse(b"7:3").unwrap();
        assert!(s.contains(5, 10) && !s.contains(8, 10));
        let uids = [2, 5, 9, 12];
        let picked: Vec<usize> = SeqSet::parse(b"10:*").unwrap().select(&uids).collect();
        assert_eq!(picked, vec![3]);
        // `n:*` with n above every UID still names the last message (RFC 9051 6.4.8).
        let picked: Vec<usize> = SeqSet::parse(b"100:*").unwrap().select(&uids).collect();
        assert_eq!(picked, vec![3]);
        for bad in [&b""[..], b"0", b"1:", b"a", b"4294967296", b"1,,2"] {
            assert!(SeqSet::parse(bad).is_none(), "{bad:?}");
        }
    }
}
