//! IMAP system flags and keywords.

/// A system flag (RFC 9051 section 2.3.2). `\Recent` is not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
}

impl Flag {
    pub const ALL: [Flag; 5] = [Flag::Seen, Flag::Answered, Flag::Flagged, Flag::Deleted, Flag::Draft];

    /// Bit used in the `flags` column of the message table.
    pub fn bit(self) -> i64 {
        match self {
            Flag::Seen => 1,
            Flag::Answered => 2,
            Flag::Flagged => 4,
            Flag::Deleted => 8,
            Flag::Draft => 16,
        }
    }
    pub fn imap_name(self) -> &'static str {
        match self {
            Flag::Seen => "\\Seen",
            Flag::Answered => "\\Answered",
            Flag::Flagged => "\\Flagged",
            Flag::Deleted => "\\Deleted",
            Flag::Draft => "\\Draft",
        }
    }
    /// Decodes a bit set into flags.
    pub fn from_bits(bits: i64) -> Vec<Flag> {
        Flag::ALL.into_iter().filter(|f| bits & f.bit() != 0).collect()
    }
}

/// A user keyword such as `$Junk` or `$Forwarded`: an IMAP atom, stored as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Keyword(String);

impl Keyword {
    pub fn new(s: &str) -> Option<Keyword> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && !s.starts_with('\\')
            && s.bytes().all(|b| b.is_ascii_graphic() && !b"(){%*\"\\]".contains(&b));
        ok.then(|| Keyword(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip() {
        let bits = Flag::Seen.bit() | Flag::Deleted.bit();
        assert_eq!(Flag::from_bits(bits), vec![Flag::Seen, Flag::Deleted]);
        assert!(Keyword::new("$Junk").is_some());
        assert!(Keyword::new("bad word").is_none());
    }
}
