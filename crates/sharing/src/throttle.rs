//! Slowing down guesses of links and passwords: each address (an IPv6 /64
//! counting as one) may fail [`Throttle::LIMIT`] times per window; beyond,
//! every lookup from it is refused until the window ends. A link of 160
//! random bits cannot be found by guessing anyway; this keeps a scanner and
//! a password guesser from costing argon2 time and filling the logs.
//! In memory: each node counts its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures counted per address, per window.
#[derive(Debug)]
pub struct Throttle {
    window: Duration,
    limit: u32,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Default for Throttle {
    fn default() -> Throttle {
        Throttle::new(Duration::from_secs(600), Throttle::LIMIT)
    }
}

/// The key an address counts under: IPv6 by /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut s = v6.segments();
                s[4..].fill(0);
                IpAddr::V6(s.into())
            }
        },
        v4 => v4,
    }
}

impl Throttle {
    /// Failures allowed per window by default.
    pub const LIMIT: u32 = 20;

    pub fn new(window: Duration, limit: u32) -> Throttle {
        Throttle { window, limit, seen: Mutex::new(HashMap::new()) }
    }

    /// Whether `ip` may try now.
    pub fn allowed(&self, ip: IpAddr) -> bool {
        let Ok(seen) = self.seen.lock() else { return false };
        match seen.get(&key(ip)) {
            Some((since, n)) => since.elapsed() >= self.window || *n < self.limit,
            None => true,
        }
    }

    /// Counts a failure (an unknown link, a wrong password) from `ip`.
    pub fn failed(&self, ip: IpAddr) {
        let Ok(mut seen) = self.seen.lock() else { return };
        if seen.len() > 100_000 {
            let window = self.window;
            seen.retain(|_, (since, _)| since.elapsed() < window);
        }
        let entry = seen.entry(key(ip)).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= self.window {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_limit_are_refused_per_address_and_slash_64() {
        let t = Throttle::new(Duration::from_secs(60), 3);
        let a: IpAddr = "2001:db8:1:2::5".parse().unwrap();
        let same64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..3 {
            assert!(t.allowed(a));
            t.failed(a);
        }
        assert!(!t.allowed(a));
        assert!(!t.allowed(same64), "one /64 counts as one address");
        assert!(t.allowed(other));
    }

    #[test]
    fn the_window_ends() {
        let t = Throttle::new(Duration::from_millis(1), 1);
        let a: IpAddr = "192.0.2.7".parse().unwrap();
        t.failed(a);
        std::thread::sleep(Duration::from_millis(5));
        assert!(t.allowed(a));
    }
}
