//! R7, the large mailbox: `bigbox` loads `--messages` messages of the French
//! corpus ([`crate::corpus`]) into the INBOX of the first account with
//! pipelined APPENDs (LITERAL+, `--window` in flight per connection, over
//! `--clients` connections), checks that the INBOX grew by exactly that
//! much, and times the first `UID SEARCH TEXT` (which waits for the
//! full-text index to catch up on both servers). `fetchall` times `SELECT
//! INBOX` + `UID FETCH 1:* (FLAGS ENVELOPE)`, `--repeat` times, checking
//! that every message comes back once with its items; `search` times `UID
//! SEARCH TEXT` over the fixed query list, `--repeat` rounds, checking that
//! every UID returned exists and that each word's count is stable.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::{Value as Json, json};

use crate::client::Setup;
use crate::conn::{Conn, Reply};
use crate::corpus;
use crate::resp::{Response, Status, Value};

const READ_TIMEOUT: Duration = Duration::from_secs(300);

pub async fn login(setup: &Setup, account: usize) -> anyhow::Result<Conn> {
    let mut conn = Conn::connect(&setup.target).await?;
    let a = &setup.accounts[account];
    let r = conn.command(&format!("LOGIN \"{}\" \"{}\"", a.login, setup.password), None).await?;
    ensure!(r.status == Status::Ok, "LOGIN {} refused: {}", a.login, r.text);
    Ok(conn)
}

async fn inbox_messages(setup: &Setup) -> anyhow::Result<u64> {
    let mut conn = login(setup, 0).await?;
    let r = conn.command("STATUS INBOX (MESSAGES)", None).await?;
    let n = crate::check::check_status(&r.untagged).map_err(anyhow::Error::msg)?;
    conn.command("LOGOUT", None).await?;
    Ok(n)
}

/// Loads the corpus; returns the JSON report.
pub async fn load(setup: &Setup, clients: u32, first: u64, messages: u64, window: usize) -> anyhow::Result<Json> {
    let before = inbox_messages(setup).await?;
    let t0 = Instant::now();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for id in 0..u64::from(clients) {
        let (target, password, login) = (setup.target.clone(), setup.password.clone(), setup.accounts[0].login.clone());
        let (seed, clients, done) = (setup.seed, u64::from(clients), done.clone());
        tasks.spawn(async move {
            let mut conn = Conn::connect(&target).await?;
            ensure!(conn.literal_plus, "the server does not announce LITERAL+ in its greeting");
            let r = conn.command(&format!("LOGIN \"{login}\" \"{password}\""), None).await?;
            ensure!(r.status == Status::Ok, "LOGIN refused: {}", r.text);
            let mut numbers = (first + id..first + messages).step_by(clients as usize);
            let mut inflight: VecDeque<(String, Instant)> = VecDeque::new();
            let mut latencies = Vec::new();
            let mut refused = 0u64;
            loop {
                while inflight.len() < window {
                    let Some(n) = numbers.next() else { break };
                    let data = corpus::message(seed, n);
                    let tag = conn.tag();
                    let flags = if seen(n) { "(\\Seen) " } else { "" };
                    let (day, hour, minute) = internal_date(n);
                    let date = format!("\"{day:02}-Sep-2026 {hour:02}:{minute:02}:00 +0200\"");
                    let mut out = format!("{tag} APPEND INBOX {flags}{date} {{{}+}}\r\n", data.len()).into_bytes();
                    out.extend_from_slice(&data);
                    out.extend_from_slice(b"\r\n");
                    conn.write(&out).await?;
                    inflight.push_back((tag, Instant::now()));
                }
                let Some((tag, sent)) = inflight.front().cloned() else { break };
                match tokio::time::timeout(READ_TIMEOUT, conn.read()).await.context("APPEND: no answer")?? {
                    Response::Tagged { tag: got, status, text, .. } => {
                        ensure!(got == tag, "reply tagged {got} while waiting for {tag}");
                        inflight.pop_front();
                        latencies.push(sent.elapsed());
                        if status != Status::Ok {
                            refused += 1;
                            eprintln!("imapload: APPEND refused: {text}");
                        }
                        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        if d % (messages / 10).max(1) == 0 {
                            eprintln!("imapload: {d}/{messages} appended, {:.0} s", t0.elapsed().as_secs_f64());
                        }
                    }
                    Response::Continue => bail!("continuation request despite LITERAL+"),
                    _ => {}
                }
            }
            conn.command("LOGOUT", None).await?;
            Ok((latencies, refused))
        });
    }
    let mut lat = Vec::new();
    let mut refused = 0;
    while let Some(r) = tasks.join_next().await {
        let (l, n) = r.context("a client panicked")??;
        lat.extend(l);
        refused += n;
    }
    let seconds = t0.elapsed().as_secs_f64();
    let after = inbox_messages(setup).await?;
    // The first full-text search waits for the index to hold everything.
    let mut conn = login(setup, 0).await?;
    select(&mut conn).await?;
    let word = &corpus::queries(setup.seed)[0];
    let t = Instant::now();
    let uids = search(&mut conn, word).await?;
    let searchable = t.elapsed().as_secs_f64();
    conn.command("LOGOUT", None).await?;
    let mut errors = Vec::new();
    if after != before + messages - refused {
        errors.push(format!("INBOX holds {after} messages, expected {before} + {messages} - {refused} refused"));
    }
    if refused > 0 {
        errors.push(format!("{refused} APPENDs refused"));
    }
    Ok(json!({
        "messages": messages, "before": before, "after": after, "refused": refused, "clients": clients,
        "window": window, "load_seconds": seconds, "load_per_second": messages as f64 / seconds,
        "append_latency": percentiles(&mut lat),
        "first_search": {"word": word, "seconds": searchable, "results": uids.len()},
        "searchable_per_second": messages as f64 / (seconds + searchable),
        "first": first,
        "corpus_bytes": (first..first + messages).map(|n| corpus::message(setup.seed, n).len() as u64).sum::<u64>(),
        "errors": errors,
    }))
}

