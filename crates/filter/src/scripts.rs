//! What ManageSieve (RFC 5804) offers an account over its scripts: names
//! checked, texts compiled before they are stored, quotas on count and size.

use model::AccountId;
use store::{PutScript, ScriptChange, SieveScript};

use crate::compile::{self, ScriptError};
use crate::{Error, Filters, forwarding};

/// Longest script name, in characters.
pub const MAX_NAME_CHARS: usize = 128;

/// Whether a new text of `size` bytes named `name` would fit (HAVESPACE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    Fits,
    /// Larger than one script may be.
    TooBig,
    /// The account holds as many scripts as it may.
    TooMany,
}

/// How PUTSCRIPT ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    Stored,
    Invalid(ScriptError),
    TooBig,
    TooMany,
    /// A `redirect` the forwarding policy does not allow (the reason, in French).
    Forbidden(String),
}

/// Checks a script name (RFC 5804 section 1.6: no control characters, no
/// line or paragraph separators) and our length cap.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && !name.chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

impl Filters {
    /// The extensions scripts may use, for the `SIEVE` capability.
    pub fn extensions(&self) -> String {
        compile::extension_list()
    }

    /// The account's scripts, by name.
    pub async fn list(&self, account: AccountId) -> Result<Vec<SieveScript>, Error> {
        Ok(self.store.sieve_scripts(account).await?)
    }

    /// A script's text.
    pub async fn get(&self, account: AccountId, name: &str) -> Result<Option<String>, Error> {
        Ok(self.store.sieve_script(account, name).await?.map(|s| s.source))
    }

    /// Compiles a text without storing it (CHECKSCRIPT).
    pub fn check(&self, source: &str) -> Result<(), ScriptError> {
        compile::check(source, self.settings.max_script_size).map(|_| ())
    }

    /// Why the forwarding policy of `account` refuses `source`, if it does
    /// (`None` too when the text does not compile: [`Filters::check`] says why).
    pub async fn forwarding_refusal(&self, account: AccountId, source: &str) -> Result<Option<String>, Error> {
        let Ok(compiled) = compile::check(source, self.settings.max_script_size) else {
            return Ok(None);
        };
        let local = self.mail.local_domains().await?;
        Ok(forwarding::refusal(&compiled, &self.forwarding_for(account).await?, &local))
    }

    /// Whether a script of `size` bytes named `name` would be accepted.
    pub async fn have_space(&self, account: AccountId, name: &str, size: usize) -> Result<Space, Error> {
        if size > self.settings.max_script_size {
            return Ok(Space::TooBig);
        }
        let scripts = self.store.sieve_scripts(account).await?;
        // The vacation reply's script has a slot of its own.
        let own = scripts.iter().filter(|s| s.name != crate::absence::SCRIPT_NAME).count();
        if own >= self.settings.max_scripts && !scripts.iter().any(|s| s.name == name) {
            return Ok(Space::TooMany);
        }
        Ok(Space::Fits)
    }

    /// Checks and stores a script (PUTSCRIPT): it must compile and forward
    /// nowhere the forwarding policy forbids. Replacing the active one takes
    /// effect at the next delivery.
    pub async fn put(&self, account: AccountId, name: &str, source: &str) -> Result<Put, Error> {
        if source.len() > self.settings.max_script_size {
            return Ok(Put::TooBig);
        }
        let compiled = match compile::check(source, self.settings.max_script_size) {
            Ok(c) => c,
            Err(e) => return Ok(Put::Invalid(e)),
        };
        if name == crate::absence::SCRIPT_NAME {
            // The vacation reply's script: only its own form is taken, and it
            // becomes the setting Réglages shows.
            return Ok(match crate::absence::parse(source) {
                Some(v) => {
                    self.set_vacation(account, &v).await?;
                    Put::Stored
                }
                None => Put::Invalid(ScriptError {
                    line: 1,
                    message: format!(
                        "« {} » est le script de la réponse automatique : gardez sa forme (ligne \
                         « # ardoise-absence » comprise) ou écrivez votre propre « vacation » dans un autre script",
                        crate::absence::SCRIPT_NAME
                    ),
                }),
            });
        }
        let local = self.mail.local_domains().await?;
        if let Some(why) = forwarding::refusal(&compiled, &self.forwarding_for(account).await?, &local) {
            return Ok(Put::Forbidden(why));
        }
        // The vacation reply's script has a slot of its own.
        let absence = self.store.sieve_script(account, crate::absence::SCRIPT_NAME).await?.is_some();
        let max = self.settings.max_scripts + usize::from(absence);
        let outcome = self.store.put_sieve_script(account, name, source, max).await?;
        self.forget(account);
        Ok(match outcome {
            PutScript::Created | PutScript::Replaced => Put::Stored,
            PutScript::TooMany => Put::TooMany,
        })
    }

    /// Makes `name` the active script, or none with `None` (SETACTIVE "").
    pub async fn activate(&self, account: AccountId, name: Option<&str>) -> Result<ScriptChange, Error> {
        let done = self.store.activate_sieve_script(account, name).await?;
        self.forget(account);
        Ok(done)
    }

    /// Deletes a script that is not active.
    /// Deleting the vacation reply's script turns the reply off.
    pub async fn delete(&self, account: AccountId, name: &str) -> Result<ScriptChange, Error> {
        let done = self.store.delete_sieve_script(account, name).await?;
        if done == ScriptChange::Done && name == crate::absence::SCRIPT_NAME {
            self.vacation_script_gone(account).await?;
        }
        self.forget(account);
        Ok(done)
    }

    /// No script may take the vacation reply's name (only PUTSCRIPT of its
    /// own form may); renaming the reply's script away turns the reply off.
    pub async fn rename(&self, account: AccountId, old: &str, new: &str) -> Result<ScriptChange, Error> {
        if new == crate::absence::SCRIPT_NAME {
            return Ok(ScriptChange::Exists);
        }
        let done = self.store.rename_sieve_script(account, old, new).await?;
        if done == ScriptChange::Done && old == crate::absence::SCRIPT_NAME {
            self.vacation_script_gone(account).await?;
        }
        self.forget(account);
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rfc_5804() {
        assert!(valid_name("réunions"));
        assert!(valid_name("Mes règles 2026"));
        assert!(!valid_name(""));
        assert!(!valid_name("a\nb"));
        assert!(!valid_name("a\u{7f}"));
        assert!(!valid_name("a\u{2028}b"));
        assert!(!valid_name(&"x".repeat(MAX_NAME_CHARS + 1)));
    }
}
