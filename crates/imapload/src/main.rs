//! `imapload`: an IMAP load generator for comparing servers (bench/run).
//!
//! It reproduces imaptest's default command mix (see [`mix`]) with N clients
//! over M accounts, a fixed seed (the same choices on every run and every
//! server), for a duration or a command count, against any IMAP server; it
//! checks the answers as it goes (a fast server that answers wrongly is not
//! fast) and prints a JSON report: commands per second by kind, latency
//! percentiles, protocol errors (unexpected BAD/NO, missing BYE) and
//! consistency errors (counts, flags, bodies that disagree with what was done
//! and seen). Other workloads: `seed`, `append` and `login`; for the large
//! mailbox (R7) `bigbox`, `fetchall` and `search` (see [`bigbox`]); for idle
//! connections (R4) `idle` (see [`idle`]).
//!
//! ```sh
//! imapload --addr 127.0.0.1:1143 --user 'agent{n:02}@ac-test.fr' --password-env PW \
//!     --accounts 20 --clients 10 --seconds 120 mix
//! ```

mod bigbox;
mod check;
mod client;
mod conn;
mod corpus;
mod idle;
mod message;
mod mix;
mod resp;
mod stats;
mod workload;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, ValueEnum};

use crate::check::Account;
use crate::client::{Client, Setup};
use crate::stats::Stats;

