//! Password hashing and checking with argon2id, with bounded memory, and the
//! older login check for the mail protocols.
//!
//! **Bounded argon2.** Every argon2 computation of the process (logins on
//! every protocol, password changes) goes through [`Mailstore::argon2_verify`]
//! and [`Mailstore::argon2_hash`]: at most one per core runs at once (a
//! semaphore sized by `std::thread::available_parallelism`, the permit held
//! by the blocking thread itself so an abandoned login cannot free it early),
//! and each running computation borrows a block buffer from a pool that never
//! holds more buffers than there are permits. Peak argon2 memory is therefore
//! cores x 19 MiB, and the same buffers are reused instead of being
//! allocated and freed at every login (which glibc would keep as
//! fragmented arenas: 100 simultaneous IMAP logins used to cost gigabytes).
//! Buffers left unused for [`QUIET`] are freed (a reaper task runs while
//! the pool holds any), so a server that has finished its Monday-morning
//! login burst does not keep cores x 19 MiB for the rest of the week (the
//! process allocator, jemalloc, gives such blocks back to the system).
//!
//! [`Mailstore::authenticate`] is superseded by
//! `identity::credentials::login` (journal, brute-force slow-down, app
//! passwords, TOTP), which every protocol now calls; it is kept for its tests
//! until it is removed. The password is verified first; the account's state
//! is looked at only once the password is right, so a guesser learns nothing
//! about accounts it cannot open.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use model::{AccountStatus, Address, Role};
use store::Account;
use tokio::sync::Semaphore;

use crate::{Error, Mailstore};

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Unknown login, no password set, or wrong password.
    BadCredentials,
    /// The password is right but the account is not active (provisional
    /// accounts must finish their first login on the web first).
    NotActive(AccountStatus),
    /// Students have no access to the staff mail protocols.
    RoleNotAllowed(Role),
}

/// Largest argon2 memory cost accepted from a stored hash, in KiB (256 MiB):
/// a hash with more is refused rather than allowed to grow the pool.
const MAX_M_COST: u32 = 256 * 1024;
/// Longest password given to argon2, in bytes.
const MAX_PASSWORD_LEN: usize = 256;

/// How the bounded argon2 pool is doing (for tests and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Stats {
    /// Computations allowed at once (the number of cores).
    pub workers: usize,
    /// Computations running now.
    pub in_flight: usize,
    /// The most that ever ran at once.
    pub peak_in_flight: usize,
    /// Computations run since the process started.
    pub runs: u64,
    /// Block buffers allocated since the process started (at most `workers`
    /// within one burst of logins; more over time, as idle ones are freed).
    pub buffers: usize,
    /// Block buffers held now (in the pool or in use).
    pub held: usize,
}

/// How long a pooled block buffer may sit unused before it is freed.
/// Long enough that a burst of logins keeps its buffers; a login after a
/// pause pays one allocation of 19 MiB (a few milliseconds).
pub const QUIET: Duration = Duration::from_secs(10);

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static RUNS: AtomicU64 = AtomicU64::new(0);
static BUFFERS_MADE: AtomicUsize = AtomicUsize::new(0);
static BUFFERS_HELD: AtomicUsize = AtomicUsize::new(0);
/// Idle buffers, each with the moment it was put back.
static BUFFERS: Mutex<Vec<(Vec<Block>, Instant)>> = Mutex::new(Vec::new());
/// Whether a reaper task is scheduled (set and cleared under `BUFFERS`'s lock
/// by the reaper, so a buffer put back is never left without one).
static REAPER: AtomicBool = AtomicBool::new(false);

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

fn permits() -> Arc<Semaphore> {
    static PERMITS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    PERMITS.get_or_init(|| Arc::new(Semaphore::new(workers()))).clone()
}

