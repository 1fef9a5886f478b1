//! What a list is (static or dynamic) and who may post to it: a pure
//! decision from facts about the poster, so that every case is a unit test.
//!
//! Where a post comes from matters. Through submission the poster is an
//! authenticated account: "local staff" is exactly that, and membership or
//! a named sender is checked against the account's address and aliases.
//! Through the MX the only claim is the envelope sender, which anyone can
//! forge: a sender on one of our own domains is never believed there (our
//! staff post through submission), an outside address is believed as
//! mailing-list software believes it (it is what bounces go to). The null
//! sender (a bounce) never reaches a list.

use std::fmt;
use std::str::FromStr;

/// Static lists name their members; dynamic ones query the HR directory at
/// delivery time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Static,
    Dynamic,
}

impl ListKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Static => "static",
            ListKind::Dynamic => "dynamic",
        }
    }
}

impl FromStr for ListKind {
    type Err = String;
    fn from_str(s: &str) -> Result<ListKind, String> {
        match s {
            "static" => Ok(ListKind::Static),
            "dynamic" => Ok(ListKind::Dynamic),
            other => Err(format!("type de liste inconnu « {other} »")),
        }
    }
}

/// Who may post without moderation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostPolicy {
    Anyone,
    /// Authenticated accounts of the list's académie.
    Local,
    Members,
    /// The named senders only.
    Senders,
}

impl PostPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PostPolicy::Anyone => "anyone",
            PostPolicy::Local => "local",
            PostPolicy::Members => "members",
            PostPolicy::Senders => "senders",
        }
    }
}

impl fmt::Display for PostPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PostPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<PostPolicy, String> {
        match s {
            "anyone" => Ok(PostPolicy::Anyone),
            "local" => Ok(PostPolicy::Local),
            "members" => Ok(PostPolicy::Members),
            "senders" => Ok(PostPolicy::Senders),
            other => Err(format!("politique inconnue « {other} » (attendu : anyone, local, members, senders)")),
        }
    }
}

/// What is known of the poster, already weighed by where the post came from
/// (see the module doc: a local address claimed through the MX is neither a
/// member nor a named sender).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PosterFacts {
    /// A bounce (`MAIL FROM:<>`).
    pub null_sender: bool,
    /// Logged in through submission (or the webmail).
    pub authenticated: bool,
    /// That account belongs to the list's académie (`store::tenants`).
    pub of_the_academie: bool,
    pub member: bool,
    pub named_sender: bool,
    pub moderator: bool,
}

/// The fate of one post to one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Distribute,
    /// Into the moderation queue.
    Hold,
    /// Never distributed nor held (bounces).
    Drop,
}

/// Decides a post. Moderators always post; the rest follows the policy,
/// and what the policy does not let through waits for a moderator.
pub fn decide(policy: PostPolicy, poster: PosterFacts) -> Decision {
    if poster.null_sender {
        return Decision::Drop;
    }
    let allowed = poster.moderator
        || match policy {
            PostPolicy::Anyone => true,
            PostPolicy::Local => poster.authenticated && poster.of_the_academie,
            PostPolicy::Members => poster.member,
            PostPolicy::Senders => poster.named_sender,
        };
    if allowed { Decision::Distribute } else { Decision::Hold }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(f: impl FnOnce(&mut PosterFacts)) -> PosterFacts {
        let mut p = PosterFacts::default();
        f(&mut p);
        p
    }

    #[test]
    fn anyone_lets_everyone_but_bounces_through() {
        assert_eq!(decide(PostPolicy::Anyone, PosterFacts::default()), Decision::Distribute);
        assert_eq!(decide(PostPolicy::Anyone, facts(|p| p.null_sender = true)), Decision::Drop);
    }

    #[test]
    fn local_needs_a_login() {
        assert_eq!(decide(PostPolicy::Local, PosterFacts::default()), Decision::Hold);
        assert_eq!(decide(PostPolicy::Local, facts(|p| p.member = true)), Decision::Hold);
        let local = |p: &mut PosterFacts| {
            p.authenticated = true;
            p.of_the_academie = true;
        };
        assert_eq!(decide(PostPolicy::Local, facts(local)), Decision::Distribute);
        // Staff of another académie: held for the moderators.
        assert_eq!(decide(PostPolicy::Local, facts(|p| p.authenticated = true)), Decision::Hold);
    }

    #[test]
    fn members_and_senders_are_checked_and_moderators_always_post() {
        assert_eq!(decide(PostPolicy::Members, facts(|p| p.authenticated = true)), Decision::Hold);
        assert_eq!(decide(PostPolicy::Members, facts(|p| p.member = true)), Decision::Distribute);
        assert_eq!(decide(PostPolicy::Senders, facts(|p| p.member = true)), Decision::Hold);
        assert_eq!(decide(PostPolicy::Senders, facts(|p| p.named_sender = true)), Decision::Distribute);
        assert_eq!(decide(PostPolicy::Senders, facts(|p| p.moderator = true)), Decision::Distribute);
        assert_eq!(
            decide(
                PostPolicy::Senders,
                facts(|p| {
                    p.moderator = true;
                    p.null_sender = true
                })
            ),
            Decision::Drop
        );
    }

    #[test]
    fn texts_round_trip() {
        for p in [PostPolicy::Anyone, PostPolicy::Local, PostPolicy::Members, PostPolicy::Senders] {
            assert_eq!(p.as_str().parse::<PostPolicy>(), Ok(p));
        }
        assert!("tous".parse::<PostPolicy>().is_err());
        assert_eq!("dynamic".parse::<ListKind>(), Ok(ListKind::Dynamic));
    }
}
