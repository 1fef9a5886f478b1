//! Exports requested from the webmail: built in the background, offered once.
//!
//! The state lives in this process's memory: a job per account, running,
//! ready (a random token, the file under `<dir>/`, a deadline) or failed.
//! A restart forgets every job and empties `<dir>` at the next start, so a
//! link never outlives the process that made it; the user asks again.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailstore::Account;
use model::AccountId;
use rand::RngCore;
use tokio::sync::{Semaphore, watch};

use crate::archive::{self, Exported, Progress};
use crate::{Error, Sources};

/// Where and how exports are made (`[export]` in the configuration).
#[derive(Debug, Clone)]
pub struct ExportSettings {
    /// Where archives wait for their download (`<data_dir>/exports`).
    pub dir: PathBuf,
    /// Largest archive; `None`: no cap.
    pub max_bytes: Option<u64>,
    /// How long a finished archive waits for its download.
    pub keep: Duration,
    /// Archives built at once in this process.
    pub parallel: usize,
}

/// Why an export failed, as the user is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Larger than the installation allows (bytes).
    TooLarge { max: u64 },
    /// Something went wrong on the server side; asking again may work.
    Unavailable,
}

/// Where the account's export stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Nothing asked, or the last one downloaded or expired.
    Idle,
    /// Waiting for a turn (`total` 0) or being written.
    Running {
        done: u64,
        total: u64,
    },
    /// Ready for one download with `token` until `until` (Unix seconds).
    Ready {
        token: String,
        totals: Exported,
        until: i64,
    },
    Failed(Failure),
}

/// The answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    Started,
    /// One export at a time per account: that one goes on.
    AlreadyRunning,
    /// Refused at once: the mailbox alone is larger than the cap.
    TooLarge {
        max: u64,
    },
}

/// A download handed out: the file is already unlinked, so this is its
/// only reader and nothing remains once it is dropped.
#[derive(Debug)]
pub struct Download {
    pub file: std::fs::File,
    pub bytes: u64,
}

enum Job {
    Running(Arc<Progress>),
    Ready { token: String, path: PathBuf, totals: Exported, until: i64 },
    Failed { failure: Failure, until: i64 },
}