/// Runs `f` on a blocking thread once a permit is free, with a reused block
/// buffer. `None` when the blocking thread failed.
async fn bounded<R: Send + 'static>(f: impl FnOnce(&mut Vec<Block>) -> R + Send + 'static) -> Option<R> {
    let permit = permits().acquire_owned().await.ok()?;
    let out = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let pooled = BUFFERS.lock().map(|mut pool| pool.pop()).unwrap_or(None);
        let mut buffer = pooled.map_or_else(
            || {
                BUFFERS_MADE.fetch_add(1, Ordering::Relaxed);
                BUFFERS_HELD.fetch_add(1, Ordering::Relaxed);
                Vec::new()
            },
            |(buffer, _)| buffer,
        );
        let now = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(now, Ordering::SeqCst);
        RUNS.fetch_add(1, Ordering::Relaxed);
        let out = f(&mut buffer);
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        match BUFFERS.lock() {
            Ok(mut pool) => pool.push((buffer, Instant::now())),
            Err(_) => release(buffer),
        }
        out
    })
    .await
    .ok();
    if !REAPER.swap(true, Ordering::SeqCst) {
        tokio::spawn(reap());
    }
    out
}

/// Frees `buffer`, counting it out of the held ones.
fn release(buffer: Vec<Block>) {
    BUFFERS_HELD.fetch_sub(1, Ordering::Relaxed);
    drop(buffer);
}

/// Frees the pooled buffers unused for at least `quiet`; returns how many.
pub(crate) fn release_idle(quiet: Duration) -> usize {
    let Ok(mut pool) = BUFFERS.lock() else { return 0 };
    let (idle, busy): (Vec<_>, Vec<_>) = pool.drain(..).partition(|(_, since)| since.elapsed() >= quiet);
    *pool = busy;
    let freed = idle.len();
    idle.into_iter().for_each(|(buffer, _)| release(buffer));
    freed
}

/// Frees each pooled buffer once it has been unused for [`QUIET`], waking
/// when the oldest one is due; stops when the pool is empty (the next
/// computation schedules a new reaper).
async fn reap() {
    loop {
        let due = {
            let Ok(pool) = BUFFERS.lock() else { return };
            match pool.iter().map(|(_, since)| *since).min() {
                Some(oldest) => oldest + QUIET,
                None => {
                    REAPER.store(false, Ordering::SeqCst);
                    return;
                }
            }
        };
        tokio::time::sleep_until(due.into()).await;
        release_idle(QUIET);
    }
}

/// Grows `buffer` to the blocks `params` need (never shrinks it).
fn blocks_for<'b>(buffer: &'b mut Vec<Block>, params: &Params) -> &'b mut [Block] {
    let n = params.block_count();
    if buffer.len() < n {
        buffer.resize(n, Block::new());
    }
    &mut buffer[..n]
}

/// Whether `password` matches the PHC argon2 string `hash`, computed in
/// `buffer` (the parameters stored in the hash are used).
pub(crate) fn verify_with(buffer: &mut Vec<Block>, hash: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else { return false };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    if params.m_cost() > MAX_M_COST {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    if argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks_for(buffer, &params)).is_err() {
        return false;
    }
    // `Output` compares in constant time.
    argon2::password_hash::Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// The PHC string of `password` hashed with argon2id and `params`, computed
/// in `buffer`.
pub(crate) fn hash_with(buffer: &mut Vec<Block>, password: &str, params: &Params) -> Option<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt.as_salt().decode_b64(&mut salt_bytes).ok()?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    argon.hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, blocks_for(buffer, params)).ok()?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params.try_into().ok()?,
        salt: Some(salt.as_salt()),
        hash: Some(argon2::password_hash::Output::new(&out).ok()?),
    };
    Some(phc.to_string())
}

impl Mailstore {
    /// Whether `password` matches the PHC argon2 string `hash`: on a blocking
    /// thread, at most one per core at once, in a reused buffer. False when
    /// it does not match, the hash is malformed or the thread failed.
    pub async fn argon2_verify(hash: &str, password: &str) -> bool {
        let (hash, password) = (hash.to_owned(), password.to_owned());
        bounded(move |buffer| verify_with(buffer, &hash, &password)).await.unwrap_or(false)
    }

    /// The PHC string of `password` hashed with argon2id and `params`,
    /// under the same bound as [`Mailstore::argon2_verify`].
    pub async fn argon2_hash(password: &str, params: Params) -> Option<String> {
        let password = password.to_owned();
        bounded(move |buffer| hash_with(buffer, &password, &params)).await.flatten()
    }

