//! Access rights on another account's mail (RFC 4314) and the two sending
//! rights of delegation.
//!
//! [`Rights`] is the set of the eleven RFC 4314 letters `lrswipkxtea`: what a
//! grant gives on a mailbox (folder) or on all of an account's mailboxes. The
//! owner holds them all. The obsolete `c` and `d` of RFC 2086 are read as
//! RFC 4314 section 2.1.1 says (`c` is `k`, `d` is `xte`); any other letter
//! is refused, so a client never believes it granted something it did not.
//! [`SendRights`] says whether a delegate may write the owner's address in
//! `From:` (send as) or only with their own in `Sender:` (on behalf).

/// The RFC 4314 rights, in the order they are written.
pub const ALL_RIGHTS: &str = "lrswipkxtea";

/// A set of RFC 4314 rights.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Rights(u16);

/// A letter that is not an RFC 4314 right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownRight(pub char);

impl Rights {
    pub const NONE: Rights = Rights(0);
    /// `l`: the mailbox is seen in LIST (and exists for the delegate).
    pub const LOOKUP: Rights = Rights(1);
    /// `r`: SELECT, FETCH, SEARCH, COPY from.
    pub const READ: Rights = Rights(1 << 1);
    /// `s`: keep `\Seen` across sessions.
    pub const SEEN: Rights = Rights(1 << 2);
    /// `w`: flags other than `\Seen` and `\Deleted`.
    pub const WRITE: Rights = Rights(1 << 3);
    /// `i`: APPEND, COPY and MOVE into.
    pub const INSERT: Rights = Rights(1 << 4);
    /// `p`: send mail to the submission address (unused here).
    pub const POST: Rights = Rights(1 << 5);
    /// `k`: create mailboxes below.
    pub const CREATE: Rights = Rights(1 << 6);
    /// `x`: delete or rename the mailbox.
    pub const DELETE_MAILBOX: Rights = Rights(1 << 7);
    /// `t`: set or clear `\Deleted` (and MOVE away, with `e`).
    pub const DELETE_MESSAGES: Rights = Rights(1 << 8);
    /// `e`: EXPUNGE.
    pub const EXPUNGE: Rights = Rights(1 << 9);
    /// `a`: change the ACL.
    pub const ADMINISTER: Rights = Rights(1 << 10);
    /// Every right: the owner's.
    pub const ALL: Rights = Rights((1 << 11) - 1);
    /// Reading: `lr` plus `s` (a reader's `\Seen` is kept).
    pub const READER: Rights = Rights(0b111);
    /// Reading and writing: everything but the ACL and the folders themselves
    /// (`lrswipte`).
    pub const READ_WRITE: Rights = Rights(0b11_0011_1111);

    /// Reads a set of rights as written in SETACL, `ardoise admin delegate`
    /// or the store; an empty string is no right.
    pub fn parse(text: &str) -> Result<Rights, UnknownRight> {
        let mut bits = 0u16;
        for c in text.chars() {
            bits |= match c {
                'c' => Rights::CREATE.0,
                'd' => Rights::DELETE_MAILBOX.0 | Rights::DELETE_MESSAGES.0 | Rights::EXPUNGE.0,
                c => match ALL_RIGHTS.find(c) {
                    Some(i) if c.is_ascii_lowercase() => 1 << i,
                    _ => return Err(UnknownRight(c)),
                },
            };
        }
        Ok(Rights(bits))
    }

    pub const fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn union(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    pub fn minus(self, other: Rights) -> Rights {
        Rights(self.0 & !other.0)
    }

    /// Whether the mailbox may be changed at all (SELECT rather than a
    /// read-only EXAMINE): any of `swite`.
    pub fn may_change(self) -> bool {
        self.0 & (Rights::SEEN.0 | Rights::WRITE.0 | Rights::INSERT.0 | Rights::DELETE_MESSAGES.0 | Rights::EXPUNGE.0)
            != 0
    }
}

impl std::fmt::Display for Rights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, c) in ALL_RIGHTS.chars().enumerate() {
            if self.0 & (1 << i) != 0 {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// The sending rights a delegate holds on an owner's addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendRights {
    /// The owner's address in `From:`, the delegate named nowhere.
    pub send_as: bool,
    /// The owner's address in `From:` with the delegate's own in `Sender:`.
    pub on_behalf: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_read_and_write_in_rfc_order() {
        let r = Rights::parse("ealr").unwrap();
        assert_eq!(r.to_string(), "lrea");
        assert_eq!(Rights::ALL.to_string(), ALL_RIGHTS);
        assert_eq!(Rights::READER.to_string(), "lrs");
        assert_eq!(Rights::READ_WRITE.to_string(), "lrswipte");
        assert_eq!(Rights::parse("").unwrap(), Rights::NONE);
    }

    #[test]
    fn obsolete_letters_map_and_unknown_ones_are_refused() {
        assert_eq!(Rights::parse("c").unwrap(), Rights::CREATE);
        assert_eq!(Rights::parse("d").unwrap().to_string(), "xte");
        assert_eq!(Rights::parse("lrz"), Err(UnknownRight('z')));
        assert_eq!(Rights::parse("L"), Err(UnknownRight('L')));
        assert_eq!(Rights::parse("l r"), Err(UnknownRight(' ')));
    }

    #[test]
    fn only_a_write_right_makes_a_mailbox_changeable() {
        assert!(!Rights::parse("lr").unwrap().may_change());
        assert!(Rights::parse("lrs").unwrap().may_change());
        assert!(Rights::READ_WRITE.contains(Rights::EXPUNGE));
        assert!(!Rights::READ_WRITE.contains(Rights::ADMINISTER));
    }
}
