//! Wiring of the web service: its settings from the configuration, its
//! listeners (`http` plain, `https` with rustls), and the daily purge of the
//! connection journal (kept 90 days).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use identity::credentials::PasswordPolicy;
use mailstore::Mailstore;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The web settings of a configuration (the key lives in the data folder).
pub fn web_config(cfg: &config::Config) -> anyhow::Result<web::WebConfig> {
    let key_path = cfg.server.data_dir.join("web.key");
    let secret = web::load_or_create_secret(&key_path).with_context(|| format!("clé web {}", key_path.display()))?;
    let w = &cfg.web;
    let mut out = web::WebConfig::new(cfg.server.hostname.clone(), secret);
    let numen_key = identity::lifecycle::NumenKey::load_or_create(&cfg.server.data_dir).context("clé des NUMEN")?;
    out.numen_key = Some(numen_key);
    if !cfg.web.public_url.is_empty() {
        out.public_url = cfg.web.public_url.trim_end_matches('/').to_owned();
    }
    out.require_2fa_for_admins = w.require_2fa_for_admins;
    out.require_2fa_for_all = w.require_2fa_for_all;
    out.session_ttl = Duration::from_secs(w.session_ttl_secs);
    out.password_policy = PasswordPolicy {
        min_length: w.password_min_length as usize,
        min_classes: w.password_min_classes as usize,
        min_score: w.password_min_strength as u8,
        history: w.password_history as usize,
        max_age_days: (w.password_max_age_days > 0).then_some(w.password_max_age_days as u32),
    };
    Ok(out)
}

/// Binds the web listeners and spawns them with the journal purge.
pub async fn start(
    cfg: &config::Config,
    mailstore: Arc<Mailstore>,
    acceptor: tokio_rustls::TlsAcceptor,
    bound: &mut Vec<(String, SocketAddr)>,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let web_cfg = web_config(cfg)?;
    for addr in &cfg.web.listen {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("écoute HTTP sur {addr}"))?;
        bound.push(("http".to_owned(), listener.local_addr()?));
        let app = Arc::new(web::App { ms: mailstore.clone(), cfg: web_cfg.clone() });
        tasks.spawn(web::serve(listener, app, shutdown.clone()));
    }
    for addr in &cfg.web.listen_tls {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("écoute HTTPS sur {addr}"))?;
        bound.push(("https".to_owned(), listener.local_addr()?));
        let app = Arc::new(web::App { ms: mailstore.clone(), cfg: web::WebConfig { tls: true, ..web_cfg.clone() } });
        tasks.spawn(web::serve_tls(listener, acceptor.clone(), app, shutdown.clone()));
    }
    tasks.spawn(purge_journal_daily(mailstore, shutdown.clone()));
    Ok(())
}

async fn purge_journal_daily(mailstore: Arc<Mailstore>, mut shutdown: watch::Receiver<bool>) {
    loop {
        match identity::credentials::purge_journal(mailstore.store()).await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "connection journal purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "connection journal purge failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(24 * 3600)) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}
