//! Prometheus metrics (issue 24, item 7). Every crate records what happens
//! where it happens (`metrics::counter!` and friends: logins by result, SMTP
//! refusals by reason, messages filed, connections open, latencies); this
//! module installs the recorder they reach, once, when `[metrics] listen` is
//! set (otherwise those calls cost nothing), and serves `/metrics` on a
//! listener of its own, never on the public web port. A scrape must present
//! `Authorization: Bearer <token>` when `[metrics] token_file` is set (and the
//! configuration refuses a listener off the loopback without one).
//!
//! What is a question to the store or the index rather than an event (the
//! outbound queue's depth and age, the index's lag, the message files' size)
//! is asked at scrape time; the files' size is a full scan, so at most once a
//! minute.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::sync::{Mutex, watch};

use crate::serve::Opened;

/// Histogram buckets, in seconds: every histogram we record is a latency.
const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// How long the message files' totals are reused between scrapes.
const BLOB_TOTALS_TTL: Duration = Duration::from_secs(60);
/// How often histograms are compacted (the exporter's upkeep).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);
/// Shortest token accepted in `[metrics] token_file`.
const MIN_TOKEN: usize = 16;

struct Scrape {
    handle: PrometheusHandle,
    /// The BLAKE3 hash of the expected token: compared in constant time.
    token: Option<blake3::Hash>,
    opened: Opened,
    blob_totals: Mutex<Option<(Instant, (i64, i64))>>,
}

/// Reads the scrape token: one line, at least [`MIN_TOKEN`] characters.
fn read_token(path: &std::path::Path) -> anyhow::Result<blake3::Hash> {
    let text = std::fs::read_to_string(path).with_context(|| format!("[metrics] token_file {}", path.display()))?;
    let token = text.trim();
    if token.len() < MIN_TOKEN || token.contains(char::is_whitespace) {
        bail!(
            "[metrics] token_file {} : un jeton d'au moins {MIN_TOKEN} caractères sans espace est attendu / \
             a token of at least {MIN_TOKEN} characters without spaces is expected",
            path.display()
        );
    }
    Ok(blake3::hash(token.as_bytes()))
}

/// Installs the recorder and binds `[metrics] listen`; nothing when unset.
pub async fn start(
    cfg: &config::Config,
    opened: &Opened,
    bound: &mut Vec<(String, std::net::SocketAddr)>,
    tasks: &mut tokio::task::JoinSet<()>,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    if cfg.metrics.listen.is_empty() {
        return Ok(());
    }
    let token = cfg.metrics.token_file.as_deref().map(read_token).transpose()?;
    let handle = PrometheusBuilder::new()
        .set_buckets(LATENCY_BUCKETS)
        .context("seaux des histogrammes")?
        .install_recorder()
        .context("enregistreur de métriques / metrics recorder")?;
    describe();
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    metrics::gauge!("process_start_time_seconds").set(started.as_secs_f64());
    metrics::gauge!("ardoise_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    let upkeep = handle.clone();
    let mut stop = shutdown.clone();
    tasks.spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(UPKEEP_EVERY) => upkeep.run_upkeep(),
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    });
    let state = Arc::new(Scrape { handle, token, opened: opened.clone(), blob_totals: Mutex::new(None) });
    // `/healthz` too, without the token: what `ardoise healthcheck` asks when
    // there is no plain web listener (the container's HEALTHCHECK).
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state(state)
        .route("/healthz", axum::routing::get(web::healthz));
    for addr in &cfg.metrics.listen {
        let listener =
            tokio::net::TcpListener::bind(addr).await.with_context(|| format!("écoute des métriques sur {addr}"))?;
        bound.push(("metrics".to_owned(), listener.local_addr()?));
        let (app, mut stop) = (app.clone(), shutdown.clone());
        tasks.spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
                tracing::warn!(error = %e, "metrics listener failed");
            }
        });
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric recorded across the crates, with its HELP line (the
/// dashboard in docs/ may name only these: a test checks it).
const METRICS: &[(&str, Kind, &str)] = &[
    ("ardoise_logins_total", Kind::Counter, "Login attempts by protocol and result (ok, bad, throttled, ...)"),
    ("ardoise_login_seconds", Kind::Histogram, "Time to answer a login, slow-down and argon2id included"),
    ("ardoise_smtp_messages_total", Kind::Counter, "Messages accepted by SMTP, by role (mx, submission)"),
    ("ardoise_smtp_recipients_total", Kind::Counter, "Recipients of the messages accepted by SMTP, by role"),
    ("ardoise_smtp_refusals_total", Kind::Counter, "SMTP replies refusing a command or a message, by role and reason"),
    ("ardoise_messages_filed_total", Kind::Counter, "Messages filed in mailboxes: delivery (MX, queue) or append"),
    ("ardoise_store_message_seconds", Kind::Histogram, "Time to store and file one message durably"),
    ("ardoise_imap_command_seconds", Kind::Histogram, "IMAP command latency by command (IDLE excluded)"),
    ("ardoise_http_request_seconds", Kind::Histogram, "HTTP time to response head by route pattern and status class"),
    ("ardoise_connections_total", Kind::Counter, "Connections admitted, by protocol"),
    ("ardoise_connections", Kind::Gauge, "Connections open now, by protocol"),
    ("ardoise_queue_messages", Kind::Gauge, "Messages waiting in the outbound queue"),
    ("ardoise_queue_oldest_age_seconds", Kind::Gauge, "Age of the oldest message in the outbound queue"),
    ("ardoise_index_lag_documents", Kind::Gauge, "Full-text index changes queued and not yet applied"),
    ("ardoise_blob_files", Kind::Gauge, "Message files referenced (each stored once however many copies)"),
    ("ardoise_blob_bytes", Kind::Gauge, "Bytes of the message files referenced"),
    (
        "ardoise_housekeeping_messages_total",
        Kind::Counter,
        "Messages handled by the mail housekeeping, by step (purge, trash, junk, archive, quota warnings)",
    ),
    (
        "ardoise_spam_verdicts_total",
        Kind::Counter,
        "Messages scored by the MX's spam checks, by action (deliver, junk, reject)",
    ),
    ("ardoise_viruses_total", Kind::Counter, "Messages in which clamd found a virus"),
    (
        "ardoise_bayes_trained_total",
        Kind::Counter,
        "Messages the spam classifier learnt from the owners' filing, as spam or ham",
    ),
    (
        "ardoise_bayes_dropped_total",
        Kind::Counter,
        "Filings the spam classifier did not learn because its queue was full",
    ),
    (
        "ardoise_clamd_failures_total",
        Kind::Counter,
        "Virus scans clamd could not answer, by reason (unreachable, timeout, ...)",
    ),
    ("ardoise_build_info", Kind::Gauge, "Always 1, labelled with the version"),
    ("process_start_time_seconds", Kind::Gauge, "When the server started, in Unix seconds"),
];

/// The HELP lines of [`METRICS`].
fn describe() {
    for &(name, kind, help) in METRICS {
        match kind {
            Kind::Counter => metrics::describe_counter!(name, help),
            Kind::Gauge => metrics::describe_gauge!(name, help),
            Kind::Histogram => metrics::describe_histogram!(name, help),
        }
    }
}

async fn scrape(State(s): State<Arc<Scrape>>, headers: HeaderMap) -> Response {
    if let Some(expected) = &s.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| blake3::hash(t.trim().as_bytes()));
        if given.as_ref() != Some(expected) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
                "jeton manquant ou faux / missing or wrong token\n",
            )
                .into_response();
        }
    }
    sample(&s).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], s.handle.render()).into_response()
}

