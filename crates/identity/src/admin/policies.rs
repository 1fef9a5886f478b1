//! The policies the store keeps per organisational unit, as an administrator
//! sees and changes them: where automatic forwarding may go (schema 25,
//! `forwarding_policies`) and the automatic archiving delay (schema 29,
//! `archive_policies`). A unit's policy covers the units below it unless
//! they have their own; without any, the installation's configuration
//! applies. Seeing needs `Read` on the unit, changing needs `Govern`
//! (académie and national administrators); every change is audited. The
//! console's « Politiques » page and `ardoise admin forwarding|archiving`
//! both call these.

use model::OrgUnitId;

use super::{AdminError, Administrator, refused};
use crate::Identity;
use crate::lifecycle::Action;

/// The longest archiving delay (a century).
pub const MAX_ARCHIVE_DAYS: i64 = 36_500;

/// One unit of the administrator's sight and its own policies.
#[derive(Debug, Clone)]
pub struct UnitPolicies {
    pub unit: OrgUnitId,
    pub name: String,
    pub depth: usize,
    /// `internal`, `domains` or `anywhere`, with the domains; `None`: inherited.
    pub forwarding: Option<(String, Vec<String>)>,
    /// Days (0: never); `None`: inherited.
    pub archive_days: Option<i64>,
    /// Whether the administrator may change them (`Govern` here).
    pub may_edit: bool,
}

/// A forwarding policy as asked (checked by [`Identity::admin_set_forwarding`]).
pub fn parse_forwarding(policy: &str, domains: &str) -> Result<(&'static str, Vec<String>), AdminError> {
    let policy = match policy.trim() {
        "internal" => "internal",
        "domains" => "domains",
        "anywhere" => "anywhere",
        _ => return Err(refused("politique de transfert inconnue", "unknown forwarding policy")),
    };
    let mut listed = Vec::new();
    for d in domains.split([' ', ',', '\n', '\r', '\t']).filter(|d| !d.is_empty()) {
        let d = model::Domain::parse(d).map_err(|_| refused("domaine invalide", "invalid domain"))?;
        listed.push(d.as_str().to_owned());
    }
    match (policy, listed.is_empty()) {
        ("domains", true) => Err(refused(
            "la politique « vers les domaines listés » demande au moins un domaine",
            "the « listed domains » policy needs at least one domain",
        )),
        ("internal" | "anywhere", false) => Err(refused(
            "des domaines ne vont qu'avec la politique « vers les domaines listés »",
            "domains go with the « listed domains » policy only",
        )),
        _ => Ok((policy, listed)),
    }
}

/// The name of `unit` when `who` may change its policies (out of sight:
/// [`AdminError::NotFound`]; in sight without `Govern`: `Denied`).
fn governed_unit(who: &Administrator, unit: OrgUnitId) -> Result<String, AdminError> {
    let found = who.unit(unit).filter(|_| who.may(Action::Read, Some(unit))).ok_or(AdminError::NotFound)?;
    let name = found.name.clone();
    who.check(Action::Govern, Some(unit))?;
    Ok(name)
}

impl Identity {
    /// The units `who` sees (in tree order, with their depth) and their own policies.
    pub async fn admin_policies(&self, who: &Administrator) -> Result<Vec<UnitPolicies>, AdminError> {
        let forwarding = self.store.forwarding_policies().await?;
        let archiving = self.store.archive_policies().await?;
        let rows = self.admin_units(who).await?;
        Ok(rows
            .into_iter()
            .map(|u| UnitPolicies {
                forwarding: forwarding
                    .iter()
                    .find(|p| p.org_unit == u.id)
                    .map(|p| (p.policy.clone(), p.domains.clone())),
                archive_days: archiving.iter().find(|(unit, _)| *unit == u.id).map(|(_, d)| *d),
                may_edit: who.may(Action::Govern, Some(u.id)),
                name: match &u.uai {
                    Some(uai) => format!("{} ({uai})", u.name),
                    None => u.name,
                },
                depth: u.depth,
                unit: u.id,
            })
            .collect())
    }

    /// Sets the forwarding policy of `unit` (see [`parse_forwarding`]).
    pub async fn admin_set_forwarding(
        &self,
        who: &Administrator,
        unit: OrgUnitId,
        policy: &str,
        domains: &[String],
    ) -> Result<(), AdminError> {
        let name = governed_unit(who, unit)?;
        let (policy, listed) = parse_forwarding(policy, &domains.join(" "))?;
        self.store.set_forwarding_policy(unit, policy, &listed).await?;
        let detail = format!("{policy} {}", listed.join(" "));
        self.admin_audit(who, "forwarding.set", &name, detail.trim()).await?;
        Ok(())
    }

    /// Removes `unit`'s own forwarding policy; `false` when it had none.
    pub async fn admin_remove_forwarding(&self, who: &Administrator, unit: OrgUnitId) -> Result<bool, AdminError> {
        let name = governed_unit(who, unit)?;
        if !self.store.remove_forwarding_policy(unit).await? {
            return Ok(false);
        }
        self.admin_audit(who, "forwarding.remove", &name, "").await?;
        Ok(true)
    }

    /// Sets the archiving delay of `unit`, in days (0: never).
    pub async fn admin_set_archiving(&self, who: &Administrator, unit: OrgUnitId, days: i64) -> Result<(), AdminError> {
        let name = governed_unit(who, unit)?;
        if !(0..=MAX_ARCHIVE_DAYS).contains(&days) {
            return Err(refused("délai invalide (0 à 36500 jours)", "invalid delay (0 to 36500 days)"));
        }
        self.store.set_archive_policy(unit, days).await?;
        self.admin_audit(who, "archiving.set", &name, &format!("{days} jours")).await?;
        Ok(())
    }

    /// Removes `unit`'s own archiving delay; `false` when it had none.
    pub async fn admin_remove_archiving(&self, who: &Administrator, unit: OrgUnitId) -> Result<bool, AdminError> {
        let name = governed_unit(who, unit)?;
        if !self.store.remove_archive_policy(unit).await? {
            return Ok(false);
        }
        self.admin_audit(who, "archiving.remove", &name, "").await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_forwarding;

    #[test]
    fn forwarding_policies_are_checked() {
        assert_eq!(parse_forwarding("internal", "").unwrap(), ("internal", vec![]));
        assert_eq!(
            parse_forwarding("domains", "Exemple.org, ac-x.fr").unwrap(),
            ("domains", vec!["exemple.org".to_owned(), "ac-x.fr".to_owned()])
        );
        assert!(parse_forwarding("domains", "").is_err());
        assert!(parse_forwarding("anywhere", "exemple.org").is_err());
        assert!(parse_forwarding("partout", "").is_err());
        assert!(parse_forwarding("domains", "exemple.org pas@un-domaine").is_err());
    }
}