/// Whether corpus message `n` is loaded with `\Seen`.
fn seen(n: u64) -> bool {
    n.is_multiple_of(3)
}

/// The internal date of corpus message `n`: (day of September 2026, hour,
/// minute), local time at +02:00.
fn internal_date(n: u64) -> (u64, u64, u64) {
    (1 + n % 28, 8 + n % 10, n % 60)
}

/// Writes corpus messages `first..first + messages` into the Maildir `dir`
/// as the files an APPEND with the same flags and date would have made
/// (`cur/`, `:2,S` for `\Seen`, the size in the name, the internal date as
/// the file's time), so that a server reading the folder sees the same
/// mailbox as `bigbox` would have built. Each file is written to `tmp/` and
/// renamed, as the Maildir rules ask. Nothing is fsync'd: this prepares a
/// benchmark's data, it is not a delivery.
pub fn write_maildir(dir: &std::path::Path, seed: u64, first: u64, messages: u64) -> anyhow::Result<Json> {
    use std::time::{SystemTime, UNIX_EPOCH};
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).with_context(|| format!("creating {}", dir.join(sub).display()))?;
    }
    // 2026-09-01T00:00:00+02:00
    const SEPT_1: u64 = 1_788_213_600;
    let t = Instant::now();
    let mut bytes = 0u64;
    for n in first..first + messages {
        let data = corpus::message(seed, n);
        bytes += data.len() as u64;
        let (day, hour, minute) = internal_date(n);
        let when = UNIX_EPOCH + Duration::from_secs(SEPT_1 + (day - 1) * 86_400 + hour * 3_600 + minute * 60);
        let base = format!("{}.M{n}P0.imapload,S={}", SEPT_1 + n, data.len());
        let tmp = dir.join("tmp").join(&base);
        let mut file = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        std::io::Write::write_all(&mut file, &data)?;
        file.set_times(std::fs::FileTimes::new().set_modified(when).set_accessed(SystemTime::now()))?;
        drop(file);
        let flags = if seen(n) { "S" } else { "" };
        std::fs::rename(&tmp, dir.join("cur").join(format!("{base}:2,{flags}")))?;
    }
    Ok(json!({
        "workload": "maildir", "first": first, "messages": messages, "corpus_bytes": bytes,
        "seconds": t.elapsed().as_secs_f64(),
    }))
}

async fn select(conn: &mut Conn) -> anyhow::Result<(Reply, u64)> {
    let r = conn.command("SELECT INBOX", None).await?;
    ensure!(r.status == Status::Ok, "SELECT INBOX: {}", r.text);
    let exists = r
        .untagged
        .iter()
        .find_map(|u| match u {
            Response::Exists(n) => Some(u64::from(*n)),
            _ => None,
        })
        .context("SELECT without EXISTS")?;
    Ok((r, exists))
}

/// `UID SEARCH TEXT word` (CHARSET UTF-8 and a literal when not ASCII).
async fn search(conn: &mut Conn, word: &str) -> anyhow::Result<Vec<u64>> {
    let r = if word.is_ascii() {
        conn.command(&format!("UID SEARCH TEXT \"{word}\""), None).await?
    } else {
        conn.command("UID SEARCH CHARSET UTF-8 TEXT", Some(word.as_bytes())).await?
    };
    ensure!(r.status == Status::Ok, "UID SEARCH TEXT {word}: {:?} {}", r.status, r.text);
    let mut out = Vec::new();
    for u in &r.untagged {
        if let Response::Data(name, vals) = u
            && name == "SEARCH"
        {
            for v in vals {
                out.push(v.number().with_context(|| format!("SEARCH result not a number: {v:?}"))?);
            }
        }
    }
    Ok(out)
}

