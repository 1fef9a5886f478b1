//! Connection caps per client address and per account, shared by every
//! listener built from one [`crate::ImapConfig`]: one address or one user
//! cannot take all the connections.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use model::AccountId;

/// Counters of open connections.
#[derive(Debug)]
pub struct Admission {
    per_ip: usize,
    per_user: usize,
    ips: Mutex<HashMap<IpAddr, usize>>,
    users: Mutex<HashMap<AccountId, usize>>,
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
    User(AccountId),
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

impl Admission {
    pub fn new(per_ip: usize, per_user: usize) -> Arc<Admission> {
        Arc::new(Admission { per_ip, per_user, ips: Mutex::default(), users: Mutex::default() })
    }

    /// A slot for one more connection from `ip`, if under the cap.
    pub fn from_ip(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        take(&self.ips, ip, self.per_ip).then(|| Slot { admission: self.clone(), key: Key::Ip(ip) })
    }

    /// A slot for one more session of `account`, if under the cap.
    pub fn for_user(self: &Arc<Self>, account: AccountId) -> Option<Slot> {
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
}