/// The webmail's exports, one service per process.
pub struct Exports {
    sources: Sources,
    store: store::Store,
    settings: ExportSettings,
    jobs: Mutex<HashMap<AccountId, Job>>,
    slots: Arc<Semaphore>,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Compares two tokens in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Exports {
    /// The service, with `settings.dir` made (mode 0700) and emptied of
    /// what an earlier process left there.
    pub fn new(sources: Sources, store: store::Store, settings: ExportSettings) -> std::io::Result<Arc<Exports>> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&settings.dir)?;
        for entry in std::fs::read_dir(&settings.dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::remove_file(entry.path())?;
            }
        }
        let slots = Arc::new(Semaphore::new(settings.parallel.max(1)));
        Ok(Arc::new(Exports { sources, store, settings, jobs: Mutex::new(HashMap::new()), slots }))
    }

    pub fn settings(&self) -> &ExportSettings {
        &self.settings
    }

    fn jobs(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, Job>> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where `account`'s export stands.
    pub fn status(&self, account: AccountId) -> Status {
        self.sweep();
        match self.jobs().get(&account) {
            None => Status::Idle,
            Some(Job::Running(p)) => Status::Running { done: p.done(), total: p.total() },
            Some(Job::Ready { token, totals, until, .. }) => {
                Status::Ready { token: token.clone(), totals: *totals, until: *until }
            }
            Some(Job::Failed { failure, .. }) => Status::Failed(*failure),
        }
    }

    /// Asks for `account`'s export: a task builds it while the caller goes
    /// on. A finished but not downloaded one is replaced.
    pub async fn start(self: &Arc<Self>, account: &Account) -> Result<Started, Error> {
        if self.is_running(account.id) {
            return Ok(Started::AlreadyRunning);
        }
        if let Some(max) = self.settings.max_bytes {
            let usage = self.sources.mailstore.usage(account.id).await?;
            if usage.used_bytes.max(0) as u64 > max {
                let until = now() + self.settings.keep.as_secs() as i64;
                self.replace(account.id, Job::Failed { failure: Failure::TooLarge { max }, until });
                self.audit(account, "account.export.refused", &format!("{} octets en boîte", usage.used_bytes)).await;
                return Ok(Started::TooLarge { max });
            }
        }
        let progress = Arc::new(Progress::default());
        {
            let mut jobs = self.jobs();
            if matches!(jobs.get(&account.id), Some(Job::Running(_))) {
                return Ok(Started::AlreadyRunning);
            }
            if let Some(Job::Ready { path, .. }) = jobs.insert(account.id, Job::Running(progress.clone())) {
                let _ = std::fs::remove_file(path);
            }
        }
        self.audit(account, "account.export.request", "").await;
        let this = self.clone();
        let account = account.clone();
        tokio::spawn(async move { this.build(account, progress).await });
        Ok(Started::Started)
    }

    async fn build(self: Arc<Self>, account: Account, progress: Arc<Progress>) {
        let _slot = self.slots.clone().acquire_owned().await;
        let path = self.settings.dir.join(format!("{}.zip", random_hex()));
        let result = archive::write(&self.sources, &account, &path, self.settings.max_bytes, &progress).await;
        let until = now() + self.settings.keep.as_secs() as i64;
        let job = match result {
            Ok(totals) => {
                tracing::info!(account = account.id, messages = totals.messages, bytes = totals.bytes, "export ready");
                Job::Ready { token: random_hex(), path, totals, until }
            }
            Err(Error::TooLarge { max }) => Job::Failed { failure: Failure::TooLarge { max }, until },
            Err(e) => {
                tracing::warn!(account = account.id, error = %e, "export failed");
                Job::Failed { failure: Failure::Unavailable, until }
            }
        };
        self.replace(account.id, job);
    }

    fn is_running(&self, account: AccountId) -> bool {
        matches!(self.jobs().get(&account), Some(Job::Running(_)))
    }

    /// Puts `job` in place of the account's, deleting a file left behind.
    fn replace(&self, account: AccountId, job: Job) {
        if let Some(Job::Ready { path, .. }) = self.jobs().insert(account, job) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Hands out `account`'s archive if `token` is its link, once: the job
    /// is forgotten and the file unlinked before this returns. Another
    /// account's token, a used one or an expired one is `None`.
    pub async fn take(&self, account: &Account, token: &str) -> Option<Download> {
        self.sweep();
        let path = {
            let mut jobs = self.jobs();
            match jobs.get(&account.id) {
                Some(Job::Ready { token: t, .. }) if same(t, token) => {}
                _ => return None,
            }
            let Some(Job::Ready { path, .. }) = jobs.remove(&account.id) else { return None };
            path
        };
        let opened = std::fs::File::open(&path);
        let _ = std::fs::remove_file(&path);
        let file = match opened {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(account = account.id, error = %e, "export file unreadable");
                return None;
            }
        };
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        self.audit(account, "account.export.download", &format!("{bytes} octets")).await;
        Some(Download { file, bytes })
    }

    /// Forgets what is past its deadline, deleting the files.
    pub fn sweep(&self) {
        let now = now();
        let mut jobs = self.jobs();
        jobs.retain(|_, job| match job {
            Job::Running(_) => true,
            Job::Failed { until, .. } => *until > now,
            Job::Ready { until, path, .. } => {
                if *until > now {
                    return true;
                }
                let _ = std::fs::remove_file(path);
                false
            }
        });
    }

    /// Sweeps every minute until shutdown.
    pub async fn sweep_until(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            self.sweep();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }

    async fn audit(&self, account: &Account, action: &str, detail: &str) {
        let who = account.address.to_string();
        if let Err(e) = identity::lifecycle::audit::record(&self.store, &who, "compte", action, &who, detail).await {
            tracing::warn!(error = %e, action, "audit log write failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("", "a"));
    }
}
