//! Mail addresses as the platform stores them: `local@domain`, domain lower-cased,
//! local part lower-cased too (staff addresses are case-insensitive by policy).

use std::fmt;

/// A DNS domain name, lower-case, without trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Domain(String);

impl Domain {
    pub fn parse(s: &str) -> Result<Domain, AddressError> {
        let s = s.trim().trim_end_matches('.').to_lowercase();
        if s.is_empty() || s.len() > 253 {
            return Err(AddressError::BadDomain);
        }
        for label in s.split('.') {
            let ok = !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-');
            if !ok {
                return Err(AddressError::BadDomain);
            }
        }
        Ok(Domain(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A normalised mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Address {
    local: String,
    domain: Domain,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("adresse sans @ / address has no @")]
    NoAt,
    #[error("partie locale invalide / invalid local part")]
    BadLocal,
    #[error("domaine invalide / invalid domain")]
    BadDomain,
}

impl Address {
    /// Parses `local@domain`, tolerating surrounding angle brackets and spaces.
    pub fn parse(s: &str) -> Result<Address, AddressError> {
        let s = s.trim().trim_start_matches('<').trim_end_matches('>').trim();
        let (local, domain) = s.rsplit_once('@').ok_or(AddressError::NoAt)?;
        let bad_char = |c: char| c.is_control() || c.is_whitespace() || "<>()[]\\,;:\"@".contains(c);
        if local.is_empty() || local.len() > 64 || local.chars().any(bad_char) {
            return Err(AddressError::BadLocal);
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(AddressError::BadLocal);
        }
        Ok(Address { local: local.to_lowercase(), domain: Domain::parse(domain)? })
    }
    pub fn local(&self) -> &str {
        &self.local
    }
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_brackets() {
        let a = Address::parse(" <Claire.Martin@AC-Demo.FR> ").unwrap();
        assert_eq!(a.to_string(), "claire.martin@ac-demo.fr");
        assert_eq!(a.domain().as_str(), "ac-demo.fr");
    }

    #[test]
    fn accepts_utf8_local_part() {
        assert_eq!(Address::parse("hélène@ac-demo.fr").unwrap().local(), "hélène");
    }

    #[test]
    fn rejects_broken_addresses() {
        assert_eq!(Address::parse("nobody"), Err(AddressError::NoAt));
        assert_eq!(Address::parse("@ac-demo.fr"), Err(AddressError::BadLocal));
        assert_eq!(Address::parse("a..b@ac-demo.fr"), Err(AddressError::BadLocal));
        assert_eq!(Address::parse("a b@ac-demo.fr"), Err(AddressError::BadLocal));
        assert_eq!(Address::parse("a@-x.fr"), Err(AddressError::BadDomain));
        assert_eq!(Address::parse("a@x..fr"), Err(AddressError::BadDomain));
    }
}