/// Sets the gauges that are questions rather than events. A store that does
/// not answer leaves them as they were (the scrape still succeeds).
async fn sample(s: &Scrape) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    match s.opened.store.queue_summary().await {
        Ok((count, oldest)) => {
            metrics::gauge!("ardoise_queue_messages").set(count as f64);
            let age = oldest.map_or(0, |at| (now - at).max(0));
            metrics::gauge!("ardoise_queue_oldest_age_seconds").set(age as f64);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: queue summary failed"),
    }
    if let Some(lag) = s.opened.mailstore.index_lag() {
        metrics::gauge!("ardoise_index_lag_documents").set(lag as f64);
    }
    let mut cached = s.blob_totals.lock().await;
    let fresh = cached.as_ref().is_some_and(|(at, _)| at.elapsed() < BLOB_TOTALS_TTL);
    if !fresh {
        match s.opened.store.blob_totals().await {
            Ok(totals) => *cached = Some((Instant::now(), totals)),
            Err(e) => tracing::warn!(error = %e, "metrics: blob totals failed"),
        }
    }
    if let Some((_, (files, bytes))) = *cached {
        metrics::gauge!("ardoise_blob_files").set(files as f64);
        metrics::gauge!("ardoise_blob_bytes").set(bytes as f64);
    }
}

#[cfg(test)]
mod tests {
    /// The Grafana dashboard shipped in docs/ names only metrics we record.
    #[test]
    fn the_dashboard_names_only_recorded_metrics() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/grafana-ardoise.json");
        let text = std::fs::read_to_string(path).unwrap();
        let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut named = 0;
        for panel in dashboard["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap();
                for (at, _) in expr.match_indices("ardoise_") {
                    let name: String =
                        expr[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    let base = ["_bucket", "_count", "_sum"]
                        .iter()
                        .find_map(|s| name.strip_suffix(s))
                        .filter(|b| super::METRICS.iter().any(|m| m.0 == *b))
                        .unwrap_or(&name);
                    assert!(super::METRICS.iter().any(|m| m.0 == base), "{name} in the dashboard is not recorded");
                    named += 1;
                }
            }
        }
        assert!(named >= 10, "the dashboard names {named} metrics");
    }

    #[test]
    fn a_short_or_spaced_token_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "court\n").unwrap();
        assert!(super::read_token(&path).is_err());
        std::fs::write(&path, "un jeton avec des espaces\n").unwrap();
        assert!(super::read_token(&path).is_err());
        std::fs::write(&path, "8f1c2b7e9a0d4c3b6e5f\n").unwrap();
        assert_eq!(super::read_token(&path).unwrap(), blake3::hash(b"8f1c2b7e9a0d4c3b6e5f"));
    }
}
