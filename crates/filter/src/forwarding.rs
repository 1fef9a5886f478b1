//! The forwarding policy (brief item 12): sensitive data must not leave the
//! institution, so automatic forwarding outside the local domains is
//! forbidden unless an administrator allows it, everywhere or to listed
//! domains.
//!
//! It is checked twice. When a script is stored (ManageSieve's PUTSCRIPT, the
//! webmail's builder): every `redirect` of the compiled script is read, and a
//! forbidden target, or one computed at delivery (from variables), refuses
//! the script with a French reason. At delivery (`mta`'s redirect): a target
//! the policy forbids since (the policy changed, or the script was stored
//! before) is not sent; the message stays with its owner.

use model::{AccountId, Address, Domain};
use sieve::Sieve;

use crate::{Error, Filters};

/// Where automatic forwarding may go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Forwarding {
    /// To the installation's own domains only (the default).
    #[default]
    Internal,
    /// Anywhere.
    Anywhere,
    /// To the local domains and these (each with its subdomains).
    Domains(Vec<Domain>),
}

impl Forwarding {
    /// Whether a message may be forwarded automatically to `to`.
    pub fn allows(&self, to: &Address, local: &[Domain]) -> bool {
        let domain = to.domain();
        if local.contains(domain) {
            return true;
        }
        match self {
            Forwarding::Internal => false,
            Forwarding::Anywhere => true,
            Forwarding::Domains(listed) => listed.iter().any(|d| within(domain.as_str(), d.as_str())),
        }
    }

    /// The French (and English) reason a forward to `to` is refused.
    pub fn refusal(to: &str) -> String {
        format!(
            "transfert automatique vers « {to} » interdit par la politique de l'académie : \
             seules les adresses internes sont permises / automatic forwarding to {to} is not allowed"
        )
    }
}

impl Forwarding {
    /// A unit's stored policy (`store::ForwardingPolicy`); an unknown word,
    /// which only a hand-edited database holds, is the strictest.
    pub fn from_stored(policy: &str, domains: &[String]) -> Forwarding {
        match policy {
            "anywhere" => Forwarding::Anywhere,
            "domains" => Forwarding::Domains(domains.iter().filter_map(|d| Domain::parse(d).ok()).collect()),
            _ => Forwarding::Internal,
        }
    }
}

impl Filters {
    /// The policy `account` is under: its nearest unit's (administrators set
    /// them per académie, DSDEN or établissement), else the installation's.
    pub async fn forwarding_for(&self, account: AccountId) -> Result<Forwarding, Error> {
        Ok(match self.store.forwarding_policy_of(account).await? {
            Some(p) => Forwarding::from_stored(&p.policy, &p.domains),
            None => self.settings.forwarding.clone(),
        })
    }
}

/// `domain` is `parent` or one of its subdomains.
fn within(domain: &str, parent: &str) -> bool {
    domain == parent || domain.strip_suffix(parent).is_some_and(|head| head.ends_with('.'))
}

/// A `redirect` target as the compiled script holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Fixed(String),
    /// Built from variables when the script runs: cannot be checked now.
    Computed,
}

/// The targets of every `redirect` in `script`.
///
/// sieve-rs keeps its compiled form private; its serde form (the `serde`
/// feature, enabled for this) names each instruction, so `Redirect` objects
/// are found by walking it.
pub fn redirect_targets(script: &Sieve) -> Vec<Target> {
    let Ok(tree) = serde_json::to_value(script) else {
        return vec![Target::Computed];
    };
    let mut out = Vec::new();
    walk(&tree, &mut out);
    out
}

fn walk(v: &serde_json::Value, out: &mut Vec<Target>) {
    match v {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                if key == "Redirect"
                    && let Some(address) = inner.get("address")
                {
                    out.push(match address.get("Text").and_then(|t| t.as_str()) {
                        Some(text) => Target::Fixed(text.to_owned()),
                        None => Target::Computed,
                    });
                } else {
                    walk(inner, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
        _ => {}
    }
}

/// The reason `script` may not be stored under `policy`, if any.
pub fn refusal(script: &Sieve, policy: &Forwarding, local: &[Domain]) -> Option<String> {
    if *policy == Forwarding::Anywhere {
        return None;
    }
    for target in redirect_targets(script) {
        match target {
            Target::Fixed(to) => {
                let allowed = Address::parse(to.trim()).is_ok_and(|a| policy.allows(&a, local));
                if !allowed {
                    return Some(Forwarding::refusal(&to));
                }
            }
            Target::Computed => {
                return Some(
                    "une adresse de redirection calculée (variables) ne peut pas être vérifiée : \
                     écrivez l'adresse en toutes lettres / a computed redirect address cannot be checked"
                        .into(),
                );
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(text: &str) -> Sieve {
        crate::compile::check(text, 64 * 1024).unwrap()
    }

    fn local() -> Vec<Domain> {
        vec![Domain::parse("ac-demo.fr").unwrap()]
    }

    #[test]
    fn redirects_are_found_wherever_they_are() {
        let s = compiled(
            "require [\"copy\", \"variables\"];\r\nredirect \"a@ac-demo.fr\";\r\n\
             if header :contains \"subject\" \"x\" { if true { redirect :copy \"b@example.org\"; } }\r\n\
             set \"who\" \"c\";\r\nredirect \"${who}@example.org\";\r\n",
        );
        assert_eq!(
            redirect_targets(&s),
            [Target::Fixed("a@ac-demo.fr".into()), Target::Fixed("b@example.org".into()), Target::Computed]
        );
        assert!(redirect_targets(&compiled("keep;\r\n")).is_empty());
    }

    #[test]
    fn the_policy_decides() {
        let outside = compiled("redirect \"prof@gmail.com\";\r\n");
        let inside = compiled("redirect \"paul.durand@ac-demo.fr\";\r\n");
        assert!(refusal(&inside, &Forwarding::Internal, &local()).is_none());
        let why = refusal(&outside, &Forwarding::Internal, &local()).unwrap();
        assert!(why.contains("interdit") && why.contains("prof@gmail.com"), "{why}");
        assert!(refusal(&outside, &Forwarding::Anywhere, &local()).is_none());
        let listed = Forwarding::Domains(vec![Domain::parse("gmail.com").unwrap()]);
        assert!(refusal(&outside, &listed, &local()).is_none());
        let sub = Address::parse("x@mail.gmail.com").unwrap();
        assert!(listed.allows(&sub, &local()));
        let lookalike = Address::parse("x@evilgmail.com").unwrap();
        assert!(!listed.allows(&lookalike, &local()), "a suffix is not a subdomain");
        let computed = compiled("require \"variables\";\r\nset \"a\" \"x@ac-demo.fr\";\r\nredirect \"${a}\";\r\n");
        assert!(refusal(&computed, &Forwarding::Internal, &local()).unwrap().contains("calculée"));
    }
}
