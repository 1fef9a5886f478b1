//! Which claims a client receives: the scopes it asked for, within those
//! it was registered with, decide (pure).
//!
//! | scope | claims |
//! |---|---|
//! | `openid` | `sub` (pairwise: a keyed hash of the client and the account) |
//! | `profile` | `name`, `given_name`, `family_name` |
//! | `email` | `email`, `email_verified` |
//! | `academie` | `role`, `uai` (the établissement), `unit` (the organisational unit's name) |
//! | `mail` | none: the access token opens IMAP, SMTP submission, ManageSieve and DAV ([`crate::access`]) |

use serde_json::{Map, Value};

/// Every scope the provider knows.
pub const SCOPES: [&str; 5] = ["openid", "profile", "email", "academie", "mail"];

/// Who the claims are about.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    pub email: String,
    pub name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub role: String,
    pub uai: Option<String>,
    pub unit: Option<String>,
}

/// The scopes granted: those asked for that the client may have and the
/// provider knows, in the provider's order; `None` without `openid`.
pub fn granted(asked: &str, allowed: &[String]) -> Option<Vec<String>> {
    let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
    if !asked.contains(&"openid") {
        return None;
    }
    Some(
        SCOPES
            .iter()
            .filter(|s| asked.contains(s) && (**s == "openid" || allowed.iter().any(|a| a == *s)))
            .map(|s| (*s).to_owned())
            .collect(),
    )
}

/// The claims of `who` released under `scopes` (besides `sub`).
pub fn released(who: &Subject, scopes: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.insert(k.to_owned(), Value::String(v.to_owned()));
        }
    };
    if has("profile") {
        put("name", Some(&who.name));
        put("given_name", who.given_name.as_deref());
        put("family_name", who.family_name.as_deref());
    }
    if has("email") {
        put("email", Some(&who.email));
    }
    if has("academie") {
        put("role", Some(&who.role));
        put("uai", who.uai.as_deref());
        put("unit", who.unit.as_deref());
    }
    if has("email") {
        out.insert("email_verified".into(), Value::Bool(true));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claire() -> Subject {
        Subject {
            email: "claire.martin@ac-demo.fr".into(),
            name: "Claire Martin".into(),
            given_name: Some("Claire".into()),
            family_name: Some("Martin".into()),
            role: "teacher".into(),
            uai: Some("0541234A".into()),
            unit: Some("Collège Jules Ferry".into()),
        }
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn scopes_are_those_asked_and_allowed_and_need_openid() {
        let allowed = v(&["profile", "email"]);
        assert_eq!(granted("openid email academie inconnu", &allowed), Some(v(&["openid", "email"])));
        assert_eq!(granted("email profile", &allowed), None);
        assert_eq!(granted("openid", &[]), Some(v(&["openid"])));
    }

    #[test]
    fn claims_follow_the_scopes() {
        let c = released(&claire(), &v(&["openid"]));
        assert!(c.is_empty(), "{c:?}");
        let c = released(&claire(), &v(&["openid", "email"]));
        assert_eq!(c["email"], "claire.martin@ac-demo.fr");
        assert!(!c.contains_key("name") && !c.contains_key("uai"));
        let c = released(&claire(), &v(&["openid", "profile", "academie"]));
        assert_eq!(c["given_name"], "Claire");
        assert_eq!(c["uai"], "0541234A");
        assert_eq!(c["unit"], "Collège Jules Ferry");
        assert!(!c.contains_key("email"));
    }
}