#[derive(Parser)]
#[command(version, about = "IMAP load generator (imaptest's default mix) with consistency checks")]
struct Args {
    /// What to run.
    workload: Workload,
    /// Server address (host:port).
    #[arg(long)]
    addr: String,
    /// Use implicit TLS (any certificate accepted).
    #[arg(long)]
    tls: bool,
    /// Login pattern; `{n}` (or `{n:02}` zero-padded) is replaced by 1..=accounts.
    #[arg(long)]
    user: String,
    /// Name of the environment variable holding the password (never on the command line).
    #[arg(long, default_value = "IMAPLOAD_PASSWORD")]
    password_env: String,
    #[arg(long, default_value_t = 20)]
    accounts: u32,
    #[arg(long, default_value_t = 10)]
    clients: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run this long (seconds); ignored by `seed`.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Stop after this many commands in all (instead of / as well as the duration).
    #[arg(long)]
    ops: Option<i64>,
    /// Size of appended messages in bytes.
    #[arg(long, default_value_t = 4096)]
    size: usize,
    /// Messages per account for `seed`; messages to load for `bigbox` (and
    /// the count `fetchall` expects, when given).
    #[arg(long, default_value_t = 25)]
    messages: u64,
    /// Commands in flight per connection (`bigbox`), or connection set-ups
    /// in flight (`idle`).
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// Repetitions (`fetchall`) or rounds over the query list (`search`).
    #[arg(long, default_value_t = 3)]
    repeat: u32,
    /// Delivery rounds for `idle` (1% of the mailboxes each).
    #[arg(long, default_value_t = 5)]
    rounds: u32,
    /// Number of the first corpus message (`bigbox`, `maildir`): loading a
    /// mailbox in two parts (some by APPEND, the rest as files) gives the
    /// same messages as loading it in one.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// `maildir`: the Maildir folder to write into (its `cur/` must exist).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// `idle`: after each half of the connections, print `imapload: ready N`
    /// on stderr and wait for a line on stdin (instead of `--seconds`).
    #[arg(long)]
    pause: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Workload {
    /// imaptest's default mix (R1).
    Mix,
    /// `--messages` APPENDs into every account (identical data for a seed).
    Seed,
    /// APPEND of `--size` bytes in a loop, then a check that all are there (R3).
    Append,
    /// Connect, LOGIN, LOGOUT in a loop (R2).
    Login,
    /// Load `--messages` messages of the French corpus into the first account's INBOX (R7).
    Bigbox,
    /// Write `--messages` messages of the corpus as files into the Maildir
    /// `--dir` (R7: the bulk of a 100,000-message reference mailbox, which
    /// Dovecot then indexes with `doveadm index`); no server involved.
    Maildir,
    /// SELECT INBOX + UID FETCH 1:* (FLAGS ENVELOPE), `--repeat` times (R7).
    Fetchall,
    /// UID SEARCH TEXT over the fixed query list, `--repeat` rounds (R7).
    Search,
    /// `--clients` connections in IDLE, then deliveries to 1% of the mailboxes (R4).
    Idle,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.workload == Workload::Maildir {
        let dir = args.dir.as_deref().context("maildir needs --dir")?;
        let report = bigbox::write_maildir(dir, args.seed, args.first, args.messages)?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let password = std::env::var(&args.password_env).with_context(|| format!("${} is not set", args.password_env))?;
    anyhow::ensure!(args.accounts > 0 && args.clients > 0, "--accounts and --clients must be positive");
    let accounts = (1..=args.accounts).map(|n| Arc::new(Account::new(login_of(&args.user, n), n))).collect();
    let mut setup = Setup {
        target: conn::Target { addr: args.addr.clone(), tls: args.tls.then(conn::insecure_tls) },
        password,
        accounts,
        seed: args.seed,
        size: args.size,
        mix: mix::Mix::IMAPTEST,
        started: Instant::now(),
        duration: Duration::from_secs_f64(args.seconds),
        phase: std::sync::OnceLock::new(),
        budget: args.ops.map(std::sync::atomic::AtomicI64::new),
    };
    if matches!(args.workload, Workload::Bigbox | Workload::Fetchall | Workload::Search | Workload::Idle) {
        let report = special(&args, setup).await?;
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let before = match args.workload {
        Workload::Append => Some(workload::inbox_counts(&setup).await?),
        _ => None,
    };
    setup.started = Instant::now();
    let setup = Arc::new(setup);
    let barrier = Arc::new(tokio::sync::Barrier::new(args.clients as usize));
    let mut tasks = tokio::task::JoinSet::new();
    for id in 0..args.clients {
        let c = Client::new(id, &setup);
        let s = setup.clone();
        match args.workload {
            Workload::Mix => tasks.spawn(async move { (workload::mix(c, s).await, 0) }),
            Workload::Seed => tasks.spawn(async move { (workload::seed(c, s, args.clients, args.messages).await, 0) }),
            Workload::Append => tasks.spawn(workload::append(c, s, barrier.clone())),
            Workload::Login => tasks.spawn(async move { (workload::logins(c, s).await, 0) }),
            _ => unreachable!("handled by special()"),
        };
    }
    let mut stats = Stats::default();
    let mut acked = 0;
    while let Some(r) = tasks.join_next().await {
        let (s, n) = r.context("a client panicked")?;
        stats.merge(s);
        acked += n;
    }
    let seconds = setup.start().elapsed().as_secs_f64();
    if let Some(before) = before {
        let after = workload::inbox_counts(&setup).await?;
        let added: u64 = after.iter().zip(&before).map(|(a, b)| a.saturating_sub(*b)).sum();
        if added != acked {
            stats.consistency(format!("{acked} APPENDs acknowledged but INBOX counts grew by {added}"));
        }
    }
    let mut report = serde_json::to_value(stats.report(seconds))?;
    report["workload"] = serde_json::json!(args.workload.to_possible_value().map(|v| v.get_name().to_owned()));
    report["clients"] = args.clients.into();
    report["accounts"] = args.accounts.into();
    report["seed"] = args.seed.into();
    report["size"] = args.size.into();
    report["acknowledged_appends"] = acked.into();
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// The R4 and R7 workloads, whose reports are their own.
async fn special(args: &Args, setup: Setup) -> anyhow::Result<serde_json::Value> {
    let t = Instant::now();
    let mut report = match args.workload {
        Workload::Bigbox => bigbox::load(&setup, args.clients, args.first, args.messages, args.window).await?,
        Workload::Fetchall => {
            let expected = (args.messages != 25).then_some(args.messages);
            bigbox::fetchall(&setup, args.repeat, expected).await?
        }
        Workload::Search => bigbox::search_all(&setup, args.repeat).await?,
        Workload::Idle => idle::run(Arc::new(setup), args.clients, args.window, args.rounds, args.pause).await?,
        _ => unreachable!("only the special workloads"),
    };
    report["workload"] = serde_json::json!(args.workload.to_possible_value().map(|v| v.get_name().to_owned()));
    report["seed"] = args.seed.into();
    report["wall_seconds"] = t.elapsed().as_secs_f64().into();
    Ok(report)
}

/// `agent{n:02}@x` with n = 3 -> `agent03@x`; `{n}` -> `3`.
fn login_of(pattern: &str, n: u32) -> String {
    let Some(start) = pattern.find("{n") else { return pattern.to_owned() };
    let Some(len) = pattern[start..].find('}') else { return pattern.to_owned() };
    let spec = &pattern[start + 2..start + len];
    let width: usize = spec.strip_prefix(":0").and_then(|w| w.parse().ok()).unwrap_or(0);
    format!("{}{n:0width$}{}", &pattern[..start], &pattern[start + len + 1..])
}

#[cfg(test)]
mod tests {
    use super::login_of;

    #[test]
    fn login_patterns() {
        assert_eq!(login_of("agent{n:02}@ac-test.fr", 3), "agent03@ac-test.fr");
        assert_eq!(login_of("agent{n:02}@ac-test.fr", 120), "agent120@ac-test.fr");
        assert_eq!(login_of("u{n}", 7), "u7");
        assert_eq!(login_of("fixed@x", 7), "fixed@x");
    }
}
