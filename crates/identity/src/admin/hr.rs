//! The HR sync as an administrator runs it: the one door that `ardoise
//! directory sync` (the operator) and the console's « Annuaire RH » page
//! both go through. It decides who may sync (the `Govern` right on an
//! académie: its administrator, the national administrator, the operator),
//! which académie the file may touch (an académie administrator's own; rows
//! placed elsewhere are refused and skipped), the mail domain of new
//! addresses, and then runs [`crate::lifecycle::sync`] with the actor and
//! scope the audit log records.

use model::{Domain, OrgUnitId};
use store::DirectoryScope;

use super::{AdminError, Administrator, refused};
use crate::Identity;
use crate::lifecycle::{Action, AdminRole, NumenKey, Stage, SyncError, SyncOptions, SyncReport};

/// Days between a departure and the closing of the account, by default.
pub const RETENTION_DAYS: i64 = 90;
/// Days the address of an agent moved to another académie stays an alias, by default.
pub const TRANSFER_ALIAS_DAYS: i64 = 365;

/// One run of the HR sync.
pub struct HrSync<'a> {
    /// The bytes of the HR file (docs/hr-sync.md).
    pub file: &'a [u8],
    /// The domain of new addresses; `None`: the only one the administrator may use.
    pub domain: Option<&'a str>,
    pub dry_run: bool,
    pub retention_days: i64,
    pub transfer_alias_days: i64,
    /// The quota of new accounts (`[quota] default_bytes`).
    pub quota_bytes: Option<i64>,
    /// The fingerprint of the dry run being confirmed (see [`SyncOptions::expect`]).
    pub expect: Option<String>,
}

impl<'a> HrSync<'a> {
    /// A run with the default delays, applying, no quota, nothing to match.
    pub fn new(file: &'a [u8]) -> HrSync<'a> {
        HrSync {
            file,
            domain: None,
            dry_run: false,
            retention_days: RETENTION_DAYS,
            transfer_alias_days: TRANSFER_ALIAS_DAYS,
            quota_bytes: None,
            expect: None,
        }
    }
}

/// Why a sync did not run or apply.
#[derive(Debug, thiserror::Error)]
pub enum HrError {
    /// Not allowed, or no domain to use.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The file's errors, a changed directory, the store.
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl From<store::Error> for HrError {
    fn from(e: store::Error) -> HrError {
        HrError::Admin(AdminError::Store(e))
    }
}

impl Identity {
    /// The académie `who` syncs: `None` for every académie (the operator,
    /// the national administrator, an académie administrator of an
    /// installation whose one root is no académie unit); refused for a role
    /// without the `Govern` right (DSDEN, établissement, helpdesk, auditor).
    pub async fn admin_hr_scope(&self, who: &Administrator) -> Result<Option<OrgUnitId>, AdminError> {
        let Some(grants) = &who.scope.grants else { return Ok(None) };
        if grants.iter().any(|(role, _)| *role == AdminRole::National) {
            return Ok(None);
        }
        let mut academies = Vec::new();
        for (role, unit) in grants {
            if *role != AdminRole::Academie || !who.may(Action::Govern, Some(*unit)) {
                continue;
            }
            match self.store.academie_above(*unit).await? {
                Some(a) if !academies.contains(&Some(a)) => academies.push(Some(a)),
                Some(_) => {}
                // A grant on the one root of a tree without académie units.
                None if who.may(Action::Govern, None) => academies.push(None),
                None => {}
            }
        }
        match academies.as_slice() {
            [] => Err(AdminError::Denied(format!(
                "refusé : {} ne peut pas synchroniser l'annuaire RH (rôle administrateur d'académie requis) / \
                 denied: only an académie administrator syncs the HR directory",
                who.actor()
            ))),
            [one] => Ok(*one),
            _ => Err(refused(
                "vous administrez plusieurs académies : la synchronisation se fait par la ligne de commande",
                "you administer several académies: run the sync from the command line",
            )),
        }
    }

    /// The domains `who` may give new addresses in: those served, and, in an
    /// installation of several académies, those their académie uses.
    pub async fn admin_hr_domains(&self, who: &Administrator) -> Result<Vec<Domain>, AdminError> {
        let within = self.admin_hr_scope(who).await?;
        let served = self.store.list_domains().await?;
        let Some(academie) = within else { return Ok(served) };
        if who.may(Action::Govern, None) {
            return Ok(served); // one académie: every domain is its
        }
        let used = self.store.directory_domains(&DirectoryScope::Academie(academie)).await?;
        Ok(served.into_iter().filter(|d| used.iter().any(|u| u.eq_ignore_ascii_case(d.as_str()))).collect())
    }

    /// Runs the HR sync as `who` (see the module's text); on a dry run
    /// nothing changes. Applied, the audit log names `who` and their scope.
    pub async fn admin_hr_sync(
        &self,
        who: &Administrator,
        key: &NumenKey,
        run: &HrSync<'_>,
        progress: &(dyn Fn(Stage, u64, u64) + Sync),
    ) -> Result<SyncReport, HrError> {
        let within = self.admin_hr_scope(who).await?;
        let domains = self.admin_hr_domains(who).await?;
        let domain = match run.domain {
            Some(asked) => {
                let d = Domain::parse(asked).map_err(|_| refused("domaine invalide", "invalid domain"))?;
                if !domains.contains(&d) {
                    return Err(refused(
                        "ce domaine n'est pas servi ou n'est pas celui de votre académie",
                        "this domain is not served, or not your académie's",
                    )
                    .into());
                }
                d
            }
            None => match domains.as_slice() {
                [only] => only.clone(),
                [] => {
                    return Err(refused(
                        "aucun domaine servi : ajoutez-en un (ardoise admin domain add)",
                        "no domain served: add one (ardoise admin domain add)",
                    )
                    .into());
                }
                _ => {
                    return Err(refused(
                        "plusieurs domaines servis : précisez le domaine des adresses créées (--domain)",
                        "several domains served: say which one new addresses use (--domain)",
                    )
                    .into());
                }
            },
        };
        let opts = SyncOptions {
            domain,
            retention_days: run.retention_days,
            transfer_alias_days: run.transfer_alias_days,
            quota_bytes: run.quota_bytes,
            dry_run: run.dry_run,
            actor: who.actor().to_owned(),
            scope: who.label().to_owned(),
            within,
            expect: run.expect.clone(),
        };
        Ok(crate::lifecycle::sync(&self.store, key, run.file, &opts, progress).await?)
    }
}
