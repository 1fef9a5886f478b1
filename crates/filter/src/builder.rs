//! The service behind the webmail's rule builder: which script the account
//! runs (the builder's rules, or a script written by hand), saving rules
//! without ever overwriting a hand-written script unasked, saving a script's
//! text after a syntax check, and trying a rule on mail already received.

use std::collections::{HashMap, HashSet};

use model::{AccountId, MailboxId};

use crate::compile::ScriptError;
use crate::rules::{self, Action, Rule, SCRIPT_NAME};
use crate::run::{Facts, execute};
use crate::scripts::Put;
use crate::{Error, Filters};

/// What the account's filtering is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Current {
    /// The webmail's rules. `revision` is the stored script's (0 when none
    /// is stored yet): saving checks it has not moved meanwhile.
    Rules { rules: Vec<Rule>, revision: i64, active: bool },
    /// A script written by hand is active (another name, or the webmail's
    /// script edited since the webmail wrote it).
    Written { name: String, text: String, revision: i64 },
}

/// How saving ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    Stored,
    /// The script changed since the page was shown (by ManageSieve or
    /// another tab): nothing was written.
    Changed,
    /// A hand-written script is active: replacing it needs the owner's
    /// explicit choice.
    WrittenByHand,
    Invalid(ScriptError),
    TooBig,
    TooMany,
    /// A forward the académie's policy does not allow (the French reason).
    Forbidden(String),
}

impl From<Put> for Saved {
    fn from(p: Put) -> Saved {
        match p {
            Put::Stored => Saved::Stored,
            Put::Invalid(e) => Saved::Invalid(e),
            Put::TooBig => Saved::TooBig,
            Put::TooMany => Saved::TooMany,
            Put::Forbidden(why) => Saved::Forbidden(why),
        }
    }
}

/// Messages a rule is tried on, newest first.
pub const TRY_LIMIT: usize = 200;

/// The folder name a tried rule files into: no folder can be named so.
const MATCHED: &str = "\u{1}essai";

impl Filters {
    /// The account's filtering as the builder shows it.
    pub async fn current(&self, account: AccountId) -> Result<Current, Error> {
        let scripts = self.store.sieve_scripts(account).await?;
        let active = scripts.iter().find(|s| s.active);
        let name = match active {
            Some(s) => s.name.clone(),
            None => SCRIPT_NAME.to_owned(),
        };
        let Some(stored) = self.store.sieve_script(account, &name).await? else {
            return Ok(Current::Rules { rules: Vec::new(), revision: 0, active: false });
        };
        let revision = stored.script.revision;
        match (name == SCRIPT_NAME, rules::parse(&stored.source)) {
            (true, Some(rules)) => Ok(Current::Rules { rules, revision, active: active.is_some() }),
            // The webmail's script, edited and then deactivated: offered as text.
            _ => Ok(Current::Written { name, text: stored.source, revision }),
        }
    }

    /// Stores `rules` as the webmail's script and makes it active, if the
    /// account's filtering is still at `revision` (as the page showed it).
    /// A hand-written script in force is replaced only with `replace`; it is
    /// then deactivated, never deleted (unless it was the webmail's own).
    pub async fn save_rules(
        &self,
        account: AccountId,
        rules: &[Rule],
        revision: i64,
        replace: bool,
    ) -> Result<Saved, Error> {
        let seen = match self.current(account).await? {
            Current::Rules { revision, .. } => revision,
            Current::Written { revision, .. } if replace => revision,
            Current::Written { .. } => return Ok(Saved::WrittenByHand),
        };
        if seen != revision {
            return Ok(Saved::Changed);
        }
        if rules.len() > rules::MAX_RULES {
            return Ok(Saved::TooMany);
        }
        let text = rules::render(rules);
        let put = self.put(account, SCRIPT_NAME, &text).await?;
        if put != Put::Stored {
            return Ok(put.into());
        }
        self.activate(account, Some(SCRIPT_NAME)).await?;
        Ok(Saved::Stored)
    }

