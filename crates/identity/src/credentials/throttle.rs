//! Brute-force slow-down, as a pure computation over what the journal says.
//!
//! Failures are counted since the last success of the same scope and within
//! a window. Past a few free attempts, each further failure doubles the
//! wait before the next attempt is even looked at, up to a cap. An attempt
//! refused because it came too soon is not a failure: it does not lengthen
//! the wait. Three scopes, each an independent limit:
//! - the account from one source: a device the web's signed cookie proves
//!   ([`super::device`]), else the address (IPv6 per /64);
//! - the source address alone, whatever the account (one guesser trying
//!   many accounts);
//! - the account from anywhere (guessing spread over many addresses).
//!
//! A known device (the cookie, or an address the account logged in from
//! before) is spared the last two: neither someone else behind the owner's
//! school NAT nor a guesser elsewhere can lock the owner out, while each of
//! them crawls on their own count. A right app password is never slowed
//! down (80 random bits, a device secret). Identifiers that name no account
//! are counted exactly like accounts, so the throttle does not tell which
//! exist.

use std::time::Duration;

/// Slow-down parameters for one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Failures allowed before any wait.
    pub free: i64,
    /// Wait after the first failure past `free`; doubles with each further one.
    pub base: Duration,
    pub max: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

impl Throttle {
    /// Per account and source address.
    pub const ACCOUNT_ADDRESS: Throttle = Throttle {
        free: 5,
        base: Duration::from_secs(2),
        max: Duration::from_secs(15 * 60),
        window: Duration::from_secs(3600),
    };
    /// Per account, across addresses: guessing spread over many addresses
    /// (300 guesses from 60 addresses used to pass unslowed). More room than
    /// per address, since everyone's typos add up here; known devices are
    /// spared.
    pub const ACCOUNT: Throttle = Throttle {
        free: 10,
        base: Duration::from_secs(2),
        max: Duration::from_secs(15 * 60),
        window: Duration::from_secs(3600),
    };
    /// Per source address, across accounts (a school NAT shares one).
    pub const ADDRESS: Throttle = Throttle {
        free: 20,
        base: Duration::from_secs(2),
        max: Duration::from_secs(15 * 60),
        window: Duration::from_secs(3600),
    };

    /// The wait imposed after `failures` recent failures.
    pub fn delay(&self, failures: i64) -> Duration {
        if failures <= self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free - 1).clamp(0, 20) as u32;
        self.base.saturating_mul(1 << doublings).min(self.max)
    }

    /// How long the caller must still wait, given `failures` with the latest
    /// at `last` (unix seconds), at `now`. `None` when it may try now.
    pub fn wait(&self, failures: i64, last: Option<i64>, now: i64) -> Option<Duration> {
        let delay = self.delay(failures);
        let last = last?;
        let until = last.saturating_add(delay.as_secs() as i64);
        (delay > Duration::ZERO && now < until).then(|| Duration::from_secs((until - now) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Throttle = Throttle {
        free: 3,
        base: Duration::from_secs(2),
        max: Duration::from_secs(60),
        window: Duration::from_secs(3600),
    };

    #[test]
    fn free_attempts_then_exponential_then_capped() {
        assert_eq!(T.delay(0), Duration::ZERO);
        assert_eq!(T.delay(3), Duration::ZERO);
        assert_eq!(T.delay(4), Duration::from_secs(2));
        assert_eq!(T.delay(5), Duration::from_secs(4));
        assert_eq!(T.delay(6), Duration::from_secs(8));
        assert_eq!(T.delay(9), Duration::from_secs(60));
        assert_eq!(T.delay(1_000_000), Duration::from_secs(60));
    }

    #[test]
    fn waiting_counts_from_the_last_failure() {
        assert_eq!(T.wait(3, Some(100), 100), None);
        assert_eq!(T.wait(5, Some(100), 101), Some(Duration::from_secs(3)));
        assert_eq!(T.wait(5, Some(100), 104), None);
        assert_eq!(T.wait(5, None, 104), None);
    }

    #[test]
    fn defaults_leave_room_for_typos_but_not_for_guessing() {
        let a = Throttle::ACCOUNT_ADDRESS;
        assert_eq!(a.delay(a.free), Duration::ZERO);
        // A thousand guesses from one address cost at least the cap each.
        assert_eq!(a.delay(1000), a.max);
        assert!(Throttle::ADDRESS.free > a.free);
    }
}
