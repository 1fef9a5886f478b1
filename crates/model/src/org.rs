//! Organisational units: académie > DSDEN > établissement (identified by its UAI).

use std::fmt;

/// The level of a unit in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum OrgUnitKind {
    Academie,
    Dsden,
    Etablissement,
    Service,
}

impl OrgUnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgUnitKind::Academie => "academie",
            OrgUnitKind::Dsden => "dsden",
            OrgUnitKind::Etablissement => "etablissement",
            OrgUnitKind::Service => "service",
        }
    }
    pub fn parse(s: &str) -> Option<OrgUnitKind> {
        [OrgUnitKind::Academie, OrgUnitKind::Dsden, OrgUnitKind::Etablissement, OrgUnitKind::Service]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A UAI code: 7 digits and a letter (e.g. `0541234A`), stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Uai(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("code UAI invalide « {0} » : 7 chiffres et une lettre attendus / invalid UAI code")]
pub struct UaiError(pub String);

impl Uai {
    pub fn parse(s: &str) -> Result<Uai, UaiError> {
        let up = s.trim().to_ascii_uppercase();
        let b = up.as_bytes();
        let ok = b.len() == 8 && b[..7].iter().all(u8::is_ascii_digit) && b[7].is_ascii_uppercase();
        if ok { Ok(Uai(up)) } else { Err(UaiError(s.to_owned())) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uai_codes() {
        assert_eq!(Uai::parse("0541234a").unwrap().as_str(), "0541234A");
        assert!(Uai::parse("054123A").is_err());
        assert!(Uai::parse("05412345").is_err());
    }
}