    /// Stores a text typed in the webmail as script `name` and makes it
    /// active, after the same checks as ManageSieve's PUTSCRIPT.
    pub async fn save_text(&self, account: AccountId, name: &str, text: &str, revision: i64) -> Result<Saved, Error> {
        let now = self.store.sieve_script(account, name).await?.map_or(0, |s| s.script.revision);
        if now != revision {
            return Ok(Saved::Changed);
        }
        let put = self.put(account, name, text).await?;
        if put != Put::Stored {
            return Ok(put.into());
        }
        self.activate(account, Some(name)).await?;
        Ok(Saved::Stored)
    }

    /// The UIDs, among the newest [`TRY_LIMIT`] messages of `mailbox`, that
    /// `rule`'s conditions match (its actions are not run).
    pub async fn try_rule(&self, account: AccountId, rule: &Rule, mailbox: MailboxId) -> Result<Vec<i64>, Error> {
        let probe = Rule { enabled: true, actions: vec![Action::MoveTo(MATCHED.into())], stop: true, ..rule.clone() };
        let script = match crate::compile::check(&rules::render(&[probe]), self.settings.max_script_size) {
            Ok(s) => std::sync::Arc::new(s),
            Err(e) => {
                tracing::warn!(account, error = %e, "a rule of the builder does not compile");
                return Ok(Vec::new());
            }
        };
        let user = self.store.account(account).await?;
        let user_address = user.map(|a| a.address.to_string()).unwrap_or_default();
        let mut rows = self.mail.messages(mailbox).await?;
        rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.uid));
        rows.truncate(TRY_LIMIT);
        let (folders, includes) = (HashSet::new(), HashMap::new());
        let facts = Facts {
            user_address: &user_address,
            user_name: "",
            mail_from: None,
            rcpt_to: &user_address,
            folders: &folders,
            includes: &includes,
            screening: crate::sort::Screening::default(),
            global: None,
        };
        let mut matched = Vec::new();
        for row in rows {
            let bytes = self.mail.message_bytes(&row.blob_hash).await?;
            let decision = execute(&self.runtime, "essai", script.clone(), &bytes, &facts);
            if decision.is_ok_and(|d| d.filings.iter().any(|f| f.folder.as_deref() == Some(MATCHED))) {
                matched.push(row.uid);
            }
        }
        Ok(matched)
    }
}

impl Filters {
    /// Tells the owner, once per script revision, that their active script
    /// failed and that mail goes to the Inbox until it is mended. A failure
    /// to tell is logged: the message itself is already safe.
    pub(crate) async fn tell_failure(&self, account: AccountId, name: &str, revision: i64, why: &str) {
        const FOREVER: i64 = 100 * 365 * 86_400;
        let now = time_now();
        let key = format!("script-failed:{name}:{revision}");
        match self.store.claim_vacation_reply(account, &key, now, FOREVER).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => return tracing::warn!(account, error = %e, "Sieve failure notice: claim failed"),
        }
        let Ok(Some(owner)) = self.store.account(account).await else {
            return;
        };
        let why: String = why.chars().take(300).collect();
        let text = format!(
            "Bonjour,\r\n\r\nVotre script de filtrage « {name} » n'a pas pu s'exécuter sur un message reçu :\r\n\
             {why}\r\n\r\nLe message a été placé dans votre boîte de réception, comme le seront les \
             suivants tant que le script n'est pas corrigé (Réglages → Filtres, ou votre logiciel Sieve). \
             Vous ne recevrez pas d'autre avis pour cette version du script.\r\n\r\n\
             Your filter script \"{name}\" failed on a message; mail goes to your Inbox until it is mended.\r\n"
        );
        let from = format!("postmaster@{}", owner.address.domain());
        let raw = mail_builder::MessageBuilder::new()
            .from(("Ardoise", from.as_str()))
            .to((owner.display_name.as_str(), owner.address.to_string().as_str()))
            .subject("Votre filtre de messagerie a échoué / Your mail filter failed")
            .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
            .text_body(text)
            .write_to_vec()
            .unwrap_or_default();
        if let Err(e) = self.mail.deliver(&raw, &[account], now).await {
            tracing::warn!(account, error = %e, "Sieve failure notice: delivery failed");
        }
    }
}

fn time_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
