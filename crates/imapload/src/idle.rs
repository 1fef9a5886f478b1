//! R4, idle connections: `--clients` connections spread over `--accounts`
//! accounts (connection i uses account i mod accounts), each LOGIN, SELECT
//! INBOX, IDLE; at most `--window` set-ups at a time. The connections are
//! opened in two halves; after each half, with `--pause`, imapload prints
//! `imapload: ready N` on stderr and waits for a line on stdin (the harness
//! measures the server's memory then), otherwise it waits `--seconds`.
//! Then `--rounds` rounds: in each, 1% of the mailboxes (at least one; a
//! different seeded choice per round) receive one APPEND from another
//! connection, and every IDLE connection on those mailboxes must report the
//! new `* N EXISTS`: the time from sending the APPEND to that response is
//! recorded; a connection that never reports it within 10 s is counted as
//! missed (a consistency error).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde_json::{Value as Json, json};
use tokio::sync::{Semaphore, mpsc};

use crate::bigbox::{login, percentiles};
use crate::client::Setup;
use crate::resp::{Response, Status};

/// How long a round waits for every EXISTS.
const WAIT: Duration = Duration::from_secs(10);

struct Event {
    account: usize,
    at: Instant,
}

/// One connection: set up, then report every EXISTS above the one SELECT gave.
async fn idler(
    setup: Arc<Setup>,
    account: usize,
    gate: Arc<Semaphore>,
    ready: mpsc::Sender<Result<Duration, String>>,
    events: mpsc::UnboundedSender<Event>,
) {
    let permit = gate.acquire_owned().await;
    let t = Instant::now();
    let res: anyhow::Result<(crate::conn::Conn, u32)> = async {
        let mut conn = login(&setup, account).await?;
        let r = conn.command("SELECT INBOX", None).await?;
        ensure!(r.status == Status::Ok, "SELECT INBOX: {}", r.text);
        let mut exists = r.untagged.iter().find_map(|u| match u {
            Response::Exists(n) => Some(*n),
            _ => None,
        });
        let tag = conn.tag();
        conn.write(format!("{tag} IDLE\r\n").as_bytes()).await?;
        loop {
            match tokio::time::timeout(Duration::from_secs(60), conn.read()).await.context("IDLE: no answer")?? {
                Response::Continue => break,
                Response::Exists(n) => exists = Some(n),
                Response::Tagged { text, .. } => anyhow::bail!("IDLE refused: {text}"),
                _ => {}
            }
        }
        Ok((conn, exists.context("SELECT without EXISTS")?))
    }
    .await;
    drop(permit);
    let (mut conn, mut exists) = match res {
        Ok(c) => {
            let _ = ready.send(Ok(t.elapsed())).await;
            c
        }
        Err(e) => {
            let _ = ready.send(Err(format!("{e:#}"))).await;
            return;
        }
    };
    while let Ok(r) = conn.read().await {
        if let Response::Exists(n) = r
            && n > exists
        {
            exists = n;
            if events.send(Event { account, at: Instant::now() }).is_err() {
                return;
            }
        }
    }
}

async fn pause(wait: bool, seconds: f64, established: usize) -> anyhow::Result<()> {
    if wait {
        eprintln!("imapload: ready {established}");
        tokio::task::spawn_blocking(|| std::io::stdin().read_line(&mut String::new())).await??;
    } else {
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    }
    Ok(())
}

pub async fn run(setup: Arc<Setup>, clients: u32, window: usize, rounds: u32, wait: bool) -> anyhow::Result<Json> {
    let accounts = setup.accounts.len();
    let gate = Arc::new(Semaphore::new(window.max(1)));
    let (ready_tx, mut ready_rx) = mpsc::channel(1024);
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
    let mut per_account = vec![0usize; accounts];
    let mut setup_times = Vec::new();
    let mut failures: HashMap<String, u64> = HashMap::new();
    let mut established = 0;
    let t0 = Instant::now();
    let mut stages = Vec::new();
    let half = clients / 2;
    for (from, to) in [(0, half), (half, clients)] {
        for i in from..to {
            let account = i as usize % accounts;
            tokio::spawn(idler(setup.clone(), account, gate.clone(), ready_tx.clone(), ev_tx.clone()));
        }
        for i in from..to {
            match ready_rx.recv().await.context("set-up channel closed")? {
                Ok(d) => {
                    established += 1;
                    per_account[i as usize % accounts] += 1;
                    setup_times.push(d);
                }
                Err(e) => *failures.entry(e).or_default() += 1,
            }
        }
        stages.push(json!({"connections": established, "seconds": t0.elapsed().as_secs_f64()}));
        pause(wait, setup.duration.as_secs_f64(), established).await?;
    }
    // Connections that failed are spread evenly; count the expected EXISTS
    // per account from the successful ones (failures are reported anyway).
    let failed: u64 = failures.values().sum();
    if failed > 0 {
        per_account = vec![0; accounts];
        for i in 0..established {
            per_account[i % accounts] += 1;
        }
    }
    let mut rng = StdRng::seed_from_u64(setup.seed ^ 0x1D1E);
    let mut order: Vec<usize> = (0..accounts).collect();
    order.shuffle(&mut rng);
    let per_round = accounts.div_ceil(100).max(1);
    let mut lat = Vec::new();
    let mut missed = 0u64;
    let mut expected_total = 0u64;
    let mut append_lat = Vec::new();
    for round in 0..rounds as usize {
        let chosen: Vec<usize> = (0..per_round).map(|k| order[(round * per_round + k) % accounts]).collect();
        // The delivering connections log in first (not timed).
        let mut senders = Vec::new();
        for &a in &chosen {
            senders.push((a, login(&setup, a).await?));
        }
        while ev_rx.try_recv().is_ok() {}
        let mut sent = HashMap::new();
        for (a, conn) in &mut senders {
            let data = crate::message::build(setup.seed, *a as u32 + 1, 9_000_000 + round as u64, 3000);
            let t = Instant::now();
            sent.insert(*a, t);
            let r = conn.command("APPEND INBOX", Some(&data)).await?;
            append_lat.push(t.elapsed());
            ensure!(r.status == Status::Ok, "APPEND refused: {}", r.text);
        }
        let expected: usize = chosen.iter().map(|&a| per_account[a]).sum();
        expected_total += expected as u64;
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + WAIT;
        while got < expected {
            match tokio::time::timeout_at(deadline, ev_rx.recv()).await {
                Ok(Some(e)) => {
                    if let Some(t) = sent.get(&e.account) {
                        lat.push(e.at.saturating_duration_since(*t));
                        got += 1;
                    }
                }
                _ => break,
            }
        }
        missed += (expected - got) as u64;
        for (_, mut conn) in senders {
            let _ = conn.command("LOGOUT", None).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut failures: Vec<(String, u64)> = failures.into_iter().collect();
    failures.sort_by_key(|f| std::cmp::Reverse(f.1));
    failures.truncate(5);
    Ok(json!({
        "connections": clients, "established": established, "failed": failed, "accounts": accounts,
        "window": window, "stages": stages, "setup_latency": percentiles(&mut setup_times),
        "rounds": rounds, "mailboxes_per_round": per_round, "exists_expected": expected_total,
        "exists_missed": missed, "exists_latency": percentiles(&mut lat),
        "append_latency": percentiles(&mut append_lat), "failures": failures,
    }))
}
