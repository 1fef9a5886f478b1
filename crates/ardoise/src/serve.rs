//! Opening the services from a configuration and running the listeners until
//! SIGINT/SIGTERM. Listener addresses (port 0 resolved) are written to
//! `<data_dir>/listeners.json` so tests and scripts can find them.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use identity::Identity;
use mailstore::Mailstore;
use tokio::sync::watch;

use crate::mx::MxSink;

/// Logs to stderr, as text or (`[log] json`) one JSON object per line.
pub fn init_logging(level: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { fmt.json().flatten_event(true).try_init() } else { fmt.try_init() };
}

/// Raises the soft limit on open files to the hard limit (never lowers it).
pub fn raise_descriptor_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some() && limit.current != limit.maximum {
        // A failure leaves the soft limit as it was; the caps follow it.
        let _ = setrlimit(Resource::Nofile, rustix::process::Rlimit { current: limit.maximum, ..limit });
    }
}

/// The soft limit on open files (`u64::MAX` when unlimited).
pub fn descriptor_limit() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// What a command opens once and hands around: the metadata store, the
/// message files, and the mail domain built on both. The binary is the
/// composition root, so its commands may use the store directly where no
/// domain service offers the operation; the protocols only get the domain.
#[derive(Clone)]
pub struct Opened {
    pub store: store::Store,
    pub blobs: blob::BlobStore,
    pub mailstore: Arc<Mailstore>,
}

/// Opens (and migrates) the store and the blob directory.
pub async fn open(cfg: &config::Config) -> anyhow::Result<Opened> {
    std::fs::create_dir_all(&cfg.server.data_dir)
        .with_context(|| format!("création de {}", cfg.server.data_dir.display()))?;
    let url = cfg.store_url();
    let store = store::Store::open(&url).await.with_context(|| format!("ouverture de la base {}", redact(&url)))?;
    store.migrate().await.context("migration de la base")?;
    let blobs = open_blobs(cfg).await?;
    let mailstore = Mailstore::with_envelope_forms(store.clone(), blobs.clone(), imap::envelope_forms);
    Ok(Opened { store, blobs, mailstore })
}

/// Opens the message contents where `[blob]` says: a local folder, or a
/// bucket (`url`) with the key from `credentials` or the environment. A
/// bucket that does not answer is reported (its reason, never the key) but
/// does not stop the start: deliveries answer 4xx until it is back.
pub async fn open_blobs(cfg: &config::Config) -> anyhow::Result<blob::BlobStore> {
    let Some(url) = &cfg.blob.url else {
        return blob::BlobStore::open(cfg.blob_path()).context("ouverture du dossier des messages");
    };
    let mut remote = blob::Remote::parse(url).map_err(|e| anyhow::anyhow!("[blob] url : {e}"))?;
    if let Some(path) = &cfg.blob.credentials {
        remote.credentials = Some(
            blob::Remote::credentials_from_file(path)
                .with_context(|| format!("lecture de la clé du seau {}", path.display()))?,
        );
    }
    let blobs = blob::BlobStore::open_remote(&remote).context("ouverture du seau des messages")?;
    match blobs.check().await {
        Ok(()) => tracing::info!(blobs = %blobs.describe(), "message contents in a bucket"),
        Err(e) => {
            tracing::warn!(blobs = %blobs.describe(), error = %e, "the bucket of message contents does not answer")
        }
    }
    Ok(blobs)
}

/// Opens the mail domain and builds the one identity service of this
/// process from the configuration (every protocol is handed this one).
pub async fn open_with_identity(cfg: &config::Config) -> anyhow::Result<(Opened, Arc<Identity>)> {
    let opened = open(cfg).await?;
    let settings = crate::admin::passwords::identity_settings(cfg)?;
    let identity = Identity::new(opened.store.clone(), opened.mailstore.clone(), settings);
    Ok((opened, identity))
}

/// Joins the cluster bus the configuration names (`[cluster] nats`, else
/// PostgreSQL's notifications when the store is PostgreSQL), so that the
/// other nodes hear of this one's mail events and this one of theirs.
async fn join_cluster(cfg: &config::Config, mailstore: &Arc<Mailstore>) -> anyhow::Result<()> {
    let backend = cluster::Backend::choose(cfg.cluster.nats.as_deref(), &cfg.store_url());
    if backend == cluster::Backend::Alone {
        return Ok(());
    }
    let bus = cluster::Bus::join(&backend).await.context("bus du cluster / cluster bus")?;
    tracing::info!(bus = bus.kind(), node = bus.node(), "cluster bus joined");
    mailstore.join_cluster(bus);
    Ok(())
}

