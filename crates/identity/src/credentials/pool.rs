//! Bounded argon2: every argon2 computation of an [`crate::Identity`]
//! (logins on every protocol, password changes and resets) runs through its
//! [`Argon2Pool`].
//!
//! At most one computation per core runs at once (a semaphore sized by
//! `std::thread::available_parallelism`, the permit held by the blocking
//! thread itself so an abandoned login cannot free it early), and each
//! running computation borrows a block buffer from a pool that never holds
//! more buffers than there are permits. Peak argon2 memory is therefore
//! cores x 19 MiB, and the same buffers are reused instead of being
//! allocated and freed at every login (which glibc would keep as fragmented
//! arenas: 100 simultaneous IMAP logins used to cost gigabytes). Buffers
//! left unused for [`QUIET`] are freed (a reaper task runs while the pool
//! holds any), so a server that has finished its Monday-morning login burst
//! does not keep cores x 19 MiB for the rest of the week.
//!
//! The pool is a field of the identity service, not a process-wide static:
//! two services in one process (tests) each have their own bound and
//! counters. Hashing lives here, in identity, because hashing secrets is
//! identity's business; the mail store never sees a password.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Largest argon2 memory cost accepted from a stored hash, in KiB (256 MiB):
/// a hash with more is refused rather than allowed to grow the pool.
const MAX_M_COST: u32 = 256 * 1024;
/// Longest password given to argon2, in bytes.
const MAX_PASSWORD_LEN: usize = 256;

/// How long a pooled block buffer may sit unused before it is freed.
/// Long enough that a burst of logins keeps its buffers; a login after a
/// pause pays one allocation of 19 MiB (a few milliseconds).
pub const QUIET: Duration = Duration::from_secs(10);

/// How the bounded argon2 pool is doing (for tests and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Stats {
    /// Computations allowed at once (the number of cores).
    pub workers: usize,
    /// Computations running now.
    pub in_flight: usize,
    /// The most that ever ran at once.
    pub peak_in_flight: usize,
    /// Computations run since the pool was made.
    pub runs: u64,
    /// Block buffers allocated since the pool was made (at most `workers`
    /// within one burst of logins; more over time, as idle ones are freed).
    pub buffers: usize,
    /// Block buffers held now (in the pool or in use).
    pub held: usize,
}

/// The bounded argon2 pool (cheap to clone: the clones share one bound).
#[derive(Clone)]
pub struct Argon2Pool {
    inner: Arc<Inner>,
}

struct Inner {
    workers: usize,
    permits: Arc<Semaphore>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    runs: AtomicU64,
    buffers_made: AtomicUsize,
    buffers_held: AtomicUsize,
    /// Idle buffers, each with the moment it was put back.
    buffers: Mutex<Vec<(Vec<Block>, Instant)>>,
    /// Whether a reaper task is scheduled.
    reaper: AtomicBool,
}

impl std::fmt::Debug for Argon2Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Pool").field("stats", &self.stats()).finish()
    }
}

impl Default for Argon2Pool {
    fn default() -> Self {
        Argon2Pool::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
    }
}

impl Argon2Pool {
    /// A pool running at most `workers` computations at once.
    pub fn new(workers: usize) -> Argon2Pool {
        let workers = workers.max(1);
        Argon2Pool {
            inner: Arc::new(Inner {
                workers,
                permits: Arc::new(Semaphore::new(workers)),
                in_flight: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                runs: AtomicU64::new(0),
                buffers_made: AtomicUsize::new(0),
                buffers_held: AtomicUsize::new(0),
                buffers: Mutex::new(Vec::new()),
                reaper: AtomicBool::new(false),
            }),
        }
    }

    /// Whether `password` matches the PHC argon2 string `hash`: on a blocking
    /// thread, within the bound, in a reused buffer. False when it does not
    /// match, the hash is malformed or the thread failed.
    pub async fn verify(&self, hash: &str, password: &str) -> bool {
        let (hash, password) = (hash.to_owned(), password.to_owned());
        self.bounded(move |buffer| verify_with(buffer, &hash, &password)).await.unwrap_or(false)
    }

    /// Checks a hash imported from another server ([`super::foreign`])
    /// within the same bound: bcrypt and SHA-crypt are slow on purpose too.
    pub async fn verify_foreign(&self, hash: &str, password: &str) -> bool {
        let (hash, password) = (hash.to_owned(), password.to_owned());
        self.bounded(move |_| super::foreign::verify(&hash, &password)).await.unwrap_or(false)
    }

    /// The PHC string of `password` hashed with argon2id and `params`,
    /// within the same bound as [`Argon2Pool::verify`].
    pub async fn hash(&self, password: &str, params: Params) -> Option<String> {
        let password = password.to_owned();
        self.bounded(move |buffer| hash_with(buffer, &password, &params)).await.flatten()
    }

