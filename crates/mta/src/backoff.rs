//! The retry schedule: exponential backoff with a ceiling.
//!
//! The n-th retry waits `first * 2^(n-1)`, never more than `max`: with the
//! defaults (5 minutes, 4 hours) a remote outage is retried after 5, 10, 20,
//! 40, 80, 160 minutes and then every 4 hours until the message expires.

use std::time::Duration;

/// When to try again after a temporary failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failed attempt.
    pub first: Duration,
    /// The longest wait between two attempts.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { first: Duration::from_secs(300), max: Duration::from_secs(4 * 3600) }
    }
}

impl Backoff {
    /// The wait after `failed` attempts have failed (1 for the first failure).
    pub fn delay(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(30);
        let delay = self.first.saturating_mul(1u32 << doublings);
        delay.min(self.max).max(Duration::from_secs(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_ceiling() {
        let b = Backoff::default();
        let minutes: Vec<u64> = (1..=9).map(|n| b.delay(n).as_secs() / 60).collect();
        assert_eq!(minutes, [5, 10, 20, 40, 80, 160, 240, 240, 240]);
        assert_eq!(b.delay(0), b.delay(1));
        assert_eq!(b.delay(u32::MAX), b.max);
    }

    #[test]
    fn seconds_for_tests() {
        let b = Backoff { first: Duration::from_secs(1), max: Duration::from_secs(3) };
        let secs: Vec<u64> = (1..=4).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 3, 3]);
        let zero = Backoff { first: Duration::ZERO, max: Duration::ZERO };
        assert_eq!(zero.delay(1), Duration::from_secs(1), "never a busy loop");
    }
}
