//! The workloads besides the mix: `seed` (identical data in every account
//! before a run), `append` (durable APPEND throughput, then a check that
//! every acknowledged message is there) and `login` (connect, LOGIN, LOGOUT).

use std::sync::Arc;

use crate::check::View;
use crate::check::check_status;
use crate::client::{Client, Setup, Stop};
use crate::conn::Conn;
use crate::resp::Status;
use crate::stats::Stats;

/// Loops sessions of the imaptest mix until the run is over.
pub async fn mix(mut c: Client, setup: Arc<Setup>) -> Stats {
    while !setup.over() {
        if let Err(Stop) = c.mix_session(&setup).await {
            break;
        }
    }
    c.stats
}

/// Appends `per_account` messages (numbered from 0, so the same data on any
/// server for a given seed) to each account this client is responsible for
/// (accounts `id`, `id + clients`, ...).
pub async fn seed(mut c: Client, setup: Arc<Setup>, clients: u32, per_account: u64) -> Stats {
    let mut a = c.id as usize;
    while a < setup.accounts.len() {
        c.account = setup.accounts[a].clone();
        if let Err(e) = seed_one(&mut c, &setup, per_account).await {
            c.stats.aborted(format!("seed {}: {e:#}", c.account.login));
        }
        a += clients as usize;
    }
    c.stats
}

async fn seed_one(c: &mut Client, setup: &Setup, per_account: u64) -> anyhow::Result<()> {
    let mut conn = login(c, setup).await?;
    let mut view = View::default();
    for n in 0..per_account {
        c.next_message = n;
        // Flags and dates come from the client's seeded generator: the same on every server.
        c.append(&mut conn, setup, &mut view).await?;
    }
    c.exec(&mut conn, "LOGOUT", "LOGOUT", None, &mut view).await?;
    Ok(())
}

/// Logs in, waits for every client to be logged in (the measured phase
/// starts then), and APPENDs messages of `setup.size` bytes on one
/// connection until the run is over. Returns the stats and how many APPENDs
/// were acknowledged.
pub async fn append(mut c: Client, setup: Arc<Setup>, all_in: Arc<tokio::sync::Barrier>) -> (Stats, u64) {
    let mut acked = 0;
    let mut last_uid = 0;
    let res: anyhow::Result<()> = async {
        let conn = login(&mut c, &setup).await;
        // Wait even after a failed login, or the others would wait forever.
        if all_in.wait().await.is_leader() {
            let _ = setup.phase.set(std::time::Instant::now());
        }
        let mut conn = conn?;
        let mut view = View::default();
        while !setup.over() {
            let r = c.append(&mut conn, &setup, &mut view).await?;
            if r.status == Status::Ok {
                acked += 1;
                if let Some((_, uid)) = crate::check::appenduid(&r) {
                    if uid <= last_uid {
                        c.stats.consistency(format!("APPENDUID {uid} not above the previous {last_uid}"));
                    }
                    last_uid = uid;
                }
            }
        }
        c.exec(&mut conn, "LOGOUT", "LOGOUT", None, &mut view).await?;
        Ok(())
    }
    .await;
    if let Err(e) = res {
        c.stats.aborted(format!("{e:#}"));
    }
    (c.stats, acked)
}

/// Connects, logs in and out, until the run is over.
pub async fn logins(mut c: Client, setup: Arc<Setup>) -> Stats {
    while !setup.over() {
        let res: anyhow::Result<()> = async {
            let mut conn = login(&mut c, &setup).await?;
            c.exec(&mut conn, "LOGOUT", "LOGOUT", None, &mut View::default()).await?;
            Ok(())
        }
        .await;
        match res {
            Ok(()) => c.stats.sessions += 1,
            Err(e) => c.stats.aborted(format!("{e:#}")),
        }
    }
    c.stats
}

async fn login(c: &mut Client, setup: &Setup) -> anyhow::Result<Conn> {
    let mut conn = Conn::connect(&setup.target).await?;
    let line = format!("LOGIN \"{}\" \"{}\"", c.account.login, setup.password);
    let r = c.exec(&mut conn, "LOGIN", &line, None, &mut View::default()).await?;
    anyhow::ensure!(r.status == Status::Ok, "LOGIN {} refused: {}", c.account.login, r.text);
    Ok(conn)
}

/// INBOX message counts of every account (STATUS over one connection each),
/// used around the append workload: every acknowledged APPEND must be there.
pub async fn inbox_counts(setup: &Setup) -> anyhow::Result<Vec<u64>> {
    let mut out = Vec::new();
    for (i, a) in setup.accounts.iter().enumerate() {
        let mut c = Client::new(i as u32, setup);
        c.account = a.clone();
        let mut conn = login(&mut c, setup).await?;
        let r = conn.command("STATUS INBOX (MESSAGES)", None).await?;
        out.push(check_status(&r.untagged).map_err(anyhow::Error::msg)?);
        conn.command("LOGOUT", None).await?;
    }
    Ok(out)
}
