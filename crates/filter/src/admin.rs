//! Administrators' scripts (issue 20): a script set on an académie, a DSDEN
//! or an établissement runs before the own script of every account below it
//! (the nearest unit's only). It runs as if the account's filtering were
//!
//! ```sieve
//! require "include";
//! include :global "ardoise-admin";
//! include :personal "<the account's active script>";
//! ```
//!
//! so RFC 6609's rules hold: a `stop` in the administrators' script ends
//! filtering, its `fileinto` cancels the implicit keep, and the user's script
//! then adds its own actions. The script is checked when set (the same
//! compiler and extensions as users' scripts; the forwarding policy is the
//! administrators' own to respect). A broken administrators' script never
//! loses mail: the account's own script decides alone, and it is logged.

use std::sync::Arc;

use model::{AccountId, OrgUnitId};
use sieve::Sieve;

use crate::compile::{self, ScriptError};
use crate::{Error, Filters};

/// The name the administrators' script goes by in `include :global`.
pub const GLOBAL_NAME: &str = "ardoise-admin";

/// What setting a unit's script did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetAdmin {
    /// Stored with this revision.
    Stored(i64),
    Invalid(ScriptError),
    TooBig,
}

/// The name the wrapper includes the account's active script by: no
/// account's script can be named so (names have no U+2028, see
/// [`crate::scripts::valid_name`]), and any script name would not do, since
/// sieve-rs cannot read a string ending with an escaped backslash.
pub(crate) const PERSONAL_NAME: &str = "\u{2028}personnel";

/// The name the wrapper includes the vacation reply's script by
/// ([`crate::absence`]), for the same reason.
pub(crate) const ABSENCE_NAME: &str = "\u{2028}absence";

/// Which scripts a recipient's run is made of, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Parts {
    /// The administrators' script of the account's unit.
    pub admin: bool,
    /// The vacation reply's script.
    pub absence: bool,
    /// The account's active script.
    pub personal: bool,
}

/// The text of the script that runs `parts` one after the other.
pub(crate) fn wrapper_source(parts: Parts) -> String {
    let mut text = String::from("require \"include\";\r\n");
    if parts.admin {
        text.push_str(&format!("include :global \"{GLOBAL_NAME}\";\r\n"));
    }
    if parts.absence {
        text.push_str(&format!("include :personal \"{ABSENCE_NAME}\";\r\n"));
    }
    if parts.personal {
        text.push_str(&format!("include :personal \"{PERSONAL_NAME}\";\r\n"));
    }
    text
}

impl Filters {
    /// Checks and stores `source` as the script of `unit`.
    pub async fn set_admin_script(&self, unit: OrgUnitId, source: &str) -> Result<SetAdmin, Error> {
        if source.len() > self.settings.max_script_size {
            return Ok(SetAdmin::TooBig);
        }
        if let Err(e) = compile::check(source, self.settings.max_script_size) {
            return Ok(SetAdmin::Invalid(e));
        }
        let revision = self.store.set_admin_sieve_script(unit, source).await?;
        Ok(SetAdmin::Stored(revision))
    }

    /// The compiled script of `unit` at `revision`, from the cache when it
    /// is there. `Err` when it no longer compiles or vanished meanwhile.
    pub(crate) async fn admin_compiled(&self, unit: OrgUnitId, revision: i64) -> Result<Arc<Sieve>, String> {
        let cached = self.admin_cache.lock().unwrap_or_else(|p| p.into_inner()).get(&unit).cloned();
        if let Some((rev, script)) = cached
            && rev == revision
        {
            return Ok(script);
        }
        let stored = self.store.admin_sieve_script(unit).await.map_err(|e| e.to_string())?;
        let stored = stored.ok_or("administrators' script removed meanwhile")?;
        let script = Arc::new(
            compile::check(&stored.source, self.settings.max_script_size.max(stored.source.len()))
                .map_err(|e| e.to_string())?,
        );
        let mut cache = self.admin_cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(unit, (stored.revision, script.clone()));
        Ok(script)
    }

    /// The compiled wrapper that runs `parts`.
    pub(crate) fn wrapper(&self, parts: Parts) -> Result<Arc<Sieve>, String> {
        let mut cache = self.wrappers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = cache.get(&parts) {
            return Ok(found.clone());
        }
        let source = wrapper_source(parts);
        let script = Arc::new(compile::check(&source, source.len() + 1).map_err(|e| e.to_string())?);
        cache.insert(parts, script.clone());
        Ok(script)
    }

    /// The unit whose script runs for `account`, if any.
    pub async fn admin_script_of(&self, account: AccountId) -> Result<Option<OrgUnitId>, Error> {
        Ok(self.store.admin_sieve_scripts_among(&[account]).await?.get(&account).map(|(unit, _)| *unit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wrapper_compiles() {
        let admin_only = Parts { admin: true, absence: false, personal: false };
        assert_eq!(wrapper_source(admin_only), "require \"include\";\r\ninclude :global \"ardoise-admin\";\r\n");
        for n in 1..8u8 {
            let parts = Parts { admin: n & 1 != 0, absence: n & 2 != 0, personal: n & 4 != 0 };
            compile::check(&wrapper_source(parts), 4096).expect("the wrapper compiles");
        }
        for name in [PERSONAL_NAME, ABSENCE_NAME] {
            assert!(!crate::scripts::valid_name(name), "no user script can take the wrapper's names");
        }
    }
}