/// Hides a password in a database URL before it reaches a log or an error.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub async fn serve(cfg: config::Config) -> anyhow::Result<()> {
    let (opened, identity) = open_with_identity(&cfg).await?;
    run(cfg, opened, identity, |_| {}).await
}

/// Binds every listener, then calls `ready` with their addresses, then serves
/// until a shutdown signal.
pub async fn run(
    cfg: config::Config,
    opened: Opened,
    identity: Arc<Identity>,
    ready: impl FnOnce(&[(String, std::net::SocketAddr)]),
) -> anyhow::Result<()> {
    let (tls, certificates) = net::replaceable_server_tls(
        &cfg.server.data_dir,
        cfg.tls.cert.as_deref(),
        cfg.tls.key.as_deref(),
        &cfg.server.hostname,
    )
    .context("certificat TLS")?;
    let acme = crate::certificates::acme(&cfg, &certificates);
    let mailstore = opened.mailstore.clone();
    join_cluster(&cfg, &mailstore).await?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    // Full-text index for IMAP SEARCH TEXT/BODY; derived data, so serving goes on without it.
    if let Err(e) = mailstore.enable_search(&cfg.server.data_dir.join("search")) {
        tracing::warn!(error = %e, "index de recherche indisponible / search index unavailable");
    }
    let smtp_cfg = Arc::new(smtp::SmtpConfig {
        hostname: cfg.server.hostname.clone(),
        max_message_size: cfg.smtp.max_message_size as usize,
        max_recipients: cfg.smtp.max_recipients as usize,
        max_line_length: cfg.smtp.max_line_length as usize,
        max_commands: cfg.smtp.max_commands as usize,
        max_errors: cfg.smtp.max_errors as usize,
        idle_timeout: Duration::from_secs(cfg.smtp.idle_timeout_secs),
        max_connections: cfg.smtp.max_connections as usize,
        admission: smtp::Admission::new(cfg.smtp.max_connections_per_ip as usize, usize::MAX),
        command_timeout: Duration::from_secs(cfg.smtp.command_timeout_secs),
        transaction_timeout: Duration::from_secs(cfg.smtp.transaction_timeout_secs),
        data_min_rate: cfg.smtp.data_min_rate,
        body_budget: smtp::BodyBudget::new(cfg.smtp.body_memory as usize),
        spool_dir: Some(spool_dir(&cfg.server.data_dir)?),
        ..smtp::SmtpConfig::default()
    });
    let mta = crate::outbound::service(&cfg, &opened).await?;
    // The accounts' Sieve rules: local deliveries (MX and submission) go through them.
    let filters = filters(&cfg, &opened);
    mta.set_filters(filters.clone());
    // Vacation replies set before they were Sieve scripts get theirs now.
    match filters.script_older_vacations().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(accounts = n, "vacation replies written as Sieve scripts"),
        Err(e) => tracing::error!(error = %e, "vacation replies could not be written as Sieve scripts"),
    }
    let lists = lists::Lists::new(
        opened.store.clone(),
        opened.blobs.clone(),
        mta.clone(),
        lists::Limits::default(),
        crate::http::list_archive_base(&cfg),
    );
    // The queue runner's reports about a list's outside copies go to its
    // moderators. The route is held weakly by the Mta: this handle keeps it
    // until the runner's last attempt is over, after the other tasks ended.
    mta.set_report_route(&lists);
    let report_route = lists.clone();
    // iMIP replies received by the MX update the organisers' calendars.
    let groupware = Arc::new(
        groupware::Groupware::new(opened.store.clone(), crate::http::groupware_settings(&cfg))
            .map_err(|e| anyhow::anyhow!("[web] time_zone : {e}"))?,
    );
    let sink = Arc::new(MxSink(mailstore.clone(), Some(mta.clone()), Some(lists.clone()), Some(groupware.clone())));
    let quarantine = crate::screen::quarantine(&cfg, &opened);
    // The statistical spam classifier, trained by the owners' filing.
    let bayes = crate::learning::classifier(&cfg.hygiene, &opened.store);
    if let Some(bayes) = &bayes {
        let outbox = crate::http::MtaOutbox(mta.clone(), lists.clone());
        crate::learning::start(&cfg.hygiene, bayes.clone(), &mailstore, outbox, opened.store.clone())?;
    }
    let sink = Arc::new(crate::outbound::checked_mx(&cfg, sink, quarantine.clone(), bayes.clone())?);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut bound = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for addr in &cfg.smtp.listen {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("écoute SMTP sur {addr}"))?;
        bound.push(("smtp".to_owned(), listener.local_addr()?));
        tasks.spawn(smtp::serve(listener, smtp_cfg.clone(), sink.clone(), Some(acceptor.clone()), shutdown_rx.clone()));
    }
    let imap_cfg = Arc::new(imap::ImapConfig {
        hostname: cfg.server.hostname.clone(),
        limits: imap::Limits {
            max_line: cfg.imap.max_line_length as usize,
            max_literal: cfg.imap.max_message_size as usize,
            max_command: cfg.imap.max_message_size as usize + cfg.imap.max_line_length as usize,
            ..imap::Limits::default()
        },
        max_message_size: cfg.imap.max_message_size as usize,
        idle_timeout: Duration::from_secs(cfg.imap.idle_timeout_secs),
        allow_plaintext_loopback: cfg.imap.allow_plaintext_loopback,
        max_connections: cfg.imap.max_connections as usize,
        admission: imap::Admission::new(
            cfg.imap.max_connections_per_ip as usize,
            cfg.imap.max_connections_per_user as usize,
        ),
        time_zone: jiff::tz::TimeZone::get(&cfg.web.time_zone)
            .map_err(|e| anyhow::anyhow!("[web] time_zone « {} » : {e}", cfg.web.time_zone))?,
        ..imap::ImapConfig::default()
    });
    for (addrs, implicit, service) in [(&cfg.imap.listen, false, "imap"), (&cfg.imap.listen_tls, true, "imaps")] {
        for addr in addrs {
            let listener =
                tokio::net::TcpListener::bind(addr).await.with_context(|| format!("écoute IMAP sur {addr}"))?;
            bound.push((service.to_owned(), listener.local_addr()?));
            tasks.spawn(imap::serve(
                listener,
                imap_cfg.clone(),
                imap::Services { mail: mailstore.clone(), identity: identity.clone() },
                Some(acceptor.clone()),
                implicit,
                shutdown_rx.clone(),
            ));
        }
    }
    let sieve_cfg = Arc::new(managesieve::Config {
        idle_timeout: Duration::from_secs(cfg.managesieve.idle_timeout_secs),
        allow_plaintext_loopback: cfg.managesieve.allow_plaintext_loopback,
        ..managesieve::Config::default()
    });
    for addr in &cfg.managesieve.listen {
        let listener =
            tokio::net::TcpListener::bind(addr).await.with_context(|| format!("écoute ManageSieve sur {addr}"))?;
        bound.push(("managesieve".to_owned(), listener.local_addr()?));
        tasks.spawn(managesieve::serve(
            listener,
            sieve_cfg.clone(),
            managesieve::Services { filters: filters.clone(), identity: identity.clone() },
            Some(acceptor.clone()),
            shutdown_rx.clone(),
        ));
    }
    let submit = crate::outbound::SubmitSink { mta: mta.clone(), identity: identity.clone(), lists: lists.clone() };
    crate::outbound::start(&cfg, submit, smtp_cfg.clone(), acceptor.clone(), &mut bound, &mut tasks, &shutdown_rx)
        .await?;
    let web = crate::http::Wiring {
        mailstore: mailstore.clone(),
        identity: identity.clone(),
        mta,
        lists: lists.clone(),
        store: opened.store.clone(),
        challenges: acme.as_ref().map(|a| a.challenges()),
        alpn: acme.as_ref().and_then(|a| a.alpn_challenges()),
        quarantine: quarantine.clone(),
    };
    crate::http::start(&cfg, web, acceptor.clone(), &mut bound, &mut tasks, &shutdown_rx).await?;
    crate::metrics::start(&cfg, &opened, &mut bound, &mut tasks, &shutdown_rx).await?;
    write_listeners(&cfg.server.data_dir, &bound)?;
    for (service, addr) in &bound {
        tracing::info!(%service, %addr, "listening");
    }
    tracing::info!(limit = descriptor_limit(), "open file limit");
    ready(&bound);
    if let Some(acme) = acme {
        // After the web listeners: the ACME server fetches its challenges there.
        tasks.spawn(acme.run(certificates, shutdown_rx.clone()));
    }
    tasks.spawn(identity::lifecycle::watch_revocations(identity, shutdown_rx.clone()));
    tasks.spawn(housekeeping_periodically(
        mailstore.clone(),
        housekeeping_settings(&cfg),
        Duration::from_secs(cfg.mail.housekeeping_interval_secs),
        shutdown_rx.clone(),
    ));
    tasks.spawn(warn_quotas_periodically(mailstore.clone(), shutdown_rx.clone()));
    tasks.spawn(crate::reminders::run_periodically(
        groupware,
        mailstore.clone(),
        opened.store.clone(),
        shutdown_rx.clone(),
    ));
    tasks.spawn(collect_garbage_periodically(mailstore, shutdown_rx.clone()));
    tasks.spawn(sweep_held_posts_periodically(lists, shutdown_rx.clone()));
    tasks.spawn(crate::screen::sweep_quarantine_periodically(quarantine, shutdown_rx.clone()));
    if let Some(bayes) = bayes {
        tasks.spawn(crate::learning::prune_periodically(cfg.hygiene.clone(), bayes, shutdown_rx.clone()));
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = shutdown_tx.send(true);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(10), drain).await.is_err() {
        tracing::warn!("some sessions did not finish within 10 s");
    }
    drop(report_route);
    Ok(())
}