    /// How the bounded argon2 pool is doing.
    pub fn argon2_stats() -> Argon2Stats {
        Argon2Stats {
            workers: workers(),
            in_flight: IN_FLIGHT.load(Ordering::SeqCst),
            peak_in_flight: PEAK.load(Ordering::SeqCst),
            runs: RUNS.load(Ordering::Relaxed),
            buffers: BUFFERS_MADE.load(Ordering::Relaxed),
            held: BUFFERS_HELD.load(Ordering::Relaxed),
        }
    }

    /// Finds the account for `login` (its full address, or its `login` column)
    /// and checks the password. Returns the account when it may open a session.
    pub async fn authenticate(&self, login: &str, password: &str) -> Result<Result<Account, LoginRefusal>, Error> {
        let login = login.trim();
        let mut account = match Address::parse(login) {
            Ok(addr) => self.store.account_by_address(&addr).await?,
            Err(_) => None,
        };
        if account.is_none() {
            account = self.store.account_by_login(login).await?;
        }
        let Some(account) = account else {
            return Ok(Err(LoginRefusal::BadCredentials));
        };
        let Some(hash) = account.password_hash.as_deref() else {
            return Ok(Err(LoginRefusal::BadCredentials));
        };
        if !Mailstore::argon2_verify(hash, password).await {
            return Ok(Err(LoginRefusal::BadCredentials));
        }
        if account.status != AccountStatus::Active {
            return Ok(Err(LoginRefusal::NotActive(account.status)));
        }
        if account.role == Role::Student {
            return Ok(Err(LoginRefusal::RoleNotAllowed(account.role)));
        }
        Ok(Ok(account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier, rand_core::OsRng};

    fn owasp() -> Params {
        Params::new(19 * 1024, 2, 1, None).unwrap()
    }

    #[test]
    fn verifies_hashes_of_the_argon2_crate_and_its_own() {
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default().hash_password(b"Ardoise-Demo-2026", &salt).unwrap().to_string();
        let mut buffer = Vec::new();
        assert!(verify_with(&mut buffer, &hash, "Ardoise-Demo-2026"));
        assert!(!verify_with(&mut buffer, &hash, "ardoise-demo-2026"));
        assert!(!verify_with(&mut buffer, "not a hash", "x"));
        assert!(!verify_with(&mut buffer, &hash, &"x".repeat(1 << 20)));
        // Our own hashes are standard PHC strings the argon2 crate checks too.
        let ours = hash_with(&mut buffer, "Ardoise-Demo-2026", &owasp()).unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"Ardoise-Demo-2026", &parsed).is_ok());
        assert!(verify_with(&mut buffer, &ours, "Ardoise-Demo-2026"));
        assert_eq!(buffer.len(), 19 * 1024, "one buffer of m_cost blocks, reused");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn at_most_one_computation_per_core_and_one_buffer_each() {
        let mut buffer = Vec::new();
        let hash = hash_with(&mut buffer, "Ardoise-Demo-2026", &owasp()).unwrap();
        let before = Mailstore::argon2_stats();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..32 {
            let hash = hash.clone();
            tasks.spawn(async move {
                let pw = if i % 2 == 0 { "Ardoise-Demo-2026" } else { "wrong" };
                (i % 2 == 0) == Mailstore::argon2_verify(&hash, pw).await
            });
        }
        while let Some(ok) = tasks.join_next().await {
            assert!(ok.unwrap());
        }
        let after = Mailstore::argon2_stats();
        assert_eq!(after.runs - before.runs, 32);
        assert!(after.peak_in_flight <= after.workers, "{after:?}");
        assert!(after.buffers <= after.workers, "{after:?}");
        assert_eq!(after.in_flight, 0);
        assert!(after.held >= 1 && after.held <= after.workers, "{after:?}");

        // Nothing is freed while the buffers are recent; all of them once
        // they have been quiet long enough; the next login allocates again.
        assert_eq!(release_idle(QUIET), 0);
        assert_eq!(release_idle(Duration::ZERO), after.held);
        assert_eq!(Mailstore::argon2_stats().held, 0);
        assert!(Mailstore::argon2_verify(&hash, "Ardoise-Demo-2026").await);
        let again = Mailstore::argon2_stats();
        assert_eq!((again.held, again.buffers), (1, after.buffers + 1), "{again:?}");
    }
}
