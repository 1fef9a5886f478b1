//! Filter rules: each account's Sieve scripts (RFC 5228), kept, checked and
//! run at delivery, with sieve-rs underneath.
//!
//! - [`scripts`]: what ManageSieve offers (list, get, check, put with the
//!   quotas on count and size, activate, delete, rename); scripts are
//!   checked when put, so a script that is stored compiles.
//! - [`compile`]: sieve-rs's compiler with our limits, the extensions we run
//!   ([`compile::EXTENSIONS`], and only those), errors in French with their
//!   line.
//! - [`run`]: one script run on one message for one recipient, bounded by the
//!   runtime's limits ([`RunLimits`]: instructions, nested includes,
//!   redirects), answered from what was looked up before, never waiting.
//! - [`rules`]: the webmail's rules (Réglages → Filtres) written as readable
//!   Sieve and read back, a hand edit always recognised; [`builder`]: which
//!   script is in force, saving rules without overwriting a hand-written
//!   script, trying a rule on mail already received.
//! - [`forwarding`]: the académie's forwarding policy, checked when a script
//!   is stored (its `redirect` targets) and again at delivery (`mta`).
//! - [`admin`]: administrators' scripts per unit, run before each
//!   account's own as if included with `include :global`.
//! - [`sort`]: delivery's side: for every local recipient, the active script's
//!   [`run::Decision`] becomes delivery targets (folders made by
//!   `fileinto :create`, `imap4flags` flags), refusals (`reject`) and
//!   follow-ups (`redirect`, `vacation`), then the message is stored once for
//!   all of them. A script that fails files the message in the Inbox.
//!
//! Compiled scripts are cached per account, script name and revision: a
//! change made on any node raises the revision, so a stale copy is never
//! used, and the cache asks the store one batched question per delivery.
//!
//! This crate never sees a wire format: ManageSieve is the `managesieve`
//! crate's, the SMTP replies the binary's.

pub mod absence;
pub mod admin;
pub mod builder;
pub mod compile;
pub mod forwarding;
mod reply;
pub mod rules;
pub mod run;
pub mod scripts;
pub mod sort;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mailstore::Mailstore;
use model::{AccountId, ErrorKind, OrgUnitId, Transience};
use sieve::Runtime;

pub use admin::SetAdmin;
pub use builder::{Current, Saved};
pub use compile::ScriptError;
pub use forwarding::Forwarding;
pub use mailstore::MailEvent;
pub use rules::{Action, Condition, Field, Op, Rule};
pub use run::{Decision, Filing, Reply};
pub use sieve::Sieve;
pub use sort::{Delivery, FollowUp, Refused, Screening};
pub use store::{AdminScript, ScriptChange, SieveScript};

/// Bounds on one run of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// Instructions executed, includes counted.
    pub instructions: usize,
    /// Depth of `include`.
    pub nested_includes: usize,
    /// `redirect` actions.
    pub redirects: usize,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits { instructions: 20_000, nested_includes: 3, redirects: 1 }
    }
}

/// The filter service's settings, resolved by the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterSettings {
    /// Scripts an account may keep.
    pub max_scripts: usize,
    /// Bytes of one script's text.
    pub max_script_size: usize,
    pub limits: RunLimits,
    /// Named in the replies the server writes (`vacation`).
    pub hostname: String,
    /// Where `redirect` may send mail automatically.
    pub forwarding: Forwarding,
}

impl Default for FilterSettings {
    fn default() -> Self {
        FilterSettings {
            max_scripts: 20,
            max_script_size: 64 * 1024,
            limits: RunLimits::default(),
            hostname: "localhost".into(),
            forwarding: Forwarding::Internal,
        }
    }
}

/// Errors of the filter domain (a script's own errors are [`ScriptError`]s).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("store: {0}")]
    Store(#[from] store::Error),
    #[error("mail store: {0}")]
    Mail(#[from] mailstore::Error),
}

impl ErrorKind for Error {
    fn transience(&self) -> Transience {
        match self {
            Error::Store(e) => e.transience(),
            Error::Mail(e) => e.transience(),
        }
    }
}

/// Compiled scripts kept at most (beyond, the cache starts over).
const CACHE_CAPACITY: usize = 10_000;

/// (account, script name) -> (revision, compiled script).
type Cache = HashMap<(AccountId, String), (i64, Arc<Sieve>)>;

/// The filter service: the accounts' scripts and their runs at delivery.
pub struct Filters {
    store: store::Store,
    mail: Arc<Mailstore>,
    settings: FilterSettings,
    runtime: Runtime,
    cache: Mutex<Cache>,
    /// Administrators' scripts: unit -> (revision, compiled script).
    admin_cache: Mutex<HashMap<OrgUnitId, (i64, Arc<Sieve>)>>,
    /// The compiled wrappers that run an administrators' script before a
    /// personal one, by the parts they run.
    wrappers: Mutex<HashMap<admin::Parts, Arc<Sieve>>>,
}

impl Filters {
    /// `store` is the one `mail` was built on.
    pub fn new(store: store::Store, mail: Arc<Mailstore>, settings: FilterSettings) -> Arc<Filters> {
        let runtime = compile::runtime(&settings.limits, &settings.hostname);
        Arc::new(Filters {
            store,
            mail,
            settings,
            runtime,
            cache: Mutex::new(HashMap::new()),
            admin_cache: Mutex::new(HashMap::new()),
            wrappers: Mutex::new(HashMap::new()),
        })
    }

    pub fn settings(&self) -> &FilterSettings {
        &self.settings
    }

    /// The account's events, for a ManageSieve session to hear that the
    /// account was suspended or the secret it logged in with revoked.
    pub fn watch(&self, account: AccountId) -> tokio::sync::broadcast::Receiver<MailEvent> {
        self.mail.watch(account)
    }

    /// The compiled script `name` of `account`, from the cache when its
    /// revision is `revision` (or, with `None`, whatever the store holds
    /// now). `Ok(None)` when there is no such script; a stored script that
    /// no longer compiles is an `Err` text.
    pub(crate) async fn compiled(
        &self,
        account: AccountId,
        name: &str,
        revision: Option<i64>,
    ) -> Result<Option<Arc<Sieve>>, String> {
        let key = (account, name.to_owned());
        if let Some(rev) = revision
            && let Some((cached_rev, script)) = self.cache_get(&key)
            && cached_rev == rev
        {
            return Ok(Some(script));
        }
        let Some(stored) = self.store.sieve_script(account, name).await.map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        if let Some((cached_rev, script)) = self.cache_get(&key)
            && cached_rev == stored.script.revision
        {
            return Ok(Some(script));
        }
        let script = Arc::new(
            compile::check(&stored.source, self.settings.max_script_size.max(stored.source.len()))
                .map_err(|e| e.to_string())?,
        );
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(key, (stored.script.revision, script.clone()));
        Ok(Some(script))
    }

    fn cache_get(&self, key: &(AccountId, String)) -> Option<(i64, Arc<Sieve>)> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(key).cloned()
    }

    /// Forgets the compiled scripts of `account` (after a change here; other
    /// nodes see the new revision).
    pub(crate) fn forget(&self, account: AccountId) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).retain(|(a, _), _| *a != account);
    }
}