/// `SELECT INBOX` + `UID FETCH 1:* (FLAGS ENVELOPE)`, `repeat` times, each
/// on a new connection (LOGIN not timed).
pub async fn fetchall(setup: &Setup, repeat: u32, expected: Option<u64>) -> anyhow::Result<Json> {
    let mut runs = Vec::new();
    let mut errors = Vec::new();
    for _ in 0..repeat {
        let mut conn = login(setup, 0).await?;
        let t = Instant::now();
        let (_, exists) = select(&mut conn).await?;
        let selected = t.elapsed().as_secs_f64();
        let r = conn.command("UID FETCH 1:* (FLAGS ENVELOPE)", None).await?;
        let total = t.elapsed().as_secs_f64();
        ensure!(r.status == Status::Ok, "UID FETCH: {}", r.text);
        let mut uids = HashSet::new();
        let mut fetched = 0u64;
        let mut seen = 0u64;
        for u in &r.untagged {
            if let Response::Fetch(_, attrs) = u {
                fetched += 1;
                let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v);
                match get("UID").and_then(Value::number) {
                    Some(uid) if !uids.insert(uid) => errors.push(format!("UID {uid} returned twice")),
                    Some(_) => {}
                    None => errors.push("FETCH without UID".into()),
                }
                if !matches!(get("ENVELOPE"), Some(Value::List(l)) if l.len() == 10) {
                    errors.push("FETCH without a 10-field ENVELOPE".into());
                }
                match get("FLAGS") {
                    Some(f) if crate::check::has_flag(f, "\\Seen") => seen += 1,
                    Some(_) => {}
                    None => errors.push("FETCH without FLAGS".into()),
                }
            }
        }
        if fetched != exists || expected.is_some_and(|e| e != exists) {
            errors.push(format!("{fetched} FETCH responses, EXISTS {exists}, expected {expected:?}"));
        }
        conn.command("LOGOUT", None).await?;
        runs.push(json!({"select_seconds": selected, "seconds": total, "messages": fetched, "seen": seen}));
    }
    errors.truncate(20);
    let mut secs: Vec<f64> = runs.iter().filter_map(|r| r["seconds"].as_f64()).collect();
    secs.sort_by(f64::total_cmp);
    Ok(json!({"runs": runs, "median_seconds": secs.get(secs.len() / 2), "errors": errors}))
}

/// The query list, `rounds` times over one connection.
pub async fn search_all(setup: &Setup, rounds: u32) -> anyhow::Result<Json> {
    let mut conn = login(setup, 0).await?;
    select(&mut conn).await?;
    let all: HashSet<u64> = search_uids(&mut conn, "UID SEARCH ALL").await?;
    let queries = corpus::queries(setup.seed);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_word: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut lat = Vec::new();
    let mut errors = Vec::new();
    for round in 0..rounds {
        for q in &queries {
            let t = Instant::now();
            let uids = search(&mut conn, q).await?;
            let took = t.elapsed();
            lat.push(took);
            per_word.entry(q.clone()).or_default().push(took.as_secs_f64() * 1000.0);
            if let Some(bad) = uids.iter().find(|u| !all.contains(u)) {
                errors.push(format!("{q}: UID {bad} is not in the mailbox"));
            }
            let distinct: HashSet<_> = uids.iter().collect();
            if distinct.len() != uids.len() {
                errors.push(format!("{q}: a UID returned twice"));
            }
            match counts.get(q) {
                Some(&c) if c != uids.len() => {
                    errors.push(format!("{q}: {} results in round {round}, {c} before", uids.len()))
                }
                Some(_) => {}
                None => {
                    counts.insert(q.clone(), uids.len());
                }
            }
        }
    }
    conn.command("LOGOUT", None).await?;
    errors.truncate(20);
    Ok(json!({
        "messages": all.len(), "rounds": rounds, "queries": queries.len(), "latency": percentiles(&mut lat),
        "counts": counts, "per_word_ms": per_word, "errors": errors,
    }))
}

async fn search_uids(conn: &mut Conn, line: &str) -> anyhow::Result<HashSet<u64>> {
    let r = conn.command(line, None).await?;
    ensure!(r.status == Status::Ok, "{line}: {}", r.text);
    let mut out = HashSet::new();
    for u in &r.untagged {
        if let Response::Data(name, vals) = u
            && name == "SEARCH"
        {
            out.extend(vals.iter().filter_map(Value::number));
        }
    }
    Ok(out)
}

/// p50/p90/p99/max in milliseconds (nearest rank).
pub fn percentiles(lat: &mut [Duration]) -> Json {
    lat.sort_unstable();
    if lat.is_empty() {
        return json!({"count": 0});
    }
    let pct = |p: f64| {
        let rank = ((p * lat.len() as f64).ceil() as usize).clamp(1, lat.len());
        lat[rank - 1].as_secs_f64() * 1000.0
    };
    json!({"count": lat.len(), "p50_ms": pct(0.5), "p90_ms": pct(0.9), "p99_ms": pct(0.99), "max_ms": pct(1.0)})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<Duration> = (1..=200).map(Duration::from_millis).collect();
        let p = percentiles(&mut v);
        assert_eq!(p["p50_ms"], 100.0);
        assert_eq!(p["p99_ms"], 198.0);
        assert_eq!(p["max_ms"], 200.0);
        assert_eq!(percentiles(&mut [])["count"], 0);
    }
}