    /// How the pool is doing.
    pub fn stats(&self) -> Argon2Stats {
        let i = &self.inner;
        Argon2Stats {
            workers: i.workers,
            in_flight: i.in_flight.load(Ordering::SeqCst),
            peak_in_flight: i.peak.load(Ordering::SeqCst),
            runs: i.runs.load(Ordering::Relaxed),
            buffers: i.buffers_made.load(Ordering::Relaxed),
            held: i.buffers_held.load(Ordering::Relaxed),
        }
    }

    /// Runs `f` on a blocking thread once a permit is free, with a reused
    /// block buffer. `None` when the blocking thread failed.
    async fn bounded<R: Send + 'static>(&self, f: impl FnOnce(&mut Vec<Block>) -> R + Send + 'static) -> Option<R> {
        let permit = self.inner.permits.clone().acquire_owned().await.ok()?;
        let inner = self.inner.clone();
        let out = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let pooled = inner.buffers.lock().map(|mut pool| pool.pop()).unwrap_or(None);
            let mut buffer = pooled.map_or_else(
                || {
                    inner.buffers_made.fetch_add(1, Ordering::Relaxed);
                    inner.buffers_held.fetch_add(1, Ordering::Relaxed);
                    Vec::new()
                },
                |(buffer, _)| buffer,
            );
            let now = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            inner.peak.fetch_max(now, Ordering::SeqCst);
            inner.runs.fetch_add(1, Ordering::Relaxed);
            let out = f(&mut buffer);
            inner.in_flight.fetch_sub(1, Ordering::SeqCst);
            match inner.buffers.lock() {
                Ok(mut pool) => pool.push((buffer, Instant::now())),
                Err(_) => inner.release(buffer),
            }
            out
        })
        .await
        .ok();
        if !self.inner.reaper.swap(true, Ordering::SeqCst) {
            tokio::spawn(reap(self.inner.clone()));
        }
        out
    }

    /// Frees the pooled buffers unused for at least `quiet`; returns how many.
    pub fn release_idle(&self, quiet: Duration) -> usize {
        self.inner.release_idle(quiet)
    }
}

impl Inner {
    /// Frees `buffer`, counting it out of the held ones.
    fn release(&self, buffer: Vec<Block>) {
        self.buffers_held.fetch_sub(1, Ordering::Relaxed);
        drop(buffer);
    }

    fn release_idle(&self, quiet: Duration) -> usize {
        let Ok(mut pool) = self.buffers.lock() else { return 0 };
        let (idle, busy): (Vec<_>, Vec<_>) = pool.drain(..).partition(|(_, since)| since.elapsed() >= quiet);
        *pool = busy;
        let freed = idle.len();
        idle.into_iter().for_each(|(buffer, _)| self.release(buffer));
        freed
    }
}

/// Frees each pooled buffer once it has been unused for [`QUIET`], waking
/// when the oldest one is due; stops when the pool is empty (the next
/// computation schedules a new reaper).
async fn reap(inner: Arc<Inner>) {
    loop {
        let due = {
            let Ok(pool) = inner.buffers.lock() else { return };
            match pool.iter().map(|(_, since)| *since).min() {
                Some(oldest) => oldest + QUIET,
                None => {
                    inner.reaper.store(false, Ordering::SeqCst);
                    return;
                }
            }
        };
        tokio::time::sleep_until(due.into()).await;
        inner.release_idle(QUIET);
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
    async fn at_most_one_computation_per_worker_and_one_buffer_each() {
        let pool = Argon2Pool::new(2);
        let mut buffer = Vec::new();
        let hash = hash_with(&mut buffer, "Ardoise-Demo-2026", &owasp()).unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..16 {
            let (hash, pool) = (hash.clone(), pool.clone());
            tasks.spawn(async move {
                let pw = if i % 2 == 0 { "Ardoise-Demo-2026" } else { "wrong" };
                (i % 2 == 0) == pool.verify(&hash, pw).await
            });
        }
        while let Some(ok) = tasks.join_next().await {
            assert!(ok.unwrap());
        }
        let after = pool.stats();
        assert_eq!(after.runs, 16);
        assert_eq!(after.workers, 2);
        assert!(after.peak_in_flight <= 2, "{after:?}");
        assert!(after.buffers <= 2, "{after:?}");
        assert_eq!(after.in_flight, 0);
        assert!(after.held >= 1 && after.held <= 2, "{after:?}");

        // Nothing is freed while the buffers are recent; all of them once
        // they have been quiet long enough; the next login allocates again.
        assert_eq!(pool.release_idle(QUIET), 0);
        assert_eq!(pool.release_idle(Duration::ZERO), after.held);
        assert_eq!(pool.stats().held, 0);
        assert!(pool.verify(&hash, "Ardoise-Demo-2026").await);
        let again = pool.stats();
        assert_eq!((again.held, again.buffers), (1, after.buffers + 1), "{again:?}");
        // Another pool has its own counters.
        assert_eq!(Argon2Pool::new(1).stats().runs, 0);
    }
}
