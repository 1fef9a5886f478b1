//! Connection caps per client address and per account, shared by every
//! listener built from one configuration: one address or one user cannot take
//! all the connections of a service.
//!
//! It lives here rather than in one adapter because IMAP and SMTP (the MX and
//! submission) need the same counters. An IPv6 client is counted by its /64
//! prefix, since one host usually holds a whole /64 and could otherwise open
//! connections from as many addresses as it likes; an IPv4-mapped IPv6
//! address counts as the IPv4 address it carries.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// Counters of open connections.
#[derive(Debug)]
pub struct Admission {
    per_ip: usize,
    per_user: usize,
    ips: Mutex<HashMap<IpAddr, usize>>,
    users: Mutex<HashMap<i64, usize>>,
}

/// A held slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    admission: Arc<Admission>,
    key: Key,
}

#[derive(Debug, Clone, Copy)]
enum Key {
    Ip(IpAddr),
    User(i64),
}

fn take<K: Hash + Eq>(map: &Mutex<HashMap<K, usize>>, key: K, max: usize) -> bool {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    let n = map.entry(key).or_insert(0);
    if *n >= max {
        return false;
    }
    *n += 1;
    true
}

fn give_back<K: Hash + Eq>(map: &Mutex<HashMap<K, usize>>, key: K) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = map.get_mut(&key) {
        *n -= 1;
        if *n == 0 {
            map.remove(&key);
        }
    }
}

/// The key under which `ip` is counted: IPv4 as is, IPv6 by its /64.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl Admission {
    /// At most `per_ip` connections per address and `per_user` sessions per
    /// account (an account id).
    pub fn new(per_ip: usize, per_user: usize) -> Arc<Admission> {
        Arc::new(Admission { per_ip, per_user, ips: Mutex::default(), users: Mutex::default() })
    }

    /// A slot for one more connection from `ip`, if under the cap.
    pub fn from_ip(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let ip = address_key(ip);
        take(&self.ips, ip, self.per_ip).then(|| Slot { admission: self.clone(), key: Key::Ip(ip) })
    }

    /// A slot for one more session of `account`, if under the cap.
    pub fn for_user(self: &Arc<Self>, account: i64) -> Option<Slot> {
        take(&self.users, account, self.per_user).then(|| Slot { admission: self.clone(), key: Key::User(account) })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        match self.key {
            Key::Ip(ip) => give_back(&self.admission.ips, ip),
            Key::User(a) => give_back(&self.admission.users, a),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_given_back() {
        let a = Admission::new(2, 1);
        let ip: IpAddr = [192, 0, 2, 1].into();
        let (s1, s2) = (a.from_ip(ip).unwrap(), a.from_ip(ip).unwrap());
        assert!(a.from_ip(ip).is_none());
        assert!(a.from_ip([192, 0, 2, 2].into()).is_some());
        drop(s1);
        assert!(a.from_ip(ip).is_some());
        drop(s2);
        let u = a.for_user(7).unwrap();
        assert!(a.for_user(7).is_none());
        drop(u);
        assert!(a.for_user(7).is_some());
    }

    #[test]
    fn an_ipv6_slash_64_is_one_address() {
        let a = Admission::new(1, 1);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let _held = a.from_ip(one).unwrap();
        assert!(a.from_ip("2001:db8:1:2:ffff::9".parse().unwrap()).is_none());
        assert!(a.from_ip("2001:db8:1:3::1".parse().unwrap()).is_some());
        let _v4 = a.from_ip([192, 0, 2, 1].into()).unwrap();
        assert!(a.from_ip("::ffff:192.0.2.1".parse().unwrap()).is_none());
    }
}
