//! Known devices (issue 25, items 5 and 11): a browser that completed a
//! login gets a long-lived cookie, signed by the server and bound to the
//! account, that names it as a device. A login that shows it is slowed down
//! on that device's own failures, not on those of the address it shares
//! (a school's NAT, the reverse proxy) nor on the account's (someone
//! guessing from elsewhere): the owner keeps getting in while the guesser
//! crawls. A cookie copied to another browser is still only one device, with
//! its own count.
//!
//! The mail protocols have their own device secret: the app password, whose
//! 80 random bits no one guesses, so a right one is never slowed down.

use std::net::IpAddr;

use model::AccountId;
use subtle::ConstantTimeEq;

use super::hash::random_token;
use crate::Identity;

/// Characters of the device's id in the cookie.
const ID_LEN: usize = 16;
/// Bytes of the signature kept (128 bits).
const MAC_LEN: usize = 16;

/// The signing key of device cookies.
pub(crate) struct DeviceKey([u8; 32]);

impl DeviceKey {
    pub(crate) fn new(key: [u8; 32]) -> DeviceKey {
        DeviceKey(key)
    }

    fn mac(&self, account: AccountId, device: &str) -> [u8; MAC_LEN] {
        let full = blake3::keyed_hash(&self.0, format!("{account}.{device}").as_bytes());
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full.as_bytes()[..MAC_LEN]);
        out
    }
}

impl Identity {
    /// A new device token for `account` (the value of the web's device
    /// cookie, set after a complete login).
    pub fn new_device_token(&self, account: AccountId) -> String {
        let device = random_token(ID_LEN);
        format!("{device}.{}", hex::encode(self.device_key.mac(account, &device)))
    }

    /// The device `token` proves for `account`: its id when the signature
    /// holds for this account, else `None` (forged, or another account's).
    pub fn device_of(&self, account: AccountId, token: &str) -> Option<String> {
        let (device, mac) = token.split_once('.')?;
        if device.len() != ID_LEN || !device.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let mac = hex::decode(mac).ok()?;
        bool::from(mac.ct_eq(&self.device_key.mac(account, device))).then(|| device.to_owned())
    }
}

/// The source a failure is counted against: an IPv4 address, or the /64
/// network of an IPv6 one (one subscriber gets a whole /64 and can walk it).
pub fn source_of(peer: IpAddr) -> String {
    match peer {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_of(a), "2001:db8:1:2::/64");
        assert_eq!(source_of(a), source_of(b));
        assert_ne!(source_of(a), source_of(c));
        assert_eq!(source_of("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(source_of("192.0.2.7".parse().unwrap()), "192.0.2.7");
    }
}