/// The folder of the SMTP bodies too large to wait in memory, created if
/// missing (its files are unnamed and vanish when closed: a crash leaves
/// nothing there).
fn spool_dir(data_dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let dir = data_dir.join("tmp").join("smtp");
    std::fs::create_dir_all(&dir).with_context(|| format!("dossier temporaire {}", dir.display()))?;
    Ok(dir)
}

fn write_listeners(data_dir: &Path, bound: &[(String, std::net::SocketAddr)]) -> anyhow::Result<()> {
    let mut map = serde_json::Map::new();
    for (service, addr) in bound {
        map.entry(service.clone()).or_insert_with(|| serde_json::Value::String(addr.to_string()));
    }
    let path = data_dir.join("listeners.json");
    let tmp = data_dir.join("listeners.json.tmp");
    std::fs::write(&tmp, serde_json::Value::Object(map).to_string())?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

async fn collect_garbage_periodically(mailstore: Arc<Mailstore>, mut shutdown: watch::Receiver<bool>) {
    let grace = Duration::from_secs(3600);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = shutdown.changed() => return,
        }
        match mailstore.collect_garbage(grace).await {
            Ok(report) => tracing::info!(?report, "blob garbage collection"),
            Err(e) => tracing::warn!(error = %e, "blob garbage collection failed"),
        }
    }
}

/// The delays of the mail housekeeping, from `[mail]`.
pub fn housekeeping_settings(cfg: &config::Config) -> mailstore::Housekeeping {
    mailstore::Housekeeping {
        undelete_days: cfg.mail.undelete_days,
        trash_days: cfg.mail.trash_days,
        junk_days: cfg.mail.junk_days,
        archive_days: cfg.mail.archive_days,
    }
}

/// Runs the mail housekeeping (purge of deleted messages, retention of the
/// Corbeille and Indésirables, archiving, quota warnings) a minute after
/// start, then every `every`. Each run is idempotent; several nodes may run
/// it at once (every step claims its rows).
async fn housekeeping_periodically(
    mailstore: Arc<Mailstore>,
    settings: mailstore::Housekeeping,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut wait = Duration::from_secs(60).min(every);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        mailstore.housekeeping(&settings, time::OffsetDateTime::now_utc().unix_timestamp()).await;
        wait = every;
    }
}

/// How often quota warnings are looked for between housekeeping runs: a
/// mailbox can fill within the hour, and its owner should hear of it before
/// mail is refused. One query over the accounts with a quota.
const QUOTA_WARNINGS_EVERY: Duration = Duration::from_secs(300);

async fn warn_quotas_periodically(mailstore: Arc<Mailstore>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(QUOTA_WARNINGS_EVERY) => {}
            _ = shutdown.changed() => return,
        }
        match mailstore.warn_quotas().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sent = n, "quota warnings mailed"),
            Err(e) => tracing::warn!(error = %e, "quota warnings failed"),
        }
    }
}

/// The accounts' Sieve rules as delivery runs them.
pub fn filters(cfg: &config::Config, opened: &Opened) -> Arc<filter::Filters> {
    filter::Filters::new(
        opened.store.clone(),
        opened.mailstore.clone(),
        filter::FilterSettings {
            max_scripts: cfg.managesieve.max_scripts as usize,
            max_script_size: cfg.managesieve.max_script_size as usize,
            hostname: cfg.server.hostname.clone(),
            forwarding: match cfg.forwarding.policy {
                config::ForwardingPolicy::Internal => filter::Forwarding::Internal,
                config::ForwardingPolicy::Anywhere => filter::Forwarding::Anywhere,
                config::ForwardingPolicy::Domains => filter::Forwarding::Domains(cfg.forwarding.domains.clone()),
            },
            ..filter::FilterSettings::default()
        },
    )
}

/// Refuses, once an hour, the list posts held longer than
/// [`lists::HOLD_DAYS`] days (their senders are told).
async fn sweep_held_posts_periodically(lists: Arc<lists::Lists>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match lists.sweep(now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(refused = n, "expired held list posts refused"),
            Err(e) => tracing::warn!(error = %e, "held list posts sweep failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_database_passwords() {
        assert_eq!(super::redact("postgres://ardoise:s3cret@db:5432/mail"), "postgres://ardoise:***@db:5432/mail");
        assert_eq!(super::redact("sqlite://data/ardoise.db"), "sqlite://data/ardoise.db");
    }
}
